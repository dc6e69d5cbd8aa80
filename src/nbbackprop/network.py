"""``Network``: the Python shell around the compiled kernels.

It holds the parameters, validates every argument at the boundary, and calls into
``kernels`` for all arithmetic; it has no arithmetic loops of its own.

All parameters live in one flat float64 buffer (``Network.parameters``); ``weights[l]``
and ``biases[l]`` are views into it, so poking ``net.weights[l][i, j]`` changes the
network, and finite differences, momentum and saving all work on one array.
"""

import dataclasses
import time

import numpy as np

from . import _validate as check
from . import kernels
from .activations import ACTIVATIONS, CODES, RELU
from .exceptions import TrainingDiverged
from .trace import trace as _trace

INITS = ("auto", "glorot", "he", "normal", "uniform")
_CHUNK_SECONDS = 0.2  # fit returns to Python about this often (so Ctrl-C is seen)


@dataclasses.dataclass
class History:
    """What ``Network.fit`` did.

    ``errors[e]`` is ``net.error(X, T)`` after epoch ``e + 1``; ``epochs`` is how many
    epochs ran; ``stop_reason`` is ``"epochs"`` (all ran), ``"target_error"`` (reached it)
    or ``"diverged"`` (error not finite; weights restored to the last finite epoch).
    """

    errors: np.ndarray
    epochs: int
    stop_reason: str
    seconds: float

    def __repr__(self):
        last = f"{self.errors[-1]:.6g}" if len(self.errors) else "n/a"
        return (f"History(epochs={self.epochs}, final error={last}, "
                f"stop_reason={self.stop_reason!r}, seconds={self.seconds:.3g})")


class _LayerViews(list):
    """A list of per-layer views into the parameter buffer.

    ``views[l] = array`` copies into the buffer (after a shape check) instead of
    replacing the list entry, so the assignment really changes the network.
    """

    def __init__(self, views, name):
        super().__init__(views)
        self._name = name

    def __setitem__(self, l, value):
        if isinstance(l, (bool, np.bool_)) or not hasattr(l, "__index__"):
            raise TypeError(f"{self._name} is assigned one layer at a time, got index {l!r}")
        target = self[l]  # IndexError for a layer that does not exist, as for any list
        value = check.finite(check.float_array(value, f"{self._name}[{l}]"), f"{self._name}[{l}]")
        if value.shape != target.shape:
            raise ValueError(f"{self._name}[{l}] must have shape {target.shape}, "
                             f"got shape {value.shape}")
        target[...] = value

    def _fixed(self, *args, **kwargs):
        raise TypeError(f"{self._name} has one array per layer; the number of layers is fixed")

    append = extend = insert = pop = remove = clear = sort = reverse = _fixed
    __delitem__ = __iadd__ = __imul__ = _fixed


