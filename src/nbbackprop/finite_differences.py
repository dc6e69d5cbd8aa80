"""The compiled half of ``gradient_check.py``: finite differences and rounding-error bounds.

Finite differences. For every parameter θ_p and every sample x, the sample error E_x is
evaluated at θ ± h_p e_p and θ ± 2h_p e_p by forward passes only. Moving one parameter
of layer l moves one weighted input, z_j = Σ_i w_ij y_i + b_j, by t·y_i (by t for the
bias), so only what that move reaches is recomputed: y_j, then the layer above from
Δy_j (z_k + w_jk Δy_j), then whole layers with ``forward_layer``. θ is never written;
the step t is applied exactly as t·y_i, so no rounding of θ_p + t enters the quotient.

While doing so it notes, per sample, whether any ReLU unit changed state (z > 0) at any
of the steps: that sample's E_x has a kink within ±2h_p, and it contributes one-sided
derivatives (from θ ± 3h_p too) and the derivative with its ReLU units frozen in their
state at θ, instead of the central difference (``add_sample``).

Rounding bounds. ``error_rounding`` and ``gradient_rounding`` bound the rounding error of
C and of ∂C/∂θ computed in a precision with unit roundoff u (2^-53 for float64, 2^-24 for
float32): the same loops as the forward and backward passes, run on magnitudes. A sum of
m terms contributes γ(m)·Σ|terms|; a product of two inexact factors a·b contributes
|a|·e_b + |b|·e_a + e_a·e_b (the last term keeps the bound valid where a first-order term
vanishes, e.g. on all-zero weights).
"""

import math

import numpy as np

from ._jit import jit
from .activations import CROSS_ENTROPY, RELU, SIGMOID, SOFTMAX, SQUARED, TANH, activate, f, fprime
from .formulas import forward, forward_layer, loss_error, softplus
from .layout import biases_of, neuron_buffer, neurons_of, weights_of

# Columns of a row of differences (one row per parameter or direction), all sums over samples.
ALL_H = 0  # E(+h) − E(−h), every sample: n·2h·D(h)
SMOOTH_H = 1  # E(+h) − E(−h), samples without a kink
SMOOTH_2H = 2  # (E(+2h) − E(−2h)) / 2, samples without a kink
KINK_LOW, KINK_HIGH = 3, 4  # min and max of a kinked sample's one-sided and frozen ones
KINK_LEFT, KINK_RIGHT = 5, 6  # a kinked sample's left and right derivatives
KINK_TRUNCATION = 7  # a kinked sample's measured truncation of its one-sided derivatives
N_KINKED = 8  # how many samples have a kink
LARGEST_E = 9  # the largest E_x of the steps (±h, ±2h; a kinked sample: all its values),
# whose rounding the bound at θ may miss
KINK_FROZEN = 10  # a kinked sample's derivative with its ReLU units frozen in their state
ROW = 11
STEPS = (1.0, -1.0, 2.0, -2.0, 3.0, -3.0)  # the steps, in units of h
# A sample's E values, in this order: e[0] = E(θ), then E at the STEPS, then E at the first
# four steps again with every ReLU unit frozen in its state at θ.
N_VALUES = 11


