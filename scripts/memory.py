"""Memory of training, measured as the process's resident set size (RSS, Linux).

1. A 784-256-128-64-10 sigmoid network trained by online SGD on 60,000 samples
   (X: 60,000 × 784 float64 = 376 MB): the peak RSS during ``fit`` (sampled every 5 ms
   by a second thread; the kernels release the GIL) against the RSS before it. float64
   C-contiguous data is read in place; float32 data is converted once, at the boundary.
2. 1,000 repeated ``fit`` calls (one epoch on 100 of those samples each): RSS after
   call 1, 10, 100 and 1,000, and the arrays Numba's runtime allocated but did not free.

Usage: python scripts/memory.py [--epochs 2] [--calls 1000]   (about 1.5 minutes here)
The figures are quoted in docs/reliability.md.
"""

import argparse
import os
import threading
import time

os.environ.setdefault("NUMBA_NRT_STATS", "1")  # before Numba is imported

import numpy as np  # noqa: E402
from numba.core.runtime import rtsys  # noqa: E402

import nbbackprop as nb  # noqa: E402

MB = 1e6


def rss():
    """Resident set size of this process, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_during(work):
    """(result of work(), peak RSS while it ran, seconds)."""
    peak, done = [rss()], threading.Event()

    def sample():
        while not done.wait(0.005):
            peak[0] = max(peak[0], rss())

    sampler = threading.Thread(target=sample)
    sampler.start()
    tic = time.perf_counter()
    try:
        result = work()
    finally:
        seconds = time.perf_counter() - tic
        done.set()
        sampler.join()
    return result, max(peak[0], rss()), seconds


def unfreed():
    stats = rtsys.get_allocation_stats()
    return stats.alloc - stats.free


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--calls", type=int, default=1000)
    args = p.parse_args()

    nb.Network([2, 2, 1], seed=0).fit(*nb.xor(), epochs=1)  # load the kernels
    rng = np.random.default_rng(0)
    sizes = [784, 256, 128, 64, 10]
    before_data = rss()
    X = rng.random((60_000, 784))
    T = np.eye(10)[rng.integers(0, 10, 60_000)]
    print(f"nbbackprop {nb.__version__}, numpy {np.__version__}; {os.cpu_count()} cores")
    print(f"data: X {X.nbytes / MB:.1f} MB, T {T.nbytes / MB:.1f} MB "
          f"(RSS grew by {(rss() - before_data) / MB:.1f} MB)")

    for label, data in (("float64 X", X), ("float32 X", X.astype(np.float32))):
        net = nb.Network(sizes, seed=0)
        before = rss()
        history, peak, seconds = peak_rss_during(
            lambda net=net, data=data: net.fit(data, T, epochs=args.epochs, eta=0.1))
        print(f"fit, {label}, {history.epochs} epochs of 60,000 samples in {seconds:.1f} s: "
              f"peak RSS {(peak - before) / MB:+.1f} MB over the RSS before fit "
              f"(error {history.errors[0]:.4f} -> {history.errors[-1]:.4f})")
        del data

    net = nb.Network(sizes, seed=0)
    X_small, T_small = X[:100], T[:100]  # views: no copy
    marks = {}
    tic = time.perf_counter()
    for call in range(1, args.calls + 1):
        net.fit(X_small, T_small, epochs=1, eta=0.1)
        if call in (1, 10, 100, 1000, args.calls):
            marks[call] = (rss(), unfreed())
    seconds = time.perf_counter() - tic
    first = marks[1][0]
    print(f"{args.calls} fit calls in {seconds:.1f} s; RSS against call 1 and arrays not "
          "freed by the compiled code:")
    for call, (size, left) in marks.items():
        print(f"  after call {call:>5}: RSS {(size - first) / MB:+.2f} MB, unfreed arrays {left}")


if __name__ == "__main__":
    main()