class Network:
    """A fully connected network trained by backpropagation.

    ``Network([2, 3, 1], activation="tanh", output_activation="sigmoid", seed=0)``

    - ``sizes``: neurons per layer, inputs first.
    - ``activation``: one of ``sigmoid``, ``tanh``, ``relu``, ``linear``, or one name per
      layer of weights; ``output_activation`` (default: as ``activation``) sets the last.
    - ``seed``: seeds the initial weights (None: fresh entropy, not reproducible).
    - ``init``: ``"auto"`` (Glorot uniform for sigmoid/tanh/linear layers and He normal
      for ReLU layers, biases 0), ``"glorot"``, ``"he"``, ``"normal"`` (Nielsen:
      weights and biases N(0, 1)), or ``"uniform"`` (Rumelhart–Hinton–Williams:
      weights and biases U(−a, a), ``a = init_scale``, default 0.5).
    """

    def __init__(self, sizes, activation="sigmoid", output_activation=None, *, seed=None,
                 init="auto", init_scale=None):
        layer_sizes = check.sizes(sizes)
        names = check.activations(activation, output_activation, len(layer_sizes) - 1)
        seed = check.seed(seed)
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        if init_scale is not None:
            if init != "uniform":
                raise ValueError(f"init_scale applies to init='uniform' only, got init={init!r}")
            init_scale = check.real(init_scale, "init_scale", expected="a positive finite float",
                                    ok=lambda a: a > 0)
        self._build(layer_sizes, names)
        rng = np.random.default_rng(seed)
        for l, (w, b) in enumerate(zip(self._weights, self._biases)):
            _initialise(rng, w, b, init, names[l], init_scale)

    @classmethod
    def from_weights(cls, weights, biases, activations):
        """A network with the given weights (``weights[l][i, j]`` is w_ij) and biases, copied."""
        layer_sizes = check.sizes_from_weights(weights)
        names = check.activations(activations, None, len(layer_sizes) - 1)
        ws, bs = check.parameters(weights, biases, layer_sizes)
        net = cls.__new__(cls)
        net._build(layer_sizes, names)
        for l in range(len(ws)):
            net._weights[l][...] = ws[l]
            net._biases[l][...] = bs[l]
        return net

    def _build(self, layer_sizes, names):
        """Allocate the flat parameter buffer and the layout the kernels index it by."""
        self._sizes = layer_sizes
        self._names = names
        sizes = np.array(layer_sizes, dtype=np.int64)
        per_layer = sizes[:-1] * sizes[1:] + sizes[1:]
        w_off = np.concatenate(([0], np.cumsum(per_layer)[:-1])).astype(np.int64)
        n_off = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        codes = np.array([CODES[a] for a in names], dtype=np.int64)
        self._layout = (sizes, codes, w_off, n_off)
        self._theta = np.zeros(int(per_layer.sum()))
        ws, bs = self._split(self._theta)
        self._weights = _LayerViews(ws, "weights")
        self._biases = _LayerViews(bs, "biases")

    def _split(self, buffer):
        """Per-layer (w, b) views of a buffer laid out like the parameters."""
        sizes, _, w_off, _ = self._layout
        ws, bs = [], []
        for l in range(len(sizes) - 1):
            n_i, n_j, start = int(sizes[l]), int(sizes[l + 1]), int(w_off[l])
            ws.append(buffer[start : start + n_i * n_j].reshape(n_i, n_j))
            bs.append(buffer[start + n_i * n_j : start + n_i * n_j + n_j])
        return ws, bs

    # --- what the network is -------------------------------------------------------------

    @property
    def sizes(self):
        """Neurons per layer, inputs first, e.g. (2, 3, 1)."""
        return self._sizes

    @property
    def activations(self):
        """One activation name per layer of weights, e.g. ("tanh", "sigmoid")."""
        return self._names

    @property
    def weights(self):
        """``weights[l][i, j]`` is w_ij of layer l, shape (sizes[l], sizes[l+1]); writable views."""
        return self._weights

    @weights.setter
    def weights(self, values):
        self._assign_all(self._weights, values)

    @property
    def biases(self):
        """``biases[l][j]`` is b_j of layer l, shape (sizes[l+1],); writable views."""
        return self._biases

    @biases.setter
    def biases(self, values):
        self._assign_all(self._biases, values)

    @staticmethod
    def _assign_all(views, values):
        if not hasattr(values, "__len__") or len(values) != len(views):
            raise ValueError(f"{views._name} must be given as a list of {len(views)} arrays")
        for l, value in enumerate(values):
            views[l] = value

    @property
    def parameters(self):
        """All weights and biases as one flat, writable float64 view: for each layer, its
        weights row by row (``w_11, w_12, …``), then its biases."""
        return self._theta

    def copy(self):
        """An independent copy of this network."""
        return Network.from_weights(self._weights, self._biases, self._names)

    def __repr__(self):
        return f"Network(sizes={self._sizes}, activations={self._names})"

    # --- the computations ----------------------------------------------------------------

    def forward(self, x):
        """The network's output: x of shape (n_in,) gives (n_out,), (n, n_in) gives (n, n_out)."""
        X, single = check.inputs(x, self._sizes[0], "x")
        self._check_parameters()
        out = np.empty((X.shape[0], self._sizes[-1]))
        kernels.forward_all(self._theta, *self._layout, X, out)
        return out[0] if single else out

    def error(self, X, T):
        """C = (1/n) Σ_x ½ Σ_k (t_k − y_k)², the mean over samples of the squared error."""
        X, T = self._data(X, T)
        return float(kernels.mean_error(self._theta, *self._layout, X, T))

    def gradient(self, X, T):
        """(∂C/∂w, ∂C/∂b) of ``error(X, T)``: two lists shaped like ``weights`` and ``biases``."""
        X, T = self._data(X, T)
        grad = np.empty_like(self._theta)
        kernels.mean_gradient(self._theta, *self._layout, X, T, grad)
        return self._split(grad)

    def fit(self, X, T, epochs=1000, eta=0.5, batch_size=1, momentum=0.0, shuffle=True, seed=0,
            train_biases=True, target_error=None, on_divergence="raise"):
        """Train by stochastic gradient descent on C = (1/n) Σ_x E_x; return a ``History``.

        - ``batch_size=1`` is online SGD: Δw_ij = −η δ_j y_i after every sample (in order
          when ``shuffle=False``). Larger batches step with the batch's mean gradient.
        - ``momentum`` α is classical: v ← α v − η g, w ← w + v (v starts at 0 each fit).
        - ``shuffle``: a new order every epoch, from ``seed`` (same seed, same run).
        - ``train_biases=False`` keeps the biases fixed.
        - ``target_error``: stop after the first epoch whose error is ≤ this.
        - ``on_divergence``: when an epoch's error is not finite, the weights are restored to
          the last finite epoch and ``"raise"`` raises ``TrainingDiverged``, ``"stop"``
          returns the history so far.
        """
        X, T = self._data(X, T)
        n = X.shape[0]
        epochs = check.integer(epochs, "epochs", minimum=0)
        eta = check.real(eta, "eta", expected="a positive finite float", ok=lambda v: v > 0)
        batch_size = check.integer(batch_size, "batch_size", minimum=1, maximum=n)
        momentum = check.real(momentum, "momentum", expected="a float in [0, 1)",
                              ok=lambda v: 0 <= v < 1)
        shuffle = check.flag(shuffle, "shuffle")
        seed = check.seed(seed)
        train_biases = check.flag(train_biases, "train_biases")
        if target_error is not None:
            target_error = check.real(target_error, "target_error",
                                      expected="None or a finite float ≥ 0", ok=lambda v: v >= 0)
        if on_divergence not in ("raise", "stop"):
            raise ValueError(f"on_divergence must be 'raise' or 'stop', got {on_divergence!r}")

        order = np.arange(n, dtype=np.int64)
        rng_state = np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)
        velocity = np.zeros_like(self._theta)
        errors = np.empty(epochs)
        done, reason, chunk = 0, kernels.RAN_ALL_EPOCHS, 1
        started = time.perf_counter()
        while done < epochs and reason == kernels.RAN_ALL_EPOCHS:
            # Whole epochs run inside one compiled call; between calls Python can react.
            tic = time.perf_counter()
            ran, reason = kernels.train_epochs(
                self._theta, *self._layout, X, T, order, rng_state, shuffle,
                min(chunk, epochs - done), eta, momentum, velocity, batch_size, train_biases,
                -1.0 if target_error is None else target_error, errors[done:],
            )  # fmt: skip
            done += ran
            per_epoch = max(time.perf_counter() - tic, 1e-9) / ran
            chunk = max(1, min(int(_CHUNK_SECONDS / per_epoch), 2 * chunk + 1))
        seconds = time.perf_counter() - started

        if reason == kernels.DIVERGED:
            history = History(errors[: done - 1].copy(), done - 1, "diverged", seconds)
            last = float(errors[done - 2]) if done >= 2 else self.error(X, T)
            if on_divergence == "stop":
                return history
            raise TrainingDiverged(
                f"training diverged: the error after epoch {done} was {errors[done - 1]} "
                f"(eta={eta}, momentum={momentum}); the weights are those after epoch {done - 1} "
                f"(error {last:.6g}). Try a smaller eta.",
                epoch=done, last_error=last, history=history,
            )
        stop_reason = "target_error" if reason == kernels.REACHED_TARGET else "epochs"
        return History(errors[:done].copy(), done, stop_reason, seconds)

    def trace(self, x, t, eta=0.5, convention="note", train_biases=True):
        """One online training step on the sample (x, t), every intermediate kept: a ``Trace``.

        The step is the one ``fit(X, T, epochs=1, batch_size=1, shuffle=False)`` takes on
        that sample, computed by the same kernels; the network itself is not changed.
        ``tr.layers[l]`` holds z, y, f'(z), δ, ∂E/∂w, ∂E/∂b, Δw, Δb and the new w and b of
        layer l; ``tr.error`` is E = ½ Σ_k (t_k − y_k)² before the step; ``print(tr)`` shows
        each formula with the numbers substituted.

        ``convention="note"`` (default) shows the study note's δ_k = (t_k − y_k) f'(z_k) with
        Δw_ij = +η δ_j y_i; ``"gradient"`` shows δ = ∂E/∂z with Δw_ij = −η δ_j y_i. Only
        the sign of δ differs. ``train_biases=False`` leaves the biases as they are.
        """
        return _trace(self, x, t, eta=eta, convention=convention, train_biases=train_biases)

    def save(self, path):
        """Write the network to ``path`` as an .npz file, atomically (see ``nbbackprop.load``)."""
        from .storage import save

        save(self, path)

    # --- boundary helpers ----------------------------------------------------------------

    def _data(self, X, T):
        X, single = check.inputs(X, self._sizes[0])
        T = check.targets(T, X.shape[0], self._sizes[-1], single)
        self._check_parameters()
        return X, T

    def _check_parameters(self):
        """Weights poked in place may be NaN or Inf; say which before any kernel runs."""
        if not np.isfinite(self._theta).all():
            for l in range(len(self._weights)):
                check.finite(self._weights[l], f"weights[{l}]")
                check.finite(self._biases[l], f"biases[{l}]")


def _initialise(rng, w, b, init, activation, scale):
    """Fill one layer's w and b in place: the weights first, then the biases."""
    n_i, n_j = w.shape
    if init == "auto":
        init = "he" if CODES[activation] == RELU else "glorot"
    if init == "glorot":  # Glorot & Bengio (2010), uniform
        limit = np.sqrt(6.0 / (n_i + n_j))
        w[...] = rng.uniform(-limit, limit, size=w.shape)
        b[...] = 0.0
    elif init == "he":  # He et al. (2015), normal
        w[...] = rng.normal(0.0, np.sqrt(2.0 / n_i), size=w.shape)
        b[...] = 0.0
    elif init == "normal":  # Nielsen, network.py
        w[...] = rng.standard_normal(w.shape)
        b[...] = rng.standard_normal(b.shape)
    else:  # "uniform": Rumelhart, Hinton & Williams (1986), small random weights and biases
        a = 0.5 if scale is None else scale
        w[...] = rng.uniform(-a, a, size=w.shape)
        b[...] = rng.uniform(-a, a, size=b.shape)


__all__ = ["ACTIVATIONS", "History", "INITS", "Network"]