@jit(inline="always")
def add_sample(row, e, kinks, h):
    """Add one sample's E values (see N_VALUES; all of them only for a kinked sample) to its
    row; kinks[q] says whether step q changed the state of a ReLU unit.

    Smooth samples add the central differences. A kinked sample adds the range of:
    its one-sided derivatives, third-order (exact for cubics on each side),
      right = (−11E(0) + 18E(h) − 9E(2h) + 2E(3h)) / 6h,  left: the same with −h,
    and the central difference with the ReLU units frozen (the derivative of the piece
    that contains θ, which backpropagation computes with relu'(0) = 0). Their truncation:
    for a one-sided derivative its difference from the second-order one,
    (−3E(0) + 4E(h) − E(2h)) / 2h, on the side(s) whose steps crossed no kink; for the
    frozen one D(2h) − D(h). The sums of left, right and frozen are kept apart too
    (KINK_LEFT, KINK_RIGHT, KINK_FROZEN): ``gradient_check._judge`` decides the range.
    """
    row[ALL_H] += e[1] - e[2]
    right_kink = kinks[0] or kinks[2] or kinks[4]
    left_kink = kinks[1] or kinks[3] or kinks[5]
    if not (right_kink or left_kink):
        row[LARGEST_E] += max(e[1], e[2], e[3], e[4])
        row[SMOOTH_H] += e[1] - e[2]
        row[SMOOTH_2H] += 0.5 * (e[3] - e[4])
        return
    # Every value the one-sided and frozen quotients use: the frozen ones may be far larger
    # than E(θ ± h) (a unit held on past its kink).
    largest = e[1]
    for q in range(2, N_VALUES):
        largest = max(largest, e[q])
    row[LARGEST_E] += largest
    right = (-11.0 * e[0] + 18.0 * e[1] - 9.0 * e[3] + 2.0 * e[5]) / (6.0 * h)
    left = (11.0 * e[0] - 18.0 * e[2] + 9.0 * e[4] - 2.0 * e[6]) / (6.0 * h)
    right_trunc = abs(right - (-3.0 * e[0] + 4.0 * e[1] - e[3]) / (2.0 * h))
    left_trunc = abs(left - (3.0 * e[0] - 4.0 * e[2] + e[4]) / (2.0 * h))
    if not left_kink:
        trunc = left_trunc
    elif not right_kink:
        trunc = right_trunc
    else:
        trunc = max(left_trunc, right_trunc)
    frozen = (e[7] - e[8]) / (2.0 * h)
    trunc = max(trunc, abs((e[9] - e[10]) / (4.0 * h) - frozen))
    row[KINK_LOW] += min(left, right, frozen)
    row[KINK_HIGH] += max(left, right, frozen)
    row[KINK_LEFT] += left
    row[KINK_RIGHT] += right
    row[KINK_FROZEN] += frozen
    row[KINK_TRUNCATION] += trunc
    row[N_KINKED] += 1.0


@jit
def forward_samples(theta, layout, X, T, Z, Y, E):
    """Z[s], Y[s]: every z and y of sample s (flat, like ``forward``); E[s] = E_x."""
    sizes = layout.sizes
    L = sizes.shape[0] - 1
    for s in range(X.shape[0]):
        forward(theta, layout, X[s], Z[s], Y[s])
        E[s] = loss_error(neurons_of(Z[s], layout, L), neurons_of(Y[s], layout, L), T[s],
                          layout.acts[L - 1], layout.loss)


@jit
def changed_state(code, z_new, z_old):
    """True if a ReLU unit is on (z > 0) at one of z_new, z_old and off at the other."""
    return code == RELU and (z_new > 0.0) != (z_old > 0.0)


@jit(inline="always")
def f_frozen(code, z, z_at_theta, frozen):
    """y = f(z); frozen: a ReLU unit keeps its state at θ, on (y = z) iff z_at_theta > 0."""
    if frozen and code == RELU:
        return z if z_at_theta > 0.0 else 0.0
    return f(code, z)


@jit
def freeze(code, z, z_at_theta, y):
    """Overwrite the y of a layer computed by forward_layer with ``f_frozen(..., frozen)``."""
    if code == RELU:
        for k in range(z.shape[0]):
            y[k] = z[k] if z_at_theta[k] > 0.0 else 0.0


@jit
def forward_frozen(theta, layout, x, Zs, z, y):
    """``forward`` with every ReLU unit held in its state in the pass Zs."""
    sizes, acts = layout.sizes, layout.acts
    neurons_of(y, layout, 0)[:] = x
    for l in range(sizes.shape[0] - 1):
        forward_layer(weights_of(theta, layout, l), biases_of(theta, layout, l),
                      neurons_of(y, layout, l), acts[l],
                      neurons_of(z, layout, l + 1), neurons_of(y, layout, l + 1))
        freeze(acts[l], neurons_of(z, layout, l + 1), neurons_of(Zs, layout, l + 1),
               neurons_of(y, layout, l + 1))


