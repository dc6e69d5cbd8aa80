"""What each fast path buys: every fast kernel timed against the reference it replaces.

    python scripts/fast_paths.py [--threads N]   # under a minute; a Markdown table on stdout
    python scripts/fast_paths.py --smoke         # tiny sizes, one round: runs and checks only

For each case, both sides first run once on their own copies of the same inputs and must
give the same bits (else the script stops): the table lists true equivalents only. Then
they take turns, reference, fast path, fast path, reference and so on, for several rounds;
each timed run repeats the call in compiled code for about 0.03 s, on fresh copies of the
inputs placed at new offsets into a page (where w and z fall relative to each other moves
a sweep's time by up to a quarter on some CPUs, so the medians are taken over placements).
Reported: the median time per sample (whole passes) or per call (one layer's kernel) of
each side, and the gain, the reference's time ÷ the fast path's.

The references are ``formulas``' kernels, called sample after sample by small compiled
loops written here, and, for the four-row fused step, its plain one-row twin,
and for the register-tiled batch kernels, their untiled forms (below).
Numba runs on ``--threads`` threads (default 1: every comparison on one core).
docs/performance.md gives a run's table.
"""

import argparse
import functools
import os
import statistics
import sys
import time
from typing import NamedTuple

import numba
import numpy as np

import nbbackprop as nb
from machine import cpu_model  # scripts/machine.py
from nbbackprop import fast, formulas
from nbbackprop.activations import CODES, f, fprime
from nbbackprop.layout import biases_of, n_layers, neurons_of, split, weights_of


class Settings(NamedTuple):
    nets: list  # a small, an MNIST-sized and a deep network's layer sizes
    samples: int  # per online epoch (and the block of the batch cases, up to fast.BLOCK)
    error_samples: int  # of the error pass
    rounds: int  # timed runs per side
    target: float  # seconds per timed run


FULL = Settings([(64, 32, 10), (784, 100, 10), (784, 256, 128, 64, 10)], 256, 1024, 21, 0.03)
# Tiny, with widths that are and are not multiples of four; one round: checks, not timings.
SMOKE = Settings([(5, 3, 2), (9, 6, 3), (11, 8, 5, 6, 3)], 40, 300, 1, 0.0)
ETA = 0.01
CODE_BELOW = CODES["sigmoid"]  # the hidden layers' activation, where a delta is sent down

# --- the references the fast paths replace, as compiled loops -----------------------------


@numba.njit
def online_reference(theta, layout, X, T, order, eta, train_biases, z, y, delta):
    """Online SGD the reference way: per sample ``backpropagate``, then ``descend_layer``
    for every layer."""
    for s in range(order.shape[0]):
        formulas.backpropagate(theta, layout, X[order[s]], T[order[s]], z, y, delta)
        for l in range(n_layers(layout)):
            formulas.descend_layer(weights_of(theta, layout, l), biases_of(theta, layout, l),
                                   neurons_of(delta, layout, l + 1), neurons_of(y, layout, l),
                                   eta, train_biases, 0.0)


@numba.njit
def descend_forward_layer_plain(w, b, delta, y_below_before, eta, train_biases, y_below, code,
                                z, y):
    """``fast.descend_forward_layer`` one row of w at a time: the same fused sweep."""
    n_i, n_j = w.shape
    for j in range(n_j):
        z[j] = 0.0
    for i in range(n_i):
        y_i_before, y_i = y_below_before[i], y_below[i]
        for j in range(n_j):
            w[i, j] -= eta * (delta[j] * y_i_before)
            z[j] += w[i, j] * y_i
    if train_biases:
        for j in range(n_j):
            b[j] -= eta * delta[j]
    for j in range(n_j):
        z[j] += b[j]
        y[j] = f(code, z[j])


