"""∂C/∂θ from backpropagation against central finite differences of C.

Error model, for the step h = ε^(1/3)·max(1, |θ_p|) ≈ 6e-6 (ε = 2.2e-16), which balances
truncation against rounding for central differences:

    D(h) = (C(θ + h) − C(θ − h)) / 2h = ∂C/∂θ + (h²/6)·C''' + r,   |r| ≤ ε_C / h,

where ε_C bounds the rounding error of one evaluation of C. The truncation term is
measured, not guessed: D(2h) − D(h) ≈ (3h²/6)·C''', three times the truncation at h.
So a correct gradient g satisfies

    |D(h) − g| ≤ |D(2h) − D(h)| + 3·ε_C/h,   ε_C = 100·ε·S_C

(S_C: the oracle's bound on the magnitudes C is summed from; 100 covers depth × width),
while a wrong index, sign or derivative is off by O(|g|), far above that bound.
Parameters whose ±2h perturbation flips a ReLU unit on or off are skipped: C has a kink
there and no difference quotient approximates a derivative.
"""

import numpy as np
import pytest
from hypothesis import given

import nbbackprop as nb
from oracle import error_scales, forward, networks_and_data

EPS = np.finfo(np.float64).eps


def relu_pattern(net, X):
    return [Z > 0 for (Z, _), a in zip(forward(net.weights, net.biases, net.activations, X),
                                       net.activations) if a == "relu"]


def central_difference(net, X, T, p, h):
    theta = net.parameters
    old = theta[p]
    theta[p] = old + h
    up = net.error(X, T)
    theta[p] = old - h
    down = net.error(X, T)
    theta[p] = old  # exactly restored: the next parameter sees the original network
    return (up - down) / (2 * h)


@given(networks_and_data())
def test_gradient_matches_central_differences(case):
    weights, biases, activations, X, T = case
    net = nb.Network.from_weights(weights, biases, activations)
    gw, gb = net.gradient(X, T)
    g = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(gw, gb)])
    _, s_c, _, _ = error_scales(weights, biases, X, T)
    pattern = relu_pattern(net, X)
    theta = net.parameters
    checked = 0
    for p in range(theta.size):
        h = EPS ** (1 / 3) * max(1.0, abs(theta[p]))
        old = theta[p]
        kink = False
        for shift in (-2 * h, 2 * h):
            theta[p] = old + shift
            kink |= any((a != b).any() for a, b in zip(pattern, relu_pattern(net, X)))
        theta[p] = old
        if kink:
            continue
        d1, d2 = central_difference(net, X, T, p, h), central_difference(net, X, T, p, 2 * h)
        bound = abs(d2 - d1) + 3 * 100 * EPS * s_c / h
        assert abs(d1 - g[p]) <= bound, (p, d1, g[p], bound)
        checked += 1
    assert np.array_equal(net.parameters, theta)  # the checks left the network as it was
    if "relu" not in activations:
        assert checked == theta.size


@given(networks_and_data())
def test_batch_gradient_is_mean_of_sample_gradients(case):
    """Summed in sample order then divided by n, exactly as a user would by hand."""
    weights, biases, activations, X, T = case
    net = nb.Network.from_weights(weights, biases, activations)
    gw, gb = net.gradient(X, T)
    sum_w = [np.zeros_like(w) for w in weights]
    sum_b = [np.zeros_like(b) for b in biases]
    for s in range(len(X)):
        sw, sb = net.gradient(X[s], T[s])
        sum_w = [a + b for a, b in zip(sum_w, sw)]
        sum_b = [a + b for a, b in zip(sum_b, sb)]
    for l in range(len(weights)):
        np.testing.assert_array_equal(gw[l], sum_w[l] / len(X))
        np.testing.assert_array_equal(gb[l], sum_b[l] / len(X))


def test_gradient_of_a_hand_computed_network():
    """One sigmoid neuron, worked by hand: z = 0.5·1 + 0 = 0.5, y = σ(0.5),
    δ = (y − t)·y(1 − y), ∂E/∂w = δ·x, ∂E/∂b = δ."""
    net = nb.Network.from_weights([[[0.5]]], [[0.0]], activations=["sigmoid"])
    y = 1 / (1 + np.exp(-0.5))
    delta = (y - 1.0) * y * (1 - y)
    gw, gb = net.gradient([1.0], [1.0])
    assert gw[0][0, 0] == pytest.approx(delta, rel=1e-15)
    assert gb[0][0] == pytest.approx(delta, rel=1e-15)
    assert net.error([1.0], [1.0]) == pytest.approx(0.5 * (1.0 - y) ** 2, rel=1e-15)
