"""Gradient checking with per-index reports: which entry of a gradient is wrong, and by how much.

- ``gradcheck(net, X, T)``: central differences of C for every weight and bias against
  ``net.gradient`` (``mode="fast"``: a few random directional derivatives instead).
- ``compare_gradients(net, X, T, grad_w, grad_b)``: the same check for gradients that
  another implementation computed (PyTorch, JAX, NumPy, C, …), in their own precision.
- ``check_function(f, grad, x0)``: any f: Rⁿ → R with its claimed gradient.

The error model (docs/gradcheck.md derives it). With the step h_p = ε^(1/3)·max(1, |θ_p|),

    D(h) = (C(θ + h e_p) − C(θ − h e_p)) / 2h = ∂C/∂θ_p + (h²/6)·C''' + ρ,   |ρ| ≤ ε_C/h

where ε_C bounds the rounding error of one evaluation of C (``error_rounding``). The
truncation is measured: D(2h) − D(h) ≈ 3·(h²/6)·C'''. An entry passes when

    |D(h) − g_p| ≤ tol_p = |D(2h) − D(h)| + 3·ε_C/h + e_g,p + 6u·|D(h)|

(3× the truncation estimate and 2× the worst rounding of the quotient; e_g,p bounds the
rounding error of the supplied g_p in its own precision, so a float32 gradient is judged
with float32 tolerances). Samples whose ReLU units change state within the steps give
one-sided derivatives instead, and such an entry passes when g_p lies, within its
tolerance, in the range spanned by C's left and right derivatives and the values of
backpropagation with relu'(0) = 0 and = 1 (``_judge``; docs/gradcheck.md, "ReLU kinks").
"""

import dataclasses
import math
import numbers

import numpy as np

from . import _validate as check
from . import finite_differences as fd
from .exceptions import GradcheckError, InvalidType, InvalidValue
from .layout import describe as describe_parameter
from .network import Network

EPS = float(np.finfo(np.float64).eps)  # 2^-52, the spacing of float64 numbers at 1
U64 = EPS / 2  # unit roundoff of float64
STEP = EPS ** (1 / 3)  # ≈ 6.06e-6: balances h² truncation against ε/h rounding
LAMBDA = 8.0  # confidence of the probabilistic rounding bounds (see finite_differences.gamma)
# Gradual underflow adds an absolute error of up to 2^-1075 to an operation on subnormal
# numbers, which relative bounds miss: allow the smallest normal number, 2^52 times that,
# on every evaluation of C and every entry.
UNDERFLOW = float(np.finfo(np.float64).tiny)
MODES = ("full", "fast")
GRADCHECK_PARAMETERS = {"mode": check.Choice(*MODES), "n_directions": check.Integer(minimum=1),
                        "seed": check.Seed(), "raise_on_failure": check.Flag()}
_SHOWN = 10  # rows printed by str(report) besides the failures
# What a network check differentiates, by the network's loss (and output), for the hint.
SQUARED_C = "C = (1/n) Σ_x ½ Σ_k (t_k − y_k)²"
CROSS_ENTROPY_C = {"softmax": "C = (1/n) Σ_x −Σ_k t_k ln y_k",
                   "sigmoid": "C = (1/n) Σ_x −Σ_k [t_k ln y_k + (1 − t_k) ln(1 − y_k)]"}


@dataclasses.dataclass(frozen=True)
class Entry:
    """One checked entry of a gradient.

    ``layer``, ``kind`` (``"w"``, ``"b"``; ``"x"`` for check_function, ``"direction"`` in
    fast mode), ``i``, ``j``: which one (``weights[layer][i, j]`` is w_ij, ``biases[layer][j]``
    is b_j, so ``i`` is None for a bias); ``name`` says it the way its owner does
    (``"weights[0][1, 2]"``, ``"0.weight[2, 1]"`` for a torch module, …).
    ``numeric``: the finite-difference value; ``analytic``: the value checked;
    ``abs_err = |numeric − analytic|``; ``rel_err = abs_err / max(|numeric|, |analytic|, tol)``;
    ``tol``: the tolerance derived for this entry; ``ok``: ``abs_err ≤ tol``.
    At a ReLU kink (``kink``): ``left`` and ``right`` are C's one-sided derivatives,
    ``[low, high]`` the accepted range (they and the values of relu'(0) = 0 and = 1; see
    ``_judge``), and ``numeric`` is the point of that range nearest to ``analytic``.
    """

    name: str
    layer: int | None
    kind: str
    i: int | None
    j: int | None
    numeric: float
    analytic: float
    abs_err: float
    rel_err: float
    tol: float
    ok: bool
    kink: bool = False
    left: float | None = None
    right: float | None = None
    low: float | None = None
    high: float | None = None

    def to_dict(self):
        """The entry as a dict of JSON values (NaN and ±inf become None)."""
        return {key: _json_value(value) for key, value in dataclasses.asdict(self).items()}


