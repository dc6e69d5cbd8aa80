"""Every check made at the boundary, before compiled code sees the data.

One message style: ``"<argument> must be <what was expected>, got <what was given>"``.
Type problems raise TypeError, value problems ValueError.
"""

import numbers
import operator

import numpy as np

from .activations import ACTIVATIONS, CODES


def _shown(value):
    """A short, unambiguous rendering of a bad value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def integer(value, name, *, minimum=None, maximum=None):
    """A Python int from an int-like value (not bool, not float), within [minimum, maximum]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_shown(value)}")
    value = operator.index(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = "" if minimum is None else f"≥ {minimum}"
        high = "" if maximum is None else f"≤ {maximum}"
        raise ValueError(f"{name} must be an integer {' and '.join(filter(None, (low, high)))}, "
                         f"got {value}")
    return value


def real(value, name, *, expected, ok):
    """A finite Python float from a real number, for which ok(value) holds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {_shown(value)}")
    value = float(value)
    if not (np.isfinite(value) and ok(value)):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_shown(value)}")
    return bool(value)


def seed(value, name="seed"):
    """None (fresh entropy) or a non-negative integer."""
    return None if value is None else integer(value, name, minimum=0)


def sizes(value):
    """Layer sizes: at least two positive integers (inputs, ..., outputs)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"sizes must be a sequence of layer sizes such as [2, 3, 1], "
                        f"got {_shown(value)}")
    if len(value) < 2:
        raise ValueError(f"sizes must list at least an input and an output size, got {list(value)}")
    return tuple(integer(n, f"sizes[{l}]", minimum=1) for l, n in enumerate(value))


def activation_name(value, name):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {', '.join(ACTIVATIONS)}, got {_shown(value)}")
    if value not in CODES:
        raise ValueError(f"{name} must be one of {', '.join(ACTIVATIONS)}, got {value!r}")
    return value


def activations(activation, output_activation, n_layers):
    """One activation name per layer of weights, from one name or a sequence of names."""
    if isinstance(activation, str):
        names = [activation_name(activation, "activation")] * n_layers
    else:
        if not hasattr(activation, "__len__"):
            raise TypeError(f"activation must be a name or a sequence of {n_layers} names, "
                            f"got {_shown(activation)}")
        if len(activation) != n_layers:
            raise ValueError(f"activation must name one activation per layer of weights "
                             f"({n_layers}), got {len(activation)}: {_shown(activation)}")
        names = [activation_name(a, f"activation[{l}]") for l, a in enumerate(activation)]
    if output_activation is not None:
        names[-1] = activation_name(output_activation, "output_activation")
    return tuple(names)


def float_array(value, name):
    """A C-contiguous float64 copy-or-view of a real-valued array (ints and floats only)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:  # ragged nested lists, unconvertible objects
        raise ValueError(f"{name} must be a rectangular array of numbers, got {_shown(value)} "
                         f"({err})") from None
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (integer or float dtype), "
                        f"got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float64)


def finite(array, name):
    """Raise naming the first NaN or infinite entry of array.

    Checked a million entries at a time, so that a large data set needs no temporary as
    large as itself."""
    flat, step = array.reshape(-1), 1 << 20
    if all(np.isfinite(flat[start : start + step]).all() for start in range(0, flat.size, step)):
        return array
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        index = where[0] if len(where) == 1 else where
        raise ValueError(f"{name} must be finite, got {array[where]} at index {index}")
    return array


def inputs(X, n_in, name="X"):
    """X as a (n, n_in) float64 array, and whether a single sample of shape (n_in,) was given."""
    X = float_array(X, name)
    single = X.ndim == 1
    if single:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != n_in:
        raise ValueError(f"{name} must have shape ({n_in},) or (n, {n_in}), "
                         f"got shape {X.shape if not single else X.shape[1:]}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {X.shape}")
    return finite(X, name), single


def targets(T, n, n_out, single, name="T"):
    """T as a (n, n_out) float64 array; a 1-D T is accepted for a single output."""
    T = float_array(T, name)
    if single:
        expected = f"({n_out},)"
        ok_shapes = {(n_out,), (1, n_out)}
    else:
        expected = f"({n}, {n_out})" + (f" or ({n},)" if n_out == 1 else "")
        ok_shapes = {(n, n_out)} | ({(n,)} if n_out == 1 else set())
    if T.shape not in ok_shapes:
        raise ValueError(f"{name} must have shape {expected} to match X and the "
                         f"{n_out} output(s), got shape {T.shape}")
    return finite(T.reshape(n, n_out), name)


def parameters(weights, biases, layer_sizes):
    """Check user-given weights and biases against the layer sizes; return float64 copies."""
    for name, given in (("weights", weights), ("biases", biases)):
        if isinstance(given, (str, bytes, np.ndarray)) or not hasattr(given, "__len__"):
            raise TypeError(f"{name} must be a list with one array per layer, got {_shown(given)}")
        if len(given) != len(layer_sizes) - 1:
            raise ValueError(f"{name} must hold one array per layer of weights "
                             f"({len(layer_sizes) - 1}), got {len(given)}")
    ws, bs = [], []
    for l in range(len(layer_sizes) - 1):
        w = finite(float_array(weights[l], f"weights[{l}]"), f"weights[{l}]")
        b = finite(float_array(biases[l], f"biases[{l}]"), f"biases[{l}]")
        n_i, n_j = layer_sizes[l], layer_sizes[l + 1]
        if w.shape != (n_i, n_j):
            raise ValueError(f"weights[{l}] must have shape ({n_i}, {n_j}) (w_ij from "
                             f"{n_i} neurons below to {n_j} above), got shape {w.shape}")
        if b.shape != (n_j,):
            raise ValueError(f"biases[{l}] must have shape ({n_j},), got shape {b.shape}")
        ws.append(w)
        bs.append(b)
    return ws, bs


def sizes_from_weights(weights):
    """Layer sizes implied by a list of 2-D weight arrays, checking that they chain."""
    if isinstance(weights, (str, bytes, np.ndarray)) or not hasattr(weights, "__len__"):
        raise TypeError(f"weights must be a list with one 2-D array per layer, "
                        f"got {_shown(weights)}")
    if len(weights) == 0:
        raise ValueError("weights must hold at least one layer, got an empty list")
    shapes = [np.shape(w) for w in weights]
    for l, shape in enumerate(shapes):
        if len(shape) != 2:
            raise ValueError(f"weights[{l}] must be 2-D (n_i, n_j), got shape {shape}")
        if l and shape[0] != shapes[l - 1][1]:
            raise ValueError(f"weights[{l}] must have {shapes[l - 1][1]} rows to follow "
                             f"weights[{l - 1}] of shape {shapes[l - 1]}, got shape {shape}")
    return sizes([shapes[0][0]] + [s[1] for s in shapes])
