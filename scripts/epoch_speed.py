"""Training speed of whichever nbbackprop is imported, for comparing two versions of it.

    PYTHONPATH=path/to/one/checkout/src python scripts/epoch_speed.py [--weight-decay L]
        [--samples N] [--runs R]

Trains the benchmark's shapes without shuffling (XOR for 2-2-1, uniform synthetic data
otherwise), the error pass included, and prints the best of several runs per shape, in
samples per second. Run it on two checkouts in turn, a few times each, and compare the
ratios: absolute figures move with the machine's load. On a busy machine, short runs
(``--samples 32 --runs 150``: a run of a few milliseconds fits between other processes'
turns, and the best of many finds one that did) are steadier than long ones; they also
count the cost per ``fit`` call and per epoch more.
"""

import argparse
import time

import numpy as np

import nbbackprop as nb

CASES = [((2, 2, 1), 1, 20000), ((64, 32, 10), 1, 20), ((784, 100, 10), 1, 4),
         ((784, 100, 10), 32, 4), ((784, 256, 128, 64, 10), 1, 1),
         ((784, 256, 128, 64, 10), 32, 2)]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python scripts/epoch_speed.py")
    p.add_argument("--weight-decay", type=float, default=0.0, help="λ for every fit (default 0)")
    p.add_argument("--samples", type=int, default=1024,
                   help="training samples of the synthetic shapes (default 1024)")
    p.add_argument("--runs", type=int, default=7, help="timed runs per shape, the best "
                   "counts (default 7)")
    args = p.parse_args(argv)
    decay = args.weight_decay
    rng = np.random.default_rng(0)
    print(f"nbbackprop {nb.__version__} from {nb.__file__}, weight decay {decay}")
    for sizes, batch_size, epochs in CASES:
        if sizes == (2, 2, 1):
            X, T = nb.xor()
        else:
            X, T = rng.random((args.samples, sizes[0])), rng.random((args.samples, sizes[-1]))
        net = nb.Network(sizes, seed=0)
        kwargs = {"weight_decay": decay} if decay else {}  # older versions lack the argument
        net.fit(X, T, epochs=1, eta=1e-3, batch_size=batch_size, **kwargs)  # warm up
        best = np.inf
        for _ in range(args.runs):
            tic = time.perf_counter()
            net.fit(X, T, epochs=epochs, eta=1e-3, batch_size=batch_size, shuffle=False, **kwargs)
            best = min(best, time.perf_counter() - tic)
        name = "-".join(map(str, sizes))
        print(f"{name:>18}  batch {batch_size:>2}  {len(X) * epochs / best:>12,.0f} samples/s")


if __name__ == "__main__":
    main()
