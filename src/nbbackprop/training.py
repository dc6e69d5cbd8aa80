"""Training: the compiled epoch driver, the state it carries between calls, the shuffle.

``train_epochs`` runs whole epochs in compiled code and pauses after a budget of samples,
so that ``Network.fit`` returns to Python about every 0.2 s (to see Ctrl-C) without
changing any result: all state that carries over lives in the caller's arrays.
``train_online_epochs`` is the same for online SGD without momentum, with only the
online steps compiled in (``epochs_driver`` picks one), so a first online fit compiles
no mini-batch code.
"""

import math

import numpy as np

from ._jit import jit
from .fast import BLOCK, batch_steps, online_steps, sample_errors, wants_threads
from .layout import neuron_buffer, untracked, untracked_layout

# What train_epochs reports as its reason to return; ERRORS_WANTED: the caller is to fill
# E with every sample's error on the threads (fast.sample_errors_on_threads, which no
# compiled code may call) and set at[FILLED] = n.
RAN_ALL_EPOCHS, REACHED_TARGET, DIVERGED, PAUSED, ERRORS_WANTED = 0, 1, 2, 3, 4
# Where a run of training stands, in the caller's int64 array ``at``: epochs completed,
# samples of the current epoch trained on, samples of its error C summed, samples whose
# E_x the caller filled in.
EPOCHS_DONE, TRAINED, MEASURED, FILLED = 0, 1, 2, 3
# The caller's float64 array ``sums``: the partial sum Σ_x E_x of the current epoch's C,
# and the smallest C of a completed epoch so far (inf before the first).
ERROR_SUM, BEST_ERROR = 0, 1
# An epoch's C "explodes" when it exceeds this factor times the larger of the best C so
# far and the targets' own size (1/n) Σ_x ½ Σ_k t_k²: outputs ~1000 times too large.
EXPLOSION_FACTOR = 1e6


