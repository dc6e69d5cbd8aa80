"""Network.trace: each formula checked index by index, the step against fit bit for bit,
both sign conventions, the printed trace against a hand computation, and bad input."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nbbackprop as nb
import oracle
from clear_errors import assert_clear_error
from nbbackprop import activations, fast, formulas, training
from oracle import networks_and_data

etas = st.floats(1e-3, 2.0)


def traced(case, data, convention="note"):
    """A network from a Hypothesis case and the trace of its first sample."""
    weights, biases, activations, X, T = case
    net = nb.Network.from_weights(weights, biases, activations)
    eta = data.draw(etas, label="eta")
    train_biases = data.draw(st.booleans(), label="train_biases")
    return net, X[0], T[0], net.trace(X[0], T[0], eta=eta, convention=convention,
                                      train_biases=train_biases)


def inputs_of(tr, l):
    """y_i of the layer below layer l (x for the first layer)."""
    return tr.x if l == 0 else tr.layers[l - 1].y


@given(networks_and_data(), st.data())
def test_forward_formulas_z_and_y(case, data):
    """z_j = Σ_i w_ij y_i + b_j and y_j = f(z_j), layer by layer, and the whole forward
    pass against the independent oracle."""
    weights, biases, activations, _, _ = case
    net, x, t, tr = traced(case, data)
    for l, layer in enumerate(tr.layers):
        y_i = inputs_of(tr, l)
        scale = np.abs(y_i) @ np.abs(layer.w) + np.abs(layer.b)
        oracle.assert_close(layer.z, y_i @ layer.w + layer.b, scale, f"z of layer {l}")
        np.testing.assert_array_equal(layer.w, weights[l])
        np.testing.assert_array_equal(layer.b, biases[l])
        oracle.assert_close(layer.y, oracle.f(layer.activation, layer.z), 1.0 + np.abs(layer.z),
                            f"y of layer {l}")
    sy, _, _, _ = oracle.error_scales(weights, biases, x[None], t[None])
    Y = oracle.forward(weights, biases, activations, x[None])[-1][1][0]
    oracle.assert_close(tr.layers[-1].y, Y, sy[0], "network output")
    np.testing.assert_array_equal(tr.layers[-1].y, net.forward(x))


@given(networks_and_data(), st.data())
def test_error_is_half_the_squared_difference(case, data):
    """E = ½ Σ_k (t_k − y_k)², the same number as Network.error on that one sample."""
    net, x, t, tr = traced(case, data)
    y = tr.layers[-1].y
    oracle.assert_close(tr.error, 0.5 * np.sum((t - y) ** 2), 0.5 * np.sum((np.abs(t) + np.abs(y))
                        ** 2), "E")
    assert tr.error == net.error(x[None], t[None])


@given(networks_and_data(), st.data())
def test_fprime_is_the_derivative_of_the_activation(case, data):
    """sigmoid f' = f(1 − f), tanh 1 − f², ReLU 1 if z > 0 else 0, linear 1."""
    _, _, _, tr = traced(case, data)
    for layer in tr.layers:
        oracle.assert_close(layer.fprime, oracle.f_prime(layer.activation, layer.z), 1.0,
                            f"f' of {layer.name}")


@given(networks_and_data(), st.data())
def test_output_delta_in_both_conventions(case, data):
    """note: δ_k = (t_k − y_k) f'(z_k); gradient: δ_k = ∂E/∂z_k = (y_k − t_k) f'(z_k), exactly."""
    _, _, t, note = traced(case, data, "note")
    out = note.layers[-1]
    np.testing.assert_array_equal(out.delta, (t - out.y) * out.fprime)
    weights, biases, activations, _, _ = case
    gradient = nb.Network.from_weights(weights, biases, activations).trace(
        note.x, t, eta=note.eta, convention="gradient")
    np.testing.assert_array_equal(gradient.layers[-1].delta, (out.y - t) * out.fprime)


@given(networks_and_data(), st.data(), st.sampled_from(nb.CONVENTIONS))
def test_hidden_delta_uses_the_weights_before_the_update(case, data, convention):
    """δ_j = f'(z_j) Σ_k δ_k w_jk in both conventions, with w_jk as it was before the step;
    summed over k in order, as the kernel does, so the result is exact."""
    _, _, _, tr = traced(case, data, convention)
    for l in range(len(tr.layers) - 1):
        layer, above = tr.layers[l], tr.layers[l + 1]
        for j in range(len(layer.delta)):
            s = 0.0
            for k in range(len(above.delta)):
                s += float(above.delta[k]) * float(above.w[j, k])
            assert layer.delta[j] == float(layer.fprime[j]) * s, (l, j)


