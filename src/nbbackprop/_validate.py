"""Every check made at the boundary, before compiled code sees the data (and the one made
on the way out, ``finite_result``).

One message style: ``"<argument> must be <what was expected>, got <what was given>"``.
Type problems raise ``InvalidType`` (a TypeError), value problems ``InvalidValue`` (a
ValueError).

Each public entry point declares its scalar parameters once, as a table of constraints
(``Network.fit``'s is ``network.FIT_PARAMETERS``), and checks them with ``arguments``; the
array checks (``inputs``, ``targets``, ``parameters``, …) are functions here too.
"""

import numbers
import operator
from collections.abc import Sequence

import numpy as np

from .activations import (
    ACTIVATIONS,
    CODES,
    CROSS_ENTROPY_OUTPUTS,
    LOSSES,
    OUTPUT_ONLY,
)
from .exceptions import InvalidType, InvalidValue, NonFiniteResult
from .training import all_finite


def shown(value):
    """A short, unambiguous rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def integer(value, name, *, minimum=None, maximum=None):
    """A Python int from an int-like value (not bool, not float), within [minimum, maximum]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidType(f"{name} must be an integer, got {shown(value)}")
    value = operator.index(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = "" if minimum is None else f"≥ {minimum}"
        high = "" if maximum is None else f"≤ {maximum}"
        raise InvalidValue(f"{name} must be an integer {' and '.join(filter(None, (low, high)))}, "
                           f"got {shown(value)}")
    return value


def real(value, name, *, expected, ok):
    """A finite Python float from a real number, for which ok(value) holds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidType(f"{name} must be {expected}, got {shown(value)}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float64, such as 10**400
        raise InvalidValue(f"{name} must be {expected}, got {shown(value)}") from None
    if not (np.isfinite(value) and ok(value)):
        raise InvalidValue(f"{name} must be {expected}, got {value!r}")
    return value


# --- declared constraints --------------------------------------------------------------
# A constraint is called as constraint(value, name, limits) and returns the checked value;
# ``limits`` holds the bounds that depend on the call (e.g. n, the number of samples).


class Integer:
    """An int (not bool, not float) in [minimum, maximum]; a bound may name a limit."""

    def __init__(self, minimum=None, maximum=None):
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, value, name, limits):
        bound = lambda b: limits[b] if isinstance(b, str) else b  # noqa: E731
        return integer(value, name, minimum=bound(self.minimum), maximum=bound(self.maximum))


class Real:
    """A finite float for which ok(value) holds, described as ``expected``."""

    def __init__(self, expected, ok=lambda v: True):
        self.expected, self.ok = expected, ok

    def __call__(self, value, name, limits):
        return real(value, name, expected=self.expected, ok=self.ok)


class Choice:
    """One of a few names."""

    def __init__(self, *options):
        self.options = options

    def __call__(self, value, name, limits):
        return choice(value, name, self.options)


class Optional:
    """None, or what ``constraint`` accepts."""

    def __init__(self, constraint):
        self.constraint = constraint

    def __call__(self, value, name, limits):
        return None if value is None else self.constraint(value, name, limits)


def Flag():  # noqa: N802 - read as a constraint, like the classes above
    return lambda value, name, limits: flag(value, name)


def Seed():  # noqa: N802
    return lambda value, name, limits: seed(value, name)


class Function:
    """Something callable, described as ``expected``."""

    def __init__(self, expected):
        self.expected = expected

    def __call__(self, value, name, limits):
        if not callable(value):
            raise InvalidType(f"{name} must be {self.expected}, got {shown(value)}")
        return value


# The learning rate η, wherever a step is taken (fit, trace).
ETA = Real("a positive finite float", lambda v: v > 0)


class LearningRate:
    """η: a positive finite float, or a schedule (a callable epoch -> η, checked when called)."""

    def __call__(self, value, name, limits):
        if callable(value):
            return value
        return real(value, name, expected="a positive finite float or a schedule "
                    "(a callable epoch -> η)", ok=lambda v: v > 0)


def arguments(constraints, limits=None, **values):
    """The values checked against their declared constraints, returned in the order given."""
    return tuple(constraints[name](value, name, limits or {}) for name, value in values.items())


# --- single values -----------------------------------------------------------------------


def flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidType(f"{name} must be True or False, got {shown(value)}")
    return bool(value)


def seed(value, name="seed"):
    """None (fresh entropy) or a non-negative integer."""
    return None if value is None else integer(value, name, minimum=0)


def sizes(value):
    """Layer sizes: at least two positive integers (inputs, ..., outputs)."""
    if isinstance(value, (str, bytes)) or _length(value) is None:
        raise InvalidType(f"sizes must be a sequence of layer sizes such as [2, 3, 1], "
                          f"got {shown(value)}")
    if len(value) < 2:
        raise InvalidValue(f"sizes must list at least an input and an output size, "
                           f"got {list(value)}")
    return tuple(integer(n, f"sizes[{l}]", minimum=1) for l, n in enumerate(value))


def activation_name(value, name):
    """One of OUTPUT_ACTIVATIONS (whether a hidden layer may have it is checked after)."""
    names = f"{', '.join(ACTIVATIONS)} (or {', '.join(OUTPUT_ONLY)} for the output layer)"
    if not isinstance(value, str):
        raise InvalidType(f"{name} must be one of {names}, got {shown(value)}")
    if value not in CODES:
        raise InvalidValue(f"{name} must be one of {names}, got {value!r}")
    return value


def activations(activation, output_activation, n_layers, name="activation"):
    """One activation name per layer of weights, from one name or a sequence of names."""
    if isinstance(activation, str):
        names = [activation_name(activation, name)] * n_layers
    else:
        if _length(activation) is None:
            raise InvalidType(f"{name} must be a name or a sequence of {n_layers} names, "
                              f"got {shown(activation)}")
        if len(activation) != n_layers:
            raise InvalidValue(f"{name} must name one activation per layer of weights "
                               f"({n_layers}), got {len(activation)}: {shown(activation)}")
        names = [activation_name(a, f"{name}[{l}]") for l, a in enumerate(activation)]
    if output_activation is not None:
        names[-1] = activation_name(output_activation, "output_activation")
    for l, a in enumerate(names[:-1]):
        if a in OUTPUT_ONLY:
            where = name if isinstance(activation, str) else f"{name}[{l}]"
            raise InvalidValue(f"{where} must not be {a!r} for hidden layer {l}: {a} acts on a "
                               "whole layer and is for the output layer only (give it as "
                               "output_activation)")
    return tuple(names)


def softmax_width(names, layer_sizes, name="activation"):
    """A softmax output needs two neurons or more: with one, y = 1 whatever the input."""
    if names[-1] == "softmax" and layer_sizes[-1] < 2:
        raise InvalidValue(f"{name} 'softmax' needs an output layer of at least 2 neurons "
                           f"(with one, y = 1 for every input), got {layer_sizes[-1]}; for one "
                           "output use sigmoid")


def loss(value, output):
    """A loss name that fits the output activation ``output``."""
    value = choice(value, "loss", LOSSES)
    if value == "cross_entropy" and output not in CROSS_ENTROPY_OUTPUTS:
        raise InvalidValue(f"loss='cross_entropy' needs a softmax or sigmoid output layer "
                           f"(output_activation='softmax' or 'sigmoid'), got {output!r}")
    return value


def float_array(value, name):
    """A C-contiguous float64 copy-or-view of a real-valued array (ints and floats only)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:  # ragged nested lists, unconvertible objects
        raise InvalidValue(f"{name} must be a rectangular array of numbers, got {shown(value)} "
                           f"({err})") from None
    if array.dtype.kind not in "iuf":
        raise InvalidType(f"{name} must hold real numbers (integer or float dtype), "
                          f"got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float64)


def finite(array, name):
    """Raise naming the first NaN or infinite entry of array (a float64 array)."""
    if all_finite(np.ravel(array)):  # a read-only scan: no boolean array as large as X
        return array
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        index = where[0] if len(where) == 1 else where
        raise InvalidValue(f"{name} must be finite, got {array[where]} at index {index}")
    return array


def finite_result(value, what, *, net, **arrays):
    """The one check on the way out: value (a result computed from ``net`` and the named
    arrays) if it is finite, else NonFiniteResult naming the arguments.

    The arguments and weights were checked finite on the way in, so a NaN or Inf here means
    float64 overflowed on the way (e.g. |x| ~ 1e300 through a linear layer).
    """
    if np.isfinite(value).all():
        return value
    bad = value if np.ndim(value) == 0 else value[~np.isfinite(value)].flat[0]
    sizes = ", ".join(f"largest |{name}| = {np.abs(a).max():.3g}" for name, a in arrays.items())
    names = " and ".join(arrays)
    raise NonFiniteResult(
        f"{what} is not finite ({bad}) although {names} and the weights are: float64 "
        f"overflowed ({sizes}, largest |weight or bias| = {np.abs(net.parameters).max():.3g}); "
        f"scale {names} down")


def inputs(X, n_in, name="X"):
    """X as a (n, n_in) float64 array, and whether a single sample of shape (n_in,) was given."""
    X = float_array(X, name)
    single = X.ndim == 1
    if single:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != n_in:
        raise InvalidValue(f"{name} must have shape ({n_in},) or (n, {n_in}), "
                           f"got shape {X.shape if not single else X.shape[1:]}")
    if X.shape[0] == 0:
        raise InvalidValue(f"{name} must hold at least one sample, got shape {X.shape}")
    return finite(X, name), single


def targets(T, n, n_out, single, name="T", *, loss="squared", output=None):
    """T as a (n, n_out) float64 array; a 1-D T is accepted for a single output, and for
    several outputs as integer class labels (their one-hot rows). For cross-entropy every
    t_k lies in [0, 1]; for a softmax output every row sums to 1 (within rounding)."""
    if n_out > 1 and not single and _shape(T, name) == (n,):
        T = one_hot(T, n_out, name)
    T = _target_shape(float_array(T, name), n, n_out, single, name)
    finite(T, name)
    if loss == "cross_entropy":
        bad = np.flatnonzero(((T < 0) | (T > 1)).any(axis=1))
        if bad.size:
            s = int(bad[0])
            raise InvalidValue(f"{name} must hold values in [0, 1] for loss='cross_entropy', "
                               f"got row {s}: {shown(T[s].tolist())}")
    if output == "softmax":
        sums = T.sum(axis=1)
        bad = np.flatnonzero(np.abs(sums - 1.0) > n_out * np.finfo(np.float64).eps)
        if bad.size:
            s = int(bad[0])
            raise InvalidValue(f"{name} must have rows that sum to 1 for a softmax output "
                               f"(class probabilities, or one-hot rows), got row {s} summing "
                               f"to {sums[s]!r}")
    return T


def _array_or_refuse(value, name):
    """np.asarray(value), or InvalidValue naming it when it is not rectangular."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as err:
        raise InvalidValue(f"{name} must be a rectangular array of numbers, got "
                           f"{shown(value)} ({err})") from None


def one_hot(labels, n_classes=None, name="labels"):
    """The (n, n_classes) float64 rows with a 1 at each integer label and 0 elsewhere."""
    array = _array_or_refuse(labels, name)
    if array.dtype.kind not in "iu":
        raise InvalidType(f"{name} must be integer class labels, got dtype {array.dtype}")
    if array.ndim != 1:
        raise InvalidValue(f"{name} must be a 1-D array of class labels, got shape {array.shape}")
    if n_classes is None:
        n_classes = int(array.max()) + 1 if array.size else 0
    n_classes = integer(n_classes, "n_classes", minimum=1)
    bad = np.flatnonzero((array < 0) | (array >= n_classes))
    if bad.size:
        raise InvalidValue(f"{name} must be class labels from 0 to {n_classes - 1} (one per "
                           f"output), got {int(array[bad[0]])} at index {int(bad[0])}")
    try:
        rows = np.zeros((array.size, n_classes))
    except (MemoryError, ValueError):  # the second: beyond any array
        raise InvalidValue(f"n_classes must leave rows this machine can allocate "
                           f"({array.size} × n_classes floats), got {n_classes}") from None
    rows[np.arange(array.size), array] = 1.0
    return rows


def _target_shape(T, n, n_out, single, name):
    if single:
        expected = f"({n_out},)"
        ok_shapes = {(n_out,), (1, n_out)}
    else:
        expected = f"({n}, {n_out})" + (f" or ({n},)" if n_out == 1 else
                                         f" or ({n},) of integer class labels")
        ok_shapes = {(n, n_out)} | ({(n,)} if n_out == 1 else set())
    if T.shape not in ok_shapes:
        raise InvalidValue(f"{name} must have shape {expected} to match X and the "
                           f"{n_out} output(s), got shape {T.shape}")
    return T.reshape(n, n_out)


def parameters(weights, biases, layer_sizes):
    """Check user-given weights and biases against the layer sizes; return float64 copies."""
    for name, given in (("weights", weights), ("biases", biases)):
        if not is_list(given):
            raise InvalidType(f"{name} must be a list with one array per layer, got {shown(given)}")
        if len(given) != len(layer_sizes) - 1:
            raise InvalidValue(f"{name} must hold one array per layer of weights "
                               f"({len(layer_sizes) - 1}), got {len(given)}")
    ws, bs = [], []
    for l in range(len(layer_sizes) - 1):
        w = finite(float_array(weights[l], f"weights[{l}]"), f"weights[{l}]")
        b = finite(float_array(biases[l], f"biases[{l}]"), f"biases[{l}]")
        n_i, n_j = layer_sizes[l], layer_sizes[l + 1]
        if w.shape != (n_i, n_j):
            raise InvalidValue(f"weights[{l}] must have shape ({n_i}, {n_j}) (w_ij from "
                               f"{n_i} neurons below to {n_j} above), got shape {w.shape}")
        if b.shape != (n_j,):
            raise InvalidValue(f"biases[{l}] must have shape ({n_j},), got shape {b.shape}")
        ws.append(w)
        bs.append(b)
    return ws, bs


def sizes_from_weights(weights):
    """Layer sizes implied by a list of 2-D weight arrays, checking that they chain."""
    if not is_list(weights):
        raise InvalidType(f"weights must be a list with one 2-D array per layer, "
                          f"got {shown(weights)}")
    if len(weights) == 0:
        raise InvalidValue("weights must hold at least one layer, got an empty list")
    shapes = [_shape(weights[l], f"weights[{l}]") for l in range(len(weights))]
    for l, shape in enumerate(shapes):
        if len(shape) != 2:
            raise InvalidValue(f"weights[{l}] must be 2-D (n_i, n_j), got shape {shape}")
        if 0 in shape:
            raise InvalidValue(f"weights[{l}] must have at least one row and one column, "
                               f"got shape {shape}")
        if l and shape[0] != shapes[l - 1][1]:
            raise InvalidValue(f"weights[{l}] must have {shapes[l - 1][1]} rows to follow "
                               f"weights[{l - 1}] of shape {shapes[l - 1]}, got shape {shape}")
    return sizes([shapes[0][0]] + [s[1] for s in shapes])


def is_list(value):
    """A list, tuple or other sequence of per-layer things (not a string, dict or array)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _length(value):
    """len(value), or None for things without one (including 0-d arrays, whose len raises)."""
    try:
        return len(value)
    except TypeError:
        return None


def _shape(value, name):
    try:
        return np.shape(value)
    except ValueError as err:  # ragged nested lists
        raise InvalidValue(f"{name} must be a rectangular array of numbers, got {shown(value)} "
                           f"({err})") from None


def choice(value, name, options):
    """One of a few names, e.g. convention="note" or "gradient"."""
    if not isinstance(value, str):
        raise InvalidType(f"{name} must be one of {', '.join(map(repr, options))}, "
                          f"got {shown(value)}")
    if value not in options:
        raise InvalidValue(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value
