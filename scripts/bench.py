"""The benchmark: nbbackprop and its peers training the same network, in one run.

    python scripts/bench.py [--threads N] [--json FILE] > results.md  # the full run
    python scripts/bench.py --quick [--threads N]                     # a quick run

Every implementation starts from the same weights of the same network (sigmoid hidden
layers, a linear output layer, E = ½ Σ_k (t_k − y_k)²), trains on the same data in data
order with the same η and batch size, and computes the training-set error after every
epoch, as ``Network.fit`` does. Reported: samples per second (the median of several timed
runs), how many times faster nbbackprop is, and the relative difference between each
peer's error after its first epoch and nbbackprop's: the check that they all ran the same
algorithm. Next to nbbackprop's figure stands its share of the roofline, measured in the
same run by ``roofline.py`` beside this script: the most one core can do for that work,
by its peak of vector multiplies and adds and by the rate at which it reads and writes
back an array of the weights' size.
Batches also get a row for ``fit(..., exact=False)``, nbbackprop's opt-in inexact sums
(FMA, any order): its "× faster" is the exact path's speed over its own, and the Targets
compare it with the peers too.
``--json FILE`` saves the figures as JSON too.

The peers: the NumPy textbook baseline in ``numpy_sgd.py`` and the trainers of
``bench_peers.py``, both beside this script; PyTorch, JAX and scikit-learn are optional,
and each one not installed is reported as skipped on a line of its own. nbbackprop is
used through its public API only. Progress goes to stderr; the report, in Markdown, to
stdout. docs/performance.md explains the figures and gives a run's results.
"""

import argparse
import dataclasses
import importlib.util
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import nbbackprop as nb


def _beside(name):
    """The module ``name``.py beside this script, loaded from its path: the same file
    whatever the current directory or sys.path."""
    path = Path(__file__).resolve().with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_peers, numpy_sgd, roofline = (_beside("bench_peers"), _beside("numpy_sgd"),
                                    _beside("roofline"))
machine_info = _beside("machine")

# name, layer sizes, learning rate; the data are XOR for 2-2-1, else synthetic.
SHAPES = [
    ("2-2-1", (2, 2, 1), 0.5),
    ("64-32-10", (64, 32, 10), 0.01),
    ("784-100-10", (784, 100, 10), 0.001),
    ("784-256-128-64-10", (784, 256, 128, 64, 10), 0.001),
]
BATCHES = (1, 32)
TORCH64, JAX = "PyTorch float64", "JAX float64, jit + lax.scan"
# nbbackprop's opt-in inexact mini-batches (FMA, sums in any order), a row of its own.
INEXACT = "nbbackprop, fit(exact=False)"


@dataclasses.dataclass
class Settings:
    samples: int  # training samples per synthetic data set
    repeats: int  # timed runs per figure; the report gives their median
    seconds: float  # length of one timed run
    cold_repeats: int  # fresh processes per cold-start figure
    compile_and_memory: bool  # also time an empty cache and measure the 60,000-sample run


QUICK = Settings(samples=256, repeats=3, seconds=0.1, cold_repeats=3, compile_and_memory=False)
FULL = Settings(samples=1024, repeats=5, seconds=0.4, cold_repeats=5, compile_and_memory=True)


@dataclasses.dataclass
class Case:
    name: str
    sizes: tuple
    eta: float
    X: np.ndarray
    T: np.ndarray
    weights: list  # the common starting point
    biases: list

    @property
    def activations(self):
        return ["sigmoid"] * (len(self.sizes) - 2) + ["linear"]


def make_case(name, sizes, eta, samples, seed=0):
    """XOR for 2-2-1; otherwise inputs uniform in [0, 1) and one-hot targets of random classes."""
    rng = np.random.default_rng(seed)
    if sizes == (2, 2, 1):
        X, T = nb.xor()
    else:
        X = rng.random((samples, sizes[0]))
        T = np.eye(sizes[-1])[rng.integers(sizes[-1], size=samples)]
    start = nb.Network(sizes, "sigmoid", output_activation="linear", seed=seed)
    return Case(name, sizes, eta, X, T, [w.copy() for w in start.weights],
                [b.copy() for b in start.biases])


