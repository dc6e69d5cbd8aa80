"""Test oracle for nbbackprop: a vectorised NumPy reference and Hypothesis strategies.

Written independently from the textbook matrix form of backpropagation; it is a
test oracle only, never imported by the package and sharing no code with it.

Conventions match the package's documented API: W[l] has shape (sizes[l], sizes[l+1])
with W[l][i, j] = w_ij, so a layer is Z = Y_below @ W + b, Y = f(Z), row per sample;
C = (1/n) Σ_x E_x with the per-sample loss E_x:

- "squared": E = ½ Σ_k (t_k − y_k)², any output activation (softmax included);
- "cross_entropy" with a softmax output: E = −Σ_k t_k ln y_k = Σ_k t_k (lse(z) − z_k);
- "cross_entropy" with sigmoid outputs: E = −Σ_k [t_k ln y_k + (1 − t_k) ln(1 − y_k)]
  = Σ_k [t_k softplus(−z_k) + (1 − t_k) softplus(z_k)].

Both cross-entropies are evaluated from the output z, never from y, so they stay finite
for saturated outputs. Softmax is allowed at the output layer only. Weight decay λ adds
(λ/2) Σ w² to the cost for the gradient only (∂/∂w_ij gains λ w_ij, biases nothing):
``error`` is always the data term.
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")  # element-wise: any layer
OUTPUT_ACTIVATIONS = (*ACTIVATIONS, "softmax")  # softmax: the output layer only
LOSSES = ("squared", "cross_entropy")
CROSS_ENTROPY_OUTPUTS = ("softmax", "sigmoid")  # the outputs cross-entropy is defined for

# Allowed error, relative to the error scales below (see error_scales).
RTOL = 1e-12


def f(name, z):
    if name == "sigmoid":
        with np.errstate(over="ignore"):  # exp(-z) = inf for z << 0 gives the right limit, 0
            return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "linear":
        return z.copy()
    if name == "softmax":
        return softmax(z)
    raise ValueError(name)


def f_prime(name, z):
    if name == "sigmoid":
        s = f("sigmoid", z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(np.float64)  # relu'(0) = 0 by convention
    if name == "linear":
        return np.ones_like(z)
    if name == "softmax":
        raise ValueError("softmax is not element-wise: its derivative is softmax_jacobian(y)")
    raise ValueError(name)


def softmax(z):
    """exp(z_k) / Σ_m exp(z_m) over the last axis, for any finite z.

    The row max is subtracted first: every exponent is then ≤ 0 and the largest is
    exactly 0, so exp never overflows and the denominator lies in [1, K].
    """
    z = np.asarray(z)
    with np.errstate(over="ignore"):  # z − max = −inf only for |z| ~ 1e308: exp gives 0
        e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(y):
    """J[..., k, m] = ∂y_k/∂z_m = y_k (δ_km − y_m), i.e. diag(y) − y yᵀ per row of y."""
    y = np.asarray(y)
    return np.eye(y.shape[-1], dtype=y.dtype) * y[..., None, :] - y[..., :, None] * y[..., None, :]


def logsumexp(z):
    """ln Σ_m exp(z_m) over the last axis (shape z.shape[:-1]), finite for finite z."""
    z = np.asarray(z)
    m = z.max(axis=-1)
    with np.errstate(over="ignore"):
        return m + np.log(np.sum(np.exp(z - m[..., None]), axis=-1))


def softplus(u):
    """ln(1 + exp(u)) = max(u, 0) + log1p(exp(−|u|)): no overflow, no log(0).

    −ln σ(z) = softplus(−z) and −ln(1 − σ(z)) = softplus(z).
    """
    return np.maximum(u, 0.0) + np.log1p(np.exp(-np.abs(u)))


def forward(weights, biases, activations, X):
    """[(Z, Y)] for each layer, X of shape (n, n_in)."""
    layers, Y = [], X
    for W, b, name in zip(weights, biases, activations, strict=True):
        Z = Y @ W + b
        Y = f(name, Z)
        layers.append((Z, Y))
    return layers


def check_loss(activations, loss):
    """ValueError unless ``loss`` is known and fits ``activations`` (see the module doc)."""
    if loss not in LOSSES:
        raise ValueError(f"loss {loss!r}: expected one of {LOSSES}")
    if "softmax" in activations[:-1]:
        raise ValueError("softmax is allowed at the output layer only")
    if loss == "cross_entropy" and activations[-1] not in CROSS_ENTROPY_OUTPUTS:
        raise ValueError(f"cross_entropy needs a softmax or sigmoid output: {activations[-1]!r}")


def error(weights, biases, activations, X, T, loss="squared"):
    """C = (1/n) Σ_x E_x, the data term only (weight decay never enters it).

    Cross-entropy is computed from the output Z, not from Y = f(Z), so that it stays
    finite for saturated outputs (|z| in the thousands): Σ_k t_k (lse(z) − z_k) for a
    softmax (valid for any t; equal to −Σ_k t_k ln y_k), and t·softplus(−z) +
    (1 − t)·softplus(z) for sigmoids.
    """
    check_loss(activations, loss)
    Z, Y = forward(weights, biases, activations, X)[-1]
    if loss == "squared":
        return 0.5 * np.sum((T - Y) ** 2) / len(X)
    if activations[-1] == "softmax":
        return np.sum(T * (logsumexp(Z)[..., None] - Z)) / len(X)
    return np.sum(T * softplus(-Z) + (1.0 - T) * softplus(Z)) / len(X)


def output_delta(name, loss, Z, Y, T):
    """δ_k = ∂E/∂z_k at the output (one row per sample), E the per-sample loss.

    Each case is derived on its own route, deliberately not via the closed forms a
    package would code (y − t, y_k[(y_k − t_k) − Σ_m (y_m − t_m) y_m]):

    - squared, element-wise f: (y − t)·f'(z), the chain rule with a diagonal Jacobian;
    - squared, softmax: Jᵀ (y − t) with the Jacobian J = diag(y) − y yᵀ built as a
      K×K matrix for every sample and multiplied out (softmax_jacobian);
    - cross_entropy, softmax: ∂/∂z of the very expression ``error`` evaluates,
      E = Σ_k t_k (lse(z) − z_k), with ∂lse/∂z_k = softmax(z)_k: δ_k = (Σ_m t_m)·y_k − t_k,
      the general form, which is y_k − t_k for rows of T summing to 1 (the package
      requires that). Not Jᵀ ∂E/∂y: ∂E/∂y_k = −t_k/y_k is inf or nan once y_k
      underflows to 0 at saturated logits, while δ stays finite;
    - cross_entropy, sigmoid: ∂/∂z of t·softplus(−z) + (1 − t)·softplus(z) with
      softplus' = σ: δ = (1 − t)·σ(z) − t·σ(−z), both σ's evaluated from z (σ(−z) is not
      formed as 1 − y); equal to σ(z) − t = y − t because σ(−z) = 1 − σ(z).
    """
    if loss == "squared":
        if name == "softmax":
            return np.einsum("nkm,nk->nm", softmax_jacobian(Y), Y - T)  # Jᵀ (y − t)
        return (Y - T) * f_prime(name, Z)
    if name == "softmax":
        return T.sum(axis=-1, keepdims=True) * Y - T
    return (1.0 - T) * f("sigmoid", Z) - T * f("sigmoid", -Z)


def gradient(weights, biases, activations, X, T, loss="squared", weight_decay=0.0):
    """(dC/dW per layer, dC/db per layer) by backpropagation in matrix form.

    C is ``error``'s cost plus (λ/2) Σ_l Σ_ij w_ij² for λ = ``weight_decay``: every weight
    gradient gains λ·W[l], biases nothing. Output delta: see ``output_delta``.
    """
    check_loss(activations, loss)
    layers = forward(weights, biases, activations, X)
    n, L = len(X), len(weights)
    Z, Y = layers[-1]
    delta = output_delta(activations[-1], loss, Z, Y, T)  # dE/dZ at the output, row per sample
    gw, gb = [None] * L, [None] * L
    for l in reversed(range(L)):
        Y_below = X if l == 0 else layers[l - 1][1]
        gw[l] = Y_below.T @ delta / n  # mean over samples of y_i δ_j
        if weight_decay:
            gw[l] = gw[l] + weight_decay * weights[l]
        gb[l] = delta.mean(axis=0)
        if l > 0:
            Z_below = layers[l - 1][0]
            delta = (delta @ weights[l].T) * f_prime(activations[l - 1], Z_below)
    return gw, gb


def error_scales(weights, biases, X, T, activations=None, loss="squared", weight_decay=0.0):
    """Elementwise bounds on the magnitudes that rounding errors scale with.

    Returns (sy, se, sw, sb) for the output Y, the error C and the gradients. Any
    correct float64 evaluation (any summation order, FMA, libm vs NumPy exp/tanh)
    is within c·eps·scale of the exact value, c ~ depth × width ≲ 100, so comparing
    to RTOL·scale (RTOL = 1e-12 ≈ 4500 eps) leaves ample margin while a genuine bug
    (wrong index, derivative, mean) is off by O(scale). A plain rtol would not do:
    sums can cancel (z ≈ 0 from large terms), and with linear/relu layers values
    reach ~1e5, so no fixed atol fits both small and large nets.

    ``activations`` is needed for a softmax output or a cross-entropy ``loss`` (None:
    an element-wise output, the squared error). The output-layer bounds, with
    Az ≥ |z| the forward bound below, M = max_k Az_k and τ = Σ_k |t_k| per sample:

    - element-wise output: y as for hidden layers, δ = (y − t) f'(z) or (sigmoid
      cross-entropy) (1 − t) σ(z) − t σ(−z): S = (Ay + |t| + [CE: |1 − t|])·(1 + Az);
    - softmax output: an error eps·Az in z shifts every z_k − max by ≤ 2 eps M, so y
      has relative (hence, y ≤ 1, absolute) error ≲ eps·M: sy = 1 + M for every k.
      |δ_k| ≤ 2(1 + τ) for both losses (|y_k − t_k| ≤ 1 + τ and Σ_m |y_m − t_m| y_m
      ≤ 1 + τ as Σ y = 1; CE: |(Σ t) y_k − t_k| ≤ 2τ), so S = 2(1 + τ)(1 + M);
    - squared error: se = ½ Σ (sy + |t|)² / n ((a + M)²/2 ≥ a·M bounds the first-order
      error a·eps·M, a = 1 + |t|);
    - softmax cross-entropy: Σ_k t_k (lse − z_k), each lse − z_k ≤ 2M + ln K in
      magnitude and accurate to eps·(2M + ln K): se = Σ |t_k| (2M + ln K + 1) / n;
    - sigmoid cross-entropy: softplus(±z) ≤ Az + ln 2, 1-Lipschitz:
      se = Σ (|t| + |1 − t|)(Az + 1) / n.

    Weight decay adds |λ|·|W| to sw (the sum g + λw rounds relative to both terms).
    """
    if activations is None:
        if loss != "squared":
            raise ValueError("error_scales needs the activations for a cross-entropy loss")
        activations = ("linear",) * len(weights)  # element-wise: the bounds below agree
    check_loss(activations, loss)
    # Forward: |z| ≤ Az = Ay_below @ |W| + |b|; every f has |f(z)| ≤ |z| + 1 and is
    # 1-Lipschitz, so the error in y is bounded by the error in z plus eps·Ay.
    Ay, Az = [np.abs(X)], []
    for W, b in zip(weights, biases, strict=True):
        Az.append(Ay[-1] @ np.abs(W) + np.abs(b))
        Ay.append(Az[-1] + 1.0)
    # Backward: |f'| ≤ 1 and f' is 1-Lipschitz away from relu's kink, so a z error
    # of eps·Az moves f' by ≤ eps·Az: δ's scale gains a factor (1 + Az) per layer.
    n, L = len(X), len(weights)
    At = np.abs(T)
    if activations[-1] == "softmax":
        M = Az[-1].max(axis=-1, keepdims=True)
        tau = At.sum(axis=-1, keepdims=True)
        sy = np.broadcast_to(1.0 + M, Az[-1].shape).copy()
        S = np.broadcast_to(2.0 * (1.0 + tau) * (1.0 + M), Az[-1].shape).copy()
    else:
        sy = Ay[-1]
        extra = np.abs(1.0 - T) if loss == "cross_entropy" else 0.0
        S = (Ay[-1] + At + extra) * (1.0 + Az[-1])
    sw, sb = [None] * L, [None] * L
    for l in reversed(range(L)):
        sw[l] = Ay[l].T @ S / n
        if weight_decay:
            sw[l] = sw[l] + abs(weight_decay) * np.abs(weights[l])
        sb[l] = S.mean(axis=0)
        if l > 0:
            S = (S @ np.abs(weights[l]).T) * (1.0 + Az[l - 1])
    if loss == "squared":
        se = 0.5 * np.sum((sy + At) ** 2) / n
    elif activations[-1] == "softmax":
        se = np.sum(At * (2.0 * M + np.log(Az[-1].shape[-1]) + 1.0)) / n
    else:
        se = np.sum((At + np.abs(1.0 - T)) * (Az[-1] + 1.0)) / n
    return sy, se, sw, sb


def relu_kink_ambiguous(weights, biases, activations, X):
    """True if a relu z is so near 0 that rounding could decide relu'(z) ∈ {0, 1}.

    Different summation orders may then disagree by O(1) in the gradient, which is
    not a bug. z is exactly 0 in every implementation when all its terms x_i w_ij
    (first layer) or its weight column (deeper, where Ay ≥ 1) and b_j are exactly 0,
    i.e. Az = 0; those cases are kept, so the relu'(0) = 0 convention is still tested.
    """
    Ay = np.abs(X)
    for (Z, _), W, b, name in zip(
        forward(weights, biases, activations, X), weights, biases, activations, strict=True
    ):
        Az = Ay @ np.abs(W) + np.abs(b)
        if name == "relu" and np.any((np.abs(Z) <= 1e-9 * Az) & (Az > 0)):
            return True
        Ay = Az + 1.0
    return False


def assert_close(got, want, scale, what=""):
    """|got − want| ≤ RTOL·scale elementwise (NaN fails), with a readable report."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    # + 1e-300: tiny absolute floor so subnormal results flushed to zero (FTZ/DAZ in
    # BLAS, torch or fastmath code) pass where the scale itself underflows to 0.
    tol = RTOL * np.broadcast_to(scale, want.shape) + 1e-300
    ok = np.abs(got - want) <= tol
    if not ok.all():
        idx = tuple(int(i) for i in np.argwhere(~ok)[0])
        raise AssertionError(
            f"{what}: {int((~ok).sum())} of {ok.size} entries off; first at {idx}: "
            f"got {got[idx]!r}, want {want[idx]!r}, tol {tol[idx]:.3g}"
        )


