"""fit's watching: progress bar, callback, validation, early stopping, warnings. None of it
may change a result bit; each stop leaves the network at a completed epoch."""

import importlib.util
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nbbackprop as nb
from clear_errors import assert_clear_error
from nbbackprop import monitor, network
from oracle import networks_and_data


def state_of(net):
    """Everything a later fit depends on: the parameters and the training state."""
    s = net._state
    return (net.parameters.copy(), s.velocity.copy(), s.order.copy(), s.rng.copy(), s.epochs)


def assert_same_state(a, b):
    for x, y in zip(state_of(a), state_of(b)):
        np.testing.assert_array_equal(x, y)


def plain(net_args, X, T, epochs, **fit):
    """A network trained without any watching: the reference."""
    net = nb.Network.from_weights(*net_args)
    history = net.fit(X, T, epochs=epochs, **fit)
    return net, history


def xor_net(seed=0):
    return nb.Network([2, 3, 1], "tanh", output_activation="sigmoid", seed=seed)


# --- nothing watched changes a result ------------------------------------------------------


@given(networks_and_data(), st.data())
def test_watching_changes_no_result_bit(case, data):
    weights, biases, activations, X, T = case
    fit = dict(eta=data.draw(st.sampled_from([0.01, 0.1, 0.5])),
               batch_size=data.draw(st.integers(1, len(X))),
               momentum=data.draw(st.sampled_from([0.0, 0.9])), on_divergence="stop")
    epochs = data.draw(st.integers(0, 30))
    watch = dict(
        progress=data.draw(st.booleans()) and importlib.util.find_spec("tqdm") is not None,
        callback=data.draw(st.sampled_from([None, lambda info: None, lambda info: True])),
        validation=data.draw(st.sampled_from([None, (X[:1], T[:1]), (X, T)])))
    if watch["callback"] is not None:
        watch["callback_every"] = data.draw(st.sampled_from([None, 1, 4]))
    if watch["validation"] is not None:
        watch["patience"] = data.draw(st.sampled_from([None, epochs + 1]))  # never runs out
    chunk = data.draw(st.sampled_from([0.0, network._CHUNK_SECONDS]))  # 0: one sample a call
    reference, expected = plain((weights, biases, activations), X, T, epochs, **fit)
    net = nb.Network.from_weights(weights, biases, activations)
    saved, network._CHUNK_SECONDS = network._CHUNK_SECONDS, chunk
    try:
        history = net.fit(X, T, epochs=epochs, **fit, **watch)
    finally:
        network._CHUNK_SECONDS = saved
    assert_same_state(net, reference)
    np.testing.assert_array_equal(history.errors, expected.errors)
    assert history.stop_reason == expected.stop_reason
    assert history.warnings == expected.warnings


# --- callback ------------------------------------------------------------------------------


@given(st.integers(0, 7), st.integers(1, 5), st.integers(1, 20))
def test_callback_every_k_sees_each_multiple_of_k_holding_that_epoch(before, k, epochs):
    X, T = nb.xor()
    net = xor_net()
    net.fit(X, T, epochs=before)
    seen = {}

    def callback(info):
        assert info.network is net and net.epochs_trained == info.epoch
        assert info.error == net.error(X, T)  # the network holds the epoch it reports
        seen[info.epoch] = info.error

    history = net.fit(X, T, epochs=epochs, callback=callback, callback_every=k)
    assert list(seen) == [e for e in range(before + 1, before + epochs + 1) if e % k == 0]
    assert all(history.errors[e - before - 1] == error for e, error in seen.items())


def test_callback_without_every_sees_increasing_completed_epochs_ending_with_the_last():
    X, T = nb.xor()
    seen = []
    net = xor_net()

    def callback(info):
        assert info.error == net.error(X, T) and info.validation_error is None
        seen.append(info.epoch)

    history = net.fit(X, T, epochs=3000, callback=callback)
    assert seen and seen == sorted(set(seen)) and seen[-1] == 3000
    assert history.stop_reason == "epochs"


@pytest.mark.parametrize("answer", [False, np.False_])
def test_callback_returning_false_stops_at_that_epoch(answer):
    X, T = nb.xor()
    net = xor_net()
    history = net.fit(X, T, epochs=50, callback=lambda info: answer if info.epoch == 4 else None,
                      callback_every=1)
    assert history.stop_reason == "callback" and history.epochs == 4 and len(history.errors) == 4
    assert_same_state(net, _trained(4))


def _trained(epochs, **fit):
    X, T = nb.xor()
    net = xor_net()
    net.fit(X, T, epochs=epochs, **fit)
    return net