@jit
def moved_sample_error(theta, layout, l, j, dz, Zs, Ys, t, e0, z, y, frozen):
    """E of one sample when z_j of neuron layer l (1 … L) moves by dz, and whether a ReLU
    unit changed state (frozen: ReLU units keep their state at θ). Zs, Ys: the sample's
    pass at θ; z, y: scratch buffers."""
    sizes, acts, n_off = layout.sizes, layout.acts, layout.n_off
    L = sizes.shape[0] - 1
    old = Zs[n_off[l] + j]
    z_j = old + dz
    if l == L and (layout.loss != SQUARED or acts[L - 1] == SOFTMAX):
        # The whole output layer: a softmax mixes every output, cross-entropy is from z.
        z_out, y_out = neurons_of(z, layout, L), neurons_of(y, layout, L)
        z_out[:] = neurons_of(Zs, layout, L)
        z_out[j] = z_j
        activate(acts[L - 1], z_out, y_out)
        return loss_error(z_out, y_out, t, acts[L - 1], layout.loss), False
    y_j = f_frozen(acts[l - 1], z_j, old, frozen)
    kinked = changed_state(acts[l - 1], z_j, old)
    dy = y_j - Ys[n_off[l] + j]
    if dy == 0.0:  # nothing above moves (a ReLU unit that stays off, a saturated sigmoid)
        return e0, kinked
    if l == L:  # an output: E changes in one term of ½ Σ_k (t_k − y_k)²
        return e0 + 0.5 * ((t[j] - y_j) ** 2 - (t[j] - Ys[n_off[L] + j]) ** 2), kinked
    # The layer above: z_k = z_k + w_jk Δy_j.
    w = weights_of(theta, layout, l)
    code = acts[l]
    for k in range(sizes[l + 1]):
        old = Zs[n_off[l + 1] + k]
        z_k = old + w[j, k] * dy
        z[n_off[l + 1] + k] = z_k
        y[n_off[l + 1] + k] = f_frozen(code, z_k, old, frozen)
        kinked |= changed_state(code, z_k, old)
    if code == SOFTMAX:
        activate(code, neurons_of(z, layout, l + 1), neurons_of(y, layout, l + 1))
    # Every layer above that: all of its inputs moved.
    for m in range(l + 1, L):
        forward_layer(
            weights_of(theta, layout, m),
            biases_of(theta, layout, m),
            neurons_of(y, layout, m),
            acts[m],
            neurons_of(z, layout, m + 1),
            neurons_of(y, layout, m + 1),
        )
        if frozen:
            freeze(acts[m], neurons_of(z, layout, m + 1),
                   neurons_of(Zs, layout, m + 1), neurons_of(y, layout, m + 1))
        for k in range(n_off[m + 1], n_off[m + 1] + sizes[m + 1]):
            kinked |= changed_state(acts[m], z[k], Zs[k])
    return (loss_error(neurons_of(z, layout, L), neurons_of(y, layout, L), t, acts[L - 1],
                       layout.loss), kinked)


@jit
def central_differences(theta, layout, X, T, h, rows):
    """rows[p]: the sums of ``add_sample`` over all samples for θ_p moved by ±h[p], ±2h[p]
    (and ±3h[p], and frozen, for the samples where those steps change a ReLU unit's state).

    The parameter of flat index p is w_ij of layer l (p = w_off[l] + i·n_j + j) or, taking
    i = n_i, the bias b_j right after the weights: the same formula, with y_i = 1.
    """
    sizes, w_off, n_off = layout.sizes, layout.w_off, layout.n_off
    n = X.shape[0]
    width = n_off[-1] + sizes[-1]
    Z, Y, E = np.empty((n, width)), np.empty((n, width)), np.empty(n)
    forward_samples(theta, layout, X, T, Z, Y, E)
    z, y = neuron_buffer(layout), neuron_buffer(layout)
    e, kinks = np.empty(N_VALUES), np.zeros(6, dtype=np.bool_)
    rows[:] = 0.0
    for l in range(sizes.shape[0] - 1):
        n_i, n_j = sizes[l], sizes[l + 1]
        for i in range(n_i + 1):
            for j in range(n_j):
                p = w_off[l] + i * n_j + j
                for s in range(n):
                    y_i = 1.0 if i == n_i else Y[s, n_off[l] + i]
                    if y_i == 0.0:  # θ_p does not reach this sample: E_x does not move
                        continue
                    dz = h[p] * y_i  # exact negation and doubling give the other steps
                    e[0] = E[s]
                    kinks[:] = False
                    for q in range(10):
                        if q == 4 and not kinks[:4].any():
                            break  # the other values only serve kinked samples
                        e[q + 1], k = moved_sample_error(
                            theta, layout, l + 1, j, STEPS[q % 6] * dz,
                            Z[s], Y[s], T[s], E[s], z, y, q >= 6)
                        if q < 6:
                            kinks[q] = k
                    add_sample(rows[p], e, kinks, h[p])


