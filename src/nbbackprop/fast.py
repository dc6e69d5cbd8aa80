"""The fast paths: reorderings of the reference kernels in ``formulas.py`` that give the same bits.

Each kernel here reorders loops, never a sum: every z_j is still summed over i, every δ_j
over k and every gradient entry over the samples in the reference's order, in IEEE float64
(no fastmath). Each docstring names the reference kernel it equals bit for bit;
tests/test_fast_paths.py checks every one of them, and docs/performance.md gives what each
buys, measured.

- ``descend_forward_layer``: the online step folded into the next sample's forward pass,
  one sweep of w instead of two; ``hidden_delta_interleaved``: four δ_j at a time.
- ``*_narrow``: for a network of narrow layers, each sum held in a register (``j``
  outside, ``i`` inside), one sample at a time.
- ``*_batch``: a block of samples through each layer, so each weight is loaded once per
  block instead of once per sample; their sums are one register-tiled product,
  ``add_products`` (eight rows and four terms at a time, the parentheses keep the order).
  ``descend_batch``: the batch's step, its loops vectorised.
- ``sample_errors_on_threads``: the error pass of a large data set, a block per task.
  Called from Python only: a cached compiled function that calls a ``parallel=True`` one
  was, when compiled in a process that had loaded a function between them from the disk
  cache, written to the cache without the threaded code, and crashed the next process that
  loaded it (Numba 0.68). So no compiled function here calls it.
"""

import numpy as np
from numba import prange

from ._jit import jit, jit_parallel
from .activations import SOFTMAX, activate, f, fprime
from .formulas import (
    descend_layer,
    forward,
    loss_delta,
    loss_error,
)
from .layout import (
    biases_of,
    n_layers,
    neuron_buffer,
    neurons_by_sample_of,
    neurons_of,
    samples_of,
    untracked,
    untracked_layout,
    weights_of,
)

# Samples per block when many samples pass at once: enough to reuse each weight many times
# while it is in cache, few enough for the block's neurons to stay there too. The error of
# a whole data set is shared out to the threads in tasks of TASK_BLOCKS blocks.
BLOCK, TASK_BLOCKS = 32, 4
# Threads only for calls of at least this many multiply-adds (about 4 ms on one core): a
# thread costs microseconds to wake on an idle machine, but on a busy one it can wait a
# scheduler time slice (milliseconds) at every call, which made threaded 32-sample steps of
# 784-100-10 sixteen times slower. Below it everything runs on the calling thread.
PARALLEL_WORK = 1 << 25
# A row of C narrower than this (a 10-wide output layer) runs one row at a time: measured,
# the eight-row tile's set-up then costs more than it saves.
TILE_COLUMNS = 16
# A network whose layers (the inputs too) are all narrower than this is trained and
# measured with sums held in registers, one sample at a time (``forward_narrow``,
# ``descend_forward_narrow``): measured, the set-up of a vector loop or a block then costs
# more than it saves.
NARROW = 16


# --- the online step, fused ----------------------------------------------------------------


@jit
def descend_forward_layer(w, b, delta, y_below_before, eta, train_biases, y_below, code, z, y):
    """``descend_layer`` for the previous sample, then ``forward_layer`` for this one, in one
    sweep of w:  Δw_ij = −η δ_j y_i (δ, y of the previous sample), then z_j = Σ_i w_ij y_i + b_j
    and y_j = f(z_j) (y_i of this sample).

    Each w_ij is stepped exactly as ``descend_layer`` steps it and then read, and each z_j
    gains its terms in the order i = 1, 2, … (four rows at a time, the parentheses keep the
    order), so the result equals ``descend_layer`` then ``forward_layer`` bit for bit, while
    w passes through the cache once instead of twice.
    """
    n_i, n_j = w.shape
    for j in range(n_j):
        z[j] = 0.0
    i = 0
    while i + 4 <= n_i:
        b0, b1 = y_below_before[i], y_below_before[i + 1]
        b2, b3 = y_below_before[i + 2], y_below_before[i + 3]
        y0, y1, y2, y3 = y_below[i], y_below[i + 1], y_below[i + 2], y_below[i + 3]
        for j in range(n_j):
            d_j = delta[j]
            w0 = w[i, j] = w[i, j] - eta * (d_j * b0)
            w1 = w[i + 1, j] = w[i + 1, j] - eta * (d_j * b1)
            w2 = w[i + 2, j] = w[i + 2, j] - eta * (d_j * b2)
            w3 = w[i + 3, j] = w[i + 3, j] - eta * (d_j * b3)
            z[j] = (((z[j] + w0 * y0) + w1 * y1) + w2 * y2) + w3 * y3
        i += 4
    while i < n_i:
        y_i_before, y_i = y_below_before[i], y_below[i]
        for j in range(n_j):
            w[i, j] -= eta * (delta[j] * y_i_before)
            z[j] += w[i, j] * y_i
        i += 1
    if train_biases:
        for j in range(n_j):
            b[j] -= eta * delta[j]
    for j in range(n_j):
        z[j] += b[j]
    activate(code, z, y)


