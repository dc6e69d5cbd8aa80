"""What watching costs fit: the time of a run with validation (a compiled call and a
validation pass after every epoch), with a callback, and with the progress bar, as a ratio
to the same run without; best of 5 runs each. The results are the same bits in every case.

    python scripts/watch_cost.py
"""

import time

import numpy as np

import nbbackprop as nb


def best_time(X, T, sizes, epochs, **watch):
    times = []
    for _ in range(5):
        net = nb.Network(sizes, seed=0)
        tic = time.perf_counter()
        net.fit(X, T, epochs=epochs, eta=0.5, **watch)
        times.append(time.perf_counter() - tic)
    return min(times)


def main():
    xor = nb.xor()
    rng = np.random.default_rng(0)
    X = rng.random((1500, 64))
    T = np.eye(10)[rng.integers(0, 10, 1500)]
    problems = [("XOR, 2-3-1, 4 samples, 20000 epochs", xor, xor, [2, 3, 1], 20000),
                ("64-30-10, 1200 samples (300 to validate), 20 epochs", (X[:1200], T[:1200]),
                 (X[1200:], T[1200:]), [64, 30, 10], 20)]
    best_time(*xor, [2, 3, 1], 2, validation=xor, callback=print, callback_every=10)  # compile
    for name, (X, T), validation, sizes, epochs in problems:
        plain = best_time(X, T, sizes, epochs)
        ratios = {
            "validation": best_time(X, T, sizes, epochs, validation=validation),
            "callback (every chunk)": best_time(X, T, sizes, epochs, callback=lambda info: None),
            "callback_every=1": best_time(X, T, sizes, epochs, callback=lambda info: None,
                                          callback_every=1),
        }
        print(name)
        for what, seconds in ratios.items():
            print(f"  {what:<24} {seconds / plain:5.2f} × the time without")


if __name__ == "__main__":
    main()