# ---- Hypothesis strategies -------------------------------------------------


def _values(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _layer_sizes(draw, sizes, n_out):
    """(layer sizes as a list, L): 1–4 layers of widths 1–8, or drawn from the ``sizes``
    strategy; the last width set to ``n_out`` when given."""
    if sizes is None:
        L = draw(st.integers(1, 4))
        sizes = draw(st.lists(st.integers(1, 8), min_size=L + 1, max_size=L + 1))
    else:
        sizes = list(draw(sizes))
        L = len(sizes) - 1
    if n_out is not None:
        sizes[-1] = n_out
    return sizes, L


@st.composite
def networks_and_data(draw, n_out=None, sizes=None, activations=ACTIVATIONS):
    """(weights, biases, activations, X, T): 1–4 layers, widths 1–8, 1–6 samples.

    ``sizes``: a strategy for the layer sizes instead; ``activations``: the names to draw from.
    """
    sizes, L = _layer_sizes(draw, sizes, n_out)
    names = activations
    activations = draw(st.lists(st.sampled_from(names), min_size=L, max_size=L))
    weights = [
        draw(arrays(np.float64, (a, b), elements=_values(-2, 2)))
        for a, b in zip(sizes, sizes[1:], strict=False)
    ]
    biases = [draw(arrays(np.float64, (b,), elements=_values(-2, 2))) for b in sizes[1:]]
    n = draw(st.integers(1, 6))
    X = draw(arrays(np.float64, (n, sizes[0]), elements=_values(-2, 2)))
    T = draw(arrays(np.float64, (n, sizes[-1]), elements=_values(-1, 1)))
    return weights, biases, activations, X, T


def one_hot(labels, n_classes):
    """(n, n_classes) float64 array, row s all 0 but a 1 at column labels[s]."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("labels: a 1-D array of integers")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes})")
    T = np.zeros((labels.size, n_classes))
    T[np.arange(labels.size), labels] = 1.0
    return T


@st.composite
def distributions(draw, K):
    """One row of K targets summing to 1 (within K roundings), each in [0, 1]: one-hot, or
    soft labels (draws from [0, 1] divided by their sum; all zero: 1/K each)."""
    if draw(st.booleans(), label="one-hot"):
        return one_hot(np.array([draw(st.integers(0, K - 1), label="class")]), K)[0]
    row = draw(arrays(np.float64, (K,), elements=_values(0, 1)), label="soft labels")
    total = row.sum()
    if total == 0:  # no mass to normalise: spread it evenly
        return np.full(K, 1.0 / K)
    return row / total  # sums to 1 within K rounding errors


@st.composite
def classifier_networks_and_data(draw, loss=None, output=None, n_out=None, sizes=None,
                                 hidden=ACTIVATIONS, saturated=None):
    """(weights, biases, activations, X, T, loss): networks_and_data's tuple plus the loss.

    1–4 layers, widths 1–8 (a softmax output: 2–8 classes unless ``n_out`` says
    otherwise; one class makes y ≡ 1), 1–6 samples, hidden activations drawn from
    ``hidden``. ``loss``/``output``: fixed, or None to draw them: loss from LOSSES, output
    from softmax or sigmoid for cross-entropy, from OUTPUT_ACTIVATIONS for the squared
    error. ``sizes``: a strategy for the layer sizes instead.

    Targets are valid for the pair: a softmax output gets rows summing to 1 (one-hot
    or normalised soft labels, drawn per row); sigmoid with cross-entropy gets t in
    [0, 1] (exact 0 and 1 often); other squared-error outputs get t in [−1, 1] as in
    networks_and_data. ``saturated`` (None: drawn): the output biases are drawn from
    [−1000, 1000] with the ends ±1000 often, so |z| reaches ~1000 and y saturates.
    """
    if loss is None:
        loss = draw(st.sampled_from(LOSSES if output in (None, *CROSS_ENTROPY_OUTPUTS)
                                    else ("squared",)), label="loss")
    if output is None:
        output = draw(st.sampled_from(CROSS_ENTROPY_OUTPUTS if loss == "cross_entropy"
                                      else OUTPUT_ACTIVATIONS), label="output")
    check_loss([output], loss)
    sizes, L = _layer_sizes(draw, sizes, n_out)
    if n_out is None and output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    # a new list: appending to the drawn one would make Hypothesis report it without output
    activations = [*draw(st.lists(st.sampled_from(hidden), min_size=L - 1, max_size=L - 1)),
                   output]
    weights = [
        draw(arrays(np.float64, (a, b), elements=_values(-2, 2)))
        for a, b in zip(sizes, sizes[1:], strict=False)
    ]
    biases = [draw(arrays(np.float64, (b,), elements=_values(-2, 2))) for b in sizes[1:-1]]
    if saturated is None:
        saturated = draw(st.booleans(), label="saturated")
    big = st.one_of(st.sampled_from([-1000.0, 1000.0]), _values(-1000, 1000))
    biases.append(draw(arrays(np.float64, (sizes[-1],),
                              elements=big if saturated else _values(-2, 2))))
    n = draw(st.integers(1, 6))
    X = draw(arrays(np.float64, (n, sizes[0]), elements=_values(-2, 2)))
    K = sizes[-1]
    if output == "softmax":
        T = np.array([draw(distributions(K)) for _ in range(n)])
    elif loss == "cross_entropy":
        unit = st.one_of(st.sampled_from([0.0, 1.0]), _values(0, 1))
        T = draw(arrays(np.float64, (n, K), elements=unit))
    else:
        T = draw(arrays(np.float64, (n, K), elements=_values(-1, 1)))
    return weights, biases, activations, X, T, loss