@jit(inline="always")  # into online_steps: as calls, the layers took a third of a 2-2-1 step
def descend_forward_narrow(w, b, delta, y_below_before, eta, train_biases, y_below, code, z, y):
    """``descend_forward_layer`` with each sum in a register (``j`` outside, ``i`` inside):
    Δw_ij = −η δ_j y_i (δ, y of the previous sample), then z_j = Σ_i w_ij y_i + b_j and
    y_j = f(z_j). Every w_ij, b_j and z_j is computed as there, in the same order, so the
    same bits; for narrow layers it saves the zeroing and the vector loop's set-up."""
    n_i, n_j = w.shape
    for j in range(n_j):
        d_j, z_j = delta[j], 0.0
        for i in range(n_i):
            w_ij = w[i, j] = w[i, j] - eta * (d_j * y_below_before[i])
            z_j += w_ij * y_below[i]
        if train_biases:
            b[j] -= eta * d_j
        z[j] = z_j + b[j]
    activate(code, z, y)


@jit(inline="always")
def hidden_delta_interleaved(w_above, delta_above, z, y, code, delta):
    """``hidden_delta``:  δ_j = f'(z_j) Σ_k δ_k w_jk, four sums (four j) side by side so that
    the CPU overlaps them; each is still summed over k in order."""
    n_j, n_k = w_above.shape
    j = 0
    while j + 4 <= n_j:
        s0 = s1 = s2 = s3 = 0.0
        for k in range(n_k):
            d_k = delta_above[k]
            s0 += d_k * w_above[j, k]
            s1 += d_k * w_above[j + 1, k]
            s2 += d_k * w_above[j + 2, k]
            s3 += d_k * w_above[j + 3, k]
        delta[j] = fprime(code, z[j], y[j]) * s0
        delta[j + 1] = fprime(code, z[j + 1], y[j + 1]) * s1
        delta[j + 2] = fprime(code, z[j + 2], y[j + 2]) * s2
        delta[j + 3] = fprime(code, z[j + 3], y[j + 3]) * s3
        j += 4
    while j < n_j:  # the rest one by one, as hidden_delta (slices of it cost a tiny net 10 %)
        s = 0.0
        for k in range(n_k):
            s += delta_above[k] * w_above[j, k]
        delta[j] = fprime(code, z[j], y[j]) * s
        j += 1


@jit(inline="always")
def backward_interleaved(theta, layout, t, z, y, delta):
    """``backward`` with ``hidden_delta_interleaved``: every δ of one sample."""
    L = n_layers(layout)
    loss_delta(neurons_of(z, layout, L), neurons_of(y, layout, L), t, layout.acts[L - 1],
               layout.loss, neurons_of(delta, layout, L))
    for l in range(L - 1, 0, -1):
        hidden_delta_interleaved(weights_of(theta, layout, l), neurons_of(delta, layout, l + 1),
                                 neurons_of(z, layout, l), neurons_of(y, layout, l),
                                 layout.acts[l - 1], neurons_of(delta, layout, l))


