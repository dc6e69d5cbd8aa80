"""How long a gradient check takes: nbbackprop against torch.autograd.gradcheck, same run.

For each network (64-32-10 and 784-100-10, sigmoid, squared error; 64-32-10 with a tanh
hidden layer and a softmax output with cross-entropy, one-hot targets; 32 samples of seeded
random data) it times, warm, the median of --repeats runs of:

- ``nb.gradcheck(net, X, T)``: central differences for every weight and bias, with the
  measured truncation (±2h), the derived tolerances and the per-index report;
- ``torch.autograd.gradcheck`` in float64 of the same C (``net.error``: (1/n) Σ_x E_x) as a
  function of the same parameters (its default ``fast_mode=False``: the whole numerical
  Jacobian, a pair of forward passes per parameter);
- the quick variants: ``nb.gradcheck(mode="fast")`` with 8 directions and with 1 (±t, ±2t
  each) and ``torch.autograd.gradcheck(fast_mode=True)`` (one direction, ±t);

with torch on one thread and on all of them (``torch.set_num_threads``). nbbackprop's
check runs on one thread whatever the setting, so its times are measured once per network
and divided by torch's at each thread count.

torch's full check of 784-100-10 takes 15–100 s a run. ``--torch-subset M`` (and
``--quick``) times it instead on M randomly chosen parameters (the function then takes
those M entries as its input and the rest as constants) and scales the time by
79,510 / M; the table says so. ``--skip-torch-full-large`` leaves it out.

``--fast-only`` times only the quick variants; ``--parts`` shows where the time of a fast
check of 784-100-10 goes.

Run:  python scripts/bench_gradcheck.py [--repeats 5] [--quick] [--fast-only]
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
from machine import cpu_model  # scripts/machine.py

# (sizes, classifier): sigmoid units with the squared error, or a tanh hidden layer under a
# softmax output with cross-entropy (one-hot targets).
CASES = (((64, 32, 10), False), ((784, 100, 10), False), ((64, 32, 10), True))
N_SAMPLES = 32
LARGE = 10_000  # parameters above which torch's full check is the slow one


def problem(sizes, classifier=False):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (N_SAMPLES, sizes[0]))
    if not classifier:
        net = nb.Network(list(sizes), "sigmoid", seed=0)
        return net, X, rng.uniform(0, 1, (N_SAMPLES, sizes[-1]))
    hidden = ["tanh"] * (len(sizes) - 2)
    net = nb.Network(list(sizes), [*hidden, "softmax"], loss="cross_entropy", seed=0)
    return net, X, np.eye(sizes[-1])[rng.integers(0, sizes[-1], N_SAMPLES)]


def describe(net):
    name = "-".join(map(str, net.sizes))
    return name if net.loss == "squared" else f"{name} tanh, softmax + cross-entropy"


def torch_cost(net, X, T):
    """C of net on X, T as a torch function of the per-layer (w, b) tensors, float64."""
    X_t, T_t = torch.from_numpy(X), torch.from_numpy(T)
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
           "linear": lambda z: z}

    def cost(*params):
        y = X_t
        for l in range(0, len(params) - 2, 2):
            y = act[net.activations[l // 2]](y @ params[l] + params[l + 1])
        z = y @ params[-2] + params[-1]
        if net.loss == "cross_entropy":  # softmax: Σ_k t_k (lse(z) − z_k), as net.error
            return (T_t * (torch.logsumexp(z, dim=1, keepdim=True) - z)).sum(dim=1).mean()
        return 0.5 * ((act[net.activations[-1]](z) - T_t) ** 2).sum(dim=1).mean()

    return cost


def torch_problem(net, X, T):
    """The same C as a function of all the parameters, for torch.autograd.gradcheck."""
    params = []
    for w, b in zip(net.weights, net.biases):
        params += [torch.tensor(w, dtype=torch.float64, requires_grad=True),
                   torch.tensor(b, dtype=torch.float64, requires_grad=True)]
    return torch_cost(net, X, T), tuple(params)


def torch_subset_problem(net, X, T, m, seed=0):
    """The same C as a function of m randomly chosen parameters (the others held fixed): a
    full check of it costs m/P of the full check of all P, plus a scatter per call."""
    cost = torch_cost(net, X, T)
    theta = torch.from_numpy(net.parameters.copy())
    chosen = torch.from_numpy(np.random.default_rng(seed).choice(theta.numel(), m, replace=False))
    shapes = [(w.shape, b.shape) for w, b in zip(net.weights, net.biases)]

    def subset_cost(values):
        flat = theta.index_put((chosen,), values)
        params, start = [], 0
        for w_shape, b_shape in shapes:
            for shape in (w_shape, b_shape):
                size = int(np.prod(shape))
                params.append(flat[start : start + size].reshape(shape))
                start += size
        return cost(*params)

    return subset_cost, (theta[chosen].clone().requires_grad_(True),)


def median_seconds(call, repeats, warm=True):
    if warm:
        call()  # warm: compiled kernels loaded, caches filled
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - tic)
    return statistics.median(times), result


def machine():
    return (f"{os.cpu_count()} cores (nproc), {cpu_model()}; Python {platform.python_version()}, "
            f"NumPy {np.__version__}, Numba {numba.__version__}, torch {torch.__version__}, "
            f"nbbackprop {nb.__version__} (its check runs on one thread)")


def ours(case, args):
    """nbbackprop's full and fast (8 and 1 directions) checks of one network: seconds."""
    net, X, T = problem(*case)
    full = None
    if not args.fast_only:
        full, report = median_seconds(partial(nb.gradcheck, net, X, T), args.repeats)
        assert report.ok, report
    fast = {}
    for n_directions in (8, 1):
        fast[n_directions], report = median_seconds(
            partial(nb.gradcheck, net, X, T, mode="fast", n_directions=n_directions, seed=0),
            args.repeats)
        assert report.ok, report
    return full, fast


