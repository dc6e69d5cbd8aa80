"""Divergence: fit stops at the first epoch whose error is not finite or explodes, or whose
weights are not finite, keeps the weights of the last good epoch and says what to try;
finite inputs never give a silent NaN."""

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import nbbackprop as nb
from oracle import networks_and_data

FACTOR = 1e6  # the documented explosion factor, restated here on purpose


def full_batch_epochs(net, X, T, eta, epochs):
    """Full-batch gradient descent spelled out with the public gradient, and the rule of
    docs/reliability.md applied to it: the 1-based epoch that diverges (None if none) and
    the errors and weights of the epochs before it."""
    target_size = 0.5 * np.sum(T * T) / len(X)
    errors, best = [], np.inf
    for epoch in range(1, epochs + 1):
        before = net.parameters.copy()
        try:
            gw, gb = net.gradient(X, T)
        except nb.NonFiniteResult:
            return epoch, errors, before
        g = np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(gw, gb)])
        with np.errstate(over="ignore", invalid="ignore"):
            net.parameters[:] = net.parameters - eta * g
        if not np.isfinite(net.parameters).all():
            return epoch, errors, before
        try:
            error = net.error(X, T)
        except nb.NonFiniteResult:
            return epoch, errors, before
        if error > FACTOR * max(best, target_size):
            return epoch, errors, before
        errors.append(error)
        best = min(best, error)
    return None, errors, net.parameters.copy()


@given(networks_and_data(), st.data())
def test_fit_stops_exactly_where_the_rule_says(case, data):
    weights, biases, _, X, T = case
    # Mostly unbounded activations and large steps, so that many runs do diverge.
    activations = data.draw(st.lists(st.sampled_from(["linear", "linear", "relu", "tanh"]),
                                     min_size=len(weights), max_size=len(weights)))
    eta = 10.0 ** data.draw(st.floats(-1, 3), label="log10(eta)")
    epochs = data.draw(st.integers(1, 40), label="epochs")
    net = nb.Network.from_weights(weights, biases, activations)
    expected_epoch, expected_errors, expected_weights = full_batch_epochs(
        net.copy(), X, T, eta, epochs)
    history = net.fit(X, T, epochs=epochs, eta=eta, batch_size=len(X), shuffle=False,
                      on_divergence="stop")
    event(f"stop_reason={history.stop_reason}, at epoch 1: {expected_epoch == 1}")
    assert history.stop_reason == ("epochs" if expected_epoch is None else "diverged")
    np.testing.assert_array_equal(history.errors, expected_errors)
    np.testing.assert_array_equal(net.parameters, expected_weights)
    assert np.isfinite(history.errors).all() and np.isfinite(net.parameters).all()


def slowly_exploding_case():
    """A linear 1-1 network, one sample: each full-batch step multiplies the error by
    (1 − η x²)² = 9 for η = 4, x = 1, so it passes 10⁶ times the start long before inf."""
    net = nb.Network.from_weights([[[0.5]]], [[0.0]], ["linear"])
    return net, np.array([[1.0]]), np.array([[1.0]])


def test_an_exploding_error_is_caught_long_before_it_overflows():
    net, X, T = slowly_exploding_case()
    with pytest.raises(nb.TrainingDiverged) as info:
        net.fit(X, T, epochs=1000, eta=4.0, train_biases=False, shuffle=False)
    err = info.value
    errors = err.history.errors
    # C_e = 0.125 · 9^e: the first above 10⁶ · max(best so far = C_1, ½ t² = 0.5) is C_8.
    np.testing.assert_allclose(errors, 0.125 * 9.0 ** np.arange(1, 8), rtol=1e-12)
    assert err.epoch == 8 and err.last_error == errors[-1]
    assert net.error(X, T) == err.last_error  # the weights of epoch 7 are back
    message = str(err)
    for words in ("at epoch 8", "grew to", "1e+06 times", f"{errors[-1]:.6g}", "after epoch 7",
                  "smaller eta than 4.0", "scale X and"):
        assert words in message, (words, message)


def test_momentum_is_named_among_the_remedies():
    net, X, T = slowly_exploding_case()
    with pytest.raises(nb.TrainingDiverged, match="less momentum than 0.5"):
        net.fit(X, T, epochs=1000, eta=4.0, momentum=0.5, shuffle=False)


def test_divergence_in_the_first_epoch_keeps_the_starting_weights():
    net, X, T = slowly_exploding_case()
    start = net.parameters.copy()
    with pytest.raises(nb.TrainingDiverged, match="at epoch 1: the error became inf.*it started "
                                                  "with") as info:
        net.fit(X * 1e150, T, epochs=5, eta=1e10)
    assert info.value.epoch == 1 and len(info.value.history.errors) == 0
    np.testing.assert_array_equal(net.parameters, start)


def overflowing_network():
    """x · 1e10 overflows to +inf in both hidden neurons for x = 1e300; the ReLU above
    then sees inf − inf = NaN, which it must pass on (z > 0 alone would turn it into 0)."""
    return nb.Network.from_weights([[[1e10, 1e10]], [[1.0], [-1.0]]], [[0.0, 0.0], [0.0]],
                                   ["linear", "relu"])


def test_forward_raises_instead_of_returning_a_silent_nan_or_a_wrong_zero():
    net = overflowing_network()
    assert net.forward([1.0]).tolist() == [0.0]
    with pytest.raises(nb.NonFiniteResult, match=r"the output y is not finite \(nan\).*x and "
                                                 r"the weights.*largest \|x\| = 1e\+300"):
        net.forward([1e300])


@pytest.mark.parametrize("call", ["error", "gradient", "fit"])
def test_error_gradient_and_fit_name_the_huge_argument(call):
    net = nb.Network.from_weights([[[1.0]]], [[0.0]], ["linear"])
    X, T = np.array([[1e200]]), np.array([[-1e200]])  # (t − y)² and δ·x overflow
    with pytest.raises(nb.NonFiniteResult, match=r"\|X\| = 1e\+200, largest \|T\| = 1e\+200"
                       ) as info:
        getattr(net, call)(X, T, **({"on_divergence": "stop"} if call == "fit" else {}))
    assert isinstance(info.value, ValueError)
    assert "X and T" in str(info.value)


def test_fit_refuses_data_whose_error_overflows_even_with_on_divergence_stop():
    """Not training that diverged but data that cannot be trained on: always an error."""
    net = nb.Network.from_weights([[[1.0]]], [[0.0]], ["linear"])
    before = net.parameters.copy()
    with pytest.raises(nb.NonFiniteResult, match="starting weights"):
        net.fit([[1e300]], [[0.0]], on_divergence="stop")
    np.testing.assert_array_equal(net.parameters, before)
