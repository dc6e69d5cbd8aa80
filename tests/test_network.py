"""Network's parameters: views, in-place pokes, copies, and initialisation."""

import numpy as np
import pytest

import nbbackprop as nb
from nbbackprop import fast, finite_differences, formulas, layout, network, training


def test_shapes_and_names():
    net = nb.Network([2, 3, 1], activation="tanh", output_activation="sigmoid", seed=0)
    assert net.sizes == (2, 3, 1) and net.activations == ("tanh", "sigmoid")
    assert [w.shape for w in net.weights] == [(2, 3), (3, 1)]
    assert [b.shape for b in net.biases] == [(3,), (1,)]
    assert all(a.dtype == np.float64 for a in [*net.weights, *net.biases])
    assert net.parameters.size == 2 * 3 + 3 + 3 * 1 + 1
    mixed = nb.Network([2, 2, 2, 1], ["relu", "tanh", "linear"], output_activation="sigmoid")
    assert mixed.activations == ("relu", "tanh", "sigmoid")


def test_poking_a_weight_in_place_changes_the_network():
    net = nb.Network([2, 2, 1], "linear", seed=0)
    x = np.array([1.0, 2.0])
    before = net.forward(x)[0]
    net.weights[1][0, 0] += 1.0  # w_11 of the output layer: z_1 grows by y_1 of the hidden layer
    hidden = x @ net.weights[0] + net.biases[0]
    assert net.forward(x)[0] == pytest.approx(before + hidden[0], rel=1e-15)
    net.biases[1][0] = 5.0
    assert net.forward(x)[0] == pytest.approx(hidden @ net.weights[1][:, 0] + 5.0, rel=1e-15)


def test_assigning_a_layer_copies_into_the_network():
    net = nb.Network([2, 2, 1], "linear", seed=0)
    view = net.weights[0]
    net.weights[0] = [[1, 2], [3, 4]]
    assert view is net.weights[0]
    np.testing.assert_array_equal(net.weights[0], [[1.0, 2.0], [3.0, 4.0]])
    net.weights[np.int64(1)] = [[1.0], [1.0]]
    net.weights[-2] = np.eye(2)
    net.biases = [np.ones(2), np.full(1, 7.0)]
    np.testing.assert_array_equal(net.forward([0.0, 0.0]), [2.0 + 7.0])


def test_from_weights_and_copy_are_independent():
    w = [np.ones((2, 2)), np.ones((2, 1))]
    b = [np.zeros(2), np.zeros(1)]
    net = nb.Network.from_weights(w, b, activations=["tanh", "linear"])
    w[0][0, 0] = 9.0
    assert net.weights[0][0, 0] == 1.0
    twin = net.copy()
    twin.weights[0][0, 0] = 3.0
    assert net.weights[0][0, 0] == 1.0


def test_gradient_does_not_alias_the_network():
    X, T = nb.xor()
    net = nb.Network([2, 2, 1], seed=0)
    gw, _ = net.gradient(X, T)
    gw[0][...] = 99.0
    assert not (net.weights[0] == 99.0).any()


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "linear"])
def test_auto_init_is_glorot_uniform_for_saturating_and_linear_layers(activation):
    a = nb.Network([30, 20, 10], activation, seed=4)
    b = nb.Network([30, 20, 10], activation, seed=4, init="glorot")
    np.testing.assert_array_equal(a.parameters, b.parameters)
    for w, bias in zip(a.weights, a.biases):
        limit = np.sqrt(6 / sum(w.shape))
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
        assert not bias.any()


def test_auto_init_is_he_normal_for_relu_layers():
    a = nb.Network([400, 300, 2], "relu", seed=4)
    np.testing.assert_array_equal(a.parameters, nb.Network([400, 300, 2], "relu", seed=4,
                                                           init="he").parameters)
    w = a.weights[0]
    assert w.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)  # 120,000 draws
    assert not a.biases[0].any()


def test_literature_inits_draw_biases_too():
    normal = nb.Network([200, 100, 1], init="normal", seed=1)
    assert normal.weights[0].std() == pytest.approx(1.0, rel=0.02)
    assert normal.biases[0].std() == pytest.approx(1.0, rel=0.3)
    uniform = nb.Network([200, 100, 1], init="uniform", init_scale=0.3, seed=1)
    for array in (uniform.weights[0], uniform.biases[0]):
        assert np.abs(array).max() <= 0.3 and np.abs(array).max() > 0.25


def test_kernels_are_cached_and_exact():
    """Every kernel is cached on disk, and none trades IEEE semantics for speed: plain
    fastmath would delete the non-finite checks that divergence detection relies on."""
    modules = (formulas, fast, training, layout, finite_differences)
    jitted = [obj for module in modules for obj in vars(module).values()
              if hasattr(obj, "targetoptions")]
    assert len(jitted) >= 30
    for kernel in jitted:
        assert type(kernel._cache).__name__ == "FunctionCache", kernel
        assert not kernel.targetoptions.get("fastmath"), kernel


def test_repr():
    assert repr(nb.Network([2, 3, 1], "tanh")) == (
        "Network(sizes=(2, 3, 1), activations=('tanh', 'tanh'), loss='squared')")
    history = nb.Network([2, 1], seed=0).fit(*nb.xor(), epochs=2)
    assert repr(history).startswith("History(epochs=2 (the network's 1–2), final error=")
    assert network.History is nb.History
