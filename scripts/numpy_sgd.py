"""The textbook baseline for the benchmark: online SGD in plain NumPy, vectorised over neurons.

Each sample goes forward and back as matrix-vector products and steps at once, the way
Nielsen's ``network.py`` writes backpropagation (without its shuffling, and for the
benchmark's network: sigmoid hidden layers, a linear output layer, E = ½ Σ_k (t_k − y_k)²).
``W[l][i, j]`` is w_ij, as in nbbackprop.

Used by ``scripts/bench.py``; not part of the package.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class NumpySGD:
    """The network (copies of the given weights and biases), trained by ``epoch``."""

    def __init__(self, weights, biases, eta):
        self.W = [np.array(w, dtype=np.float64) for w in weights]
        self.b = [np.array(b, dtype=np.float64) for b in biases]
        self.eta = eta

    def outputs(self, x):
        """The outputs y of every layer for one sample (y of layer 0 is x)."""
        ys = [x]
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            z = ys[-1] @ W + b
            ys.append(z if l == len(self.W) - 1 else sigmoid(z))
        return ys

    def gradient(self, x, t):
        """∂E/∂W and ∂E/∂b of one sample, by backpropagation."""
        ys = self.outputs(x)
        delta = ys[-1] - t  # linear output: δ_k = (y_k − t_k)
        grad_W, grad_b = [None] * len(self.W), [None] * len(self.W)
        for l in range(len(self.W) - 1, -1, -1):
            grad_W[l], grad_b[l] = np.outer(ys[l], delta), delta
            if l:
                delta = (self.W[l] @ delta) * ys[l] * (1.0 - ys[l])  # δ_j = f'(z_j) Σ_k w_jk δ_k
        return grad_W, grad_b

    def epoch(self, X, T):
        """One pass over the data in order: Δw_ij = −η δ_j y_i after every sample."""
        for x, t in zip(X, T):
            grad_W, grad_b = self.gradient(x, t)
            for l in range(len(self.W)):
                self.W[l] -= self.eta * grad_W[l]
                self.b[l] -= self.eta * grad_b[l]

    def error(self, X, T):
        """C = (1/n) Σ_x ½ Σ_k (t_k − y_k)², all samples at once."""
        Y = X
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            Y = Y @ W + b if l == len(self.W) - 1 else sigmoid(Y @ W + b)
        return 0.5 * float(np.sum((T - Y) ** 2)) / len(X)