def test_an_exception_in_the_callback_propagates_and_leaves_a_completed_epoch():
    X, T = nb.xor()
    net = xor_net()

    def callback(info):
        if info.epoch == 3:
            raise RuntimeError("the user's own bug")

    with pytest.raises(RuntimeError, match="the user's own bug"):
        net.fit(X, T, epochs=10, momentum=0.5, callback=callback, callback_every=1)
    assert_same_state(net, _trained(3, momentum=0.5))
    net.fit(X, T, epochs=4, momentum=0.5)  # and training continues as if never stopped
    assert_same_state(net, _trained(7, momentum=0.5))


# --- validation and early stopping -------------------------------------------------------


def test_validation_errors_are_the_validation_error_after_each_epoch():
    X, T = nb.xor()
    Xv, Tv = X[:3] + 0.1, T[:3]
    history = xor_net().fit(X, T, epochs=6, validation=(Xv, Tv))
    step = xor_net()
    expected = []
    for _ in range(6):  # one epoch at a time: the same training (fit's own invariant)
        step.fit(X, T, epochs=1)
        expected.append(step.error(Xv, Tv))
    np.testing.assert_array_equal(history.validation_errors, expected)
    assert history.validation_accuracy.size == 0  # squared error: not a classifier
    assert history.best_epoch == 1 + int(np.argmin(expected))


def test_a_classifier_records_validation_accuracy():
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(30, 3)), rng.integers(0, 3, 30)
    Xv, yv = rng.normal(size=(10, 3)), rng.integers(0, 3, 10)

    def net():
        return nb.Network([3, 4, 3], "tanh", output_activation="softmax",
                          loss="cross_entropy", seed=2)

    history = net().fit(X, labels, epochs=5, eta=0.1, validation=(Xv, yv))
    step, expected = net(), []
    for _ in range(5):
        step.fit(X, labels, epochs=1, eta=0.1)
        expected.append(step.accuracy(Xv, yv))
    np.testing.assert_array_equal(history.validation_accuracy, expected)


@given(st.integers(0, 3), st.integers(1, 6), st.integers(0, 10))
def test_early_stopping_goes_back_to_exactly_the_best_epoch(seed, patience, before):
    """Validation targets opposite to the training targets: as training learns XOR, the
    validation error rises, so patience runs out."""
    X, T = nb.xor()
    net = xor_net(seed)
    net.fit(X, T, epochs=before)
    history = net.fit(X, T, epochs=5000, eta=1.0, momentum=0.5, validation=(X, 1 - T),
                      patience=patience)
    assert history.stop_reason == "early_stopping"
    best = history.best_epoch
    errors = history.validation_errors
    assert len(errors) == history.epochs == best - before + patience
    assert errors[best - before - 1] == errors.min() < errors[best - before:].min()
    assert net.epochs_trained == best
    reference = xor_net(seed)
    reference.fit(X, T, epochs=before)
    reference.fit(X, T, epochs=best - before, eta=1.0, momentum=0.5)
    assert_same_state(net, reference)


# --- bad arguments -----------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "exception", "words"), [
    ({"callback": 3}, nb.InvalidType, ["callback", "function", "got 3"]),
    ({"callback_every": 2}, nb.InvalidValue, ["callback_every", "with a callback"]),
    ({"callback": print, "callback_every": 0}, nb.InvalidValue,
     ["callback_every", "≥ 1", "got 0"]),
    ({"callback": print, "callback_every": 1.5}, nb.InvalidType, ["callback_every", "integer"]),
    ({"patience": 3}, nb.InvalidValue, ["patience needs validation", "patience=3"]),
    ({"patience": 0, "validation": "xor"}, nb.InvalidValue, ["patience", "≥ 1", "got 0"]),
    ({"progress": "yes"}, nb.InvalidType, ["progress", "True or False", "'yes'"]),
    ({"validation": np.ones((4, 2))}, nb.InvalidValue, ["validation", "pair (X_val, T_val)"]),
    ({"validation": ("xor", "xor", "xor")}, nb.InvalidValue, ["validation", "pair"]),
    ({"validation": (np.ones((4, 3)), np.ones(4))}, nb.InvalidValue,
     ["validation X", "shape (2,) or (n, 2)", "(4, 3)"]),
    ({"validation": (np.ones((4, 2)), np.ones(3))}, nb.InvalidValue,
     ["validation T", "shape (4, 1)", "(3,)"]),
    ({"validation": (np.full((1, 2), np.nan), [1.0])}, nb.InvalidValue,
     ["validation X", "finite", "nan"]),
    ({"validation": (np.ones((1, 2)), ["a"])}, nb.InvalidType, ["validation T", "dtype"]),
])
def test_bad_watching_arguments_are_refused_before_training(kwargs, exception, words):
    X, T = nb.xor()
    kwargs = {k: (X, T) if isinstance(v, str) and v == "xor" else v for k, v in kwargs.items()}
    net = xor_net()
    start = net.parameters.copy()
    assert_clear_error(lambda: net.fit(X, T, epochs=3, **kwargs), exception, words)
    np.testing.assert_array_equal(net.parameters, start)