class GradcheckReport:
    """What a gradient check found: a verdict, every entry, and how they were judged.

    ``ok``, ``n_checked``, ``n_failed``, ``n_kinks``, ``max_abs_error``, ``max_rel_error``,
    ``worst`` (the entry farthest outside, or nearest to, its tolerance), ``failures``
    (failing entries, worst first), ``entries`` (all, in parameter order), ``precision``
    (the dtype the supplied gradient was judged in), ``mode``, ``seed`` (fast mode),
    ``suspects`` (fast mode, on failure: the arrays, e.g. ``"weights[1]"``, whose entries
    alone already fail along the same directions; None otherwise),
    ``step`` and ``tolerance`` (the formulas used, with their numbers), ``hint``.
    ``print(report)`` shows a table, worst first, and a one-line verdict;
    ``report.to_dict()`` is JSON-ready.
    """

    def __init__(self, *, mode, subject, precision, describe, numeric, analytic, tol, kink,
                 left, right, low, high, step, tolerance, seed=None, differentiated=SQUARED_C):
        self.mode, self.subject, self.precision, self.seed = mode, subject, precision, seed
        self.step, self.tolerance = step, tolerance
        self._describe = describe
        self._numeric, self._analytic, self._tol = numeric, analytic, tol
        self._kink, self._left, self._right, self._low, self._high = kink, left, right, low, high
        self._abs = np.abs(numeric - analytic)
        with np.errstate(invalid="ignore"):
            self._ok = (self._abs <= tol) & np.isfinite(analytic)  # NaN anywhere fails
            denominator = np.maximum.reduce([np.abs(numeric), np.abs(analytic), tol])
            self._rel = self._abs / np.maximum(denominator, np.finfo(np.float64).tiny)
            score = np.where(tol > 0, self._abs / np.where(tol > 0, tol, 1.0),
                             np.where(self._abs > 0, np.inf, 0.0))
        self._score = np.where(np.isnan(score), np.inf, score)
        self._order = np.argsort(-self._score, kind="stable")  # worst first
        self.hint = _scale_hint(numeric, analytic, tol, kink, self._ok, differentiated)
        self.suspects = None  # fast mode, on failure: the arrays whose own directions fail

    # --- the verdict ---------------------------------------------------------------------

    @property
    def ok(self):
        """True when every entry agrees within its tolerance."""
        return bool(self._ok.all())

    @property
    def n_checked(self):
        return int(self._ok.size)

    @property
    def n_failed(self):
        return int((~self._ok).sum())

    @property
    def n_kinks(self):
        """How many entries were judged by one-sided derivatives (a ReLU kink within ±2h)."""
        return int(self._kink.sum())

    @property
    def max_abs_error(self):
        return float(np.max(self._abs)) if self._abs.size else 0.0

    @property
    def max_rel_error(self):
        return float(np.max(self._rel)) if self._rel.size else 0.0

    @property
    def worst(self):
        """The entry with the largest abs_err / tol: a failure whenever there is one."""
        return self._entry(int(self._order[0])) if self._order.size else None

    @property
    def failures(self):
        """The failing entries, worst (largest abs_err / tol) first."""
        return [self._entry(int(p)) for p in self._order if not self._ok[p]]

    @property
    def entries(self):
        """Every checked entry, in parameter order."""
        return [self._entry(p) for p in range(self._ok.size)]

    def _entry(self, p):
        name, layer, kind, i, j = self._describe(p)
        kink = bool(self._kink[p])
        extra = ({"left": float(self._left[p]), "right": float(self._right[p]),
                  "low": float(self._low[p]), "high": float(self._high[p])} if kink else {})
        return Entry(name, layer, kind, i, j, float(self._numeric[p]), float(self._analytic[p]),
                     float(self._abs[p]), float(self._rel[p]), float(self._tol[p]),
                     bool(self._ok[p]), kink, **extra)

    # --- showing it ----------------------------------------------------------------------

    def verdict(self):
        """One line: passed or failed, how many, and the tolerances used."""
        what = "directions" if self.mode == "fast" else "entries"
        kinks = f", {self.n_kinks} at ReLU kinks" if self.n_kinks else ""
        if self.ok:
            head = f"PASSED: all {self.n_checked} {what} agree{kinks}"
        else:
            worst = self.worst
            head = (f"FAILED: {self.n_failed} of {self.n_checked} {what} disagree{kinks}; "
                    f"worst {worst.name}: analytic {worst.analytic:.6g}, numeric "
                    f"{worst.numeric:.6g}")
            if self.mode == "fast" and self.suspects:
                head += (f" (wrong entries in {', '.join(self.suspects)}: the same directions "
                         "restricted to each array fail there; run the same check with "
                         "mode='full' to name the entries)")
            elif self.mode == "fast":
                head += (" (the gradient is wrong somewhere, though no array alone fails: "
                         "run the same check with mode='full' to find which entries)")
        return (f"{head}. Step {self.step}; tolerance {self.tolerance}; "
                f"{self.precision} gradients.")

    def __str__(self):
        return self.show()

    def show(self, limit=_SHOWN, *, more_hint="show(limit=None)"):
        """The table, worst first: every failure (at most 2·limit) and the worst passing
        entries up to ``limit`` rows (``limit=None``: every entry), then the verdict;
        ``more_hint`` names, in the text, what lists the rows left out."""
        if limit is None:
            shown = [int(p) for p in self._order]
        else:
            shown = [int(p) for p in self._order if not self._ok[p]][: 2 * limit]
            shown += [int(p) for p in self._order if self._ok[p]][: max(0, limit - len(shown))]
        entries = [self._entry(p) for p in shown]
        width = max([len("entry")] + [len(e.name) for e in entries])
        lines = [f"gradcheck ({self.mode}): {self.subject}",
                 f"  {'entry':<{width}}  {'analytic':>13}  {'numeric':>13}  {'abs err':>8}  "
                 f"{'tol':>8}"]
        for e in entries:
            status = "ok" if e.ok else "FAIL"
            if e.kink:
                status += f"  (ReLU kink: left {e.left:.6g}, right {e.right:.6g})"
            lines.append(f"  {e.name:<{width}}  {e.analytic:>+13.6e}  {e.numeric:>+13.6e}  "
                         f"{e.abs_err:>8.2e}  {e.tol:>8.2e}  {status}")
        hidden = self.n_checked - len(shown)
        if hidden:
            hidden_failed = self.n_failed - sum(not e.ok for e in entries)
            which = (", all ok" if not hidden_failed else
                     f" ({hidden_failed} failed, {hidden - hidden_failed} ok)")
            lines.append(f"  … and {hidden} more{which}; {more_hint} lists them")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        lines.append(self.verdict())
        return "\n".join(lines)

    def __repr__(self):
        return (f"<GradcheckReport {self.mode}: {'ok' if self.ok else 'FAILED'}, "
                f"{self.n_failed} of {self.n_checked} failed, max_abs_error="
                f"{self.max_abs_error:.3g}>")

    def to_dict(self, all_entries=False):
        """A JSON-ready summary: the verdict, the tolerances, ``worst`` and every failure
        (and every entry, in parameter order, with ``all_entries=True``)."""
        out = {
            "ok": self.ok, "mode": self.mode, "subject": self.subject,
            "precision": self.precision, "n_checked": self.n_checked,
            "n_failed": self.n_failed, "n_kinks": self.n_kinks,
            "max_abs_error": _json_value(self.max_abs_error),
            "max_rel_error": _json_value(self.max_rel_error),
            "step": self.step, "tolerance": self.tolerance, "seed": self.seed,
            "hint": self.hint, "suspects": self.suspects, "verdict": self.verdict(),
            "worst": self.worst.to_dict() if self.worst else None,
            "failures": [e.to_dict() for e in self.failures],
        }
        if all_entries:
            out["entries"] = [e.to_dict() for e in self.entries]
        return out

    def relabel(self, describe):
        """Name the entries by ``describe(p)`` instead (used by the adapters)."""
        self._describe = describe