@numba.njit
def descend_then_forward(w, b, delta, y_below_before, eta, train_biases, y_below, code, z, y):
    """The step and the next forward pass, unfused: two sweeps of w."""
    formulas.descend_layer(w, b, delta, y_below_before, eta, train_biases, 0.0)
    formulas.forward_layer(w, b, y_below, code, z, y)


@numba.njit
def forward_layer_each(w, b, Y_below, code, Z, Y):
    for s in range(Y_below.shape[0]):
        formulas.forward_layer(w, b, Y_below[s], code, Z[s], Y[s])


@numba.njit
def hidden_delta_each(w_above, D_above, Z, Y, code, D):
    for s in range(Z.shape[0]):
        formulas.hidden_delta(w_above, D_above[s], Z[s], Y[s], code, D[s])


@numba.njit
def accumulate_gradient_each(D, Y_below, grad_w, grad_b):
    for s in range(D.shape[0]):
        formulas.accumulate_gradient(D[s], Y_below[s], grad_w, grad_b)


# The batch kernels as they were before their register tile: one sample (or one row of
# the gradient) per sweep of the columns, four terms at a time. The same sums.


@numba.njit
def forward_layer_batch_untiled(w, b, Y_below, code, Z, Y):
    """``fast.forward_layer_batch`` without the tile: four rows of w at a time swept across
    the batch, one sample per sweep of j."""
    m, n_i = Y_below.shape
    n_j = w.shape[1]
    for s in range(m):
        for j in range(n_j):
            Z[s, j] = 0.0
    i = 0
    while i + 4 <= n_i:
        for s in range(m):
            y0, y1, y2, y3 = Y_below[s, i], Y_below[s, i + 1], Y_below[s, i + 2], Y_below[s, i + 3]
            for j in range(n_j):
                Z[s, j] = (((Z[s, j] + w[i, j] * y0) + w[i + 1, j] * y1)
                           + w[i + 2, j] * y2) + w[i + 3, j] * y3
        i += 4
    while i < n_i:
        for s in range(m):
            y_si = Y_below[s, i]
            for j in range(n_j):
                Z[s, j] += w[i, j] * y_si
        i += 1
    for s in range(m):
        for j in range(n_j):
            Z[s, j] += b[j]
            Y[s, j] = f(code, Z[s, j])


@numba.njit
def hidden_delta_batch_untiled(w_above, DT_above, Z, Y, code, D, DT):
    """``fast.hidden_delta_batch`` without the tile: one neuron j per sweep of the batch."""
    n_j, n_k = w_above.shape
    m = Z.shape[0]
    for j in range(n_j):
        for s in range(m):
            DT[j, s] = 0.0
        k = 0
        while k + 4 <= n_k:
            w0, w1, w2, w3 = w_above[j, k], w_above[j, k + 1], w_above[j, k + 2], w_above[j, k + 3]
            for s in range(m):
                DT[j, s] = (((DT[j, s] + DT_above[k, s] * w0) + DT_above[k + 1, s] * w1)
                            + DT_above[k + 2, s] * w2) + DT_above[k + 3, s] * w3
            k += 4
        while k < n_k:
            w_jk = w_above[j, k]
            for s in range(m):
                DT[j, s] += DT_above[k, s] * w_jk
            k += 1
        for s in range(m):
            DT[j, s] = fprime(code, Z[s, j], Y[s, j]) * DT[j, s]
            D[s, j] = DT[j, s]


@numba.njit
def accumulate_gradient_batch_untiled(D, Y_below, grad_w, grad_b):
    """``fast.accumulate_gradient_batch`` without the tile: one row i per sweep of j, four
    samples at a time."""
    m, n_j = D.shape
    for i in range(grad_w.shape[0]):
        g_i = grad_w[i]
        s = 0
        while s + 4 <= m:
            y0, y1, y2, y3 = Y_below[s, i], Y_below[s + 1, i], Y_below[s + 2, i], Y_below[s + 3, i]
            for j in range(n_j):
                g_i[j] = (((g_i[j] + D[s, j] * y0) + D[s + 1, j] * y1)
                          + D[s + 2, j] * y2) + D[s + 3, j] * y3
            s += 4
        while s < m:
            y_si = Y_below[s, i]
            for j in range(n_j):
                g_i[j] += D[s, j] * y_si
            s += 1
    for s in range(m):
        for j in range(n_j):
            grad_b[j] += D[s, j]


