"""What the exact kernels' inner loops reach on one core, against the roofline's peak.

    python scripts/kernel_rates.py [--rounds 9] [--seconds 0.03]

Times, round by round in one process (so that load from other processes falls on all of
them alike), on the 784-100-10 network's shapes:

- the compute peak of ``roofline.py`` (register-resident multiplies and adds, no FMA) for
  each vector width, and its register-tile loop (``tile_ir``: ``add_products``' mix, the
  accumulators loaded and stored every four terms, arrays in L1);
- ``add_products`` as the batch-32 forward pass uses it (Z += Y·W: 32 rows, 784 terms,
  100 columns; C in L1) and as the gradient does (G += Yᵀ·D: 784 rows, 32 terms,
  100 columns; C, the 627 kB gradient, in L2, loaded and stored every four terms);
- ``forward_layer_batch``: ``add_products`` for the first layer of a batch of 32, then
  the biases and the sigmoid (the FLOP counted are the products', as in the roofline);
- ``descend_forward_layer``, online SGD's step and next forward pass in one sweep of the
  784×100 weights (5 FLOP per weight: w − η·(δ·y), then z + w·y).

Each kernel runs twice: compiled by Numba's default pipeline (whose vectors are 4 doubles
wide on an Intel AVX-512 core: LLVM's tuning for it prefers 256-bit vectors) and as the
package compiles it, with the LLVM function attribute ``"prefer-vector-width"="512"``
(``nbbackprop._jit.WideCompiler``: 8 doubles, ``zmm``), and the two are checked to give
the same bits. Each figure is the best over the rounds (load from other processes can only
slow a run, so the best is what the core does when it is free); GFLOP/s and shares of
each peak. Last, the bandwidth of reading, and of reading and writing back, an array the size of
the 784×100 weights (``read_bandwidth``, ``update_bandwidth``), as a step must do.
"""

import argparse
import importlib.util
import os
import re
import time
from pathlib import Path

import numba
import numpy as np

import nbbackprop as nb
from machine import cpu_model  # scripts/machine.py
from nbbackprop import activations, fast
from nbbackprop._jit import WIDE_VECTORS, WideCompiler

_spec = importlib.util.spec_from_file_location(  # roofline.py beside this script
    "roofline", Path(__file__).resolve().with_name("roofline.py"))
roofline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(roofline)


def both(kernel):
    """[(label, dispatcher)]: ``kernel`` as Numba compiles it by default, and as the package
    does (512-bit vectors preferred)."""
    return [("Numba's default", numba.njit(kernel.py_func, nogil=True)),
            (WIDE_VECTORS, numba.njit(kernel.py_func, nogil=True, pipeline_class=WideCompiler))]


def vector_width(dispatcher):
    """The width, in doubles, of most of the compiled kernel's packed multiplies and adds."""
    asm = "".join(dispatcher.inspect_asm().values())
    found = re.findall(r"v(?:mul|add|sub)pd\s[^\n]*%([xyz])mm", asm)
    return {"z": 8, "y": 4, "x": 2}[max("xyz", key=found.count)]


def best_of(call, calls):
    times = []
    for _ in range(calls):
        tic = time.perf_counter()
        call()
        times.append(time.perf_counter() - tic)
    return min(times)


