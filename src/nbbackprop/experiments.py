"""Backprop's limitations, measured over many independent training runs.

- ``restarts``: the same problem trained from many random starts; how often it reaches
  the target error, how fast, and how the others fail (``OUTCOMES``).
- ``sweep``: ``restarts`` at every point of a grid of settings (η, momentum, the initial
  weight range, the sizes, …).
- ``gradient_profile``: per layer, the norm of ∂C/∂w at initialisation, over n networks.
- ``lr_range``: the error after a fixed budget of epochs for each η of a log-spaced grid,
  divergence marked.

Every run r is seeded from ``(seed, r)``: its seed is ``run_seeds(seed, r, r + 1)[0]``
(NumPy's ``SeedSequence((seed, r))``), used both as the network's ``seed`` (its initial
weights) and as ``fit``'s ``seed`` (its shuffle stream). A run's result therefore
depends on nothing but (seed, r) and the settings: not on the order in which runs are
executed, on the chunking into tasks, or on the number of processes or machines.

Runs are executed in tasks of consecutive runs (``runs.train_many``: one compiled call
for a whole task), in this process (``n_jobs=1``) or through joblib (any other
``n_jobs``): local processes by default, or whatever backend ``joblib.parallel_config``
selects, such as a Dask cluster.
"""

import dataclasses
import itertools
import math

import numpy as np

from . import _validate as check
from . import monitor
from .activations import RELU, SIGMOID, SOFTMAX, TANH
from .exceptions import InvalidType, InvalidValue
from .fast import mean_error
from .layout import split
from .network import FIT_PARAMETERS, NETWORK_PARAMETERS, Network
from .runs import LANES, train_many

#: A run's outcome, in this order of precedence (the first that applies):
#: "diverged" — training stopped because an epoch's error was not finite or exploded
#: (``Network.fit``'s divergence test); "converged" — an epoch's error C reached
#: ``target_error``; and for a run that used all ``max_epochs`` epochs: "stopped" — C
#: still fell by PLATEAU_DECREASE (1 %) or more of its value over the last PLATEAU_WINDOW
#: (10 %) of the epochs; "saturated" — not so, and at the final weights some hidden or
#: output unit is saturated on every training sample (its f'(z) below SATURATION, 1 %, of
#: f's largest slope: a sigmoid output within about 0.0025 of 0 or 1, |tanh| above 0.995,
#: a ReLU unit that is 0 for every sample); "plateau" — neither.
OUTCOMES = ("converged", "plateau", "saturated", "diverged", "stopped")
PLATEAU_WINDOW, PLATEAU_DECREASE, SATURATION = 0.1, 0.01, 0.01
# f's largest slope, by activation code: sigmoid σ' ≤ 1/4; softmax's ∂y_k/∂z_k = y_k(1 − y_k)
# likewise; tanh and ReLU 1. Linear units never saturate.
_MAX_SLOPE = {SIGMOID: 0.25, SOFTMAX: 0.25, TANH: 1.0, RELU: 1.0}
# Tasks per worker when runs go to a pool: enough for the workers to share the runs evenly
# when some runs stop early, few enough that each task is much longer than scheduling it.
TASKS_PER_WORKER = 4
# In this process, tasks only mark progress: about this many.
LOCAL_TASKS = 100
# But at least this many runs per task (unless chunk_size says otherwise): a task's runs
# share LANES lanes, which fill once and then empty one by one as the last runs stop, so
# a task of few runs leaves lanes idle for much of its time.
MIN_TASK_RUNS = 8 * LANES
# At most this many error histories (runs × max_epochs float64s) in memory per task.
_HISTORY_FLOATS = 1 << 22
Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile

NETWORK_OPTIONS = ("output_activation", "loss", "init", "init_scale")
FIT_OPTIONS = ("eta", "batch_size", "momentum", "shuffle", "train_biases", "weight_decay")
_FIT_DEFAULTS = {"eta": 0.5, "batch_size": 1, "momentum": 0.0, "shuffle": True,
                 "train_biases": True, "weight_decay": 0.0}
#: What a sweep's grid may vary.
GRID_NAMES = ("sizes", "activation", "target_error", "max_epochs", *NETWORK_OPTIONS,
              *FIT_OPTIONS)