@numba.njit
def block_gradient_reference(theta, layout, X, T, rows, grad, z, y, delta):
    """grad += Σ_s ∂E_s/∂θ over X[rows]: ``backpropagate`` and ``accumulate_gradient`` per
    sample."""
    for s in range(rows.shape[0]):
        formulas.backpropagate(theta, layout, X[rows[s]], T[rows[s]], z, y, delta)
        for l in range(n_layers(layout)):
            formulas.accumulate_gradient(neurons_of(delta, layout, l + 1),
                                         neurons_of(y, layout, l), weights_of(grad, layout, l),
                                         biases_of(grad, layout, l))


# --- running and timing -------------------------------------------------------------------


@functools.cache
def repeated(kernel, compiled=True):
    """A compiled loop calling kernel(*args) reps times; it returns the last call's value.
    ``compiled=False`` (the smoke run): the same loop in Python, which compiles nothing more."""

    def run(reps, *args):
        for _ in range(reps - 1):
            kernel(*args)
        return kernel(*args)

    return numba.njit(run) if compiled else run


def placed(a, rng):
    """A copy of array a whose data start at a random multiple of 8 bytes into a page."""
    items = 4096 // a.itemsize
    buffer = np.empty(a.size + 2 * items, a.dtype)
    start = (-buffer.ctypes.data % 4096) // a.itemsize + int(rng.integers(items))
    copy = buffer[start : start + a.size].reshape(a.shape)
    copy[...] = a
    return copy


class Side:
    """One side of a case: a kernel on its own copies of the inputs; ``outputs`` are the
    positions of the arguments it writes its results to."""

    compiled = True  # main sets it False for a smoke run

    def __init__(self, kernel, *args, outputs=()):
        self.loop, self.inputs, self.outputs = repeated(kernel, Side.compiled), args, outputs
        self.place(np.random.default_rng(0))

    def place(self, rng):
        """Fresh copies of the inputs, each at a random offset into a page (see alternate)."""
        self.args = tuple(placed(a, rng) if isinstance(a, np.ndarray) else a
                          for a in self.inputs)

    def run(self, reps):
        """Call the kernel reps times; the seconds it took."""
        started = time.perf_counter()
        self.value = self.loop(reps, *self.args)
        return time.perf_counter() - started

    def results(self):
        return [self.value, *(self.args[p] for p in self.outputs)]


def check(reference, fast_path):
    """Run each side once on its copies of the same inputs; True if they gave the same bits
    (every output array, and the return value)."""
    reference.run(1)
    fast_path.run(1)
    a, b = reference.results(), fast_path.results()
    return len(a) == len(b) and all(np.asarray(x).tobytes() == np.asarray(y).tobytes()
                                    for x, y in zip(a, b))


def alternate(reference, fast_path, rounds, target):
    """Median seconds per call of each side, timed in turns (ABBA ...), each timed run about
    ``target`` seconds long. Every round starts from fresh copies of the inputs at new
    random offsets (the same for both sides): where a sweep's loads and stores of w and z
    fall relative to each other within a page moved its time by up to a quarter on the
    machine of docs/performance.md, and by the same in every run of one placement."""
    reps = max(1, round(target / max(reference.run(1), fast_path.run(1), 1e-7)))
    times = {reference: [], fast_path: []}
    for r in range(rounds):
        seed = np.random.SeedSequence(r)
        for side in (reference, fast_path) if r % 2 == 0 else (fast_path, reference):
            side.place(np.random.default_rng(seed))
            times[side].append(side.run(reps) / reps)
    return statistics.median(times[reference]), statistics.median(times[fast_path])


