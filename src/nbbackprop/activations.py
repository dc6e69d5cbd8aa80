"""Activation functions f and their derivatives f', side by side, by integer code.

Compiled code selects an activation with a small integer (an ``if`` chain in an
inlined scalar function) rather than a first-class function argument: one compiled
specialisation serves every network, so the on-disk cache is hit by every process.

``f'`` is written in terms of ``z`` *and* ``y = f(z)`` because that is how the texts
state it (sigmoid ``f(1 − f)``, tanh ``1 − f²``) and it saves recomputing ``f``.
"""

import math

from ._jit import jit

#: Activation names in code order: ``ACTIVATIONS[code]`` is the name of ``code``.
ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear")
SIGMOID, TANH, RELU, LINEAR = range(len(ACTIVATIONS))
CODES = {name: code for code, name in enumerate(ACTIVATIONS)}


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
def fprime(code, z, y):
    """f'(z) given y = f(z): sigmoid y(1 − y), tanh 1 − y², ReLU 1 if z > 0 else 0, linear 1."""
    if code == SIGMOID:
        return y * (1.0 - y)
    if code == TANH:
        return 1.0 - y * y
    if code == RELU:
        return 1.0 if z > 0.0 else 0.0
    return 1.0
