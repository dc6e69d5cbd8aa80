"""Every public call rejects bad input with a ValueError or TypeError that names the
argument, says what was expected and what was given; no Numba error reaches the user."""

import numpy as np
import pytest

import nbbackprop as nb
from clear_errors import assert_clear_error

X, T = nb.xor()


def net():
    return nb.Network([2, 3, 1], "tanh", output_activation="sigmoid", seed=0)


def poked(layer_kind, value):
    n = net()
    getattr(n, layer_kind)[0].flat[1] = value
    return n


CASES = [
    # (call, exception, words the message must contain)
    (lambda: nb.Network([2, 0, 1]), ValueError, ["sizes[1]", "≥ 1", "got 0"]),
    (lambda: nb.Network([3]), ValueError, ["sizes", "at least", "[3]"]),
    (lambda: nb.Network([2, 2.5, 1]), TypeError, ["sizes[1]", "integer", "2.5"]),
    (lambda: nb.Network([2, True, 1]), TypeError, ["sizes[1]", "integer", "True"]),
    (lambda: nb.Network("21"), TypeError, ["sizes", "sequence", "'21'"]),
    (lambda: nb.Network(5), TypeError, ["sizes", "sequence", "5"]),
    (lambda: nb.Network([2, 1], "softmax"), ValueError, ["activation", "sigmoid", "'softmax'"]),
    (lambda: nb.Network([2, 1], 3), TypeError, ["activation", "3"]),
    (lambda: nb.Network([2, 2, 1], ["tanh"]), ValueError, ["activation", "per layer", "2", "1"]),
    (lambda: nb.Network([2, 2, 1], ["tanh", "nope"]), ValueError, ["activation[1]", "'nope'"]),
    (lambda: nb.Network([2, 1], output_activation="step"), ValueError,
     ["output_activation", "'step'"]),
    (lambda: nb.Network([2, 1], seed=-1), ValueError, ["seed", "≥ 0", "-1"]),
    (lambda: nb.Network([2, 1], seed=1.5), TypeError, ["seed", "integer", "1.5"]),
    (lambda: nb.Network([2, 1], init="xavier"), ValueError, ["init", "glorot", "'xavier'"]),
    (lambda: nb.Network([2, 1], init="uniform", init_scale=0), ValueError,
     ["init_scale", "positive", "0"]),
    (lambda: nb.Network([2, 1], init="normal", init_scale=1), ValueError,
     ["init_scale", "uniform", "'normal'"]),
    # from_weights
    (lambda: nb.Network.from_weights([np.ones((2, 3)), np.ones((2, 1))], [np.ones(3), np.ones(1)],
                                     ["tanh", "tanh"]),
     ValueError, ["weights[1]", "3 rows", "(2, 1)"]),
    (lambda: nb.Network.from_weights([np.ones((2, 3))], [np.ones(2)], ["tanh"]), ValueError,
     ["biases[0]", "(3,)", "(2,)"]),
    (lambda: nb.Network.from_weights([np.ones((2, 3))], [np.ones(3), np.ones(1)], ["tanh"]),
     ValueError, ["biases", "one array per layer", "2"]),
    (lambda: nb.Network.from_weights([[[np.nan, 1.0]]], [[0.0, 0.0]], ["tanh"]), ValueError,
     ["weights[0]", "finite", "nan"]),
    (lambda: nb.Network.from_weights([np.ones(3)], [np.ones(3)], ["tanh"]), ValueError,
     ["weights[0]", "2-D", "(3,)"]),
    (lambda: nb.Network.from_weights([], [], []), ValueError, ["weights", "at least one"]),
    (lambda: nb.Network.from_weights(np.ones((2, 2)), [np.ones(2)], ["tanh"]), TypeError,
     ["weights", "list"]),
    (lambda: nb.Network.from_weights([np.ones((2, 2))], [np.ones(2)], ["tanh", "tanh"]),
     ValueError, ["activation", "per layer"]),
    # forward / error / gradient: inputs
    (lambda: net().forward([1.0, 2.0, 3.0]), ValueError, ["x", "(2,)", "(3,)"]),
    (lambda: net().forward(np.ones((4, 3))), ValueError, ["x", "(n, 2)", "(4, 3)"]),
    (lambda: net().forward(np.ones((2, 2, 2))), ValueError, ["x", "(n, 2)", "(2, 2, 2)"]),
    (lambda: net().forward(np.ones((0, 2))), ValueError, ["x", "at least one sample", "(0, 2)"]),
    (lambda: net().forward([np.nan, 1.0]), ValueError, ["x", "finite", "nan"]),
    (lambda: net().forward([[0.0, 1.0], [np.inf, 1.0]]), ValueError, ["x", "finite", "(1, 0)"]),
    (lambda: net().forward(["a", "b"]), TypeError, ["x", "real numbers", "<U1"]),
    (lambda: net().forward(np.array([1 + 1j, 0])), TypeError, ["x", "real numbers", "complex"]),
    (lambda: net().forward(np.array([True, False])), TypeError, ["x", "real numbers", "bool"]),
    (lambda: net().forward([None, 1.0]), TypeError, ["x", "real numbers", "object"]),
    (lambda: net().forward([[1.0, 2.0], [1.0]]), ValueError, ["x", "rectangular"]),
    (lambda: net().error(X[:3], T), ValueError, ["T", "match X", "(3, 1)", "(4, 1)"]),
    (lambda: net().error(X, np.ones((4, 2))), ValueError, ["T", "(4, 1)", "(4, 2)"]),
    (lambda: net().error(X, T[:3]), ValueError, ["T", "(4, 1)", "(3, 1)"]),
    (lambda: net().error(X, np.where(T > 0, np.nan, 0)), ValueError, ["T", "finite", "nan"]),
    (lambda: net().gradient(X, "T"), TypeError, ["T", "real numbers"]),
    (lambda: net().gradient(np.ones((0, 2)), np.ones((0, 1))), ValueError, ["X", "at least one"]),
    (lambda: net().gradient([0.0, 1.0], [1.0, 0.0]), ValueError, ["T", "(1,)", "(2,)"]),
    # weights poked in place
    (lambda: poked("weights", np.nan).forward([0.0, 1.0]), ValueError,
     ["weights[0]", "finite", "nan", "(0, 1)"]),
    (lambda: poked("biases", np.inf).error(X, T), ValueError, ["biases[0]", "finite", "inf"]),
    # fit
    (lambda: net().fit(X, T, eta=0), ValueError, ["eta", "positive", "0.0"]),
    (lambda: net().fit(X, T, eta=-0.1), ValueError, ["eta", "positive", "-0.1"]),
    (lambda: net().fit(X, T, eta=np.nan), ValueError, ["eta", "positive", "nan"]),
    (lambda: net().fit(X, T, eta="0.5"), TypeError, ["eta", "positive", "'0.5'"]),
    (lambda: net().fit(X, T, epochs=-1), ValueError, ["epochs", "≥ 0", "-1"]),
    (lambda: net().fit(X, T, epochs=10.0), TypeError, ["epochs", "integer", "10.0"]),
    (lambda: net().fit(X, T, batch_size=0), ValueError, ["batch_size", "≥ 1", "≤ 4", "0"]),
    (lambda: net().fit(X, T, batch_size=5), ValueError, ["batch_size", "≤ 4", "5"]),
    (lambda: net().fit(X, T, momentum=1.0), ValueError, ["momentum", "[0, 1)", "1.0"]),
    (lambda: net().fit(X, T, momentum=-0.1), ValueError, ["momentum", "[0, 1)", "-0.1"]),
    (lambda: net().fit(X, T, shuffle=1), TypeError, ["shuffle", "True or False", "1"]),
    (lambda: net().fit(X, T, seed=-3), ValueError, ["seed", "≥ 0", "-3"]),
    (lambda: net().fit(X, T, train_biases="no"), TypeError, ["train_biases", "True or False"]),
    (lambda: net().fit(X, T, target_error=-1.0), ValueError, ["target_error", "≥ 0", "-1.0"]),
    (lambda: net().fit(X, T, target_error=np.inf), ValueError, ["target_error", "inf"]),
    (lambda: net().fit(X, T, on_divergence="ignore"), ValueError,
     ["on_divergence", "'raise'", "'ignore'"]),
    (lambda: net().fit(X[:, :1], T), ValueError, ["X", "(n, 2)", "(4, 1)"]),
    (lambda: net().fit(X, T, exact="no"), TypeError, ["exact", "True or False", "'no'"]),
    (lambda: net().fit(X, T, exact=None), TypeError, ["exact", "True or False", "None"]),
    # assigning whole layers
    (lambda: net().weights.__setitem__(0, np.ones((3, 2))), ValueError,
     ["weights[0]", "(2, 3)", "(3, 2)"]),
    (lambda: net().biases.__setitem__(1, [np.nan]), ValueError, ["biases[1]", "finite"]),
    (lambda: net().weights.append(np.ones((3, 1))), TypeError, ["weights", "fixed"]),
    (lambda: net().weights.__setitem__(slice(0, 1), [np.ones((2, 3))]), TypeError,
     ["weights", "one layer at a time", "slice"]),
    (lambda: setattr(net(), "biases", [np.zeros(3)]), ValueError, ["biases", "2 arrays"]),
    # files
    (lambda: net().save(3), TypeError, ["path", "str", "int"]),
    (lambda: nb.load(None), TypeError, ["path", "str", "NoneType"]),
]


@pytest.mark.parametrize(("call", "exception", "words"), CASES,
                         ids=[f"{i}-{words[0]}" for i, (_, _, words) in enumerate(CASES)])
def test_bad_input_gets_a_clear_error(call, exception, words):
    assert_clear_error(call, exception, words)


def test_integer_and_float32_inputs_are_converted_once_at_the_boundary():
    n = net()
    expected = n.forward(X)
    np.testing.assert_array_equal(n.forward(X.astype(np.int32)), expected)
    np.testing.assert_array_equal(n.forward(X.astype(np.float32)), expected)
    np.testing.assert_array_equal(n.forward(X.tolist()), expected)
    np.testing.assert_array_equal(n.forward(np.asfortranarray(X)), expected)


def test_a_non_finite_entry_past_the_first_million_is_named():
    """finite() checks large data a slice at a time (no temporary as large as the data)."""
    X = np.zeros(((1 << 20) // 2 + 3, 2))
    X[-1, 1] = np.inf
    where = rf"\({len(X) - 1}, 1\)"
    with pytest.raises(ValueError, match=rf"X must be finite, got inf at index {where}"):
        nb.Network([2, 1]).error(X, np.zeros(len(X)))
