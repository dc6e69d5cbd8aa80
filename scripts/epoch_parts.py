"""Where an online epoch of a small network goes: each part of it timed alone, in a compiled
loop, for whichever nbbackprop is imported.

    PYTHONPATH=path/to/one/checkout/src python scripts/epoch_parts.py [--sizes 2-2-1]
    python scripts/epoch_parts.py --versus-jax 25000    # whole fits against JAX, CPU time

The network is the benchmark's (sigmoid hidden layers, a linear output layer) on XOR for
2-2-1, else on uniform synthetic data of 4 samples. Printed: nanoseconds per epoch of the
online steps (``fast.online_steps``), the error pass (``fast.sample_errors``), the state
saved at an epoch's start (``training.copy_state``), the check of the weights
(``training.all_finite``), a shuffle, and the whole compiled driver
(``training.train_online_epochs``) running epochs back to back, which adds what lies
between them. Each figure is the least CPU time of many short runs, so that other work on
the machine shows as little as possible; compare versions by running this on each in turn.

``--versus-jax EPOCHS``: then whole ``fit`` calls of that many epochs against the JAX peer
of ``scripts/bench.py`` (``bench_peers.JaxTrainer``, on one thread) on the benchmark's
2-2-1 case, in turns, and the median CPU time of each: what a fit costs besides its epochs
shows as the difference from the driver's figure.
"""

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import numba
import numpy as np

import nbbackprop as nb
from nbbackprop import fast, layout, training


@numba.njit
def _identity(a):
    return a


# The arrays as the driver hands them to the kernels: untracked where this version does so.
untracked = getattr(layout, "untracked", _identity)


@numba.njit
def untracked_layout(lay):
    return layout.Layout(untracked(lay.sizes), untracked(lay.acts), untracked(lay.w_off),
                         untracked(lay.n_off), lay.loss)


@numba.njit
def steps(epochs, theta, lay, X, T, order, z, y, y_before, delta):
    for _ in range(epochs):
        fast.online_steps(theta, lay, X, T, order, 0, X.shape[0], 1e-9, True, 0.0, z, y,
                          y_before, delta)


@numba.njit
def error_pass(epochs, theta, lay, X, T, E, Z, Y):
    theta, lay, X, T = untracked(theta), untracked_layout(lay), untracked(X), untracked(T)
    E, Z, Y = untracked(E), untracked(Z), untracked(Y)
    for _ in range(epochs):
        fast.sample_errors(theta, lay, X, T, 0, X.shape[0], E, Z, Y)


@numba.njit
def copy_state(epochs, before, state):
    for _ in range(epochs):
        training.copy_state(before, state)


@numba.njit
def all_finite(epochs, theta):
    finite = 0
    for _ in range(epochs):
        finite += training.all_finite(theta)
    return finite


@numba.njit
def shuffle(epochs, order, rng):
    for _ in range(epochs):
        training.shuffle(order, rng)


def least_ns_per_epoch(run, epochs, repeats):
    run(epochs)  # compiles
    best = np.inf
    for _ in range(repeats):
        tic = time.process_time()
        run(epochs)
        best = min(best, time.process_time() - tic)
    return best / epochs * 1e9


def versus_jax(epochs, rounds=11):
    """Samples/s of nbbackprop's fit and of the JAX peer, median CPU time of ``rounds``
    runs of ``epochs`` epochs each, the two taking turns."""
    path = Path(__file__).resolve().with_name("bench.py")
    spec = importlib.util.spec_from_file_location("bench", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.set_threads(1)
    case = bench.make_case("2-2-1", (2, 2, 1), 0.5, 4)
    trainers = {"nbbackprop fit": bench.NbbackpropTrainer(case, 1),
                "JAX": bench.bench_peers.JaxTrainer(case, 1)}
    times = {name: [] for name in trainers}
    for trainer in trainers.values():
        trainer.run(epochs)  # compiles
    for _ in range(rounds):
        for name, trainer in trainers.items():
            tic = time.process_time()
            trainer.run(epochs)
            times[name].append(time.process_time() - tic)
    return {name: len(case.X) * epochs / statistics.median(t) for name, t in times.items()}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python scripts/epoch_parts.py")
    p.add_argument("--sizes", default="2-2-1", help="layer sizes, e.g. 4-8-2 (default 2-2-1)")
    p.add_argument("--repeats", type=int, default=300, help="timed runs per part (default 300)")
    p.add_argument("--versus-jax", type=int, metavar="EPOCHS", default=0,
                   help="also time whole fits of 2-2-1 against JAX (needs jax)")
    args = p.parse_args(argv)
    sizes = tuple(int(v) for v in args.sizes.split("-"))
    if sizes == (2, 2, 1):
        X, T = nb.xor()
    else:
        rng = np.random.default_rng(0)
        X, T = rng.random((4, sizes[0])), rng.random((4, sizes[-1]))
    net = nb.Network(sizes, output_activation="linear", seed=0)
    lay, theta = net.layout, net.parameters
    n, k = len(X), sum(sizes)
    order, rng_state = np.arange(n, dtype=np.int64), np.zeros(1, dtype=np.uint64)
    velocity, E = np.zeros_like(theta), np.empty(n)
    z, y, y_before, delta = (np.zeros(k) for _ in range(4))
    Z, Y = np.zeros(fast.BLOCK * k), np.zeros(fast.BLOCK * k)
    state = (theta, velocity, order, rng_state)
    before = tuple(np.empty_like(a) for a in state)
    epochs = 4000
    errors, at, sums = np.empty(epochs), np.zeros(4, dtype=np.int64), np.zeros(2)

    def driver(count):
        at[:], sums[:] = 0, (0.0, np.inf)
        training.train_online_epochs(theta, lay, X, T, order, rng_state, False, count,
                                     np.array([1e-9]), 0.0, velocity, 1, True, 0.0, -1.0,
                                     0.25, errors, before, at, sums, E, 2**62)

    parts = [
        ("online steps", lambda e: steps(e, theta, lay, X, T, order, z, y, y_before, delta)),
        ("error pass", lambda e: error_pass(e, theta, lay, X, T, E, Z, Y)),
        ("copy_state", lambda e: copy_state(e, before, state)),
        ("all_finite", lambda e: all_finite(e, theta)),
        ("shuffle", lambda e: shuffle(e, order, rng_state)),
        ("whole driver", driver),
    ]
    print(f"nbbackprop {nb.__version__} from {nb.__file__}")
    print(f"{args.sizes}, {n} samples: ns per epoch (least CPU time of {args.repeats} runs)")
    for name, run in parts:
        print(f"{name:>14}  {least_ns_per_epoch(run, epochs, args.repeats):8.1f}")
    if args.versus_jax:
        speeds = versus_jax(args.versus_jax)
        print(f"2-2-1, fits of {args.versus_jax} epochs: samples/s (median CPU time of 11 runs)")
        for name, speed in speeds.items():
            print(f"{name:>14}  {speed:12,.0f}")
        print(f"{'ratio':>14}  {speeds['nbbackprop fit'] / speeds['JAX']:12.2f}")


if __name__ == "__main__":
    main()