# --- the public calls ----------------------------------------------------------------------


def gradcheck(net, X, T, mode="full", n_directions=8, seed=None, raise_on_failure=False):
    """Check ``net.gradient(X, T)`` against finite differences of ``net.error(X, T)``.

    ``mode="full"``: central differences for every weight and bias. ``mode="fast"``:
    ``n_directions`` directional derivatives uᵀ∇C along random unit directions drawn from
    ``seed`` (None: fresh entropy, reported in ``report.seed``): rank one in each weight
    matrix, w_ij moved by c_i·a_j and b_j by β_j for random signs c, a, β (``_directions``).
    Returns a ``GradcheckReport``; with ``raise_on_failure=True`` a failure raises
    ``GradcheckError``.
    """
    _check_network(net)
    X, T = net.check_data(X, T)
    # Fast mode computes Network.gradient's numbers from its own pass at θ (_FastPass); a
    # subclass's own gradient is called as it is.
    fast = isinstance(mode, str) and mode == "fast"  # any other mode is refused below
    grad = (None if fast and type(net).gradient is Network.gradient
            else _flat(*net.gradient(X, T)))
    return _check_network_gradient(net, X, T, grad, np.dtype(np.float64), mode, n_directions,
                                   seed, raise_on_failure)


def compare_gradients(net, X, T, grad_w, grad_b, mode="full", n_directions=8, seed=None,
                      raise_on_failure=False):
    """Check gradients of C computed by another implementation against finite differences.

    ``grad_w[l]`` has the shape of ``net.weights[l]`` (``grad_w[l][i, j]`` is ∂C/∂w_ij) and
    ``grad_b[l]`` that of ``net.biases[l]``; any float dtype: the coarsest one given sets
    the precision the gradient is judged in. NaN entries are reported as failures.
    C is ``net.error``: (1/n) Σ_x ½ Σ_k (t_k − y_k)². Other arguments as in ``gradcheck``.
    """
    _check_network(net)
    X, T = net.check_data(X, T)
    grad, dtype = _supplied_gradient(net, grad_w, grad_b)
    return _check_network_gradient(net, X, T, grad, dtype, mode, n_directions, seed,
                                   raise_on_failure)