def weights(sizes):
    """W, the number of weights (biases not counted), and W′, those above the first layer."""
    layers = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return sum(layers), sum(layers[1:])


def flops_per_sample(sizes, batch=1):
    """Floating-point operations per training sample and epoch that the exact algorithm
    cannot do without, each multiply and each add counting 1 (no FMA): forward 2W, hidden
    deltas 2W′, the epoch's error pass 2W, and the step: online 3W (w_ij − η·(δ_j·y_i), the
    reference's order, two multiplies and a subtraction), in a batch of b the gradient's
    sum 2W plus the step 3W/b (w − η·(g·(1/b))). Biases and activations are left out."""
    W, W_above = weights(sizes)
    if batch == 1:
        return 7 * W + 2 * W_above
    return 6 * W + 2 * W_above + 3 * W / batch


def bytes_per_sample(sizes, batch=1):
    """Bytes per training sample that must move between the core and the cache holding the
    weights: every float64 weight read and written once per step, 16W/b. (The sample
    itself, the activations and the error pass, whose sweeps can serve many samples at a
    time, are left out: fewer bytes, a higher roof.)"""
    return 16 * weights(sizes)[0] / batch


def roof_samples(sizes, batch, threads, peak, bandwidth):
    """The most samples per second the roofline allows: the compute time per sample at one
    core's ``peak`` (FLOP/s) and the weights' traffic at one core's ``bandwidth`` (B/s),
    the larger of the two. With ``threads`` > 1 the error pass, and a batch's step, may
    use that many cores (the data are theirs to share); online steps may not, as each
    sample needs the weights its predecessor left."""
    W, W_above = weights(sizes)
    flops = flops_per_sample(sizes, batch)
    error_pass = 2 * W
    step_cores = 1 if batch == 1 else threads
    compute = (flops - error_pass) / (step_cores * peak) + error_pass / (threads * peak)
    return 1 / max(compute, bytes_per_sample(sizes, batch) / (step_cores * bandwidth))


# --- the implementations -------------------------------------------------------------------
# Each trainer is built from a Case and a batch size; ``run(epochs)`` trains that many epochs
# (each followed by the training-set error) and returns the error after the last one. Those
# of PyTorch, JAX and scikit-learn are in bench_peers.py.


class NbbackpropTrainer:
    label = "nbbackprop"

    def __init__(self, case, batch, exact=True):
        self.case, self.batch, self.exact = case, batch, exact
        self.net = nb.Network.from_weights(case.weights, case.biases, case.activations)

    def run(self, epochs):
        history = self.net.fit(self.case.X, self.case.T, epochs=epochs, eta=self.case.eta,
                               batch_size=self.batch, shuffle=False, exact=self.exact)
        return float(history.errors[-1])


class NumpyTrainer:
    label = "NumPy textbook (scripts/numpy_sgd.py)"
    batches = (1,)

    def __init__(self, case, batch):
        self.case = case
        self.model = numpy_sgd.NumpySGD(case.weights, case.biases, case.eta)

    def run(self, epochs):
        for _ in range(epochs):
            self.model.epoch(self.case.X, self.case.T)
            error = self.model.error(self.case.X, self.case.T)
        return error


