"""Mini-batch training that trades bit-identity for speed: ``Network.fit(..., exact=False)``.

The kernels here are those of ``fast.py``'s batch path, except that their sums,
``add_products``, are compiled with ``fastmath={"reassoc", "contract"}``: LLVM may fuse a
multiply and an add into one FMA (one rounding instead of two) and add the terms of a sum
in any order. Nothing else of fastmath: no "nnan"/"ninf" (part of ``fastmath=True``),
which would let LLVM delete the non-finite checks that divergence detection relies on.
Every other operation (activations, deltas of the output layer, the step, the error pass
after each epoch) is the exact path's, so each result differs from the exact one only
through its sums, by at most (Higham, *Accuracy and Stability of Numerical Algorithms*,
§3.1; γ_n = n u / (1 − n u), u = 2⁻⁵³):

- C_rc + Σ_k A_rk B_kc, n products and n additions in any order, with or without FMA:
  each term meets at most n + 1 roundings, so either path is within
  γ_{n+1} (|C_rc| + Σ_k |A_rk B_kc|) of the true value, and the two differ by at most
  2 γ_{n+1} (|C_rc| + Σ_k |A_rk B_kc|);
- hence, from the same inputs: z_sj = Σ_i w_ij y_si + b_j by 2 γ_{n_i+1} (Σ_i |w_ij y_si|
  + |b_j|); δ_sj = f'(z_sj) Σ_k δ_sk w_jk by 2 γ_{n_k+1} |f'(z_sj)| Σ_k |δ_sk w_jk|; a
  gradient entry g_ij + Σ_s δ_sj y_si, a block of m samples, by
  2 γ_{m+1} (|g_ij| + Σ_s |δ_sj y_si|); y_sj = f(z_sj), the output deltas, the bias sums
  and the step are computed as on the exact path, from these.

(Gradual underflow adds at most half the smallest subnormal, 2⁻¹⁰⁷⁵, per rounding.)

tests/test_inexact.py checks these bounds kernel by kernel against the exact kernels, and
docs/training.md says how far whole trainings drift. Nothing here is compiled unless a fit
asks for ``exact=False`` (``epochs_driver``); online SGD without momentum has nothing to
gain (its sums are over j, already vectorised) and stays exact.
"""

import numpy as np

from ._jit import jit
from .activations import SOFTMAX, activate, f, fprime
from .fast import BLOCK, descend_batch, gather
from .formulas import loss_delta
from .layout import (
    biases_of,
    n_layers,
    neuron_buffer,
    neurons_by_sample_of,
    samples_of,
    weights_of,
)
from .training import EPOCHS_DONE, TRAIN, TRAINED, between_steps, train_online_epochs

# FMA ("contract") and sums in any order ("reassoc"), nothing else of fastmath.
REORDER = {"reassoc", "contract"}


@jit(fastmath=REORDER)
def add_products(A, B, C):
    """C_rc += Σ_k A_rk B_kc for every r, c, the terms of each sum in any order, multiplies
    and adds fused (FMA) where LLVM likes: ``fast.add_products`` without its exactness.

    The same register tile, eight rows r and four terms k at a time over contiguous
    columns c, loading each B_kc once for eight rows; the rows and terms left over one at a
    time.
    """
    n_r, n_k = A.shape
    n_c = B.shape[1]
    r = 0
    while r + 8 <= n_r:
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
                C[r, c] += b0 * a00 + b1 * a01 + b2 * a02 + b3 * a03
                C[r + 1, c] += b0 * a10 + b1 * a11 + b2 * a12 + b3 * a13
                C[r + 2, c] += b0 * a20 + b1 * a21 + b2 * a22 + b3 * a23
                C[r + 3, c] += b0 * a30 + b1 * a31 + b2 * a32 + b3 * a33
                C[r + 4, c] += b0 * a40 + b1 * a41 + b2 * a42 + b3 * a43
                C[r + 5, c] += b0 * a50 + b1 * a51 + b2 * a52 + b3 * a53
                C[r + 6, c] += b0 * a60 + b1 * a61 + b2 * a62 + b3 * a63
                C[r + 7, c] += b0 * a70 + b1 * a71 + b2 * a72 + b3 * a73
            k += 4
        while k < n_k:
            for row in range(r, r + 8):
                a = A[row, k]
                for c in range(n_c):
                    C[row, c] += B[k, c] * a
            k += 1
        r += 8
    for row in range(r, n_r):
        for k in range(n_k):
            a = A[row, k]
            for c in range(n_c):
                C[row, c] += B[k, c] * a