def _n_jobs(value, name):
    if value is None:
        return None
    value = check.integer(value, name)
    if value == 0:
        raise InvalidValue(f"{name} must be a non-zero integer (1: this process; k > 1: k "
                           "processes; −1: all cores) or None (joblib's setting), got 0")
    return value


EXPERIMENT_PARAMETERS = {
    "n": check.Integer(minimum=1, maximum=10**8),  # 25 bytes of results per run
    "repeats": check.Integer(minimum=1, maximum=10**8),
    "seed": check.Integer(minimum=0),
    "target_error": check.Real("a finite float ≥ 0", lambda v: v >= 0),
    "max_epochs": check.Integer(minimum=1),
    "epochs": check.Integer(minimum=1),
    "n_jobs": lambda value, name, limits: _n_jobs(value, name),
    "chunk_size": check.Optional(check.Integer(minimum=1)),
    "progress": check.Flag(),
    "steps": check.Integer(minimum=1, maximum=10**6),
    "eta_min": check.Real("a positive finite float", lambda v: v > 0),
    "eta_max": check.Real("a positive finite float", lambda v: v > 0),
    "init": NETWORK_PARAMETERS["init"],
}


def run_seeds(seed, start, stop):
    """The seeds of runs start … stop − 1 of an experiment seeded with ``seed``: run r's is
    the first 64-bit word of ``np.random.SeedSequence((seed, r))`` (uint64 array)."""
    return np.array([np.random.SeedSequence((seed, r)).generate_state(1, dtype=np.uint64)[0]
                     for r in range(start, stop)], dtype=np.uint64)