def peers(threads, blas_process=None):
    """(label, batch sizes, trainer factory or None, why it is skipped). The NumPy
    baseline runs in ``blas_process`` if one is given; PyTorch at batch 1 is also run on
    the other thread count (one, or all cores), its threads being the ones that spin."""
    found = {name: importlib.util.find_spec(name) is not None
             for name in ("torch", "jax", "sklearn")}
    numpy = (NumpyTrainer if blas_process is None else
             lambda case, batch: CleanBlasNumpyTrainer(blas_process, case, batch))
    rows = [("NumPy textbook, per sample (scripts/numpy_sgd.py)", (1,), numpy, "")]
    for dtype in ("float64", "float32"):
        rows.append((f"PyTorch {dtype}", BATCHES,
                     (lambda case, batch, d=dtype: bench_peers.TorchTrainer(case, batch, d))
                     if found["torch"] else None, "torch is not installed"))
    other = 1 if threads > 1 else os.cpu_count()
    if other != threads:
        rows.append((f"{TORCH64} on {other} thread(s)", (1,),
                     (lambda case, batch: bench_peers.TorchTrainer(case, batch, "float64",
                                                                   threads=other))
                     if found["torch"] else None, "torch is not installed"))
    rows.append((JAX, BATCHES,
                 bench_peers.JaxTrainer if found["jax"] else None, "jax is not installed"))
    rows.append(('scikit-learn MLPRegressor(solver="sgd"), partial_fit', BATCHES,
                 bench_peers.SklearnTrainer if found["sklearn"] else None,
                 "scikit-learn is not installed"))
    return rows


# --- measuring -------------------------------------------------------------------------------


def log(*words):
    print(*words, file=sys.stderr, flush=True)


# Seconds to wait before each timing: idle OpenMP and XLA threads spin for a moment after
# their last task, taking a core from whoever is timed next.
SETTLE = 0.05


def calibrate(trainer, seconds):
    """How many epochs one timed run of ``trainer`` needs to last about ``seconds``.

    Timed runs of growing length until one lasts at least a tenth of ``seconds``: a run of
    one epoch is mostly the fixed cost of a call (a few microseconds to a tenth of a
    millisecond, for any trainer), so scaling from it alone would make the timed runs of a
    fast trainer far too short and charge it that fixed cost again and again.
    """
    epochs = 1
    while True:
        tic = time.perf_counter()
        trainer.run(epochs)
        elapsed = time.perf_counter() - tic
        if elapsed >= seconds / 10:
            return max(1, round(epochs * seconds / elapsed))
        epochs *= 10 if elapsed < seconds / 100 else 2


def measure(trainers, samples, settings, roof):
    """{label: (first-epoch error, samples per second)} and the medians of the numbers
    ``roof()`` returns, for epochs of ``samples`` samples (or a trainer's own ``samples``).

    Each trainer first runs one untimed epoch from the common start (it compiles what
    needs compiling; its error is compared with nbbackprop's), then runs of growing
    length find how many epochs fill ``seconds`` (``calibrate``). Then come ``repeats``
    rounds in which ``roof`` and every trainer are timed once each, so that load from
    other processes falls on all of them alike; a trainer's speed is the median of its
    rounds. A trainer that fails is reported with its exception instead.
    """
    first, epochs, times = {}, {}, {}
    for label, trainer in trainers:
        try:
            first[label] = trainer.run(1)
            epochs[label] = calibrate(trainer, settings.seconds)
            times[label] = []
        except Exception as err:  # a peer failing must not end the run
            first[label] = err
    roofs = []
    for _ in range(settings.repeats):
        roofs.append(roof())
        for label, trainer in trainers:
            if label in times:
                time.sleep(SETTLE)
                tic = time.perf_counter()
                trainer.run(epochs[label])
                times[label].append(time.perf_counter() - tic)
    results = {}
    for label, trainer in trainers:
        if label in times:
            per_epoch = getattr(trainer, "samples", samples)
            results[label] = (first[label],
                              per_epoch * epochs[label] / statistics.median(times[label]))
        else:
            results[label] = first[label], None
    return results, [statistics.median(column) for column in zip(*roofs)]


def matmul_gflops(repeats, n=2000):
    """GFLOP/s of a float64 n×n matrix product (NumPy's BLAS, all its threads)."""
    rng = np.random.default_rng(0)
    A, B = rng.random((n, n)), rng.random((n, n))
    A @ B
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        A @ B
        times.append(time.perf_counter() - tic)
    return 2 * n**3 / statistics.median(times) / 1e9


NARROW = 4  # doubles: 256-bit vectors, the widest LLVM prefers on Intel's AVX-512 cores