# --- the cases ----------------------------------------------------------------------------


def network(sizes, n, seed=0):
    """A network's (theta, layout) and n samples: uniform inputs, one-hot targets."""
    net = nb.Network(sizes, "sigmoid", output_activation="linear", seed=seed)
    rng = np.random.default_rng(seed)
    X, T = rng.random((n, sizes[0])), np.eye(sizes[-1])[rng.integers(sizes[-1], size=n)]
    return net.parameters, net.layout, X, T


def layer(sizes, l, m=1, seed=0):
    """Layer l of a network: w, b, its activation code, and m samples' inputs y_i (uniform)
    and deltas δ_j (normal, small)."""
    theta, layout, _, _ = network(sizes, 1, seed)
    ws, bs = split(layout, theta)
    rng = np.random.default_rng(seed)
    n_i, n_j = ws[l].shape
    return (ws[l], bs[l], int(layout.acts[l]), rng.random((m, n_i)),
            rng.normal(scale=0.1, size=(m, n_j)))


def neurons(sizes, m=1):
    return np.zeros(m * sum(sizes))


def online_case(sizes, n):
    theta, layout, X, T = network(sizes, n)
    order, work = np.arange(n), [neurons(sizes) for _ in range(4)]
    return (Side(online_reference, theta, layout, X, T, order, ETA, True, *work[:3],
                 outputs=(0,)),
            Side(fast.online_steps, theta, layout, X, T, order, 0, n, ETA, True, 0.0, *work,
                 outputs=(0,)), n)


def fused_layer_case(twin, sizes, l):
    w, b, code, Y_below, delta = layer(sizes, l, m=2)
    z, y = np.zeros(w.shape[1]), np.zeros(w.shape[1])
    args = (w, b, delta[0], Y_below[0], ETA, True, Y_below[1], code, z, y)
    return (Side(twin, *args, outputs=(0, 1, 8, 9)),
            Side(fast.descend_forward_layer, *args, outputs=(0, 1, 8, 9)), 1)


def hidden_delta_case(sizes, l):
    w, _, _, _, delta_above = layer(sizes, l)
    z, y = np.random.default_rng(1).normal(size=(2, w.shape[0]))
    args = (w, delta_above[0], z, y, CODE_BELOW, np.zeros(w.shape[0]))
    return (Side(formulas.hidden_delta, *args, outputs=(5,)),
            Side(fast.hidden_delta_interleaved, *args, outputs=(5,)), 1)


def forward_batch_case(sizes, l, m, reference=forward_layer_each):
    w, b, code, Y_below, _ = layer(sizes, l, m)
    args = (w, b, Y_below, code, np.zeros((m, w.shape[1])), np.zeros((m, w.shape[1])))
    return (Side(reference, *args, outputs=(4, 5)),
            Side(fast.forward_layer_batch, *args, outputs=(4, 5)), m)


def hidden_delta_batch_case(sizes, l, m, untiled=False):
    w, _, _, _, D_above = layer(sizes, l, m)
    Z, Y = np.random.default_rng(1).normal(size=(2, m, w.shape[0]))
    D, DT = np.zeros((m, w.shape[0])), np.zeros((w.shape[0], m))
    reference = (Side(hidden_delta_batch_untiled, w, np.ascontiguousarray(D_above.T), Z, Y,
                      CODE_BELOW, D, DT, outputs=(5,)) if untiled else
                 Side(hidden_delta_each, w, D_above, Z, Y, CODE_BELOW, D, outputs=(5,)))
    return (reference,
            Side(fast.hidden_delta_batch, w, np.ascontiguousarray(D_above.T), Z, Y, CODE_BELOW,
                 D, DT, outputs=(5,)), m)


