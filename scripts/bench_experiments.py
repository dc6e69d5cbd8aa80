"""Many training runs: one compiled call (``nb.experiments``' driver) against a Python loop
over ``Network(...).fit`` on the same runs, on one core.

    python scripts/bench_experiments.py [--runs R] [--epochs E] [--breakdown]

For XOR 2-2-1 and the 8-3-8 encoder (sigmoid, online SGD, η as stated): R runs seeded
as ``nb.experiments.restarts`` seeds them, each trained to the target error or E epochs.
Both sides build the networks from the same seeds; the script checks that every run's
weights, errors, epoch count and stop reason are the same bits, then prints runs per
second on one core and the ratio (best of three of each, interleaved). Times are the
process's CPU time (one thread), so that other jobs on the machine count less.

``--breakdown`` then splits each side's time per run into a fixed part (building the
network, checking the arguments, entering compiled code) and a part per epoch (runs of 1
and of E epochs without a target, the difference over E − 1), and prints the share of
the one-call epoch spent computing the sigmoids (the same number of 1/(1 + exp(−z)) on
the same kind of values, timed alone): work that ``fit``'s epoch does alike, so the
loop's epoch over the sigmoids' time bounds the ratio of any epoch that gives the same
bits (they need the same ``exp`` calls). Its "ceiling" is the ratio of runs per second
that bound allows: the one call's epoch cut to its sigmoids alone, its fixed cost kept,
for runs of the first table's mean epoch count.
"""

import argparse
import math
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one core: the figure is per core

import numba  # noqa: E402
import numpy as np  # noqa: E402

import nbbackprop as nb  # noqa: E402
from nbbackprop import experiments, runs  # noqa: E402

PROBLEMS = {  # name: (sizes, X, T, eta, target error)
    "XOR 2-2-1": ((2, 2, 1), *nb.xor(), 0.5, 0.01),
    "encoder 8-3-8": ((8, 3, 8), np.eye(8), np.eye(8), 0.5, 0.01),
}


def python_loop(sizes, X, T, seeds, epochs, eta, target):
    nets, histories = [], []
    for s in seeds:
        net = nb.Network(sizes, seed=int(s))
        histories.append(net.fit(X, T, epochs=epochs, eta=eta, seed=int(s),
                                 target_error=target, on_divergence="stop"))
        nets.append(net)
    return nets, histories


def one_call(sizes, X, T, seeds, epochs, eta, target):
    initial = np.array([nb.Network(sizes, seed=int(s)).parameters for s in seeds])
    return runs.train_many(nb.Network(sizes).layout, X, T, initial, seeds, epochs=epochs,
                           eta=eta, target_error=target)


def same(done, nets, histories):
    return all(np.array_equal(done.thetas[r], net.parameters)
               and done.epochs[r] == h.epochs and done.stop_reasons[r] == h.stop_reason
               and np.array_equal(done.errors[r, : h.epochs], h.errors)
               for r, (net, h) in enumerate(zip(nets, histories)))


@numba.njit(cache=False)
def sigmoids(zs, reps):
    """reps times 1/(1 + exp(−z)) for every z in zs; their sum, so none is optimised away."""
    total = 0.0
    for r in range(reps):
        for k in range(zs.shape[0]):
            total += 1.0 / (1.0 + math.exp(-(zs[k] + r * 1e-12)))
    return total


def best_of(fn, *args, repeats=3):
    times = []
    for _ in range(repeats):
        tic = time.process_time()
        fn(*args)
        times.append(time.process_time() - tic)
    return min(times)


def breakdown(runs_n, epochs, mean_epochs):
    print(f"\nwhere the time goes ({runs_n} runs, 1 and {epochs} epochs each, no target)")
    print(f"  {'problem':<15}{'loop fixed/epoch':>17}{'call fixed/epoch':>17}"
          f"{'epoch ratio':>12}{'sigmoid share':>15}{'bound':>7}{'ceiling':>9}")
    for name, (sizes, X, T, eta, _) in PROBLEMS.items():
        seeds = experiments.run_seeds(0, 0, runs_n)
        per = {}
        for label, fn in (("loop", python_loop), ("call", one_call)):
            fn(sizes, X, T, seeds[:2], 2, eta, None)
            t1 = best_of(fn, sizes, X, T, seeds, 1, eta, None) / runs_n
            tE = best_of(fn, sizes, X, T, seeds, epochs, eta, None) / runs_n
            epoch = (tE - t1) / (epochs - 1)
            per[label] = (t1 - epoch, epoch)
        # the one-call epoch computes 2 n forward passes of every sigmoid unit (training
        # and the error pass): time as many sigmoids of z on the scale of a trained net
        units = sum(sizes[1:])
        zs = np.random.default_rng(0).normal(0.0, 3.0, 2 * X.shape[0] * units)
        sigmoids(zs, 1)
        reps = 2000
        sig = best_of(sigmoids, zs, reps) / reps
        (lf, le), (cf, ce) = per["loop"], per["call"]
        E = mean_epochs[name]
        ceiling = (lf + E * le) / (cf + E * sig)
        print(f"  {name:<15}{lf / le:>16.0f}×{cf / ce:>16.0f}×{le / ce:>11.1f}×"
              f"{100 * sig / ce:>13.0f} %{le / sig:>6.1f}×{ceiling:>8.1f}×")
    print("  (fixed/epoch: a run's fixed cost in epochs' worth; epoch ratio: the loop's "
          "epoch ÷ the call's;\n   bound: the loop's epoch ÷ its sigmoids' time; ceiling: the "
          "ratio of runs at that bound)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--breakdown", action="store_true", help="split the time per run")
    args = parser.parse_args()
    print(f"{args.runs} runs each, up to {args.epochs} epochs, one core")
    print(f"  {'problem':<15}{'mean epochs':>12}{'loop runs/s':>13}{'one call runs/s':>17}"
          f"{'ratio':>8}  same bits")
    mean_epochs = {}
    for name, (sizes, X, T, eta, target) in PROBLEMS.items():
        seeds = experiments.run_seeds(0, 0, args.runs)
        call = (sizes, X, T, seeds, args.epochs, eta, target)
        python_loop(*call[:3], seeds[:2], *call[4:])  # compile and warm both
        one_call(*call[:3], seeds[:2], *call[4:])
        loop_times, call_times = [], []
        for _ in range(3):
            tic = time.process_time()
            nets, histories = python_loop(*call)
            loop_times.append(time.process_time() - tic)
            tic = time.process_time()
            done = one_call(*call)
            call_times.append(time.process_time() - tic)
        mean_epochs[name] = float(np.mean(done.epochs))
        loop_rate, call_rate = args.runs / min(loop_times), args.runs / min(call_times)
        print(f"  {name:<15}{np.mean(done.epochs):>12.0f}{loop_rate:>13.1f}{call_rate:>17.1f}"
              f"{call_rate / loop_rate:>7.1f}×  {same(done, nets, histories)}")
    if args.breakdown:
        breakdown(args.runs, min(args.epochs, 2000), mean_epochs)


if __name__ == "__main__":
    main()
