"""Activation functions f and their derivatives f', side by side, by integer code; the
softmax of an output layer; the losses.

Compiled code selects an activation with a small integer (an ``if`` chain in an
inlined scalar function) rather than a first-class function argument: one compiled
specialisation serves every network, so the on-disk cache is hit by every process.

``f'`` is written in terms of ``z`` *and* ``y = f(z)`` because that is how the texts
state it (sigmoid ``f(1 − f)``, tanh ``1 − f²``) and it saves recomputing ``f``.
"""

import math

from ._jit import jit

#: The element-wise activations, which any layer may have, in code order.
ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
#: What an output layer may have: those, and softmax (which acts on the layer as a whole).
OUTPUT_ACTIVATIONS = (*ACTIVATIONS, "softmax")
OUTPUT_ONLY = ("softmax",)
SIGMOID, TANH, RELU, LINEAR, SOFTMAX = range(len(OUTPUT_ACTIVATIONS))
CODES = {name: code for code, name in enumerate(OUTPUT_ACTIVATIONS)}

#: Loss names in code order: E of one sample is ½ Σ_k (t_k − y_k)² for "squared", the
#: cross-entropy −Σ_k t_k ln y_k (softmax) or −Σ_k [t_k ln y_k + (1 − t_k) ln(1 − y_k)]
#: (sigmoid) for "cross_entropy".
LOSSES = ("squared", "cross_entropy")
SQUARED, CROSS_ENTROPY = range(len(LOSSES))
LOSS_CODES = {name: code for code, name in enumerate(LOSSES)}
#: The output activations cross-entropy is defined for.
CROSS_ENTROPY_OUTPUTS = ("softmax", "sigmoid")


@jit(inline="always")
def f(code, z):
    """y = f(z): sigmoid 1/(1+e^(−z)), tanh, ReLU max(0, z), or linear z."""
    if code == SIGMOID:
        return 1.0 / (1.0 + math.exp(-z))
    if code == TANH:
        return math.tanh(z)
    if code == RELU:
        return 0.0 if z <= 0.0 else z  # so a NaN stays NaN (z > 0 would turn it into 0)
    return z


@jit(inline="always")
def activate(code, z, y):
    """y = f(z) for a whole layer: y_j = f(z_j), or for softmax
    y_k = exp(z_k) / Σ_m exp(z_m), computed as exp(z_k − max z) / Σ_m exp(z_m − max z) so
    that no exp overflows (the same numbers, as exp(a − c)/Σ exp(b − c) = exp(a)/Σ exp(b))."""
    if code == SOFTMAX:
        top = z[0]
        for m in range(1, z.shape[0]):
            top = max(top, z[m])
        total = 0.0
        for m in range(z.shape[0]):
            y[m] = math.exp(z[m] - top)
            total += y[m]
        for k in range(z.shape[0]):
            y[k] /= total
    else:
        for j in range(z.shape[0]):
            y[j] = f(code, z[j])


@jit(inline="always")
def fprime(code, z, y):
    """f'(z) given y = f(z): sigmoid y(1 − y), tanh 1 − y², ReLU 1 if z > 0 else 0, linear 1."""
    if code == SIGMOID:
        return y * (1.0 - y)
    if code == TANH:
        return 1.0 - y * y
    if code == RELU:
        return 1.0 if z > 0.0 else 0.0
    return 1.0