@given(networks_and_data(), st.data(), st.sampled_from(nb.CONVENTIONS))
def test_gradient_and_step(case, data, convention):
    """∂E/∂w_ij = δ_j y_i and ∂E/∂b_j = δ_j with δ = ∂E/∂z (the note's δ negated); against
    the oracle's gradient; Δw_ij = ±η δ_j y_i; new w = w + Δw exactly."""
    weights, biases, activations, _, _ = case
    net, x, t, tr = traced(case, data, convention)
    sign = -1.0 if convention == "note" else 1.0
    _, _, sw, sb = oracle.error_scales(weights, biases, x[None], t[None])
    ow, ob = oracle.gradient(weights, biases, activations, x[None], t[None])
    for l, layer in enumerate(tr.layers):
        y_i, d = inputs_of(tr, l), sign * layer.delta  # d = ∂E/∂z
        np.testing.assert_array_equal(layer.grad_w, np.outer(y_i, d))
        np.testing.assert_array_equal(layer.grad_b, d)
        oracle.assert_close(layer.grad_w, ow[l], sw[l], f"∂E/∂w of layer {l}")
        oracle.assert_close(layer.grad_b, ob[l], sb[l], f"∂E/∂b of layer {l}")
        np.testing.assert_array_equal(layer.delta_w, -(tr.eta * layer.grad_w))
        np.testing.assert_array_equal(layer.new_w, layer.w + layer.delta_w)
        if tr.train_biases:
            np.testing.assert_array_equal(layer.delta_b, -(tr.eta * layer.grad_b))
        else:
            np.testing.assert_array_equal(layer.delta_b, 0.0)
        np.testing.assert_array_equal(layer.new_b, layer.b + layer.delta_b)


@given(networks_and_data(), st.data(), st.sampled_from(nb.CONVENTIONS))
def test_the_step_is_fit_on_that_sample_bit_for_bit(case, data, convention):
    """tr.new_w and tr.new_b are the weights fit(epochs=1, batch_size=1, shuffle=False)
    leaves after that one sample; the traced network itself does not change."""
    net, x, t, tr = traced(case, data, convention)
    before = net.parameters.copy()
    fitted = net.copy()
    fitted.fit(x[None], t[None], epochs=1, eta=tr.eta, batch_size=1, shuffle=False,
               train_biases=tr.train_biases, on_divergence="stop")
    for l, layer in enumerate(tr.layers):
        np.testing.assert_array_equal(layer.new_w, fitted.weights[l])
        np.testing.assert_array_equal(layer.new_b, fitted.biases[l])
    np.testing.assert_array_equal(net.parameters, before)


@given(networks_and_data(), st.data())
def test_both_conventions_give_the_same_step(case, data):
    """Only the sign of δ differs; Δw, Δb, ∂E/∂w and the new weights are identical."""
    weights, biases, activations, X, T = case
    net = nb.Network.from_weights(weights, biases, activations)
    eta = data.draw(etas, label="eta")
    train_biases = data.draw(st.booleans(), label="train_biases")
    note, gradient = (net.trace(X[0], T[0], eta=eta, convention=c, train_biases=train_biases)
                      for c in ("note", "gradient"))
    assert note.error == gradient.error
    for a, b in zip(note.layers, gradient.layers):
        np.testing.assert_array_equal(a.delta, -b.delta)
        for key in ("z", "y", "fprime", "grad_w", "grad_b", "delta_w", "delta_b", "new_w",
                    "new_b"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)


# --- the printed trace ---------------------------------------------------------------------

