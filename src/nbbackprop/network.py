"""``Network``: the Python shell around the compiled kernels.

It holds the parameters, validates every argument at the boundary, and calls into the
compiled kernels (``formulas``, ``fast``, ``training``, ``inexact``) for all arithmetic; it
has no arithmetic loops of its own.

All parameters live in one flat float64 buffer (``Network.parameters``); ``weights[l]``
and ``biases[l]`` are views into it, so poking ``net.weights[l][i, j]`` changes the
network, and finite differences, momentum and saving all work on one array.
"""

import contextlib
import dataclasses
import operator
import signal
import threading
import time

import numpy as np

from . import _validate as check
from . import fast, formulas, inexact, monitor, training
from .activations import ACTIVATIONS, CODES, RELU
from .exceptions import (
    InputError,
    InvalidType,
    InvalidValue,
    TrainingDiverged,
    TrainingInterrupted,
)
from .layout import make_layout, parameter_count, split
from .storage import Model, read_model, write_model
from .trace import trace as _trace

INITS = ("auto", "glorot", "he", "normal", "uniform")
# Every scalar parameter of the public methods, with its constraint (arrays are checked by
# check.inputs, check.targets and check.parameters).
NETWORK_PARAMETERS = {
    "seed": check.Seed(),
    "init": check.Choice(*INITS),
    # U(−a, a) needs 2a to be a float64 too.
    "init_scale": check.Optional(check.Real("a positive float ≤ 8e307", lambda a: 0 < a <= 8e307)),
}
FIT_PARAMETERS = {
    "epochs": check.Integer(minimum=0),
    "eta": check.LearningRate(),
    "batch_size": check.Integer(minimum=1, maximum="n"),  # n: the number of samples
    "momentum": check.Real("a float in [0, 1)", lambda v: 0 <= v < 1),
    "shuffle": check.Flag(),
    "seed": check.Seed(),
    "train_biases": check.Flag(),
    "target_error": check.Optional(check.Real("None or a finite float ≥ 0", lambda v: v >= 0)),
    "on_divergence": check.Choice("raise", "stop"),
    "weight_decay": check.Real("a finite float ≥ 0", lambda v: v >= 0),
    "progress": check.Flag(),
    "callback": check.Optional(check.Function("None or a function info -> None or False")),
    "callback_every": check.Optional(check.Integer(minimum=1)),
    "patience": check.Optional(check.Integer(minimum=1)),
    "exact": check.Flag(),
}
_CHUNK_SECONDS = 0.2  # fit returns to Python about this often (so Ctrl-C is seen)
# How many times the last budget the next compiled call may get: the first call has a budget
# of one sample, and each call costs microseconds of Python; doubling took a dozen calls to
# reach _CHUNK_SECONDS, a fifth of a short XOR fit (the estimate made on a tiny call, its
# overhead included, errs on the slow side).
_BUDGET_GROWTH = 64
_MAX_SCHEDULED_EPOCHS = 10**7  # a schedule is evaluated for every epoch before training
_FIRST_SEED = 0  # where a new network's shuffle stream starts


@dataclasses.dataclass
class History:
    """What ``Network.fit`` did.

    ``errors[e]`` is ``net.error(X, T)`` after the e-th epoch of this call (e from 0);
    ``epochs`` is how many epochs ran; ``first_epoch`` is the network's own number of the
    first of them (1 for a new network; training continues where it stopped), so this
    history covers the network's epochs ``first_epoch`` … ``first_epoch + epochs − 1``;
    ``stop_reason`` is ``"epochs"`` (all ran), ``"target_error"`` (reached it),
    ``"diverged"`` (error not finite or exploding; weights restored to the last finite
    epoch), ``"interrupted"`` (Ctrl-C; carried by ``TrainingInterrupted``), ``"callback"``
    (the callback returned False) or ``"early_stopping"`` (``patience`` ran out; the
    network went back to ``best_epoch``).

    With ``validation``: ``validation_errors[e]`` is the validation set's error after the
    e-th epoch, ``validation_accuracy[e]`` its accuracy for a classifier (a softmax
    output, or a sigmoid output with cross-entropy; else empty), and ``best_epoch`` the
    network's number of the epoch with the lowest validation error (the first of equals).
    Without it, both arrays are empty and ``best_epoch`` is None. ``warnings``: what
    looked wrong (saturated outputs with the error stuck, inputs far from unit scale).
    """

    errors: np.ndarray
    epochs: int
    stop_reason: str
    seconds: float
    first_epoch: int = 1
    validation_errors: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    validation_accuracy: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    best_epoch: int | None = None
    warnings: list = dataclasses.field(default_factory=list)

    def __repr__(self):
        last = f"{self.errors[-1]:.6g}" if len(self.errors) else "n/a"
        covered = (f"{self.first_epoch}–{self.first_epoch + self.epochs - 1}"
                   if self.epochs else "none")
        return (f"History(epochs={self.epochs} (the network's {covered}), final error={last}, "
                f"stop_reason={self.stop_reason!r}, seconds={self.seconds:.3g})")


