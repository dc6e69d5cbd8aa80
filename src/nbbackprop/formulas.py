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

from ._jit import jit
from .activations import f, fprime
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
        y[j] = f(code, z[j])


@jit
def sample_error(y, t):
    """Error of one sample:  E = ½ Σ_k (t_k − y_k)²."""
    s = 0.0
    for k in range(y.shape[0]):
        s += (t[k] - y[k]) ** 2
    return 0.5 * s


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
def descend(theta, grad, velocity, layout, eta, alpha, m, train_biases):
    """Step with the mean gradient of a batch, g = (1/m) Σ_x ∂E_x/∂θ (``grad`` holds the sum):
    without momentum Δθ = −η g; with momentum α: v ← α v − η g, θ ← θ + v.

    For m a power of two, 1/m is exact and grad·(1/m) is the same number as grad/m, found
    without a division (the slowest arithmetic here).
    """
    one_over_m, exact = 1.0 / m, m & (m - 1) == 0
    for l in range(n_layers(layout)):
        start = layout.w_off[l]
        stop = start + layout.sizes[l] * layout.sizes[l + 1]
        if train_biases:
            stop += layout.sizes[l + 1]
        for p in range(start, stop):
            g = grad[p] * one_over_m if exact else grad[p] / m
            if alpha == 0.0:
                theta[p] -= eta * g
            else:
                velocity[p] = alpha * velocity[p] - eta * g
                theta[p] += velocity[p]


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
    δ_k = (y_k − t_k) f'(z_k) at the output, δ_j = f'(z_j) Σ_k δ_k w_jk below it.
    No weight changes here, so every hidden delta sees the weights before the update.
    """
    L = n_layers(layout)
    output_delta(neurons_of(z, layout, L), neurons_of(y, layout, L), t, layout.acts[L - 1],
                 neurons_of(delta, layout, L))
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
    """Training-set cost:  C = (1/n) Σ_x E_x,  E_x = ½ Σ_k (t_k − y_k)²."""
    z, y = neuron_buffer(layout), neuron_buffer(layout)
    total = 0.0
    for s in range(X.shape[0]):
        forward(theta, layout, X[s], z, y)
        total += sample_error(neurons_of(y, layout, n_layers(layout)), T[s])
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