def cases(rng):
    """(name, FLOP per call, [(label, dispatcher, call)]) for each kernel, the variants
    checked to give the same bits."""
    n_i, n_j, m = 784, 100, 32
    Y, W = rng.random((m, n_i)), rng.random((n_i, n_j)) - 0.5
    D, b = rng.random((m, n_j)) - 0.5, rng.random(n_j) - 0.5
    delta, before, y_below = rng.random(n_j) - 0.5, rng.random(n_i), rng.random(n_i)
    shapes = [
        ("add_products, forward Z += Y·W (32×784 · 784×100)", 2 * m * n_i * n_j,
         both(fast.add_products), lambda: [Y, W, np.zeros((m, n_j))]),
        ("add_products, gradient G += Yᵀ·D (784×32 · 32×100)", 2 * m * n_i * n_j,
         both(fast.add_products), lambda: [Y.T, D, np.zeros((n_i, n_j))]),
        # its default variant would inline the package's (wide) add_products: left out
        ("forward_layer_batch: add_products, + b, sigmoid (32 × 784→100)", 2 * m * n_i * n_j,
         both(fast.forward_layer_batch)[1:],
         lambda: [W, b, Y, activations.SIGMOID, np.empty((m, n_j)), np.empty((m, n_j))]),
        ("descend_forward_layer, online step + forward (784×100)", 5 * n_i * n_j,
         both(fast.descend_forward_layer),
         lambda: [W.copy(), b.copy(), delta, before, 1e-12, True, y_below, 0,
                  np.empty(n_j), np.empty(n_j)]),
    ]
    out = []
    for name, flops, variants, arguments in shapes:
        calls, results = [], []
        for label, dispatcher in variants:
            args = arguments()
            dispatcher(*args)
            results.append([a.copy() for a in args if isinstance(a, np.ndarray)])
            calls.append((label, dispatcher, lambda d=dispatcher, a=args: d(*a)))
        assert all(np.array_equal(p, q) for r in results[1:] for p, q in zip(results[0], r)), \
            f"{name}: not the same bits"
        out.append((name, flops, calls))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python scripts/kernel_rates.py",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=9, help="rounds, each timing all (9)")
    p.add_argument("--seconds", type=float, default=0.03,
                   help="seconds per micro-benchmark and round (0.03)")
    args = p.parse_args(argv)
    load = os.getloadavg()[0]
    kernels = cases(np.random.default_rng(0))
    widths = roofline.widths()
    peaks = {w: [] for w in widths}
    tiles = {w: [] for w in widths}
    nbytes = 8 * 784 * 100  # the first layer's weights
    traffic = {"read": [], "read and write": []}
    times = {(name, label): [] for name, _, calls in kernels for label, _, _ in calls}
    for _ in range(args.rounds):
        for w, rate in roofline.compute_peaks(args.seconds).items():
            peaks[w].append(rate)
        for w, rate in roofline.tile_rates(args.seconds).items():
            tiles[w].append(rate)
        traffic["read"].append(roofline.read_bandwidth(nbytes, args.seconds)[0])
        traffic["read and write"].append(roofline.update_bandwidth(nbytes, args.seconds)[0])
        for name, _, calls in kernels:
            for label, _, call in calls:
                calls_per_round = max(3, int(args.seconds / max(best_of(call, 1), 1e-7)))
                times[name, label].append(best_of(call, calls_per_round))
    peak = {w: max(rates) for w, rates in peaks.items()}
    narrow = 4 if 4 in peak else max(peak)
    print(f"{cpu_model()}; nbbackprop {nb.__version__}, Numba {numba.__version__}, one core, "
          f"{args.rounds} rounds, load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"\n| what | vectors | GFLOP/s | share of the {max(peak)}-double peak "
          f"| share of the {narrow}-double peak |")
    print("|---|---|---:|---:|---:|")

    def row(what, width, rate):
        print(f"| {what} | {width} doubles | {rate:.1f} | {rate / peak[max(peak)]:.2f} "
              f"| {rate / peak[narrow]:.2f} |")

    for w in widths:
        row("peak: multiplies and adds in registers (roofline.py)", w, peak[w])
    for w in widths:
        row("register-tile loop, accumulators to L1 every 4 terms (roofline.tile_ir)", w,
            max(tiles[w]))
    for name, flops, calls in kernels:
        for label, dispatcher, _ in calls:
            row(f"{name}, {label}", vector_width(dispatcher),
                flops / min(times[name, label]) / 1e9)
    print(f"\n| sweeps of an array of the 784×100 weights' size ({nbytes / 1e3:.0f} kB, "
          f"{roofline.cache_level(nbytes) or '?'}) | GB/s | GFLOP/s it allows "
          "descend_forward_layer (5 FLOP per 16 bytes) |")
    print("|---|---:|---:|")
    for what, rates in traffic.items():
        rate = max(rates)
        print(f"| {what} (roofline.py) | {rate:.1f} | {rate * 5 / 16:.1f} |")


if __name__ == "__main__":
    main()