def accumulate_batch_case(sizes, l, m, reference=accumulate_gradient_each):
    w, b, _, Y_below, D = layer(sizes, l, m)
    args = (D, Y_below, np.zeros_like(w), np.zeros_like(b))
    return (Side(reference, *args, outputs=(2, 3)),
            Side(fast.accumulate_gradient_batch, *args, outputs=(2, 3)), m)


def block_gradient_case(sizes, m):
    theta, layout, X, T = network(sizes, m)
    rows, grad = np.arange(m), np.zeros_like(theta)
    return (Side(block_gradient_reference, theta, layout, X, T, rows, grad,
                 *(neurons(sizes) for _ in range(3)), outputs=(5,)),
            Side(fast.add_block_gradient, theta, layout, X, T, rows, grad,
                 *(neurons(sizes, fast.BLOCK) for _ in range(4)), outputs=(5,)), m)


def descend_case(sizes, m):
    theta, layout, _, _ = network(sizes, 1)
    grad = np.random.default_rng(1).normal(size=theta.size)
    args = (theta, grad, np.zeros_like(theta), layout, ETA, 0.0, m, True, 0.0)
    return (Side(formulas.descend, *args, outputs=(0,)),
            Side(fast.descend_batch, *args, outputs=(0,)), 1)


def error_case(sizes, n):
    theta, layout, X, T = network(sizes, n)
    return (Side(formulas.mean_error, theta, layout, X, T),
            Side(fast.mean_error, theta, layout, X, T), n)


def dims(sizes, l=None):
    return "-".join(map(str, sizes)) if l is None else f"{sizes[l]}×{sizes[l + 1]}"


def cases(settings):
    """(fast path, what it replaces, shape, per, build): build() gives the reference's side,
    the fast path's, and how many samples one call does (1: times are per call)."""
    (small, mnist, deep), samples, error_samples = settings[:3]
    m, tile = min(fast.BLOCK, samples), 8  # the eight rows of fast.add_products
    p = functools.partial
    four_rows = "`descend_forward_layer` (four rows of w at a time)"
    plain = p(fused_layer_case, descend_forward_layer_plain)
    unfused = p(fused_layer_case, descend_then_forward)
    return [
        *(("online SGD, fused: `fast.online_steps`",
           "per sample `backpropagate`, then `descend_layer` per layer", dims(s), "sample",
           p(online_case, s, samples)) for s in (small, mnist, deep)),
        *((four_rows, "the same loop, one row at a time", dims(s, l), "call", p(plain, s, l))
          for s, l in ((mnist, 0), (deep, 1), (small, 0), (mnist, 1))),
        *((four_rows, "`descend_layer`, then `forward_layer`", dims(s, l), "call",
           p(unfused, s, l)) for s, l in ((mnist, 0), (deep, 1), (mnist, 1))),
        *(("`hidden_delta_interleaved` (four δ_j side by side)", "`hidden_delta`", dims(s, l),
           "call", p(hidden_delta_case, s, l)) for s, l in ((deep, 1), (mnist, 1))),
        *((f"`add_block_gradient`, {m} samples",
           "per sample `backpropagate`, then `accumulate_gradient` per layer", dims(s),
           "sample", p(block_gradient_case, s, m)) for s in (small, mnist, deep)),
        *((f"`forward_layer_batch`, {m} samples", "`forward_layer` per sample", dims(mnist, l),
           "sample", p(forward_batch_case, mnist, l, m)) for l in (0, 1)),
        (f"`hidden_delta_batch`, {m} samples", "`hidden_delta` per sample", dims(deep, 1),
         "sample", p(hidden_delta_batch_case, deep, 1, m)),
        (f"`accumulate_gradient_batch`, {m} samples", "`accumulate_gradient` per sample",
         dims(mnist, 0), "sample", p(accumulate_batch_case, mnist, 0, m)),
        *((f"`forward_layer_batch` (tile of {tile} samples), {m} samples",
           "one sample per sweep of j", dims(s, l), "sample",
           p(forward_batch_case, s, l, m, forward_layer_batch_untiled))
          for s, l in ((mnist, 0), (deep, 0), (deep, 1), (mnist, 1))),
        *((f"`hidden_delta_batch` (tile of {tile} neurons j), {m} samples",
           "one neuron j per sweep of the samples", dims(s, l), "sample",
           p(hidden_delta_batch_case, s, l, m, True)) for s, l in ((deep, 1), (mnist, 1))),
        *((f"`accumulate_gradient_batch` (tile of {tile} rows i), {m} samples",
           "one row i per sweep of j", dims(s, l), "sample",
           p(accumulate_batch_case, s, l, m, accumulate_gradient_batch_untiled))
          for s, l in ((mnist, 0), (deep, 0), (deep, 1), (mnist, 1))),
        *((f"`descend_batch`, a batch of {m}", "`formulas.descend`", dims(s), "call",
           p(descend_case, s, m)) for s in (mnist, deep)),
        (f"`fast.mean_error`, {error_samples} samples", "`formulas.mean_error`", dims(mnist),
         "sample", p(error_case, mnist, error_samples)),
    ]


