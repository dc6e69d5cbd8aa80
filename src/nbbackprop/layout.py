"""The network as compiled code sees it: one ``Layout`` object with where each layer's w, b,
z, y and δ live in the flat buffers, the activation codes and the loss code.

All parameters of a network live in one flat float64 buffer ``theta``. Layer ``l`` holds
its weights ``w`` (``sizes[l] × sizes[l+1]``, row-major, so ``w[i, j]`` walks memory
contiguously in ``j``) from ``w_off[l]``, followed by its biases ``b``. Per-neuron values
(``z``, ``y``, ``δ``) of all layers live in flat buffers too: neuron layer ``l`` from
``n_off[l]`` (layer 0 holds the inputs). For a batch of m samples, neuron layer ``l``
holds m rows of ``sizes[l]`` from ``m · n_off[l]``.

``Layout`` is a named tuple of four int64 arrays and the loss code, which compiled code
accepts as one argument; the views below are compiled functions of it, inlined where they are used.
"""

from typing import NamedTuple

import numpy as np

from ._jit import jit
from .activations import CODES, LOSS_CODES


class Layout(NamedTuple):
    """``sizes[l]``: neurons of layer l, inputs first; ``acts[l]``: the activation code of
    layer l of weights; ``w_off[l]``: where its weights start in ``theta``; ``n_off[l]``:
    where neuron layer l starts in a per-neuron buffer; ``loss``: the loss code."""

    sizes: np.ndarray
    acts: np.ndarray
    w_off: np.ndarray
    n_off: np.ndarray
    loss: int


def make_layout(layer_sizes, activation_names, loss="squared"):
    """The Layout of a network with these layer sizes, activation names and loss."""
    sizes = np.array(layer_sizes, dtype=np.int64)
    per_layer = sizes[:-1] * sizes[1:] + sizes[1:]
    w_off = np.concatenate(([0], np.cumsum(per_layer)[:-1])).astype(np.int64)
    n_off = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    acts = np.array([CODES[a] for a in activation_names], dtype=np.int64)
    return Layout(sizes, acts, w_off, n_off, LOSS_CODES[loss])


def parameter_count(layer_sizes):
    """How many weights and biases a network of these layer sizes has (a Python int)."""
    return sum(n_i * n_j + n_j for n_i, n_j in zip(layer_sizes, layer_sizes[1:]))


def split(layout, buffer):
    """Per-layer (w, b) views of a buffer laid out like ``theta`` (in Python)."""
    ws, bs = [], []
    for l in range(len(layout.sizes) - 1):
        n_i, n_j, start = int(layout.sizes[l]), int(layout.sizes[l + 1]), int(layout.w_off[l])
        ws.append(buffer[start : start + n_i * n_j].reshape(n_i, n_j))
        bs.append(buffer[start + n_i * n_j : start + n_i * n_j + n_j])
    return ws, bs


def describe(layout, p):
    """(layer, kind, i, j) of the flat parameter index p: kind "w" for w_ij, "b" for b_j
    (then i is None)."""
    l = int(np.searchsorted(layout.w_off, p, side="right")) - 1
    offset, n_j = p - int(layout.w_off[l]), int(layout.sizes[l + 1])
    if offset < layout.sizes[l] * n_j:
        i, j = divmod(offset, n_j)
        return l, "w", i, j
    return l, "b", None, offset - int(layout.sizes[l]) * n_j


# --- the views, in compiled code -------------------------------------------------------


@jit(inline="always")
def n_layers(layout):
    """L: the number of layers of weights."""
    return layout.sizes.shape[0] - 1


@jit(inline="always")
def weights_of(theta, layout, l):
    """w_ij of layer l: an (n_i, n_j) view of the flat buffer."""
    n_i, n_j, start = layout.sizes[l], layout.sizes[l + 1], layout.w_off[l]
    return theta[start : start + n_i * n_j].reshape((n_i, n_j))


@jit(inline="always")
def biases_of(theta, layout, l):
    """b_j of layer l: a view of the flat buffer, right after the layer's weights."""
    start = layout.w_off[l] + layout.sizes[l] * layout.sizes[l + 1]
    return theta[start : start + layout.sizes[l + 1]]


@jit(inline="always")
def neurons_of(buffer, layout, l):
    """The per-neuron values (z, y or δ) of neuron layer l; layer 0 is the input."""
    return buffer[layout.n_off[l] : layout.n_off[l] + layout.sizes[l]]


@jit(inline="always")
def samples_of(buffer, layout, l, m):
    """The values of neuron layer l for a batch of m samples: an (m, n_l) view, row s for
    sample s."""
    start, n_l = m * layout.n_off[l], layout.sizes[l]
    return buffer[start : start + m * n_l].reshape((m, n_l))


@jit(inline="always")
def neurons_by_sample_of(buffer, layout, l, m):
    """Like ``samples_of``, transposed: an (n_l, m) view, row j for neuron j."""
    start, n_l = m * layout.n_off[l], layout.sizes[l]
    return buffer[start : start + m * n_l].reshape((n_l, m))


@jit(inline="always")  # a kernel of its own was compiled once per constant m (1, BLOCK)
def neuron_buffer(layout, m=1):
    """A flat buffer with one float64 per neuron of every layer (inputs included), for each
    of m samples."""
    return np.zeros(m * (layout.n_off[-1] + layout.sizes[-1]))