def wilson(successes, n, z=Z95):
    """The Wilson score interval (low, high) for a success rate of successes/n (95 % by
    default); (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


# --- what one run is -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Spec:
    """Everything a run needs besides the data and its seed (checked; picklable)."""

    sizes: tuple
    activation: object
    network: tuple  # (name, value) pairs for Network
    fit: tuple  # (name, value) pairs for fit
    target_error: object  # None: no target
    max_epochs: int

    def network_of(self, seed):
        return Network(self.sizes, self.activation, seed=int(seed), **dict(self.network))


def _spec(sizes, activation, X, T, target_error, max_epochs, options, caller):
    """The checked _Spec and the checked (X, T); options: Network's and fit's keywords."""
    unknown = [name for name in options if name not in NETWORK_OPTIONS + FIT_OPTIONS]
    if unknown:
        raise InvalidType(f"{caller} got an unexpected argument {unknown[0]!r}; besides its own "
                          f"it takes Network's ({', '.join(NETWORK_OPTIONS)}) and fit's "
                          f"({', '.join(FIT_OPTIONS)})")
    network = {name: options[name] for name in NETWORK_OPTIONS if name in options}
    template = Network(sizes, activation, seed=0, **network)
    X, T = template.check_data(X, T)
    template.error(X, T)  # data so large that C overflows: refused here, naming X and T
    fit = {**_FIT_DEFAULTS, **{name: options[name] for name in FIT_OPTIONS if name in options}}
    if callable(fit["eta"]):
        raise InvalidType(f"eta must be a positive finite float in {caller} (a schedule is "
                          f"not supported here), got {check.shown(fit['eta'])}")
    fit = dict(zip(fit, check.arguments(FIT_PARAMETERS, {"n": X.shape[0]}, **fit)))
    if target_error is not None:
        (target_error,) = check.arguments(EXPERIMENT_PARAMETERS, target_error=target_error)
    (max_epochs,) = check.arguments(EXPERIMENT_PARAMETERS, max_epochs=max_epochs)
    if max_epochs > _HISTORY_FLOATS:
        raise InvalidValue(f"max_epochs must be ≤ {_HISTORY_FLOATS} (every run's error history "
                           f"is kept while it trains), got {max_epochs}")
    return _Spec(template.sizes, activation if isinstance(activation, str) else
                 tuple(activation), tuple(network.items()), tuple(fit.items()), target_error,
                 max_epochs), X, T


def _saturated(theta, layout, X):
    """Whether some hidden or output unit has f'(z) < SATURATION · max f' on every sample
    (a forward pass in NumPy: a diagnosis, not training arithmetic)."""
    with np.errstate(over="ignore", invalid="ignore"):  # exp(−z) = inf is σ(z) = 0, saturated
        return _any_unit_saturated(*split(layout, theta), layout.acts, X)


def _any_unit_saturated(ws, bs, acts, y):
    for w, b, code in zip(ws, bs, acts):
        z = y @ w + b
        if code == SIGMOID:
            y = 1.0 / (1.0 + np.exp(-z))
            slope = y * (1.0 - y)
        elif code == TANH:
            y = np.tanh(z)
            slope = 1.0 - y * y
        elif code == RELU:
            y = np.maximum(z, 0.0)
            slope = (z > 0).astype(np.float64)
        elif code == SOFTMAX:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
            slope = y * (1.0 - y)
        else:
            y = z
            continue
        if (slope < SATURATION * _MAX_SLOPE[int(code)]).all(axis=0).any():
            return True
    return False


def _outcome(reason, errors, initial_error, max_epochs, saturated):
    """The outcome (an index into OUTCOMES) of a run, as OUTCOMES defines it."""
    if reason == "diverged":
        return OUTCOMES.index("diverged")
    if reason == "target_error":
        return OUTCOMES.index("converged")
    window = max(1, int(PLATEAU_WINDOW * max_epochs))
    then = errors[max_epochs - 1 - window] if max_epochs > window else initial_error
    now = errors[max_epochs - 1]
    if then - now >= PLATEAU_DECREASE * then:
        return OUTCOMES.index("stopped")
    return OUTCOMES.index("saturated" if saturated() else "plateau")


def _run_chunk(spec, X, T, seed, start, stop):
    """Train runs start … stop − 1 (one task); return their summaries as arrays."""
    seeds = run_seeds(seed, start, stop)
    fit = dict(spec.fit)
    epochs = np.empty(stop - start, np.int64)
    final = np.empty(stop - start)
    outcome = np.empty(stop - start, np.int8)
    step = max(1, _HISTORY_FLOATS // spec.max_epochs)
    for first in range(0, stop - start, step):
        part = seeds[first : first + step]
        nets = [spec.network_of(s) for s in part]
        layout = nets[0].layout
        initial = np.array([net.parameters for net in nets])
        done = train_many(layout, X, T, initial, part, epochs=spec.max_epochs,
                          target_error=spec.target_error, **fit)
        for r in range(len(part)):
            e, theta = int(done.epochs[r]), done.thetas[r]
            initial_error = float(mean_error(initial[r], layout, X, T))
            check.finite_result(initial_error, f"the error C of run {start + first + r}'s "
                                "starting weights", X=X, T=T, net=nets[r])
            epochs[first + r] = e
            final[first + r] = done.errors[r, e - 1] if e else initial_error
            outcome[first + r] = _outcome(
                done.stop_reasons[r], done.errors[r], initial_error, spec.max_epochs,
                lambda theta=theta, layout=layout: _saturated(theta, layout, X))
    return start, seeds, epochs, final, outcome


# --- running many tasks ----------------------------------------------------------------


def _needs(module, extra):
    """Import an optional dependency, or say which extra provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"nbbackprop.experiments needs {module} for this: pip install "
                          f"'nbbackprop[{extra}]'") from err


