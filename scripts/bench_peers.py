"""The benchmark's peers that need another framework: PyTorch, JAX and scikit-learn, each
training the network of a ``Case`` of ``scripts/bench.py`` (sigmoid hidden layers, a linear
output layer, E = ½ Σ_k (t_k − y_k)²) from its weights, on its data in data order.

Each framework is imported when its trainer is built, not before, so that this module
loads without any of them. A trainer is built from a case and a batch size; ``run(epochs)``
trains that many epochs (each followed by the training-set error) and returns the error
after the last one. Loaded by ``scripts/bench.py``; not part of the package.
"""

import numpy as np


class TorchTrainer:
    """The usual PyTorch loop: nn.Sequential, optim.SGD, backward() per batch; on
    ``threads`` threads while it runs, if given (else on the process's setting)."""

    def __init__(self, case, batch, dtype_name, threads=None):
        import torch

        dtype = getattr(torch, dtype_name)
        layers = []
        for l, (w, b) in enumerate(zip(case.weights, case.biases)):
            linear = torch.nn.Linear(*w.shape, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(w.T.copy()))  # Linear.weight is w transposed
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear] if l == len(case.weights) - 1 else [linear, torch.nn.Sigmoid()]
        self.torch, self.batch, self.threads = torch, batch, threads
        self.model = torch.nn.Sequential(*layers)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=case.eta)
        self.X = torch.tensor(case.X, dtype=dtype)
        self.T = torch.tensor(case.T, dtype=dtype)

    def run(self, epochs):
        before = self.torch.get_num_threads()
        self.torch.set_num_threads(self.threads or before)
        try:
            return self._epochs(epochs)
        finally:
            self.torch.set_num_threads(before)

    def _epochs(self, epochs):
        X, T, n = self.X, self.T, len(self.X)
        for _ in range(epochs):
            for start in range(0, n, self.batch):
                x, t = X[start : start + self.batch], T[start : start + self.batch]
                self.optimizer.zero_grad()
                loss = 0.5 * ((self.model(x) - t) ** 2).sum() / len(x)
                loss.backward()
                self.optimizer.step()
            with self.torch.no_grad():
                error = 0.5 * ((self.model(X) - T) ** 2).sum() / n
        return float(error)


class JaxTrainer:
    """jax.jit over whole epochs: lax.scan over the batches, lax.fori_loop over epochs."""

    def __init__(self, case, batch):
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        n = len(case.X) - len(case.X) % batch
        if n == 0:
            raise ValueError(f"needs at least {batch} samples")
        X, T = jnp.asarray(case.X[:n]), jnp.asarray(case.T[:n])
        batches = (X.reshape(n // batch, batch, -1), T.reshape(n // batch, batch, -1))
        eta, last = case.eta, len(case.weights) - 1

        def outputs(params, x):
            for l, (w, b) in enumerate(params):
                x = x @ w + b if l == last else jax.nn.sigmoid(x @ w + b)
            return x

        def loss(params, x, t):
            return 0.5 * jnp.sum((outputs(params, x) - t) ** 2) / x.shape[0]

        def step(params, batch_xt):
            grads = jax.grad(loss)(params, *batch_xt)
            return jax.tree_util.tree_map(lambda p, g: p - eta * g, params, grads), None

        def epoch(_, carry):
            params, _ = jax.lax.scan(step, carry[0], batches)
            return params, loss(params, X, T)

        self.train = jax.jit(lambda params, epochs: jax.lax.fori_loop(0, epochs, epoch,
                                                                      (params, 0.0)))
        self.params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(case.weights, case.biases)]
        self.samples = n

    def run(self, epochs):
        self.params, error = self.train(self.params, epochs)
        return float(error)


class SklearnTrainer:
    """MLPRegressor(solver="sgd"), one partial_fit call per epoch."""

    def __init__(self, case, batch):
        from sklearn.neural_network import MLPRegressor

        self.model = MLPRegressor(
            hidden_layer_sizes=case.sizes[1:-1], activation="logistic", solver="sgd",
            alpha=0.0, batch_size=batch, learning_rate="constant", learning_rate_init=case.eta,
            momentum=0.0, nesterovs_momentum=False, shuffle=False,
        )
        # scikit-learn wants a single target as a 1-D array
        self.X, self.T = case.X, case.T.ravel() if case.T.shape[1] == 1 else case.T
        self.model.partial_fit(self.X[:batch], self.T[:batch])  # builds the layers, then:
        self.model.coefs_ = [w.copy() for w in case.weights]
        self.model.intercepts_ = [b.copy() for b in case.biases]

    def run(self, epochs):
        X, T = self.X, self.T
        for _ in range(epochs):
            self.model.partial_fit(X, T)
            error = 0.5 * np.sum((T - self.model.predict(X)) ** 2) / len(X)
        return float(error)
