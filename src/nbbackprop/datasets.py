"""Small built-in problems."""

import numpy as np


def xor():
    """The XOR problem: inputs X of shape (4, 2) and targets T of shape (4, 1), float64."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    T = np.array([[0.0], [1.0], [1.0], [0.0]])
    return X, T
