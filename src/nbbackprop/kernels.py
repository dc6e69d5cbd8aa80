"""The compiled per-neuron loops of backpropagation, one kernel per formula.

Notation of the seed documents: layer ``l`` maps the outputs ``y_i`` of the layer below
to ``z_j = Σ_i w_ij y_i + b_j`` and ``y_j = f(z_j)``; ``k`` indexes the layer above.
The text counts neurons from 1, the arrays from 0: ``w[i, j]`` here is the text's
``w_(i+1)(j+1)``.

Sign convention: ``δ = ∂E/∂z`` (seed 001), so the output delta is ``(y_k − t_k) f'(z_k)``
and the update is ``Δw_ij = −η δ_j y_i``. Seed 000 writes ``δ_k = (t_k − y_k) f'(z_k)``
and ``Δw_ij = +η δ_j y_i``: the same step with δ negated.

Memory layout, shared with ``network.py``: all parameters live in one flat float64
buffer ``theta``; layer ``l`` holds its weights ``w`` (``sizes[l] × sizes[l+1]``, row-major,
so ``w[i, j]`` walks memory contiguously in ``j``) starting at ``w_off[l]``, followed by
its biases ``b``. Per-neuron quantities (``z``, ``y``, ``δ``) of all layers live in flat
buffers too, layer ``l``'s neurons starting at ``n_off[l]`` (layer 0 holds the inputs);
for a batch of m samples, layer ``l`` holds m rows of ``sizes[l]`` from ``m · n_off[l]``.

Training runs reorderings of the one-formula kernels: the online step fused into the
next sample's forward pass, and the batch versions, which take several samples through
each layer (and, for the error of a large data set, several threads). They reorder loops,
never a sum, so they give the same bits as the one-sample kernels;
tests/test_fast_paths.py checks that, and docs/performance.md says what each buys.
"""

import math

import numpy as np
from numba import prange

from ._jit import jit, jit_parallel
from .activations import f, fprime

# What train_epochs reports as its reason to return.
RAN_ALL_EPOCHS, REACHED_TARGET, DIVERGED, PAUSED = 0, 1, 2, 3
# Where a run of training stands, in the caller's int64 array ``at``: epochs completed,
# samples of the current epoch trained on, samples of its error C summed.
EPOCHS_DONE, TRAINED, MEASURED = 0, 1, 2
# The caller's float64 array ``sums``: the partial sum Σ_x E_x of the current epoch's C,
# and the smallest C of a completed epoch so far (inf before the first).
ERROR_SUM, BEST_ERROR = 0, 1
# An epoch's C "explodes" when it exceeds this factor times the larger of the best C so
# far and the targets' own size (1/n) Σ_x ½ Σ_k t_k²: outputs ~1000 times too large.
EXPLOSION_FACTOR = 1e6


# --- views into the flat buffers ---------------------------------------------------------


@jit(inline="always")
def weights_of(theta, sizes, w_off, l):
    """w_ij of layer l: an (n_i, n_j) view of the flat buffer."""
    return theta[w_off[l] : w_off[l] + sizes[l] * sizes[l + 1]].reshape((sizes[l], sizes[l + 1]))


@jit(inline="always")
def biases_of(theta, sizes, w_off, l):
    """b_j of layer l: a view of the flat buffer, right after the layer's weights."""
    start = w_off[l] + sizes[l] * sizes[l + 1]
    return theta[start : start + sizes[l + 1]]


@jit(inline="always")
def neurons_of(buffer, sizes, n_off, l):
    """The per-neuron values (z, y or δ) of neuron layer l; layer 0 is the input."""
    return buffer[n_off[l] : n_off[l] + sizes[l]]


@jit(inline="always")
def samples_of(buffer, sizes, n_off, l, m):
    """The values of neuron layer l for a batch of m samples: an (m, n_l) view, row s for
    sample s. The layers of a batch buffer follow each other like those of one sample."""
    return buffer[m * n_off[l] : m * (n_off[l] + sizes[l])].reshape((m, sizes[l]))


