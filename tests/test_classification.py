"""Classification: softmax outputs, cross-entropy, labels, predict and accuracy; weight decay,
learning-rate schedules, and training that continues where it stopped.

The gradients are checked against central differences (``nb.gradcheck``, which shares only
the forward kernels) here, and against the independent NumPy oracle and PyTorch in
``test_classification_oracle.py``.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nbbackprop as nb
from clear_errors import assert_clear_error

# The loss × output activation pairs a network may have, and the names used below.
PAIRS = [("squared", "softmax"), ("squared", "sigmoid"), ("cross_entropy", "softmax"),
         ("cross_entropy", "sigmoid")]
values = st.floats(-2, 2, allow_nan=False, allow_infinity=False)


@st.composite
def classifiers(draw, pair=None, n=None):
    """(net, X, T): a random network with a softmax or sigmoid output and the given loss,
    and targets that loss accepts: one-hot or soft rows summing to 1 for softmax, values
    in [0, 1] for sigmoid."""
    loss, output = draw(st.sampled_from(PAIRS)) if pair is None else pair
    L = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 6), min_size=L + 1, max_size=L + 1))
    sizes[-1] = draw(st.integers(2 if output == "softmax" else 1, 5))
    hidden = draw(st.sampled_from(["sigmoid", "tanh", "relu", "linear"]))
    weights = [draw(arrays(np.float64, (a, b), elements=values)) for a, b in zip(sizes, sizes[1:])]
    biases = [draw(arrays(np.float64, (b,), elements=values)) for b in sizes[1:]]
    net = nb.Network.from_weights(weights, biases, [hidden] * (L - 1) + [output], loss=loss)
    n = draw(st.integers(1, 6)) if n is None else n
    X = draw(arrays(np.float64, (n, sizes[0]), elements=values))
    if output == "softmax":
        if draw(st.booleans()):
            T = nb.one_hot(np.array(draw(st.lists(st.integers(0, sizes[-1] - 1), min_size=n,
                                                  max_size=n))), sizes[-1])
        else:
            raw = draw(arrays(np.float64, (n, sizes[-1]), elements=st.floats(0.01, 1)))
            T = raw / raw.sum(axis=1, keepdims=True)
            T[:, -1] = 1.0 - T[:, :-1].sum(axis=1)  # rows sum to 1 within rounding
    else:
        T = draw(arrays(np.float64, (n, sizes[-1]), elements=st.floats(0, 1)))
    return net, X, T


@given(classifiers())
def test_gradients_agree_with_central_differences(case):
    net, X, T = case
    report = nb.gradcheck(net, X, T)
    assert report.ok, str(report)


@given(classifiers(pair=("cross_entropy", "softmax")), st.data())
def test_a_wrong_entry_is_named(case, data):
    net, X, T = case
    grad_w, grad_b = net.gradient(X, T)
    l = data.draw(st.integers(0, len(grad_w) - 1))
    i = data.draw(st.integers(0, grad_w[l].shape[0] - 1))
    j = data.draw(st.integers(0, grad_w[l].shape[1] - 1))
    scale = max(1e-3, float(np.abs(grad_w[l]).max()))
    grad_w[l][i, j] += scale  # far outside any rounding
    report = nb.compare_gradients(net, X, T, grad_w, grad_b)
    assert [e.name for e in report.failures] == [f"weights[{l}][{i}, {j}]"]


@pytest.mark.parametrize(("loss", "output"), [p for p in PAIRS if p[0] == "cross_entropy"])
def test_saturated_outputs_give_finite_errors_and_gradients(loss, output):
    """z = ±1000: the error is computed from z (log-sum-exp, log-sigmoid), so it stays
    finite; the gradient y − t is exact there."""
    net = nb.Network.from_weights([[[1000.0, -1000.0]]], [[0.0, 0.0]], [output], loss=loss)
    X = np.array([[1.0], [-1.0]])
    T = np.array([[1.0, 0.0], [1.0, 0.0]])  # right for the first sample, wrong for the second
    E = net.error(X, T)
    # First sample: E ≈ 0; second: −ln y_1 = 2000 (softmax) or 1000 + 1000 (sigmoid: both
    # outputs wrong by z = 1000).
    assert E == pytest.approx(2000.0 / 2)
    grad_w, grad_b = net.gradient(X, T)
    assert np.isfinite(grad_w[0]).all() and np.isfinite(grad_b[0]).all()
    # δ = y − t: (0, 0) for the first sample and (−1, 1) for the second.
    np.testing.assert_array_equal(grad_b[0], [-0.5, 0.5])


def test_softmax_does_not_overflow():
    net = nb.Network.from_weights([[[1.0, 2.0, 3.0]]], [[0.0, 0.0, 0.0]], ["softmax"])
    y = net.forward([[800.0]])[0]  # exp(2400) overflows; exp(z − max z) does not
    np.testing.assert_allclose(y, [0.0, 0.0, 1.0])
    assert np.isfinite(y).all() and y.sum() == 1.0


@given(st.integers(2, 5), st.lists(st.integers(0, 4), min_size=1, max_size=8))
def test_integer_labels_mean_their_one_hot_rows(n_classes, labels):
    labels = np.array([c % n_classes for c in labels])
    net = nb.Network([3, 4, n_classes], "tanh", output_activation="softmax",
                     loss="cross_entropy", seed=1)
    X = np.random.default_rng(0).normal(size=(len(labels), 3))
    rows = nb.one_hot(labels, n_classes)
    assert rows.shape == (len(labels), n_classes) and (rows.sum(axis=1) == 1).all()
    assert (np.argmax(rows, axis=1) == labels).all()
    assert net.error(X, labels) == net.error(X, rows)
    for a, b in zip(net.gradient(X, labels), net.gradient(X, rows)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


@given(classifiers(n=7))
def test_predict_is_the_largest_output_and_accuracy_counts_matches(case):
    net, X, T = case
    Y = net.forward(X)
    labels = net.predict(X)
    assert labels.dtype == np.int64 and labels.shape == (7,)
    if Y.shape[1] == 1:
        np.testing.assert_array_equal(labels, (Y[:, 0] >= 0.5).astype(int))
    else:
        np.testing.assert_array_equal(labels, np.argmax(Y, axis=1))
    assert net.predict(X[0]) == labels[0]
    truth = (T[:, 0] >= 0.5).astype(int) if T.shape[1] == 1 else np.argmax(T, axis=1)
    assert net.accuracy(X, T) == np.mean(labels == truth)
    if T.shape[1] > 1:
        assert net.accuracy(X, truth) == net.accuracy(X, T)


def test_a_softmax_classifier_learns_three_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    labels = rng.integers(0, 3, 150)
    X = centres[labels] + rng.normal(scale=0.5, size=(150, 2))
    net = nb.Network([2, 8, 3], "tanh", output_activation="softmax", loss="cross_entropy",
                     seed=0)
    before = net.error(X, labels)
    history = net.fit(X, labels, epochs=50, eta=0.05)
    assert history.errors[-1] < before / 5
    assert net.accuracy(X, labels) > 0.95


# --- continuation, schedules, weight decay --------------------------------------------------


def _data(sizes, n=13, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, sizes[0])), rng.uniform(size=(n, sizes[-1]))


@given(st.integers(0, 4), st.integers(0, 4), st.sampled_from([1, 3, 13]),
       st.sampled_from([0.0, 0.7]), st.sampled_from([0.0, 0.01]), st.booleans())
def test_two_fits_equal_one_long_fit_bit_for_bit(a, b, batch_size, momentum, decay, save):
    X, T = _data((3, 4, 2))
    kwargs = dict(eta=nb.schedules.inverse_time(0.3, 0.5), batch_size=batch_size,
                  momentum=momentum, weight_decay=decay)
    one = nb.Network([3, 4, 2], "tanh", seed=0)
    two = one.copy()
    h_one = one.fit(X, T, epochs=a + b, **kwargs)
    h_a = two.fit(X, T, epochs=a, **kwargs)
    if save:
        path = _tmp_path() / "net.npz"
        two.save(path)
        two = nb.load(path)
    h_b = two.fit(X, T, epochs=b, **kwargs)
    np.testing.assert_array_equal(one.parameters, two.parameters)
    np.testing.assert_array_equal(h_one.errors, np.concatenate((h_a.errors, h_b.errors)))
    assert (h_a.first_epoch, h_b.first_epoch) == (1, a + 1)
    assert two.epochs_trained == one.epochs_trained == a + b


def _tmp_path():
    import tempfile
    from pathlib import Path

    return Path(tempfile.mkdtemp())


def test_a_new_network_shuffles_as_seed_0_did_and_seed_restarts_the_stream():
    X, T = _data((3, 4, 2))
    default, seeded = nb.Network([3, 4, 2], seed=1), nb.Network([3, 4, 2], seed=1)
    default.fit(X, T, epochs=3)
    seeded.fit(X, T, epochs=3, seed=0)
    np.testing.assert_array_equal(default.parameters, seeded.parameters)
    # seed=s restarts the stream: a second fit with seed=0 repeats the first one's orders.
    a, b = nb.Network([3, 4, 2], seed=1), nb.Network([3, 4, 2], seed=1)
    a.fit(X, T, epochs=2)
    a.fit(X, T, epochs=2, seed=0)
    b.fit(X, T, epochs=2)
    b.fit(X, T, epochs=2)
    assert not np.array_equal(a.parameters, b.parameters)


def test_reset_training_forgets_the_state():
    X, T = _data((3, 4, 2))
    net = nb.Network([3, 4, 2], seed=1)
    start = net.copy()
    net.fit(X, T, epochs=3, momentum=0.5)
    net.reset_training()
    assert net.epochs_trained == 0
    net.parameters[:] = start.parameters
    net.fit(X, T, epochs=2, momentum=0.5)
    start.fit(X, T, epochs=2, momentum=0.5)
    np.testing.assert_array_equal(net.parameters, start.parameters)


@given(st.lists(st.floats(1e-3, 1.0), min_size=1, max_size=5), st.sampled_from([1, 4]))
def test_a_schedule_equals_one_epoch_at_a_time_with_its_values(rates, batch_size):
    X, T = _data((3, 4, 2))
    by_schedule, by_hand = nb.Network([3, 4, 2], seed=2), nb.Network([3, 4, 2], seed=2)
    history = by_schedule.fit(X, T, epochs=len(rates), eta=lambda e: rates[e],
                              batch_size=batch_size)
    errors = [by_hand.fit(X, T, epochs=1, eta=r, batch_size=batch_size).errors[0]
              for r in rates]
    np.testing.assert_array_equal(by_schedule.parameters, by_hand.parameters)
    np.testing.assert_array_equal(history.errors, errors)


def test_the_schedules_give_their_formulas():
    s = nb.schedules
    assert [s.step(0.5, 0.1, 2)(e) for e in range(5)] == [0.5, 0.5, 0.5 * 0.1, 0.5 * 0.1,
                                                          0.5 * 0.1**2]
    assert [s.exponential(0.4, 0.5)(e) for e in range(3)] == [0.4, 0.2, 0.1]
    assert [s.inverse_time(1.0, 1.0)(e) for e in range(4)] == [1.0, 0.5, 1 / 3, 0.25]
    cos = s.cosine(1.0, 0.1, 4)
    assert cos(0) == 1.0 and cos(4) == pytest.approx(0.1) and cos(9) == cos(4)
    assert cos(2) == pytest.approx(0.55)


def test_a_bad_schedule_value_stops_before_any_weight_changes():
    X, T = _data((3, 4, 2))
    net = nb.Network([3, 4, 2], seed=0)
    before = net.parameters.copy()
    for bad in (lambda e: 0.1 if e < 3 else -1.0, lambda e: float("nan") if e == 4 else 0.1,
                lambda e: "fast", nb.schedules.exponential(1.0, 1e300)):
        with pytest.raises(nb.InputError) as info:
            net.fit(X, T, epochs=6, eta=bad)
        assert "eta(" in str(info.value)
        np.testing.assert_array_equal(net.parameters, before)
        assert net.epochs_trained == 0


@given(st.floats(1e-4, 0.5), st.sampled_from([1, 5]))
def test_weight_decay_adds_lambda_w_to_the_weights_gradient_only(decay, batch_size):
    """One epoch without shuffling, by hand: w ← w − η (∂C_batch/∂w + λ w), b ← b − η ∂C/∂b."""
    X, T = _data((3, 4, 2), n=5)
    net = nb.Network([3, 4, 2], "tanh", seed=3)
    by_hand = net.copy()
    net.fit(X, T, epochs=1, eta=0.1, batch_size=batch_size, shuffle=False, weight_decay=decay)
    for first in range(0, 5, batch_size):
        rows = slice(first, first + batch_size)
        gw, gb = by_hand.gradient(X[rows], T[rows])
        for l in range(2):
            w, b = by_hand.weights[l], by_hand.biases[l]
            w[...] = w - 0.1 * (gw[l] + decay * w)
            b[...] = b - 0.1 * gb[l]
    np.testing.assert_array_equal(net.parameters, by_hand.parameters)


def test_weight_decay_equals_pytorch_sgd_on_the_weights_step_for_step():
    torch = pytest.importorskip("torch")
    X, T = _data((4, 5, 3), n=8)
    labels = np.argmax(T, axis=1)
    net = nb.Network([4, 5, 3], "tanh", output_activation="softmax", loss="cross_entropy",
                     seed=4)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(),
                                torch.nn.Linear(5, 3)).double()
    with torch.no_grad():
        for layer, w, b in zip((model[0], model[2]), net.weights, net.biases):
            layer.weight.copy_(torch.from_numpy(w.T.copy()))
            layer.bias.copy_(torch.from_numpy(b.copy()))
    optimiser = torch.optim.SGD([
        {"params": [model[0].weight, model[2].weight], "weight_decay": 0.05},
        {"params": [model[0].bias, model[2].bias], "weight_decay": 0.0}], lr=0.2, momentum=0.5)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(labels)
    for step in range(3):
        first = 4 * (step % 2)
        optimiser.zero_grad()
        rows = slice(first, first + 4)
        torch.nn.functional.cross_entropy(model(Xt[rows]), yt[rows]).backward()
        optimiser.step()
    net.fit(X, labels, epochs=1, eta=0.2, batch_size=4, momentum=0.5, shuffle=False,
            weight_decay=0.05)
    net.fit(X[:4], labels[:4], epochs=1, eta=0.2, batch_size=4, momentum=0.5, shuffle=False,
            weight_decay=0.05)
    for layer, w, b in zip((model[0], model[2]), net.weights, net.biases):
        np.testing.assert_allclose(w, layer.weight.detach().numpy().T, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b, layer.bias.detach().numpy(), rtol=1e-12, atol=1e-14)


# --- files and the trace ----------------------------------------------------------------------


def test_save_and_load_keep_the_loss_and_the_training_state(tmp_path):
    X, T = _data((3, 4, 2))
    net = nb.Network([3, 4, 2], "relu", output_activation="softmax", loss="cross_entropy",
                     seed=0)
    net.fit(X, nb.one_hot(np.arange(13) % 2, 2), epochs=2, momentum=0.5)
    net.save(tmp_path / "m.npz")
    same = nb.load(tmp_path / "m.npz")
    assert (same.loss, same.activations, same.epochs_trained) == (net.loss, net.activations, 2)
    assert repr(same) == repr(net) and "loss='cross_entropy'" in repr(net)


def test_a_version_1_file_loads_as_squared_error(tmp_path):
    net = nb.Network([2, 3, 1], seed=0)
    arrays = {"format": np.array("nbbackprop.Network"), "version": np.array(1),
              "sizes": np.array([2, 3, 1]), "activations": np.array(["sigmoid", "sigmoid"]),
              "w0": net.weights[0], "b0": net.biases[0], "w1": net.weights[1],
              "b1": net.biases[1]}
    np.savez(tmp_path / "v1.npz", **arrays)
    same = nb.load(tmp_path / "v1.npz")
    assert same.loss == "squared" and same.epochs_trained == 0
    np.testing.assert_array_equal(same.parameters, net.parameters)


@given(classifiers(n=1), st.sampled_from(nb.CONVENTIONS))
def test_the_trace_of_a_classifier_is_the_step_fit_takes(case, convention):
    net, X, T = case
    tr = net.trace(X[0], T[0], eta=0.3, convention=convention)
    stepped = net.copy()
    stepped.fit(X, T, epochs=1, eta=0.3, shuffle=False)
    for l, layer in enumerate(tr.layers):
        np.testing.assert_array_equal(layer.new_w, stepped.weights[l])
        np.testing.assert_array_equal(layer.new_b, stepped.biases[l])
    assert tr.error == net.error(X, T) and tr.loss == net.loss
    text = tr.to_text(full=True)
    if net.loss == "cross_entropy":
        assert "ln y" in text and "δ_1 = " in text
        sign = -1 if convention == "note" else 1
        np.testing.assert_array_equal(tr.layers[-1].delta, sign * (tr.layers[-1].y - T[0]))
    if net.activations[-1] == "softmax":
        assert "exp(z_1) / Σ_m exp(z_m)" in text
    assert tr.to_dict()["loss"] == net.loss


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "exception", "words"), [
    (lambda: nb.Network([2, 3, 2], "softmax"), ValueError, ["activation", "softmax",
                                                             "output layer"]),
    (lambda: nb.Network([2, 3, 2], ["softmax", "sigmoid"]), ValueError, ["activation[0]"]),
    (lambda: nb.Network([2, 2], "tanh", loss="cross_entropy"), ValueError,
     ["cross_entropy", "softmax", "sigmoid", "'tanh'"]),
    (lambda: nb.Network([2, 2], loss="hinge"), ValueError, ["loss", "squared", "cross_entropy"]),
    (lambda: nb.Network([2, 2], loss=1), TypeError, ["loss"]),
    (lambda: nb.Network.from_weights([np.ones((2, 2))], [np.zeros(2)], ["relu"],
                                     loss="cross_entropy"), ValueError, ["cross_entropy"]),
    (lambda: _ce().error([[0.0, 1.0]], [[0.5, 1.5]]), ValueError, ["T", "[0, 1]", "row 0"]),
    (lambda: _ce().error([[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.5, 0.4]]), ValueError,
     ["T", "sum to 1", "row 1"]),
    (lambda: _ce().fit([[0.0, 1.0]] * 2, np.array([0, 2]), epochs=1), ValueError,
     ["T", "class labels", "0 to 1", "got 2 at index 1"]),
    (lambda: _ce().error([[0.0, 1.0]] * 2, np.array([0.0, 1.0])), TypeError,
     ["integer class labels", "float64"]),
    (lambda: nb.one_hot([[0, 1]]), ValueError, ["labels", "1-D"]),
    (lambda: nb.one_hot([0, -1]), ValueError, ["labels", "-1", "index 1"]),
    (lambda: nb.one_hot([0, 1], n_classes=0), ValueError, ["n_classes"]),
    (lambda: _ce().fit([[0.0, 1.0]], [0], weight_decay=-1.0), ValueError, ["weight_decay"]),
    (lambda: _ce().fit([[0.0, 1.0]], [0], eta="fast"), TypeError, ["eta", "schedule"]),
    (lambda: _ce().fit([[0.0, 1.0]], [0], epochs=10**8, eta=lambda e: 0.1), ValueError,
     ["epochs", "schedule"]),
    (lambda: nb.schedules.step(0.5, 0.1, 0), ValueError, ["every"]),
    (lambda: nb.schedules.cosine(0.5, 0.9, 10), ValueError, ["eta_min", "eta0"]),
    (lambda: nb.schedules.exponential(-0.5, 0.9), ValueError, ["eta0"]),
    (lambda: nb.schedules.inverse_time(0.5, float("nan")), ValueError, ["decay"]),
    (lambda: _ce().trace([0.0, 1.0], [0.3, 0.3]), ValueError, ["t", "sum to 1"]),
])
def test_bad_input_is_refused_by_name(call, exception, words):
    assert_clear_error(call, exception, words)


def _ce():
    return nb.Network([2, 3, 2], "tanh", output_activation="softmax", loss="cross_entropy",
                      seed=0)


def test_a_model_file_with_softmax_on_a_hidden_layer_is_refused(tmp_path):
    net = nb.Network([2, 3, 2], seed=0)
    arrays = {"format": np.array("nbbackprop.Network"), "version": np.array(2),
              "sizes": np.array([2, 3, 2]), "activations": np.array(["softmax", "sigmoid"]),
              "loss": np.array("squared"), "w0": net.weights[0], "b0": net.biases[0],
              "w1": net.weights[1], "b1": net.biases[1]}
    np.savez(tmp_path / "bad.npz", **arrays)
    assert_clear_error(lambda: nb.load(tmp_path / "bad.npz"), ValueError,
                       ["bad.npz", "softmax", "output layer"])
    arrays["activations"], arrays["loss"] = np.array(["sigmoid", "sigmoid"]), np.array("hinge")
    np.savez(tmp_path / "bad.npz", **arrays)
    assert_clear_error(lambda: nb.load(tmp_path / "bad.npz"), ValueError, ["loss", "hinge"])


# --- the command line and the digits script ---------------------------------------------------


def cli(*args, cwd=None):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "nbbackprop", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def test_the_cli_trains_a_softmax_classifier_on_integer_labels(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 60)
    X = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])[labels] + rng.normal(size=(60, 2))
    np.savez(tmp_path / "data.npz", X=X, T=labels)
    result = cli("train", tmp_path / "data.npz", "--sizes", "2,6,3", "--activation", "tanh",
                 "--output-activation", "softmax", "--loss", "cross_entropy",
                 "--schedule", "step:0.1,0.5,10", "--weight-decay", "1e-4", "--epochs", "20",
                 "--batch-size", "4", "--momentum", "0.5", "--out", tmp_path / "m.npz")
    assert result.returncode == 0, result.stderr
    assert "loss='cross_entropy'" in result.stdout and "training accuracy" in result.stdout
    net = nb.load(tmp_path / "m.npz")
    assert (net.loss, net.activations[-1], net.epochs_trained) == ("cross_entropy", "softmax", 20)
    # The same run from Python gives the same weights.
    same = nb.Network([2, 6, 3], "tanh", output_activation="softmax", loss="cross_entropy",
                      seed=0)
    same.fit(X, labels, epochs=20, eta=nb.schedules.step(0.1, 0.5, 10), batch_size=4,
             momentum=0.5, weight_decay=1e-4)
    np.testing.assert_array_equal(net.parameters, same.parameters)
    # Continuing from the file goes on along the schedule; the trace shows the softmax.
    assert cli("train", tmp_path / "data.npz", "--model", tmp_path / "m.npz", "--epochs", "1",
               "--schedule", "step:0.1,0.5,10").returncode == 0
    trace = cli("trace", "--model", tmp_path / "m.npz", "--x", "1", "0", "--t", "1", "0", "0")
    assert trace.returncode == 0, trace.stderr
    assert "exp(z_1) / Σ_m exp(z_m)" in trace.stdout and "E = −Σ_k t_k ln y_k" in trace.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["--model", "m.npz", "--loss", "cross_entropy"], ["--loss", "--model"]),
    (["--sizes", "2,3", "--eta", "0.1", "--schedule", "step:0.1,0.5,10"],
     ["--eta", "--schedule"]),
    (["--sizes", "2,3", "--schedule", "linear:0.1"], ["--schedule", "step:ETA0"]),
    (["--sizes", "2,3", "--schedule", "step:0.1,x,10"], ["--schedule", "step:ETA0,FACTOR,EVERY"]),
    (["--sizes", "2,3", "--schedule", "step:0.1,0.5,0"], ["every"]),
    (["--sizes", "2,3", "--activation", "tanh", "--loss", "cross_entropy"],
     ["cross_entropy", "softmax", "sigmoid"]),
    (["--sizes", "2,3", "--output-activation", "softmax", "--weight-decay", "-1"],
     ["--weight-decay"]),
])
def test_bad_cli_arguments_give_one_line(tmp_path, args, words):
    np.savez(tmp_path / "data.npz", X=np.zeros((4, 2)), T=np.array([0, 1, 2, 1]))
    nb.Network([2, 3], seed=0).save(tmp_path / "m.npz")
    result = cli("train", "data.npz", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_the_digits_script_trains_and_reports_the_test_accuracy():
    pytest.importorskip("sklearn")
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "digits.py"
    main = runpy.run_path(str(script))["main"]
    assert main(["--epochs", "3"]) == 0


@pytest.mark.parametrize("call", [lambda net, X, T: net.predict(X),
                                  lambda net, X, T: net.accuracy(X, T)])
def test_predict_and_accuracy_name_their_own_argument_when_the_output_overflows(call):
    net = nb.Network.from_weights([np.ones((2, 3))], [np.zeros(3)], ["linear"])
    X, T = np.full((2, 2), 1e308), np.array([0, 1])  # z_j = 2e308 overflows
    with pytest.raises(nb.NonFiniteResult) as caught:
        call(net, X, T)
    assert "largest |X| = 1e+308" in str(caught.value) and "scale X down" in str(caught.value)
