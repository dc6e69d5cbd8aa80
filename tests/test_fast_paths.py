"""The fast training paths equal the one-sample reference kernels, bit for bit.

The batched, fused and threaded kernels reorder loops (several samples per sweep of w,
four terms per step, the online step folded into the next forward pass) but never a sum:
every z_j is summed over i, every δ_j over k and every gradient entry over the samples in
the reference's order. So the comparisons here are exact (assert_array_equal), against
pure-Python loops or the reference kernels, never against a tolerance.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nbbackprop as nb
from nbbackprop import fast, formulas
from nbbackprop.activations import ACTIVATIONS, fprime
from oracle import networks_and_data
from test_training import hand_rolled_sgd

values = st.floats(-2, 2, allow_nan=False, allow_infinity=False)


@st.composite
def layer_and_batch(draw):
    """(w, b, Y_below, code): widths 1–11 (so both the four-at-a-time loops and their
    remainders run), 1–9 samples."""
    n_i, n_j, m = draw(st.integers(1, 11)), draw(st.integers(1, 11)), draw(st.integers(1, 9))
    return (draw(arrays(np.float64, (n_i, n_j), elements=values)),
            draw(arrays(np.float64, (n_j,), elements=values)),
            draw(arrays(np.float64, (m, n_i), elements=values)),
            draw(st.integers(0, len(ACTIVATIONS) - 1)))


@given(layer_and_batch())
def test_forward_layer_batch_is_forward_layer_for_each_sample(case):
    w, b, Y_below, code = case
    m, n_j = Y_below.shape[0], w.shape[1]
    Z, Y = np.empty((m, n_j)), np.empty((m, n_j))
    fast.forward_layer_batch(w, b, Y_below, code, Z, Y)
    for s in range(m):
        z, y = np.empty(n_j), np.empty(n_j)
        formulas.forward_layer(w, b, Y_below[s], code, z, y)
        np.testing.assert_array_equal(Z[s], z)
        np.testing.assert_array_equal(Y[s], y)


@given(layer_and_batch(), st.data())
def test_hidden_delta_sums_over_k_in_order(case, data):
    w, _, D_above, code = case  # D_above[s, k]: δ_k of sample s
    w_above = np.ascontiguousarray(w.T)  # w_above[j, k] = w_jk, shape (n_j, n_k)
    n_j, m = w_above.shape[0], D_above.shape[0]
    Z = data.draw(arrays(np.float64, (m, n_j), elements=values))
    Y = data.draw(arrays(np.float64, (m, n_j), elements=values))
    D, DT = np.empty((m, n_j)), np.empty((n_j, m))
    fast.hidden_delta_batch(w_above, np.ascontiguousarray(D_above.T), Z, Y, code, D, DT)
    np.testing.assert_array_equal(DT, D.T)
    for s in range(m):
        delta = np.empty(n_j)
        formulas.hidden_delta(w_above, D_above[s], Z[s], Y[s], code, delta)
        np.testing.assert_array_equal(D[s], delta)
        for j in range(n_j):
            total = 0.0  # Python floats are IEEE doubles: the reference order, spelled out
            for k in range(w_above.shape[1]):
                total += float(D_above[s, k]) * float(w_above[j, k])
            assert delta[j] == fprime(code, Z[s, j], Y[s, j]) * total


@given(layer_and_batch(), st.data())
def test_accumulate_gradient_batch_adds_the_samples_in_order(case, data):
    grad_w, grad_b, Y_below, _ = case  # start from any gradient so far
    D = data.draw(arrays(np.float64, (Y_below.shape[0], grad_w.shape[1]), elements=values))
    batch_w, batch_b = grad_w.copy(), grad_b.copy()
    fast.accumulate_gradient_batch(D, Y_below, batch_w, batch_b)
    for s in range(len(D)):
        formulas.accumulate_gradient(D[s], Y_below[s], grad_w, grad_b)
    np.testing.assert_array_equal(batch_w, grad_w)
    np.testing.assert_array_equal(batch_b, grad_b)


@given(st.integers(1, 20), st.integers(1, 13), st.integers(1, 20), st.booleans(), st.data())
def test_add_products_sums_each_entry_over_k_in_order(n_r, n_k, n_c, transposed, data):
    """Sizes past the eight-row, four-term tile and its remainders; A also as a transposed
    view (how the gradient passes its y_si)."""
    A = data.draw(arrays(np.float64, (n_k, n_r) if transposed else (n_r, n_k), elements=values))
    A = A.T if transposed else A
    B = data.draw(arrays(np.float64, (n_k, n_c), elements=values))
    C = data.draw(arrays(np.float64, (n_r, n_c), elements=values))
    got = C.copy()
    fast.add_products(A, B, got)
    for r in range(n_r):
        for c in range(n_c):
            total = float(C[r, c])  # Python floats are IEEE doubles: the order, spelled out
            for k in range(n_k):
                total += float(B[k, c]) * float(A[r, k])
            assert got[r, c] == total


@given(st.lists(st.integers(1, 6), min_size=2, max_size=4), st.integers(1, 40),
       st.sampled_from([0.0, 0.9]), st.sampled_from([0.0, 0.01]), st.booleans(), st.data())
def test_descend_batch_is_descend(sizes, m, alpha, weight_decay, train_biases, data):
    net = nb.Network(sizes, "sigmoid")
    n = net.parameters.size
    theta, grad, velocity = (data.draw(arrays(np.float64, (n,), elements=values))
                             for _ in range(3))
    want_theta, want_velocity = theta.copy(), velocity.copy()
    formulas.descend(want_theta, grad.copy(), want_velocity, net.layout, 0.1, alpha, m,
                     train_biases, weight_decay)
    fast.descend_batch(theta, grad, velocity, net.layout, 0.1, alpha, m, train_biases,
                       weight_decay)
    np.testing.assert_array_equal(theta, want_theta)
    np.testing.assert_array_equal(velocity, want_velocity)


@pytest.mark.parametrize("fused", [fast.descend_forward_layer, fast.descend_forward_narrow])
@given(case=layer_and_batch(), data=st.data(), eta=st.floats(1e-3, 1.0),
       train_biases=st.booleans())
def test_descend_forward_layer_is_descend_then_forward(fused, case, data, eta, train_biases):
    w, b, Y_below, code = case
    n_i, n_j = w.shape
    delta = data.draw(arrays(np.float64, (n_j,), elements=values))
    fused_w, fused_b, z, y = w.copy(), b.copy(), np.empty(n_j), np.empty(n_j)
    fused(fused_w, fused_b, delta, Y_below[0], eta, train_biases, Y_below[-1], code, z, y)
    formulas.descend_layer(w, b, delta, Y_below[0], eta, train_biases, 0.0)
    z_ref, y_ref = np.empty(n_j), np.empty(n_j)
    formulas.forward_layer(w, b, Y_below[-1], code, z_ref, y_ref)
    for got, want in ((fused_w, w), (fused_b, b), (z, z_ref), (y, y_ref)):
        np.testing.assert_array_equal(got, want)


@given(networks_and_data(), st.booleans())
def test_forward_narrow_is_forward(case, softmax_output):
    weights, biases, activations, X, T = case
    if softmax_output and weights[-1].shape[1] > 1:
        activations = [*activations[:-1], "softmax"]
    net = nb.Network.from_weights(weights, biases, activations)
    neurons = weights[0].shape[0] + sum(b.size for b in biases)
    for x in X:
        z, y, z_ref, y_ref = (np.zeros(neurons) for _ in range(4))
        fast.forward_narrow(net.parameters, net.layout, x, z, y)
        formulas.forward(net.parameters, net.layout, x, z_ref, y_ref)
        np.testing.assert_array_equal(z, z_ref)
        np.testing.assert_array_equal(y, y_ref)


@given(networks_and_data(), st.booleans())
def test_the_error_of_a_narrow_network_is_the_reference_mean_error(case, cross_entropy):
    weights, biases, activations, X, T = case
    loss = "squared"
    if cross_entropy and activations[-1] == "sigmoid":
        loss, T = "cross_entropy", (T > 0).astype(float)
    net = nb.Network.from_weights(weights, biases, activations, loss=loss)
    assert fast.narrow(net.layout.sizes)
    neurons = weights[0].shape[0] + sum(b.size for b in biases)
    E, z, y = np.empty(len(X)), np.zeros(neurons), np.zeros(neurons)
    fast.narrow_errors(net.parameters, net.layout, X, T, 0, len(X), E, z, y)
    total = 0.0
    for e in E:  # in sample order, as the reference adds them
        total += e
    reference = formulas.mean_error(net.parameters, net.layout, X, T)
    assert total / len(X) == reference
    assert net.error(X, T) == reference


# A network with enough weights that the error of a data set spanning several blocks (the
# last one partial) is shared out to the threads (fast.worth_threads).
BIG = (fast.PARALLEL_WORK // (2 * fast.TASK_BLOCKS * fast.BLOCK * 64) + 1, 64, 30, 3)
N_BIG = 2 * fast.TASK_BLOCKS * fast.BLOCK + 11


def big_case(seed=0):
    rng = np.random.default_rng(seed)
    X, T = rng.normal(size=(N_BIG, BIG[0])), rng.normal(size=(N_BIG, BIG[-1]))
    return nb.Network(BIG, "tanh", output_activation="linear", seed=seed), X, T


def test_the_big_case_takes_the_threaded_path():
    assert fast.worth_threads(np.array(BIG), N_BIG)
    assert not fast.worth_threads(np.array([2, 2, 1]), N_BIG)


def test_error_of_many_blocks_adds_the_samples_in_order():
    net, X, T = big_case()
    z, y = (np.empty(sum(BIG)) for _ in range(2))
    total = 0.0
    for s in range(len(X)):
        formulas.forward(net.parameters, net.layout, X[s], z, y)
        total += formulas.sample_error(y[-BIG[-1]:], T[s])
    assert net.error(X, T) == total / len(X)
    np.testing.assert_array_equal(net.forward(X)[-1], y[-BIG[-1]:])


def test_mini_batches_of_many_blocks_equal_hand_rolled_steps():
    for batch_size, momentum in ((7, 0.0), (fast.BLOCK, 0.9), (fast.BLOCK + 5, 0.5),
                                 (N_BIG, 0.0)):
        by_fit, X, T = big_case()
        by_hand = by_fit.copy()
        by_fit.fit(X, T, epochs=2, eta=0.01, batch_size=batch_size, momentum=momentum,
                   shuffle=False)
        hand_rolled_sgd(by_hand, X, T, 2, 0.01, batch_size, momentum, True)
        np.testing.assert_array_equal(by_fit.parameters, by_hand.parameters)


def test_online_sgd_on_the_big_case_equals_hand_rolled_steps():
    by_fit, X, T = big_case()
    by_hand = by_fit.copy()
    by_fit.fit(X, T, epochs=2, eta=0.01, shuffle=False)
    hand_rolled_sgd(by_hand, X, T, 2, 0.01, 1, 0.0, True)
    np.testing.assert_array_equal(by_fit.parameters, by_hand.parameters)


TRAIN_AND_PRINT = """
import sys
sys.path.insert(0, sys.argv[1])
import numba
import test_fast_paths as t
print(numba.get_num_threads())
net, X, T = t.big_case()
history = net.fit(X, T, epochs=2, eta=0.01, batch_size=40, momentum=0.5, seed=3)
print(net.parameters.tobytes().hex(), history.errors.tobytes().hex())
"""


def test_one_thread_and_all_threads_train_bit_for_bit_alike():
    tests = os.path.dirname(__file__)
    runs = []
    for threads in ("1", str(os.cpu_count())):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        out = subprocess.run([sys.executable, "-c", TRAIN_AND_PRINT, tests], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
        assert out[0] == threads
        runs.append(out[1:])
    assert runs[0] == runs[1]


@given(st.floats(allow_nan=False), st.integers(0, 40))
def test_dividing_by_a_power_of_two_is_multiplying_by_its_exact_inverse(x, k):
    """descend's shortcut: both are x·2^-k correctly rounded, subnormals included."""
    m = 2**k
    assert x * (1.0 / m) == x / m
