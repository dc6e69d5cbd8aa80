"""What the exact kernels' inner loops reach on one core, against the roofline's peak.

    python scripts/kernel_rates.py [--rounds 7] [--seconds 0.05]

Times, round by round in one process (so that load from other processes falls on all of
them alike), on the 784-100-10 network's shapes:

- the compute peak of ``roofline.py`` (register-resident multiplies and adds, no FMA) for
  each vector width, and its register-tile loop (``tile_ir``: ``add_products``' mix, the
  accumulators loaded and stored every four terms, arrays in L1);
- ``add_products`` as the batch-32 forward pass uses it (Z += Y·W: 32 rows, 784 terms,
  100 columns; C in L1) and as the gradient does (G += Yᵀ·D: 784 rows, 32 terms,
  100 columns; C, the 627 kB gradient, in L2, loaded and stored every four terms);
- ``descend_forward_layer``, online SGD's step and next forward pass in one sweep of the
  784×100 weights (5 FLOP per weight: w − η·(δ·y), then z + w·y).

Each kernel runs twice: compiled as the package compiles it (Numba's choice of vector
width: 4 doubles on an AVX-512 core whose LLVM tuning prefers 256-bit vectors) and with
the LLVM function attribute ``"prefer-vector-width"="512"`` on the same Python function
(8 doubles, ``zmm``), and the two are checked to give the same bits. Each figure is the
median over the rounds of the best of a few calls; GFLOP/s and shares of each peak.
"""

import argparse
import importlib.util
import os
import re
import statistics
import time
from pathlib import Path

import numba
import numpy as np
from numba.core import compiler, lowering, typed_passes
from numba.core.compiler_machinery import register_pass

import nbbackprop as nb
from nbbackprop import fast

_spec = importlib.util.spec_from_file_location(  # roofline.py beside this script
    "roofline", Path(__file__).resolve().with_name("roofline.py"))
roofline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(roofline)

WIDE = '"prefer-vector-width"="512"'


class _WideLower(lowering.Lower):
    """Numba's lowering, the function marked for 512-bit vectors."""

    def pre_lower(self):
        super().pre_lower()
        set.add(self.builder.function.attributes, WIDE)  # a string attribute: not in _known


@register_pass(mutates_CFG=True, analysis_only=False)
class _WideNativeLowering(typed_passes.NativeLowering):
    _name = "wide_native_lowering"

    @property
    def lowering_class(self):
        return _WideLower


class WideCompiler(compiler.CompilerBase):
    """Numba's nopython pipeline, lowering with ``_WideLower``."""

    def define_pipelines(self):
        pm = compiler.DefaultPassBuilder.define_nopython_pipeline(self.state)
        at = [p for p, _ in pm.passes].index(typed_passes.NativeLowering)
        pm.passes[at] = (_WideNativeLowering, pm.passes[at][1])
        return [pm]


def both(kernel):
    """(as the package compiles it, with 512-bit vectors preferred): the same function."""
    return (numba.njit(kernel.py_func, nogil=True),
            numba.njit(kernel.py_func, nogil=True, pipeline_class=WideCompiler))


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
    """(name, FLOP per call, {variant: call}) for each kernel, checked for equal bits."""
    n_i, n_j, m = 784, 100, 32
    Y, W = rng.random((m, n_i)), rng.random((n_i, n_j)) - 0.5
    D = rng.random((m, n_j)) - 0.5
    out = []
    products = both(fast.add_products)
    Z = {k: np.zeros((m, n_j)) for k in range(2)}
    G = {k: np.zeros((n_i, n_j)) for k in range(2)}
    for k, kernel in enumerate(products):
        kernel(Y, W, Z[k])
        kernel(Y.T, D, G[k])
    assert np.array_equal(Z[0], Z[1]) and np.array_equal(G[0], G[1]), "not the same bits"
    out.append(("add_products, forward Z += Y·W (32×784 · 784×100)", 2 * m * n_i * n_j,
                [lambda kernel=kernel, k=k: kernel(Y, W, Z[k])
                 for k, kernel in enumerate(products)], products))
    out.append(("add_products, gradient G += Yᵀ·D (784×32 · 32×100)", 2 * m * n_i * n_j,
                [lambda kernel=kernel, k=k: kernel(Y.T, D, G[k])
                 for k, kernel in enumerate(products)], products))
    step = both(fast.descend_forward_layer)
    delta, before, y_below = rng.random(n_j) - 0.5, rng.random(n_i), rng.random(n_i)
    state = {k: (W.copy(), np.zeros(n_j), np.empty(n_j), np.empty(n_j)) for k in range(2)}
    for k, kernel in enumerate(step):
        w, b, z, y = state[k]
        kernel(w, b, delta, before, 1e-3, True, y_below, 0, z, y)
    assert all(np.array_equal(p, q) for p, q in zip(state[0], state[1])), "not the same bits"
    out.append(("descend_forward_layer, online step + forward (784×100)", 5 * n_i * n_j,
                [lambda kernel=kernel, k=k: kernel(state[k][0], state[k][1], delta, before,
                                                   1e-12, True, y_below, 0, state[k][2],
                                                   state[k][3])
                 for k, kernel in enumerate(step)], step))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python scripts/kernel_rates.py",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=7, help="rounds, each timing all (7)")
    p.add_argument("--seconds", type=float, default=0.05,
                   help="seconds per micro-benchmark and round (0.05)")
    args = p.parse_args(argv)
    load = os.getloadavg()[0]
    kernels = cases(np.random.default_rng(0))
    widths = roofline.widths()
    peaks = {w: [] for w in widths}
    tiles = {w: [] for w in widths}
    times = {(name, v): [] for name, _, calls, _ in kernels for v in range(len(calls))}
    for _ in range(args.rounds):
        for w, rate in roofline.compute_peaks(args.seconds).items():
            peaks[w].append(rate)
        for w, rate in roofline.tile_rates(args.seconds).items():
            tiles[w].append(rate)
        for name, _, calls, _ in kernels:
            for v, call in enumerate(calls):
                calls_per_round = max(3, int(args.seconds / max(best_of(call, 1), 1e-7)))
                times[name, v].append(best_of(call, calls_per_round))
    peak = {w: statistics.median(rates) for w, rates in peaks.items()}
    narrow = 4 if 4 in peak else max(peak)
    print(f"nbbackprop {nb.__version__}, Numba {numba.__version__}, one core, "
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
            statistics.median(tiles[w]))
    for name, flops, _, dispatchers in kernels:
        for v, dispatcher in enumerate(dispatchers):
            label = name + ("" if v == 0 else ', "prefer-vector-width"="512"')
            row(label, vector_width(dispatcher), flops / statistics.median(times[name, v]) / 1e9)


if __name__ == "__main__":
    main()