def _shuffle_stream(seed):
    """The shuffle generator's state where a stream seeded with ``seed`` starts."""
    return np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)


@dataclasses.dataclass
class _TrainingState:
    """What carries over from one ``fit`` to the next: epochs trained, the shuffle
    generator, the order of the samples (of the last data set trained on), the velocity."""

    epochs: int
    rng: np.ndarray
    order: np.ndarray
    velocity: np.ndarray

    @classmethod
    def fresh(cls, n_parameters):
        return cls(0, _shuffle_stream(_FIRST_SEED), np.arange(0, dtype=np.int64),
                   np.zeros(n_parameters))

    def copy(self):
        return _TrainingState(self.epochs, self.rng.copy(), self.order.copy(),
                              self.velocity.copy())


class _LayerViews(list):
    """A list of per-layer views into the parameter buffer.

    ``views[l] = array`` copies into the buffer (after a shape check) instead of
    replacing the list entry, so the assignment really changes the network.
    """

    def __init__(self, views, name):
        super().__init__(views)
        self._name = name

    def __setitem__(self, l, value):
        self[self._index(l)][...] = self._checked(l, value)

    def _index(self, l):
        try:
            if isinstance(l, (bool, np.bool_)):
                raise TypeError
            l = operator.index(l)  # ints and NumPy integers (and 0-d integer arrays)
        except TypeError:
            raise InvalidType(f"{self._name} is assigned one layer at a time, got index "
                              f"{check.shown(l)}") from None
        if not -len(self) <= l < len(self):  # IndexError, as for any list, but saying why
            raise IndexError(f"{self._name} has {len(self)} layers (index 0 to {len(self) - 1}), "
                             f"got index {l}")
        return l

    def _checked(self, l, value):
        """value as a float64 array of layer l's shape, finite."""
        name, shape = f"{self._name}[{l}]", self[self._index(l)].shape
        value = check.finite(check.float_array(value, name), name)
        if value.shape != shape:
            raise InvalidValue(f"{name} must have shape {shape}, got shape {value.shape}")
        return value

    def _fixed(self, *args, **kwargs):
        raise InvalidType(f"{self._name} has one array per layer; the number of layers is fixed")

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

    def __init__(self, sizes, activation="sigmoid", output_activation=None, *, loss="squared",
                 seed=None, init="auto", init_scale=None):
        layer_sizes = check.sizes(sizes)
        names = check.activations(activation, output_activation, len(layer_sizes) - 1)
        check.softmax_width(names, layer_sizes)
        loss = check.loss(loss, names[-1])
        seed, init, init_scale = check.arguments(NETWORK_PARAMETERS, seed=seed, init=init,
                                                 init_scale=init_scale)
        if init_scale is not None and init != "uniform":
            raise InvalidValue(f"init_scale applies to init='uniform' only, got init={init!r}")
        self._build(layer_sizes, names, loss)
        rng = np.random.default_rng(seed)
        for l, (w, b) in enumerate(zip(self._weights, self._biases)):
            _initialise(rng, w, b, init, names[l], init_scale)

    @classmethod
    def from_weights(cls, weights, biases, activations, loss="squared"):
        """A network with the given weights (``weights[l][i, j]`` is w_ij) and biases, copied."""
        layer_sizes = check.sizes_from_weights(weights)
        names = check.activations(activations, None, len(layer_sizes) - 1, "activations")
        check.softmax_width(names, layer_sizes, "activations")
        loss = check.loss(loss, names[-1])
        ws, bs = check.parameters(weights, biases, layer_sizes)
        net = cls.__new__(cls)
        net._build(layer_sizes, names, loss)
        for l in range(len(ws)):
            net._weights[l][...] = ws[l]
            net._biases[l][...] = bs[l]
        return net

    def _build(self, layer_sizes, names, loss):
        """Allocate the flat parameter buffer and the layout the kernels index it by."""
        self._sizes = layer_sizes
        self._names = names
        self._loss = loss
        count = parameter_count(layer_sizes)
        try:
            self._theta = np.zeros(count)
        except (MemoryError, ValueError, OverflowError):  # the last two: beyond any array
            need = f"{count}" if count < 2**64 else f"about 1e{len(str(count)) - 1}"
            raise InvalidValue(
                f"sizes {check.shown(layer_sizes)} need {need} parameters of 8 bytes, more "
                "than this machine can allocate") from None
        self._layout = make_layout(layer_sizes, names, loss)
        self._state = _TrainingState.fresh(count)
        ws, bs = self.per_layer(self._theta)
        self._weights = _LayerViews(ws, "weights")
        self._biases = _LayerViews(bs, "biases")

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
    def loss(self):
        """``"squared"`` (E = ½ Σ_k (t_k − y_k)²) or ``"cross_entropy"``."""
        return self._loss

    @property
    def epochs_trained(self):
        """How many epochs ``fit`` has trained this network (``reset_training`` sets 0)."""
        return self._state.epochs

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
        """Check every layer first, then copy: a bad layer leaves the network unchanged."""
        if not check.is_list(values) or len(values) != len(views):
            raise InvalidValue(f"{views._name} must be given as a list of {len(views)} arrays, "
                               f"got {check.shown(values)}")
        checked = [views._checked(l, value) for l, value in enumerate(values)]
        for view, value in zip(views, checked):
            view[...] = value

    @property
    def parameters(self):
        """All weights and biases as one flat, writable float64 view: for each layer, its
        weights row by row (``w_11, w_12, …``), then its biases."""
        return self._theta

    # --- what other modules of the package use ------------------------------------------

    @property
    def layout(self):
        """The ``Layout`` (layer sizes, activation codes, offsets) by which the compiled
        kernels index ``parameters`` and the per-neuron buffers."""
        return self._layout

    def per_layer(self, flat):
        """Per-layer (weights, biases) views of a flat array laid out like ``parameters``
        (a gradient, a velocity): ``ws[l][i, j]`` belongs to w_ij of layer l."""
        return split(self._layout, flat)

    def check_data(self, X, T):
        """(X, T) as float64 arrays of shapes (n, n_in) and (n, n_out), checked as every
        method of the network checks them; a single sample becomes a batch of one."""
        X, single = check.inputs(X, self._sizes[0])
        T = check.targets(T, X.shape[0], self._sizes[-1], single, loss=self._loss,
                          output=self._names[-1])
        self.check_parameters()
        return X, T

    def check_parameters(self):
        """Weights poked in place may be NaN or Inf; say which before any kernel runs."""
        if not training.all_finite(self._theta):
            for l in range(len(self._weights)):
                check.finite(self._weights[l], f"weights[{l}]")
                check.finite(self._biases[l], f"biases[{l}]")

    def copy(self):
        """An independent copy of this network, its training state included."""
        net = Network.from_weights(self._weights, self._biases, self._names, self._loss)
        net._state = self._state.copy()
        return net

    def reset_training(self):
        """Forget the training state: no epochs trained, the velocity zero, the shuffle
        stream back to where a new network's starts. The weights stay as they are."""
        self._state = _TrainingState.fresh(self._theta.size)

    def __repr__(self):
        return (f"Network(sizes={self._sizes}, activations={self._names}, "
                f"loss={self._loss!r})")

    # --- the computations ----------------------------------------------------------------

    def forward(self, x):
        """The network's output: x of shape (n_in,) gives (n_out,), (n, n_in) gives (n, n_out)."""
        return self._outputs(x, "x")

    def _outputs(self, X, name):
        """``forward``, its errors naming the caller's argument."""
        X, single = check.inputs(X, self._sizes[0], name)
        out = self._outputs_of_rows(X, name)
        return out[0] if single else out

    def _outputs_of_rows(self, X, name):
        """The outputs (n, n_out) of inputs X already checked as an (n, n_in) array."""
        self.check_parameters()
        out = np.empty((X.shape[0], self._sizes[-1]))
        fast.forward_all(self._theta, self._layout, X, out)
        check.finite_result(out, "the output y", net=self, **{name: X})
        return out

    def error(self, X, T):
        """C = (1/n) Σ_x E_x, the mean over samples of the loss: E = ½ Σ_k (t_k − y_k)², or
        the cross-entropy (−Σ_k t_k ln y_k for softmax, −Σ_k [t_k ln y_k + (1 − t_k)
        ln(1 − y_k)] for sigmoid outputs). Without the weight-decay term, which only
        ``fit`` adds to its steps."""
        X, T = self.check_data(X, T)
        error = _mean_error(self._theta, self._layout, X, T)
        return check.finite_result(error, "the error C", X=X, T=T, net=self)

    def gradient(self, X, T):
        """(∂C/∂w, ∂C/∂b) of ``error(X, T)``: two lists shaped like ``weights`` and ``biases``."""
        X, T = self.check_data(X, T)
        grad = np.empty_like(self._theta)
        formulas.mean_gradient(self._theta, self._layout, X, T, grad)
        check.finite_result(grad, "the gradient ∂C/∂θ", X=X, T=T, net=self)
        return self.per_layer(grad)

    def predict(self, X):
        """Class labels (int64, shape (n,), or a single int for one sample): the index of
        the largest output, or for a network with one output (a sigmoid's probability)
        1 where y ≥ 0.5, else 0."""
        return _labels_of(self._outputs(X, "X"))

    def accuracy(self, X, T):
        """The fraction of samples whose predicted label equals the target's: T as integer
        class labels, or as rows (one-hot or probabilities) whose largest entry is the
        label, or for one output as 0/1 targets (t ≥ 0.5 is 1)."""
        X, single = check.inputs(X, self._sizes[0])
        T = check.targets(T, X.shape[0], self._sizes[-1], single)
        return float(np.mean(_labels_of(self._outputs_of_rows(X, "X")) == _labels_of(T)))

    def fit(self, X, T, epochs=1000, eta=0.5, batch_size=1, momentum=0.0, shuffle=True, seed=None,
            train_biases=True, target_error=None, on_divergence="raise", weight_decay=0.0,
            progress=False, callback=None, callback_every=None, validation=None, patience=None,
            exact=True):
        """Train by stochastic gradient descent on C = (1/n) Σ_x E_x; return a ``History``.

        - ``batch_size=1`` is online SGD: Δw_ij = −η δ_j y_i after every sample (in order
          when ``shuffle=False``). Larger batches step with the batch's mean gradient.
        - ``eta``: η, a positive float, or a schedule: a callable ``epoch -> η`` called
          once per epoch before training starts, ``epoch`` counting the network's epochs
          from 0 (``nbbackprop.schedules`` has the usual ones).
        - ``momentum`` α is classical: v ← α v − η g, w ← w + v.
        - ``weight_decay`` λ: each step uses ∂C/∂w_ij + λ w_ij (weights, not biases);
          ``error`` and ``History.errors`` stay the data term C.
        - ``shuffle``: a new order every epoch, from the network's shuffle stream.
        - Training continues where it stopped: the network keeps its epochs trained, its
          shuffle stream and its velocity, so ``fit(epochs=a)`` then ``fit(epochs=b)``
          equals ``fit(epochs=a + b)`` bit for bit (with the same other arguments).
          ``seed=s`` restarts the shuffle stream from s (a new network's starts from 0);
          ``reset_training()`` forgets it all.
        - ``train_biases=False`` keeps the biases fixed.
        - ``target_error``: stop after the first epoch whose error is ≤ this.
        - ``on_divergence``: when an epoch's error is not finite or explodes (more than 10⁶
          times the larger of the best error so far and (1/n) Σ_x ½ Σ_k t_k²), the weights
          are restored to the last finite epoch and ``"raise"`` raises ``TrainingDiverged``,
          ``"stop"`` returns the history so far.

        Ctrl-C stops training (also inside an epoch), restores the weights and the
        training state after the last completed epoch and raises ``TrainingInterrupted``
        (a KeyboardInterrupt) carrying the history so far.

        Watching (none of it changes a result bit; docs/training.md has the details):

        - ``progress=True``: a tqdm bar (``pip install "nbbackprop[progress]"``) with the
          epoch, the error, the validation error and accuracy, samples/s and the time left.
        - ``callback(info)``: called with an ``EpochInfo`` (epoch, error, validation error
          and accuracy, the network) after each epoch that ends a compiled call (about
          every 0.2 s); with ``callback_every=k``, after every epoch whose number (the
          network's) is a multiple of k instead. Returning False stops training
          (``stop_reason="callback"``); an exception raised in it propagates, the network
          holding the epoch the callback was shown.
        - ``validation=(X_val, T_val)``: their error (and accuracy, for a classifier) after
          every epoch, in ``History.validation_errors`` (``validation_accuracy``), and
          ``History.best_epoch``.
        - ``patience=k`` (with ``validation``): stop after k epochs without a validation
          error below the best of this call, and go back to the best epoch: the network
          then is exactly what ``fit`` with that many epochs would have left (weights,
          velocity, shuffle stream, epochs trained); ``stop_reason="early_stopping"``.
        - ``History.warnings`` says when the outputs saturated with the error stuck, and
          when the inputs are far from unit scale.

        ``exact=False`` trades bit-identity for speed in mini-batches (and online SGD with
        momentum): the sums of the forward pass, the deltas and the gradient may use FMA
        and any order (``nbbackprop.inexact``), each within a stated bound of the exact
        one; online SGD without momentum stays exact. docs/training.md has the bounds
        and how far a training drifts.
        """
        X, T = self.check_data(X, T)
        n = X.shape[0]
        (epochs, eta, batch_size, momentum, shuffle, seed, train_biases, target_error,
         on_divergence, weight_decay, progress, callback, callback_every,
         patience, exact) = check.arguments(
            FIT_PARAMETERS, {"n": n}, epochs=epochs, eta=eta, batch_size=batch_size,
            momentum=momentum, shuffle=shuffle, seed=seed, train_biases=train_biases,
            target_error=target_error, on_divergence=on_divergence,
            weight_decay=weight_decay, progress=progress, callback=callback,
            callback_every=callback_every, patience=patience, exact=exact)
        if callback_every is not None and callback is None:
            raise InvalidValue(f"callback_every applies with a callback, got "
                               f"callback_every={callback_every} and callback=None")
        if patience is not None and validation is None:
            raise InvalidValue(f"patience needs validation=(X_val, T_val): early stopping "
                               f"watches the validation error, got patience={patience} and "
                               "validation=None")
        validation = self._validation_set(validation)
        first = self._state.epochs
        etas = _learning_rates(eta, first, epochs)

        # Everything that carries over between compiled calls lives in these arrays; the
        # network's training state is updated in place.
        state = self._state
        if seed is not None:
            state.rng = _shuffle_stream(seed)
            state.order = np.arange(n, dtype=np.int64)
        if state.order.size != n:  # new data: its samples in their order
            state.order = np.arange(n, dtype=np.int64)
        before = (np.empty_like(self._theta), np.empty_like(state.velocity),
                  np.empty_like(state.order), np.empty_like(state.rng))
        at = np.zeros(4, dtype=np.int64)  # epochs done, samples trained, measured, filled
        E = np.empty(n)  # every sample's E_x, for the error pass
        sums = np.array([0.0, np.inf])  # partial Σ_x E_x, best C so far
        errors = np.empty(min(epochs, 1024))  # grows as epochs complete
        with np.errstate(over="ignore"):
            target_size = 0.5 * float(np.sum(T * T)) / n  # (1/n) Σ_x ½ Σ_k t_k²
        reason, budget = training.PAUSED, 1
        driver = (training if exact else inexact).epochs_driver(batch_size, momentum)
        started, stop = time.perf_counter(), None
        watching = progress or callback is not None or validation is not None
        if validation is not None:
            validation = monitor.Validation(
                self, *validation, patience, _mean_error, _labels_of,
                (self._theta, state.velocity, state.order, state.rng))
        watch = (monitor.Watch(self, n, epochs, first, progress=progress, callback=callback,
                               callback_every=callback_every, validation=validation)
                 if watching else None)
        try:
            with _ctrl_c_between_calls() as pressed:
                while reason in (training.PAUSED, training.ERRORS_WANTED):
                    if reason == training.ERRORS_WANTED:
                        fast.sample_errors_on_threads(self._theta, self._layout, X, T, E)
                        at[training.FILLED] = n
                        pressed()
                    done = int(at[training.EPOCHS_DONE])
                    if done == len(errors):
                        errors = np.concatenate((errors, np.empty(min(epochs - done, done))))
                    # About _CHUNK_SECONDS of work per compiled call; Ctrl-C is acted on
                    # between calls.
                    tic, position = time.perf_counter(), _position(at, n)
                    # Watching: the call may have to stop at an epoch boundary (a full
                    # ``errors`` pauses the driver there).
                    limit = watch.limit(done, budget) if watch else None
                    reason = driver(
                        self._theta, self._layout, X, T, state.order, state.rng, shuffle,
                        min(epochs, 2**63 - 1), etas,  # beyond int64: never reached anyway
                        momentum, state.velocity, batch_size, train_biases, weight_decay,
                        -1.0 if target_error is None else target_error, target_size,
                        errors if limit is None else errors[:limit], before, at, sums, E,
                        budget,
                    )  # fmt: skip
                    state.epochs = first + int(at[training.EPOCHS_DONE])
                    pressed()
                    per_sample = (time.perf_counter() - tic) / max(_position(at, n) - position, 1)
                    budget = max(1, min(int(_CHUNK_SECONDS / max(per_sample, 1e-12)),
                                        _BUDGET_GROWTH * budget + 1))
                    if watch and reason != training.DIVERGED:
                        boundary = not (at[training.TRAINED] or at[training.MEASURED])
                        stop = watch.after_call(
                            int(at[training.EPOCHS_DONE]), errors, boundary,
                            (self._theta, state.velocity, state.order, state.rng))
                        if stop == "early_stopping":
                            state.epochs = first + validation.best_done
                        if stop:
                            break
                        pressed()
            if watch:
                watch.close(int(at[training.EPOCHS_DONE]), errors)  # the bar's last state
        except KeyboardInterrupt:
            interrupted = self._interrupted(at, before, errors, started, first)
            self._report(interrupted.history, watch, X, target_size)
            raise interrupted from None
        finally:
            if watch:
                watch.close()
        seconds = time.perf_counter() - started
        done = int(at[training.EPOCHS_DONE])
        history = History(errors[:done].copy(), done, stop or "epochs", seconds, first + 1)
        self._report(history, watch, X, target_size)
        if reason == training.REACHED_TARGET and stop is None:
            history.stop_reason = "target_error"
        elif reason == training.DIVERGED:
            history.stop_reason = "diverged"
            if done:
                last = float(errors[done - 1])
            else:
                last = _mean_error(self._theta, self._layout, X, T)
                check.finite_result(last, "the error C of the starting weights", X=X, T=T, net=self)
            if on_divergence == "stop":
                return history
            raise TrainingDiverged(
                _divergence_message(first, done, float(errors[done]), last,
                                    sums[training.BEST_ERROR], target_size,
                                    float(etas[min(done, etas.size - 1)]), momentum),
                epoch=first + done + 1, last_error=last, history=history,
            )
        return history

    def _report(self, history, watch, X, target_size):
        """Into ``history``: the warnings (looked for once, after the call's last completed
        epoch, so the same whatever was watched) and the validation record."""
        history.warnings = monitor.warnings(self, X, history.errors, target_size)
        validation = watch.validation if watch else None
        if validation is not None:
            history.validation_errors = np.array(validation.errors)
            history.validation_accuracy = np.array(validation.accuracy)
            if validation.best < np.inf:
                history.best_epoch = history.first_epoch - 1 + validation.best_done

    def _validation_set(self, validation):
        """validation=(X_val, T_val) checked as the training data are, or None."""
        if validation is None:
            return None
        if not check.is_list(validation) or len(validation) != 2:
            raise InvalidValue(f"validation must be a pair (X_val, T_val), got "
                               f"{check.shown(validation)}")
        X, single = check.inputs(validation[0], self._sizes[0], "validation X")
        T = check.targets(validation[1], X.shape[0], self._sizes[-1], single, "validation T",
                          loss=self._loss, output=self._names[-1])
        return X, T

    def _interrupted(self, at, before, errors, started, first):
        """After Ctrl-C: back to the last completed epoch; the exception to raise."""
        if at[training.TRAINED] or at[training.MEASURED]:
            # The epoch under way is dropped, never half kept: weights and training state.
            state = self._state
            training.copy_state((self._theta, state.velocity, state.order, state.rng), before)
        done = int(at[training.EPOCHS_DONE])
        history = History(errors[:done].copy(), done, "interrupted",
                          time.perf_counter() - started, first + 1)
        last = f" (error {errors[done - 1]:.6g})" if done else ""
        return TrainingInterrupted(
            f"training interrupted; the network holds the weights after epoch {first + done}"
            f"{last}", history=history)

    def trace(self, x, t, eta=0.5, convention="note", train_biases=True):
        """One online training step on the sample (x, t), every intermediate kept: a ``Trace``.

        The step is the one ``fit(X, T, epochs=1, batch_size=1, shuffle=False)`` takes on
        that sample, computed by the same kernels; the network itself is not changed.
        ``tr.layers[l]`` holds z, y, f'(z), δ, ∂E/∂w, ∂E/∂b, Δw, Δb and the new w and b of
        layer l; ``tr.error`` is E before the step (½ Σ_k (t_k − y_k)², or the cross-entropy);
        ``print(tr)`` shows each formula with the numbers substituted.

        ``convention="note"`` (default) shows the study note's δ_k = (t_k − y_k) f'(z_k) with
        Δw_ij = +η δ_j y_i; ``"gradient"`` shows δ = ∂E/∂z with Δw_ij = −η δ_j y_i. Only
        the sign of δ differs. ``train_biases=False`` leaves the biases as they are.
        """
        return _trace(self, x, t, eta=eta, convention=convention, train_biases=train_biases)

    def save(self, path):
        """Write the network to ``path`` as an .npz file, atomically (see ``nbbackprop.load``)."""
        state = self._state
        write_model(path, Model(self.sizes, self.activations, self.weights, self.biases,
                                self._loss, {"epochs": state.epochs, "rng": state.rng,
                                             "order": state.order,
                                             "velocity": state.velocity}))

    def __reduce__(self):
        """Pickle (joblib, multiprocessing, ``copy.deepcopy``) what the model file holds:
        the weights and biases as one buffer, and the training state. The per-layer views
        are rebuilt into the new buffer on loading, so they stay views."""
        return _unpickle, (self._sizes, self._names, self._loss, self._theta.copy(),
                           self._state.copy())


