"""What ``Network.fit`` reports while it trains: the progress bar, the callback's
``EpochInfo``, the validation error and early stopping, and the warnings it leaves in
``History.warnings``.

Nothing here changes a result: everything reads the network between compiled calls.
The rules of the warnings are stated once, as the constants below.
"""

import dataclasses
import time

import numpy as np

from . import fast, training

# A saturated output: within this of the bound of its activation (0 or 1 for sigmoid and
# softmax, −1 or 1 for tanh), where f'(z) (or the softmax's Jacobian) is nearly zero.
SATURATION_MARGIN = 1e-3
# "(Nearly) every output saturated": at least this fraction of the outputs y_k of the
# first SATURATION_SAMPLES training samples (so a check costs at most that many forward
# passes) …
SATURATED_FRACTION = 0.99
SATURATION_SAMPLES = 256
# … and "the error unchanged": the last STUCK_EPOCHS errors of the call all within
# STUCK_CHANGE (relative) of the last one, which is still above STUCK_ERROR times the
# targets' own size (1/n) Σ_x ½ Σ_k t_k² (so a network that fits its targets is not stuck).
STUCK_EPOCHS = 20
STUCK_CHANGE = 1e-4
STUCK_ERROR = 0.01
# Inputs "far from unit scale": the largest |x_i| above LARGE_INPUT, or (inputs not all
# zero) below SMALL_INPUT.
LARGE_INPUT, SMALL_INPUT = 10.0, 0.01
# Bounds of the bounded output activations.
BOUNDS = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0)}
# How often the bar is redrawn, in seconds.
EVERY_SECONDS = 0.2


@dataclasses.dataclass(frozen=True)
class EpochInfo:
    """What ``fit``'s callback is given after an epoch.

    ``epoch`` is the network's own number of the epoch just completed (as
    ``net.epochs_trained``); ``error`` its training error C; ``validation_error`` and
    ``validation_accuracy`` the validation set's (None without ``validation``; the
    accuracy also None for a network that is not a classifier); ``network`` the network
    itself, holding the weights after that epoch; ``seconds`` since ``fit`` started.
    """

    epoch: int
    error: float
    validation_error: float | None
    validation_accuracy: float | None
    network: object
    seconds: float


def is_classifier(net):
    """A softmax output, or a sigmoid output trained with cross-entropy: its outputs are
    class probabilities, so ``predict`` and ``accuracy`` mean something."""
    return net.activations[-1] == "softmax" or (net.activations[-1] == "sigmoid"
                                                 and net.loss == "cross_entropy")


def has_tqdm():
    """Whether the progress bar's library can be imported."""
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def progress_bar(total, unit="epoch", desc="training", caller="fit(progress=True)"):
    """A tqdm bar over ``total`` units (tqdm.auto: a widget in a notebook); the one place the
    package imports tqdm."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError(f'{caller} needs tqdm: pip install "nbbackprop[progress]"'
                          ) from None
    return tqdm(total=total, unit=unit, desc=desc, dynamic_ncols=True)


def input_scale_warning(X):
    """A warning when the inputs are far from unit scale, else None."""
    largest = max(float(X.max()), -float(X.min()))  # no temporary as large as X
    if largest > LARGE_INPUT:
        size = f"as large as {largest:.3g}"
    elif 0 < largest < SMALL_INPUT:
        size = f"all smaller than {SMALL_INPUT:g} (the largest |x| is {largest:.3g})"
    else:
        return None
    return (f"the inputs are far from unit scale ({size}): sigmoid and tanh units saturate "
            f"or barely move; scale X to values of order 1 (e.g. divide by its largest |x| "
            f"or standardise each column)")


def warnings(net, X, errors, target_size):
    """The warnings for a call of fit that trained ``net`` on X with these ``errors``."""
    found = (input_scale_warning(X), saturation_warning(net, X, errors, target_size))
    return [warning for warning in found if warning]


def saturation_warning(net, X, errors, target_size):
    """A warning when (nearly) every output is saturated and the error has stopped
    changing (the rule above), else None. ``errors``: the call's errors so far."""
    bounds = BOUNDS.get(net.activations[-1])
    if bounds is None or len(errors) < STUCK_EPOCHS:
        return None
    last = errors[-STUCK_EPOCHS:]
    if (np.max(np.abs(last - last[-1])) > STUCK_CHANGE * last[-1]
            or last[-1] <= STUCK_ERROR * target_size):
        return None
    Y = np.empty((min(len(X), SATURATION_SAMPLES), net.sizes[-1]))
    fast.forward_all(net.parameters, net.layout, X[: len(Y)], Y)
    low, high = bounds
    saturated = np.mean((Y <= low + SATURATION_MARGIN) | (Y >= high - SATURATION_MARGIN))
    if saturated < SATURATED_FRACTION:
        return None
    return (f"{saturated:.0%} of the outputs are saturated (within {SATURATION_MARGIN:g} of "
            f"{low:g} or {high:g}) and the error has stayed at {last[-1]:.6g} for "
            f"{STUCK_EPOCHS} epochs: training is stuck. Likely causes: eta too large (the "
            f"first steps drove the weights far out), or inputs not scaled to values of "
            f"order 1")


