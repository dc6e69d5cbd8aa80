"""Many independent training runs of one architecture in one compiled call.

A restart of XOR is a few thousand 4-sample epochs. ``train_many`` trains a whole batch
of networks that share a ``Layout`` and the data, each with its own parameters, sample
order, shuffle stream, velocity and stopping, in one compiled call; row r of every
per-run array is run r's state. Two drivers:

- ``train_small_runs`` (small data: every data set whose error pass ``fit`` keeps on one
  thread): the epoch of ``training.train_epochs``, written for networks of a few neurons.
  For them the cost of a step is the kernels' calls, the reference counting of their
  arrays, and the latency of each sum: a chain of dependent additions over layers too
  narrow to keep the processor busy. Here every formula is a loop over flat buffers,
  indexed through the ``Layout`` offsets, in one compiled function whose arrays are all
  ``layout.untracked``, and LANES runs train side by side (``lockstep_epoch``), sample by
  sample, so that their independent chains overlap.
  The arithmetic of each run is the reference kernels', operation for operation and in
  the same order (``formulas.forward_layer``, ``loss_delta``, ``hidden_delta``,
  ``descend_layer`` and ``descend``; the epoch's error summed in sample order), so the
  numbers are the same bits whatever runs share its group.
- ``train_runs`` (large data): ``training.train_epochs`` once per run, with an unlimited
  budget, returning to Python when the error pass wants the threads.

Either way the result of run r is, bit for bit, what

    net = Network(sizes, ..., seed=s_r)
    net.fit(X, T, epochs, eta, ..., seed=s_r, target_error=..., on_divergence="stop")

leaves in ``net`` and its ``History`` (tests/test_experiments.py proves it).
"""

import dataclasses
import math

import numpy as np