@jit
def directional_differences(theta, layout, X, T, U, t, rows):
    """rows[d]: the sums of ``add_sample`` over all samples for θ moved by ±t·U[d], ±2t·U[d],
    ±3t·U[d], and frozen by ±t·U[d], ±2t·U[d] (whole forward passes: every parameter moves)."""
    sizes, acts, n_off = layout.sizes, layout.acts, layout.n_off
    n = X.shape[0]
    L = sizes.shape[0] - 1
    width = n_off[-1] + sizes[-1]
    Z, Y, E = np.empty((n, width)), np.empty((n, width)), np.empty(n)
    forward_samples(theta, layout, X, T, Z, Y, E)
    z, y = neuron_buffer(layout), neuron_buffer(layout)
    moved = np.empty_like(theta)
    e, kinks = np.empty((n, N_VALUES)), np.zeros((n, 6), dtype=np.bool_)
    rows[:] = 0.0
    for d in range(U.shape[0]):
        for q in range(10):
            if q == 4 and not kinks[:, :4].any():
                break  # the other values only serve kinked samples
            for p in range(theta.shape[0]):
                moved[p] = theta[p] + (STEPS[q % 6] * t) * U[d, p]
            for s in range(n):
                if q >= 6:
                    forward_frozen(moved, layout, X[s], Z[s], z, y)
                else:
                    forward(moved, layout, X[s], z, y)
                e[s, q + 1] = loss_error(neurons_of(z, layout, L), neurons_of(y, layout, L),
                                         T[s], acts[L - 1], layout.loss)
                if q >= 6:
                    continue
                kinks[s, q] = False
                for l in range(1, L + 1):
                    for k in range(n_off[l], n_off[l] + sizes[l]):
                        kinks[s, q] |= changed_state(acts[l - 1], z[k], Z[s, k])
        for s in range(n):
            e[s, 0] = E[s]
            add_sample(rows[d], e[s], kinks[s], t)


# --- rounding-error bounds ---------------------------------------------------------------


@jit(inline="always")
def gamma(m, u, lam):
    """Rounding error of a sum of m terms, relative to the sum of their magnitudes: m·u in
    the worst case; λ√m·u with probability ≥ 1 − 2m·exp(−λ²/2) (Higham & Mary 2019,
    "A new approach to probabilistic rounding error analysis"). The smaller one is used."""
    return u * min(float(m), lam * math.sqrt(m))


@jit(inline="always")
def f_rounding(code):
    """Rounding error of evaluating y = f(z), in units u of |y|: exp or tanh within 1 ulp (2u),
    then 1 + ·, 1 / · for the sigmoid; ReLU and linear are exact."""
    return 4.0 if code == SIGMOID or code == TANH else 0.0


@jit(inline="always")
def fprime_slope(code, y):
    """|d f'/d y| for f' computed from y: sigmoid y(1 − y) → |1 − 2y|; tanh 1 − y² → |2y|."""
    if code == SIGMOID:
        return abs(1.0 - 2.0 * y)
    if code == TANH:
        return abs(2.0 * y)
    return 0.0


@jit(inline="always")
def ambiguous_relu(code, z, e_z):
    """A ReLU unit whose z is within rounding of 0: another evaluation may find it on or off."""
    return code == RELU and e_z > 0.0 and abs(z) <= e_z