@jit
def online_steps(theta, layout, X, T, order, start, stop, eta, train_biases, weight_decay, z, y,
                 y_before, delta):
    """Online SGD on the samples ``order[start:stop]`` (at least one): for each sample x,
    ``backpropagate`` (``forward``, then ``backward_interleaved``), then ``descend_layer``
    for every layer (Δw_ij = −η δ_j y_i, Δb_j = −η δ_j).

    A sample's step is postponed into the next sample's forward pass
    (``descend_forward_layer``); the last one is taken at ``stop``. The result is the
    reference's, bit for bit, wherever the range is split. ``y_before`` holds the previous
    sample's outputs y_i for its postponed step. With weight decay the steps are the
    reference's, one after the other (the fused sweep has no λ w_ij term).

    A ``narrow`` network takes the ``*_narrow`` forms of the same sums. Every array is
    ``untracked`` first: a row of X, or an array passed to a kernel, would otherwise be
    counted (an atomic increment and decrement) once per sample.
    """
    theta, layout, X, T, order = (untracked(theta), untracked_layout(layout), untracked(X),
                                  untracked(T), untracked(order))
    z, y, y_before, delta = untracked(z), untracked(y), untracked(y_before), untracked(delta)
    L, decay, thin = n_layers(layout), weight_decay != 0.0, narrow(layout.sizes)
    for s in range(start, stop):
        x, t = X[order[s]], T[order[s]]
        if thin and (s == start or decay):
            forward_narrow(theta, layout, x, z, y)
        elif s == start or decay:
            forward(theta, layout, x, z, y)
        else:
            y_in = neurons_of(y, layout, 0)
            for i in range(x.shape[0]):
                y_in[i] = x[i]
            for l in range(L):
                w, b = weights_of(theta, layout, l), biases_of(theta, layout, l)
                d, y_b = neurons_of(delta, layout, l + 1), neurons_of(y_before, layout, l)
                y_i, z_j, y_j = (neurons_of(y, layout, l), neurons_of(z, layout, l + 1),
                                 neurons_of(y, layout, l + 1))
                if thin:
                    descend_forward_narrow(w, b, d, y_b, eta, train_biases, y_i, layout.acts[l],
                                           z_j, y_j)
                else:
                    descend_forward_layer(w, b, d, y_b, eta, train_biases, y_i, layout.acts[l],
                                          z_j, y_j)
        backward_interleaved(theta, layout, t, z, y, delta)
        if decay:
            for l in range(L):
                descend_layer(weights_of(theta, layout, l), biases_of(theta, layout, l),
                              neurons_of(delta, layout, l + 1), neurons_of(y, layout, l), eta,
                              train_biases, weight_decay)
        else:
            y, y_before = y_before, y
    if not decay:
        for l in range(L):  # the last sample's step
            descend_layer(weights_of(theta, layout, l), biases_of(theta, layout, l),
                          neurons_of(delta, layout, l + 1), neurons_of(y_before, layout, l),
                          eta, train_biases, 0.0)


# --- a block of samples through each layer -------------------------------------------------
# Row s of Y, Z, D is sample s.