class Validation:
    """The validation set's error (and accuracy, for a classifier) after every epoch, and
    early stopping: after ``patience`` epochs without a validation error strictly below
    the best of the call, the training state of the best epoch is what ``restore`` puts back."""

    def __init__(self, net, X, T, patience, error_of, labels_of, state):
        self.X, self.T, self.patience = X, T, patience
        self.error_of = error_of  # (θ, layout, X, T) -> C, as net.error computes it
        self.labels_of = labels_of  # rows of outputs or targets -> class labels
        self.classifier = is_classifier(net)
        self.labels = labels_of(T) if self.classifier else None
        self.errors, self.accuracy = [], []
        self.best, self.best_done = np.inf, 0  # best error, and the call's epochs at it
        # The best epoch's training state (the call's start until an epoch has a finite
        # validation error).
        self.saved = tuple(a.copy() for a in state) if patience is not None else None

    def measure(self, net, done, state):
        """Measure after the call's epoch ``done``; True when early stopping is due."""
        error = float(self.error_of(net.parameters, net.layout, self.X, self.T))
        self.errors.append(error)
        if self.classifier:  # as net.accuracy, without checking the arrays again
            Y = np.empty((len(self.X), net.sizes[-1]))
            fast.forward_all(net.parameters, net.layout, self.X, Y)
            self.accuracy.append(float(np.mean(self.labels_of(Y) == self.labels)))
        if error < self.best:
            self.best, self.best_done = error, done
            if self.patience is not None:  # only early stopping ever goes back to it
                training.copy_state(self.saved, state)
        return self.patience is not None and done - self.best_done >= self.patience

    def restore(self, state):
        """Put the best epoch's θ, velocity, order and shuffle generator back into ``state``."""
        training.copy_state(state, self.saved)

    def latest(self):
        return (self.errors[-1] if self.errors else None,
                self.accuracy[-1] if self.accuracy else None)


class Watch:
    """Everything fit does between compiled calls for progress, callback and validation
    (fit makes none when nothing is watched, so its plain path stays as it was)."""

    def __init__(self, net, n, epochs, first, *, progress, callback, callback_every,
                 validation):
        self.net, self.n, self.first = net, n, first
        self.callback, self.every, self.validation = callback, callback_every, validation
        self.bar = progress_bar(epochs) if progress else None
        self.started = self.shown = time.perf_counter()
        self.reported = 0  # epochs of the call handed to the callback and validation

    def limit(self, done, budget):
        """How many epochs of the call the next compiled call may complete, or None for
        no limit: it returns at that epoch boundary (the epochs driver pauses when ``errors``
        is full), where validation and the callback can see a completed epoch."""
        if self.validation is not None or self.every == 1:
            return done + 1
        if self.every is not None:  # the next epoch whose network number is a multiple
            return done + self.every - (self.first + done) % self.every
        if self.callback is not None:  # about a chunk's worth of whole epochs
            return done + max(1, budget // (2 * self.n))
        return None

    def after_call(self, done, errors, at_boundary, state):
        """After a compiled call: "early_stopping" (``state`` is back at the best epoch),
        "callback" or None (go on)."""
        stop = None
        if at_boundary and done > self.reported:
            self.reported = done
            if self.validation is not None and self.validation.measure(self.net, done, state):
                self.validation.restore(state)
                stop = "early_stopping"
            elif self.callback is not None and (self.every is None
                                                or (self.first + done) % self.every == 0):
                answer = self.callback(self.info(done, errors))
                if answer is False or (isinstance(answer, np.bool_) and not answer):
                    stop = "callback"
        now = time.perf_counter()
        if self.bar is not None and (now - self.shown >= EVERY_SECONDS or stop):
            self.shown = now
            self.show(done, errors)
        return stop

    def info(self, done, errors):
        validation_error, accuracy = (self.validation.latest() if self.validation
                                      else (None, None))
        return EpochInfo(self.first + done, float(errors[done - 1]), validation_error,
                         accuracy, self.net, time.perf_counter() - self.started)

    def show(self, done, errors):
        if done:
            parts = [f"error={errors[done - 1]:.4g}"]
            if self.validation is not None:
                validation_error, accuracy = self.validation.latest()
                if validation_error is not None:
                    parts.append(f"val_error={validation_error:.4g}")
                if accuracy is not None:
                    parts.append(f"val_acc={accuracy:.2%}")
            seconds = max(time.perf_counter() - self.started, 1e-9)
            parts.append(f"{done * self.n / seconds:.3g} samples/s")
            self.bar.set_postfix_str(", ".join(parts), refresh=False)
        self.bar.n = done  # the epochs done (update() would draw before the new postfix)
        self.bar.refresh()

    def close(self, done=None, errors=None):
        if self.bar is not None:
            if done is not None:
                self.show(done, errors)
            self.bar.close()
            self.bar = None
