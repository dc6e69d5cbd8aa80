"""How long a gradient check takes: nbbackprop against torch.autograd.gradcheck, same run.

For each network (64-32-10 and 784-100-10, sigmoid, 32 samples of seeded random data) it
times, warm, the median of --repeats runs of:

- ``nb.gradcheck(net, X, T)``: central differences for every weight and bias, with the
  measured truncation (±2h) and the derived tolerances, plus the per-index report;
- ``torch.autograd.gradcheck`` in float64 on the same parameters and data (its default
  ``fast_mode=False``: the full numerical Jacobian, one pair of forward passes per
  parameter), checking the gradient of the same C;
- the quick variants: ``nb.gradcheck(mode="fast")`` (8 directions) and
  ``torch.autograd.gradcheck(fast_mode=True)``.

Run:  python scripts/bench_gradcheck.py [--repeats 5]
"""

import argparse
import os
import platform
import statistics
import time
from functools import partial

import numba
import numpy as np
import torch

import nbbackprop as nb

SIZES = ((64, 32, 10), (784, 100, 10))
N_SAMPLES = 32


def problem(sizes):
    rng = np.random.default_rng(0)
    net = nb.Network(list(sizes), "sigmoid", seed=0)
    return net, rng.uniform(0, 1, (N_SAMPLES, sizes[0])), rng.uniform(0, 1, (N_SAMPLES, sizes[-1]))


def torch_problem(net, X, T):
    """The same C as a function of the parameters, for torch.autograd.gradcheck."""
    params = []
    for w, b in zip(net.weights, net.biases):
        params += [torch.tensor(w, dtype=torch.float64, requires_grad=True),
                   torch.tensor(b, dtype=torch.float64, requires_grad=True)]
    X_t, T_t = torch.from_numpy(X), torch.from_numpy(T)

    def cost(*params):
        y = X_t
        for l in range(0, len(params), 2):
            y = torch.sigmoid(y @ params[l] + params[l + 1])
        return 0.5 * ((y - T_t) ** 2).sum(dim=1).mean()

    return cost, tuple(params)


def median_seconds(call, repeats):
    call()  # warm: compiled kernels loaded, caches filled
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - tic)
    return statistics.median(times), result


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} cores (nproc), {model}; Python {platform.python_version()}, "
            f"NumPy {np.__version__}, Numba {numba.__version__}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), nbbackprop {nb.__version__}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--slow-repeats", type=int, default=3,
                        help="timed runs of torch's full check of 784-100-10 (about 90 s each)")
    parser.add_argument("--torch-threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's own choice); nbbackprop's "
                             "check runs on one thread")
    args = parser.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    print(machine())
    print(f"median of {args.repeats} warm runs ({args.slow_repeats} for torch's full check of "
          f"784-100-10); {N_SAMPLES} samples\n")
    print("| network | parameters | nbbackprop full | torch gradcheck | ratio "
          "| nbbackprop fast (8 dirs) | torch fast_mode | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for sizes in SIZES:
        print(row(sizes, args), flush=True)


def row(sizes, args):
    """One line of the table: both checkers, full and quick, on one network."""
    net, X, T = problem(sizes)
    cost, params = torch_problem(net, X, T)
    gradcheck = torch.autograd.gradcheck
    ours, report = median_seconds(partial(nb.gradcheck, net, X, T), args.repeats)
    assert report.ok, report
    slow = args.slow_repeats if sizes[0] > 100 else args.repeats
    theirs, ok = median_seconds(partial(gradcheck, cost, params), slow)
    assert ok
    ours_fast, report = median_seconds(partial(nb.gradcheck, net, X, T, mode="fast", seed=0),
                                       args.repeats)
    assert report.ok, report
    theirs_fast, ok = median_seconds(partial(gradcheck, cost, params, fast_mode=True),
                                     args.repeats)
    assert ok
    return (f"| {'-'.join(map(str, sizes))} | {net.parameters.size} | {ours:.3f} s "
            f"| {theirs:.3f} s | {theirs / ours:.0f}× | {ours_fast * 1e3:.1f} ms "
            f"| {theirs_fast * 1e3:.1f} ms | {theirs_fast / ours_fast:.1f}× |")

if __name__ == "__main__":
    main()