@jit
def forward_rounding(theta, layout, z, y, u, lam, e_z, e_y):
    """Bounds e_z, e_y on the rounding errors of every z_j, y_j of one sample's forward pass
    in precision u, given the float64 pass's z and y (y of layer 0: the input):

        e_z_j = Σ_i |w_ij| e_y_i + (γ(n_i + 1) + u)·(Σ_i |w_ij y_i| + |b_j|)
        e_y_j = |f'(z_j)|·e_z_j + ½·e_z_j² + c_f·u·|y_j|     (|f''| ≤ 1)

    starting from e_y_i = u|x_i| (the inputs rounded to precision u); the extra u is the
    rounding of w_ij and b_j to precision u. A ReLU unit within rounding of z = 0 passes
    errors on with slope 1. A softmax output (``softmax_rounding``) depends on all its z.
    """
    sizes, acts, n_off = layout.sizes, layout.acts, layout.n_off
    for k in range(n_off[1]):
        e_z[k] = 0.0
        e_y[k] = u * abs(y[k])
    for l in range(sizes.shape[0] - 1):
        w = weights_of(theta, layout, l)
        b = biases_of(theta, layout, l)
        y_in, e_in = neurons_of(y, layout, l), neurons_of(e_y, layout, l)
        n_i, n_j, code = sizes[l], sizes[l + 1], acts[l]
        for j in range(n_j):
            magnitude, carried = abs(b[j]), 0.0
            for i in range(n_i):
                magnitude += abs(w[i, j] * y_in[i])
                carried += abs(w[i, j]) * e_in[i]
            k = n_off[l + 1] + j
            e_z[k] = carried + (gamma(n_i + 1, u, lam) + u) * magnitude
            if code == SOFTMAX:
                continue
            slope = 1.0 if ambiguous_relu(code, z[k], e_z[k]) else abs(fprime(code, z[k], y[k]))
            curved = 0.5 * e_z[k] * e_z[k] if code == SIGMOID or code == TANH else 0.0
            e_y[k] = slope * e_z[k] + curved + f_rounding(code) * u * abs(y[k])
        if code == SOFTMAX:
            softmax_rounding(neurons_of(z, layout, l + 1), neurons_of(y, layout, l + 1),
                             neurons_of(e_z, layout, l + 1), u, lam,
                             neurons_of(e_y, layout, l + 1))


@jit
def softmax_rounding(z, y, e_z, u, lam, e_y):
    """e_y for a softmax layer, y_k = exp(z_k − top) / Σ_m exp(z_m − top):

        D = max_m (e_z_m + u|z_m − top|),   e_y_k = y_k·(exp(2D) − 1 + γ(n) + 5u)

    moving every z_m by at most D scales each exp by a factor within exp(±D), so a ratio
    within exp(±2D); each exp is within 2u, the sum within γ(n), the division u."""
    top = z[0]
    for m in range(1, z.shape[0]):
        top = max(top, z[m])
    D = 0.0
    for m in range(z.shape[0]):
        D = max(D, e_z[m] + u * abs(z[m] - top))
    factor = math.expm1(2.0 * D) + gamma(z.shape[0], u, lam) + 5.0 * u
    for k in range(z.shape[0]):
        e_y[k] = y[k] * factor


@jit
def cross_entropy_rounding(z, t, e_z, code, u, lam):
    """A bound on the rounding error of E computed from z (``loss_error``) in precision u:

    softmax, E = Σ_k t_k (lse − z_k) with lse = top + ln Σ_m exp(z_m − top):
        e_lse = max_m e_z_m + max_m u|z_m − top| + 2u + γ(n) + u|ln S| + u|lse|
        e_E = Σ_k |t_k| (e_lse + e_z_k + u|lse − z_k|) + (γ(n) + u)·Σ_k |t_k (lse − z_k)|
    sigmoid, E = Σ_k [t_k sp(−z_k) + (1 − t_k) sp(z_k)], sp(x) = max(x, 0) + ln(1 + e^−|x|)
    (1-Lipschitz, evaluated within u·sp(x) + 3u):
        e_E = Σ_k [(|t_k| + |1 − t_k|)(e_z_k + 3u) + u(|t_k| sp(−z_k) + |1 − t_k| sp(z_k))]
              + (γ(2n) + 3u)·Σ_k (|t_k| sp(−z_k) + |1 − t_k| sp(z_k))
    """
    n = z.shape[0]
    if code == SOFTMAX:
        top, e_max, shift = z[0], 0.0, 0.0
        for m in range(1, n):
            top = max(top, z[m])
        total = 0.0
        for m in range(n):
            total += math.exp(z[m] - top)
            e_max = max(e_max, e_z[m])
            shift = max(shift, u * abs(z[m] - top))
        log_s = math.log(total)
        lse = top + log_s
        e_lse = e_max + shift + 2.0 * u + gamma(n, u, lam) + u * abs(log_s) + u * abs(lse)
        bound, size = 0.0, 0.0
        for k in range(n):
            bound += abs(t[k]) * (e_lse + e_z[k] + u * abs(lse - z[k]))
            size += abs(t[k] * (lse - z[k]))
        return bound + (gamma(n, u, lam) + u) * size
    bound, size = 0.0, 0.0
    for k in range(n):
        a, b = abs(t[k]), abs(1.0 - t[k])
        terms = a * softplus(-z[k]) + b * softplus(z[k])
        bound += (a + b) * (e_z[k] + 3.0 * u) + u * terms
        size += terms
    return bound + (gamma(2 * n, u, lam) + 3.0 * u) * size