@jit(inline="always")
def neurons_by_sample_of(buffer, sizes, n_off, l, m):
    """Like ``samples_of``, transposed: an (n_l, m) view, row j for neuron j."""
    return buffer[m * n_off[l] : m * (n_off[l] + sizes[l])].reshape((sizes[l], m))


# --- one kernel per formula --------------------------------------------------------------


@jit
def forward_layer(w, b, y_below, code, z, y):
    """Forward pass through one layer:  z_j = Σ_i w_ij y_i + b_j,  y_j = f(z_j).

    The loop runs ``i`` outside and ``j`` inside: each ``z_j`` is still summed over ``i``
    in order, but the inner loop walks row ``i`` of ``w`` contiguously and vectorises.
    """
    n_i, n_j = w.shape
    for j in range(n_j):
        z[j] = 0.0
    for i in range(n_i):
        y_i = y_below[i]
        for j in range(n_j):
            z[j] += w[i, j] * y_i
    for j in range(n_j):
        z[j] += b[j]
        y[j] = f(code, z[j])


@jit
def output_delta(z, y, t, code, delta):
    """Output delta for E = ½ Σ_k (t_k − y_k)²:  δ_k = ∂E/∂z_k = (y_k − t_k) f'(z_k)."""
    for k in range(y.shape[0]):
        delta[k] = (y[k] - t[k]) * fprime(code, z[k], y[k])


@jit
def hidden_delta(w_above, delta_above, z, y, code, delta):
    """Hidden delta:  δ_j = f'(z_j) Σ_k δ_k w_jk.

    ``w_above[j, k]`` is ``w_jk``, the weight from neuron ``j`` up to neuron ``k``, read
    *before* this step's update. Four sums (four ``j``) run side by side so that the CPU
    overlaps them; each is still summed over ``k`` in order.
    """
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
    while j < n_j:
        s = 0.0
        for k in range(n_k):
            s += delta_above[k] * w_above[j, k]
        delta[j] = fprime(code, z[j], y[j]) * s
        j += 1


@jit
def accumulate_gradient(delta, y_below, grad_w, grad_b):
    """Add one sample's gradient:  ∂E/∂w_ij = δ_j y_i,  ∂E/∂b_j = δ_j."""
    n_i, n_j = grad_w.shape
    for i in range(n_i):
        y_i = y_below[i]
        for j in range(n_j):
            grad_w[i, j] += delta[j] * y_i
    for j in range(n_j):
        grad_b[j] += delta[j]


@jit
def descend_layer(w, b, delta, y_below, eta, train_biases):
    """Online update of one layer:  Δw_ij = −η δ_j y_i,  Δb_j = −η δ_j.

    Computes ``η (δ_j y_i)`` in that order, so it equals ``w − η·gradient`` bit for bit.
    """
    n_i, n_j = w.shape
    for i in range(n_i):
        y_i = y_below[i]
        for j in range(n_j):
            w[i, j] -= eta * (delta[j] * y_i)
    if train_biases:
        for j in range(n_j):
            b[j] -= eta * delta[j]


