"""The same seed gives bit-identical weights and histories: across runs and processes,
with NUMBA_NUM_THREADS=1 or 2, with the kernels loaded from the on-disk cache or compiled
in memory because no cache directory is writable, and with two threads training at once."""

import hashlib
import json
import os
import shutil
import threading

import numpy as np

import nbbackprop as nb
import processes
from nbbackprop import fast, formulas, training


def fingerprint():
    """A digest of everything seeded: initial weights, training (online and mini-batch
    with momentum, shuffled), the error history, forward and gradient."""
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(40, 5)), rng.random((40, 3))
    digest = hashlib.sha256()
    for batch_size, momentum in ((1, 0.0), (4, 0.9)):
        net = nb.Network([5, 8, 6, 3], ["tanh", "relu", "sigmoid"], seed=11)
        digest.update(net.parameters.tobytes())
        history = net.fit(X, T, epochs=30, eta=0.1, batch_size=batch_size, momentum=momentum,
                          seed=12)
        gw, gb = net.gradient(X, T)
        for array in (net.parameters, history.errors, net.forward(X), *gw, *gb):
            digest.update(array.tobytes())
    return digest.hexdigest()


CHILD = """
import json, sys, warnings
warnings.simplefilter("always")
sys.path.insert(0, {tests!r})
from test_determinism import fingerprint
from nbbackprop import training
digest = fingerprint()
stats = training.train_epochs.stats
print(json.dumps({{"digest": digest, "cache_hits": sum(stats.cache_hits.values()),
                  "cache_path": stats.cache_path}}))
"""


def fingerprint_in_a_new_process(path=None, **env):
    """Start a new process computing the fingerprint; call the result to wait for it and
    get (what it printed, as JSON; its stderr)."""
    code = CHILD.format(tests=os.path.dirname(os.path.abspath(__file__)))
    child = processes.start(["-c", code], env=processes.environment(
        **({"path": path} if path else {}), **env))

    def result():
        stdout, stderr = child.communicate(timeout=300)
        assert child.returncode == 0, stderr
        return json.loads(stdout), stderr

    return result


def unwritable(tmp_path, name):
    """A directory path nobody can create, not even root: its parent is a regular file."""
    (tmp_path / "a-file").touch()
    return tmp_path / "a-file" / name


def test_same_seed_same_bits_across_processes_threads_and_the_compile_cache(tmp_path):
    # A new process, two threads, and no writable cache directory anywhere (a read-only
    # install): Numba refuses cache=True there, so the kernels are compiled in memory. It
    # takes longest, so it starts first and runs beside the rest.
    copy = tmp_path / "site"
    shutil.copytree(processes.PACKAGE, copy / "nbbackprop",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "nbbackprop" / "__pycache__").touch()  # the package's own cache cannot be made
    cold_process = fingerprint_in_a_new_process(
        path=str(copy), NUMBA_NUM_THREADS=2, NUMBA_CACHE_DIR=unwritable(tmp_path, "numba"),
        XDG_CACHE_HOME=unwritable(tmp_path, "cache"))

    here = fingerprint()
    assert fingerprint() == here  # twice in one process

    # A new process, one thread, the kernels loaded from the on-disk cache.
    warm, _ = fingerprint_in_a_new_process(NUMBA_NUM_THREADS=1, NUMBA_CACHE_DIR=None)()
    assert warm["digest"] == here and warm["cache_hits"] > 0

    cold, stderr = cold_process()
    assert cold["digest"] == here and cold["cache_hits"] == 0 and cold["cache_path"] is None
    warnings = [line for line in stderr.splitlines() if "Warning" in line]
    assert len(warnings) == 1 and "no writable directory for Numba's compile cache" in stderr


def test_two_threads_training_two_networks_at_once_match_training_them_in_turn():
    rng = np.random.default_rng(1)
    jobs = [(nb.Network([20, 30, 4], "tanh", seed=seed), rng.normal(size=(300, 20)),
             rng.random((300, 4)), batch_size) for seed, batch_size in ((1, 1), (2, 8))]
    in_turn = []
    for net, X, T, batch_size in jobs:
        copy = net.copy()
        history = copy.fit(X, T, epochs=40, eta=0.05, batch_size=batch_size, momentum=0.5)
        in_turn.append((copy.parameters, history.errors))

    results, barrier = [None, None], threading.Barrier(2)

    def train(k):
        net, X, T, batch_size = jobs[k]
        barrier.wait()  # start together; the kernels release the GIL, so they overlap
        history = net.fit(X, T, epochs=40, eta=0.05, batch_size=batch_size, momentum=0.5)
        results[k] = (net.parameters, history.errors)

    threads = [threading.Thread(target=train, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for (parameters, errors), (expected_parameters, expected_errors) in zip(results, in_turn):
        np.testing.assert_array_equal(parameters, expected_parameters)
        np.testing.assert_array_equal(errors, expected_errors)


def test_the_kernels_release_the_gil():
    """What lets two threads train at once: every kernel is compiled with nogil=True."""
    for kernel in (training.train_epochs, training.train_online_epochs, fast.forward_all,
                   fast.mean_error,
                   formulas.mean_gradient):
        assert kernel.targetoptions.get("nogil") is True, kernel