def check_function(f, grad, x0, raise_on_failure=False):
    """Check ``grad(x)`` against central differences of ``f(x)`` at ``x0``, entry by entry.

    ``f``: a callable from a 1-D float array of shape (n,) to a real number; ``grad``: a
    callable returning the claimed gradient, shape (n,), any float dtype (which sets the
    precision it is judged in). f is called 4n + 1 times. The rounding noise of f is
    measured from the fourth differences of those calls (see docs/gradcheck.md).
    """
    return check_callable(f, grad, x0, None, raise_on_failure)


# --- network checks -------------------------------------------------------------------------


def _check_network(net):
    if not isinstance(net, Network):
        raise InvalidType(f"net must be an nbbackprop Network, got {type(net).__name__}")


def _flat(grad_w, grad_b):
    """Per-layer gradients laid out like Network.parameters: w row by row, then b."""
    return np.concatenate([np.concatenate([np.ravel(w), np.ravel(b)])
                           for w, b in zip(grad_w, grad_b)]).astype(np.float64)


def _supplied_gradient(net, grad_w, grad_b):
    """Validate gradients shaped like weights and biases; return them flat and their dtype."""
    L = len(net.sizes) - 1
    for name, given in (("grad_w", grad_w), ("grad_b", grad_b)):
        if not check.is_list(given):
            raise InvalidType(f"{name} must be a list with one array per layer ({L}), "
                              f"got {check.shown(given)}")
        if len(given) != L:
            raise InvalidValue(f"{name} must hold one array per layer of weights ({L}), "
                               f"got {len(given)}")
    arrays, dtypes = [[], []], []
    for l in range(L):
        for side, (name, given, like) in enumerate(
                ((f"grad_w[{l}]", grad_w[l], f"weights[{l}]"),
                 (f"grad_b[{l}]", grad_b[l], f"biases[{l}]"))):
            try:
                array = np.asarray(given)
            except (ValueError, TypeError) as err:
                raise InvalidValue(f"{name} must be a rectangular array of floats, got "
                                   f"{check.shown(given)} ({err})") from None
            if array.dtype.kind != "f":
                raise InvalidType(f"{name} must hold floats (their dtype sets the precision "
                                  f"they are judged in), got dtype {array.dtype}")
            shape = (net.weights if side == 0 else net.biases)[l].shape
            if array.shape != shape:
                raise InvalidValue(f"{name} must have the shape of {like}, {shape}, "
                                   f"got shape {array.shape}")
            arrays[side].append(array)
            dtypes.append(array.dtype)
    coarsest = max(dtypes, key=_unit_roundoff)
    return _flat(*arrays), coarsest


def _unit_roundoff(dtype):
    """u of a float dtype (at least float64's: the check itself computes in float64)."""
    return max(float(np.finfo(dtype).eps) / 2, U64)


