"""fit: online and mini-batch SGD, momentum, reproducibility, early stop and divergence."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import nbbackprop as nb
from nbbackprop import network, training
from oracle import error_scales, forward, networks_and_data

EPS = np.finfo(np.float64).eps


def hand_rolled_sgd(net, X, T, epochs, eta, batch_size, momentum, train_biases):
    """fit(shuffle=False) spelled out with the public gradient: per batch, the mean
    gradient g, then v ← α v − η g and θ ← θ + v (α = 0: θ ← θ − η g)."""
    velocity = np.zeros_like(net.parameters)
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            gw, gb = net.gradient(X[start : start + batch_size], T[start : start + batch_size])
            if not train_biases:
                gb = [np.zeros_like(b) for b in gb]
            g = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(gw, gb)])
            if momentum == 0.0:
                net.parameters[:] = net.parameters - eta * g
            else:
                velocity = momentum * velocity - eta * g
                net.parameters[:] = net.parameters + velocity


@given(networks_and_data(), st.data())
def test_fit_equals_hand_rolled_gradient_steps(case, data):
    weights, biases, activations, X, T = case
    epochs = data.draw(st.integers(1, 3), label="epochs")
    eta = data.draw(st.floats(1e-3, 0.5), label="eta")
    batch_size = data.draw(st.integers(1, len(X)), label="batch_size")
    momentum = data.draw(st.sampled_from([0.0, 0.5, 0.9]), label="momentum")
    train_biases = data.draw(st.booleans(), label="train_biases")
    by_fit = nb.Network.from_weights(weights, biases, activations)
    by_hand = by_fit.copy()
    history = by_fit.fit(X, T, epochs=epochs, eta=eta, batch_size=batch_size, momentum=momentum,
                         shuffle=False, train_biases=train_biases, on_divergence="stop")
    assume(history.stop_reason == "epochs")
    hand_rolled_sgd(by_hand, X, T, epochs, eta, batch_size, momentum, train_biases)
    # Bit for bit: the kernels add, multiply and divide in the same order as above.
    np.testing.assert_array_equal(by_fit.parameters, by_hand.parameters)
    assert history.errors[-1] == by_hand.error(X, T)
    if not train_biases:
        for b_fit, b0 in zip(by_fit.biases, biases):
            np.testing.assert_array_equal(b_fit, b0)


@given(networks_and_data())
def test_a_small_full_batch_step_lowers_the_error(case):
    weights, biases, activations, X, T = case
    net = nb.Network.from_weights(weights, biases, activations)
    gw, gb = net.gradient(X, T)
    g2 = sum((w**2).sum() + (b**2).sum() for w, b in zip(gw, gb))
    # A step of η: C falls by η‖g‖² to first order; the second-order term is tiny for
    # this η, and the fall must stand clear of C's own rounding error.
    eta = 1e-4 / max(1.0, float(np.sqrt(g2)))
    _, s_c, _, _ = error_scales(weights, biases, X, T)
    assume(eta * g2 > 1e4 * EPS * s_c)
    before, pattern = net.error(X, T), relu_pattern(net, X)
    history = net.fit(X, T, epochs=1, eta=eta, batch_size=len(X), shuffle=False)
    # C is smooth only while no ReLU unit switches: a step across a kink (z from +1e-36
    # to below 0, say) may leave C as it was.
    assume(relu_pattern(net, X) == pattern)
    assert history.errors[0] < before


def relu_pattern(net, X):
    """Which ReLU units are on (z > 0), per sample, as a hashable value."""
    layers = forward(net.weights, net.biases, net.activations, X)
    return tuple((Z > 0).tobytes() for (Z, _), a in zip(layers, net.activations) if a == "relu")


@given(networks_and_data(), st.integers(0, 2**64 - 1), st.integers(1, 4))
def test_same_seed_same_training_bit_for_bit(case, seed, batch_size):
    weights, biases, activations, X, T = case
    runs = []
    for _ in range(2):
        net = nb.Network.from_weights(weights, biases, activations)
        h = net.fit(X, T, epochs=3, eta=0.1, batch_size=min(batch_size, len(X)), seed=seed,
                    momentum=0.5, on_divergence="stop")
        runs.append((net.parameters.copy(), h.errors))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize("init", network.INITS)
@pytest.mark.parametrize("activation", nb.ACTIVATIONS)
def test_same_seed_same_weights_and_another_seed_others(init, activation):
    def params(seed):
        return nb.Network([4, 5, 3], activation, seed=seed, init=init).parameters
    np.testing.assert_array_equal(params(7), params(7))
    assert not np.array_equal(params(7), params(8))


def test_splitting_a_run_into_compiled_calls_changes_nothing(monkeypatch):
    """fit returns to Python between chunks of epochs; the chunking must not show."""
    rng = np.random.default_rng(1)
    X, T = rng.normal(size=(9, 3)), rng.normal(size=(9, 2))
    results = []
    for chunk_seconds in (0.0, 1e9):  # one epoch per call, and (after the first) all at once
        monkeypatch.setattr(network, "_CHUNK_SECONDS", chunk_seconds)
        net = nb.Network([3, 4, 2], "tanh", output_activation="linear", seed=3)
        h = net.fit(X, T, epochs=40, eta=0.05, batch_size=2, momentum=0.9, seed=5)
        results.append((net.parameters.copy(), h.errors))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@given(st.integers(1, 50), st.integers(0, 2**64 - 1))
def test_shuffle_is_a_permutation(n, seed):
    order = np.arange(n, dtype=np.int64)
    state = np.array([seed], dtype=np.uint64)
    training.shuffle(order, state)
    assert sorted(order) == list(range(n))


def test_shuffle_depends_on_the_seed():
    orders = set()
    for seed in range(20):
        order = np.arange(10, dtype=np.int64)
        training.shuffle(order, np.array([seed], dtype=np.uint64))
        orders.add(tuple(order))
    assert len(orders) == 20  # 20 draws from 10! orders: a repeat would be a broken generator


def test_history_errors_are_the_error_after_each_epoch():
    X, T = nb.xor()
    net = nb.Network([2, 3, 1], "tanh", output_activation="sigmoid", seed=0)
    one_at_a_time = net.copy()
    history = net.fit(X, T, epochs=5, eta=0.5, shuffle=False)
    assert history.epochs == 5 and history.stop_reason == "epochs"
    for e in range(5):
        one_at_a_time.fit(X, T, epochs=1, eta=0.5, shuffle=False)
        assert history.errors[e] == one_at_a_time.error(X, T)


def test_target_error_stops_at_the_first_epoch_below_it():
    X, T = nb.xor()
    net = nb.Network([2, 3, 1], "tanh", output_activation="sigmoid", seed=0)
    full = net.copy().fit(X, T, epochs=3000, eta=0.5)
    target = 0.01
    first = int(np.argmax(full.errors <= target))
    assert full.errors[first] <= target < full.errors[first - 1]
    history = net.fit(X, T, epochs=3000, eta=0.5, target_error=target)
    assert history.stop_reason == "target_error" and history.epochs == first + 1
    np.testing.assert_array_equal(history.errors, full.errors[: first + 1])


def test_a_1d_target_is_accepted_for_a_single_output():
    X, T = nb.xor()
    a, b = (nb.Network([2, 2, 1], seed=0) for _ in range(2))
    ha, hb = a.fit(X, T, epochs=10), b.fit(X, T.ravel(), epochs=10)
    np.testing.assert_array_equal(ha.errors, hb.errors)


def diverging_case():
    """A linear network with a far too large η: the weights overflow within a few epochs."""
    X = np.array([[1.0, 2.0], [3.0, -1.0], [-2.0, 0.5]])
    T = np.array([[1.0], [-1.0], [0.5]])
    return nb.Network([2, 4, 1], "linear", seed=0), X, T


def test_divergence_raises_and_restores_the_last_finite_epoch():
    net, X, T = diverging_case()
    start = net.copy()
    with pytest.raises(nb.TrainingDiverged, match=r"diverged.*epoch \d+.*smaller eta") as info:
        net.fit(X, T, epochs=1000, eta=10.0, shuffle=False)
    err = info.value
    assert err.history.stop_reason == "diverged"
    assert len(err.history.errors) == err.epoch - 1 and np.isfinite(err.history.errors).all()
    # The network holds exactly the weights after the last finite epoch.
    start.fit(X, T, epochs=err.epoch - 1, eta=10.0, shuffle=False)
    np.testing.assert_array_equal(net.parameters, start.parameters)
    assert net.error(X, T) == err.last_error


def test_divergence_stop_returns_the_history_so_far():
    net, X, T = diverging_case()
    history = net.fit(X, T, epochs=1000, eta=10.0, on_divergence="stop")
    assert history.stop_reason == "diverged" and history.epochs == len(history.errors) < 1000
    assert np.isfinite(net.parameters).all()


def test_zero_epochs_changes_nothing():
    X, T = nb.xor()
    net = nb.Network([2, 2, 1], seed=0)
    before = net.parameters.copy()
    history = net.fit(X, T, epochs=0)
    assert history.epochs == 0 and len(history.errors) == 0
    np.testing.assert_array_equal(net.parameters, before)


def test_demo_problem_is_learned():
    """XOR is the seed note's 2-2-1 story; from this start it is solved, not stuck."""
    X, T = nb.xor()
    net = nb.Network([2, 2, 1], "sigmoid", seed=0)
    net.fit(X, T, epochs=5000, eta=0.5)
    np.testing.assert_array_equal(np.round(net.forward(X)), T)


def test_weights_gone_non_finite_are_divergence_even_if_relu_hides_them_from_the_error():
    """ReLU maps a NaN z to 0 (NaN > 0 is false), so the error can stay finite while the
    weights below are NaN; fit must still see the divergence and restore the weights."""
    weights = [np.array([[0.0, 0.0]]), np.array([[-1.0], [-1.0]]), -np.ones((1, 5))]
    biases = [np.zeros(2), np.array([-1.0]), np.zeros(5)]
    net = nb.Network.from_weights(weights, biases, ["sigmoid", "linear", "relu"])
    X, T = np.zeros((4, 1)), -np.ones((4, 5))
    history = net.fit(X, T, epochs=2, eta=0.5, shuffle=False, train_biases=False,
                      on_divergence="stop")
    assert history.stop_reason == "diverged" and history.epochs == 1
    assert np.isfinite(net.parameters).all()