def roofline_point(nbytes, seconds):
    """(one core's FLOP/s of vector multiplies and adds at the best vector width; its
    bandwidth in B/s reading and writing back an array of ``nbytes``, as a step reads and
    writes each weight, each byte counted once read and once written; its FLOP/s on
    vectors of NARROW doubles, or fewer if the CPU has no such vectors): each the best of
    three short runs of ``scripts/roofline.py``'s micro-benchmarks, as load from other
    processes can only slow them."""
    runs = [roofline.compute_peaks(seconds / 6) for _ in range(3)]
    narrow = min(NARROW, max(runs[0]))
    peak = max(max(rates.values()) for rates in runs)
    bandwidth = max(roofline.update_bandwidth(nbytes, seconds / 6)[0] for _ in range(3))
    return peak * 1e9, bandwidth * 1e9, max(rates[narrow] for rates in runs) * 1e9


# --- NumPy without the environment's OpenBLAS settings --------------------------------------
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, where set, pick an OpenBLAS kernel and blocking
# that slow a current NumPy. The NumPy peer and the BLAS reference figure then run in a
# process of their own with both unset, driven through a pipe round by round.

OPENBLAS_SETTINGS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

WORKER = """
import importlib.util, pickle, sys
spec = importlib.util.spec_from_file_location("bench", sys.argv[1])
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
bench.set_threads(int(sys.argv[2]))
requests, replies, state = sys.stdin.buffer, sys.stdout.buffer, {}
while (request := pickle.load(requests)) is not None:
    name, args = request
    pickle.dump(getattr(bench, name)(state, *args), replies)
    replies.flush()
"""


def worker_trainer(state, fields, batch):
    state["trainer"] = NumpyTrainer(Case(**fields), batch)


def worker_run(state, epochs):
    return state["trainer"].run(epochs)


def worker_call(state, name, *args):
    return globals()[name](*args)