@jit
def add_products(A, B, C):
    """C_rc += Σ_k A_rk B_kc for every r, c, each sum over k in order:
    C_rc ← ((C_rc + A_r1 B_1c) + A_r2 B_2c) + … (a register tile, not a reassociated product).

    Eight rows r and four terms k at a time: the 32 factors A_rk stay in registers while the
    inner loop runs over c (contiguous, so it vectorises), loading each B_kc once for eight
    rows and each C_rc once for four terms; the parentheses keep the order. The rows left
    over, and all rows when C is narrower than TILE_COLUMNS, go one at a time, the terms
    left over one at a time: the same sums.
    """
    n_r, n_k = A.shape
    n_c = B.shape[1]
    r = 0
    while r + 8 <= n_r and n_c >= TILE_COLUMNS:
        k = 0
        while k + 4 <= n_k:
            a00, a01, a02, a03 = A[r, k], A[r, k + 1], A[r, k + 2], A[r, k + 3]
            a10, a11, a12, a13 = A[r + 1, k], A[r + 1, k + 1], A[r + 1, k + 2], A[r + 1, k + 3]
            a20, a21, a22, a23 = A[r + 2, k], A[r + 2, k + 1], A[r + 2, k + 2], A[r + 2, k + 3]
            a30, a31, a32, a33 = A[r + 3, k], A[r + 3, k + 1], A[r + 3, k + 2], A[r + 3, k + 3]
            a40, a41, a42, a43 = A[r + 4, k], A[r + 4, k + 1], A[r + 4, k + 2], A[r + 4, k + 3]
            a50, a51, a52, a53 = A[r + 5, k], A[r + 5, k + 1], A[r + 5, k + 2], A[r + 5, k + 3]
            a60, a61, a62, a63 = A[r + 6, k], A[r + 6, k + 1], A[r + 6, k + 2], A[r + 6, k + 3]
            a70, a71, a72, a73 = A[r + 7, k], A[r + 7, k + 1], A[r + 7, k + 2], A[r + 7, k + 3]
            for c in range(n_c):
                b0, b1, b2, b3 = B[k, c], B[k + 1, c], B[k + 2, c], B[k + 3, c]
                C[r, c] = (((C[r, c] + b0 * a00) + b1 * a01) + b2 * a02) + b3 * a03
                C[r + 1, c] = (((C[r + 1, c] + b0 * a10) + b1 * a11) + b2 * a12) + b3 * a13
                C[r + 2, c] = (((C[r + 2, c] + b0 * a20) + b1 * a21) + b2 * a22) + b3 * a23
                C[r + 3, c] = (((C[r + 3, c] + b0 * a30) + b1 * a31) + b2 * a32) + b3 * a33
                C[r + 4, c] = (((C[r + 4, c] + b0 * a40) + b1 * a41) + b2 * a42) + b3 * a43
                C[r + 5, c] = (((C[r + 5, c] + b0 * a50) + b1 * a51) + b2 * a52) + b3 * a53
                C[r + 6, c] = (((C[r + 6, c] + b0 * a60) + b1 * a61) + b2 * a62) + b3 * a63
                C[r + 7, c] = (((C[r + 7, c] + b0 * a70) + b1 * a71) + b2 * a72) + b3 * a73
            k += 4
        while k < n_k:
            a0, a1, a2, a3 = A[r, k], A[r + 1, k], A[r + 2, k], A[r + 3, k]
            a4, a5, a6, a7 = A[r + 4, k], A[r + 5, k], A[r + 6, k], A[r + 7, k]
            for c in range(n_c):
                b = B[k, c]
                C[r, c] += b * a0
                C[r + 1, c] += b * a1
                C[r + 2, c] += b * a2
                C[r + 3, c] += b * a3
                C[r + 4, c] += b * a4
                C[r + 5, c] += b * a5
                C[r + 6, c] += b * a6
                C[r + 7, c] += b * a7
            k += 1
        r += 8
    k = 0  # the rows left: four terms at a time, all rows, while B's four rows are in cache
    while k + 4 <= n_k:
        for row in range(r, n_r):
            a0, a1, a2, a3 = A[row, k], A[row, k + 1], A[row, k + 2], A[row, k + 3]
            for c in range(n_c):
                C[row, c] = (((C[row, c] + B[k, c] * a0) + B[k + 1, c] * a1)
                             + B[k + 2, c] * a2) + B[k + 3, c] * a3
        k += 4
    while k < n_k:
        for row in range(r, n_r):
            a = A[row, k]
            for c in range(n_c):
                C[row, c] += B[k, c] * a
        k += 1


@jit
def forward_layer_batch(w, b, Y_below, code, Z, Y):
    """``forward_layer`` for m samples:  z_sj = Σ_i w_ij y_si + b_j,  y_sj = f(z_sj).

    The sums are ``add_products`` (rows: the samples, terms: i, columns: j), each z_sj
    summed over i in order from 0, then b_j added, as ``forward_layer`` does.
    """
    m = Y_below.shape[0]
    n_j = w.shape[1]
    for s in range(m):
        for j in range(n_j):
            Z[s, j] = 0.0
    add_products(Y_below, w, Z)
    for s in range(m):
        for j in range(n_j):
            Z[s, j] += b[j]
            Y[s, j] = f(code, Z[s, j])
    if code == SOFTMAX:  # a whole row at a time (rows as views only here: they cost time)
        for s in range(m):
            activate(code, Z[s], Y[s])


@jit
def hidden_delta_batch(w_above, DT_above, Z, Y, code, D, DT):
    """``hidden_delta`` for m samples:  δ_sj = f'(z_sj) Σ_k δ_sk w_jk.

    The deltas come and go neuron by neuron (``DT[j, s]`` is δ_sj) so that the sums are
    ``add_products`` (rows: j, terms: k, columns: the samples), each summed over k in order
    from 0. ``D`` receives the deltas sample by sample as well.
    """
    n_j, m = DT.shape
    for j in range(n_j):
        for s in range(m):
            DT[j, s] = 0.0
    add_products(w_above, DT_above, DT)
    for j in range(n_j):
        for s in range(m):
            DT[j, s] = fprime(code, Z[s, j], Y[s, j]) * DT[j, s]
            D[s, j] = DT[j, s]


