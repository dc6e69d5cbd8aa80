"""nbbackprop's loops against the independent NumPy oracle (tests/oracle.py).

Tolerances: |got − want| ≤ 1e-12 · scale elementwise, where oracle.error_scales bounds
the magnitudes rounding errors grow with (see its docstring for why a plain rtol/atol
does not fit nets whose values range from ~0 to ~1e5).
"""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import nbbackprop as nb
import oracle
from oracle import assert_close, networks_and_data

# deadline=None: the first call of each Numba kernel compiles, which takes seconds.
SETTINGS = settings(deadline=None)  # example count: the conftest profile


def build(weights, biases, activations):
    return nb.Network.from_weights(weights, biases, activations=activations)


@SETTINGS
@given(networks_and_data())
def test_forward(case):
    weights, biases, activations, X, T = case
    net = build(weights, biases, activations)
    assert net.sizes == (weights[0].shape[0], *(w.shape[1] for w in weights))
    assert net.activations == tuple(activations)
    sy, _, _, _ = oracle.error_scales(weights, biases, X, T)
    want = oracle.forward(weights, biases, activations, X)[-1][1]
    assert_close(net.forward(X), want, sy, "forward(X)")
    # a single sample as a 1-D vector gives a 1-D output
    assert_close(net.forward(X[0]), want[0], sy[0], "forward(x)")


@SETTINGS
@given(networks_and_data())
def test_error(case):
    weights, biases, activations, X, T = case
    E = build(weights, biases, activations).error(X, T)
    assert isinstance(E, float)
    _, se, _, _ = oracle.error_scales(weights, biases, X, T)
    assert_close(E, oracle.error(weights, biases, activations, X, T), se, "error")


def check_gradient(net, case, T_arg):
    weights, biases, activations, X, T = case
    gw, gb = net.gradient(X, T_arg)
    assert len(gw) == len(gb) == len(weights)
    ow, ob = oracle.gradient(weights, biases, activations, X, T)
    _, _, sw, sb = oracle.error_scales(weights, biases, X, T)
    for l in range(len(weights)):
        assert_close(gw[l], ow[l], sw[l], f"dC/dw layer {l}")
        assert_close(gb[l], ob[l], sb[l], f"dC/db layer {l}")


@SETTINGS
@given(networks_and_data())
def test_gradient(case):
    weights, biases, activations, X, T = case
    # z ≈ 0 at a relu: rounding decides relu'(z), so any two correct codes may differ.
    assume(not oracle.relu_kink_ambiguous(weights, biases, activations, X))
    check_gradient(build(weights, biases, activations), case, T)


@SETTINGS
@given(networks_and_data(n_out=1))
def test_single_output_accepts_1d_targets(case):
    weights, biases, activations, X, T = case
    assume(not oracle.relu_kink_ambiguous(weights, biases, activations, X))
    net = build(weights, biases, activations)
    _, se, _, _ = oracle.error_scales(weights, biases, X, T)
    assert_close(
        net.error(X, T[:, 0]),
        oracle.error(weights, biases, activations, X, T),
        se,
        "error with 1-D T",
    )
    check_gradient(net, case, T[:, 0])


@SETTINGS
@given(networks_and_data(), st.data())
def test_inputs_are_copied_and_not_mutated(case, data):
    weights, biases, activations, X, T = case
    snapshot = [a.copy() for a in (*weights, *biases, X, T)]
    net = build(weights, biases, activations)
    y = net.forward(X).copy()
    net.error(X, T)
    net.gradient(X, T)
    for before, after in zip(snapshot, (*weights, *biases, X, T), strict=True):
        np.testing.assert_array_equal(before, after)  # the package never writes its inputs
    # from_weights copies: changing the caller's arrays afterwards does not change the net
    l = data.draw(st.integers(0, len(weights) - 1))
    weights[l] += 1.0
    biases[l] += 1.0
    np.testing.assert_array_equal(net.forward(X), y)


def test_relu_derivative_at_zero_is_zero():
    # z = 0 exactly at the relu (zero weights and bias), so only relu'(0) = 0 gives 0.
    weights = [np.zeros((2, 3)), np.ones((3, 1))]
    biases = [np.zeros(3), np.array([0.5])]
    X, T = np.array([[1.0, -2.0], [0.5, 0.25]]), np.array([[1.0], [-1.0]])
    gw, gb = build(weights, biases, ["relu", "linear"]).gradient(X, T)
    np.testing.assert_array_equal(gw[0], 0.0)
    np.testing.assert_array_equal(gb[0], 0.0)
    ow, ob = oracle.gradient(weights, biases, ["relu", "linear"], X, T)
    np.testing.assert_array_equal(gw[1], ow[1])  # y_i = 0, so dC/dw = 0 exactly as well
    np.testing.assert_allclose(gb[1], ob[1], rtol=1e-15)