def _check_network_gradient(net, X, T, grad, dtype, mode, n_directions, seed, raise_on_failure):
    mode, n_directions, seed, raise_on_failure = check.arguments(
        GRADCHECK_PARAMETERS, mode=mode, n_directions=n_directions, seed=seed,
        raise_on_failure=raise_on_failure)
    theta, layout = net.parameters, net.layout
    u = _unit_roundoff(dtype)
    # The final rounding of each entry to its dtype, and underflow in that dtype.
    tiny = max(UNDERFLOW, float(np.finfo(dtype).tiny))
    n = X.shape[0]
    differentiated = (SQUARED_C if net.loss == "squared" else CROSS_ENTROPY_C[net.activations[-1]])
    subject = (f"{'-'.join(map(str, net.sizes))} network ({', '.join(net.activations)}) "
               f"on {n} sample{'s' if n != 1 else ''}")
    if mode == "full":
        size = _magnitudes(grad)
        _check_finite(net.error(X, T))
        eps_c = fd.error_rounding(theta, layout, X, T, U64, LAMBDA)
        e_grad, flips = np.empty_like(theta), np.empty_like(theta)
        # Units within rounding of a kink may take either branch sample by sample.
        per_sample = fd.gradient_rounding(theta, layout, X, T, u, LAMBDA, e_grad, flips) > 0
        e_grad += 2 * u * size + tiny
        h = STEP * np.maximum(1.0, np.abs(theta))
        rows = np.empty((theta.size, fd.ROW))
        fd.central_differences(theta, layout, X, T, h, rows, LAMBDA)
        rho = _rounding(eps_c, rows, net, n) / h
        report = _judge(rows, h, n, grad, e_grad + flips / h, rho, per_sample, mode="full",
                        subject=f"{theta.size} weights and biases of a {subject}",
                        precision=dtype.name, describe=network_names(net),
                        differentiated=differentiated,
                        step=f"h = ε^(1/3)·max(1, |θ|) = {STEP:.3g}·max(1, |θ|)",
                        tolerance=f"|D(2h) − D(h)| + 3·ε_C/h + e_g with ε_C = {eps_c:.2g}")
    else:
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**32)
        at_theta = _FastPass(net, X, T, u, grad, tiny)
        _check_finite(at_theta.E.sum())
        directions = _directions(net, n_directions, seed)

        def judge(directions, **report):
            return at_theta.judge(*directions, precision=dtype.name, seed=seed,
                                  differentiated=differentiated, **report)

        report = judge(directions, subject=f"{n_directions} random directions of a {subject}")
        if not report.ok:
            # Localise: the same directions restricted to each array's entries.
            report.suspects = [name for k, name in enumerate(_array_names(net))
                               if not judge(_restricted(net, directions, k), subject=name).ok]
    if raise_on_failure and not report.ok:
        raise GradcheckError(report)
    return report


def _check_finite(c):
    if not math.isfinite(c):
        raise InvalidValue("the error C of net on X, T is not finite: there is no gradient to "
                           "check (are the weights or data very large?)")


def _magnitudes(grad):
    """|g_p|, with 0 for NaN and inf (which fail by themselves)."""
    return np.where(np.isfinite(grad), np.abs(grad), 0.0)


class _FastPass:
    """What fast mode needs at θ, for any directions: the pass of every sample, ε_C, the
    rounding bounds of the gradient summed per array (``fd.gradient_rounding_totals``), and
    what the rank-one evaluations round beyond a pass (``fd.rank_one_rounding``); and the
    gradient ``grad`` to check (None: ``Network.gradient``'s, from the same pass)."""

    def __init__(self, net, X, T, u, grad, tiny):
        theta, layout, n = net.parameters, net.layout, X.shape[0]
        self.net, self.X, self.T = net, X, T
        width = int(layout.n_off[-1] + layout.sizes[-1])
        self.Z, Y, self.E = np.empty((n, width)), np.empty((n, width)), np.empty(n)
        EZ, EY = np.empty((n, width)), np.empty((n, width))
        own = grad is None
        if own:
            grad = np.empty_like(theta)
        self.eps_c = fd.pass_rounding(theta, layout, X, T, U64, LAMBDA, self.Z, Y, self.E, EZ, EY,
                                      grad, own)
        if own:  # as Network.gradient does
            check.finite_result(grad, "the gradient ∂C/∂θ", X=X, T=T, net=net)
        self.grad = grad
        self.scale = 1.0 / math.sqrt(theta.size)  # every |u_p| is scale (or 0): ‖u‖ ≤ 1
        self.extra = np.empty(n)
        fd.rank_one_rounding(theta, layout, self.Z, Y, EY, T, 3 * STEP * self.scale, LAMBDA,
                             self.extra)
        if u != U64:  # the gradient's own precision
            EZ, EY = np.empty_like(EZ), np.empty_like(EY)
            fd.samples_error_rounding(theta, layout, T, u, LAMBDA, self.Z, Y, self.E, EZ, EY)
        totals = np.empty(2 * (len(net.sizes) - 1))
        ambiguous, self.flips = fd.gradient_rounding_totals(theta, layout, T, u, LAMBDA, self.Z,
                                                            Y, EZ, EY, totals)
        self.per_sample = ambiguous > 0  # units within rounding of a kink: either branch
        parts = [part for _, part in _arrays(net)]
        # Per array: Σ_p e_g,p (with the final rounding 2u|g_p| and underflow), Σ_p |g_p|
        # (NaN and inf as 0; a finite sum of |g_p| has none of them, so is taken as it is).
        size = np.abs(grad)
        self.sizes = np.array([size[part].sum() for part in parts])
        if not np.isfinite(self.sizes).all():
            size = _magnitudes(grad)
            self.sizes = np.array([size[part].sum() for part in parts])
        counts = np.array([part.stop - part.start for part in parts])
        self.e_grad = totals + 2 * u * self.sizes + tiny * counts

    def judge(self, C, A, B, active, **report):
        """The report for the rank-one directions C, A, B (see fd.rank_one_differences) whose
        arrays ``active`` (per direction and array, in θ's order) move."""
        net, n, scale = self.net, self.X.shape[0], self.scale
        rows = np.empty((C.shape[0], fd.ROW))
        fd.rank_one_differences(net.parameters, net.layout, self.X, self.T, self.Z, self.E, C, A,
                                B, scale, STEP, self.extra, rows)
        dots = np.empty((C.shape[0], active.shape[1]))
        fd.rank_one_dots(net.layout, self.grad, C, A, B, dots)
        analytic = scale * dots.sum(axis=1)
        # Rounding of the supplied entries and of the directional sum uᵀg; a ReLU unit on
        # the other branch moves uᵀg by less than Σ_j |s_j z_j| / t unless the steps cross
        # its kink (see finite_differences.gradient_rounding).
        # (Sums, not a matrix product: BLAS threads left spinning slow a busy machine.)
        e_dir = (scale * ((active * self.e_grad).sum(axis=1) + _gamma(net.parameters.size, U64)
                          * (active * self.sizes).sum(axis=1)) + self.flips / STEP)
        rho = _rounding(self.eps_c, rows, net, n) / STEP
        return _judge(rows, np.full(C.shape[0], STEP), n, analytic, e_dir, rho, self.per_sample,
                      mode="fast",
                      describe=lambda d: (f"direction {d}", None, "direction", d, None),
                      step=f"t = ε^(1/3) = {STEP:.3g} along rank-one sign directions",
                      tolerance=f"|D(2t) − D(t)| + 3·ε_C/t + e_g with ε_C = {self.eps_c:.2g}",
                      **report)