# A 1-1-1 network of linear neurons with η = 1/8, worked by hand (every number is exact in
# binary, so the printed digits are the hand-computed ones):
#   hidden: z = 0.5·2 + 0.25 = 1.25 = y;  output: z = 2·1.25 + (−1) = 1.5 = y
#   E = ½ (1 − 1.5)² = 0.125
#   note: δ_out = (1 − 1.5)·1 = −0.5;  δ_hidden = 1·(−0.5·2) = −1
#   ∂E/∂w_hidden = −δ·x = 2, ∂E/∂b_hidden = 1;  ∂E/∂w_out = −δ·y = 0.625, ∂E/∂b_out = 0.5
#   Δw_hidden = 0.125·(−1)·2 = −0.25 (0.5 → 0.25);  Δb_hidden = −0.125 (0.25 → 0.125)
#   Δw_out = 0.125·(−0.5)·1.25 = −0.078125 (2 → 1.921875);  Δb_out = −0.0625 (−1 → −1.0625)
HAND_NET = ([[[0.5]], [[2.0]]], [[0.25], [-1.0]], ["linear", "linear"])
HAND_TRACE = """\
Trace of one online training step on one sample (the network is unchanged)
network 1-1-1 (linear, linear), η = 0.125, biases trained: yes
δ as in the study note (convention="note"): δ_k = (t_k − y_k) f'(z_k), Δw_ij = +η δ_j y_i
indices count from 1 as in the texts, arrays from 0: w_ij is w[i-1, j-1]
== forward pass ==
input
  x_1 = 2
hidden 1 (linear)
  z_1 = w_11·x_1 + b_1 = 0.5·2 + 0.25 = 1.25
  y_1 = z_1 = 1.25
output (linear)
  z_1 = w_11·y_1 + b_1 = 2·1.25 + (-1) = 1.5
  y_1 = z_1 = 1.5
== error ==
  E = ½ Σ_k (t_k − y_k)² = ½ ((1 − 1.5)²) = 0.125
== backward pass (δ as in convention 'note') ==
output (linear: f'(z) = 1)
  δ_1 = (t_1 − y_1) f'(z_1) = (1 − 1.5)·1 = -0.5
hidden 1 (linear: f'(z) = 1)
  δ_1 = f'(z_1) Σ_k δ_k w_1k = 1·((-0.5)·2) = -1
== gradient: ∂E/∂w_ij = −δ_j y_i, ∂E/∂b_j = −δ_j ==
hidden 1
  ∂E/∂w_11 = −δ_1 x_1 = −(-1)·2 = 2
  ∂E/∂b_1 = −δ_1 = −(-1) = 1
output
  ∂E/∂w_11 = −δ_1 y_1 = −(-0.5)·1.25 = 0.625
  ∂E/∂b_1 = −δ_1 = −(-0.5) = 0.5
== update (online): Δw_ij = +η δ_j y_i, Δb_j = +η δ_j, new = old + Δ ==
hidden 1
  Δw_11 = η δ_1 x_1 = 0.125·(-1)·2 = -0.25, w_11: 0.5 → 0.25
  Δb_1 = η δ_1 = 0.125·(-1) = -0.125, b_1: 0.25 → 0.125
output
  Δw_11 = η δ_1 y_1 = 0.125·(-0.5)·1.25 = -0.078125, w_11: 2 → 1.921875
  Δb_1 = η δ_1 = 0.125·(-0.5) = -0.0625, b_1: -1 → -1.0625"""


def test_printed_trace_matches_a_hand_computation():
    tr = nb.Network.from_weights(*HAND_NET).trace([2.0], [1.0], eta=0.125)
    assert str(tr) == HAND_TRACE
    assert tr.to_text() == HAND_TRACE


def test_printed_trace_in_the_gradient_convention():
    """Same network: δ_out = (1.5 − 1)·1 = 0.5, δ_hidden = 1·(0.5·2) = 1, Δw = −η δ y."""
    text = str(nb.Network.from_weights(*HAND_NET).trace([2.0], [1.0], eta=0.125,
                                                        convention="gradient"))
    assert "  δ_1 = (y_1 − t_1) f'(z_1) = (1.5 − 1)·1 = 0.5\n" in text
    assert "  δ_1 = f'(z_1) Σ_k δ_k w_1k = 1·(0.5·2) = 1\n" in text
    assert "  ∂E/∂w_11 = δ_1 y_1 = 0.5·1.25 = 0.625\n" in text
    assert "  Δw_11 = −η δ_1 x_1 = −0.125·1·2 = -0.25, w_11: 0.5 → 0.25\n" in text
    assert "  Δb_1 = −η δ_1 = −0.125·0.5 = -0.0625, b_1: -1 → -1.0625" in text