@jit
def accumulate_gradient_batch(D, Y_below, grad_w, grad_b):
    """``accumulate_gradient`` for m samples, added in sample order:
    ∂E/∂w_ij += δ_sj y_si,  ∂E/∂b_j += δ_sj  for s = 1 … m (``add_products``: rows i,
    terms: the samples, columns j)."""
    m, n_j = D.shape
    add_products(Y_below.T, D, grad_w)
    for s in range(m):
        for j in range(n_j):
            grad_b[j] += D[s, j]


@jit
def gather(X, rows, Y_in):
    """Y_in[s] = X[rows[s]]: the inputs of a block, as layer 0 of its buffer."""
    for s in range(rows.shape[0]):
        for i in range(X.shape[1]):
            Y_in[s, i] = X[rows[s], i]


@jit(inline="always")
def gather_from(X, start, Y_in):
    """Y_in[s] = X[start + s]: ``gather`` of consecutive rows, without an index array."""
    for s in range(Y_in.shape[0]):
        for i in range(X.shape[1]):
            Y_in[s, i] = X[start + s, i]


@jit
def forward_batch(theta, layout, Z, Y, m):
    """``forward`` for m samples, one layer at a time; layer 0 of Y holds their inputs."""
    for l in range(n_layers(layout)):
        forward_layer_batch(weights_of(theta, layout, l), biases_of(theta, layout, l),
                            samples_of(Y, layout, l, m), layout.acts[l],
                            samples_of(Z, layout, l + 1, m), samples_of(Y, layout, l + 1, m))


@jit
def backward_batch(theta, layout, T, rows, Z, Y, D, DT):
    """``backward`` for m samples with targets T[rows[s]]: δ of every layer, into D (row s
    for sample s) and DT (row j for neuron j)."""
    m, L = rows.shape[0], n_layers(layout)
    Z_out, Y_out = samples_of(Z, layout, L, m), samples_of(Y, layout, L, m)
    D_out, DT_out = samples_of(D, layout, L, m), neurons_by_sample_of(DT, layout, L, m)
    for s in range(m):
        loss_delta(Z_out[s], Y_out[s], T[rows[s]], layout.acts[L - 1], layout.loss, D_out[s])
        for k in range(layout.sizes[L]):
            DT_out[k, s] = D_out[s, k]
    for l in range(L - 1, 0, -1):
        hidden_delta_batch(weights_of(theta, layout, l), neurons_by_sample_of(DT, layout, l + 1, m),
                           samples_of(Z, layout, l, m), samples_of(Y, layout, l, m),
                           layout.acts[l - 1], samples_of(D, layout, l, m),
                           neurons_by_sample_of(DT, layout, l, m))


@jit
def add_block_gradient(theta, layout, X, T, rows, grad, Z, Y, D, DT):
    """grad += Σ_s ∂E_s/∂θ over the samples X[rows] (at most BLOCK), in sample order: the
    reference's ``backpropagate`` and ``accumulate_gradient`` sample after sample."""
    m = rows.shape[0]
    gather(X, rows, samples_of(Y, layout, 0, m))
    forward_batch(theta, layout, Z, Y, m)
    backward_batch(theta, layout, T, rows, Z, Y, D, DT)
    for l in range(n_layers(layout)):
        accumulate_gradient_batch(samples_of(D, layout, l + 1, m), samples_of(Y, layout, l, m),
                                  weights_of(grad, layout, l), biases_of(grad, layout, l))


