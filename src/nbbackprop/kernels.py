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
buffers too, layer ``l``'s neurons starting at ``n_off[l]`` (layer 0 holds the inputs).
"""

import math

import numpy as np

from ._jit import jit
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
    *before* this step's update.
    """
    n_j, n_k = w_above.shape
    for j in range(n_j):
        s = 0.0
        for k in range(n_k):
            s += delta_above[k] * w_above[j, k]
        delta[j] = fprime(code, z[j], y[j]) * s


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
def descend(theta, grad, velocity, sizes, w_off, eta, alpha, m, train_biases):
    """Step with the mean gradient of a batch, g = (1/m) Σ_x ∂E_x/∂θ (``grad`` holds the sum):
    without momentum Δθ = −η g; with momentum α: v ← α v − η g, θ ← θ + v.
    """
    for l in range(sizes.shape[0] - 1):
        start = w_off[l]
        stop = start + sizes[l] * sizes[l + 1]
        if train_biases:
            stop += sizes[l + 1]
        for p in range(start, stop):
            g = grad[p] / m
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


@jit
def forward_all(theta, sizes, acts, w_off, n_off, X, out):
    """out[s] = network output y for input row X[s]."""
    z = neuron_buffer(sizes, n_off)
    y = neuron_buffer(sizes, n_off)
    L = sizes.shape[0] - 1
    for s in range(X.shape[0]):
        forward(theta, sizes, acts, w_off, n_off, X[s], z, y)
        out[s, :] = neurons_of(y, sizes, n_off, L)


@jit
def mean_error(theta, sizes, acts, w_off, n_off, X, T):
    """Training-set cost:  C = (1/n) Σ_x E_x,  E_x = ½ Σ_k (t_k − y_k)²."""
    z = neuron_buffer(sizes, n_off)
    y = neuron_buffer(sizes, n_off)
    L = sizes.shape[0] - 1
    total = 0.0
    for s in range(X.shape[0]):
        forward(theta, sizes, acts, w_off, n_off, X[s], z, y)
        total += sample_error(neurons_of(y, sizes, n_off, L), T[s])
    return total / X.shape[0]


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
def all_finite(a):
    """True if no entry of a is NaN or ±Inf."""
    for p in range(a.shape[0]):
        if not math.isfinite(a[p]):
            return False
    return True


@jit
def train_batches(
    theta, sizes, acts, w_off, n_off, X, T, order, start, stop, eta, alpha, velocity,
    batch_size, train_biases, z, y, delta, grad,
):  # fmt: skip
    """SGD on the samples ``order[start:stop]``, batch by batch (start on a batch boundary).

    Per batch of m samples: backpropagate each sample, then step with the mean gradient.
    Online SGD (m = 1, no momentum) applies Δw_ij = −η δ_j y_i right after each sample.
    """
    L = sizes.shape[0] - 1
    online = batch_size == 1 and alpha == 0.0
    for first in range(start, stop, batch_size):
        last = min(first + batch_size, stop)
        if not online:
            grad[:] = 0.0
        for s in range(first, last):
            x, t = X[order[s]], T[order[s]]
            backpropagate(theta, sizes, acts, w_off, n_off, x, t, z, y, delta)
            for l in range(L):
                if online:
                    descend_layer(
                        weights_of(theta, sizes, w_off, l),
                        biases_of(theta, sizes, w_off, l),
                        neurons_of(delta, sizes, n_off, l + 1),
                        neurons_of(y, sizes, n_off, l),
                        eta,
                        train_biases,
                    )
                else:
                    accumulate_gradient(
                        neurons_of(delta, sizes, n_off, l + 1),
                        neurons_of(y, sizes, n_off, l),
                        weights_of(grad, sizes, w_off, l),
                        biases_of(grad, sizes, w_off, l),
                    )
        if not online:
            descend(theta, grad, velocity, sizes, w_off, eta, alpha, last - first, train_biases)


@jit
def train_epochs(
    theta, sizes, acts, w_off, n_off, X, T, order, rng_state, do_shuffle, epochs, eta, alpha,
    velocity, batch_size, train_biases, target_error, error_scale, errors, theta_before, at,
    sums, budget,
):  # fmt: skip
    """Train until ``epochs`` epochs are done, or pause after about ``budget`` samples.

    An epoch: shuffle ``order`` (if asked), train on all n samples (``train_batches``),
    then measure C = (1/n) Σ_x E_x sample by sample into ``errors[e]``. Either half may be
    split between calls: ``at`` and ``sums`` say where the epoch stands, and
    ``theta_before`` holds the weights from its start, so the caller can always go back
    to the last completed epoch. All state that carries over (order, rng_state, velocity,
    at, sums) lives in the caller's arrays, so pausing and resuming changes nothing.

    Returns why it stopped: all epochs ran; C ≤ target_error; or the epoch diverged —
    C not finite, C > EXPLOSION_FACTOR · max(best C so far, error_scale), or a weight not
    finite (a ReLU or a saturated sigmoid can hide an infinite weight) — in which case
    theta is restored to the weights from before that epoch and ``at`` still counts only
    the finite epochs; or PAUSED (budget used up, or ``errors`` full).
    """
    L = sizes.shape[0] - 1
    n = X.shape[0]
    z = neuron_buffer(sizes, n_off)
    y = neuron_buffer(sizes, n_off)
    delta = neuron_buffer(sizes, n_off)
    grad = np.zeros_like(theta)
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
                          alpha, velocity, batch_size, train_biases, z, y, delta, grad)
            at[TRAINED] = stop
            budget -= stop - start
            continue
        start = at[MEASURED]  # C after the epoch, summed in sample order as mean_error does
        stop = min(n, start + budget)
        for s in range(start, stop):
            forward(theta, sizes, acts, w_off, n_off, X[s], z, y)
            sums[ERROR_SUM] += sample_error(neurons_of(y, sizes, n_off, L), T[s])
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
