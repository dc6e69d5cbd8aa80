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

The views are *untracked*: they point into the buffer without holding a reference to it
(``segment``, ``matrix``). A slice or ``reshape`` holds one, and counting it, an atomic
increment and decrement for every view of every layer of every sample, and ``reshape``'s
call into Numba's C helper, took half the time of an online step of a 2-2-1 network.
So a view is valid only while its buffer is alive: in the kernels here it is always an
argument or a buffer the kernel uses after the view; never return a view, or keep one
past its buffer's last use.
"""

from typing import NamedTuple

import numpy as np
from numba.core import cgutils, types
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

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


def _populate(context, builder, buffer_type, view_type, buffer, start, shape):
    """A C-contiguous view, of the given shape, of the flat C-contiguous ``buffer`` from
    entry ``start``: its data pointer, shape and strides, and no meminfo (untracked)."""
    source = make_array(buffer_type)(context, builder, value=buffer)
    view = make_array(view_type)(context, builder)
    itemsize = source.itemsize
    strides, stride = [], itemsize
    for extent in reversed(shape[1:]):
        strides.insert(0, stride)
        stride = builder.mul(stride, extent)
    strides.insert(0, stride)
    populate_array(view, data=builder.gep(source.data, [start]),
                   shape=cgutils.pack_array(builder, shape),
                   strides=cgutils.pack_array(builder, strides),
                   itemsize=itemsize, meminfo=None, parent=None)
    return view._getvalue()


def _is_flat(buffer):
    return isinstance(buffer, types.Array) and buffer.ndim == 1 and buffer.layout == "C"


@intrinsic
def segment(typingctx, buffer, start, n):
    """``buffer[start : start + n]``, untracked (see the module's docstring)."""
    if not _is_flat(buffer):  # any other array: a slice, as before

        def codegen(context, builder, signature, args):
            return context.compile_internal(builder, lambda b, s, n: b[s : s + n], signature,
                                            args)

        return buffer.copy(ndim=1, layout="A")(buffer, start, n), codegen
    view_type = types.Array(buffer.dtype, 1, "C")

    def codegen(context, builder, signature, args):
        start, n = (context.cast(builder, v, t, types.intp)
                    for v, t in zip(args[1:], signature.args[1:]))
        return _populate(context, builder, buffer, view_type, args[0], start, [n])

    return view_type(buffer, start, n), codegen


@intrinsic
def matrix(typingctx, buffer, start, n_rows, n_columns):
    """``buffer[start : start + n_rows · n_columns].reshape((n_rows, n_columns))``,
    untracked (see the module's docstring)."""
    if not _is_flat(buffer):  # any other array: a slice, reshaped, as before

        def codegen(context, builder, signature, args):
            return context.compile_internal(
                builder, lambda b, s, r, c: b[s : s + r * c].reshape((r, c)), signature, args)

        return buffer.copy(ndim=2, layout="C")(buffer, start, n_rows, n_columns), codegen
    view_type = types.Array(buffer.dtype, 2, "C")

    def codegen(context, builder, signature, args):
        start, n_rows, n_columns = (context.cast(builder, v, t, types.intp)
                                    for v, t in zip(args[1:], signature.args[1:]))
        return _populate(context, builder, buffer, view_type, args[0], start,
                         [n_rows, n_columns])

    return view_type(buffer, start, n_rows, n_columns), codegen


@intrinsic
def untracked(typingctx, array):
    """``array`` itself, untracked (see the module's docstring): its data, shape and strides,
    and no reference. For a kernel's arguments, alive for the whole call: a view of an
    untracked array holds no reference either, and the kernels it is passed to count none."""
    if not isinstance(array, types.Array):
        return None

    def codegen(context, builder, signature, args):
        source = make_array(array)(context, builder, value=args[0])
        view = make_array(array)(context, builder)
        populate_array(view, data=source.data, shape=source.shape, strides=source.strides,
                       itemsize=source.itemsize, meminfo=None, parent=None)
        return view._getvalue()

    return array(array), codegen


@jit(inline="always")
def untracked_layout(layout):
    """The layout with its arrays ``untracked``."""
    return Layout(untracked(layout.sizes), untracked(layout.acts), untracked(layout.w_off),
                  untracked(layout.n_off), layout.loss)


@jit(inline="always")
def weights_of(theta, layout, l):
    """w_ij of layer l: an (n_i, n_j) view of the flat buffer."""
    n_i, n_j, start = layout.sizes[l], layout.sizes[l + 1], layout.w_off[l]
    return matrix(theta, start, n_i, n_j)


@jit(inline="always")
def biases_of(theta, layout, l):
    """b_j of layer l: a view of the flat buffer, right after the layer's weights."""
    start = layout.w_off[l] + layout.sizes[l] * layout.sizes[l + 1]
    return segment(theta, start, layout.sizes[l + 1])


@jit(inline="always")
def neurons_of(buffer, layout, l):
    """The per-neuron values (z, y or δ) of neuron layer l; layer 0 is the input."""
    return segment(buffer, layout.n_off[l], layout.sizes[l])


@jit(inline="always")
def samples_of(buffer, layout, l, m):
    """The values of neuron layer l for a batch of m samples: an (m, n_l) view, row s for
    sample s."""
    start, n_l = m * layout.n_off[l], layout.sizes[l]
    return matrix(buffer, start, m, n_l)


@jit(inline="always")
def neurons_by_sample_of(buffer, layout, l, m):
    """Like ``samples_of``, transposed: an (n_l, m) view, row j for neuron j."""
    start, n_l = m * layout.n_off[l], layout.sizes[l]
    return matrix(buffer, start, n_l, m)


@jit(inline="always")  # a kernel of its own was compiled once per constant m (1, BLOCK)
def neuron_buffer(layout, m=1):
    """A flat buffer with one float64 per neuron of every layer (inputs included), for each
    of m samples."""
    return np.zeros(m * (layout.n_off[-1] + layout.sizes[-1]))
