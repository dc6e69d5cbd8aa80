"""The reference kernels: one plain loop per formula of backpropagation, named as in the text.

This is the file to read next to the derivation. Layer ``l`` maps the outputs ``y_i`` of
the layer below to ``z_j = Σ_i w_ij y_i + b_j`` and ``y_j = f(z_j)``; ``k`` indexes the
layer above. The text counts neurons from 1, the arrays from 0: ``w[i, j]`` here is the
text's ``w_(i+1)(j+1)``.

Sign convention: ``δ = ∂E/∂z``, so the output delta is ``(y_k − t_k) f'(z_k)`` and the
update is ``Δw_ij = −η δ_j y_i``. The study note writes ``δ_k = (t_k − y_k) f'(z_k)`` and
``Δw_ij = +η δ_j y_i``: the same step with δ negated (``Network.trace`` shows either).

Training runs reorderings of these loops (``fast.py``) that give the same bits; where the
buffers live is ``layout.py``'s business.
"""

import math

from ._jit import jit
from .activations import CROSS_ENTROPY, SOFTMAX, activate, fprime
from .layout import biases_of, n_layers, neuron_buffer, neurons_of, weights_of

# --- one kernel per formula ----------------------------------------------------------------


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
        y_i = y_below[i]  # held in a register: z and y_below could alias, as LLVM sees it
        for j in range(n_j):
            z[j] += w[i, j] * y_i
    for j in range(n_j):
        z[j] += b[j]
    activate(code, z, y)


@jit
def sample_error(y, t):
    """Error of one sample:  E = ½ Σ_k (t_k − y_k)²."""
    s = 0.0
    for k in range(y.shape[0]):
        s += (t[k] - y[k]) ** 2
    return 0.5 * s


@jit(inline="always")
def softplus(x):
    """ln(1 + e^x) = max(x, 0) + ln(1 + e^(−|x|)), finite for every finite x."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


@jit
def softmax_cross_entropy(z, t):
    """Cross-entropy of a softmax output:  E = −Σ_k t_k ln y_k = Σ_k t_k (ln Σ_m e^(z_m) − z_k),
    from z (log-sum-exp, with the largest z_m taken out first) so that it stays finite when
    the output saturates."""
    top = z[0]
    for m in range(1, z.shape[0]):
        top = max(top, z[m])
    total = 0.0
    for m in range(z.shape[0]):
        total += math.exp(z[m] - top)
    lse = top + math.log(total)
    e = 0.0
    for k in range(z.shape[0]):
        e += t[k] * (lse - z[k])
    return e


@jit
def sigmoid_cross_entropy(z, t):
    """Cross-entropy of sigmoid outputs:  E = −Σ_k [t_k ln y_k + (1 − t_k) ln(1 − y_k)]
    = Σ_k [t_k softplus(−z_k) + (1 − t_k) softplus(z_k)], from z (−ln σ(z) = softplus(−z))
    so that it stays finite when outputs saturate."""
    e = 0.0
    for k in range(z.shape[0]):
        e += t[k] * softplus(-z[k]) + (1.0 - t[k]) * softplus(z[k])
    return e


@jit(inline="always")  # a call per sample: as a function of its own it cost XOR 7 %
def loss_error(z, y, t, code, loss):
    """E of one sample for the network's loss and output activation ``code``."""
    if loss == CROSS_ENTROPY:
        if code == SOFTMAX:
            return softmax_cross_entropy(z, t)
        return sigmoid_cross_entropy(z, t)
    return sample_error(y, t)


@jit
def output_delta(z, y, t, code, delta):
    """Output delta for E = ½ Σ_k (t_k − y_k)²:  δ_k = ∂E/∂z_k = (y_k − t_k) f'(z_k)."""
    for k in range(y.shape[0]):
        delta[k] = (y[k] - t[k]) * fprime(code, z[k], y[k])


@jit
def cross_entropy_delta(y, t, delta):
    """Output delta for cross-entropy with a softmax (Σ_k t_k = 1) or sigmoid output:
    δ_k = ∂E/∂z_k = y_k − t_k (docs/formulas.md derives it)."""
    for k in range(y.shape[0]):
        delta[k] = y[k] - t[k]


@jit
def softmax_squared_delta(y, t, delta):
    """Output delta for E = ½ Σ_k (t_k − y_k)² with a softmax output, through the softmax
    Jacobian ∂y_m/∂z_k = y_m (1[m = k] − y_k):  δ_k = y_k [(y_k − t_k) − Σ_m (y_m − t_m) y_m]."""
    s = 0.0
    for m in range(y.shape[0]):
        s += (y[m] - t[m]) * y[m]
    for k in range(y.shape[0]):
        delta[k] = y[k] * ((y[k] - t[k]) - s)