# --- progress bar ----------------------------------------------------------------------


def test_the_progress_bar_counts_every_epoch_on_stderr(capsys):
    pytest.importorskip("tqdm")
    X, T = nb.xor()
    xor_net().fit(X, T, epochs=300, progress=True, validation=(X, T))
    err = capsys.readouterr().err
    assert "300/300" in err and "error=" in err and "val_error=" in err and "samples/s" in err


def test_progress_without_tqdm_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, T = nb.xor()
    net = xor_net()
    with pytest.raises(ImportError, match=r'pip install "nbbackprop\[progress\]"'):
        net.fit(X, T, epochs=3, progress=True)
    assert net.epochs_trained == 0


# --- warnings -----------------------------------------------------------------------------


def digits_like():
    """scikit-learn's digits, or without it 1000 random 8×8 "images" in [0, 1] of 10 classes."""
    try:
        return nb.datasets.digits()
    except ImportError:
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 10, 1000)
        centres = rng.random((10, 64))
        return np.clip(centres[labels] + 0.2 * rng.normal(size=(1000, 64)), 0, 1), labels


def test_a_huge_eta_that_saturates_every_sigmoid_is_reported():
    X, labels = digits_like()
    history = nb.Network([64, 30, 10], seed=0).fit(X, labels, epochs=40, eta=500.0)
    assert history.stop_reason == "epochs"  # nothing else would say anything is wrong
    [warning] = history.warnings
    assert "saturated" in warning and "eta too large" in warning and "not scaled" in warning


@given(st.integers(0, 2**32 - 1), st.sampled_from([0.5, 2.0]))
def test_an_ordinary_xor_run_warns_of_nothing(seed, eta):
    X, T = nb.xor()
    history = nb.Network([2, 3, 1], seed=seed).fit(X, T, epochs=2000, eta=eta, seed=seed)
    assert history.warnings == []


@pytest.mark.parametrize(("scale", "words"), [(100.0, ["as large as 100", "scale X"]),
                                              (1e-3, ["smaller than 0.01", "0.001"])])
def test_inputs_far_from_unit_scale_are_reported(scale, words):
    X, T = nb.xor()
    history = xor_net().fit(X * scale, T, epochs=2)
    [warning] = history.warnings
    assert "far from unit scale" in warning and all(word in warning for word in words)


@pytest.mark.parametrize(("errors", "targets", "warned"), [
    ([0.5] * monitor.STUCK_EPOCHS, 0.0, True),
    ([0.5] * (monitor.STUCK_EPOCHS - 1), 0.0, False),  # not yet many epochs
    ([0.5 * (1 + 2 * monitor.STUCK_CHANGE)] + [0.5] * (monitor.STUCK_EPOCHS - 1), 0.0, False),
    ([1e-9] * monitor.STUCK_EPOCHS, 1.0, False),  # saturated at its targets: it fits them
])
def test_the_saturation_rule(errors, targets, warned):
    """A sigmoid output with bias 100: y = 1 − 4e−44 for every input, saturated."""
    net = nb.Network.from_weights([np.zeros((2, 1))], [np.array([100.0])], ["sigmoid"])
    X, T = nb.xor()
    T = np.full_like(T, targets)
    target_size = 0.5 * float(np.mean(T * T))
    warning = monitor.saturation_warning(net, X, np.array(errors), target_size)
    assert (warning is not None) == warned


def test_early_stopping_on_the_epoch_that_reaches_target_error_says_early_stopping():
    X, T = nb.xor()
    watched = dict(eta=1.0, validation=(X, 1 - T), patience=2)
    stopped = xor_net().fit(X, T, epochs=5000, **watched)
    k = stopped.epochs  # the epoch at which patience runs out
    errors = xor_net().fit(X, T, epochs=k, eta=1.0).errors
    assert errors[k - 1] < errors[: k - 1].min()  # the setting: no earlier epoch reaches it
    net = xor_net()
    history = net.fit(X, T, epochs=5000, target_error=errors[k - 1], **watched)
    assert history.epochs == k and history.stop_reason == "early_stopping"
    assert net.epochs_trained == history.best_epoch < k


def test_ctrl_c_in_a_callback_is_an_interruption_with_the_validation_so_far():
    X, T = nb.xor()
    net = xor_net()

    def callback(info):
        if info.epoch == 3:
            raise KeyboardInterrupt

    with pytest.raises(nb.TrainingInterrupted) as stopped:
        net.fit(X, T, epochs=10, callback=callback, callback_every=1, validation=(X, T))
    history = stopped.value.history
    assert history.epochs == 3 and len(history.validation_errors) == 3
    np.testing.assert_array_equal(history.validation_errors, history.errors)  # same data
    assert_same_state(net, _trained(3))