def _arrays(net):
    """(name, slice of θ) for every weight matrix and bias vector, in θ's order."""
    out = []
    for l in range(len(net.sizes) - 1):
        start, n_w = int(net.layout.w_off[l]), net.sizes[l] * net.sizes[l + 1]
        out.append((f"weights[{l}]", slice(start, start + n_w)))
        out.append((f"biases[{l}]", slice(start + n_w, start + n_w + net.sizes[l + 1])))
    return out


def _array_names(net):
    return [name for name, _ in _arrays(net)]


def _directions(net, n_directions, seed):
    """Random rank-one directions (C, A, B, active): w_ij of layer l moves by c_i·a_j, b_j by
    β_j, each of c, a, β a random sign (one random bit), laid out as fd.rank_one_differences
    expects; every array active."""
    rng = np.random.default_rng(seed)
    width = int(net.layout.n_off[-1] + net.layout.sizes[-1])
    count = 3 * n_directions * width
    bits = np.unpackbits(np.frombuffer(rng.bytes(-(-count // 8)), np.uint8), count=count)
    C, A, B = bits.reshape(3, n_directions, width) * 2.0 - 1.0  # bit 1: +1, bit 0: −1
    active = np.ones((n_directions, 2 * (len(net.sizes) - 1)))
    return C, A, B, active


def _restricted(net, directions, k):
    """The directions moving only array k (weights[l] for k = 2l, biases[l] for 2l + 1)."""
    C, A, B, active = (np.zeros_like(x) for x in directions)
    l, n_off = k // 2, net.layout.n_off
    above = slice(int(n_off[l + 1]), int(n_off[l + 1] + net.sizes[l + 1]))
    if k % 2 == 0:
        below = slice(int(n_off[l]), int(n_off[l] + net.sizes[l]))
        C[:, below], A[:, above] = directions[0][:, below], directions[1][:, above]
    else:
        B[:, above] = directions[2][:, above]
    active[:, k] = directions[3][:, k]
    return C, A, B, active


def _rounding(eps_c, rows, net, n):
    """ε_C per row: the bound at θ, and at least the final rounding of C at the moved θ
    (which the bound at θ misses where C(θ) is 0 and C(θ ± h) is not); plus what evaluating
    C at the steps from the unperturbed pass may round beyond a forward pass
    (fd.EXTRA_ROUNDING)."""
    largest = rows[:, fd.LARGEST_E] / n
    return (np.maximum(eps_c, (_gamma(net.sizes[-1], U64) + 4 * U64) * largest)
            + rows[:, fd.EXTRA_ROUNDING] / n + UNDERFLOW)


def _gamma(m, u):
    return u * min(m, LAMBDA * math.sqrt(m))


def network_names(net):
    """p ↦ (name, layer, kind, i, j) for the flat parameter index p."""

    def describe(p):
        l, kind, i, j = describe_parameter(net.layout, p)
        name = f"weights[{l}][{i}, {j}]" if kind == "w" else f"biases[{l}][{j}]"
        return name, l, kind, i, j

    return describe


def _judge(rows, h, n, analytic, e_analytic, rho, per_sample=False, **report):
    """Numeric values, tolerances and kink ranges from the rows of differences (see
    finite_differences.add_sample); rho bounds the rounding error of D(h).

    The range at a kink: the values backpropagation gives with relu'(0) = 0 (frozen)
    and = 1 (≈ left + right − frozen: one-sided derivatives are frozen plus the units
    they turn on), and C's one-sided derivatives left and right, all summed over samples;
    ``per_sample`` (units within rounding of z = 0, which may take either branch sample by
    sample): the sum of each sample's range instead."""
    with np.errstate(invalid="ignore", divide="ignore"):
        central = rows[:, fd.ALL_H] / (2 * h * n)
        d1 = rows[:, fd.SMOOTH_H] / (2 * h * n)
        d2 = rows[:, fd.SMOOTH_2H] / (2 * h * n)
        kink = rows[:, fd.N_KINKED] > 0
        # Truncation: measured, for the smooth samples by D(2h) − D(h), for kinked ones by
        # the one-sided formulas of two orders. Rounding: the third-order one-sided formula
        # weighs its four values by (11 + 18 + 9 + 2)/6 ≈ 7 times what D(h) does.
        truncation = np.abs(d2 - d1) + rows[:, fd.KINK_TRUNCATION] / n
        rounding = np.where(kink, 7.0, 1.0) * rho + 2 * U64 * np.abs(central)
        tol = truncation + 3 * rounding + e_analytic
        left, right = d1 + rows[:, fd.KINK_LEFT] / n, d1 + rows[:, fd.KINK_RIGHT] / n
        if per_sample:
            low, high = d1 + rows[:, fd.KINK_LOW] / n, d1 + rows[:, fd.KINK_HIGH] / n
        else:
            frozen = d1 + rows[:, fd.KINK_FROZEN] / n
            ends = np.stack([left, right, frozen, left + right - frozen])
            low, high = ends.min(axis=0), ends.max(axis=0)
        nearest = np.clip(analytic, low, high)
        numeric = np.where(kink & np.isfinite(analytic), nearest, central)
    return GradcheckReport(numeric=numeric, analytic=np.asarray(analytic, dtype=np.float64),
                           tol=tol, kink=kink, left=left, right=right, low=low, high=high,
                           **report)


def _scale_hint(numeric, analytic, tol, kink, ok, differentiated):
    """When every entry is off by one common factor c ≠ 1, say so: a differently scaled
    loss (sum instead of mean, no ½) or a flipped sign, rather than a wrong formula."""
    smooth = ~kink & np.isfinite(analytic)
    if ok.all() or smooth.sum() < 2 or not np.isfinite(analytic).all():
        return None
    a, d, t = analytic[smooth], numeric[smooth], tol[smooth]
    if not (np.abs(d) > t).any():
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # values near overflow: no hint
        if d @ d == 0:
            return None
        c = float(a @ d / (d @ d))
        if not math.isfinite(c) or abs(c - 1) < 1e-3 or abs(c) < 1e-3 or not (
                np.abs(a - c * d) <= t * max(1.0, abs(c))).all():
            return None
    if abs(c + 1) < 1e-3:
        return ("every entry has the opposite sign: with δ = ∂E/∂z the output delta is "
                "δ_k = (y_k − t_k) f'(z_k) for the squared error, y_k − t_k for cross-entropy")
    return (f"every entry is {c:.6g} × the numeric value: is the loss scaled differently? "
            f"This check differentiates {differentiated}")


# --- any function -------------------------------------------------------------------------


def check_callable(f, grad, x0, describe, raise_on_failure, subject=None):
    """check_function's work; ``describe`` names entries (None: ``x[p]``)."""
    if not callable(f):
        raise InvalidType(f"f must be callable, got {check.shown(f)}")
    if not callable(grad):
        raise InvalidType(f"grad must be callable, got {check.shown(grad)}")
    (raise_on_failure,) = check.arguments(GRADCHECK_PARAMETERS, raise_on_failure=raise_on_failure)
    x0 = check.float_array(x0, "x0")
    if x0.ndim != 1 or x0.size == 0:
        raise InvalidValue(f"x0 must be a 1-D array of at least one number, got shape {x0.shape}")
    check.finite(x0, "x0")
    n = x0.size
    f0, u_f = _scalar(f, x0, "f(x0)")
    if not math.isfinite(f0):
        raise InvalidValue(f"f(x0) must be finite, got {f0}")
    g, g_dtype = _vector(grad, x0, n)

    h = np.cbrt(2 * u_f) * np.maximum(1.0, np.abs(x0))
    values = np.empty((n, 4))  # f at x0 + h, − h, + 2h, − 2h along e_p
    spans = np.empty((n, 2))  # the steps actually taken: (x + h) − (x − h), for h and 2h
    x = x0.copy()
    for p in range(n):
        for m, k in enumerate((1.0, 2.0)):
            up, down = x0[p] + k * h[p], x0[p] - k * h[p]
            spans[p, m] = up - down
            x[p] = up
            values[p, 2 * m], _ = _scalar(f, x, "f(x)")
            x[p] = down
            values[p, 2 * m + 1], _ = _scalar(f, x, "f(x)")
        x[p] = x0[p]
    rows = np.zeros((n, fd.ROW))
    with np.errstate(invalid="ignore", over="ignore"):  # f near overflow: caught below
        rows[:, fd.SMOOTH_H] = (values[:, 0] - values[:, 1]) * (2 * h / spans[:, 0])
        rows[:, fd.SMOOTH_2H] = 0.5 * (values[:, 2] - values[:, 3]) * (4 * h / spans[:, 1])
        rows[:, fd.ALL_H] = rows[:, fd.SMOOTH_H]
        # The noise of f, measured: fourth differences of smooth f are h⁴f'''' ≈ 0, so what
        # remains is rounding, with variance 70σ² (1 + 16 + 36 + 16 + 1).
        fourth = values[:, 3] - 4 * values[:, 1] + 6 * f0 - 4 * values[:, 0] + values[:, 2]
        sigma = math.sqrt(float(np.mean(fourth**2)) / 70) if np.isfinite(fourth).all() else 0.0
    eps_f = max(LAMBDA * u_f * abs(f0), LAMBDA * sigma) + UNDERFLOW
    u_g = _unit_roundoff(g_dtype)
    finite_g = np.abs(g[np.isfinite(g)])
    e_g = LAMBDA * u_g * (finite_g.max() if finite_g.size else 0.0)
    e_g = (e_g + 2 * u_g * np.where(np.isfinite(g), np.abs(g), 0.0)
           + max(UNDERFLOW, float(np.finfo(g_dtype).tiny)))
    describe = describe or (lambda p: (f"x[{p}]", None, "x", p, None))
    report = _judge(rows, h, 1, g, e_g, eps_f / h, mode="full",
                    subject=subject or f"a function of {n} variable{'s' if n != 1 else ''}",
                    precision=g_dtype.name, describe=describe,
                    step=f"h = (2u)^(1/3)·max(1, |x|) = {np.cbrt(2 * u_f):.3g}·max(1, |x|)",
                    tolerance=f"|D(2h) − D(h)| + 3·ε_f/h + e_g with ε_f = {eps_f:.2g} "
                              "(measured noise of f)")
    if raise_on_failure and not report.ok:
        raise GradcheckError(report)
    return report


def _scalar(f, x, what):
    """f(x) as a Python float, and the unit roundoff of the dtype it came in."""
    value = f(x.copy())
    array = np.asarray(value)
    if array.ndim != 0:
        raise InvalidValue(f"{what} must return a single number, got shape {array.shape}")
    if array.dtype.kind not in "iuf" or isinstance(value, (bool, np.bool_)):
        raise InvalidType(f"{what} must return a real number, got {check.shown(value)}")
    u = _unit_roundoff(array.dtype) if array.dtype.kind == "f" else U64
    return float(array), u


def _vector(grad, x0, n):
    value = grad(x0.copy())
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:
        raise InvalidValue(f"grad(x0) must return an array of shape ({n},), got "
                           f"{check.shown(value)} ({err})") from None
    if array.shape != (n,):
        raise InvalidValue(f"grad(x0) must return an array of shape ({n},) like x0, "
                           f"got shape {array.shape}")
    if array.dtype.kind != "f":
        raise InvalidType(f"grad(x0) must return floats (their dtype sets the precision they "
                          f"are judged in), got dtype {array.dtype}")
    return array.astype(np.float64), array.dtype


def _json_value(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else None
    return value


def output_rounding(net, X, dtype):
    """(n, n_out) bounds on the rounding error of net.forward(X) computed in ``dtype``
    (used by the adapters to confirm that a foreign model computes the same function)."""
    X, _ = check.inputs(X, net.sizes[0])
    bound = np.empty((X.shape[0], net.sizes[-1]))
    fd.output_rounding(net.parameters, net.layout, X, _unit_roundoff(dtype), LAMBDA, bound)
    return bound


__all__ = ["Entry", "GradcheckError", "GradcheckReport", "check_function", "compare_gradients",
           "gradcheck"]