class CleanBlasProcess:
    """A Python process with this environment minus OPENBLAS_SETTINGS that runs this
    script's functions on request."""

    def __init__(self, threads):
        env = {k: v for k, v in _python_env().items() if k not in OPENBLAS_SETTINGS}
        self.process = subprocess.Popen([sys.executable, "-c", WORKER, __file__, str(threads)],
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def __call__(self, name, *args):
        pickle.dump((name, args), self.process.stdin)
        self.process.stdin.flush()
        return pickle.load(self.process.stdout)

    def close(self):
        pickle.dump(None, self.process.stdin)
        self.process.stdin.close()
        self.process.wait()


class CleanBlasNumpyTrainer:
    """NumpyTrainer in a CleanBlasProcess."""

    def __init__(self, process, case, batch):
        self.process = process
        process("worker_trainer", dataclasses.asdict(case), batch)

    def run(self, epochs):
        return self.process("worker_run", epochs)


def blas_kernels():
    """Which BLAS libraries this process has loaded and the kernel each picked at run time
    (threadpoolctl), as text."""
    if importlib.util.find_spec("threadpoolctl") is None:
        return "unknown (threadpoolctl is not installed)"
    import threadpoolctl

    found = [f"{pool.get('internal_api')} {pool.get('version')}, kernel "
             f"{pool.get('architecture')}, {pool.get('num_threads')} thread(s) "
             f"({Path(pool.get('filepath', '?')).name})"
             for pool in threadpoolctl.threadpool_info() if pool.get("user_api") == "blas"]
    return "; ".join(found) or "none loaded"


def _python_env(**extra):
    """The environment for a fresh Python that imports this same nbbackprop."""
    env = dict(os.environ, **extra)
    src = str(Path(nb.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    return env


COLD_START = """
import time
tic = time.perf_counter()
import nbbackprop as nb
X, T = nb.xor()
nb.Network([2, 2, 1], seed=0).fit(X, T, epochs=1)
print(time.perf_counter() - tic)
"""


def cold_start(repeats, cache_dir=None):
    """Median seconds, in a fresh process, of ``import nbbackprop`` and a first ``fit``
    (and of the whole process, interpreter start-up included)."""
    inside, whole = [], []
    for _ in range(repeats):
        env = _python_env(**({"NUMBA_CACHE_DIR": cache_dir} if cache_dir else {}))
        tic = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", COLD_START], env=env, check=True,
                             capture_output=True, text=True).stdout
        whole.append(time.perf_counter() - tic)
        inside.append(float(out.split()[-1]))
    return statistics.median(inside), statistics.median(whole)


MEMORY = """
import resource, sys, time
import numpy as np
import nbbackprop as nb
def peak():  # MiB; VmHWM is this address space's own (ru_maxrss counts the parent's at fork)
    try:
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
sizes, batch = (784, 256, 128, 64, 10), int(sys.argv[1])
net = nb.Network(sizes, "sigmoid", output_activation="linear", seed=0)
net.copy().fit(np.zeros((batch, 784)), np.zeros((batch, 10)), epochs=1, batch_size=batch)
loaded = peak()  # the interpreter, NumPy, Numba and the compiled kernels
rng = np.random.default_rng(0)
X = rng.random((60000, 784))
T = np.eye(10)[rng.integers(10, size=60000)]
data = peak()
tic = time.perf_counter()
net.fit(X, T, epochs=1, eta=0.001, batch_size=batch, shuffle=False)
print(loaded, data, peak(), time.perf_counter() - tic)
"""


def training_memory(batch):
    """Peak resident memory (MiB) of a fresh process that trains the deep shape for one
    epoch on 60,000 synthetic samples: with the kernels loaded, with the float64 data
    made, at the end; and the epoch's seconds."""
    out = subprocess.run([sys.executable, "-c", MEMORY, str(batch)], env=_python_env(),
                         check=True, capture_output=True, text=True).stdout.split()
    return [float(value) for value in out]


def machine(threads):
    """Lines describing this machine and the software versions."""
    model, flags = machine_info.cpu_info()
    if flags:
        model += " (" + ", ".join(f"{flag} {'yes' if flag in flags else 'no'}"
                                  for flag in ("avx2", "fma", "avx512f")) + ")"
    import numba

    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}",
                f"Numba {numba.__version__}", f"nbbackprop {nb.__version__}"]
    for name in ("torch", "jax", "sklearn"):
        if importlib.util.find_spec(name):
            versions.append(f"{name} {importlib.import_module(name).__version__}")
    return [f"- CPU: {model}, {os.cpu_count()} logical cores; {threads} thread(s) for every "
            "implementation (nbbackprop's online SGD uses one)",
            f"- {platform.system()} {platform.release()}; " + ", ".join(versions)]


def set_threads(threads):
    """The same thread count for Numba, PyTorch and BLAS (JAX reads XLA_FLAGS at import)."""
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    if importlib.util.find_spec("torch"):
        import torch

        torch.set_num_threads(threads)
    if importlib.util.find_spec("threadpoolctl"):
        import threadpoolctl

        threadpoolctl.threadpool_limits(threads)
    os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen={threads > 1} "
                          f"intra_op_parallelism_threads={threads}")


# --- the report ---------------------------------------------------------------------------------


