"""How often the gradient checker is wrong: a seeded corpus of real backpropagation bugs.

Every trial draws a network (1–3 layers of weights, widths 1–6; sigmoid, tanh or ReLU
hidden units; a squared-error output (linear, sigmoid, tanh or softmax), a softmax with
cross-entropy, or sigmoids with cross-entropy), 1–6 samples, float64 or float32, and
with or without units placed exactly at a ReLU kink (zero inputs and zero biases). It
computes the gradient of C by its own NumPy backpropagation (independent of the
package's kernels), once right and once with one bug class injected, and checks both
with ``nb.compare_gradients`` in full and in fast mode.

Wrong entries are decided here, not by the checker: an entry is *wrong* when the buggy
value lies farther than 10⁻³·(|g_p| + max_q |g_q|) + r from the values a correct
backpropagation can give: the right gradient with relu'(0) = 0, with relu'(0) = 1, C's
one-sided derivatives (with kinks; ``one_sided``) and everything between, where r is 10³
times the largest difference between the right gradient in the trial's dtype and the
same formulas in float64 (its measured rounding), and at least the dtype's ε times the
sizes the entry is computed from (``magnitudes``); *unchanged* when it
equals the right gradient bit for bit. A trial whose bug leaves every entry unchanged is
a **no-bug** trial (and must pass); one that changes entries but none measurably is
counted apart, as *unresolvable*; every other trial is a bug that must be found.

Printed per bug class and mode: trials with a bug, the detection rate, and (full mode)
the fraction of wrong entries the report names; and the false-alarm rate over the
right gradients and the no-bug trials.

Run:  python scripts/gradcheck_corpus.py [--trials 10000] [--seed 0] [--quick]
"""

import argparse
import time

import numpy as np

import nbbackprop as nb
from machine import cpu_model  # scripts/machine.py

BUGS = ("transposed weight matrix", "missing f'", "wrong sign of δ", "bias × batch size",
        "off-by-one neuron index", "stale weights in hidden delta", "one corrupted entry",
        "bias gradient not averaged", "δ from post-activation values",
        "softmax Jacobian omitted", "loss and gradient scaled differently")
HIDDEN = ("sigmoid", "tanh", "relu")
OUTPUTS = (("linear", "squared"), ("sigmoid", "squared"), ("tanh", "squared"),
           ("softmax", "squared"), ("softmax", "cross_entropy"), ("sigmoid", "cross_entropy"))
WRONG = 1e-3  # an entry is wrong beyond this × (|g_p| + max |g|) outside the right values,
NOISE = 1e3  # plus this × the measured rounding error of the right gradient in its dtype


# --- an independent backpropagation, in matrix form ----------------------------------------


def f(name, z):
    if name == "sigmoid":
        with np.errstate(over="ignore"):  # exp(−z) = inf gives the right limit, 0
            return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z