@jit
def next_random(state):
    """SplitMix64: the next 64-bit pseudo-random integer from state[0] (advanced in place).

    Our own generator, so a shuffle depends only on the seed: not on thread count,
    Numba's global random state, or how epochs are split between compiled calls.
    """
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    r = state[0]
    r = (r ^ (r >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    r = (r ^ (r >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return r ^ (r >> np.uint64(31))


@jit
def shuffle(order, state):
    """Fisher–Yates shuffle of ``order`` in place."""
    for s in range(order.shape[0] - 1, 0, -1):
        r = np.int64(next_random(state) % np.uint64(s + 1))
        order[s], order[r] = order[r], order[s]


@jit(inline="always")
def all_finite(a):
    """True if no entry of the 1-D array a is NaN or ±Inf (a read-only scan, no temporary)."""
    for p in range(a.shape[0]):
        if not math.isfinite(a[p]):
            return False
    return True


@jit
def sgd_steps(theta, layout, X, T, order, start, stop, eta, alpha, velocity, batch_size,
              train_biases, weight_decay, work):
    """SGD on the samples ``order[start:stop]`` (start on a batch boundary): online
    (``online_steps``) for batch_size 1 without momentum, else ``batch_steps``.

    A function of its own, not inlined into ``train_epochs``: measured, the online steps
    ran 25 % slower when LLVM compiled them as part of the epoch loop.
    """
    z, y, y_before, delta, grad, Z, Y, D, DT = work
    if batch_size == 1 and alpha == 0.0:
        online_steps(theta, layout, X, T, order, start, stop, eta, train_biases, weight_decay,
                     z, y, y_before, delta)
    else:
        batch_steps(theta, layout, X, T, order, start, stop, eta, alpha, velocity, batch_size,
                    train_biases, weight_decay, grad, Z, Y, D, DT)


@jit(inline="always")
def copy_into(target, source):
    """target[p] = source[p] for every p, two arrays of one shape. (A loop: ``target[:] =
    source`` compiles a shape check whose error message alone took 1.5 s to compile.)"""
    for p in range(target.shape[0]):
        target[p] = source[p]


@jit(inline="always")
def copy_state(targets, sources):
    """Copy a training state, (θ, the velocity, the order, the generator), from one tuple of
    arrays into the other: into ``before`` at an epoch's start, back from it to undo one."""
    copy_into(targets[0], sources[0])
    copy_into(targets[1], sources[1])
    copy_into(targets[2], sources[2])
    copy_into(targets[3], sources[3])


# What between_steps asks of the driver: SGD steps on the samples order[at[TRAINED]:stop].
TRAIN = -1


@jit(inline="always")  # into the drivers: as a call, a tenth of a 2-2-1 epoch
def between_steps(
    theta, layout, X, T, order, rng_state, do_shuffle, epochs, velocity, target_error,
    error_scale, errors, before, at, sums, E, budget, Z, Y,
):  # fmt: skip
    """All of ``train_epochs`` but the SGD steps: returns (TRAIN, budget) when the current
    epoch has samples left to train on, else why the driver is to return (and the budget).
    Its arrays ``untracked``, as in ``online_steps``."""
    theta, layout, X, T, order, rng_state = (untracked(theta), untracked_layout(layout),
                                             untracked(X), untracked(T), untracked(order),
                                             untracked(rng_state))
    velocity, errors, at, sums, E, Z, Y = (untracked(velocity), untracked(errors), untracked(at),
                                           untracked(sums), untracked(E), untracked(Z),
                                           untracked(Y))
    before = (untracked(before[0]), untracked(before[1]), untracked(before[2]),
              untracked(before[3]))
    n = X.shape[0]
    while True:
        e = at[EPOCHS_DONE]
        if e == epochs:
            return RAN_ALL_EPOCHS, budget
        if budget <= 0 or e == errors.shape[0]:
            return PAUSED, budget
        if at[TRAINED] == 0 and at[MEASURED] == 0:  # a new epoch begins
            copy_state(before, (theta, velocity, order, rng_state))
            if do_shuffle:
                shuffle(order, rng_state)
        if at[TRAINED] < n:
            return TRAIN, budget
        start = at[MEASURED]  # C after the epoch, summed in sample order as mean_error does
        if start == 0 and at[FILLED] == 0 and wants_threads(layout, n):
            return ERRORS_WANTED, budget
        stop = min(n, start + budget)
        if at[FILLED] < stop:
            sample_errors(theta, layout, X, T, start, stop, E, Z, Y)
        for s in range(start, stop):
            sums[ERROR_SUM] += E[s]
        at[MEASURED] = stop
        budget -= stop - start
        if stop < n:
            continue
        error = sums[ERROR_SUM] / n
        errors[e] = error
        at[TRAINED] = 0
        at[MEASURED] = 0
        at[FILLED] = 0
        sums[ERROR_SUM] = 0.0
        limit = EXPLOSION_FACTOR * max(sums[BEST_ERROR], error_scale)
        if not (math.isfinite(error) and error <= limit and all_finite(theta)):
            copy_state((theta, velocity, order, rng_state), before)
            return DIVERGED, budget
        at[EPOCHS_DONE] = e + 1
        sums[BEST_ERROR] = min(sums[BEST_ERROR], error)
        if error <= target_error:
            return REACHED_TARGET, budget


@jit
def train_epochs(
    theta, layout, X, T, order, rng_state, do_shuffle, epochs, etas, alpha, velocity,
    batch_size, train_biases, weight_decay, target_error, error_scale, errors, before, at,
    sums, E, budget,
):  # fmt: skip
    """Train until ``epochs`` epochs are done, or pause after about ``budget`` samples.

    An epoch e: shuffle ``order`` (if asked), train on all n samples with η = etas[e] (or
    etas[0] when etas holds one value) and weight decay λ (``sgd_steps``), then measure
    C = (1/n) Σ_x E_x into ``errors[e]`` (the E_x, in ``E``, added in sample order, as
    ``mean_error`` adds them; for a large data set the caller computes them on the
    threads when asked by ERRORS_WANTED). Either half may be split between calls: ``at``
    and ``sums`` say where the epoch stands, and ``before`` (θ, velocity, order,
    generator: ``copy_state``) holds the state from its start, so the caller can always
    go back to the last completed epoch. All state that carries over (order, rng_state,
    velocity, at, sums, E) lives in the caller's arrays, so pausing and resuming changes
    nothing.

    Returns why it stopped: all epochs ran; C ≤ target_error; or the epoch diverged —
    C not finite, C > EXPLOSION_FACTOR · max(best C so far, error_scale), or a weight not
    finite (a ReLU or a saturated sigmoid can hide an infinite weight) — in which case
    the state is restored to that from before the epoch and ``at`` still counts only
    the finite epochs; or PAUSED (budget used up, or ``errors`` full); or ERRORS_WANTED.
    (``between_steps`` does all of it but the steps.)
    """
    n = X.shape[0]
    z, y, y_before, delta = (neuron_buffer(layout), neuron_buffer(layout),
                             neuron_buffer(layout), neuron_buffer(layout))
    Z, Y, D, DT = (neuron_buffer(layout, BLOCK), neuron_buffer(layout, BLOCK),
                   neuron_buffer(layout, BLOCK), neuron_buffer(layout, BLOCK))
    grad = np.zeros_like(theta)
    while True:
        reason, budget = between_steps(theta, layout, X, T, order, rng_state, do_shuffle, epochs,
                                       velocity, target_error, error_scale, errors, before, at,
                                       sums, E, budget, Z, Y)
        if reason != TRAIN:
            return reason
        start = at[TRAINED]  # whole batches, at least one
        stop = min(n, start + -(-budget // batch_size) * batch_size)
        eta = etas[at[EPOCHS_DONE]] if etas.shape[0] > 1 else etas[0]
        sgd_steps(theta, layout, X, T, order, start, stop, eta, alpha, velocity, batch_size,
                  train_biases, weight_decay, (z, y, y_before, delta, grad, Z, Y, D, DT))
        at[TRAINED] = stop
        budget -= stop - start


@jit
def train_online_epochs(
    theta, layout, X, T, order, rng_state, do_shuffle, epochs, etas, alpha, velocity,
    batch_size, train_biases, weight_decay, target_error, error_scale, errors, before, at,
    sums, E, budget,
):  # fmt: skip
    """``train_epochs`` for batch_size 1 without momentum (α = 0), the same numbers: only
    ``online_steps`` is compiled in, so a first online fit compiles no mini-batch step."""
    z, y, y_before, delta = (neuron_buffer(layout), neuron_buffer(layout),
                             neuron_buffer(layout), neuron_buffer(layout))
    Z, Y = neuron_buffer(layout, BLOCK), neuron_buffer(layout, BLOCK)
    while True:
        reason, budget = between_steps(theta, layout, X, T, order, rng_state, do_shuffle, epochs,
                                       velocity, target_error, error_scale, errors, before, at,
                                       sums, E, budget, Z, Y)
        if reason != TRAIN:
            return reason
        start = at[TRAINED]
        stop = min(X.shape[0], start + budget)
        eta = etas[at[EPOCHS_DONE]] if etas.shape[0] > 1 else etas[0]
        online_steps(theta, layout, X, T, order, start, stop, eta, train_biases, weight_decay,
                     z, y, y_before, delta)
        at[TRAINED] = stop
        budget -= stop - start


def epochs_driver(batch_size, alpha):
    """The compiled driver for these settings: ``train_online_epochs`` for online SGD
    without momentum, else ``train_epochs``; both take ``train_epochs``' arguments."""
    return train_online_epochs if batch_size == 1 and alpha == 0.0 else train_epochs