def run(settings, threads, command, json_path=None):
    """Measure everything; print the Markdown report (``command``: how it was run, Markdown)
    and, given ``json_path``, save its figures there as JSON."""
    set_threads(threads)
    started = time.perf_counter()
    out = []
    out.append(f"Command: {command}\n")
    out += machine(threads)
    unset = [name for name in OPENBLAS_SETTINGS if name in os.environ]
    blas_process = CleanBlasProcess(threads) if unset else None
    blas = blas_process or (lambda name, *args: globals()[name](*args))
    if unset:
        out.append(f"- this environment sets {', '.join(f'{n}={os.environ[n]}' for n in unset)}"
                   "; the NumPy peer and the matrix product below run in a process of their "
                   "own without them")
    if blas_process:
        out.append(f"- BLAS, NumPy peer's process: {blas_process('worker_call', 'blas_kernels')}")
    out.append(f"- BLAS, this process: {blas_kernels()}")
    log("float64 matrix product ...")
    product = blas("worker_call", "matmul_gflops", settings.repeats) if blas_process else \
        matmul_gflops(settings.repeats)
    out.append(f"- float64 matrix product 2000×2000 (NumPy BLAS, FMA, {threads} thread(s)): "
               f"**{product:.1f} GFLOP/s**")
    out.append(f"- every figure is the median of {settings.repeats} timed runs of about "
               f"{settings.seconds} s, after a warm-up epoch; the runs of all implementations "
               "of a shape and batch size, and the roofline's micro-benchmarks, take turns, "
               "round by round")
    if hasattr(os, "getloadavg"):
        out.append("- load average (1, 5, 15 min) at the start: "
                   + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    out.append("")
    available = peers(threads, blas_process)
    for label, _, factory, why in available:
        if factory is None:
            out.append(f"- skipped: {label}: {why}")
    summary, roofs = {}, []
    for name, sizes, eta in SHAPES:
        case = make_case(name, sizes, eta, settings.samples)
        n = len(case.X)
        nbytes = 8 * weights(sizes)[0]
        out.append(f"\n### {name} ({n} samples, η = {eta}, {nbytes / 1e3:,.1f} kB of "
                   f"weights)\n")
        out.append("| implementation | batch | samples/s | nbbackprop is × faster "
                   "| first-epoch error vs nbbackprop |")
        out.append("|---|---:|---:|---:|---:|")
        for batch in BATCHES:
            if batch > n:
                continue
            log(f"{name}, batch {batch} ...")
            trainers = [("nbbackprop", NbbackpropTrainer(case, batch))]
            if batch > 1:
                trainers.append((INEXACT, NbbackpropTrainer(case, batch, exact=False)))
            for label, batches, factory, _ in available:
                if factory is not None and batch in batches:
                    try:
                        trainers.append((label, factory(case, batch)))
                    except Exception as err:  # a peer failing must not end the run
                        out.append(f"| {label} | {batch} | failed: {type(err).__name__}: "
                                   f"{err} | | |")
            results, (peak, bandwidth, narrow) = measure(
                trainers, n, settings,
                lambda b=nbytes: roofline_point(b, settings.seconds / 2))
            comparable = {label for label, trainer in trainers
                          if getattr(trainer, "samples", n) == n}
            nb_error, nb_speed = results.pop("nbbackprop")
            ceiling = roof_samples(sizes, batch, threads, peak, bandwidth)
            narrow_ceiling = roof_samples(sizes, batch, threads, narrow, bandwidth)
            summary[name, batch] = {"nbbackprop": nb_speed, "roof": ceiling,
                                    "share of roof": nb_speed / ceiling,
                                    f"share of the {NARROW}-double roof":
                                        nb_speed / narrow_ceiling}
            roofs.append((name, batch, sizes, nbytes, peak, bandwidth, ceiling, nb_speed,
                          narrow, narrow_ceiling))
            out.append(f"| **nbbackprop** ({nb_speed / ceiling:.2g} of the roof) | {batch} "
                       f"| **{nb_speed:,.0f}** | 1 | — |")
            for label, (error, speed) in results.items():
                if speed is None:
                    out.append(f"| {label} | {batch} | failed: {type(error).__name__}: "
                               f"{error} | | |")
                    continue
                summary[name, batch][label] = speed
                agree = abs(error - nb_error) / abs(nb_error) if label in comparable else np.nan
                out.append(f"| {label} | {batch} | {speed:,.0f} | {nb_speed / speed:.2f} "
                           f"| {agree:.1e} |")
    if blas_process:
        blas_process.close()
    out += roofline_table(roofs, threads)
    out.append("\n### Start-up and memory\n")
    log("cold start, warm cache ...")
    inside, whole = cold_start(settings.cold_repeats)
    summary["cold start"] = inside
    out.append(f"- fresh process, warm on-disk cache: `import nbbackprop` + first `fit` "
               f"**{inside:.2f} s** ({whole:.2f} s with the interpreter's own start-up); "
               f"median of {settings.cold_repeats} processes")
    if settings.compile_and_memory:
        log("cold start, empty cache (compiles what a first online fit needs) ...")
        with tempfile.TemporaryDirectory() as empty:
            inside, whole = cold_start(1, cache_dir=empty)
        summary["cold start, empty cache"] = inside
        out.append(f"- fresh process, empty cache (compiling what a first online fit needs): "
                   f"**{inside:.1f} s** ({whole:.1f} s whole process); one process")
        for batch in BATCHES:
            log(f"memory: 784-256-128-64-10 on 60,000 samples, batch {batch} ...")
            base, data, peak, seconds = training_memory(batch)
            out.append(f"- peak memory, one epoch of 784-256-128-64-10 on 60,000 synthetic "
                       f"samples, batch {batch}: **{peak:.0f} MiB**: {base:.0f} MiB with the "
                       f"kernels loaded, {data - base:.0f} MiB of float64 data, "
                       f"{peak - data:.0f} MiB for training; the epoch took {seconds:.1f} s")
    else:
        out.append("- (empty-cache start-up and the 60,000-sample memory run: "
                   "`python scripts/bench.py` only)")
    out.append("- full gradient check vs `torch.autograd.gradcheck`: measured by "
               "`scripts/bench_gradcheck.py`, not here")
    if hasattr(os, "getloadavg"):
        out.append("- load average (1, 5, 15 min) at the end: "
                   + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    out += targets(summary)
    seconds = time.perf_counter() - started
    out.append(f"\nWhole run: {seconds:.0f} s.")
    print("\n".join(out))
    if json_path:
        save_json(json_path, command, out, summary, roofs, threads, seconds)
    return summary


def roofline_table(roofs, threads):
    """The roofline of each shape and batch size, in Markdown."""
    out = ["\n### Roofline\n",
           f"One core's peak of float64 vector multiplies and adds (no FMA) and its "
           f"bandwidth reading and writing back an array the size of the weights "
           f"(`scripts/roofline.py`); roof = 1 / max(compute time, weight-traffic time) per "
           f"sample, {threads} thread(s) for the error pass"
           + (" and a batch's step" if threads > 1 else "") + f". The peak is that of the "
           f"widest vectors the CPU has; the last column is the share of the roof computed "
           f"with the peak on vectors of {NARROW} doubles (256 bits) instead.\n",
           "| shape | batch | FLOP/sample | bytes/sample | weights in | GFLOP/s peak "
           f"| on {NARROW} doubles | GB/s read + written | roof, samples/s | nbbackprop | share "
           f"| share of the {NARROW}-double roof |",
           "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for (name, batch, sizes, nbytes, peak, bandwidth, ceiling, speed, narrow,
         narrow_ceiling) in roofs:
        out.append(f"| {name} | {batch} | {flops_per_sample(sizes, batch):,.0f} "
                   f"| {bytes_per_sample(sizes, batch):,.0f} "
                   f"| {roofline.cache_level(nbytes) or '?'} | {peak / 1e9:.1f} "
                   f"| {narrow / 1e9:.1f} | {bandwidth / 1e9:.1f} | {ceiling:,.0f} "
                   f"| {speed:,.0f} | **{speed / ceiling:.2g}** "
                   f"| {speed / narrow_ceiling:.2g} |")
    return out


def save_json(path, command, report, summary, roofs, threads, seconds):
    """The run's figures as JSON: each shape and batch size's samples/s by implementation,
    the roofline, and the report's text."""
    import json

    tables = {}
    for key, figures in summary.items():
        tables[f"{key[0]}, batch {key[1]}" if isinstance(key, tuple) else key] = figures
    document = {
        "command": command.strip("`"), "threads": threads, "seconds": round(seconds, 1),
        "figures": tables,
        "roofline": [{"shape": name, "batch": batch,
                      "flop_per_sample": flops_per_sample(sizes, batch),
                      "bytes_per_sample": bytes_per_sample(sizes, batch),
                      "weights_in": roofline.cache_level(nbytes), "peak_flops": peak,
                      "read_write_bytes_per_second": bandwidth, "roof_samples_per_second": ceiling,
                      "nbbackprop_samples_per_second": speed, "share": speed / ceiling,
                      f"peak_flops_{NARROW}_doubles": narrow,
                      f"roof_samples_per_second_{NARROW}_doubles": narrow_ceiling,
                      f"share_{NARROW}_doubles": speed / narrow_ceiling}
                     for (name, batch, sizes, nbytes, peak, bandwidth, ceiling, speed, narrow,
                          narrow_ceiling) in roofs],
        "report": "\n".join(report),
    }
    Path(path).write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")



def targets(summary):
    """The performance targets, as ratios within this run: met or missed."""
    def ratio(shape, batch, peer):
        speeds = summary.get((shape, batch), {})
        return speeds["nbbackprop"] / speeds[peer] if peer in speeds else None

    def share(shape, batch):
        return summary.get((shape, batch), {}).get("share of roof")

    deep = "784-256-128-64-10"
    rows = [
        ("online SGD 784-100-10, share of the roof", 0.7, share("784-100-10", 1)),
        ("batch 32 784-100-10, share of the roof", 0.7, share("784-100-10", 32)),
        (f"batch 32 {deep}, share of the roof", 0.7, share(deep, 32)),
        ("online SGD vs JAX lax.scan batch 1, 2-2-1 (XOR)", 1.0, ratio("2-2-1", 1, JAX)),
        ("online SGD vs PyTorch float64 batch 1, 64-32-10", 20, ratio("64-32-10", 1, TORCH64)),
        ("online SGD vs JAX lax.scan batch 1, 64-32-10", 1.5, ratio("64-32-10", 1, JAX)),
    ]
    for shape in ("784-100-10", deep):
        rows += [(f"batch 32 vs JAX lax.scan batch 32, {shape}", 1.0, ratio(shape, 32, JAX)),
                 (f"batch 32 vs PyTorch float64 batch 32, {shape}", 1.5,
                  ratio(shape, 32, TORCH64))]
    for shape in ("784-100-10", deep):  # the opt-in, measured against the same peers
        speeds = summary.get((shape, 32), {})
        for peer, wanted in ((JAX, 1.0), (TORCH64, 1.5)):
            rows.append((f"batch 32 with fit(exact=False) vs {peer} batch 32, {shape}", wanted,
                         speeds[INEXACT] / speeds[peer] if {INEXACT, peer} <= set(speeds)
                         else None))
    out = ["\n### Targets\n", "| target | wanted | this run | |", "|---|---:|---:|---|"]
    for what, wanted, got in rows:
        if got is None:
            out.append(f"| {what} | ≥ {wanted} | — | not measured |")
        else:
            verdict = "met" if got >= wanted else "MISSED"
            out.append(f"| {what} | ≥ {wanted} | {got:.2f} | {verdict} |")
    cold = summary["cold start"]
    out.append(f"| fresh process, warm cache: import + first fit | < 1 s | {cold:.2f} s "
               f"| {'met' if cold < 1 else 'MISSED'} |")
    return out


# --- the command ----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def parser():
    p = _Parser(prog="python scripts/bench.py", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="a quick run (about a minute): the same tables, shorter timings, "
                        "without the empty-cache start-up and the 60,000-sample memory run")
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="threads for every implementation (default: all cores)")
    p.add_argument("--json", metavar="FILE", default=None,
                   help="also save the figures and the report as JSON in FILE")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    command = "`python scripts/bench.py" + (" --quick" if args.quick else "") + (
        f" --threads {args.threads}" if args.threads else "") + (
        f" --json {args.json}" if args.json else "") + "`"
    run(QUICK if args.quick else FULL, args.threads or os.cpu_count(), command, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
