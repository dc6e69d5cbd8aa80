"""Adapters to other tools, each imported only when first used:

- ``nbbackprop.interop.torch``: a Network from an ``nn.Sequential``; a module's autograd
  gradients checked and reported in the module's own parameter names (needs PyTorch).
- ``nbbackprop.interop.jax``: a JAX ``grad`` of a loss over a pytree checked entry by
  entry, named by pytree path (needs JAX).
- ``nbbackprop.interop.files``: data and claimed gradients as ``.npz`` files, which any
  language can write (NumPy only).
- ``nbbackprop.interop.sklearn``: scikit-learn's bundled data sets as arrays (needs
  scikit-learn; ``nb.datasets.digits`` uses it).
"""

import importlib

_ADAPTERS = ("files", "jax", "sklearn", "torch")


def __getattr__(name):
    if name in _ADAPTERS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_ADAPTERS)
