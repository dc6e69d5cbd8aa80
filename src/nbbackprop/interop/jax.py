"""JAX adapter: check a user's gradient of a loss over a pytree of parameters, entry by
entry, with every entry named by its pytree path (``['W1'][2, 1]``).

The loss is evaluated in float64 (inside ``jax.enable_x64``, on the parameters converted
to float64) so the finite differences are accurate; the claimed gradient is judged in the
dtype it comes back in (float64 there, unless the user's code casts to float32).
"""

try:
    import jax
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("nbbackprop.interop.jax needs JAX: pip install 'nbbackprop[jax]'") from err

import numpy as np

from .. import gradient_check as gc
from ..exceptions import InvalidType, InvalidValue


def check_grad(loss, grad, params, *args, raise_on_failure=False):
    """Check ``grad(params, *args)`` against central differences of ``loss(params, *args)``.

    ``params``: a pytree (dicts, lists, tuples …) of float arrays; ``loss`` returns a scalar;
    ``grad`` returns a pytree shaped like ``params`` (e.g. ``jax.grad(loss)``, or your own
    backprop). Returns a ``GradcheckReport`` whose entries are named by pytree path and
    index; ``raise_on_failure=True`` raises ``nb.GradcheckError`` on failure.
    """
    if not callable(loss):
        raise InvalidType(f"loss must be callable, got {type(loss).__name__}")
    if not callable(grad):
        raise InvalidType(f"grad must be callable, got {type(grad).__name__}")
    paths, treedef = jax.tree_util.tree_flatten_with_path(params)
    if not paths:
        raise InvalidValue("params must hold at least one array, got an empty pytree")
    shapes, labels = [], []
    for path, leaf in paths:
        label = f"params{jax.tree_util.keystr(path)}"
        if np.asarray(leaf).dtype.kind != "f":
            raise InvalidType(f"{label} must be a float array, got dtype {np.asarray(leaf).dtype}")
        shapes.append(np.shape(leaf))
        labels.append(label)
    sizes = [int(np.prod(shape)) for shape in shapes]
    ends = np.cumsum(sizes)
    x0 = np.concatenate([np.asarray(leaf, dtype=np.float64).ravel() for _, leaf in paths])

    def unflatten(x):
        parts = np.split(x, ends[:-1])
        return jax.tree_util.tree_unflatten(
            treedef, [jax.numpy.asarray(part.reshape(shape)) for part, shape in zip(parts, shapes)])

    def flat_grad(x):
        tree = grad(unflatten(x), *args)
        leaves, structure = jax.tree_util.tree_flatten(tree)
        if structure != treedef:
            raise InvalidValue(f"grad(params) must return a pytree shaped like params "
                               f"({treedef}), got {structure}")
        for label, shape, leaf in zip(labels, shapes, leaves):
            if np.shape(leaf) != shape:
                raise InvalidValue(f"grad(params) must give {label} the shape {shape}, "
                                   f"got {np.shape(leaf)}")
        arrays = [np.asarray(leaf) for leaf in leaves]
        coarsest = max((a.dtype for a in arrays), key=lambda d: np.finfo(d).eps
                       if d.kind == "f" else 0.0)
        return np.concatenate([a.ravel() for a in arrays]).astype(coarsest)

    def describe(p):
        leaf = int(np.searchsorted(ends, p, side="right"))
        offset = p - (int(ends[leaf - 1]) if leaf else 0)
        index = np.unravel_index(offset, shapes[leaf]) if shapes[leaf] else ()
        suffix = f"[{', '.join(str(int(i)) for i in index)}]" if index else ""
        return f"{labels[leaf]}{suffix}", None, "x", p, None

    def traced(x):  # unflatten with jax operations, so jax.jit can compile loss once
        starts = [0, *ends[:-1]]
        return loss(jax.tree_util.tree_unflatten(treedef, [
            x[start:end].reshape(shape) for start, end, shape in zip(starts, ends, shapes)]),
            *args)

    with jax.enable_x64(True):
        f = jax.jit(traced)
        try:
            f(x0)
        except Exception:  # not traceable (Python control flow on values): call it as it is
            f = lambda x: loss(unflatten(x), *args)  # noqa: E731
        report = gc.check_callable(f, flat_grad, x0,
                                     describe, raise_on_failure=False,
                                     subject=f"a loss of {x0.size} parameters in "
                                             f"{len(paths)} array{'s' if len(paths) > 1 else ''}")
    if raise_on_failure and not report.ok:
        raise gc.GradcheckError(report)
    return report


__all__ = ["check_grad"]