@jit
def descend_batch(theta, grad, velocity, layout, eta, alpha, m, train_biases, weight_decay):
    """``descend``: a step with the batch's mean gradient g = (1/m) Σ_x ∂E_x/∂θ (``grad``
    holds the sum), plus λ w_ij for the weights: Δθ = −η g, or with momentum α
    v ← α v − η g, θ ← θ + v.

    The same arithmetic for every parameter, but its branches (m a power of two, momentum,
    weights or biases) are taken once per layer instead of once per parameter, so that the
    loops vectorise; ``grad`` is left holding (1/m) Σ_x ∂E_x/∂θ (grad·(1/m) for m a power
    of two, grad/m otherwise, as ``descend`` computes it).
    """
    one_over_m, exact = 1.0 / m, m & (m - 1) == 0
    for l in range(n_layers(layout)):
        # A layer's views, indexed from 0: an index that LLVM cannot prove non-negative
        # keeps a loop from vectorising.
        start, n_w = layout.w_off[l], layout.sizes[l] * layout.sizes[l + 1]
        stop = start + n_w + (layout.sizes[l + 1] if train_biases else 0)
        theta_l, grad_l, v_l = theta[start:stop], grad[start:stop], velocity[start:stop]
        if exact:
            for p in range(stop - start):
                grad_l[p] *= one_over_m
        else:
            for p in range(stop - start):
                grad_l[p] /= m
        if alpha == 0.0:
            for p in range(n_w):
                theta_l[p] -= eta * (grad_l[p] + weight_decay * theta_l[p])
            for p in range(n_w, stop - start):
                theta_l[p] -= eta * grad_l[p]
        else:
            for p in range(n_w):
                v_l[p] = alpha * v_l[p] - eta * (grad_l[p] + weight_decay * theta_l[p])
                theta_l[p] += v_l[p]
            for p in range(n_w, stop - start):
                v_l[p] = alpha * v_l[p] - eta * grad_l[p]
                theta_l[p] += v_l[p]


@jit
def batch_steps(theta, layout, X, T, order, start, stop, eta, alpha, velocity, batch_size,
                train_biases, weight_decay, grad, Z, Y, D, DT):
    """SGD with batches of ``batch_size`` on the samples ``order[start:stop]``: each batch's
    gradient, BLOCK samples at a time in sample order (``add_block_gradient``), then a step
    with its mean (``descend_batch``)."""
    for first in range(start, stop, batch_size):
        last = min(first + batch_size, stop)
        grad[:] = 0.0
        for block in range(first, last, BLOCK):
            add_block_gradient(theta, layout, X, T, order[block : min(block + BLOCK, last)],
                               grad, Z, Y, D, DT)
        descend_batch(theta, grad, velocity, layout, eta, alpha, last - first, train_biases,
                      weight_decay)


# --- the error of a data set ----------------------------------------------------------------


@jit
def worth_threads(sizes, m):
    """Whether a forward pass of m samples (a multiply-add per weight each) is work enough
    to share out."""
    weights = 0
    for l in range(sizes.shape[0] - 1):
        weights += sizes[l] * sizes[l + 1]
    return m * weights >= PARALLEL_WORK


@jit(inline="always")
def wants_threads(layout, n):
    """Whether the error pass of n samples goes to ``sample_errors_on_threads``: several
    tasks, each work enough to share out."""
    return n >= 2 * TASK_BLOCKS * BLOCK and worth_threads(layout.sizes, n)


@jit
def block_errors(theta, layout, X, T, start, stop, Z, Y, E):
    """E[s] = E_x (``loss_error``) for the samples s = start … stop − 1, one block."""
    m, L = stop - start, n_layers(layout)
    gather_from(X, start, samples_of(Y, layout, 0, m))
    forward_batch(theta, layout, Z, Y, m)
    Z_out, Y_out = samples_of(Z, layout, L, m), samples_of(Y, layout, L, m)
    for s in range(m):
        E[start + s] = loss_error(Z_out[s], Y_out[s], T[start + s], layout.acts[L - 1],
                                  layout.loss)


