"""Many independent training runs of one architecture in one compiled call.

A restart of XOR is a few thousand 4-sample epochs; building a ``Network``, validating
and entering compiled code for each of a thousand restarts is pure overhead. ``train_runs``
trains a whole batch of networks that share a ``Layout`` and the data, each with its own
parameters, sample order, shuffle stream, velocity and stopping, by calling the epoch
driver ``training.train_epochs`` once per run with an unlimited budget. Row r of every
per-run array is run r's state, so the result of run r is, bit for bit, what

    net = Network(sizes, ..., seed=s_r)
    net.fit(X, T, epochs, eta, ..., seed=s_r, target_error=..., on_divergence="stop")

leaves in ``net`` and its ``History`` (tests/test_runs.py proves it).
"""

import dataclasses

import numpy as np

from . import fast
from ._jit import jit
from .training import (
    DIVERGED,
    EPOCHS_DONE,
    ERRORS_WANTED,
    FILLED,
    REACHED_TARGET,
    train_epochs,
)

# train_epochs pauses after this many samples; larger than any run can take.
_UNLIMITED = 2**62
# Network.fit's stop reasons, by train_epochs' return codes.
STOP_REASONS = {REACHED_TARGET: "target_error", DIVERGED: "diverged"}


@jit
def train_runs(
    thetas, layout, X, T, orders, rngs, do_shuffle, epochs, etas, alpha, velocities,
    batch_size, train_biases, weight_decay, target_error, error_scale, errors, before, ats,
    sums, reasons, E, first,
):  # fmt: skip
    """``train_epochs`` for the runs r = first, first + 1, …: run r trains ``thetas[r]``
    with its own ``orders[r]``, ``rngs[r]``, ``velocities[r]``, ``errors[r]``, ``ats[r]``
    and ``sums[r]``, and its reason to stop goes to ``reasons[r]``.

    Returns the number of runs finished. When a run's error pass asks for the threads
    (ERRORS_WANTED, large data sets only) it returns that run's index with its state kept
    (``before`` holds the state from the start of its epoch): the caller fills E and sets
    ``ats[r, FILLED]``, then calls again from r.
    """
    for r in range(first, thetas.shape[0]):
        reason = train_epochs(
            thetas[r], layout, X, T, orders[r], rngs[r], do_shuffle, epochs, etas, alpha,
            velocities[r], batch_size, train_biases, weight_decay, target_error, error_scale,
            errors[r], before, ats[r], sums[r], E, _UNLIMITED,
        )  # fmt: skip
        if reason == ERRORS_WANTED:
            return r
        reasons[r] = reason
    return thetas.shape[0]


@dataclasses.dataclass
class Runs:
    """What ``train_many`` did: run r's final parameters ``thetas[r]`` (laid out as
    ``Network.parameters``), its errors ``errors[r, :epochs[r]]`` (``History.errors``), its
    epoch count ``epochs[r]`` and its ``stop_reasons[r]`` (as ``History.stop_reason``)."""

    thetas: np.ndarray
    errors: np.ndarray
    epochs: np.ndarray
    stop_reasons: list


def train_many(layout, X, T, initial, seeds, *, epochs, eta, batch_size=1, momentum=0.0,
               shuffle=True, train_biases=True, weight_decay=0.0, target_error=None):
    """Train the runs whose initial parameters are the rows of ``initial`` (R × P), run r's
    shuffle stream seeded with ``seeds[r]`` as ``fit(seed=seeds[r])`` seeds it. The
    arguments are those of ``Network.fit``, already checked (``eta`` a float); X and T are
    checked float64 arrays. Divergence stops a run (``on_divergence="stop"``)."""
    R, n = initial.shape[0], X.shape[0]
    thetas = np.array(initial, dtype=np.float64, order="C", copy=True)
    velocities = np.zeros_like(thetas)
    orders = np.tile(np.arange(n, dtype=np.int64), (R, 1))
    rngs = np.array([np.random.SeedSequence(int(s)).generate_state(1, dtype=np.uint64)
                     for s in seeds], dtype=np.uint64).reshape(R, 1)
    before = (np.empty(thetas.shape[1]), np.empty(thetas.shape[1]), np.empty(n, np.int64),
              np.empty(1, np.uint64))
    errors = np.empty((R, epochs))
    ats = np.zeros((R, 4), dtype=np.int64)
    sums = np.tile(np.array([0.0, np.inf]), (R, 1))
    reasons = np.zeros(R, dtype=np.int64)
    E = np.empty(n)
    with np.errstate(over="ignore"):
        error_scale = 0.5 * float(np.sum(T * T)) / n  # (1/n) Σ_x ½ Σ_k t_k², as fit has it
    first = 0
    while first < R:
        first = train_runs(thetas, layout, X, T, orders, rngs, shuffle, epochs,
                           np.array([eta]), momentum, velocities, batch_size, train_biases,
                           weight_decay, -1.0 if target_error is None else target_error,
                           error_scale, errors, before, ats, sums, reasons, E, first)
        if first < R:  # ERRORS_WANTED: this run's error pass, on the threads
            fast.sample_errors_on_threads(thetas[first], layout, X, T, E)
            ats[first, FILLED] = n
    return Runs(thetas, errors, ats[:, EPOCHS_DONE].copy(),
                [STOP_REASONS.get(int(r), "epochs") for r in reasons])