@jit
def error_rounding(theta, layout, X, T, u, lam):
    """A bound on the rounding error of C = (1/n) Σ_x E_x computed in precision u:

        e_E = Σ_k (|y_k − t_k|·e_k + ½e_k²) + (γ(n_out) + 3u)·E_x,  e_k = e_y_k + u|t_k|
        (squared error; cross-entropy: ``cross_entropy_rounding``)
        e_C = (1/n) Σ_x e_E + (γ(n) + u)·C
    """
    sizes = layout.sizes
    n = X.shape[0]
    L = sizes.shape[0] - 1
    z, y = neuron_buffer(layout), neuron_buffer(layout)
    e_z, e_y = neuron_buffer(layout), neuron_buffer(layout)
    total, bound = 0.0, 0.0
    for s in range(n):
        forward(theta, layout, X[s], z, y)
        forward_rounding(theta, layout, z, y, u, lam, e_z, e_y)
        y_out, e_out, t = neurons_of(y, layout, L), neurons_of(e_y, layout, L), T[s]
        z_out, code = neurons_of(z, layout, L), layout.acts[L - 1]
        e = loss_error(z_out, y_out, t, code, layout.loss)
        total += e
        if layout.loss == CROSS_ENTROPY:
            bound += cross_entropy_rounding(z_out, t, neurons_of(e_z, layout, L), code, u, lam)
            continue
        for k in range(sizes[L]):
            e_k = e_out[k] + u * abs(t[k])
            bound += abs(y_out[k] - t[k]) * e_k + 0.5 * e_k * e_k
        bound += (gamma(sizes[L], u, lam) + 3.0 * u) * e
    return bound / n + (gamma(n, u, lam) + u) * total / n


@jit
def output_rounding(theta, layout, X, u, lam, bound):
    """bound[s, k]: the rounding bound e_y_k of output k for sample s, in precision u."""
    sizes = layout.sizes
    L = sizes.shape[0] - 1
    z, y = neuron_buffer(layout), neuron_buffer(layout)
    e_z, e_y = neuron_buffer(layout), neuron_buffer(layout)
    for s in range(X.shape[0]):
        forward(theta, layout, X[s], z, y)
        forward_rounding(theta, layout, z, y, u, lam, e_z, e_y)
        bound[s, :] = neurons_of(e_y, layout, L)


