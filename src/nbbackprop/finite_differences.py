"""The compiled half of ``gradient_check.py``: finite differences and rounding-error bounds.

Finite differences. For every parameter θ_p and every sample x, the sample error E_x is
evaluated at θ ± h_p e_p and θ ± 2h_p e_p by forward passes only. Moving one parameter
of layer l moves one weighted input, z_j = Σ_i w_ij y_i + b_j, by t·y_i (by t for the
bias), so only what that move reaches is recomputed, from the sample's unperturbed pass,
for all the entries that move one z_j together: in one vectorised block where z_j is an
output or lies just below the outputs (``neuron_block``; sigmoid, tanh, linear, ReLU away
from its kink; squared error, or cross-entropy from z), else entry by entry: y_j, then
the layer above from Δy_j (z_k + w_jk Δy_j), then the layers above that with
``forward_layer`` (``moved_sample_error``). θ is never written; the step t is applied
exactly as t·y_i, so no rounding of θ_p + t enters the quotient. What these evaluations
may round beyond a forward pass is bounded per row (``incremental_rounding``, column
EXTRA_ROUNDING).

While doing so it notes, per sample, whether any ReLU unit changed state (z > 0) at any
of the steps: that sample's E_x has a kink within ±2h_p, and it contributes one-sided
derivatives (from θ ± 3h_p too) and the derivative with its ReLU units frozen in their
state at θ, instead of the central difference (``add_sample``).

Fast mode's directions are rank one in each weight matrix (w_ij moves by τ·c_i·a_j), so
a step moves the first layer's z_j by τ·(a_j·Σ_i c_i x_i + β_j) from the unperturbed pass
and only the layers above are recomputed (``rank_one_differences``); what that rounds
beyond a pass is bounded per sample (``rank_one_rounding``).

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
from .activations import (
    CROSS_ENTROPY,
    LINEAR,
    RELU,
    SIGMOID,
    SOFTMAX,
    SQUARED,
    TANH,
    activate,
    f,
    fprime,
)
from .fast import BLOCK, accumulate_gradient_batch, backward_batch, forward_batch, gather_from
from .formulas import forward, forward_layer, loss_error, softplus
from .layout import biases_of, neuron_buffer, neurons_of, samples_of, weights_of

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
# What one evaluation of C at the steps may round beyond the forward pass's bound ε_C at θ,
# times n (Σ_x): E_x is evaluated from the unperturbed pass, not by a whole forward pass
# (``incremental_rounding``); the row's evaluations are within ε_C + EXTRA_ROUNDING/n.
EXTRA_ROUNDING = 11
ROW = 12
U64 = 2.0**-53  # float64's unit roundoff
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
        z_at_theta = neurons_of(Zs, layout, L)
        for k in range(z_out.shape[0]):  # a loop: a slice copy compiles a shape-mismatch message
            z_out[k] = z_at_theta[k]
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
def central_differences(theta, layout, X, T, h, rows, lam):
    """rows[p]: the sums of ``add_sample`` over all samples for θ_p moved by ±h[p], ±2h[p]
    (and ±3h[p], and frozen, for the samples where those steps change a ReLU unit's state),
    and EXTRA_ROUNDING (``incremental_rounding``, with λ = lam for the bounds at θ).

    The parameter of flat index p is w_ij of layer l (p = w_off[l] + i·n_j + j) or, taking
    i = n_i, the bias b_j right after the weights: the same formula, with y_i = 1. The work
    is organised by moved neuron: for each z_j of layer l + 1 and each sample, every entry
    that moves it (the n_i + 1 entries w_ij, b_j) is evaluated from the same unperturbed
    pass, in one vectorised block where ``neuron_block`` applies, entry by entry otherwise.
    """
    sizes, n_off = layout.sizes, layout.n_off
    n = X.shape[0]
    L = sizes.shape[0] - 1
    width = n_off[-1] + sizes[-1]
    Z, Y, E = np.empty((n, width)), np.empty((n, width)), np.empty(n)
    forward_samples(theta, layout, X, T, Z, Y, E)
    EZ, EY = np.empty((n, width)), np.empty((n, width))
    for s in range(n):
        forward_rounding(theta, layout, Z[s], Y[s], U64, lam, EZ[s], EY[s])
    z, y = neuron_buffer(layout), neuron_buffer(layout)
    e, kinks = np.empty(N_VALUES), np.zeros(6, dtype=np.bool_)
    widest = 1
    for l in range(L):
        widest = max(widest, sizes[l] + 1)
    steps_h, dy = np.empty(widest), np.empty((6, widest))
    acc = np.empty((8, widest))
    rows[:] = 0.0
    for l in range(L):
        n_i, n_j = sizes[l], sizes[l + 1]
        block = block_applies(layout, l)
        relu_reached = False
        for m in range(l, L):
            relu_reached |= layout.acts[m] == RELU
        for j in range(n_j):
            for i in range(n_i + 1):
                steps_h[i] = h[layout.w_off[l] + i * n_j + j]
            for s in range(n):
                if block and neuron_block(theta, layout, l, j, s, Z[s], Y[s], EZ[s], EY[s],
                                          T[s], E[s], steps_h, rows, dy, acc):
                    continue
                # A kinked sample also takes ±3h steps: 1.5 times the ±2h move.
                d = step_bound(steps_h, Y[s], layout, l) * (1.5 if relu_reached else 1.0)
                extra = incremental_rounding(theta, layout, l, j, Z[s], Y[s], EZ[s], EY[s],
                                             T[s], E[s], d, -1.0)
                for i in range(n_i + 1):
                    entry_sample(theta, layout, l, i, j, Z[s], Y[s], T[s], E[s], h, rows,
                                 z, y, e, kinks)
                    rows[layout.w_off[l] + i * n_j + j, EXTRA_ROUNDING] += extra


@jit(inline="always")
def entry_sample(theta, layout, l, i, j, Zs, Ys, t, e0, h, rows, z, y, e, kinks):
    """Add one sample's E values for the entry w_ij of layer l (b_j for i = n_i) to its row,
    each from ``moved_sample_error``."""
    n_i, n_j = layout.sizes[l], layout.sizes[l + 1]
    p = layout.w_off[l] + i * n_j + j
    y_i = 1.0 if i == n_i else Ys[layout.n_off[l] + i]
    if y_i == 0.0:  # θ_p does not reach this sample: E_x does not move
        return
    dz = h[p] * y_i  # exact negation and doubling give the other steps
    e[0] = e0
    kinks[:] = False
    for q in range(10):
        if q == 4 and not kinks[:4].any():
            break  # the other values only serve kinked samples
        e[q + 1], k = moved_sample_error(theta, layout, l + 1, j, STEPS[q % 6] * dz,
                                         Zs, Ys, t, e0, z, y, q >= 6)
        if q < 6:
            kinks[q] = k
    add_sample(rows[p], e, kinks, h[p])


@jit(inline="always")
def shifts(code):
    """Sigmoid, tanh or linear: no kink, and a cheap exact way to move z by a small step
    (``shifted``); such units may be the output of ``neuron_block``."""
    return code == SIGMOID or code == TANH or code == LINEAR


@jit(inline="always")
def block_applies(layout, l):
    """``neuron_block`` serves the entries of layer l when the neuron they move is an output
    or lies just below the outputs, and: with the squared error, the outputs ``shifts`` and
    so does the moved neuron or it is a ReLU unit (whose samples near its kink go entry by
    entry); with cross-entropy (softmax or sigmoid outputs), the same for a hidden neuron."""
    L = layout.sizes.shape[0] - 1
    code, out = layout.acts[l], layout.acts[L - 1]
    if layout.loss == SQUARED:
        if l + 1 == L:
            return shifts(code)
        return l + 2 == L and (shifts(code) or code == RELU) and shifts(out)
    if out != SOFTMAX and out != SIGMOID:
        return False
    return l + 1 == L or (l + 2 == L and (shifts(code) or code == RELU))


# exp(a + x) = exp(a)·P(x) for |x| ≤ SHIFT_MAX, P the Taylor polynomial of degree 6: its
# truncation, |x|⁷/7!·e^|x| < 3·10⁻²¹, is below 10⁻⁴ of float64's unit roundoff.
SHIFT_MAX = 2.0**-8


@jit(inline="always")
def exp_small(x):
    """e^x for |x| ≤ SHIFT_MAX (Horner; relative error below 2u)."""
    return 1.0 + x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (
        1.0 / 120.0 + x * (1.0 / 720.0))))))


@jit(inline="always")
def expm1_small(x):
    """e^x − 1 for |x| ≤ SHIFT_MAX: x·Σ_{m≤6} x^m/(m+1)!, truncation below |x|·x⁷/8!·1.01
    (< 10⁻⁵ u relative); relative error below 3u."""
    return x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (
        1.0 / 720.0 + x * (1.0 / 5040.0)))))))


@jit(inline="always")
def log1p_small(v):
    """ln(1 + v) for |v| ≤ 1.01·SHIFT_MAX: v·Σ_{m≤7} (−v)^m/(m+1), truncation below
    |v|⁸/9·1.02 relative (< 10⁻⁴ u); relative error below 3u."""
    return v * (1.0 - v * (0.5 - v * (1.0 / 3.0 - v * (0.25 - v * (0.2 - v * (
        1.0 / 6.0 - v * (1.0 / 7.0 - v * 0.125)))))))


@jit(inline="always")
def step_bound(steps_h, Ys, layout, l):
    """max_i 2h_p|y_i| over the entries moving one neuron: the largest move of its z at the
    steps ±h, ±2h."""
    n_i = layout.sizes[l]
    largest = steps_h[n_i]
    for i in range(n_i):
        largest = max(largest, abs(steps_h[i] * Ys[layout.n_off[l] + i]))
    return 2.0 * largest


@jit(inline="always")
def exp_at(code, z):
    """The exponential ``shifted`` starts from: e^(−z) for a sigmoid, e^(2z) for tanh."""
    if code == SIGMOID:
        return math.exp(-z)
    if code == TANH:
        return math.exp(2.0 * z)
    return 0.0


@jit(inline="always")
def shift_limit(code):
    """The largest move c·x that ``shifted`` takes: P's argument is −c·x (sigmoid) or
    2c·x (tanh), within ±SHIFT_MAX."""
    return 0.5 * SHIFT_MAX if code == TANH else SHIFT_MAX


@jit(inline="always")
def shifted(code, z, e, c, x, m, out):
    """out[i] = f(z + c·x[i]) for i < m, for a unit that ``shifts``, given e = exp_at(code, z)
    and |c·x[i]| ≤ shift_limit(code) (P: ``exp_small``):
        sigmoid 1 / (1 + e^(−z)·P(−c·x_i)),   tanh 1 − 2 / (1 + e^(2z)·P(2c·x_i)),
        linear z + c·x_i.
    Branch-free loops over i, so they vectorise."""
    if code == SIGMOID:
        for i in range(m):
            out[i] = 1.0 / (1.0 + e * exp_small(-(c * x[i])))
    elif code == TANH:
        for i in range(m):
            out[i] = 1.0 - 2.0 / (1.0 + e * exp_small(2.0 * (c * x[i])))
    else:
        for i in range(m):
            out[i] = z + c * x[i]


# error_model="numpy": a float division is IEEE's (1/0 = inf) instead of checked for zero, a
# branch that keeps the divisions below from vectorising (their denominators are ≥ 1 anyway).
@jit(error_model="numpy")
def neuron_block(theta, layout, l, j, s, Zs, Ys, EZs, EYs, t, e0, steps_h, rows, dy, acc):
    """Add sample s's smooth central differences to the rows of every entry that moves z_j of
    layer l + 1 (w_ij for each i, b_j), where ``block_applies``. Returns False, adding
    nothing, when a step is too large for ``exp_small`` or, for a ReLU unit, when a step
    (up to ±3h) may cross its kink: the caller then goes entry by entry, kink rule included.

    Moving w_ij by t moves z_j by Δ = t·y_i (y_i = 1 for b_j), so y_j and, above it,
    each output by x_k = w_jk·Δy_j (``shifted``: sigmoid, tanh or linear):
        y_j' = f(z_j + Δ),   Δy_j = y_j' − y_j,   y_k' = f(z_k + x_k)
        E' = ½ Σ_k (t_k − y_k')²,   or, j an output:  E' = E + ½[(t_j − y_j')² − (t_j − y_j)²]
    with e^(−z) (sigmoid) or e^(2z) (tanh) computed once per sample. A ReLU unit j whose
    steps all keep its state is linear (on) or constant (off: E' = E). Per entry and step
    that is one polynomial of degree 6 and one division for z_j and for each of the n_k
    outputs, and n_k multiply-adds for E, where a forward pass costs n_i·n_j + n_j·n_k
    multiply-adds and n_j + n_k exponentials and divisions. The loops over the entries i are
    innermost and branch-free, so they vectorise. dy: scratch of 6 rows.
    """
    sizes, acts, n_off = layout.sizes, layout.acts, layout.n_off
    L = sizes.shape[0] - 1
    n_i, n_j, n_k = sizes[l], sizes[l + 1], sizes[L]
    code_j, code_k = acts[l], acts[L - 1]
    d_max = step_bound(steps_h, Ys, layout, l)
    z_j, y_j = Zs[n_off[l + 1] + j], Ys[n_off[l + 1] + j]
    y_in = Ys[n_off[l] : n_off[l] + n_i]
    m = n_i + 1
    if code_j == RELU:
        # ±3h moves z_j by at most 1.5·d_max (rounded alike): beyond that, no state changes.
        if not abs(z_j) > 1.5 * d_max:
            return False
        if z_j < 0.0:  # off at every step: E_x does not move (what add_sample adds for it)
            for i in range(m):
                if i == n_i or y_in[i] != 0.0:
                    rows[layout.w_off[l] + i * n_j + j, LARGEST_E] += e0
            return True
        code_j = LINEAR  # on at every step: y_j = z_j
    elif layout.loss == CROSS_ENTROPY and l + 1 == L:
        if d_max > SHIFT_MAX:
            return False
    elif code_j != LINEAR and d_max > shift_limit(code_j):
        return False
    dz = dy[4]  # dz[i] = h_p·y_i: Δ = step·dz[i]
    for i in range(n_i):
        dz[i] = steps_h[i] * y_in[i]
    dz[n_i] = steps_h[n_i]
    if layout.loss == CROSS_ENTROPY and l + 1 == L:  # E from z: nothing to shift
        return cross_entropy_block(theta, layout, l, j, Zs, Ys, EZs, EYs, t, e0, d_max, y_j,
                                   y_in, dz, m, dy, acc, rows)
    e_j = exp_at(code_j, z_j)
    for q in range(4):  # dy[q, i]: y_j' at step q of entry i
        shifted(code_j, z_j, e_j, STEPS[q], dz, m, dy[q])
    if layout.loss == CROSS_ENTROPY:
        return cross_entropy_block(theta, layout, l, j, Zs, Ys, EZs, EYs, t, e0, d_max, y_j,
                                   y_in, dz, m, dy, acc, rows)
    if l + 1 == L:  # an output: E changes in one term of ½ Σ_k (t_k − y_k)²
        t_j = t[j]
        for q in range(4):
            for i in range(m):
                acc[q, i] = 2.0 * e0 + ((t_j - dy[q, i]) ** 2 - (t_j - y_j) ** 2)
        return add_block(theta, layout, l, j, Zs, Ys, EZs, EYs, t, e0, d_max, -1.0, y_in, acc, rows)
    w, dy_max, w_max = output_shifts(theta, layout, l, j, y_j, dy, m)
    if code_k != LINEAR and w_max * dy_max > shift_limit(code_k):
        return False
    acc[:, :m] = 0.0
    out = dy[5]
    for k in range(n_k):
        w_jk, z_k, t_k = w[j, k], Zs[n_off[L] + k], t[k]
        e_k = exp_at(code_k, z_k)
        for q in range(4):
            shifted(code_k, z_k, e_k, w_jk, dy[q], m, out)
            for i in range(m):
                r = t_k - out[i]
                acc[q, i] += r * r
    return add_block(theta, layout, l, j, Zs, Ys, EZs, EYs, t, e0, d_max, dy_max, y_in, acc, rows)


@jit(inline="always")
def output_shifts(theta, layout, l, j, y_j, dy, m):
    """For a neuron j just below the outputs: Δy_j = y_j' − y_j at each of the four steps of
    each entry (in place: dy[q, i] held y_j'), and the largest |Δy_j| and |w_jk|, whose
    product bounds the outputs' shifts x_k = w_jk·Δy_j. Returns (w, max |Δy_j|, max |w_jk|)."""
    for q in range(4):
        for i in range(m):
            dy[q, i] -= y_j
    w = weights_of(theta, layout, l + 1)
    dy_max, w_max = 0.0, 0.0
    for q in range(4):
        for i in range(m):
            dy_max = max(dy_max, abs(dy[q, i]))
    for k in range(w.shape[1]):
        w_max = max(w_max, abs(w[j, k]))
    return w, dy_max, w_max


# A kernel of its own, as add_block: inlined, they were compiled once per call site (two
# of this one in neuron_block, four of add_block), which cost 2.5 s of a first gradcheck.
@jit(error_model="numpy")  # as neuron_block's: a float division by 0 gives inf
def cross_entropy_block(theta, layout, l, j, Zs, Ys, EZs, EYs, t, e0, d_max, y_j, y_in, dz, m,
                        dy, acc, rows):
    """``neuron_block`` for cross-entropy, from the outputs' z. With sp(x) = ln(1 + e^x),
    a sigmoid output's E_k = sp(z_k) − t_k z_k and sp(z + x) − sp(z) = ln(1 + y·(e^x − 1)),
    y = σ(z); a softmax output's E = S·lse − Σ_k t_k z_k (S = Σ_k t_k) and moving every z_k
    by x_k moves lse by ln(1 + Σ_k y_k (e^(x_k) − 1)). So, with the outputs moved by x_k
    (x_j = Δ if j is the output, else x_k = w_jk·Δy_j; dy[q, i] = y_j' at step q of entry i):
        sigmoid:  E' = E + Σ_k [ln(1 + y_k(e^(x_k) − 1)) − t_k x_k]
        softmax:  E' = E + S·ln(1 + Σ_k y_k (e^(x_k) − 1)) − Σ_k t_k x_k
    with ``expm1_small`` and ``log1p_small``: per entry, step and output one polynomial of
    degree 7 (sigmoid: and one of degree 8), no exponential, log or division."""
    sizes, acts, n_off = layout.sizes, layout.acts, layout.n_off
    L = sizes.shape[0] - 1
    n_k, code_k = sizes[L], acts[L - 1]
    ys = Ys[n_off[L] : n_off[L] + sizes[L]]
    total = 0.0  # S = Σ_k t_k
    for k in range(n_k):
        total += t[k]
    acc[:8, :m] = 0.0  # acc[q]: Σ_k ln(…) − t_k x_k (sigmoid) or Σ_k y_k (e^x − 1) (softmax);
    # acc[4 + q]: Σ_k t_k x_k (softmax)
    if l + 1 == L:  # only z_j moves, by Δ = step·dz[i]
        y_o, t_j = ys[j], t[j]
        for q in range(4):
            step = STEPS[q]
            for i in range(m):
                x = step * dz[i]
                acc[q, i] = y_o * expm1_small(x)
                acc[4 + q, i] = t_j * x
        dy_max = -1.0
    else:
        w, dy_max, w_max = output_shifts(theta, layout, l, j, y_j, dy, m)
        if w_max * dy_max > SHIFT_MAX:
            return False
        for k in range(n_k):
            w_jk, y_k, t_k = w[j, k], ys[k], t[k]
            for q in range(4):
                if code_k == SIGMOID:
                    for i in range(m):
                        x = w_jk * dy[q, i]
                        acc[q, i] += log1p_small(y_k * expm1_small(x)) - t_k * x
                else:
                    for i in range(m):
                        x = w_jk * dy[q, i]
                        acc[q, i] += y_k * expm1_small(x)
                        acc[4 + q, i] += t_k * x
    for q in range(4):  # acc[q, i] = 2E' for add_block
        if code_k == SIGMOID and l + 1 < L:
            for i in range(m):
                acc[q, i] = 2.0 * (e0 + acc[q, i])
        elif code_k == SIGMOID:
            for i in range(m):
                acc[q, i] = 2.0 * (e0 + (log1p_small(acc[q, i]) - acc[4 + q, i]))
        else:
            for i in range(m):
                acc[q, i] = 2.0 * (e0 + (total * log1p_small(acc[q, i]) - acc[4 + q, i]))
    return add_block(theta, layout, l, j, Zs, Ys, EZs, EYs, t, e0, d_max, dy_max, y_in, acc,
                     rows)


@jit(error_model="numpy")  # a kernel of its own, as cross_entropy_block
def add_block(theta, layout, l, j, Zs, Ys, EZs, EYs, t, e0, d_max, dy_max, y_in, acc, rows):
    """Add the smooth central differences of a block (acc[q, i] = 2E at step q of entry i) to
    the rows of its entries, with their EXTRA_ROUNDING; True."""
    n_i, n_j = layout.sizes[l], layout.sizes[l + 1]
    extra = incremental_rounding(theta, layout, l, j, Zs, Ys, EZs, EYs, t, e0, d_max, dy_max)
    for i in range(n_i + 1):
        if i < n_i and y_in[i] == 0.0:
            continue  # θ_p does not reach this sample: E_x does not move
        row = rows[layout.w_off[l] + i * n_j + j]
        e1, e2, e3, e4 = 0.5 * acc[0, i], 0.5 * acc[1, i], 0.5 * acc[2, i], 0.5 * acc[3, i]
        row[ALL_H] += e1 - e2
        row[LARGEST_E] += max(e1, e2, e3, e4)
        row[SMOOTH_H] += e1 - e2
        row[SMOOTH_2H] += 0.5 * (e3 - e4)
        row[EXTRA_ROUNDING] += extra
    return True


@jit(inline="always")
def moved_slope(code, y, e_z, d):
    """A bound on |f'| within d + e_z of the z whose f is y (|f''| ≤ 1; ReLU, linear: 1)."""
    if code == SIGMOID:
        return y * (1.0 - y) + e_z + d
    if code == TANH:
        return 1.0 - y * y + e_z + d
    return 1.0


@jit(inline="always")
def shifted_excess(code, y, d):
    """What ``shifted`` may round in f(z') beyond a forward pass's c_f·u|y'|, |y'| ≤ |y| + d:
    sigmoid within 7u|y'| (exp, P, the product, 1 + ·, 1/·) instead of 4u: 3u(|y| + d);
    tanh 1 − 2s, s = 1/(1 + e^(2z)P) within 7u and s ≤ (1 + |y'|)/2: 14u·s + u|y'|
    ≤ 8u(1 + |y| + d); linear and ReLU: exact, 0. (``moved_sample_error``'s f is the
    pass's own, within c_f·u|y'|.)"""
    if code == SIGMOID:
        return 3.0 * U64 * (abs(y) + d)
    if code == TANH:
        return 8.0 * U64 * (1.0 + abs(y) + d)
    return 0.0


@jit
def cross_entropy_extra(layout, k0, k1, Ys, EYs, t, e0, x, a, a_max):
    """``incremental_rounding`` for cross-entropy, where the outputs k0 … k1 − 1 move by
    |x_k| ≤ x, each computed within a (a_max: the largest a). The entry-by-entry path
    (``moved_sample_error``) evaluates E at z_k moved within a of the pass's bound: E is
    Lipschitz in z with constants (|t_k| + |1 − t_k|) (sigmoid, as ``cross_entropy_rounding``
    counts them) or ‖t‖₁ + |t_k| (softmax). ``cross_entropy_block`` evaluates
    E' = E + ΔE from y_k and x_k (P = ``expm1_small``, Λ = ``log1p_small``, each within 3u;
    |P(x)| ≤ 1.01|x|, |Λ(v)| ≤ 1.01|v|, Λ' ≤ 1.02, ∂ΔE/∂y_k ≤ 1.02|x_k|); with
    V_k = 1.01·y_k·x (≥ |y_k P(x_k)|):
      sigmoid, per k:  (|t_k| + |1 − t_k|)·a + 1.02x·e_y_k + 7.2u·V_k + u|t_k|x + u·D_k,
                       D_k = 1.01V_k + |t_k|x ≥ |ΔE_k|;  + γ(n)·Σ_k D_k
      softmax:  ‖t‖₁·(a_max + 1.02x·Σ_k e_y_k + δΛ + (γ(n) + u)(1.01V + x)) + Σ_k |t_k|·a + u·D,
                V = Σ_k V_k,  δΛ = 1.02(4u + γ(n))·V + 3.03u·V,  D = ‖t‖₁(1.01V + x)
    and the final E + ΔE: u(E + ΣD). The larger a of the two paths is the one given."""
    sizes, n_off = layout.sizes, layout.n_off
    L = sizes.shape[0] - 1
    u = U64
    n = k1 - k0
    g = n * u
    norm = 0.0  # ‖t‖₁ over every output: S and the softmax's Lipschitz constant
    for k in range(sizes[L]):
        norm += abs(t[k])
    if layout.acts[L - 1] == SIGMOID:
        extra, size = 0.0, 0.0
        for k in range(k0, k1):
            c = n_off[L] + k
            v = 1.01 * abs(Ys[c]) * x
            size_k = 1.01 * v + abs(t[k]) * x
            extra += ((abs(t[k]) + abs(1.0 - t[k])) * a + 1.02 * x * EYs[c] + 7.2 * u * v
                      + u * abs(t[k]) * x + u * size_k)
            size += size_k
        return extra + g * size + u * (e0 + size)
    v, e_y, moved = 0.0, 0.0, 0.0
    for k in range(k0, k1):
        c = n_off[L] + k
        v += 1.01 * abs(Ys[c]) * x
        e_y += EYs[c]
        moved += abs(t[k]) * a
    d_log = 1.02 * (4.0 * u + g) * v + 3.03 * u * v
    size = norm * (1.01 * v + x)
    extra = (norm * (a_max + 1.02 * x * e_y + d_log + (g + u) * (1.01 * v + x)) + moved
             + u * size)
    return extra + u * (e0 + size)


@jit
def incremental_rounding(theta, layout, l, j, Zs, Ys, EZs, EYs, t, e0, d_max, dy_max):
    """A bound on what E_x, evaluated from its unperturbed pass with z_j of layer l + 1 moved
    by Δ (|Δ| ≤ d_max), may round beyond the forward pass's bound e_E at θ (EZs, EYs: that
    pass's e_z, e_y), for the evaluations of ``neuron_block`` and of ``moved_sample_error``
    where the moved neuron or the one above is the output, no unit is a softmax and the loss
    is squared (0 elsewhere: not derived).

    Moved neuron: z_j + Δ is rounded, and Δ = t·y_i once (``shifted``: its f within
    ``shifted_excess``), and |f'| ≤ s_j = ``moved_slope`` over the step:
        a_j = u(|z_j| + 2d),   ex_j = s_j·a_j + a_j² + excess_j   (ReLU, linear: ex_j = a_j)
    Output j (``moved_sample_error``: E' = E + ½[(t_j − y_j')² − (t_j − y_j)²]):
        extra = (r + e_j + ½ex_j)·ex_j + u(4r² + 2E),  r = |y_j − t_j| + d,  e_j = e_y_j + u|t_j|
    Output k above (z_k + w_jk·Δy_j): Δy_j carries the errors of y_j' and of y_j, one more
    than the pass's bound of z_k holds, and the rounding of Δy_j and of the product:
        a_k = |w_jk|(e_y_j + ex_j + 2u·dy) + u(|z_k| + x),   x = max_k |w_jk|·dy
        ex_k = s_k·a_k + ½a_k² + excess_k   (s_k with e_z_k + x; ReLU, linear: ex_k = a_k)
        extra = Σ_k (|y_k − t_k| + x + e_k + ½ex_k)·ex_k,   e_k = e_y_k + u|t_k|
    (a Lipschitz constant of 1 bounds |Δy| by |Δz|, ReLU's kink included). dy_max < 0: not
    known, taken as d_max.
    """
    sizes, acts, n_off = layout.sizes, layout.acts, layout.n_off
    L = sizes.shape[0] - 1
    u = U64
    code_j, code_k = acts[l], acts[L - 1]
    if l + 1 < L - 1:
        return 0.0
    cross = layout.loss == CROSS_ENTROPY
    if cross and code_k != SIGMOID and code_k != SOFTMAX:
        return 0.0
    if not cross and (code_j == SOFTMAX or code_k == SOFTMAX):
        return 0.0
    d = d_max
    z_j, y_j = Zs[n_off[l + 1] + j], Ys[n_off[l + 1] + j]
    a_j = u * (abs(z_j) + 2.0 * d)
    if cross and l + 1 == L:
        return cross_entropy_extra(layout, j, j + 1, Ys, EYs, t, e0, d, a_j, a_j)
    if code_j == SIGMOID or code_j == TANH:
        ex_j = moved_slope(code_j, y_j, 0.0, d) * a_j + a_j * a_j + shifted_excess(code_j, y_j, d)
    else:
        ex_j = a_j
    if l + 1 == L:
        r = abs(y_j - t[j]) + d
        e_j = EYs[n_off[L] + j] + u * abs(t[j])
        return (r + e_j + 0.5 * ex_j) * ex_j + u * (4.0 * r * r + 2.0 * e0)
    dy = dy_max if dy_max >= 0.0 else d
    w = weights_of(theta, layout, l + 1)
    x = 0.0
    for k in range(sizes[L]):
        x = max(x, abs(w[j, k]) * dy)
    if cross:  # every output moves; a_k bounded by its largest one, for every k
        a_max = 0.0
        for k in range(sizes[L]):
            a_max = max(a_max, abs(w[j, k]) * (EYs[n_off[l + 1] + j] + ex_j + 2.0 * u * dy)
                        + u * (abs(Zs[n_off[L] + k]) + x))
        # np.int64(0): a literal 0 made a second specialisation, typed Literal[int](0)
        return cross_entropy_extra(layout, np.int64(0), sizes[L], Ys, EYs, t, e0, x, a_max,
                                   a_max)
    extra = 0.0
    for k in range(sizes[L]):
        c = n_off[L] + k
        a_k = abs(w[j, k]) * (EYs[n_off[l + 1] + j] + ex_j + 2.0 * u * dy) + u * (abs(Zs[c]) + x)
        if code_k == SIGMOID or code_k == TANH:
            ex_k = (moved_slope(code_k, Ys[c], EZs[c], x) * a_k + 0.5 * a_k * a_k
                    + shifted_excess(code_k, Ys[c], x))
        else:
            ex_k = a_k
        e_k = EYs[c] + u * abs(t[k])
        extra += (abs(Ys[c] - t[k]) + x + e_k + 0.5 * ex_k) * ex_k
    return extra


# --- fast mode: rank-one directions --------------------------------------------------------
# A direction moves every parameter: w_ij of layer l by τ·c_i·a_j and b_j by τ·β_j, with
# c (one per neuron of layer l), a and β (one per neuron of layer l + 1) random signs or 0,
# and τ = (step)·(scale). Stored like neuron buffers: c of layer l in
# ``neurons_of(C[d], layout, l)``, a and β of layer l in ``neurons_of(A[d], layout, l + 1)``,
# ``neurons_of(B[d], layout, l + 1)``. Then z_j = Σ_i (w_ij + τ c_i a_j) y_i + b_j + τ β_j
# = (Σ_i w_ij y_i + b_j) + τ·(a_j·Σ_i c_i y_i + β_j): the move costs n_i + n_j operations,
# not n_i·n_j, and in the first layer, where y = x does not move, the first part is the
# unperturbed pass's z.


@jit
def rank_one_error(theta, layout, Zs, t, C, A, B, sigma0, tau, z, y, frozen):
    """E of one sample at θ + τ·u (u the rank-one direction C, A, B; see above), from its
    pass Zs at θ and sigma0 = Σ_i c_i x_i of the first layer; and whether a ReLU unit
    changed state (frozen: ReLU units keep their state at θ). z, y: scratch buffers."""
    sizes, acts = layout.sizes, layout.acts
    L = sizes.shape[0] - 1
    kinked = False
    for l in range(L):
        z_l, y_l = neurons_of(z, layout, l + 1), neurons_of(y, layout, l + 1)
        a, beta = neurons_of(A, layout, l + 1), neurons_of(B, layout, l + 1)
        z_at_theta = neurons_of(Zs, layout, l + 1)
        n_j = sizes[l + 1]
        if l == 0:
            for j in range(n_j):
                z_l[j] = z_at_theta[j] + tau * (a[j] * sigma0 + beta[j])
        else:  # Σ_i w_ij y_i + b_j as forward_layer sums it, and Σ_i c_i y_i
            w, b = weights_of(theta, layout, l), biases_of(theta, layout, l)
            y_in, c = neurons_of(y, layout, l), neurons_of(C, layout, l)
            sigma = 0.0
            for j in range(n_j):
                z_l[j] = 0.0
            # Four terms at a time, added in the order of i (the same sums): each z_j is
            # loaded and stored once per four.
            n_i = sizes[l]
            for i in range(0, n_i - n_i % 4, 4):
                y0, y1, y2, y3 = y_in[i], y_in[i + 1], y_in[i + 2], y_in[i + 3]
                sigma = (((sigma + c[i] * y0) + c[i + 1] * y1) + c[i + 2] * y2) + c[i + 3] * y3
                for j in range(n_j):
                    z_l[j] = ((((z_l[j] + w[i, j] * y0) + w[i + 1, j] * y1) + w[i + 2, j] * y2)
                              + w[i + 3, j] * y3)
            for i in range(n_i - n_i % 4, n_i):
                y_i = y_in[i]
                sigma += c[i] * y_i
                for j in range(n_j):
                    z_l[j] += w[i, j] * y_i
            for j in range(n_j):
                z_l[j] = (z_l[j] + b[j]) + tau * (a[j] * sigma + beta[j])
        code = acts[l]
        if code == SOFTMAX:
            activate(code, z_l, y_l)
            continue
        for j in range(n_j):
            y_l[j] = f_frozen(code, z_l[j], z_at_theta[j], frozen)
            kinked |= changed_state(code, z_l[j], z_at_theta[j])
    return (loss_error(neurons_of(z, layout, L), neurons_of(y, layout, L), t, acts[L - 1],
                       layout.loss), kinked)


@jit
def rank_one_differences(theta, layout, X, T, Z, E, C, A, B, scale, t, extra, rows):
    """rows[d]: the sums of ``add_sample`` over all samples for θ moved by ±t, ±2t (and ±3t,
    and frozen, for the samples where those steps change a ReLU unit's state) along
    scale·(C[d], A[d], B[d]) (``rank_one_error``), from the pass Z, E at θ; and
    EXTRA_ROUNDING: Σ_x extra[x] (``rank_one_rounding``)."""
    n = X.shape[0]
    z, y = neuron_buffer(layout), neuron_buffer(layout)
    e, kinks = np.empty(N_VALUES), np.zeros(6, dtype=np.bool_)
    rows[:] = 0.0
    tau = t * scale
    # σ0 = Σ_i c_i x_i of every direction and sample, each summed in the order of i: the
    # directions side by side, so that their sums do not wait for each other.
    sigmas = np.zeros((n, C.shape[0]))
    for s in range(n):
        x, sigma = X[s], sigmas[s]
        for i in range(x.shape[0]):
            x_i = x[i]
            for d in range(C.shape[0]):
                sigma[d] += C[d, i] * x_i
    for d in range(C.shape[0]):
        for s in range(n):
            sigma0 = sigmas[s, d]
            e[0] = E[s]
            kinks[:] = False
            for q in range(10):
                if q == 4 and not kinks[:4].any():
                    break  # the other values only serve kinked samples
                e[q + 1], k = rank_one_error(theta, layout, Z[s], T[s], C[d], A[d], B[d],
                                             sigma0, STEPS[q % 6] * tau, z, y, q >= 6)
                if q < 6:
                    kinks[q] = k
            add_sample(rows[d], e, kinks, t)
            rows[d, EXTRA_ROUNDING] += extra[s]


@jit
def lipschitz(code):
    """A bound on |f'| over all z: sigmoid 1/4; tanh, ReLU (frozen or not), linear 1."""
    return 0.25 if code == SIGMOID else 1.0


@jit
def rank_one_rounding(theta, layout, Z, Y, EY, T, tau, lam, extra):
    """extra[x]: what ``rank_one_error`` may round, at steps of size up to τ (signs or 0 in
    C, A, B), beyond a forward pass's bound (``forward_rounding``, e_y) at θ.

    Per layer it adds τ·(a_j σ + β_j) to z_j, σ = Σ_i c_i y_i: the error of σ (a sum of
    n_i terms of inexact y_i), of a_j σ + β_j and of the product with τ is at most
    τ·[(γ(n_i) + 3u)(Σ_i |y_i| + 1) + Σ_i e_y_i]; the moved weights pass the inputs'
    errors on by Σ_i |w_ij + τ c_i a_j| e_y_i, τ·Σ_i e_y_i more than a pass at θ; and the
    last addition rounds u·|z_j| more than the pass's n_i + 1 terms. An error x_i of a
    layer's inputs (from the layers below) reaches z_j as Σ_i (|w_ij| + τ) x_i (its τ part
    counted with e_y_i above), and y_j as
    at most lipschitz(f)·x_z_j (a softmax output: y_k (e^(2 max x_z) − 1)). E then moves by

        squared error:            Σ_k (|y_k − t_k| + e_y_k + ½ x_k)·x_k
        softmax, cross-entropy:   Σ_k |t_k| (max_m x_z_m + x_z_k)     (lse is 1-Lipschitz)
        sigmoid, cross-entropy:   Σ_k (|t_k| + |1 − t_k|)·x_z_k       (softplus too)

    with u = 2^-53, and |y_i|, e_y_i taken at θ, as the pass's own bound is."""
    sizes, acts = layout.sizes, layout.acts
    L = sizes.shape[0] - 1
    u = U64
    x_z, x_y = neuron_buffer(layout), neuron_buffer(layout)
    for s in range(Z.shape[0]):
        x_y[: sizes[0]] = 0.0
        for l in range(L):
            y_in, e_in = neurons_of(Y[s], layout, l), neurons_of(EY[s], layout, l)
            x_in = neurons_of(x_y, layout, l)
            xz, xy = neurons_of(x_z, layout, l + 1), neurons_of(x_y, layout, l + 1)
            z_l = neurons_of(Z[s], layout, l + 1)
            size, errors = 0.0, 0.0
            for i in range(sizes[l]):
                size += abs(y_in[i])
                errors += e_in[i] + x_in[i]
            own = tau * ((gamma(sizes[l], u, lam) + 3.0 * u) * (size + 1.0) + errors)
            w = weights_of(theta, layout, l)
            for j in range(sizes[l + 1]):
                xz[j] = own + u * abs(z_l[j])
            if l > 0:  # the first layer's inputs are exact: x_in = 0
                for i in range(sizes[l]):
                    x_i = x_in[i]
                    for j in range(sizes[l + 1]):
                        xz[j] += abs(w[i, j]) * x_i
            code = acts[l]
            if code == SOFTMAX:
                top = 0.0
                for j in range(sizes[l + 1]):
                    top = max(top, xz[j])
                grow = math.expm1(2.0 * top)
                y_out = neurons_of(Y[s], layout, l + 1)
                for j in range(sizes[l + 1]):
                    xy[j] = y_out[j] * grow
            else:
                for j in range(sizes[l + 1]):
                    xy[j] = lipschitz(code) * xz[j]
        t = T[s]
        xz, xy = neurons_of(x_z, layout, L), neurons_of(x_y, layout, L)
        total = 0.0
        if layout.loss == CROSS_ENTROPY and acts[L - 1] == SOFTMAX:
            top = 0.0
            for k in range(sizes[L]):
                top = max(top, xz[k])
            for k in range(sizes[L]):
                total += abs(t[k]) * (top + xz[k])
        elif layout.loss == CROSS_ENTROPY:
            for k in range(sizes[L]):
                total += (abs(t[k]) + abs(1.0 - t[k])) * xz[k]
        else:
            y_out, e_out = neurons_of(Y[s], layout, L), neurons_of(EY[s], layout, L)
            for k in range(sizes[L]):
                total += (abs(y_out[k] - t[k]) + e_out[k] + 0.5 * xy[k]) * xy[k]
        extra[s] = total


@jit
def rank_one_dots(layout, g, C, A, B, out):
    """out[d, 2l] = Σ_ij c_i g_ij a_j over weights[l] and out[d, 2l + 1] = Σ_j β_j g_j over
    biases[l] (g laid out like θ): the directional derivative uᵀg is scale·Σ of a row."""
    sizes = layout.sizes
    L = sizes.shape[0] - 1
    for l in range(L):
        gw = weights_of(g, layout, l)
        for d in range(C.shape[0]):
            out[d, 2 * l] = 0.0
        # Every direction's sums in the order of i, then j; four rows of g at a time, in
        # cache while every direction reads them, their four sums side by side (so that
        # they do not wait for each other), then added in the order of i.
        n_i, n_j = sizes[l], sizes[l + 1]
        for i0 in range(0, n_i - n_i % 4, 4):
            for d in range(C.shape[0]):
                c, a = neurons_of(C[d], layout, l), neurons_of(A[d], layout, l + 1)
                r0, r1, r2, r3 = 0.0, 0.0, 0.0, 0.0
                for j in range(n_j):
                    a_j = a[j]
                    r0 += gw[i0, j] * a_j
                    r1 += gw[i0 + 1, j] * a_j
                    r2 += gw[i0 + 2, j] * a_j
                    r3 += gw[i0 + 3, j] * a_j
                total = out[d, 2 * l]
                if c[i0] != 0.0:
                    total += c[i0] * r0
                if c[i0 + 1] != 0.0:
                    total += c[i0 + 1] * r1
                if c[i0 + 2] != 0.0:
                    total += c[i0 + 2] * r2
                if c[i0 + 3] != 0.0:
                    total += c[i0 + 3] * r3
                out[d, 2 * l] = total
        for i in range(n_i - n_i % 4, n_i):
            for d in range(C.shape[0]):
                c_i = neurons_of(C[d], layout, l)[i]
                if c_i == 0.0:
                    continue
                a = neurons_of(A[d], layout, l + 1)
                row = 0.0
                for j in range(n_j):
                    row += gw[i, j] * a[j]
                out[d, 2 * l] += c_i * row
    for d in range(C.shape[0]):
        for l in range(L):
            gb = biases_of(g, layout, l)
            beta = neurons_of(B[d], layout, l + 1)
            bias = 0.0
            for j in range(sizes[l + 1]):
                bias += beta[j] * gb[j]
            out[d, 2 * l + 1] = bias


@jit
def pass_rounding(theta, layout, X, T, u, lam, Z, Y, E, EZ, EY, grad, with_gradient):
    """The pass at θ for every sample (Z, Y, E as ``forward_samples``; ``fast.forward_batch``
    computes the same numbers as ``forward``, BLOCK samples at a time), the bounds EZ, EY of
    ``forward_rounding`` in precision u, and ε_C (``error_rounding``'s formula).

    with_gradient: also grad = ∂C/∂θ = (1/n) Σ_x ∂E_x/∂θ from the same pass, by
    ``fast.backward_batch`` and ``fast.accumulate_gradient_batch`` in sample order: the
    numbers of ``formulas.mean_gradient`` (``Network.gradient``) without a second pass."""
    sizes = layout.sizes
    L = sizes.shape[0] - 1
    Zb, Yb = neuron_buffer(layout, BLOCK), neuron_buffer(layout, BLOCK)
    if with_gradient:
        Db, DTb = neuron_buffer(layout, BLOCK), neuron_buffer(layout, BLOCK)
        grad[:] = 0.0
    for start in range(0, X.shape[0], BLOCK):  # BLOCK samples per sweep of the weights
        m = min(BLOCK, X.shape[0] - start)
        gather_from(X, start, samples_of(Yb, layout, 0, m))
        forward_batch(theta, layout, Zb, Yb, m)
        if with_gradient:
            rows = np.arange(start, start + m)
            backward_batch(theta, layout, T, rows, Zb, Yb, Db, DTb)
            for l in range(L):
                accumulate_gradient_batch(samples_of(Db, layout, l + 1, m),
                                          samples_of(Yb, layout, l, m),
                                          weights_of(grad, layout, l), biases_of(grad, layout, l))
        for r in range(m):
            s = start + r
            neurons_of(Z[s], layout, 0)[:] = 0.0  # z of the inputs: none
            neurons_of(Y[s], layout, 0)[:] = X[s]
            for l in range(1, L + 1):
                neurons_of(Z[s], layout, l)[:] = samples_of(Zb, layout, l, m)[r]
                neurons_of(Y[s], layout, l)[:] = samples_of(Yb, layout, l, m)[r]
            E[s] = loss_error(neurons_of(Z[s], layout, L), neurons_of(Y[s], layout, L), T[s],
                              layout.acts[L - 1], layout.loss)
    if with_gradient:
        for p in range(grad.shape[0]):
            grad[p] /= X.shape[0]
    return samples_error_rounding(theta, layout, T, u, lam, Z, Y, E, EZ, EY)


@jit
def samples_error_rounding(theta, layout, T, u, lam, Z, Y, E, EZ, EY):
    """EZ, EY for every sample of the pass Z, Y in precision u; returns ε_C."""
    sizes = layout.sizes
    n = Z.shape[0]
    L = sizes.shape[0] - 1
    total, bound = 0.0, 0.0
    first = np.empty((n, sizes[1]))
    first_layer_magnitudes(theta, layout, Y, first)
    for s in range(n):
        rounding_of_pass(theta, layout, Z[s], Y[s], u, lam, EZ[s], EY[s], first[s])
        total += E[s]
        z_out, y_out, t = neurons_of(Z[s], layout, L), neurons_of(Y[s], layout, L), T[s]
        if layout.loss == CROSS_ENTROPY:
            bound += cross_entropy_rounding(z_out, t, neurons_of(EZ[s], layout, L),
                                            layout.acts[L - 1], u, lam)
            continue
        e_out = neurons_of(EY[s], layout, L)
        for k in range(sizes[L]):
            e_k = e_out[k] + u * abs(t[k])
            bound += abs(y_out[k] - t[k]) * e_k + 0.5 * e_k * e_k
        bound += (gamma(sizes[L], u, lam) + 3.0 * u) * E[s]
    return bound / n + (gamma(n, u, lam) + u) * total / n


@jit
def gradient_rounding_totals(theta, layout, T, u, lam, Z, Y, EZ, EY, totals):
    """totals[2l], totals[2l + 1]: the sums of ``gradient_rounding``'s bound over the entries
    of weights[l] and of biases[l], from the pass Z, Y and its bounds EZ, EY in precision u,
    in O(n_i + n_j) per layer and sample: Σ_ij (|δ_j| e_y_i + |y_i| e_δj + e_δj e_y_i)
    = Σ_j|δ_j|·Σ_i e_y_i + Σ_i|y_i|·Σ_j e_δj + Σ_j e_δj·Σ_i e_y_i, Σ_ij |δ_j y_i| =
    Σ_j|δ_j|·Σ_i|y_i|. Returns (how many (sample, unit) pairs are within rounding of a
    ReLU kink, the largest of gradient_rounding's flips)."""
    sizes, n_off = layout.sizes, layout.n_off
    n = Z.shape[0]
    L = sizes.shape[0] - 1
    width = n_off[-1] + sizes[-1]
    delta, e_delta = np.empty(width), np.empty(width)
    flipped = np.zeros(L + 1)
    carried, magnitude = np.zeros(2 * L), np.zeros(2 * L)
    ambiguous = 0
    for s in range(n):
        y, e_y = Y[s], EY[s]
        ambiguous += delta_rounding(theta, layout, Z[s], EZ[s], y, e_y, T[s], u, lam, delta,
                                    e_delta, flipped)
        for l in range(L):
            size_y, err_y = 0.0, 0.0
            for i in range(n_off[l], n_off[l] + sizes[l]):
                size_y += abs(y[i])
                err_y += e_y[i]
            size_d, err_d = 0.0, 0.0
            for j in range(n_off[l + 1], n_off[l + 1] + sizes[l + 1]):
                size_d += abs(delta[j])
                err_d += e_delta[j]
            carried[2 * l] += size_d * err_y + size_y * err_d + err_d * err_y
            magnitude[2 * l] += size_d * size_y
            carried[2 * l + 1] += err_d
            magnitude[2 * l + 1] += size_d
    g = gamma(n, u, lam) + 2.0 * u
    for k in range(2 * L):
        totals[k] = (carried[k] + g * magnitude[k]) / n
    return ambiguous, flipped.sum() / n


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
    rounding_of_pass(theta, layout, z, y, u, lam, e_z, e_y, np.empty(0))


@jit
def first_layer_magnitudes(theta, layout, Y, M):
    """M[s, j] = Σ_i |w_ij x_i| over the first layer for every sample (x: layer 0 of Y[s]),
    summed in the order of i as ``forward_rounding`` does, BLOCK samples per sweep of the
    weights, four terms per load and store of M[s, j] (the same sums)."""
    w = weights_of(theta, layout, 0)
    n_i, n_j = layout.sizes[0], layout.sizes[1]
    M[:] = 0.0
    for start in range(0, Y.shape[0], BLOCK):
        stop = min(Y.shape[0], start + BLOCK)
        for i in range(0, n_i - n_i % 4, 4):
            for s in range(start, stop):
                x0, x1, x2, x3 = abs(Y[s, i]), abs(Y[s, i + 1]), abs(Y[s, i + 2]), abs(Y[s, i + 3])
                m_s = M[s]
                for j in range(n_j):
                    m_s[j] = ((((m_s[j] + abs(w[i, j]) * x0) + abs(w[i + 1, j]) * x1)
                               + abs(w[i + 2, j]) * x2) + abs(w[i + 3, j]) * x3)
        for i in range(n_i - n_i % 4, n_i):
            for s in range(start, stop):
                x_i = abs(Y[s, i])
                m_s = M[s]
                for j in range(n_j):
                    m_s[j] += abs(w[i, j]) * x_i


@jit
def rounding_of_pass(theta, layout, z, y, u, lam, e_z, e_y, first):
    """``forward_rounding``, given in ``first`` the sums Σ_i |w_ij x_i| of the first layer
    (``first_layer_magnitudes``; an empty array: computed here)."""
    sizes, acts, n_off = layout.sizes, layout.acts, layout.n_off
    for k in range(n_off[1]):
        e_z[k] = 0.0
        e_y[k] = u * abs(y[k])
    for l in range(sizes.shape[0] - 1):
        w = weights_of(theta, layout, l)
        b = biases_of(theta, layout, l)
        y_in, e_in = neurons_of(y, layout, l), neurons_of(e_y, layout, l)
        n_i, n_j, code = sizes[l], sizes[l + 1], acts[l]
        # Σ_i |w_ij| e_y_i into e_z_j, |b_j| + Σ_i |w_ij y_i| into e_y_j (free until set
        # below): i outside, j inside, as in forward_layer (each sum still in order of i).
        carried, magnitude = neurons_of(e_z, layout, l + 1), neurons_of(e_y, layout, l + 1)
        for j in range(n_j):
            carried[j], magnitude[j] = 0.0, abs(b[j])
        if l == 0:  # e_y_i = u|x_i|: Σ_i |w_ij| e_y_i = u·Σ_i |w_ij x_i|, one sum for both
            if first.shape[0] == n_j:
                for j in range(n_j):
                    carried[j] = first[j]
            else:
                for i in range(n_i):
                    y_i = abs(y_in[i])
                    for j in range(n_j):
                        carried[j] += abs(w[i, j]) * y_i
            for j in range(n_j):
                magnitude[j] += carried[j]
                carried[j] *= u
        else:
            for i in range(n_i):
                y_i, e_i = y_in[i], e_in[i]
                for j in range(n_j):
                    magnitude[j] += abs(w[i, j] * y_i)
                    carried[j] += abs(w[i, j]) * e_i
        for j in range(n_j):
            k = n_off[l + 1] + j
            e_z[k] = carried[j] + (gamma(n_i + 1, u, lam) + u) * magnitude[j]
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
    sizes, n_off = layout.sizes, layout.n_off
    n = X.shape[0]
    L = sizes.shape[0] - 1
    width = layout.n_off[-1] + sizes[-1]
    z, e_z = neuron_buffer(layout), neuron_buffer(layout)
    # Every sample's y, e_y, δ, e_δ, kept for the sums over samples below.
    Ys, EYs, Ds, EDs = (np.empty((n, width)), np.empty((n, width)), np.empty((n, width)),
                        np.empty((n, width)))
    carried = np.zeros_like(theta)  # Σ_x of the propagated errors
    magnitude = np.zeros_like(theta)  # Σ_x |δ_j y_i|
    flipped = np.zeros(L + 1)  # Σ_x Σ_j |s_j z_j| over ambiguous ReLU units of neuron layer l
    ambiguous = 0  # how many (sample, unit) pairs are within rounding of a kink
    for s in range(n):
        forward(theta, layout, X[s], z, Ys[s])
        forward_rounding(theta, layout, z, Ys[s], u, lam, e_z, EYs[s])
        ambiguous += delta_rounding(theta, layout, z, e_z, Ys[s], EYs[s], T[s], u, lam, Ds[s],
                                    EDs[s], flipped)
    # The sums over samples, in sample order for each entry; the samples loop inside the
    # rows i of w, so that a row stays in cache while every sample adds to it.
    for l in range(L):
        gw, ew = weights_of(magnitude, layout, l), weights_of(carried, layout, l)
        gb, eb = biases_of(magnitude, layout, l), biases_of(carried, layout, l)
        below, above = n_off[l], n_off[l + 1]
        for i in range(sizes[l]):
            gw_i, ew_i = gw[i], ew[i]
            for s in range(n):
                y_i, ey_i = Ys[s, below + i], EYs[s, below + i]
                d, ed = Ds[s, above : above + sizes[l + 1]], EDs[s, above : above + sizes[l + 1]]
                for j in range(sizes[l + 1]):
                    gw_i[j] += abs(d[j] * y_i)
                    ew_i[j] += abs(d[j]) * ey_i + abs(y_i) * ed[j] + ed[j] * ey_i
        for s in range(n):
            for j in range(sizes[l + 1]):
                gb[j] += abs(Ds[s, above + j])
                eb[j] += EDs[s, above + j]
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
def delta_rounding(theta, layout, z, e_z, y, e_y, t, u, lam, delta, e_delta, flipped):
    """One sample's δ and the bounds e_δ of ``gradient_rounding`` (its formulas), from the
    sample's pass z, y and its bounds e_z, e_y in precision u; adds the sample's |s_j z_j|
    of ReLU units within rounding of 0 to flipped[l] (neuron layer l) and returns how many
    such units the sample has."""
    sizes, acts, n_off = layout.sizes, layout.acts, layout.n_off
    L = sizes.shape[0] - 1
    n_ambiguous = 0
    for l in range(1, L + 1):
        for j in range(n_off[l], n_off[l] + sizes[l]):
            n_ambiguous += ambiguous_relu(acts[l - 1], z[j], e_z[j])
    for l in range(L, 0, -1):
        code = acts[l - 1]
        if l == L and (layout.loss != SQUARED or code == SOFTMAX):
            output_delta_rounding(neurons_of(y, layout, L), neurons_of(e_y, layout, L),
                                  t, layout.loss, u, lam, neurons_of(delta, layout, L),
                                  neurons_of(e_delta, layout, L))
            continue
        for j in range(n_off[l], n_off[l] + sizes[l]):
            fp = fprime(code, z[j], y[j])
            e_fp = 0.0 if code == RELU else (fprime_slope(code, y[j]) * e_y[j]
                                             + e_y[j] * e_y[j]
                                             + 2.0 * u * (abs(fp) + y[j] * y[j]))
            if l == L:
                t_j = t[j - n_off[L]]
                r = y[j] - t_j
                e_r = e_y[j] + u * (abs(t_j) + abs(r))
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
    return n_ambiguous


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


__all__ = ["central_differences", "error_rounding", "rank_one_differences",
           "gradient_rounding", "output_rounding"]