def _learning_rates(eta, first, epochs):
    """η for each epoch of a fit as a float64 array (one value: the same for every epoch);
    a schedule is called for the network's epochs first … first + epochs − 1, and every
    value is checked before any weight changes."""
    if not callable(eta):
        return np.array([eta])
    if epochs > _MAX_SCHEDULED_EPOCHS:
        raise InvalidValue(f"epochs must be ≤ {_MAX_SCHEDULED_EPOCHS} when eta is a schedule "
                           f"(it is evaluated for every epoch before training), got {epochs}")
    etas = np.empty(max(epochs, 1))
    for e in range(epochs):
        value = eta(first + e)
        etas[e] = check.real(value, f"eta({first + e}), the schedule's value for epoch "
                             f"{first + e},", expected="a positive finite float",
                             ok=lambda v: v > 0)
    if epochs == 0:
        etas[0] = 1.0  # never used
    return etas


def _labels_of(Y):
    """Class labels of rows of outputs or targets: the largest entry's index, or for one
    column 1 where it is ≥ 0.5."""
    if Y.ndim == 1:
        return int(Y[0] >= 0.5) if Y.shape[0] == 1 else int(np.argmax(Y))
    if Y.shape[1] == 1:
        return (Y[:, 0] >= 0.5).astype(np.int64)
    return np.argmax(Y, axis=1).astype(np.int64)