def _chunk_size(n_runs, n_jobs, chunk_size):
    """Runs per task: given, or n_runs / LOCAL_TASKS in this process, or n_runs /
    (TASKS_PER_WORKER · workers) for a pool; at least MIN_TASK_RUNS."""
    if chunk_size is not None:
        return chunk_size
    if n_jobs == 1:
        return max(MIN_TASK_RUNS, -(-n_runs // LOCAL_TASKS))
    workers = _needs("joblib", "parallel").effective_n_jobs(n_jobs)
    return max(MIN_TASK_RUNS, -(-n_runs // (TASKS_PER_WORKER * max(1, workers))))


def _execute(jobs, n_jobs, chunk_size, progress):
    """Run every (spec, X, T, seed, n) job's n runs in tasks; return per job the summaries
    (seeds, epochs, final errors, outcomes) in run order."""
    total = sum(job[4] for job in jobs)
    size = _chunk_size(total, n_jobs, chunk_size)
    tasks = [(j, (spec, X, T, seed, start, min(start + size, n)))
             for j, (spec, X, T, seed, n) in enumerate(jobs) for start in range(0, n, size)]
    results = [(np.empty(n, np.uint64), np.empty(n, np.int64), np.empty(n), np.empty(n, np.int8))
               for *_, n in jobs]
    bar = (monitor.progress_bar(total, "run", "runs", "nbbackprop.experiments(progress=True)")
           if progress else None)
    if n_jobs == 1:
        done = ((j, _run_chunk(*task)) for j, task in tasks)
    else:
        joblib = _needs("joblib", "parallel")
        done = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            joblib.delayed(_tagged)(j, task) for j, task in tasks)
    try:
        for j, (start, *arrays) in done:
            for into, values in zip(results[j], arrays):
                into[start : start + len(values)] = values
            if bar is not None:
                bar.update(len(arrays[0]))
    finally:
        if bar is not None:
            bar.close()
    return results


def _tagged(j, task):
    return j, _run_chunk(*task)


# --- results -------------------------------------------------------------------------------


@dataclasses.dataclass(repr=False)
class Restarts:
    """Runs of one setting: per run r, ``seeds[r]``, ``outcomes[r]`` (one of OUTCOMES),
    ``epochs[r]`` (epochs trained), ``epochs_to_target[r]`` (−1 unless converged) and
    ``final_errors[r]`` (C after its last epoch; for a diverged run, after the last finite
    one)."""

    description: str
    target_error: object
    seeds: np.ndarray
    outcomes: np.ndarray
    epochs: np.ndarray
    final_errors: np.ndarray

    @property
    def n(self):
        return len(self.seeds)

    @property
    def epochs_to_target(self):
        return np.where(self.outcomes == "converged", self.epochs, -1)

    @property
    def counts(self):
        """{outcome: number of runs}, for every outcome."""
        return {name: int(np.sum(self.outcomes == name)) for name in OUTCOMES}

    @property
    def success_rate(self):
        """The fraction of runs that converged."""
        return self.counts["converged"] / self.n

    @property
    def interval(self):
        """The 95 % Wilson interval (low, high) of the success rate."""
        return wilson(self.counts["converged"], self.n)

    @property
    def divergence_rate(self):
        return self.counts["diverged"] / self.n

    def quantiles(self, q=(0.1, 0.5, 0.9)):
        """Quantiles of the epochs to target of the runs that converged (NaN if none did)."""
        hit = self.epochs[self.outcomes == "converged"]
        return np.quantile(hit, q) if hit.size else np.full(len(q), np.nan)

    def __str__(self):
        lines = [self.description, "  outcome     runs   share"]
        for name, count in self.counts.items():
            lines.append(f"  {name:<10} {count:>5}  {100 * count / self.n:5.1f} %")
        low, high = self.interval
        lines.append(f"  success rate {100 * self.success_rate:.1f} % (95 % Wilson interval "
                     f"{100 * low:.1f}–{100 * high:.1f} %)")
        hit = self.counts["converged"]
        if hit:
            q10, q50, q90 = self.quantiles()
            lines.append(f"  epochs to target over the {hit} converged runs: 10 % {q10:.0f}, "
                         f"median {q50:.0f}, 90 % {q90:.0f}")
        return "\n".join(lines)

    def __repr__(self):
        return f"Restarts(n={self.n}, success_rate={self.success_rate:.4g}, {self.counts})"


def _describe(spec, n, seed):
    acts = spec.activation if isinstance(spec.activation, str) else "/".join(spec.activation)
    target = ("no target error" if spec.target_error is None
              else f"target error {spec.target_error:g}")
    settings = ", ".join(f"{k}={v!r}" for k, v in (*spec.network, *spec.fit)
                         if _FIT_DEFAULTS.get(k, object()) != v)
    return (f"{n} runs of a {'-'.join(map(str, spec.sizes))} {acts} network (seed {seed}"
            f"{', ' + settings if settings else ''}), {target} within {spec.max_epochs} epochs")


def _restarts_of(spec, n, seed, summary):
    seeds, epochs, final, outcome = summary
    return Restarts(_describe(spec, n, seed), spec.target_error, seeds,
                    np.array(OUTCOMES, dtype=object)[outcome].astype(str), epochs, final)


def restarts(sizes, X, T, n=1000, seed=0, target_error=0.01, max_epochs=5000,
             activation="sigmoid", n_jobs=1, *, chunk_size=None, progress=False,
             **fit_kwargs):
    """Train ``n`` networks from different random starts (run r seeded from (seed, r)) and
    classify each run's outcome (``OUTCOMES``); a ``Restarts``.

    ``fit_kwargs``: ``Network``'s ``output_activation``, ``loss``, ``init``, ``init_scale``
    and ``fit``'s ``eta`` (a float), ``batch_size``, ``momentum``, ``shuffle``,
    ``train_biases``, ``weight_decay``. ``n_jobs=1`` runs in this process; any other value
    through joblib (processes, or the backend of ``joblib.parallel_config``), in tasks of
    ``chunk_size`` runs (default: module docstring). ``progress=True`` shows a tqdm bar.
    """
    n, seed, n_jobs, chunk_size, progress = check.arguments(
        EXPERIMENT_PARAMETERS, n=n, seed=seed, n_jobs=n_jobs, chunk_size=chunk_size,
        progress=progress)
    spec, X, T = _spec(sizes, activation, X, T, target_error, max_epochs, fit_kwargs,
                       "restarts")
    if spec.target_error is None:
        raise InvalidValue("target_error must be a finite float ≥ 0 in restarts, got None")
    (summary,) = _execute([(spec, X, T, seed, n)], n_jobs, chunk_size, progress)
    return _restarts_of(spec, n, seed, summary)


@dataclasses.dataclass(repr=False)
class Sweep:
    """``restarts`` at every point of a grid: ``points[p]`` (a dict of the grid's
    settings) and ``results[p]`` (its ``Restarts``)."""

    names: tuple
    points: list
    results: list

    @property
    def table(self):
        """One dict per grid point: its settings, ``runs``, ``success_rate``, ``low`` and
        ``high`` (its 95 % Wilson interval), ``median_epochs`` (of the converged runs; NaN
        if none), ``divergence_rate`` and the count of every outcome."""
        rows = []
        for point, res in zip(self.points, self.results):
            low, high = res.interval
            rows.append({**point, "runs": res.n, "success_rate": res.success_rate, "low": low,
                         "high": high, "median_epochs": float(res.quantiles((0.5,))[0]),
                         "divergence_rate": res.divergence_rate, **res.counts})
        return rows

    def to_dataframe(self):
        """``table`` as a pandas DataFrame (pandas needed: pip install 'nbbackprop[pandas]')."""
        return _needs("pandas", "pandas").DataFrame(self.table)

    def __str__(self):
        failures = ("plateau", "saturated", "stopped", "diverged")
        heads = [*self.names, "success", "95 % interval", "median epochs", *failures]
        rows = [[*(_shown(row[name]) for name in self.names),
                 f"{100 * row['success_rate']:.1f} %",
                 f"{100 * row['low']:.1f}–{100 * row['high']:.1f} %",
                 "–" if math.isnan(row["median_epochs"]) else f"{row['median_epochs']:.0f}",
                 *(f"{100 * row[name] / row['runs']:.1f} %" for name in failures)]
                for row in self.table]
        return _format_table(heads, rows)

    def __repr__(self):
        return f"Sweep(names={self.names}, points={len(self.points)})"


def _shown(value):
    if isinstance(value, (tuple, list)):
        return "-".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _format_table(heads, rows):
    widths = [max(len(str(c)) for c in column) for column in zip(heads, *rows)]
    return "\n".join("  ".join(str(c).rjust(w) for c, w in zip(row, widths)).rstrip()
                     for row in [heads, *rows])


def sweep(sizes, X, T, grid, repeats=50, seed=0, target_error=0.01, max_epochs=5000,
          activation="sigmoid", n_jobs=1, *, chunk_size=None, progress=False, **fit_kwargs):
    """``restarts(n=repeats)`` at every point of ``grid`` (a dict: setting name → list, or
    1-D array, of values, any of GRID_NAMES), the points in ``itertools.product`` order;
    a ``Sweep``.

    Every point uses the same run seeds (seed, 0) … (seed, repeats − 1), so two points
    that differ only in η start from the same weights: a paired comparison. All points'
    tasks are executed together (``n_jobs`` as in ``restarts``).
    """
    repeats, seed, n_jobs, chunk_size, progress = check.arguments(
        EXPERIMENT_PARAMETERS, repeats=repeats, seed=seed, n_jobs=n_jobs,
        chunk_size=chunk_size, progress=progress)
    if not isinstance(grid, dict) or not grid:
        raise InvalidType(f"grid must be a non-empty dict of setting name → list of values, "
                          f"got {check.shown(grid)}")
    grid = {name: values.tolist() if isinstance(values, np.ndarray) and values.ndim == 1
            else values for name, values in grid.items()}  # e.g. np.geomspace(0.1, 10, 5)
    for name, values in grid.items():
        if name not in GRID_NAMES:
            raise InvalidValue(f"grid may vary {', '.join(GRID_NAMES)}, got {name!r}")
        if isinstance(values, (str, bytes)) or not check.is_list(values) or not len(values):
            raise InvalidValue(f"grid[{name!r}] must be a non-empty list of values, "
                               f"got {check.shown(values)}")
    base = {"sizes": sizes, "activation": activation, "target_error": target_error,
            "max_epochs": max_epochs, **fit_kwargs}
    points, jobs = [], []
    for values in itertools.product(*grid.values()):
        point = dict(zip(grid, values))
        settings = {**base, **point}
        own = {k: settings.pop(k) for k in ("sizes", "activation", "target_error",
                                            "max_epochs")}
        if own["target_error"] is None:
            raise InvalidValue("target_error must be a finite float ≥ 0 in sweep, got None")
        spec, Xc, Tc = _spec(own["sizes"], own["activation"], X, T, own["target_error"],
                             own["max_epochs"], settings, "sweep")
        points.append(point)
        jobs.append((spec, Xc, Tc, seed, repeats))
    summaries = _execute(jobs, n_jobs, chunk_size, progress)
    return Sweep(tuple(grid), points, [_restarts_of(job[0], repeats, seed, summary)
                                       for job, summary in zip(jobs, summaries)])


@dataclasses.dataclass(repr=False)
class GradientProfile:
    """``norms[r, l]``: the Frobenius norm ‖∂C/∂w‖ of layer l's weights for network r at
    initialisation (seeded from (seed, r)); ``median[l]`` and ``quartiles[l]`` (the 25 %
    and 75 % quantiles) over the networks."""

    sizes: tuple
    activation: str
    init: str
    norms: np.ndarray

    @property
    def median(self):
        return np.median(self.norms, axis=0)

    @property
    def quartiles(self):
        return np.quantile(self.norms, [0.25, 0.75], axis=0).T

    def __str__(self):
        head = (f"‖∂C/∂w‖ per layer at initialisation, {len(self.norms)} networks "
                f"{'-'.join(map(str, self.sizes))} {self.activation}, init={self.init!r}")
        rows = [[str(l + 1), f"{m:.3e}", f"{q[0]:.3e}", f"{q[1]:.3e}"]
                for l, (m, q) in enumerate(zip(self.median, self.quartiles))]
        return head + "\n" + _format_table(["layer", "median", "25 %", "75 %"], rows)

    def __repr__(self):
        return f"GradientProfile(sizes={self.sizes}, activation={self.activation!r})"


def gradient_profile(sizes, activation, X, T, seed=0, init="auto", n=20):
    """Per layer, the norm of ∂C/∂w (``Network.gradient``) at initialisation, for n
    networks seeded from (seed, 0) … (seed, n − 1); a ``GradientProfile``. Layer 1 is
    the one next to the inputs."""
    seed, init, n = check.arguments(EXPERIMENT_PARAMETERS, seed=seed, init=init, n=n)
    template = Network(sizes, activation, init=init, seed=0)
    X, T = template.check_data(X, T)
    norms = np.empty((n, len(template.sizes) - 1))
    for r, s in enumerate(run_seeds(seed, 0, n)):
        net = Network(sizes, activation, init=init, seed=int(s))
        norms[r] = [_norm(g) for g in net.gradient(X, T)[0]]
        check.finite_result(norms[r], f"‖∂C/∂w‖ of network {r}", X=X, T=T, net=net)
    return GradientProfile(template.sizes, activation, init, norms)


def _norm(g):
    """The Frobenius norm √(Σ g²), scaled by the largest |g| so that no square overflows."""
    top = float(np.max(np.abs(g)))
    if top == 0.0:
        return 0.0
    with np.errstate(over="ignore"):
        return top * float(np.sqrt(np.sum((g / top) ** 2)))


@dataclasses.dataclass(repr=False)
class LearningRateRange:
    """For each η of ``etas`` (log-spaced) and each repeat r (seeded from (seed, r), the
    same starts for every η): ``final_errors[i, r]`` (C after the budget, or after the last
    finite epoch) and ``diverged[i, r]``."""

    etas: np.ndarray
    epochs: int
    final_errors: np.ndarray
    diverged: np.ndarray

    @property
    def median_errors(self):
        """Per η, the median final error of the runs that did not diverge (NaN if all did)."""
        kept = np.where(self.diverged, np.nan, self.final_errors)
        out = np.full(len(self.etas), np.nan)
        for i, row in enumerate(kept):
            if not np.isnan(row).all():
                out[i] = np.nanmedian(row)
        return out

    @property
    def divergence_rate(self):
        return self.diverged.mean(axis=1)

    def __str__(self):
        rows = [[f"{eta:.3g}", "–" if math.isnan(m) else f"{m:.3e}", f"{100 * d:.0f} %"]
                for eta, m, d in zip(self.etas, self.median_errors, self.divergence_rate)]
        head = (f"error after {self.epochs} epochs, {self.final_errors.shape[1]} run(s) per η")
        return head + "\n" + _format_table(["eta", "median error", "diverged"], rows)

    def __repr__(self):
        return f"LearningRateRange(steps={len(self.etas)}, epochs={self.epochs})"


def lr_range(sizes, X, T, eta_min=1e-4, eta_max=10, steps=50, seed=0, *, epochs=1000,
             repeats=1, activation="sigmoid", n_jobs=1, chunk_size=None, progress=False,
             **fit_kwargs):
    """Train for a fixed budget of ``epochs`` at each of ``steps`` log-spaced η from
    ``eta_min`` to ``eta_max``, ``repeats`` runs each; a ``LearningRateRange``."""
    eta_min, eta_max, steps, seed, epochs, repeats, n_jobs, chunk_size, progress = (
        check.arguments(EXPERIMENT_PARAMETERS, eta_min=eta_min, eta_max=eta_max, steps=steps,
                        seed=seed, epochs=epochs, repeats=repeats, n_jobs=n_jobs,
                        chunk_size=chunk_size, progress=progress))
    if eta_max < eta_min:
        raise InvalidValue(f"eta_max must be ≥ eta_min ({eta_min!r}), got {eta_max!r}")
    if "eta" in fit_kwargs:
        raise InvalidType("lr_range got an unexpected argument 'eta': it sets η itself, from "
                          "eta_min to eta_max")
    etas = np.geomspace(eta_min, eta_max, steps)
    jobs = []
    for eta in etas:
        spec, Xc, Tc = _spec(sizes, activation, X, T, None, epochs,
                             {**fit_kwargs, "eta": float(eta)}, "lr_range")
        jobs.append((spec, Xc, Tc, seed, repeats))
    summaries = _execute(jobs, n_jobs, chunk_size, progress)
    final = np.array([s[2] for s in summaries])
    diverged = np.array([s[3] == OUTCOMES.index("diverged") for s in summaries])
    return LearningRateRange(etas, epochs, final, diverged)


__all__ = ["GRID_NAMES", "OUTCOMES", "GradientProfile", "LearningRateRange", "Restarts",
           "Sweep", "gradient_profile", "lr_range", "restarts", "run_seeds", "sweep", "wilson"]
