"""Memory: fit reads float64 data in place (never a copy, let alone one per epoch), the
compiled code frees everything it allocates, and repeated fits do not grow the process.
scripts/memory.py measures the same at full size (60,000 samples, 784-256-128-64-10)."""

import json
import textwrap

import numpy as np

import nbbackprop as nb
import processes
from nbbackprop import training


def test_fit_reads_float64_c_contiguous_data_in_place(monkeypatch):
    real, seen = training.epochs_driver, []

    def epochs_driver(*settings):
        driver = real(*settings)

        def train_epochs(theta, layout, X, T, *rest):
            seen.append((X, T))
            return driver(theta, layout, X, T, *rest)

        return train_epochs

    monkeypatch.setattr(training, "epochs_driver", epochs_driver)
    monkeypatch.setattr("nbbackprop.network._CHUNK_SECONDS", 0.0)  # many compiled calls
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(50, 4)), rng.random((50, 2))
    nb.Network([4, 3, 2], seed=0).fit(X, T, epochs=3)
    assert len(seen) > 3
    assert all(np.shares_memory(x, X) and np.shares_memory(t, T) for x, t in seen)


CHILD = textwrap.dedent("""
    import json, os
    import numpy as np
    import nbbackprop as nb
    from numba.core.runtime import rtsys

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(64, 8)), rng.random((64, 2))
    net = nb.Network([8, 16, 2], "tanh", seed=0)
    counts, sizes = [], []
    for calls in range(1, 1001):
        history = net.fit(X, T, epochs=2, eta=0.01, batch_size=4, momentum=0.5)
        net.forward(X), net.error(X, T), net.gradient(X, T)
        if calls in (100, 1000):
            stats = rtsys.get_allocation_stats()
            counts.append(stats.alloc - stats.free)
            sizes.append(rss())
    print(json.dumps({"unfreed": counts, "rss": sizes}))
""")


def test_compiled_code_frees_what_it_allocates_and_memory_stays_flat():
    result = processes.run(["-c", CHILD], env=processes.environment(NUMBA_NRT_STATS=1))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["unfreed"] == [0, 0]  # every array the kernels made was freed
    growth = report["rss"][1] - report["rss"][0]
    # 900 more calls of fit, forward, error and gradient: a leak of even 1 KB per call
    # would show as ~1 MB; allocator noise is far smaller.
    assert growth < 1_000_000, f"RSS grew by {growth} bytes over 900 calls"
