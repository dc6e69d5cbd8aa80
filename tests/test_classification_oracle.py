"""Softmax outputs, cross-entropy and weight decay against the independent NumPy oracle
(tests/oracle.py, which derives each output delta its own way) and PyTorch autograd.

Tolerances: |got − want| ≤ 1e-12 · scale, with oracle.error_scales bounding the
magnitudes that rounding errors grow with for the network's output and loss.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import nbbackprop as nb
import oracle
from oracle import assert_close, classifier_networks_and_data


def build(case):
    weights, biases, activations, X, T, loss = case
    return nb.Network.from_weights(weights, biases, activations, loss=loss), X, T


@given(classifier_networks_and_data())  # saturated or not: drawn
def test_forward_error_and_gradient_agree_with_the_oracle(case):
    weights, biases, activations, X, T, loss = case
    assume(not oracle.relu_kink_ambiguous(weights, biases, activations, X))
    net, X, T = build(case)
    sy, se, sw, sb = oracle.error_scales(weights, biases, X, T, activations=activations,
                                         loss=loss)
    assert_close(net.forward(X), oracle.forward(weights, biases, activations, X)[-1][1], sy,
                 "forward")
    assert_close(net.error(X, T), oracle.error(weights, biases, activations, X, T, loss), se,
                 "error")
    grad_w, grad_b = net.gradient(X, T)
    want_w, want_b = oracle.gradient(weights, biases, activations, X, T, loss)
    for l in range(len(weights)):
        assert_close(grad_w[l], want_w[l], sw[l], f"∂C/∂w of layer {l}")
        assert_close(grad_b[l], want_b[l], sb[l], f"∂C/∂b of layer {l}")


@given(classifier_networks_and_data(saturated=True))
def test_saturated_networks_give_finite_errors_and_gradients(case):
    net, X, T = build(case)
    with np.errstate(all="raise"):
        assert np.isfinite(net.error(X, T))
        for arrays in net.gradient(X, T):
            assert all(np.isfinite(a).all() for a in arrays)


@given(classifier_networks_and_data(), st.floats(1e-4, 1.0))
def test_one_step_with_weight_decay_is_the_oracles_step(case, decay):
    """A full-batch step: w − η (∂C/∂w + λ w) with the oracle's ∂C/∂w, b − η ∂C/∂b."""
    weights, biases, activations, X, T, loss = case
    assume(not oracle.relu_kink_ambiguous(weights, biases, activations, X))
    net, X, T = build(case)
    net.fit(X, T, epochs=1, eta=0.1, batch_size=len(X), shuffle=False, weight_decay=decay)
    want_w, want_b = oracle.gradient(weights, biases, activations, X, T, loss, decay)
    _, _, sw, sb = oracle.error_scales(weights, biases, X, T, activations=activations,
                                       loss=loss, weight_decay=decay)
    for l in range(len(weights)):
        assert_close(net.weights[l], weights[l] - 0.1 * want_w[l], 0.1 * sw[l], "new w")
        assert_close(net.biases[l], biases[l] - 0.1 * want_b[l], 0.1 * sb[l], "new b")


@given(classifier_networks_and_data(loss="cross_entropy"))
def test_agrees_with_torch_autograd(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    weights, biases, activations, X, T, loss = case
    assume(not oracle.relu_kink_ambiguous(weights, biases, activations, X))
    net, X, T = build(case)
    params = [torch.tensor(a, requires_grad=True) for pair in zip(weights, biases) for a in pair]
    Y = torch.from_numpy(X)
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "linear": lambda z: z}
    for l, name in enumerate(activations):
        Z = Y @ params[2 * l] + params[2 * l + 1]
        Y = Z if l == len(activations) - 1 else acts[name](Z)
    target = torch.from_numpy(T)
    if activations[-1] == "softmax":
        C = F.cross_entropy(Z, target)  # probability targets, mean over samples
    else:
        C = F.binary_cross_entropy_with_logits(Z, target, reduction="sum") / len(X)
    C.backward()
    _, se, sw, sb = oracle.error_scales(weights, biases, X, T, activations=activations,
                                        loss=loss)
    assert_close(net.error(X, T), C.item(), se, "error")
    grad_w, grad_b = net.gradient(X, T)
    for l in range(len(weights)):
        assert_close(grad_w[l], params[2 * l].grad.numpy(), sw[l], f"∂C/∂w of layer {l}")
        assert_close(grad_b[l], params[2 * l + 1].grad.numpy(), sb[l], f"∂C/∂b of layer {l}")