@jit(inline="always")  # likewise
def loss_delta(z, y, t, code, loss, delta):
    """δ_k = ∂E/∂z_k of the output layer, for the network's loss and output activation."""
    if loss == CROSS_ENTROPY:
        cross_entropy_delta(y, t, delta)
    elif code == SOFTMAX:
        softmax_squared_delta(y, t, delta)
    else:
        output_delta(z, y, t, code, delta)


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
def descend_layer(w, b, delta, y_below, eta, train_biases, weight_decay):
    """Online update of one layer:  Δw_ij = −η (δ_j y_i + λ w_ij),  Δb_j = −η δ_j;
    with weight decay λ = 0 it is the text's Δw_ij = −η δ_j y_i.

    Computes ``η (δ_j y_i + λ w_ij)`` in that order, so it equals ``w − η·(gradient + λw)``
    bit for bit (and, for finite w, adding 0·w changes no bit).
    """
    n_i, n_j = w.shape
    for i in range(n_i):
        y_i = y_below[i]
        for j in range(n_j):
            w[i, j] -= eta * (delta[j] * y_i + weight_decay * w[i, j])
    if train_biases:
        for j in range(n_j):
            b[j] -= eta * delta[j]


@jit(inline="always")
def step(theta, velocity, p, g, eta, alpha):
    """θ_p ← θ_p − η g without momentum; with momentum α: v_p ← α v_p − η g, θ_p ← θ_p + v_p."""
    if alpha == 0.0:
        theta[p] -= eta * g
    else:
        velocity[p] = alpha * velocity[p] - eta * g
        theta[p] += velocity[p]


@jit
def descend(theta, grad, velocity, layout, eta, alpha, m, train_biases, weight_decay):
    """Step with the mean gradient of a batch, g = (1/m) Σ_x ∂E_x/∂θ (``grad`` holds the sum),
    plus λ w_ij for the weights (weight decay; not for the biases): without momentum
    Δθ = −η g; with momentum α: v ← α v − η g, θ ← θ + v (``step``).

    For m a power of two, 1/m is exact and grad·(1/m) is the same number as grad/m, found
    without a division (the slowest arithmetic here).
    """
    one_over_m, exact = 1.0 / m, m & (m - 1) == 0
    for l in range(n_layers(layout)):
        start = layout.w_off[l]
        weights_end = start + layout.sizes[l] * layout.sizes[l + 1]
        for p in range(start, weights_end):
            g = grad[p] * one_over_m if exact else grad[p] / m
            step(theta, velocity, p, g + weight_decay * theta[p], eta, alpha)
        if train_biases:
            for p in range(weights_end, weights_end + layout.sizes[l + 1]):
                step(theta, velocity, p, grad[p] * one_over_m if exact else grad[p] / m, eta,
                     alpha)


# --- whole passes, one sample at a time ----------------------------------------------------


@jit
def forward(theta, layout, x, z, y):
    """Forward pass of one sample through every layer; fills z and y (y of layer 0 = x)."""
    y_in = neurons_of(y, layout, 0)
    for i in range(x.shape[0]):
        y_in[i] = x[i]
    for l in range(n_layers(layout)):
        forward_layer(weights_of(theta, layout, l), biases_of(theta, layout, l),
                      neurons_of(y, layout, l), layout.acts[l],
                      neurons_of(z, layout, l + 1), neurons_of(y, layout, l + 1))


@jit
def backward(theta, layout, t, z, y, delta):
    """The deltas of every layer from a finished forward pass (z, y), output layer first:
    δ_k = ∂E/∂z_k at the output (``loss_delta``; (y_k − t_k) f'(z_k) for the squared
    error), δ_j = f'(z_j) Σ_k δ_k w_jk below it.
    No weight changes here, so every hidden delta sees the weights before the update.
    """
    L = n_layers(layout)
    loss_delta(neurons_of(z, layout, L), neurons_of(y, layout, L), t, layout.acts[L - 1],
               layout.loss, neurons_of(delta, layout, L))
    for l in range(L - 1, 0, -1):
        hidden_delta(weights_of(theta, layout, l), neurons_of(delta, layout, l + 1),
                     neurons_of(z, layout, l), neurons_of(y, layout, l), layout.acts[l - 1],
                     neurons_of(delta, layout, l))


@jit
def backpropagate(theta, layout, x, t, z, y, delta):
    """``forward``, then ``backward``: every z, y and δ of one sample."""
    forward(theta, layout, x, z, y)
    backward(theta, layout, t, z, y, delta)


@jit
def mean_error(theta, layout, X, T):
    """Training-set cost:  C = (1/n) Σ_x E_x  (E_x by ``loss_error``)."""
    z, y = neuron_buffer(layout), neuron_buffer(layout)
    L = n_layers(layout)
    total = 0.0
    for s in range(X.shape[0]):
        forward(theta, layout, X[s], z, y)
        total += loss_error(neurons_of(z, layout, L), neurons_of(y, layout, L), T[s],
                            layout.acts[L - 1], layout.loss)
    return total / X.shape[0]


@jit
def mean_gradient(theta, layout, X, T, grad):
    """grad = ∂C/∂θ = (1/n) Σ_x ∂E_x/∂θ, laid out like theta (∂E/∂w_ij = δ_j y_i, ∂E/∂b_j = δ_j)."""
    z, y, delta = neuron_buffer(layout), neuron_buffer(layout), neuron_buffer(layout)
    grad[:] = 0.0
    for s in range(X.shape[0]):
        backpropagate(theta, layout, X[s], T[s], z, y, delta)
        for l in range(n_layers(layout)):
            accumulate_gradient(neurons_of(delta, layout, l + 1), neurons_of(y, layout, l),
                                weights_of(grad, layout, l), biases_of(grad, layout, l))
    for p in range(grad.shape[0]):
        grad[p] /= X.shape[0]
