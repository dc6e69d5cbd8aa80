"""The ``nbbackprop`` command.

Every subcommand reports a bad argument or a failure as one line on stderr and exits
non-zero; no Python traceback reaches the user.
"""

import argparse
import os
import sys
import time

import numpy as np

from . import __version__
from .datasets import xor
from .exceptions import TrainingDiverged
from .network import Network


def demo(args):
    """Train a 2-2-1 sigmoid network on XOR and show the error falling."""
    X, T = xor()
    tic = time.perf_counter()
    Network([2, 2, 1]).fit(X, T, epochs=1)  # compiles the kernels, or loads them from the cache
    compile_seconds = time.perf_counter() - tic
    if compile_seconds > 0.5:
        print(f"(compiled the kernels in {compile_seconds:.1f} s; later runs load them from "
              "the cache)\n")
    net = Network([2, 2, 1], activation="sigmoid", seed=args.seed)
    print(f"XOR with a 2-2-1 sigmoid network (seed {args.seed}): online SGD, "
          f"eta={args.eta}, {args.epochs} epochs")
    print(f"{'epoch':>7}  error C = (1/4) Σ_x ½ (t − y)²")
    print(f"{0:>7}  {net.error(X, T):.6f}")
    started = time.perf_counter()
    history = net.fit(X, T, epochs=args.epochs, eta=args.eta, seed=args.seed)
    seconds = time.perf_counter() - started
    shown = sorted({e for e in (1, 10, 100, 1000, 2000, 3000, 4000) if e < history.epochs}
                   | {history.epochs})
    for epoch in shown:
        print(f"{epoch:>7}  {history.errors[epoch - 1]:.6f}")
    print("\n  x1  x2   target  output")
    for x, t, y in zip(X, T, net.forward(X)):
        print(f"  {x[0]:.0f}   {x[1]:.0f}   {t[0]:.0f}       {y[0]:.4f}")
    print(f"\ntrained {history.epochs} epochs ({4 * history.epochs} samples) in {seconds:.3f} s")


def bench(args):
    """Time nbbackprop against the peers that are installed (a quick run of scripts/bench.py)."""
    from .bench import FULL, QUICK, run

    threads = f" --threads {args.threads}" if args.threads else ""
    command = (f"`python scripts/bench.py{threads}` (or `nbbackprop bench --full{threads}`)"
               if args.full else f"`nbbackprop bench{threads}`")
    run(FULL if args.full else QUICK, args.threads or os.cpu_count(), command)


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def parser():
    p = argparse.ArgumentParser(prog="nbbackprop", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"nbbackprop {__version__}")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = commands.add_parser("demo", help="train XOR with a 2-2-1 network and show the error")
    d.add_argument("--epochs", type=_positive_int, default=5000, help="default: 5000")
    d.add_argument("--eta", type=_positive_float, default=0.5, help="learning rate (default 0.5)")
    d.add_argument("--seed", type=int, default=0, help="initial weights and order (default 0)")
    d.set_defaults(run=demo)
    b = commands.add_parser("bench", help="time training against PyTorch, JAX, scikit-learn, "
                            "NumPy (those installed); a Markdown report")
    b.add_argument("--full", action="store_true",
                   help="the full run (a few minutes), as python scripts/bench.py")
    b.add_argument("--threads", type=_positive_int, default=None,
                   help="threads for every implementation (default: all cores)")
    b.set_defaults(run=bench)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, TypeError, OSError, TrainingDiverged) as err:
        print(f"nbbackprop {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"nbbackprop {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