@contextlib.contextmanager
def _ctrl_c_between_calls():
    """Ctrl-C noted while compiled code runs or compiles, raised as KeyboardInterrupt only
    between calls (by the ``pressed()`` this yields). Python's own handler would raise it at
    the next bytecode, which may be inside Numba compiling a kernel, where it is lost in a
    callback and leaves the compile broken. Only in the main thread, and only where Ctrl-C
    has Python's default handler (a program's own handler is left alone)."""
    seen = []

    def pressed():
        if seen:
            seen.clear()
            raise KeyboardInterrupt

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield pressed
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)
        pressed()


def _mean_error(theta, layout, X, T):
    """C = (1/n) Σ_x E_x: ``fast.mean_error``, with the forward passes of a large data set on
    the threads (the same numbers)."""
    if not fast.wants_threads(layout, X.shape[0]):
        return float(fast.mean_error(theta, layout, X, T))
    E = np.empty(X.shape[0])
    fast.sample_errors_on_threads(theta, layout, X, T, E)
    return float(fast.mean_of(E))


def _position(at, n):
    """How far a run of training has come, counted in samples trained on or measured."""
    return 2 * n * int(at[training.EPOCHS_DONE]) + int(at[training.TRAINED] + at[training.MEASURED])


def _divergence_message(first, done, bad, last, best, target_size, eta, momentum):
    epoch, done = first + done + 1, first + done
    if not np.isfinite(bad):
        why = f"the error became {bad}"
    elif bad > training.EXPLOSION_FACTOR * max(best, target_size):
        why = (f"the error grew to {bad:.6g}, more than {training.EXPLOSION_FACTOR:g} times the "
               f"larger of the best error so far ({best:.6g}) and the targets' own size "
               f"(1/n) Σ ½ t² ({target_size:.6g})")
    else:
        why = f"some weights became infinite or NaN (the error was {bad:.6g})"
    kept = f"after epoch {done}" if done else "it started with"
    less_momentum = f", less momentum than {momentum}" if momentum else ""
    return (f"training diverged at epoch {epoch}: {why}. The network holds the weights {kept} "
            f"(error {last:.6g}). Try a smaller eta than {eta}{less_momentum}, or scale X and "
            f"T to values of order 1.")


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


def _unpickle(sizes, names, loss, theta, state):
    """The network ``Network.__reduce__`` describes."""
    net = Network.__new__(Network)
    net._build(sizes, names, loss)
    net._theta[...] = theta
    net._state = state
    return net


def load(path):
    """Read a network written by ``Network.save`` (or by any program following the format
    in ``nbbackprop.storage``); the file is checked entry by entry and never unpickled."""
    model = read_model(path)
    try:
        net = Network.from_weights(model.weights, model.biases, model.activations, model.loss)
    except InputError as err:  # e.g. softmax on a hidden layer
        raise InvalidValue(f"{path} is not a valid nbbackprop model file: {err}") from None
    if model.training is not None:
        net._state = _TrainingState(**model.training)
    return net


__all__ = ["ACTIVATIONS", "History", "INITS", "Network", "load"]