@jit
def forward_layer_batch(w, b, Y_below, code, Z, Y):
    """``fast.forward_layer_batch`` with this module's sums:  z_sj = Σ_i w_ij y_si + b_j,
    y_sj = f(z_sj)."""
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
    if code == SOFTMAX:
        for s in range(m):
            activate(code, Z[s], Y[s])


@jit
def hidden_delta_batch(w_above, DT_above, Z, Y, code, D, DT):
    """``fast.hidden_delta_batch`` with this module's sums:  δ_sj = f'(z_sj) Σ_k δ_sk w_jk
    (``DT[j, s]`` is δ_sj; ``D`` receives them sample by sample too)."""
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
    """``fast.accumulate_gradient_batch`` with this module's sums:  ∂E/∂w_ij += Σ_s δ_sj y_si,
    ∂E/∂b_j += Σ_s δ_sj (the bias sums in sample order, as there)."""
    m, n_j = D.shape
    add_products(Y_below.T, D, grad_w)
    for s in range(m):
        for j in range(n_j):
            grad_b[j] += D[s, j]


@jit
def add_block_gradient(theta, layout, X, T, rows, grad, Z, Y, D, DT):
    """``fast.add_block_gradient`` with this module's kernels: grad += Σ_s ∂E_s/∂θ over the
    samples X[rows] (at most BLOCK): the forward pass, every δ, the gradient sums."""
    m, L = rows.shape[0], n_layers(layout)
    gather(X, rows, samples_of(Y, layout, 0, m))
    for l in range(L):
        forward_layer_batch(weights_of(theta, layout, l), biases_of(theta, layout, l),
                            samples_of(Y, layout, l, m), layout.acts[l],
                            samples_of(Z, layout, l + 1, m), samples_of(Y, layout, l + 1, m))
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
    for l in range(L):
        accumulate_gradient_batch(samples_of(D, layout, l + 1, m), samples_of(Y, layout, l, m),
                                  weights_of(grad, layout, l), biases_of(grad, layout, l))


@jit
def batch_steps(theta, layout, X, T, order, start, stop, eta, alpha, velocity, batch_size,
                train_biases, weight_decay, grad, Z, Y, D, DT):
    """``fast.batch_steps`` with this module's gradient: for each batch, its gradient
    BLOCK samples at a time (``add_block_gradient``), then the exact path's step with its
    mean (``fast.descend_batch``)."""
    for first in range(start, stop, batch_size):
        last = min(first + batch_size, stop)
        grad[:] = 0.0
        for block in range(first, last, BLOCK):
            add_block_gradient(theta, layout, X, T, order[block : min(block + BLOCK, last)],
                               grad, Z, Y, D, DT)
        descend_batch(theta, grad, velocity, layout, eta, alpha, last - first, train_biases,
                      weight_decay)


@jit
def train_epochs(
    theta, layout, X, T, order, rng_state, do_shuffle, epochs, etas, alpha, velocity,
    batch_size, train_biases, weight_decay, target_error, error_scale, errors, before, at,
    sums, E, budget,
):  # fmt: skip
    """``training.train_epochs`` with this module's ``batch_steps``: the same epochs,
    pauses, error pass (exact: ``errors[e]`` is what ``Network.error`` gives), divergence
    checks and return values."""
    n = X.shape[0]
    Z, Y, D, DT = (neuron_buffer(layout, BLOCK), neuron_buffer(layout, BLOCK),
                   neuron_buffer(layout, BLOCK), neuron_buffer(layout, BLOCK))
    grad = np.zeros_like(theta)
    while True:
        reason, budget = between_steps(theta, layout, X, T, order, rng_state, do_shuffle, epochs,
                                       velocity, target_error, error_scale, errors, before, at,
                                       sums, E, budget, Z, Y)
        if reason != TRAIN:
            return reason
        start = at[TRAINED]  # whole batches, at least one
        stop = min(n, start + -(-budget // batch_size) * batch_size)
        eta = etas[at[EPOCHS_DONE]] if etas.shape[0] > 1 else etas[0]
        batch_steps(theta, layout, X, T, order, start, stop, eta, alpha, velocity, batch_size,
                    train_biases, weight_decay, grad, Z, Y, D, DT)
        at[TRAINED] = stop
        budget -= stop - start


def epochs_driver(batch_size, alpha):
    """The compiled driver of a fit with ``exact=False``: ``train_epochs`` here for
    mini-batches or momentum, the exact ``training.train_online_epochs`` for online SGD
    without momentum; both take ``training.train_epochs``' arguments."""
    return train_online_epochs if batch_size == 1 and alpha == 0.0 else train_epochs