from . import fast
from ._jit import jit
from .activations import CROSS_ENTROPY, SOFTMAX, f, fprime
from .formulas import softplus
from .layout import untracked
from .training import (
    DIVERGED,
    EPOCHS_DONE,
    ERRORS_WANTED,
    EXPLOSION_FACTOR,
    FILLED,
    RAN_ALL_EPOCHS,
    REACHED_TARGET,
    copy_state,
    shuffle,
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


# --- small networks: every formula on the flat buffers, LANES runs in lockstep -----------
# Lane a of a group holds one run. Layer l's w_ij of lane a is theta[w_off[l] + i·n_j + j, a]
# and its b_j theta[w_off[l] + n_i·n_j + j, a]; neuron j of neuron layer l is
# z[n_off[l] + j, a] (likewise y, δ); layer 0 holds the inputs. The lanes are the inner
# loop of every formula: each lane's numbers go through the same operations in the same
# order as one run alone would, and the lanes' independent chains of additions fill the
# processor's pipeline (one run's chain of dependent additions leaves it mostly idle).
# The lanes are not SIMD lanes: the compiler cannot prove the arrays apart, so it keeps
# every operation scalar, and the gain is the overlap alone. (With the lane count read
# at run time it vectorises behind run-time overlap checks: measured slower at 8 lanes,
# and at 32 no better per run on the encoder, with four times the runs per task. With the
# arrays declared distinct and NUMBA_SLP_VECTORIZE=1 it vectorises the lanes: slower too,
# the scalar exp calls breaking up the vectors. Each lane's z_j summed in a register,
# lanes outside: slower, one lane's chain waiting on itself again.)
# One function for the whole epoch, the formulas as sections of it: a helper per formula,
# even inlined, costs reference counting of its array arguments at every sample.

#: Runs trained side by side in one group. Measured per run and epoch on the 8-3-8
#: encoder and XOR 2-2-1: 16 lanes no faster than 8, 4 clearly slower; 8 leaves half as
#: many lanes idle at the end of a task as 16.
LANES = 8


@jit(inline="always")  # into train_small_runs: a call counts references to its arrays
def lockstep_epoch(theta, sizes, acts, w_off, n_off, loss, X, T, order, velocity, grad, z, y,
                   delta, eta, alpha, batch_size, train_biases, weight_decay, C):
    """One epoch of ``training.train_epochs`` for every lane a of a group (a small data
    set): the steps on the samples in ``order[a]``, then C[a] = (1/n) Σ_x E_x.

    Passes q = 0 … n − 1 train each lane on its sample order[a, q]: the forward pass, the
    deltas and (online: batch_size 1, no momentum) the step, or (else) the gradient added
    to ``grad`` and the step at the batch's end. Passes q = n … 2n − 1 measure E of sample
    q − n, in sample order. Every formula is the reference kernel's, in its order of
    operations, for each lane. θ, velocity and grad are parameter × lane, z, y and δ
    neuron × lane, order lane × sample; C has one entry per lane.
    """
    theta, sizes, acts, w_off, n_off = (untracked(theta), untracked(sizes), untracked(acts),
                                        untracked(w_off), untracked(n_off))
    X, T, order, velocity, grad = (untracked(X), untracked(T), untracked(order),
                                   untracked(velocity), untracked(grad))
    z, y, delta, C = untracked(z), untracked(y), untracked(delta), untracked(C)
    n, L, G = X.shape[0], sizes.shape[0] - 1, LANES
    online = batch_size == 1 and alpha == 0.0
    out, n_out, out_code = n_off[L], sizes[L], acts[L - 1]
    for a in range(G):
        C[a] = 0.0
    for q in range(2 * n):
        training = q < n
        if training and not online and q % batch_size == 0:
            grad[:, :] = 0.0
        for i in range(X.shape[1]):
            for a in range(G):
                y[i, a] = X[order[a, q] if training else q - n, i]
        # forward (formulas.forward_layer):  z_j = Σ_i w_ij y_i + b_j  (from 0, i in order,
        # then b_j),  y_j = f(z_j), or the softmax exp(z_k − max z) / Σ_m exp(z_m − max z)
        for l in range(L):
            n_i, n_j, w, below, at = sizes[l], sizes[l + 1], w_off[l], n_off[l], n_off[l + 1]
            code = acts[l]
            for j in range(n_j):
                for a in range(G):
                    z[at + j, a] = 0.0
                for i in range(n_i):
                    for a in range(G):
                        z[at + j, a] += theta[w + i * n_j + j, a] * y[below + i, a]
                for a in range(G):
                    z[at + j, a] += theta[w + n_i * n_j + j, a]
                for a in range(G):
                    y[at + j, a] = f(code, z[at + j, a])
            if code == SOFTMAX:
                for a in range(G):
                    top = z[at, a]
                    for m in range(1, n_j):
                        top = max(top, z[at + m, a])
                    total = 0.0
                    for m in range(n_j):
                        y[at + m, a] = math.exp(z[at + m, a] - top)
                        total += y[at + m, a]
                    for k in range(n_j):
                        y[at + k, a] /= total
        if not training:
            # E (formulas.loss_error): ½ Σ_k (t_k − y_k)², or the cross-entropy from z
            # (softmax_cross_entropy, sigmoid_cross_entropy); C sums them in sample order
            s = q - n
            for a in range(G):
                e = 0.0
                if loss == CROSS_ENTROPY and out_code == SOFTMAX:
                    top = z[out, a]
                    for m in range(1, n_out):
                        top = max(top, z[out + m, a])
                    total = 0.0
                    for m in range(n_out):
                        total += math.exp(z[out + m, a] - top)
                    lse = top + math.log(total)
                    for k in range(n_out):
                        e += T[s, k] * (lse - z[out + k, a])
                elif loss == CROSS_ENTROPY:
                    for k in range(n_out):
                        e += (T[s, k] * softplus(-z[out + k, a])
                              + (1.0 - T[s, k]) * softplus(z[out + k, a]))
                else:
                    for k in range(n_out):
                        e += (T[s, k] - y[out + k, a]) ** 2
                    e = 0.5 * e
                C[a] += e
            continue
        # output delta (formulas.loss_delta): y_k − t_k for the cross-entropy; through the
        # softmax Jacobian y_k [(y_k − t_k) − Σ_m (y_m − t_m) y_m]; else (y_k − t_k) f'(z_k)
        if loss == CROSS_ENTROPY:
            for k in range(n_out):
                for a in range(G):
                    delta[out + k, a] = y[out + k, a] - T[order[a, q], k]
        elif out_code == SOFTMAX:
            for a in range(G):
                s = order[a, q]
                total = 0.0
                for m in range(n_out):
                    total += (y[out + m, a] - T[s, m]) * y[out + m, a]
                for k in range(n_out):
                    delta[out + k, a] = y[out + k, a] * ((y[out + k, a] - T[s, k]) - total)
        else:
            for k in range(n_out):
                for a in range(G):
                    delta[out + k, a] = (y[out + k, a] - T[order[a, q], k]) * fprime(
                        out_code, z[out + k, a], y[out + k, a])
        # hidden deltas (formulas.hidden_delta):  δ_j = f'(z_j) Σ_k δ_k w_jk, with the
        # weights before this step
        for l in range(L - 1, 0, -1):
            n_j, n_k, w = sizes[l], sizes[l + 1], w_off[l]
            at, above, code = n_off[l], n_off[l + 1], acts[l - 1]
            for j in range(n_j):
                for a in range(G):
                    delta[at + j, a] = 0.0
                for k in range(n_k):
                    for a in range(G):
                        delta[at + j, a] += delta[above + k, a] * theta[w + j * n_k + k, a]
                for a in range(G):
                    delta[at + j, a] = fprime(code, z[at + j, a], y[at + j, a]) * delta[at + j, a]
        for l in range(L):
            n_i, n_j, w, below, at = sizes[l], sizes[l + 1], w_off[l], n_off[l], n_off[l + 1]
            if online:
                # the online step (formulas.descend_layer):  Δw_ij = −η (δ_j y_i + λ w_ij),
                # Δb_j = −η δ_j; for λ = 0 fast.online_steps' −η (δ_j y_i)
                for i in range(n_i):
                    for j in range(n_j):
                        p = w + i * n_j + j
                        if weight_decay == 0.0:
                            for a in range(G):
                                theta[p, a] -= eta * (delta[at + j, a] * y[below + i, a])
                        else:
                            for a in range(G):
                                theta[p, a] -= eta * (delta[at + j, a] * y[below + i, a]
                                                      + weight_decay * theta[p, a])
                if train_biases:
                    for j in range(n_j):
                        for a in range(G):
                            theta[w + n_i * n_j + j, a] -= eta * delta[at + j, a]
            else:
                # the batch's gradient (formulas.accumulate_gradient):  ∂E/∂w_ij += δ_j y_i,
                # ∂E/∂b_j += δ_j
                for i in range(n_i):
                    for j in range(n_j):
                        for a in range(G):
                            grad[w + i * n_j + j, a] += delta[at + j, a] * y[below + i, a]
                for j in range(n_j):
                    for a in range(G):
                        grad[w + n_i * n_j + j, a] += delta[at + j, a]
        if online or (q + 1) % batch_size != 0 and q + 1 != n:
            continue
        # the batch's step (formulas.descend): g = (1/m) Σ_x ∂E_x/∂θ (+ λ w_ij for the
        # weights); θ ← θ − η g, or with momentum v ← α v − η g, θ ← θ + v
        m = q % batch_size + 1
        one_over_m, exact = 1.0 / m, m & (m - 1) == 0
        for l in range(L):
            start = w_off[l]
            weights_end = start + sizes[l] * sizes[l + 1]
            for p in range(start, weights_end + sizes[l + 1] if train_biases else weights_end):
                for a in range(G):
                    g = grad[p, a] * one_over_m if exact else grad[p, a] / m
                    if p < weights_end:
                        g = g + weight_decay * theta[p, a]
                    if alpha == 0.0:
                        theta[p, a] -= eta * g
                    else:
                        velocity[p, a] = alpha * velocity[p, a] - eta * g
                        theta[p, a] += velocity[p, a]
    for a in range(G):
        C[a] = C[a] / n


@jit(inline="always")
def lane_views(state, a):
    """Lane a of the group state (θ, velocity: parameter × lane; order, generator: lane ×
    entry) as the four 1-D views ``training.copy_state`` copies."""
    return state[0][:, a], state[1][:, a], state[2][a], state[3][a]


@jit(inline="always")
def row_views(runs, r):
    """Run r's rows of ``runs`` (θ, velocity, order, generator) as four 1-D views."""
    return runs[0][r], runs[1][r], runs[2][r], runs[3][r]


@jit(inline="always")
def lane_finite(theta, a):
    """``training.all_finite`` for lane a's parameters."""
    for p in range(theta.shape[0]):
        if not math.isfinite(theta[p, a]):
            return False
    return True


@jit(inline="always")
def save_lanes(before, state, alpha, do_shuffle):
    """Every lane's state at an epoch's start into ``before`` (``training.copy_state``),
    whole arrays at once; the velocity only when momentum changes it, the order and the
    generator only when the shuffle does."""
    theta, velocity, order, rng = state
    for p in range(theta.shape[0]):
        for a in range(theta.shape[1]):
            before[0][p, a] = theta[p, a]
            if alpha != 0.0:
                before[1][p, a] = velocity[p, a]
    if do_shuffle:
        for a in range(order.shape[0]):
            for s in range(order.shape[1]):
                before[2][a, s] = order[a, s]
            before[3][a, 0] = rng[a, 0]


@jit(inline="always")
def restore_lane(state, a, before, alpha, do_shuffle):
    """Lane a's state back from ``save_lanes``' copy: its diverged epoch undone."""
    theta, velocity, order, rng = state
    for p in range(theta.shape[0]):
        theta[p, a] = before[0][p, a]
        if alpha != 0.0:
            velocity[p, a] = before[1][p, a]
    if do_shuffle:
        for s in range(order.shape[1]):
            order[a, s] = before[2][a, s]
        rng[a, 0] = before[3][a, 0]


def lane_buffers(layout, P, n):
    """The work arrays of ``train_small_runs``: z, y, δ (neuron × lane), the gradient
    (parameter × lane), the lanes' state and its copy (θ, velocity: parameter × lane;
    order: lane × sample; generator), C per lane. Made here, outside compiled code, so
    that they outlive the call that takes them ``untracked``."""
    size, G = int(layout.n_off[-1] + layout.sizes[-1]), LANES

    def state():
        return (np.zeros((P, G)), np.zeros((P, G)), np.zeros((G, n), np.int64),
                np.zeros((G, 1), np.uint64))

    return (np.zeros((size, G)), np.zeros((size, G)), np.zeros((size, G)), np.zeros((P, G)),
            state(), state(), np.zeros(G))


@jit
def train_small_runs(
    thetas, layout, X, T, orders, rngs, do_shuffle, epochs, eta, alpha, velocities,
    batch_size, train_biases, weight_decay, target_error, error_scale, errors, done, reasons,
    buffers,
):  # fmt: skip
    """Train every run r (``thetas[r]``, ``orders[r]``, ``rngs[r]``, ``velocities[r]``) for
    up to ``epochs`` epochs as ``training.train_epochs`` does: an epoch shuffles the order
    (if asked), takes the steps and measures C = (1/n) Σ_x E_x into ``errors[r, e]``
    (``lockstep_epoch``); a diverged epoch (C not finite, C > EXPLOSION_FACTOR · max(best C,
    error_scale), or a parameter not finite) is undone. ``done[r]``: epochs completed;
    ``reasons[r]``: RAN_ALL_EPOCHS, REACHED_TARGET or DIVERGED.

    The runs go through LANES lanes: a run enters a free lane, trains there epoch by epoch
    beside the others, and leaves it when it stops; the next run takes its place. A lane
    with no run left to take copies a running lane (its numbers are not kept), so that
    every lane computes on ordinary values. ``buffers``: ``lane_buffers``. Every array is
    ``untracked`` first (as in ``fast.online_steps``): a lane's row, or an array passed to
    a kernel, would otherwise be counted at every epoch.
    """
    sizes, acts, w_off, n_off, loss = layout  # once: each access of a field costs
    thetas, X, T, orders, rngs = (untracked(thetas), untracked(X), untracked(T),
                                  untracked(orders), untracked(rngs))
    velocities, errors, done, reasons = (untracked(velocities), untracked(errors),
                                         untracked(done), untracked(reasons))
    z, y, delta, grad = (untracked(buffers[0]), untracked(buffers[1]), untracked(buffers[2]),
                         untracked(buffers[3]))
    state = (untracked(buffers[4][0]), untracked(buffers[4][1]), untracked(buffers[4][2]),
             untracked(buffers[4][3]))
    before = (untracked(buffers[5][0]), untracked(buffers[5][1]), untracked(buffers[5][2]),
              untracked(buffers[5][3]))
    C = untracked(buffers[6])
    R, G = thetas.shape[0], LANES
    runs = (thetas, velocities, orders, rngs)
    run_of = np.full(G, -1)  # the run in each lane, −1: none
    best = np.full(G, np.inf)
    for r in range(R):
        reasons[r], done[r] = RAN_ALL_EPOCHS, 0
    waiting = 0 if epochs > 0 else R  # the next run to enter a lane
    while True:
        for a in range(G):
            if run_of[a] < 0 and waiting < R:
                run_of[a], best[a] = waiting, np.inf
                copy_state(lane_views(state, a), row_views(runs, waiting))
                waiting += 1
        running = -1
        for a in range(G):
            if run_of[a] >= 0:
                running = a
        if running < 0:
            return
        for a in range(G):
            if run_of[a] < 0:
                copy_state(lane_views(state, a), lane_views(state, running))
        save_lanes(before, state, alpha, do_shuffle)
        if do_shuffle:
            for a in range(G):
                shuffle(state[2][a], state[3][a])
        lockstep_epoch(state[0], sizes, acts, w_off, n_off, loss, X, T, state[2], state[1],
                       grad, z, y, delta, eta, alpha, batch_size, train_biases, weight_decay, C)
        for a in range(G):
            r = run_of[a]
            if r < 0:
                continue
            e, error = done[r], C[a]
            errors[r, e] = error
            stop = True
            if not (math.isfinite(error) and error <= EXPLOSION_FACTOR * max(best[a], error_scale)
                    and lane_finite(state[0], a)):
                restore_lane(state, a, before, alpha, do_shuffle)
                reasons[r] = DIVERGED
            else:
                done[r] = e + 1
                best[a] = min(best[a], error)
                if error <= target_error:
                    reasons[r] = REACHED_TARGET
                else:
                    stop = done[r] == epochs
            if stop:
                copy_state(row_views(runs, r), lane_views(state, a))
                run_of[a] = -1


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
    target = -1.0 if target_error is None else target_error
    if not fast.wants_threads(layout, n):
        done = np.zeros(R, dtype=np.int64)  # contiguous: untracked in compiled code
        train_small_runs(thetas, layout, X, T, orders, rngs, shuffle, epochs, eta, momentum,
                         velocities, batch_size, train_biases, weight_decay, target,
                         error_scale, errors, done, reasons,
                         lane_buffers(layout, thetas.shape[1], n))
        ats[:, EPOCHS_DONE] = done
        first = R
    else:
        first = 0
    while first < R:
        first = train_runs(thetas, layout, X, T, orders, rngs, shuffle, epochs,
                           np.array([eta]), momentum, velocities, batch_size, train_biases,
                           weight_decay, target, error_scale, errors, before, ats, sums,
                           reasons, E, first)
        if first < R:  # ERRORS_WANTED: this run's error pass, on the threads
            fast.sample_errors_on_threads(thetas[first], layout, X, T, E)
            ats[first, FILLED] = n
    return Runs(thetas, errors, ats[:, EPOCHS_DONE].copy(),
                [STOP_REASONS.get(int(r), "epochs") for r in reasons])