def theirs(case, args):
    """torch's full and fast_mode checks of one network, on its current threads: seconds
    (full None when skipped) and how the full one was measured."""
    net, X, T = problem(*case)
    gradcheck = torch.autograd.gradcheck
    cost, params = torch_problem(net, X, T)
    fast, ok = median_seconds(partial(gradcheck, cost, params, fast_mode=True), args.repeats)
    assert ok
    size = net.parameters.size
    if args.fast_only or (size > LARGE and args.skip_torch_full_large):
        return None, "skipped", fast
    if size > LARGE and args.torch_subset:
        m = min(args.torch_subset, size)
        cost, params = torch_subset_problem(net, X, T, m)
        seconds, ok = median_seconds(partial(gradcheck, cost, params), args.slow_repeats)
        assert ok
        return seconds * size / m, f"{m} random entries × {size / m:.1f}", fast
    repeats = args.slow_repeats if size > LARGE else args.repeats
    # torch compiles nothing, and its fast_mode check above has run the same function: the
    # slow check is not run an extra time to warm up.
    seconds, ok = median_seconds(partial(gradcheck, cost, params), repeats, warm=size <= LARGE)
    assert ok
    return seconds, "all entries", fast


def cpu_ms(call, repeats):
    """Median CPU time of the calling thread, in ms, over warm runs (less sensitive to other
    processes than wall time)."""
    call()
    times = []
    for _ in range(repeats):
        tic = time.thread_time()
        call()
        times.append(time.thread_time() - tic)
    return 1e3 * statistics.median(times)