def test_printed_mazur_first_line_and_fixed_biases():
    """Mazur (2015): net_h1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775, done by hand."""
    net = nb.Network.from_weights([[[0.15, 0.25], [0.20, 0.30]], [[0.40, 0.50], [0.45, 0.55]]],
                                  [[0.35, 0.35], [0.60, 0.60]], ["sigmoid", "sigmoid"])
    tr = net.trace([0.05, 0.10], [0.01, 0.99], eta=0.5, train_biases=False)
    text = tr.to_text(digits=4)
    assert "  z_1 = w_11·x_1 + w_21·x_2 + b_1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775\n" in text
    assert "biases trained: no" in text and "Δb_1" not in text
    assert text.count("biases not trained: every b_j stays as it was") == 2
    np.testing.assert_array_equal(tr.layers[0].new_b, [0.35, 0.35])


@pytest.mark.parametrize(("activation", "y_line", "fprime"), [
    ("sigmoid", "y_1 = σ(z_1) = σ(0) = 0.5", "f'(z) = y (1 − y)"),
    ("tanh", "y_1 = tanh(z_1) = tanh(0) = 0", "f'(z) = 1 − y²"),
    ("relu", "y_1 = max(0, z_1) = max(0, 0) = 0", "f'(z) = 1 if z > 0 else 0"),
])
def test_printed_activations(activation, y_line, fprime):
    tr = nb.Network.from_weights([[[1.0]]], [[0.0]], [activation]).trace([0.0], [1.0])
    assert f"  {y_line}\n" in str(tr)
    assert f"output ({activation}: {fprime})" in str(tr)


def test_large_layers_are_abbreviated_in_print_but_complete_in_the_arrays():
    net = nb.Network([12, 9, 3], seed=0)
    tr = net.trace(np.linspace(0, 1, 12), [0, 1, 0])
    short, full = tr.to_text(), tr.to_text(full=True)
    assert "  ⋮\n" in short and "⋮" not in full
    assert "x_4 =" not in short and "x_4 =" in full and "x_12 =" in short
    assert " + … + w_11,1·x_11 + w_12,1·x_12 + b_1 = " in short
    assert "z_4 =" not in short.split("== error ==")[0] and "z_9 =" in short
    assert "Δw_12,9 = " in short and "Δw_41 = " not in short and "Δw_41 = " in full
    assert len(short.splitlines()) < len(full.splitlines())
    assert tr.layers[0].z.shape == (9,) and tr.layers[0].new_w.shape == (12, 9)
    assert "large layers show their first 3 and last 2 neurons" in short


def test_digits():
    tr = nb.Network.from_weights([[[1.0]]], [[0.0]], ["sigmoid"]).trace([1.0], [0.0])
    assert "σ(1) = 0.731058579\n" in tr.to_text()  # σ(1) = 0.7310585786…
    assert "σ(1) = 0.731\n" in tr.to_text(digits=3)


def test_markdown():
    md = nb.Network.from_weights(*HAND_NET).trace([2.0], [1.0], eta=0.125).to_markdown()
    assert md.startswith("### Trace of one online training step")
    assert "\n#### forward pass\n" in md and "\n**hidden 1 (linear)**\n" in md
    assert "\n- `z_1 = w_11·x_1 + b_1 = 0.5·2 + 0.25 = 1.25`\n" in md


def test_to_dict_is_plain_json_and_exact():
    net = nb.Network([3, 4, 2], activation="tanh", seed=1)
    tr = net.trace([0.1, -0.2, 0.3], [0.5, -0.5], eta=0.1, convention="gradient")
    d = json.loads(json.dumps(tr.to_dict()))
    assert d["sizes"] == [3, 4, 2] and d["convention"] == "gradient" and d["error"] == tr.error
    assert [layer["name"] for layer in d["layers"]] == ["hidden 1", "output"]
    for layer, got in zip(tr.layers, d["layers"]):
        for key in nb.trace.LAYER_ARRAYS:
            np.testing.assert_array_equal(np.array(got[key]), getattr(layer, key), err_msg=key)


