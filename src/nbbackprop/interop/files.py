"""Data and claimed gradients as ``.npz`` files, for programs in any language.

A C, Julia, R or Fortran program that computes gradients of the network in a model file
(``Network.save``'s format, README "The model file") writes two more ``.npz`` archives
(zip files of ``.npy`` arrays; any memory order, the ``.npy`` header says which):

data file:
  ``X``   (n, n_in)  the inputs, one sample per row (integer or float)
  ``T``   (n, n_out) the targets, or (n,) when n_out = 1

gradient file, C = (1/n) Σ_x ½ Σ_k (t_k − y_k)²:
  ``w{l}``  (sizes[l], sizes[l+1])  ``w{l}[i, j]`` = ∂C/∂w_ij of layer l, l = 0 … L−1
  ``b{l}``  (sizes[l+1],)           ``b{l}[j]`` = ∂C/∂b_j
  in any float dtype: float32 gradients are judged with float32 tolerances.

``nbbackprop compare MODEL DATA GRADIENTS`` then reports, entry by entry, where they differ
from central differences of C.
"""

import os
import zipfile
import zlib

import numpy as np

_UNREADABLE = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError)


def load_data(path):
    """(X, T) from a data file; shapes are checked against a network where they are used."""
    arrays = _arrays(path, "data", {"X", "T"})
    return arrays["X"], arrays["T"]


def load_gradients(path, net):
    """(grad_w, grad_b) from a gradient file for ``net``, in the dtype they were written in."""
    L = len(net.sizes) - 1
    arrays = _arrays(path, "gradient", {f"w{l}" for l in range(L)} | {f"b{l}" for l in range(L)})
    return [arrays[f"w{l}"] for l in range(L)], [arrays[f"b{l}"] for l in range(L)]


def _arrays(path, what, keys):
    """Every array of the archive at path, which must hold exactly ``keys``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array, not an .npz archive")
        with archive:
            arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} file {path} does not exist") from None
    except _UNREADABLE as err:
        raise ValueError(f"{path} is not a readable {what} file: {err}") from None
    if set(arrays) != keys:
        missing, extra = sorted(keys - set(arrays)), sorted(set(arrays) - keys)
        raise ValueError(f"{path} must hold exactly the keys {sorted(keys)} of a {what} file; "
                         f"missing {missing}, unexpected {extra}")
    return arrays
