"""The gradient check at ReLU kinks: a wrong value outside the range of the one-sided
derivatives fails like any other, and every wrong entry is named.

The networks put units exactly at z = 0 on purpose (a zero input and zero biases, or a
weight sum that cancels exactly), so the kink is there in every implementation. Buggy
gradients come from the corpus script's own NumPy backpropagation, not from the package.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import nbbackprop as nb


def load_script(name):
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


corpus = load_script("gradcheck_corpus")

# 2-2-1, relu then linear, one sample x = (1, 1), t = 1.5. Hidden unit 0: z = 1·1 − 1·1 + 0
# = 0 exactly (at its kink); unit 1: z = 2, y = 2. Output y = 1.25·relu(z_0) + 1·2 = 2, so
# r = y − t = 0.5. Moving w_00 by +h moves z_0 by x_0·h = h: unit 0 turns on and
# ∂E/∂w_00 = r · 1.25 · x_0 = 0.625 (right); by −h it stays off: 0 (left).
SMALL = ([np.array([[1.0, 1.0], [-1.0, 1.0]]), np.array([[1.25], [1.0]])],
         [np.zeros(2), np.zeros(1)], ["relu", "linear"], np.array([[1.0, 1.0]]),
         np.array([[1.5]]))


def small_report(value):
    weights, biases, activations, X, T = SMALL
    net = nb.Network.from_weights(weights, biases, activations)
    gw, gb = net.gradient(X, T)
    gw[0][0, 0] = value
    return nb.compare_gradients(net, X, T, gw, gb)


@pytest.mark.parametrize("value", [-0.625, 1.25, 0.7, -0.01])
def test_a_value_outside_the_one_sided_derivatives_fails(value):
    report = small_report(value)
    entry = report.entries[0]
    assert entry.name == "weights[0][0, 0]" and entry.kink
    assert entry.left == pytest.approx(0.0, abs=1e-8)
    assert entry.right == pytest.approx(0.625, abs=1e-8)
    assert not entry.ok and [e.name for e in report.failures] == ["weights[0][0, 0]"]


@pytest.mark.parametrize("value", [0.0, 0.3125, 0.625])
def test_a_value_between_the_one_sided_derivatives_passes(value):
    report = small_report(value)
    assert report.ok, str(report)
    assert report.entries[0].tol < 1e-6  # the kink is not allowed twice


def larger_case(seed):
    """4-5-5-2 ReLU networks (relu, relu, linear) on 6 samples, two of them all zero, and
    zero biases in the hidden layers: every hidden unit is at z = 0 for those samples."""
    rng = np.random.default_rng(seed)
    sizes = (4, 5, 5, 2)
    W = [rng.uniform(-2, 2, (a, b)) for a, b in zip(sizes, sizes[1:])]
    b = [np.zeros(5), np.zeros(5), rng.uniform(-2, 2, 2)]
    X = rng.uniform(-2, 2, (6, 4))
    X[:2] = 0.0
    return W, b, ["relu", "relu", "linear"], "squared", X, rng.uniform(-1, 1, (6, 2))


def assert_every_wrong_entry_named(case, wrong):
    """Every entry farther than 1e-5 outside the values a right gradient may have (relu'(0)
    = 0 or 1, C's one-sided derivatives from plain NumPy differences, and between) is
    flagged, and no entry the bug left unchanged is."""
    W, b, activations, loss, X, T = case
    net = nb.Network.from_weights(W, b, activations, loss=loss)
    g0 = corpus.flat(*corpus.backprop(*case))
    g1 = corpus.flat(*corpus.backprop(*case, relu_at_zero=1.0))
    values = [g0, g1, *corpus.one_sided(*case)]
    g = corpus.flat(*wrong)
    outside = np.maximum(np.min(values, axis=0) - g, g - np.max(values, axis=0))
    report = nb.compare_gradients(net, X, T, *wrong)
    tol = np.array([e.tol for e in report.entries])
    flagged = np.array([not e.ok for e in report.entries])
    names = np.array([e.name for e in report.entries])
    wrong_entries = outside > np.maximum(2 * tol, 1e-5)
    assert wrong_entries.any()
    assert not (wrong_entries & ~flagged).any(), f"missed {names[wrong_entries & ~flagged]}"
    assert not (flagged & (g == g0)).any(), f"flagged right {names[flagged & (g == g0)]}"
    assert report.n_kinks > 0


@pytest.mark.parametrize("seed", range(5))
def test_relu_prime_of_zero_equal_to_minus_one_is_named_wherever_it_matters(seed):
    case = larger_case(seed)
    assert_every_wrong_entry_named(case, corpus.backprop(*case, relu_at_zero=-1.0))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("at", [0, 1])
def test_relu_prime_missing_from_a_hidden_delta_is_named_wherever_it_matters(seed, at):
    case = larger_case(seed)
    assert_every_wrong_entry_named(case, corpus.backprop(*case, bug="missing f'", at=at))


@pytest.mark.parametrize("seed", range(5))
def test_the_right_gradient_passes_at_these_kinks(seed):
    case = larger_case(seed)
    W, b, activations, loss, X, T = case
    net = nb.Network.from_weights(W, b, activations, loss=loss)
    report = nb.compare_gradients(net, X, T, *corpus.backprop(*case))
    assert report.ok, str(report)


@pytest.mark.parametrize("seed", range(5))
def test_either_convention_passes_where_kinked_units_do_not_feed_each_other(seed):
    """One hidden layer of ReLU units at z = 0 for two samples: relu'(0) = 0 and
    relu'(0) = 1 both pass (the range holds frozen and left + right − frozen)."""
    W, b, _, loss, X, T = larger_case(seed)
    case = (W[0::2], [b[0], b[2]], ["relu", "linear"], loss, X, T)
    net = nb.Network.from_weights(*case[:3], loss=loss)
    for relu_at_zero in (0.0, 1.0):
        report = nb.compare_gradients(net, X, T, *corpus.backprop(*case, relu_at_zero=relu_at_zero))
        assert report.ok, str(report)