@jit
def gradient_rounding(theta, layout, X, T, u, lam, bound, flips):
    """bound[p] ≥ the rounding error (first order, laid out like theta) of ∂C/∂θ_p computed by
    backpropagation in precision u, before its final rounding to precision u, and flips[p]
    the part that a ReLU unit taking the other branch may add, times the step (below):

        output:  r_k = y_k − t_k,  e_r = e_y_k + u(|t_k| + |r_k|)
                 δ_k = r_k f'_k,   e_δk = |f'_k| e_r + |r_k| e_f'k + e_r e_f'k + u|δ_k|
                 (cross-entropy, softmax with squared error: ``output_delta_rounding``)
        hidden:  s_j = Σ_k δ_k w_jk,  e_s = Σ_k |w_jk| e_δk + (γ(n_k) + u)·Σ_k |δ_k w_jk|
                 δ_j = f'_j s_j,  e_δj = |f'_j| e_s + |s_j| e_f'j + e_s e_f'j + u|δ_j|
        e_f' = |df'/dy|·e_y + e_y² + 2u(|f'| + y²)   (0 for ReLU: relu' is 0 or 1 exactly)
        ∂C/∂w_ij = (1/n) Σ_x δ_j y_i:
                 (1/n)[Σ_x (|δ_j| e_y_i + |y_i| e_δj + e_δj e_y_i) + (γ(n) + 2u) Σ_x |δ_j y_i|]
        ∂C/∂b_j  = (1/n) Σ_x δ_j:      (1/n)[Σ_x e_δj + (γ(n) + 2u) Σ_x |δ_j|]

    A ReLU unit j with |z_j| ≤ e_z_j may take the other branch in precision u, which moves
    ∂C/∂θ_p by s_j·∂z_j/∂θ_p. Where the differences' steps move z_j across 0 (|z_j| <
    3h_p·|∂z_j/∂θ_p|), the kink's one-sided range already holds both branches; elsewhere
    |s_j·∂z_j/∂θ_p| < |s_j z_j|/h_p. So relu' itself gets no rounding allowance (that would
    count the kink twice); such a unit passes e_s on with slope 1, the rounding of s_j on
    the branch where relu' = 1, as ``forward_rounding`` does for e_y; and

        flips[p] = (1/n) Σ_x Σ_j |s_j z_j|   over such units j in the layers θ_p reaches,

    to be divided by the step h_p (``gradient_check``). Returns how many (sample, unit)
    pairs are within rounding of z = 0. Where two or more units of one
    sample are within rounding of 0, they may take different branches, a combination that
    no one-sided derivative shows: each of them keeps e_f' = 1 (docs/gradcheck.md, "ReLU
    kinks").
    """
    sizes, acts, n_off = layout.sizes, layout.acts, layout.n_off
    n = X.shape[0]
    L = sizes.shape[0] - 1
    z, y = neuron_buffer(layout), neuron_buffer(layout)
    e_z, e_y = neuron_buffer(layout), neuron_buffer(layout)
    delta, e_delta = neuron_buffer(layout), neuron_buffer(layout)
    carried = np.zeros_like(theta)  # Σ_x of the propagated errors
    magnitude = np.zeros_like(theta)  # Σ_x |δ_j y_i|
    flipped = np.zeros(L + 1)  # Σ_x Σ_j |s_j z_j| over ambiguous ReLU units of neuron layer l
    ambiguous = 0  # how many (sample, unit) pairs are within rounding of a kink
    for s in range(n):
        forward(theta, layout, X[s], z, y)
        forward_rounding(theta, layout, z, y, u, lam, e_z, e_y)
        n_ambiguous = 0
        for l in range(1, L + 1):
            for j in range(n_off[l], n_off[l] + sizes[l]):
                n_ambiguous += ambiguous_relu(acts[l - 1], z[j], e_z[j])
        ambiguous += n_ambiguous
        for l in range(L, 0, -1):
            code = acts[l - 1]
            if l == L and (layout.loss != SQUARED or code == SOFTMAX):
                output_delta_rounding(neurons_of(y, layout, L), neurons_of(e_y, layout, L),
                                      T[s], layout.loss, u, lam, neurons_of(delta, layout, L),
                                      neurons_of(e_delta, layout, L))
                continue
            for j in range(n_off[l], n_off[l] + sizes[l]):
                fp = fprime(code, z[j], y[j])
                e_fp = 0.0 if code == RELU else (fprime_slope(code, y[j]) * e_y[j]
                                                 + e_y[j] * e_y[j]
                                                 + 2.0 * u * (abs(fp) + y[j] * y[j]))
                if l == L:
                    t = T[s, j - n_off[L]]
                    r = y[j] - t
                    e_r = e_y[j] + u * (abs(t) + abs(r))
                else:
                    w = weights_of(theta, layout, l)
                    r, e_r, size = 0.0, 0.0, 0.0
                    for k in range(sizes[l + 1]):
                        d_k = delta[n_off[l + 1] + k]
                        r += d_k * w[j - n_off[l], k]
                        e_r += abs(w[j - n_off[l], k]) * e_delta[n_off[l + 1] + k]
                        size += abs(d_k * w[j - n_off[l], k])
                    e_r += (gamma(sizes[l + 1], u, lam) + u) * size
                delta[j] = r * fp
                slope = abs(fp)
                if ambiguous_relu(code, z[j], e_z[j]):
                    if n_ambiguous > 1:
                        e_fp = 1.0  # mixed branches: outside the one-sided range (see above)
                    else:
                        slope = 1.0  # the other branch passes s_j's rounding on with slope 1
                        flipped[l] += (abs(r) + e_r) * abs(z[j])
                e_delta[j] = slope * e_r + abs(r) * e_fp + e_r * e_fp + u * abs(delta[j])
        for l in range(L):
            gw, ew = weights_of(magnitude, layout, l), weights_of(carried, layout, l)
            gb, eb = biases_of(magnitude, layout, l), biases_of(carried, layout, l)
            d, ed = neurons_of(delta, layout, l + 1), neurons_of(e_delta, layout, l + 1)
            y_in, ey_in = neurons_of(y, layout, l), neurons_of(e_y, layout, l)
            for i in range(sizes[l]):
                for j in range(sizes[l + 1]):
                    gw[i, j] += abs(d[j] * y_in[i])
                    ew[i, j] += abs(d[j]) * ey_in[i] + abs(y_in[i]) * ed[j] + ed[j] * ey_in[i]
            for j in range(sizes[l + 1]):
                gb[j] += abs(d[j])
                eb[j] += ed[j]
    g = gamma(n, u, lam) + 2.0 * u
    for p in range(theta.shape[0]):
        bound[p] = (carried[p] + g * magnitude[p]) / n
    reached = 0.0  # Σ of flipped over the neuron layers l + 1 … L
    for l in range(L - 1, -1, -1):
        reached += flipped[l + 1]
        weights_of(flips, layout, l)[:] = reached / n
        biases_of(flips, layout, l)[:] = reached / n
    return ambiguous


