"""Data and claimed gradients as ``.npz`` files, for programs in any language.

A C, Julia, R or Fortran program that computes gradients of the network in a model file
(``Network.save``'s format, docs/api.md "The model file") writes two more ``.npz`` archives
(zip files of ``.npy`` arrays; any memory order, the ``.npy`` header says which):

data file:
  ``X``   (n, n_in)  the inputs, one sample per row (integer or float)
  ``T``   (n, n_out) the targets, or (n,) when n_out = 1
  (other arrays may be in the file too; they are ignored)

gradient file, of C = (1/n) Σ_x E_x with the model's loss (½ Σ_k (t_k − y_k)², or the
cross-entropy):
  ``w{l}``  (sizes[l], sizes[l+1])  ``w{l}[i, j]`` = ∂C/∂w_ij of layer l, l = 0 … L−1
  ``b{l}``  (sizes[l+1],)           ``b{l}[j]`` = ∂C/∂b_j
  in any float dtype: float32 gradients are judged with float32 tolerances.

``nbbackprop compare MODEL DATA GRADIENTS`` then reports, entry by entry, where they differ
from central differences of C.
"""

from ..storage import read_npz


def load_data(path):
    """(X, T) from a data file; shapes are checked against a network where they are used.
    Other arrays the file holds are not read."""
    arrays = read_npz(path, "data file", {"X", "T"}, exact=False)
    return arrays["X"], arrays["T"]


def load_gradients(path, net):
    """(grad_w, grad_b) from a gradient file for ``net``, in the dtype they were written in."""
    L = len(net.sizes) - 1
    keys = {f"w{l}" for l in range(L)} | {f"b{l}" for l in range(L)}
    arrays = read_npz(path, "gradient file", keys)
    return [arrays[f"w{l}"] for l in range(L)], [arrays[f"b{l}"] for l in range(L)]
