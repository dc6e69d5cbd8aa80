"""Small built-in problems, and class labels as one-hot rows."""

import numpy as np

from . import _validate as check


def one_hot(labels, n_classes=None):
    """Integer class labels (shape (n,)) as one-hot rows: a float64 array of shape
    (n, n_classes) with a 1 in column ``labels[s]`` of row s; ``n_classes`` defaults to the
    largest label + 1. What ``fit`` and ``error`` do with 1-D integer targets."""
    return check.one_hot(labels, n_classes)


def xor():
    """The XOR problem: inputs X of shape (4, 2) and targets T of shape (4, 1), float64."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    T = np.array([[0.0], [1.0], [1.0], [0.0]])
    return X, T