# --- the report ---------------------------------------------------------------------------


def load():
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def measure(settings, out=print):
    """Check and time every case; print the table row by row. The rows: (fast path,
    replaces, shape, per, reference s, fast s)."""
    out("| fast path | replaces | shape | per | reference µs | fast µs | gain |")
    out("|---|---|---|---|---:|---:|---:|")
    rows = []
    for name, replaces, shape, per, build in cases(settings):
        reference, fast_path, units = build()
        if not check(reference, fast_path):
            raise AssertionError(f"{name} vs {replaces} on {shape}: not the same bits")
        t_ref, t_fast = (t / units for t in alternate(reference, fast_path, settings.rounds,
                                                      settings.target))
        rows.append((name, replaces, shape, per, t_ref, t_fast))
        out(f"| {name} | {replaces} | {shape} | {per} | {t_ref * 1e6:.3g} | "
            f"{t_fast * 1e6:.3g} | **{t_ref / t_fast:.2f}** |")
    return rows


def parser():
    p = argparse.ArgumentParser(prog="python scripts/fast_paths.py",
                                description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1,
                   help="Numba's threads (default 1: every comparison on one core)")
    p.add_argument("--smoke", action="store_true",
                   help="tiny networks, one round: that every case runs and agrees bit for bit")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    if not 1 <= args.threads <= numba.config.NUMBA_NUM_THREADS:
        parser().error(f"--threads must be 1 to {numba.config.NUMBA_NUM_THREADS}")
    numba.set_num_threads(args.threads)
    settings = SMOKE if args.smoke else FULL
    Side.compiled = not args.smoke
    command = " ".join(["python scripts/fast_paths.py",
                        *(sys.argv[1:] if argv is None else argv)])
    mnist, errors = settings.nets[1], settings.error_samples
    print(f"Command: `{command}`\n")
    print(f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; Numba on {args.threads} "
          f"thread(s); Numba {numba.__version__}, NumPy {np.__version__}")
    print(f"- each time: the median of {settings.rounds} timed runs of about {settings.target} s "
          "per side, the two sides taking turns, each run on fresh copies of the inputs at "
          "new offsets into a page; the gain is the reference's time ÷ the fast path's")
    print(f"- the error pass compared is `fast.mean_error`, blocked and on one thread (`fit` "
          f"and `error` hand {errors} samples of {dims(mnist)} "
          + ("to" if fast.worth_threads(np.array(mnist), errors) else "not to")
          + " `fast.sample_errors_on_threads` instead)")
    print(f"- load average (1, 5, 15 min) at the start: {load()}\n")
    started = time.perf_counter()
    measure(settings)
    print(f"\n- load average at the end: {load()}; {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
