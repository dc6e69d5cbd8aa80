"""Mutation tests: take a correct backpropagation, inject a bug people really make, and
ask the report which entries are wrong. Hypothesis picks the network, the data and where
the bug goes, and half the time puts ReLU units exactly at z = 0 (``at_kinks``).

The buggy gradients are built here, from the oracle's matrix-form backpropagation, never
in the package. An entry counts as *affected* when the bug changed it. The report must
flag every entry the bug moved clearly outside what a right gradient may be (farther than
2·tol from the right value or, at a ReLU kink, from the range of the one-sided
derivatives), flag no entry the bug left unchanged, and its
``worst`` must be one of the affected entries. (An entry moved by less than its tolerance
cannot be told from rounding and may go either way.)
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import nbbackprop as nb
import oracle
from oracle import networks_and_data

BUGS = ("transposed weight matrix", "missing f'", "wrong sign of δ", "bias × batch size",
        "off-by-one neuron index", "stale weights in hidden delta", "one corrupted entry")


def backprop(weights, biases, activations, X, T, bug=None, at=0, eta=0.1):
    """oracle.gradient's backpropagation in matrix form, with ``bug`` injected at layer ``at``."""
    layers = oracle.forward(weights, biases, activations, X)
    n, L = len(X), len(weights)
    Z, Y = layers[-1]
    delta = Y - T if bug == "missing f'" and at == L - 1 else (Y - T) * oracle.f_prime(
        activations[-1], Z)
    if bug == "wrong sign of δ":
        delta = -delta  # the study note's δ_k = (t_k − y_k) f'(z_k) with the article's update
    gw, gb = [None] * L, [None] * L
    for l in reversed(range(L)):
        Y_below = X if l == 0 else layers[l - 1][1]
        d = np.roll(delta, 1, axis=1) if bug == "off-by-one neuron index" and l == at else delta
        gw[l] = Y_below.T @ d / n
        gb[l] = d.sum(axis=0) if bug == "bias × batch size" and l == at else d.mean(axis=0)
        if l > 0:
            W = weights[l]
            if bug == "transposed weight matrix" and l == at:
                W = W.T  # a square layer, so the shapes still fit
            if bug == "stale weights in hidden delta" and l == at:
                W = W - eta * gw[l]  # the weights after this step's update
            delta = delta @ W.T
            if not (bug == "missing f'" and l - 1 == at):
                delta = delta * oracle.f_prime(activations[l - 1], layers[l - 1][0])
    return gw, gb


@st.composite
def bugged_cases(draw, bug):
    if bug == "transposed weight matrix":  # needs a square layer l ≥ 1
        L = draw(st.integers(2, 4))
        at = draw(st.integers(1, L - 1))
        sizes = draw(st.lists(st.integers(1, 6), min_size=L + 1, max_size=L + 1))
        sizes[at + 1] = sizes[at] = max(sizes[at], 2)
        case = draw(networks_and_data(sizes=st.just(sizes)))
    else:
        case = draw(networks_and_data())
        at = draw(st.integers(0, len(case[0]) - 1), label="layer")
    if draw(st.booleans(), label="at kinks"):
        case = at_kinks(draw, *case)
    return case, at, draw(st.data())


def at_kinks(draw, weights, biases, activations, X, T):
    """The same case with ReLU hidden layers and units exactly at z = 0 on purpose: some
    samples' inputs and some hidden biases set to 0 (then z_j = 0 in every implementation)."""
    activations = ["relu"] * (len(weights) - 1) + [activations[-1]]
    X = X.copy()
    X[draw(st.lists(st.booleans(), min_size=len(X), max_size=len(X)), label="zero rows")] = 0.0
    biases = [b.copy() for b in biases]
    for b in biases[:-1]:
        b[draw(st.lists(st.booleans(), min_size=b.size, max_size=b.size), label="zero b")] = 0.0
    return weights, biases, activations, X, T


def flat(gw, gb):
    return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(gw, gb)])


@pytest.mark.parametrize("bug", BUGS)
@given(data=st.data())
def test_the_report_flags_exactly_the_entries_the_bug_changed(bug, data):
    case, at, data = data.draw(bugged_cases(bug), label="case")
    weights, biases, activations, X, T = case
    net = nb.Network.from_weights(weights, biases, activations)
    right = backprop(*case)
    np.testing.assert_array_equal(flat(*right), flat(*oracle.gradient(*case)))
    if bug == "one corrupted entry":
        wrong = flat(*right)
        p = data.draw(st.integers(0, wrong.size - 1), label="entry")
        wrong[p] += data.draw(st.sampled_from([-1.0, 1e-3, 0.5]), label="by")
        wrong = net.per_layer(wrong)
    else:
        wrong = backprop(*case, bug=bug, at=at, eta=data.draw(st.floats(0.01, 1), label="eta"))
    report = nb.compare_gradients(net, X, T, *wrong)
    clean = nb.compare_gradients(net, X, T, *right)
    assert clean.ok, str(clean)

    change = np.abs(flat(*wrong) - flat(*right))
    # Wrong: outside the values a right gradient may have; at a kink, the one-sided range.
    low = np.array([e.low if e.kink else e.analytic for e in clean.entries])
    high = np.array([e.high if e.kink else e.analytic for e in clean.entries])
    outside = np.maximum(low - flat(*wrong), flat(*wrong) - high)
    clear = outside > 2 * np.array([e.tol for e in clean.entries])
    assume(clear.any())  # a bug that moves nothing measurable is not one to look for
    flagged = np.array([not e.ok for e in report.entries])
    names = np.array([e.name for e in report.entries])
    unchanged = change == 0
    assert not (flagged & unchanged).any(), f"{bug}: flagged {names[flagged & unchanged]}"
    assert not (clear & ~flagged).any(), f"{bug}: missed {names[clear & ~flagged]}\n{report}"
    assert report.worst.name in set(names[change > 0])
    assert not report.worst.ok