def parts(args):
    """Where the time of a fast check of 784-100-10 (8 directions) goes, in CPU time, next to
    torch's fast_mode on one thread and one whole forward pass (net.error)."""
    from nbbackprop import finite_differences as fd
    from nbbackprop import gradient_check as gc

    net, X, T = problem((784, 100, 10))
    theta, layout = net.parameters, net.layout
    grad = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(*net.gradient(X, T))])
    at_theta = gc._FastPass(net, X, T, gc.U64, grad, gc.UNDERFLOW)
    C, A, B, active = gc._directions(net, 8, 0)
    rows, dots = np.empty((8, fd.ROW)), np.empty((8, active.shape[1]))
    torch.set_num_threads(1)
    cost, params = torch_problem(net, X, T)
    figures = {
        "nb.gradcheck(mode='fast'), 8 directions": partial(nb.gradcheck, net, X, T, mode="fast",
                                                           seed=0),
        "  the pass at θ, the rounding bounds and the gradient": partial(
            gc._FastPass, net, X, T, gc.U64, None, gc.UNDERFLOW),
        "  the evaluations along the directions": partial(
            fd.rank_one_differences, theta, layout, X, T, at_theta.Z, at_theta.E, C, A, B,
            at_theta.scale, gc.STEP, at_theta.extra, rows),
        "  uᵀg": partial(fd.rank_one_dots, layout, grad, C, A, B, dots),
        "one forward pass of the 32 samples (net.error)": partial(net.error, X, T),
        "net.gradient alone (fast mode gets it from its pass)": partial(net.gradient, X, T),
        "torch.autograd.gradcheck(fast_mode=True), 1 thread": partial(
            torch.autograd.gradcheck, cost, params, fast_mode=True),
    }
    print(f"784-100-10, 32 samples: median CPU time of {args.repeats} warm runs")
    for name, call in figures.items():
        print(f"{name:<55} {cpu_ms(call, args.repeats):6.2f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure (median)")
    parser.add_argument("--slow-repeats", type=int, default=3,
                        help="timed runs of torch's full check of 784-100-10")
    parser.add_argument("--torch-subset", type=int, default=0, metavar="M",
                        help="time torch's full check of 784-100-10 on M random parameters and "
                             "extrapolate (0: all of them)")
    parser.add_argument("--skip-torch-full-large", action="store_true",
                        help="leave out torch's full check of 784-100-10")
    parser.add_argument("--parts", action="store_true",
                        help="only where fast mode's time goes on 784-100-10 (CPU time)")
    parser.add_argument("--fast-only", action="store_true",
                        help="only the quick variants: fast mode against torch's fast_mode")
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats, 1 slow repeat, torch's large full check on 2000 entries")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.slow_repeats = 3, 1
        args.torch_subset = args.torch_subset or 2000
    all_threads = torch.get_num_threads()
    print(machine())
    if args.parts:
        parts(args)
        return
    print(f"median of {args.repeats} warm runs ({args.slow_repeats} for torch's full check of "
          f"784-100-10); {N_SAMPLES} samples; torch on 1 and on {all_threads} threads\n")
    print("| network | parameters | torch threads | nbbackprop full | torch full | ratio "
          "| nb fast, 8 dirs | nb fast, 1 dir | torch fast_mode | ratio (8) | ratio (1) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    notes = []
    for case in CASES:
        full, fast = ours(case, args)
        net = problem(*case)[0]
        for threads in sorted({1, all_threads}):
            torch.set_num_threads(threads)
            their_full, how, their_fast = theirs(case, args)
            name = describe(net)
            if how not in ("all entries", "skipped"):
                notes.append(f"torch full, {name}, {threads} thread(s): timed on {how}")
            torch_full = "—" if their_full is None else f"{their_full:.3f} s"
            ratio = "—" if their_full is None else f"{their_full / full:.0f}×"
            ours_full = "—" if full is None else f"{full * 1e3:.1f} ms"
            mark = "*" if how not in ("all entries", "skipped") else ""
            print(f"| {name} | {net.parameters.size} | {threads} "
                  f"| {ours_full} | {torch_full}{mark} | {ratio} "
                  f"| {fast[8] * 1e3:.1f} ms | {fast[1] * 1e3:.1f} ms "
                  f"| {their_fast * 1e3:.1f} ms | {their_fast / fast[8]:.2f}× "
                  f"| {their_fast / fast[1]:.2f}× |", flush=True)
        torch.set_num_threads(all_threads)
    for note in notes:
        print(f"* {note} (extrapolated)")
    print("ratio: torch's time / nbbackprop's (above 1: nbbackprop is faster)")


if __name__ == "__main__":
    main()