def test_a_trace_is_a_read_only_record_independent_of_the_network():
    net = nb.Network([2, 2, 1], seed=0)
    tr = net.trace([1.0, 0.0], [1.0])
    with pytest.raises(ValueError):
        tr.layers[0].w[0, 0] = 5.0
    net.weights[0][0, 0] = 5.0
    assert tr.layers[0].w[0, 0] != 5.0
    assert net.trace(tr.x, tr.t).layers[0].w[0, 0] == 5.0  # read-only arrays are fine as input
    assert repr(tr).startswith("Trace(sizes=(2, 2, 1), convention='note', eta=0.5, error=")
    assert repr(tr.layers[0]) == "LayerTrace('hidden 1', sigmoid, 2 → 2 neurons)"
    assert [layer.name for layer in nb.Network([1, 2, 2, 2, 1]).trace([0], [0]).layers] == \
        ["hidden 1", "hidden 2", "hidden 3", "output"]


# --- bad input -----------------------------------------------------------------------------


def net():
    return nb.Network([2, 3, 1], "tanh", output_activation="sigmoid", seed=0)


def poked():
    n = net()
    n.weights[1][2, 0] = np.inf
    return n


BAD = [
    (lambda: net().trace([1.0, 2.0, 3.0], [1.0]), ValueError, ["x", "one sample", "(2,)", "(3,)"]),
    (lambda: net().trace([[1.0, 2.0], [3.0, 4.0]], [1.0]), ValueError, ["x", "(2,)", "(2, 2)"]),
    (lambda: net().trace([1.0, np.nan], [1.0]), ValueError, ["x", "finite", "nan"]),
    (lambda: net().trace(["a", "b"], [1.0]), TypeError, ["x", "real numbers"]),
    (lambda: net().trace([1.0, 2.0], [1.0, 0.0]), ValueError, ["t", "(1,)", "(2,)"]),
    (lambda: net().trace([1.0, 2.0], [np.inf]), ValueError, ["t", "finite", "inf"]),
    (lambda: net().trace([1.0, 2.0], [1.0], eta=0), ValueError, ["eta", "positive", "0.0"]),
    (lambda: net().trace([1.0, 2.0], [1.0], eta=-0.5), ValueError, ["eta", "positive", "-0.5"]),
    (lambda: net().trace([1.0, 2.0], [1.0], eta=np.nan), ValueError, ["eta", "positive", "nan"]),
    (lambda: net().trace([1.0, 2.0], [1.0], eta="0.5"), TypeError, ["eta", "'0.5'"]),
    (lambda: net().trace([1.0, 2.0], [1.0], convention="article"), ValueError,
     ["convention", "'note'", "'gradient'", "'article'"]),
    (lambda: net().trace([1.0, 2.0], [1.0], convention=None), TypeError, ["convention", "None"]),
    (lambda: net().trace([1.0, 2.0], [1.0], train_biases="no"), TypeError,
     ["train_biases", "True or False"]),
    (lambda: poked().trace([1.0, 2.0], [1.0]), ValueError, ["weights[1]", "finite", "inf"]),
    (lambda: net().trace([1.0, 2.0], [1.0]).to_text(digits=0), ValueError, ["digits", "≥ 1"]),
    (lambda: net().trace([1.0, 2.0], [1.0]).to_text(digits=2.5), TypeError, ["digits", "integer"]),
    (lambda: net().trace([1.0, 2.0], [1.0]).to_markdown(full="yes"), TypeError,
     ["full", "True or False"]),
]


@pytest.mark.parametrize(("call", "exception", "words"), BAD,
                         ids=[f"{i}-{words[0]}" for i, (_, _, words) in enumerate(BAD)])
def test_bad_input_gets_a_clear_error(call, exception, words):
    assert_clear_error(call, exception, words)


def test_the_formula_map_names_real_kernels_and_tests():
    """docs/formulas.md sends readers to kernels and tests by name: they must exist."""
    root = Path(__file__).resolve().parent.parent
    text = (root / "docs" / "formulas.md").read_text()
    tests = re.findall(r"tests/(\w+\.py)::(\w+)", text)
    assert len(tests) > 20
    for file, name in tests:
        assert f"\ndef {name}(" in (root / "tests" / file).read_text(), f"{file}::{name}"
    checked, column = 0, None  # table rows seen; the current table's "computed by" column
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if not line.startswith("|"):
            column = None
        elif column is None:
            names = [c for c in ("computed by", "kernel") if c in cells]
            column = cells.index(names[0]) if names else None
        elif not line.startswith("|---"):
            for name in re.findall(r"`([a-z_]+)`", cells[column]):
                modules = (formulas, fast, training, activations)
                assert any(hasattr(m, name) for m in modules) or name in ("w_jk", "s"), name
            checked += 1
    assert checked > 30