@jit
def descend_forward_layer(w, b, delta, y_below_before, eta, train_biases, y_below, code, z, y):
    """The previous sample's online step, then this sample's forward pass, in one sweep of w:
    Δw_ij = −η δ_j y_i (δ and y of the previous sample), then z_j = Σ_i w_ij y_i + b_j and
    y_j = f(z_j) (y_i of this sample).

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
        y[j] = f(code, z[j])


# --- the same formulas for a batch of samples --------------------------------------------
# Row s of Y, Z, D is sample s. Each weight is loaded once for the whole batch instead of
# once per sample, and every sum keeps the order of its one-sample kernel, so each row
# equals that kernel's result bit for bit.


@jit
def forward_layer_batch(w, b, Y_below, code, Z, Y):
    """``forward_layer`` for m samples:  z_sj = Σ_i w_ij y_si + b_j,  y_sj = f(z_sj).

    Four rows of w at a time are swept across the batch; z_sj gains their four terms in
    the order i, i+1, i+2, i+3 (the parentheses keep it), then the remaining rows one by one.
    """
    m, n_i = Y_below.shape
    n_j = w.shape[1]
    for s in range(m):
        for j in range(n_j):
            Z[s, j] = 0.0
    i = 0
    while i + 4 <= n_i:
        for s in range(m):
            y0, y1, y2, y3 = Y_below[s, i], Y_below[s, i + 1], Y_below[s, i + 2], Y_below[s, i + 3]
            for j in range(n_j):
                Z[s, j] = (((Z[s, j] + w[i, j] * y0) + w[i + 1, j] * y1)
                           + w[i + 2, j] * y2) + w[i + 3, j] * y3
        i += 4
    while i < n_i:
        for s in range(m):
            y_si = Y_below[s, i]
            for j in range(n_j):
                Z[s, j] += w[i, j] * y_si
        i += 1
    for s in range(m):
        for j in range(n_j):
            Z[s, j] += b[j]
            Y[s, j] = f(code, Z[s, j])


@jit
def hidden_delta_batch(w_above, DT_above, Z, Y, code, D, DT):
    """``hidden_delta`` for m samples:  δ_sj = f'(z_sj) Σ_k δ_sk w_jk.

    The deltas come and go neuron by neuron (``DT[j, s]`` is δ_sj) so that the inner loop
    runs over the batch; four terms k, k+1, k+2, k+3 are added at a time, in that order.
    ``D`` receives the deltas sample by sample as well.
    """
    n_j, n_k = w_above.shape
    m = Z.shape[0]
    for j in range(n_j):
        for s in range(m):
            DT[j, s] = 0.0
        k = 0
        while k + 4 <= n_k:
            w0, w1, w2, w3 = w_above[j, k], w_above[j, k + 1], w_above[j, k + 2], w_above[j, k + 3]
            for s in range(m):
                DT[j, s] = (((DT[j, s] + DT_above[k, s] * w0) + DT_above[k + 1, s] * w1)
                            + DT_above[k + 2, s] * w2) + DT_above[k + 3, s] * w3
            k += 4
        while k < n_k:
            w_jk = w_above[j, k]
            for s in range(m):
                DT[j, s] += DT_above[k, s] * w_jk
            k += 1
        for s in range(m):
            DT[j, s] = fprime(code, Z[s, j], Y[s, j]) * DT[j, s]
            D[s, j] = DT[j, s]


@jit
def accumulate_gradient_row(D, Y_below, i, grad_w_i):
    """Row i of ``accumulate_gradient_batch``:  ∂E/∂w_ij += δ_sj y_si  for s = 1 … m, in
    sample order (four samples at a time, the parentheses keep the order)."""
    m, n_j = D.shape
    s = 0
    while s + 4 <= m:
        y0, y1, y2, y3 = Y_below[s, i], Y_below[s + 1, i], Y_below[s + 2, i], Y_below[s + 3, i]
        for j in range(n_j):
            grad_w_i[j] = (((grad_w_i[j] + D[s, j] * y0) + D[s + 1, j] * y1)
                           + D[s + 2, j] * y2) + D[s + 3, j] * y3
        s += 4
    while s < m:
        y_si = Y_below[s, i]
        for j in range(n_j):
            grad_w_i[j] += D[s, j] * y_si
        s += 1


@jit
def accumulate_bias_gradient(D, grad_b):
    """∂E/∂b_j += δ_sj  for s = 1 … m, in sample order."""
    m, n_j = D.shape
    for s in range(m):
        for j in range(n_j):
            grad_b[j] += D[s, j]


@jit
def accumulate_gradient_batch(D, Y_below, grad_w, grad_b):
    """``accumulate_gradient`` for m samples, added in sample order:
    ∂E/∂w_ij += δ_sj y_si,  ∂E/∂b_j += δ_sj  for s = 1 … m."""
    for i in range(grad_w.shape[0]):
        accumulate_gradient_row(D, Y_below, i, grad_w[i])
    accumulate_bias_gradient(D, grad_b)


@jit
def descend(theta, grad, velocity, sizes, w_off, eta, alpha, m, train_biases):
    """Step with the mean gradient of a batch, g = (1/m) Σ_x ∂E_x/∂θ (``grad`` holds the sum):
    without momentum Δθ = −η g; with momentum α: v ← α v − η g, θ ← θ + v.

    For m a power of two, 1/m is exact and grad·(1/m) is the same number as grad/m, found
    without a division (the slowest arithmetic here).
    """
    one_over_m, exact = 1.0 / m, m & (m - 1) == 0
    for l in range(sizes.shape[0] - 1):
        start = w_off[l]
        stop = start + sizes[l] * sizes[l + 1]
        if train_biases:
            stop += sizes[l + 1]
        for p in range(start, stop):
            g = grad[p] * one_over_m if exact else grad[p] / m
            if alpha == 0.0:
                theta[p] -= eta * g
            else:
                velocity[p] = alpha * velocity[p] - eta * g
                theta[p] += velocity[p]


@jit
def sample_error(y, t):
    """Error of one sample:  E = ½ Σ_k (t_k − y_k)²."""
    s = 0.0
    for k in range(y.shape[0]):
        s += (t[k] - y[k]) ** 2
    return 0.5 * s


# --- whole passes ------------------------------------------------------------------------


@jit
def neuron_buffer(sizes, n_off):
    """A flat buffer with one float64 per neuron of every layer (inputs included)."""
    return np.zeros(n_off[-1] + sizes[-1])


@jit
def forward(theta, sizes, acts, w_off, n_off, x, z, y):
    """Forward pass of one sample through every layer; fills z and y (y of layer 0 = x)."""
    y_in = neurons_of(y, sizes, n_off, 0)
    for i in range(x.shape[0]):
        y_in[i] = x[i]
    for l in range(sizes.shape[0] - 1):
        forward_layer(
            weights_of(theta, sizes, w_off, l),
            biases_of(theta, sizes, w_off, l),
            neurons_of(y, sizes, n_off, l),
            acts[l],
            neurons_of(z, sizes, n_off, l + 1),
            neurons_of(y, sizes, n_off, l + 1),
        )


@jit
def backpropagate(theta, sizes, acts, w_off, n_off, x, t, z, y, delta):
    """Forward pass, then the deltas of every layer, output layer first:
    δ_k = (y_k − t_k) f'(z_k) at the output, δ_j = f'(z_j) Σ_k δ_k w_jk below it.
    No weight changes here, so every hidden delta sees the weights before the update.
    """
    forward(theta, sizes, acts, w_off, n_off, x, z, y)
    backward(theta, sizes, acts, w_off, n_off, t, z, y, delta)


@jit
def backward(theta, sizes, acts, w_off, n_off, t, z, y, delta):
    """The deltas of every layer from a finished forward pass (z, y), output layer first:
    δ_k = (y_k − t_k) f'(z_k) at the output, δ_j = f'(z_j) Σ_k δ_k w_jk below it.
    """
    L = sizes.shape[0] - 1
    output_delta(
        neurons_of(z, sizes, n_off, L),
        neurons_of(y, sizes, n_off, L),
        t,
        acts[L - 1],
        neurons_of(delta, sizes, n_off, L),
    )
    for l in range(L - 1, 0, -1):
        hidden_delta(
            weights_of(theta, sizes, w_off, l),
            neurons_of(delta, sizes, n_off, l + 1),
            neurons_of(z, sizes, n_off, l),
            neurons_of(y, sizes, n_off, l),
            acts[l - 1],
            neurons_of(delta, sizes, n_off, l),
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


@jit
def batch_buffer(sizes, n_off, m):
    """A flat buffer with one float64 per neuron of every layer for each of m samples."""
    return np.zeros(m * (n_off[-1] + sizes[-1]))


@jit
def worth_threads(sizes, m):
    """Whether a forward pass of m samples (a multiply-add per weight each) is work enough
    to share out."""
    weights = 0
    for l in range(sizes.shape[0] - 1):
        weights += sizes[l] * sizes[l + 1]
    return m * weights >= PARALLEL_WORK


@jit
def gather(X, rows, Y_in):
    """Y_in[s] = X[rows[s]]: the inputs of a batch, as layer 0 of its buffer."""
    for s in range(rows.shape[0]):
        for i in range(X.shape[1]):
            Y_in[s, i] = X[rows[s], i]


@jit
def forward_batch(theta, sizes, acts, w_off, n_off, Z, Y, m):
    """``forward`` for m samples, one layer at a time; layer 0 of Y holds their inputs."""
    for l in range(sizes.shape[0] - 1):
        forward_layer_batch(
            weights_of(theta, sizes, w_off, l),
            biases_of(theta, sizes, w_off, l),
            samples_of(Y, sizes, n_off, l, m),
            acts[l],
            samples_of(Z, sizes, n_off, l + 1, m),
            samples_of(Y, sizes, n_off, l + 1, m),
        )


@jit
def backward_batch(theta, sizes, acts, w_off, n_off, T, rows, Z, Y, D, DT):
    """``backward`` for m samples with targets T[rows[s]]: δ of every layer, into D (row s
    for sample s) and DT (row j for neuron j)."""
    m = rows.shape[0]
    L = sizes.shape[0] - 1
    Z_out, Y_out = samples_of(Z, sizes, n_off, L, m), samples_of(Y, sizes, n_off, L, m)
    D_out, DT_out = samples_of(D, sizes, n_off, L, m), neurons_by_sample_of(DT, sizes, n_off, L, m)
    for s in range(m):
        output_delta(Z_out[s], Y_out[s], T[rows[s]], acts[L - 1], D_out[s])
        for k in range(sizes[L]):
            DT_out[k, s] = D_out[s, k]
    for l in range(L - 1, 0, -1):
        hidden_delta_batch(
            weights_of(theta, sizes, w_off, l),
            neurons_by_sample_of(DT, sizes, n_off, l + 1, m),
            samples_of(Z, sizes, n_off, l, m),
            samples_of(Y, sizes, n_off, l, m),
            acts[l - 1],
            samples_of(D, sizes, n_off, l, m),
            neurons_by_sample_of(DT, sizes, n_off, l, m),
        )


@jit
def block_errors(theta, sizes, acts, w_off, n_off, X, T, start, stop, Z, Y, E):
    """E[s] = E_x = ½ Σ_k (t_k − y_k)² for the samples s = start … stop − 1, one block."""
    m = stop - start
    gather(X, np.arange(start, stop), samples_of(Y, sizes, n_off, 0, m))
    forward_batch(theta, sizes, acts, w_off, n_off, Z, Y, m)
    Y_out = samples_of(Y, sizes, n_off, sizes.shape[0] - 1, m)
    for s in range(m):
        E[start + s] = sample_error(Y_out[s], T[start + s])


@jit_parallel
def sample_errors_on_threads(theta, sizes, acts, w_off, n_off, X, T, E):
    """``block_errors`` for every block of the data, the blocks shared out to the threads
    in tasks of TASK_BLOCKS blocks."""
    n_blocks = (X.shape[0] + BLOCK - 1) // BLOCK
    for task in prange((n_blocks + TASK_BLOCKS - 1) // TASK_BLOCKS):
        Z, Y = batch_buffer(sizes, n_off, BLOCK), batch_buffer(sizes, n_off, BLOCK)
        for c in range(task * TASK_BLOCKS, min(task * TASK_BLOCKS + TASK_BLOCKS, n_blocks)):
            start = c * BLOCK
            block_errors(theta, sizes, acts, w_off, n_off, X, T, start,
                         min(start + BLOCK, X.shape[0]), Z, Y, E)


@jit
def forward_all(theta, sizes, acts, w_off, n_off, X, out):
    """out[s] = network output y for input row X[s] (BLOCK samples at a time)."""
    Z, Y = batch_buffer(sizes, n_off, BLOCK), batch_buffer(sizes, n_off, BLOCK)
    L = sizes.shape[0] - 1
    for start in range(0, X.shape[0], BLOCK):
        m = min(BLOCK, X.shape[0] - start)
        gather(X, np.arange(start, start + m), samples_of(Y, sizes, n_off, 0, m))
        forward_batch(theta, sizes, acts, w_off, n_off, Z, Y, m)
        Y_out = samples_of(Y, sizes, n_off, L, m)
        for s in range(m):
            for k in range(sizes[L]):
                out[start + s, k] = Y_out[s, k]


@jit
def mean_error(theta, sizes, acts, w_off, n_off, X, T):
    """Training-set cost:  C = (1/n) Σ_x E_x,  E_x = ½ Σ_k (t_k − y_k)²."""
    E = np.empty(X.shape[0])
    Z, Y = batch_buffer(sizes, n_off, BLOCK), batch_buffer(sizes, n_off, BLOCK)
    return mean_error_with(theta, sizes, acts, w_off, n_off, X, T, E, Z, Y)


@jit
def mean_error_with(theta, sizes, acts, w_off, n_off, X, T, E, Z, Y):
    """``mean_error`` with its work space given: E (one float per sample), Z and Y (one block).

    The forward passes run a block of samples at a time (on all threads for a large data
    set); the E_x are then added in sample order.
    """
    n = X.shape[0]
    if n >= 2 * TASK_BLOCKS * BLOCK and worth_threads(sizes, n):
        sample_errors_on_threads(theta, sizes, acts, w_off, n_off, X, T, E)
    else:
        for start in range(0, n, BLOCK):
            block_errors(theta, sizes, acts, w_off, n_off, X, T, start, min(start + BLOCK, n),
                         Z, Y, E)
    total = 0.0
    for s in range(n):
        total += E[s]
    return total / n


@jit
def mean_gradient(theta, sizes, acts, w_off, n_off, X, T, grad):
    """grad = ∂C/∂θ = (1/n) Σ_x ∂E_x/∂θ, laid out like theta (∂E/∂w_ij = δ_j y_i, ∂E/∂b_j = δ_j)."""
    z = neuron_buffer(sizes, n_off)
    y = neuron_buffer(sizes, n_off)
    delta = neuron_buffer(sizes, n_off)
    grad[:] = 0.0
    for s in range(X.shape[0]):
        backpropagate(theta, sizes, acts, w_off, n_off, X[s], T[s], z, y, delta)
        for l in range(sizes.shape[0] - 1):
            accumulate_gradient(
                neurons_of(delta, sizes, n_off, l + 1),
                neurons_of(y, sizes, n_off, l),
                weights_of(grad, sizes, w_off, l),
                biases_of(grad, sizes, w_off, l),
            )
    for p in range(grad.shape[0]):
        grad[p] /= X.shape[0]


# --- training ----------------------------------------------------------------------------


@jit
def next_random(state):
    """SplitMix64: the next 64-bit pseudo-random integer from state[0] (advanced in place).

    Our own generator, so a shuffle depends only on the seed: not on thread count,
    Numba's global random state, or how epochs are split between compiled calls.
    """
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    r = state[0]
    r = (r ^ (r >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    r = (r ^ (r >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return r ^ (r >> np.uint64(31))


@jit
def shuffle(order, state):
    """Fisher–Yates shuffle of ``order`` in place."""
    for s in range(order.shape[0] - 1, 0, -1):
        r = np.int64(next_random(state) % np.uint64(s + 1))
        order[s], order[r] = order[r], order[s]


@jit
def online_steps(theta, sizes, acts, w_off, n_off, X, T, order, start, stop, eta, train_biases,
                 z, y, y_before, delta):
    """Online SGD on the samples ``order[start:stop]``: for each sample x, backpropagate,
    then Δw_ij = −η δ_j y_i, Δb_j = −η δ_j.

    A sample's step is postponed into the next sample's forward pass
    (``descend_forward_layer``), so each layer's w is swept once per sample for both; the
    last one is taken at ``stop``. The result is that of ``backpropagate`` then
    ``descend_layer`` per sample, bit for bit, wherever the range is split.
    ``y_before`` holds the previous sample's outputs y_i for its postponed step.
    """
    L = sizes.shape[0] - 1
    for s in range(start, stop):
        x, t = X[order[s]], T[order[s]]
        if s == start:
            forward(theta, sizes, acts, w_off, n_off, x, z, y)
        else:
            y_in = neurons_of(y, sizes, n_off, 0)
            for i in range(x.shape[0]):
                y_in[i] = x[i]
            for l in range(L):
                descend_forward_layer(
                    weights_of(theta, sizes, w_off, l),
                    biases_of(theta, sizes, w_off, l),
                    neurons_of(delta, sizes, n_off, l + 1),
                    neurons_of(y_before, sizes, n_off, l),
                    eta,
                    train_biases,
                    neurons_of(y, sizes, n_off, l),
                    acts[l],
                    neurons_of(z, sizes, n_off, l + 1),
                    neurons_of(y, sizes, n_off, l + 1),
                )
        backward(theta, sizes, acts, w_off, n_off, t, z, y, delta)
        y, y_before = y_before, y
    for l in range(L):  # the last sample's step
        descend_layer(
            weights_of(theta, sizes, w_off, l),
            biases_of(theta, sizes, w_off, l),
            neurons_of(delta, sizes, n_off, l + 1),
            neurons_of(y_before, sizes, n_off, l),
            eta,
            train_biases,
        )


@jit
def add_block_gradient(theta, sizes, acts, w_off, n_off, X, T, rows, grad, Z, Y, D, DT):
    """grad += Σ_s ∂E_s/∂θ over the samples X[rows] (at most BLOCK), in sample order."""
    m = rows.shape[0]
    gather(X, rows, samples_of(Y, sizes, n_off, 0, m))
    forward_batch(theta, sizes, acts, w_off, n_off, Z, Y, m)
    backward_batch(theta, sizes, acts, w_off, n_off, T, rows, Z, Y, D, DT)
    for l in range(sizes.shape[0] - 1):
        accumulate_gradient_batch(
            samples_of(D, sizes, n_off, l + 1, m),
            samples_of(Y, sizes, n_off, l, m),
            weights_of(grad, sizes, w_off, l),
            biases_of(grad, sizes, w_off, l),
        )


@jit
def all_finite(a):
    """True if no entry of a is NaN or ±Inf."""
    for p in range(a.shape[0]):
        if not math.isfinite(a[p]):
            return False
    return True


@jit
def train_batches(
    theta, sizes, acts, w_off, n_off, X, T, order, start, stop, eta, alpha, velocity,
    batch_size, train_biases, work,
):  # fmt: skip
    """SGD on the samples ``order[start:stop]``, batch by batch (start on a batch boundary).

    Online SGD (m = 1, no momentum): Δw_ij = −η δ_j y_i right after each sample
    (``online_steps``). Batches of m: the batch's gradient, BLOCK samples at a time in
    sample order (``add_block_gradient``), then a step with its mean (``descend``).
    """
    z, y, y_before, delta, grad, Z, Y, D, DT = work
    if batch_size == 1 and alpha == 0.0:
        online_steps(theta, sizes, acts, w_off, n_off, X, T, order, start, stop, eta,
                     train_biases, z, y, y_before, delta)
        return
    for first in range(start, stop, batch_size):
        last = min(first + batch_size, stop)
        grad[:] = 0.0
        for block in range(first, last, BLOCK):
            rows = order[block : min(block + BLOCK, last)]
            add_block_gradient(theta, sizes, acts, w_off, n_off, X, T, rows, grad, Z, Y, D, DT)
        descend(theta, grad, velocity, sizes, w_off, eta, alpha, last - first, train_biases)


@jit
def train_epochs(
    theta, sizes, acts, w_off, n_off, X, T, order, rng_state, do_shuffle, epochs, eta, alpha,
    velocity, batch_size, train_biases, target_error, error_scale, errors, theta_before, at,
    sums, budget,
):  # fmt: skip
    """Train until ``epochs`` epochs are done, or pause after about ``budget`` samples.

    An epoch: shuffle ``order`` (if asked), train on all n samples (``train_batches``),
    then measure C = (1/n) Σ_x E_x into ``errors[e]`` (the E_x BLOCK samples at a time,
    added in sample order as ``mean_error`` adds them). Either half may be split between
    calls: ``at`` and ``sums`` say where the epoch stands, and ``theta_before`` holds the
    weights from its start, so the caller can always go back to the last completed epoch.
    All state that carries over (order, rng_state, velocity, at, sums) lives in the
    caller's arrays, so pausing and resuming changes nothing.

    Returns why it stopped: all epochs ran; C ≤ target_error; or the epoch diverged —
    C not finite, C > EXPLOSION_FACTOR · max(best C so far, error_scale), or a weight not
    finite (a ReLU or a saturated sigmoid can hide an infinite weight) — in which case
    theta is restored to the weights from before that epoch and ``at`` still counts only
    the finite epochs; or PAUSED (budget used up, or ``errors`` full).
    """
    n = X.shape[0]
    work = (neuron_buffer(sizes, n_off), neuron_buffer(sizes, n_off),
            neuron_buffer(sizes, n_off), neuron_buffer(sizes, n_off), np.zeros_like(theta),
            batch_buffer(sizes, n_off, BLOCK), batch_buffer(sizes, n_off, BLOCK),
            batch_buffer(sizes, n_off, BLOCK), batch_buffer(sizes, n_off, BLOCK))
    Z, Y = work[5], work[6]
    E = np.empty(n)  # E_x of every sample, for the error pass
    while True:
        e = at[EPOCHS_DONE]
        if e == epochs:
            return RAN_ALL_EPOCHS
        if budget <= 0 or e == errors.shape[0]:
            return PAUSED
        if at[TRAINED] == 0 and at[MEASURED] == 0:  # a new epoch begins
            theta_before[:] = theta
            if do_shuffle:
                shuffle(order, rng_state)
        if at[TRAINED] < n:  # whole batches, at least one
            start = at[TRAINED]
            stop = min(n, start + -(-budget // batch_size) * batch_size)
            train_batches(theta, sizes, acts, w_off, n_off, X, T, order, start, stop, eta,
                          alpha, velocity, batch_size, train_biases, work)
            at[TRAINED] = stop
            budget -= stop - start
            continue
        start = at[MEASURED]  # C after the epoch, summed in sample order as mean_error does
        stop = min(n, start + budget)
        if start == 0 and stop == n and n >= 2 * TASK_BLOCKS * BLOCK and worth_threads(sizes, n):
            sample_errors_on_threads(theta, sizes, acts, w_off, n_off, X, T, E)  # as mean_error
        else:
            for block in range(start, stop, BLOCK):
                block_errors(theta, sizes, acts, w_off, n_off, X, T, block,
                             min(block + BLOCK, stop), Z, Y, E)
        for s in range(start, stop):
            sums[ERROR_SUM] += E[s]
        at[MEASURED] = stop
        budget -= stop - start
        if stop < n:
            continue
        error = sums[ERROR_SUM] / n
        errors[e] = error
        at[TRAINED] = 0
        at[MEASURED] = 0
        sums[ERROR_SUM] = 0.0
        limit = EXPLOSION_FACTOR * max(sums[BEST_ERROR], error_scale)
        if not (math.isfinite(error) and error <= limit and all_finite(theta)):
            theta[:] = theta_before
            return DIVERGED
        at[EPOCHS_DONE] = e + 1
        sums[BEST_ERROR] = min(sums[BEST_ERROR], error)
        if error <= target_error:
            return REACHED_TARGET