def f_prime(name, z, relu_at_zero=0.0):
    """f'(z) for an element-wise f; relu'(0) = relu_at_zero."""
    if name == "sigmoid":
        s = f("sigmoid", z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return np.where(z > 0, 1, np.where(z == 0, relu_at_zero, 0)).astype(z.dtype)
    return np.ones_like(z)


def backprop(W, b, acts, loss, X, T, bug=None, at=0, relu_at_zero=0.0, scale=2.0, eta=0.1):
    """(dC/dW, dC/db) per layer for C = (1/n) Σ_x E_x, in the dtype of W, with ``bug``."""
    L, n = len(W), len(X)
    Z, Y = [], [X]
    for l in range(L):
        Z.append(Y[-1] @ W[l] + b[l])
        Y.append(f(acts[l], Z[-1]))
    z, y = Z[-1], Y[-1]
    post = bug == "δ from post-activation values"
    if loss == "cross_entropy":
        delta = y - T
    elif acts[-1] == "softmax":
        r = y - T
        if bug == "softmax Jacobian omitted":
            delta = r * y * (1 - y)  # softmax treated as element-wise
        else:
            delta = y * (r - (r * y).sum(axis=1, keepdims=True))  # Jᵀ(y − t)
    elif bug == "missing f'" and at == L - 1:
        delta = y - T
    else:
        delta = (y - T) * f_prime(acts[-1], y if post else z, relu_at_zero)
    if bug == "wrong sign of δ":
        delta = -delta
    gw, gb = [None] * L, [None] * L
    for l in reversed(range(L)):
        d = np.roll(delta, 1, axis=1) if bug == "off-by-one neuron index" and l == at else delta
        gw[l] = Y[l].T @ d / n
        summed = bug == "bias gradient not averaged" or (bug == "bias × batch size" and l == at)
        gb[l] = d.sum(axis=0) if summed else d.sum(axis=0) / n
        if l > 0:
            Wl = W[l]
            if bug == "transposed weight matrix" and l == at:
                Wl = Wl.T
            if bug == "stale weights in hidden delta" and l == at:
                Wl = Wl - eta * gw[l]
            delta = delta @ Wl.T
            if not (bug == "missing f'" and l - 1 == at):
                delta = delta * f_prime(acts[l - 1], Y[l] if post else Z[l - 1], relu_at_zero)
    if bug == "loss and gradient scaled differently":
        gw, gb = [w * scale for w in gw], [v * scale for v in gb]
    return gw, gb


def error(W, b, acts, loss, X, T):
    """C = (1/n) Σ_x E_x in float64."""
    Y = X
    for l in range(len(W)):
        Z = Y @ W[l] + b[l]
        Y = f(acts[l], Z)
    if loss == "squared":
        return 0.5 * np.sum((Y - T) ** 2) / len(X)
    if acts[-1] == "softmax":
        top = Z.max(axis=1, keepdims=True)
        lse = top + np.log(np.exp(Z - top).sum(axis=1, keepdims=True))
        return np.sum(T * (lse - Z)) / len(X)
    softplus = lambda v: np.maximum(v, 0) + np.log1p(np.exp(-np.abs(v)))  # noqa: E731
    return np.sum(T * softplus(-Z) + (1 - T) * softplus(Z)) / len(X)


def one_sided(W, b, acts, loss, X, T, step=1e-7):
    """C's left and right derivatives in every parameter, (C(θ) − C(θ − h)) / h and
    (C(θ + h) − C(θ)) / h with h = step·max(1, |θ_p|), in float64: within about 10⁻⁶ of
    the true ones where no other kink lies within h."""
    W, b = [w.astype(np.float64) for w in W], [v.astype(np.float64) for v in b]
    X, T = X.astype(np.float64), T.astype(np.float64)
    c0 = error(W, b, acts, loss, X, T)
    left, right = [], []
    for array in (a for pair in zip(W, b) for a in pair):  # θ's order: w, b per layer
        for index in np.ndindex(array.shape):
            old = array[index]
            h = step * max(1.0, abs(old))
            array[index] = old + h
            right.append((error(W, b, acts, loss, X, T) - c0) / (array[index] - old))
            array[index] = old - h
            left.append((c0 - error(W, b, acts, loss, X, T)) / (old - array[index]))
            array[index] = old
    return np.array(left), np.array(right)


def magnitudes(W, b, acts, X, T):
    """Per entry, the size of what its computation adds and multiplies: backpropagation
    run on |·| with |f'| ≤ 1, |f| ≤ |z| + 1 (what rounding in a dtype is relative to)."""
    Ay = [np.abs(X)]
    for l in range(len(W)):
        Ay.append(Ay[-1] @ np.abs(W[l]) + np.abs(b[l]) + 1)
    D = (Ay[-1] + np.abs(T) + 1) * Ay[-1]
    gw, gb = [None] * len(W), [None] * len(W)
    for l in reversed(range(len(W))):
        gw[l], gb[l] = Ay[l].T @ D / len(X), D.mean(axis=0)
        D = (D @ np.abs(W[l]).T) * Ay[l]
    return gw, gb


# --- one trial -------------------------------------------------------------------------------


def draw_case(rng, bug):
    """(W, b, acts, loss, X, T, dtype, kinks, at): a random problem the bug applies to."""
    hidden, output = rng.choice(HIDDEN), OUTPUTS[rng.integers(len(OUTPUTS))]
    if bug == "softmax Jacobian omitted":
        output = ("softmax", "squared")
    L = int(rng.integers(2 if bug in ("transposed weight matrix", "stale weights in hidden "
                                      "delta") else 1, 4))
    sizes = list(rng.integers(1, 7, size=L + 1))
    if output[0] == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    at = int(rng.integers(1 if bug in ("transposed weight matrix",
                                       "stale weights in hidden delta") else 0, L))
    if bug == "transposed weight matrix":  # a square layer, so the shapes fit
        sizes[at] = sizes[at + 1] = max(sizes[at], 2)
        if at + 1 == L and output[0] == "softmax":
            sizes[at] = sizes[at + 1]
    acts = [str(hidden)] * (L - 1) + [output[0]]
    n = int(rng.integers(1, 7))
    W = [rng.uniform(-2, 2, (sizes[l], sizes[l + 1])) for l in range(L)]
    b = [rng.uniform(-2, 2, sizes[l + 1]) for l in range(L)]
    X = rng.uniform(-2, 2, (n, sizes[0]))
    kinks = bool(rng.integers(2)) and hidden == "relu"
    if kinks:  # units exactly at z = 0: zero inputs for some samples, zero biases
        X[rng.random(n) < 0.5] = 0.0
        for l in range(L - 1):
            b[l][rng.random(sizes[l + 1]) < 0.5] = 0.0
    K = sizes[-1]
    if output[0] == "softmax":
        T = np.eye(K)[rng.integers(0, K, n)]
    elif output[1] == "cross_entropy":
        T = rng.integers(0, 2, (n, K)).astype(np.float64)
    else:
        T = rng.uniform(-1, 1, (n, K))
    dtype = np.float32 if rng.integers(2) else np.float64
    W, b = [w.astype(dtype) for w in W], [v.astype(dtype) for v in b]
    return W, b, acts, output[1], X.astype(dtype), T.astype(dtype), dtype, kinks, at


def flat(gw, gb):
    return np.concatenate([np.concatenate([w.ravel(), v]) for w, v in zip(gw, gb)])


def trial(seed, bug):
    """One trial: a dict of what happened (see ``summarise``)."""
    rng = np.random.default_rng(seed)
    W, b, acts, loss, X, T, dtype, kinks, at = draw_case(rng, bug)
    n = len(X)
    right = backprop(W, b, acts, loss, X, T)
    options = {"at": at, "eta": float(rng.uniform(0.01, 1)),
               "scale": float(rng.choice([2.0, 0.5, n]))}
    if bug == "one corrupted entry":
        g = flat(*right)
        g[rng.integers(g.size)] += dtype(rng.choice([-1.0, 1e-2, 0.5]))
        sizes = [w.shape for w in W]
        wrong, offset = ([], []), 0
        for (a, c) in sizes:
            wrong[0].append(g[offset:offset + a * c].reshape(a, c))
            wrong[1].append(g[offset + a * c:offset + a * c + c])
            offset += a * c + c
    else:
        wrong = backprop(W, b, acts, loss, X, T, bug=bug, **options)
    # The values a right backpropagation may give: relu'(0) anywhere in [0, 1], and the
    # rounding of the trial's dtype, measured against the same formulas in float64.
    g0 = flat(*right).astype(np.float64)
    g1 = flat(*backprop(W, b, acts, loss, X, T, relu_at_zero=1.0)).astype(np.float64)
    up = [[a.astype(np.float64) for a in arrays] for arrays in (W, b, (X, T))]
    g64 = flat(*backprop(up[0], up[1], acts, loss, *up[2]))
    noise = np.maximum(NOISE * np.max(np.abs(g0 - g64)),
                       np.finfo(dtype).eps * flat(*magnitudes(*up[:2], acts, *up[2])))
    gw = flat(*wrong).astype(np.float64)
    values = [g0, g1]
    if kinks:  # and C's own one-sided derivatives, the interval of its subgradients
        values += one_sided(W, b, acts, loss, X, T)
    low, high = np.min(values, axis=0), np.max(values, axis=0)
    with np.errstate(invalid="ignore"):
        distance = np.maximum(low - gw, gw - high)
        scale = np.abs(g0) + np.max(np.abs(g0))
        is_wrong = ~(distance <= WRONG * scale + noise)  # NaN is wrong
    changed = ~(gw == g0)
    net = nb.Network.from_weights([w.astype(np.float64) for w in W],
                                  [v.astype(np.float64) for v in b], acts, loss=loss)
    out = {"seed": seed, "bug": bug, "dtype": np.dtype(dtype).name, "kinks": kinks,
           "n_wrong": int(is_wrong.sum()), "n_changed": int(changed.sum())}
    for mode in ("full", "fast"):
        good = nb.compare_gradients(net, X, T, *right, mode=mode, seed=seed)
        bad = nb.compare_gradients(net, X, T, *wrong, mode=mode, seed=seed)
        out[f"{mode}_false_alarm"] = not good.ok
        out[f"{mode}_flagged"] = not bad.ok
        if mode == "full":
            flagged = np.array([not e.ok for e in bad.entries])
            out["named"] = int((flagged & is_wrong).sum())
            out["flagged_unchanged"] = int((flagged & ~changed).sum())
    return out


# --- the corpus ------------------------------------------------------------------------------


def run(trials, seed=0):
    """``trials`` trials, spread evenly over the bug classes, seeds seed, seed + 1, …"""
    return [trial(seed + k, BUGS[k % len(BUGS)]) for k in range(trials)]


def kind(t):
    if t["n_wrong"]:
        return "bug"
    return "no-bug" if t["n_changed"] == 0 else "unresolvable"


def summarise(results):
    """{bug: {...}} and the overall figures, as printed by ``report``."""
    table = {}
    for bug in BUGS:
        mine = [t for t in results if t["bug"] == bug]
        bugs = [t for t in mine if kind(t) == "bug"]
        table[bug] = {
            "trials": len(mine), "with a bug": len(bugs),
            "no-bug": sum(kind(t) == "no-bug" for t in mine),
            "unresolvable": sum(kind(t) == "unresolvable" for t in mine),
            "full detected": sum(t["full_flagged"] for t in bugs),
            "fast detected": sum(t["fast_flagged"] for t in bugs),
            "wrong entries": sum(t["n_wrong"] for t in bugs),
            "named": sum(t["named"] for t in bugs),
        }
    clean = [t for t in results if kind(t) == "no-bug"]
    overall = {
        "trials": len(results),
        "right gradients": len(results),
        "full false alarms": sum(t["full_false_alarm"] for t in results)
        + sum(t["full_flagged"] for t in clean),
        "fast false alarms": sum(t["fast_false_alarm"] for t in results)
        + sum(t["fast_flagged"] for t in clean),
        "passing checks": len(results) + len(clean),
        "full misses": [t["seed"] for t in results if kind(t) == "bug" and not t["full_flagged"]],
        "false alarm seeds": [t["seed"] for t in results if t["full_false_alarm"]
                              or t["fast_false_alarm"]]
        + [t["seed"] for t in clean if t["full_flagged"] or t["fast_flagged"]],
        "flagged unchanged": sum(t["flagged_unchanged"] for t in results),
        "unnamed seeds": [t["seed"] for t in results if kind(t) == "bug"
                          and t["named"] < t["n_wrong"]],
        "named": sum(row["named"] for row in table.values()),
        "wrong entries": sum(row["wrong entries"] for row in table.values()),
    }
    return table, overall


def percent(a, b):
    return f"{100 * a / b:.1f} %" if b else "—"


def report(results, seconds):
    table, overall = summarise(results)
    lines = [f"{'bug class':<38} {'trials':>6} {'bugs':>5} {'no-bug':>6} {'unres.':>6} "
             f"{'full':>8} {'named':>8} {'fast':>8}"]
    for bug, row in table.items():
        found = row["with a bug"]
        lines.append(f"{bug:<38} {row['trials']:>6} {found:>5} {row['no-bug']:>6} "
                     f"{row['unresolvable']:>6} {percent(row['full detected'], found):>8} "
                     f"{percent(row['named'], row['wrong entries']):>8} "
                     f"{percent(row['fast detected'], found):>8}")
    checks = overall["passing checks"]
    lines += [
        f"false alarms on right gradients and no-bug trials ({checks} checks per mode): "
        f"full {overall['full false alarms']} ({percent(overall['full false alarms'], checks)}), "
        f"fast {overall['fast false alarms']} ({percent(overall['fast false alarms'], checks)})",
        f"wrong entries named in full mode: {overall['named']} of {overall['wrong entries']}; "
        f"entries flagged that the bug left unchanged: {overall['flagged unchanged']}",
        f"full-mode misses (seeds): {overall['full misses'][:20] or 'none'}; "
        f"trials with wrong entries not named (seeds): {overall['unnamed seeds'][:20] or 'none'}",
        f"false-alarm seeds: {overall['false alarm seeds'][:20] or 'none'}",
        f"{overall['trials']} trials in {seconds:.0f} s on {cpu_model()}",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a small slice: 220 trials")
    args = parser.parse_args(argv)
    trials = 20 * len(BUGS) if args.quick else args.trials
    start = time.perf_counter()
    results = run(trials, args.seed)
    print(report(results, time.perf_counter() - start))


if __name__ == "__main__":
    main()
