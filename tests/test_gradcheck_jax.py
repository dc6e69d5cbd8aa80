"""The JAX adapter (skipped without JAX): a gradient of a loss over a pytree, checked entry
by entry and named by pytree path."""

import pytest

jax = pytest.importorskip("jax")

import numpy as np  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import nbbackprop as nb  # noqa: E402
from nbbackprop.interop import jax as nbjax  # noqa: E402

jnp = jax.numpy


def loss(params, X, T):
    """A tanh MLP with the package's C = (1/n) Σ_x ½ Σ_k (t_k − y_k)²."""
    h = jnp.tanh(X @ params["hidden"]["w"] + params["hidden"]["b"])
    y = h @ params["out"][0] + params["out"][1]
    return 0.5 * jnp.mean(jnp.sum((y - T) ** 2, axis=1))


def handwritten_grad(params, X, T, bug=None):
    """Backpropagation by hand, the way a user writes it, optionally with a bug."""
    z = X @ params["hidden"]["w"] + params["hidden"]["b"]
    h = jnp.tanh(z)
    y = h @ params["out"][0] + params["out"][1]
    n = X.shape[0]
    delta_out = (y - T) / n
    delta_hidden = delta_out @ params["out"][0].T
    if bug != "missing f'":
        delta_hidden = delta_hidden * (1 - h**2)
    grad_b_out = delta_out.sum(axis=0) * (n if bug == "bias × batch size" else 1)
    return {"hidden": {"w": X.T @ delta_hidden, "b": delta_hidden.sum(axis=0)},
            "out": [h.T @ delta_out, grad_b_out]}


@st.composite
def problems(draw):
    n_in, n_hidden, n_out, n = (draw(st.integers(1, 4)) for _ in range(4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    params = {"hidden": {"w": rng.normal(size=(n_in, n_hidden)), "b": rng.normal(size=n_hidden)},
              "out": [rng.normal(size=(n_hidden, n_out)), rng.normal(size=n_out)]}
    return params, rng.normal(size=(n, n_in)), rng.normal(size=(n, n_out))


@settings(max_examples=5)  # each new shape compiles the loss again
@given(problems())
def test_jax_grad_and_a_right_handwritten_grad_pass(problem):
    params, X, T = problem
    for grad in (jax.grad(loss), handwritten_grad):
        report = nbjax.check_grad(loss, grad, params, X, T)
        assert report.ok, str(report)
        assert report.precision == "float64"


@pytest.mark.parametrize(("bug", "wrong"), [
    ("missing f'", "params['hidden']"),
    ("bias × batch size", "params['out'][1]"),
])
@settings(max_examples=10)
@given(problem=problems())
def test_a_handwritten_bug_is_named_by_its_pytree_path(problem, bug, wrong):
    params, X, T = problem
    report = nbjax.check_grad(loss, lambda p, X, T: handwritten_grad(p, X, T, bug),
                              params, X, T)
    right = nbjax.check_grad(loss, handwritten_grad, params, X, T)
    changed = {e.name for e, r in zip(report.entries, right.entries) if e.analytic != r.analytic}
    clear = {e.name for e, r in zip(report.entries, right.entries)
             if abs(e.analytic - r.analytic) > 2 * r.tol}
    flagged = {e.name for e in report.failures}
    assert clear <= flagged <= changed and all(name.startswith(wrong) for name in changed)
    if flagged:
        assert report.worst.name in flagged


def test_the_index_of_a_corrupted_entry():
    rng = np.random.default_rng(0)
    params = {"hidden": {"w": rng.normal(size=(3, 4)), "b": np.zeros(4)},
              "out": [rng.normal(size=(4, 2)), np.zeros(2)]}
    X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))

    def grad(p, X, T):
        g = jax.grad(loss)(p, X, T)
        g["hidden"]["w"] = g["hidden"]["w"].at[2, 1].add(0.01)
        return g

    report = nbjax.check_grad(loss, grad, params, X, T)
    assert [e.name for e in report.failures] == ["params['hidden']['w'][2, 1]"]
    with pytest.raises(nb.GradcheckError):
        nbjax.check_grad(loss, grad, params, X, T, raise_on_failure=True)


def test_float32_gradients_are_judged_in_float32():
    rng = np.random.default_rng(1)
    params = {"hidden": {"w": rng.normal(size=(3, 4)).astype(np.float32),
                         "b": np.zeros(4, np.float32)},
              "out": [rng.normal(size=(4, 2)).astype(np.float32), np.zeros(2, np.float32)]}
    X, T = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 2)).astype(np.float32)

    def grad32(p, X, T):  # the gradient as a float32 program computes it
        p32 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float32), p)
        return jax.grad(loss)(p32, X, T)

    report = nbjax.check_grad(loss, grad32, params, X, T)
    assert report.ok and report.precision == "float32", str(report)


def test_bad_input():
    params = {"w": np.ones((2, 2))}
    f = lambda p: jnp.sum(p["w"] ** 2)  # noqa: E731
    with pytest.raises(TypeError, match="loss must be callable"):
        nbjax.check_grad(3, jax.grad(f), params)
    with pytest.raises(ValueError, match="pytree shaped like params"):
        nbjax.check_grad(f, lambda p: [p["w"]], params)
    with pytest.raises(ValueError, match=r"params\['w'\] the shape \(2, 2\), got \(4,\)"):
        nbjax.check_grad(f, lambda p: {"w": p["w"].ravel()}, params)
    with pytest.raises(TypeError, match=r"params\['w'\] must be a float array"):
        nbjax.check_grad(f, jax.grad(f), {"w": np.ones(2, dtype=int)})
    with pytest.raises(ValueError, match="at least one array"):
        nbjax.check_grad(f, jax.grad(f), {})