@jit
def output_delta_rounding(y, e_y, t, loss, u, lam, delta, e_delta):
    """δ_k of the output layer (as ``loss_delta`` computes it) and bounds e_δ on its
    rounding error, for cross-entropy and for a softmax output with the squared error:

        cross-entropy:   δ_k = y_k − t_k,  e_δk = e_y_k + u(|t_k| + |δ_k|)
        softmax, squared: r_m = y_m − t_m, e_r_m = e_y_m + u(|t_m| + |r_m|),
                 s = Σ_m r_m y_m,  e_s = Σ_m (|r_m| e_y_m + |y_m| e_r_m + e_r_m e_y_m)
                                         + (γ(n) + u)·Σ_m |r_m y_m|,
                 a_k = r_k − s,  e_a = e_r_k + e_s + u|a_k|,
                 δ_k = y_k a_k,  e_δk = |y_k| e_a + |a_k| e_y_k + e_y_k e_a + u|δ_k|
    """
    n = y.shape[0]
    if loss == CROSS_ENTROPY:
        for k in range(n):
            delta[k] = y[k] - t[k]
            e_delta[k] = e_y[k] + u * (abs(t[k]) + abs(delta[k]))
        return
    s, e_s, size = 0.0, 0.0, 0.0
    for m in range(n):
        r = y[m] - t[m]
        e_r = e_y[m] + u * (abs(t[m]) + abs(r))
        s += r * y[m]
        e_s += abs(r) * e_y[m] + abs(y[m]) * e_r + e_r * e_y[m]
        size += abs(r * y[m])
    e_s += (gamma(n, u, lam) + u) * size
    for k in range(n):
        r = y[k] - t[k]
        a = r - s
        e_a = e_y[k] + u * (abs(t[k]) + abs(r)) + e_s + u * abs(a)
        delta[k] = y[k] * a
        e_delta[k] = abs(y[k]) * e_a + abs(a) * e_y[k] + e_y[k] * e_a + u * abs(delta[k])


__all__ = ["central_differences", "directional_differences", "error_rounding",
           "gradient_rounding", "output_rounding"]