@jit_parallel
def sample_errors_on_threads(theta, layout, X, T, E):
    """``block_errors`` for every block of the data, the blocks shared out to the threads
    in tasks of TASK_BLOCKS blocks; each E_x is computed whole by one thread, so any
    thread count gives the same numbers. Called from Python only (module docstring)."""
    n_blocks = (X.shape[0] + BLOCK - 1) // BLOCK
    for task in prange((n_blocks + TASK_BLOCKS - 1) // TASK_BLOCKS):
        Z, Y = neuron_buffer(layout, BLOCK), neuron_buffer(layout, BLOCK)
        for c in range(task * TASK_BLOCKS, min(task * TASK_BLOCKS + TASK_BLOCKS, n_blocks)):
            start = c * BLOCK
            block_errors(theta, layout, X, T, start, min(start + BLOCK, X.shape[0]), Z, Y, E)


@jit(inline="always")
def forward_narrow(theta, layout, x, z, y):
    """``forward`` with each sum in a register:  z_j = Σ_i w_ij y_i + b_j,  y_j = f(z_j),
    ``j`` outside and ``i`` inside. Each z_j gains the same terms in the same order
    (from 0, i = 1, 2, …, then b_j), so it equals ``forward`` bit for bit; for narrow
    layers it saves the zeroing and the vector loop's set-up."""
    y_in = neurons_of(y, layout, 0)
    for i in range(x.shape[0]):
        y_in[i] = x[i]
    for l in range(n_layers(layout)):
        w, b = weights_of(theta, layout, l), biases_of(theta, layout, l)
        y_below, z_l = neurons_of(y, layout, l), neurons_of(z, layout, l + 1)
        n_i, n_j = w.shape
        for j in range(n_j):
            z_j = 0.0
            for i in range(n_i):
                z_j += w[i, j] * y_below[i]
            z_l[j] = z_j + b[j]
        activate(layout.acts[l], z_l, neurons_of(y, layout, l + 1))


@jit(inline="always")
def narrow(sizes):
    """Whether every layer of neurons, the inputs too, is narrower than NARROW."""
    for l in range(sizes.shape[0]):
        if sizes[l] >= NARROW:
            return False
    return True


@jit(inline="always")
def narrow_errors(theta, layout, X, T, start, stop, E, z, y):
    """E[s] = E_x (``loss_error``) for s = start … stop − 1, one sample at a time
    (``forward_narrow``): for a ``narrow`` network, where a block's set-up costs more than
    it saves. Its arrays ``untracked``, as in ``online_steps``."""
    theta, layout, X, T = untracked(theta), untracked_layout(layout), untracked(X), untracked(T)
    E, z, y, L = untracked(E), untracked(z), untracked(y), n_layers(layout)
    for s in range(start, stop):
        forward_narrow(theta, layout, X[s], z, y)
        E[s] = loss_error(neurons_of(z, layout, L), neurons_of(y, layout, L), T[s],
                          layout.acts[L - 1], layout.loss)


@jit(inline="always")  # a kernel of its own was compiled twice: for start = 0 and for any
def sample_errors(theta, layout, X, T, start, stop, E, Z, Y):
    """E[s] = E_x for s = start … stop − 1, a block at a time (``narrow_errors`` for a
    ``narrow`` network)."""
    if narrow(layout.sizes):
        narrow_errors(theta, layout, X, T, start, stop, E, Z, Y)
        return
    for block in range(start, stop, BLOCK):
        block_errors(theta, layout, X, T, block, min(block + BLOCK, stop), Z, Y, E)


@jit
def mean_of(E):
    """(1/n) Σ_s E[s], added in sample order (as ``formulas.mean_error`` adds them)."""
    total = 0.0
    for s in range(E.shape[0]):
        total += E[s]
    return total / E.shape[0]


@jit
def mean_error(theta, layout, X, T):
    """``formulas.mean_error``:  C = (1/n) Σ_x E_x, the forward passes a block of samples at
    a time, the E_x then added in sample order. (``Network.error`` runs the forward passes
    of a large data set on the threads instead, with ``sample_errors_on_threads`` and
    ``mean_of``: the same numbers.)"""
    n = X.shape[0]
    E = np.empty(n)
    Z, Y = neuron_buffer(layout, BLOCK), neuron_buffer(layout, BLOCK)
    for block in range(0, n, BLOCK):  # not sample_errors: its narrow path took 1.2 s to compile
        block_errors(theta, layout, X, T, block, min(block + BLOCK, n), Z, Y, E)
    return mean_of(E)


@jit
def forward_all(theta, layout, X, out):
    """out[s] = the network's output y for input row X[s] (``forward``, BLOCK samples at a
    time)."""
    Z, Y = neuron_buffer(layout, BLOCK), neuron_buffer(layout, BLOCK)
    L = n_layers(layout)
    for start in range(0, X.shape[0], BLOCK):
        m = min(BLOCK, X.shape[0] - start)
        gather_from(X, start, samples_of(Y, layout, 0, m))
        forward_batch(theta, layout, Z, Y, m)
        Y_out = samples_of(Y, layout, L, m)
        for s in range(m):
            for k in range(layout.sizes[L]):
                out[start + s, k] = Y_out[s, k]
