"""nb.experiments and the many-runs driver behind it: every run equals a plain
``Network(...).fit`` seeded from (seed, run index), whatever executes it; outcomes as
defined; clear errors for bad input."""

import json
import math
import sys

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import nbbackprop as nb
import processes
from clear_errors import assert_clear_error
from nbbackprop import experiments as ex
from nbbackprop import runs
from oracle import gradient

XOR = nb.xor()


def python_loop(sizes, activation, X, T, seeds, *, epochs, target_error, init="auto",
                output_activation=None, loss="squared", **fit):
    """The reference: one Network and one fit per run, as a user would write them."""
    nets, histories = [], []
    for s in seeds:
        net = nb.Network(sizes, activation, output_activation, loss=loss, seed=int(s),
                         init=init)
        histories.append(net.fit(X, T, epochs=epochs, seed=int(s), target_error=target_error,
                                 on_divergence="stop", **fit))
        nets.append(net)
    return nets, histories


def assert_same_runs(done, nets, histories):
    for r, (net, history) in enumerate(zip(nets, histories)):
        assert np.array_equal(done.thetas[r], net.parameters), f"run {r}: weights"
        assert done.epochs[r] == history.epochs, f"run {r}: epochs"
        assert done.stop_reasons[r] == history.stop_reason, f"run {r}: stop reason"
        assert np.array_equal(done.errors[r, : history.epochs], history.errors), f"run {r}"


@st.composite
def settings_of_runs(draw):
    L = draw(st.integers(1, 3), label="layers of weights")
    sizes = draw(st.lists(st.integers(1, 5), min_size=L + 1, max_size=L + 1), label="sizes")
    activation = draw(st.sampled_from(nb.ACTIVATIONS), label="activation")
    output = draw(st.sampled_from([None, "sigmoid", "softmax"]), label="output_activation")
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    loss = draw(st.sampled_from(["squared", "cross_entropy"] if output else ["squared"]),
                label="loss")
    n = draw(st.integers(1, 6), label="samples")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="data seed"))
    X = rng.normal(size=(n, sizes[0]))
    T = rng.uniform(size=(n, sizes[-1]))
    if output == "softmax":
        T /= T.sum(axis=1, keepdims=True)
    fit = {
        "eta": draw(st.sampled_from([0.01, 0.5, 3.0, 50.0]), label="eta"),  # 50: divergence
        "batch_size": draw(st.integers(1, n), label="batch_size"),
        "momentum": draw(st.sampled_from([0.0, 0.9]), label="momentum"),
        "shuffle": draw(st.booleans(), label="shuffle"),
        "weight_decay": draw(st.sampled_from([0.0, 1e-3]), label="weight_decay"),
        "train_biases": draw(st.booleans(), label="train_biases"),
    }
    init = draw(st.sampled_from(nb.network.INITS), label="init")
    target = draw(st.sampled_from([None, 0.0, 0.05, 0.2]), label="target_error")
    # up to more runs than lanes: runs enter lanes as others stop, and lanes fall idle
    seeds = draw(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=2 * runs.LANES + 1),
                 label="seeds")
    epochs = draw(st.integers(1, 30), label="epochs")
    network = {"output_activation": output, "loss": loss, "init": init}
    return sizes, activation, network, X, T, fit, target, seeds, epochs


@given(settings_of_runs())
def test_one_compiled_call_equals_a_python_loop_of_fits(case):
    sizes, activation, network, X, T, fit, target, seeds, epochs = case
    nets, histories = python_loop(sizes, activation, X, T, seeds, epochs=epochs,
                                  target_error=target, **network, **fit)
    initial = np.array([nb.Network(sizes, activation, network["output_activation"],
                                   loss=network["loss"], seed=s, init=network["init"]).parameters
                        for s in seeds])
    done = runs.train_many(nets[0].layout, X, T, initial, seeds, epochs=epochs,
                           target_error=target, **fit)
    assert_same_runs(done, nets, histories)
    for history in histories:
        event(history.stop_reason)
    event(f"more runs than lanes: {len(seeds) > runs.LANES}")


def test_runs_that_stop_at_different_epochs_hand_their_lanes_on_and_keep_their_results():
    # XOR runs reach the target at epochs of their own, or run all epochs: the lanes they
    # leave are taken by the runs waiting, then fall idle one by one (the property above
    # covers diverging runs)
    X, T = XOR
    seeds = list(range(2 * runs.LANES + 3))
    fit = dict(epochs=300, target_error=0.05, eta=5.0, momentum=0.5)
    nets, histories = python_loop((2, 2, 1), "sigmoid", X, T, seeds, **fit)
    assert len({h.epochs for h in histories}) > runs.LANES  # they do stop apart
    initial = np.array([nb.Network((2, 2, 1), seed=s).parameters for s in seeds])
    done = runs.train_many(nets[0].layout, X, T, initial, seeds, **fit)
    assert_same_runs(done, nets, histories)
    # a run's result does not depend on the runs beside it in the lanes
    alone = runs.train_many(nets[0].layout, X, T, initial[-1:], seeds[-1:], **fit)
    assert np.array_equal(alone.thetas[0], done.thetas[-1])


def test_the_threaded_error_pass_of_large_data_is_taken_and_gives_the_same_runs():
    sizes = (784, 100, 10)
    n = 448  # n · weights ≥ fast.PARALLEL_WORK: the error pass asks for the threads
    assert nb.fast.wants_threads(nb.Network(sizes).layout, n)
    rng = np.random.default_rng(1)
    X, T = rng.uniform(size=(n, 784)), rng.uniform(size=(n, 10))
    seeds = [3, 4]
    nets, histories = python_loop(sizes, "sigmoid", X, T, seeds, epochs=2, target_error=None,
                                  eta=0.1)
    initial = np.array([nb.Network(sizes, seed=s).parameters for s in seeds])
    done = runs.train_many(nets[0].layout, X, T, initial, seeds, epochs=2, eta=0.1)
    assert_same_runs(done, nets, histories)


# --- restarts ------------------------------------------------------------------------------


def test_run_seeds_come_from_the_seed_and_the_run_index_alone():
    assert ex.run_seeds(7, 3, 6).tolist() == [
        int(np.random.SeedSequence((7, r)).generate_state(1, dtype=np.uint64)[0])
        for r in (3, 4, 5)]
    assert ex.run_seeds(7, 0, 6)[3:].tolist() == ex.run_seeds(7, 3, 6).tolist()


def test_each_restart_is_the_fit_its_seed_names():
    X, T = XOR
    res = ex.restarts([2, 2, 1], X, T, n=12, seed=5, target_error=0.05, max_epochs=800,
                      eta=2.0, momentum=0.5)
    nets, histories = python_loop([2, 2, 1], "sigmoid", X, T, res.seeds, epochs=800,
                                  target_error=0.05, eta=2.0, momentum=0.5)
    for r, history in enumerate(histories):
        converged = history.stop_reason == "target_error"
        assert (res.outcomes[r] == "converged") == converged
        assert res.epochs_to_target[r] == (history.epochs if converged else -1)
        assert res.final_errors[r] == history.errors[-1]
    assert res.success_rate == np.mean([h.stop_reason == "target_error" for h in histories])


@settings(max_examples=15)
@given(n=st.integers(1, 9), chunk_size=st.integers(1, 10), seed=st.integers(0, 2**40))
def test_results_do_not_depend_on_the_chunking(n, chunk_size, seed):
    X, T = XOR
    args = dict(n=n, seed=seed, max_epochs=200, target_error=0.1, eta=5.0)
    whole = ex.restarts([2, 2, 1], X, T, chunk_size=n, **args)
    chunked = ex.restarts([2, 2, 1], X, T, chunk_size=chunk_size, **args)
    for name in ("seeds", "outcomes", "epochs", "final_errors"):
        assert np.array_equal(getattr(whole, name), getattr(chunked, name)), name
    # and a longer experiment's first runs are this one's
    longer = ex.restarts([2, 2, 1], X, T, **{**args, "n": n + 3})
    assert np.array_equal(longer.final_errors[:n], whole.final_errors)


@settings(max_examples=4)  # a pool of processes, started once and reused
@given(n_jobs=st.sampled_from([2, -1, None]), chunk_size=st.sampled_from([None, 1, 3, 10]))
def test_results_do_not_depend_on_the_number_of_processes(n_jobs, chunk_size):
    pytest.importorskip("joblib")
    X, T = XOR
    args = dict(n=10, seed=2, max_epochs=300, target_error=0.05, eta=3.0)
    local = ex.restarts([2, 2, 1], X, T, **args)
    pooled = ex.restarts([2, 2, 1], X, T, n_jobs=n_jobs, chunk_size=chunk_size, **args)
    for name in ("seeds", "outcomes", "epochs", "final_errors"):
        assert np.array_equal(getattr(local, name), getattr(pooled, name)), name


def test_a_dask_cluster_gives_the_local_results_bit_for_bit():
    distributed = pytest.importorskip("dask.distributed")
    joblib = pytest.importorskip("joblib")
    X, T = XOR
    args = dict(n=8, seed=11, max_epochs=300, target_error=0.05, eta=3.0)
    local = ex.sweep([2, 2, 1], X, T, grid={"momentum": [0.0, 0.5]}, repeats=4,
                     seed=11, max_epochs=300, target_error=0.05, eta=3.0)
    alone = ex.restarts([2, 2, 1], X, T, **args)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                                  processes=True) as cluster, distributed.Client(cluster):
        with joblib.parallel_config(backend="dask"):
            remote = ex.sweep([2, 2, 1], X, T, grid={"momentum": [0.0, 0.5]}, repeats=4,
                              seed=11, max_epochs=300, target_error=0.05, eta=3.0,
                              n_jobs=-1, chunk_size=1)
            remote_alone = ex.restarts([2, 2, 1], X, T, n_jobs=2, **args)
    for a, b in [*zip(local.results, remote.results), (alone, remote_alone)]:
        for name in ("seeds", "outcomes", "epochs", "final_errors"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_ray_backend_gives_the_local_results():
    pytest.importorskip("ray")
    joblib = pytest.importorskip("joblib")
    from ray.util.joblib import register_ray

    register_ray()
    X, T = XOR
    args = dict(n=6, seed=1, max_epochs=200, target_error=0.05, eta=3.0)
    local = ex.restarts([2, 2, 1], X, T, **args)
    with joblib.parallel_config(backend="ray"):
        remote = ex.restarts([2, 2, 1], X, T, n_jobs=2, **args)
    assert np.array_equal(local.final_errors, remote.final_errors)


def test_progress_counts_every_run(capsys):
    pytest.importorskip("tqdm")
    X, T = XOR
    ex.restarts([2, 2, 1], X, T, n=7, max_epochs=50, chunk_size=3, progress=True)
    err = capsys.readouterr().err
    assert "7/7" in err and "run" in err


def test_progress_without_tqdm_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now fails
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match=r'experiments\(progress=True\) needs tqdm: pip '
                       r'install "nbbackprop\[progress\]"'):
        ex.restarts([2, 2, 1], *XOR, n=2, max_epochs=5, progress=True)


def test_the_printed_table_counts_every_run_and_gives_the_wilson_interval():
    X, T = XOR
    res = ex.restarts([2, 2, 1], X, T, n=40, seed=0, max_epochs=1500, target_error=0.05)
    text = str(res)
    counts = res.counts
    assert sum(counts.values()) == 40
    for name, count in counts.items():
        assert f"{name:<10} {count:>5}" in text
    low, high = ex.wilson(counts["converged"], 40)
    assert f"{100 * low:.1f}–{100 * high:.1f} %" in text
    assert "median" in text or counts["converged"] == 0


def test_wilson_interval_by_hand():
    z2 = ex.Z95**2
    # no success in n: (0, z²/(n + z²)); all: (n/(n + z²), 1)
    assert ex.wilson(0, 10) == pytest.approx((0.0, z2 / (10 + z2)), rel=1e-14, abs=1e-15)
    assert ex.wilson(10, 10) == pytest.approx((10 / (10 + z2), 1.0), rel=1e-14)
    low, high = ex.wilson(5, 10)  # symmetric about 1/2, half-width z/(1+z²/n)·√(1/40 + z²/400)
    half = ex.Z95 / (1 + z2 / 10) * math.sqrt(0.025 + z2 / 400)
    assert (low, high) == (pytest.approx(0.5 - half), pytest.approx(0.5 + half))


# --- outcomes ------------------------------------------------------------------------------


def test_outcomes_follow_their_definitions():
    never = lambda: pytest.fail("saturation need not be looked at")  # noqa: E731
    flat, falling = np.full(100, 0.2), 0.2 * 0.9 ** np.arange(100)
    assert ex.OUTCOMES[ex._outcome("diverged", flat, 0.3, 100, never)] == "diverged"
    assert ex.OUTCOMES[ex._outcome("target_error", flat, 0.3, 100, never)] == "converged"
    assert ex.OUTCOMES[ex._outcome("epochs", falling, 0.3, 100, never)] == "stopped"
    assert ex.OUTCOMES[ex._outcome("epochs", flat, 0.3, 100, lambda: False)] == "plateau"
    assert ex.OUTCOMES[ex._outcome("epochs", flat, 0.3, 100, lambda: True)] == "saturated"
    # a fall of just under 1 % over the last 10 epochs of 100 is a plateau, 1 % is not
    almost = np.concatenate((np.full(89, 1.0), np.full(11, 0.991)))
    almost[89] = 1.0
    assert ex.OUTCOMES[ex._outcome("epochs", almost, 1.0, 100, lambda: False)] == "plateau"
    almost[-1] = 0.99
    assert ex.OUTCOMES[ex._outcome("epochs", almost, 1.0, 100, lambda: False)] == "stopped"
    # one epoch: compared with the error before training
    assert ex.OUTCOMES[ex._outcome("epochs", [0.5], 1.0, 1, never)] == "stopped"


def saturation_case(w_hidden, activation):
    net = nb.Network.from_weights([np.array([[w_hidden]]), np.array([[1.0]])],
                                  [np.zeros(1), np.zeros(1)], [activation, "linear"])
    return ex._saturated(net.parameters, net.layout, np.array([[1.0], [2.0]]))


def test_saturation_is_a_unit_pinned_on_every_sample():
    # σ'(z) = σ(1 − σ) < 0.0025 needs z > 5.99: w = 6 gives z = 6, 12 (both pinned)
    assert saturation_case(6.0, "sigmoid") and not saturation_case(5.0, "sigmoid")
    # 1 − tanh²(z) < 0.01 needs |z| > 2.99
    assert saturation_case(3.0, "tanh") and not saturation_case(2.9, "tanh")
    # a ReLU unit that is 0 on every sample; one that is positive on one is alive
    assert saturation_case(-1.0, "relu") and not saturation_case(1.0, "relu")
    assert not saturation_case(1e6, "linear")


# --- sweep, gradient_profile, lr_range --------------------------------------------------


def test_sweep_points_are_restarts_with_the_same_seeds():
    X, T = XOR
    sw = ex.sweep([2, 2, 1], X, T, grid={"eta": [0.5, 4.0], "sizes": [[2, 2, 1], [2, 3, 1]]},
                  repeats=5, seed=3, max_epochs=400, target_error=0.05)
    assert [tuple(p.values()) for p in sw.points] == [
        (0.5, [2, 2, 1]), (0.5, [2, 3, 1]), (4.0, [2, 2, 1]), (4.0, [2, 3, 1])]
    for point, res in zip(sw.points, sw.results):
        alone = ex.restarts(point["sizes"], X, T, n=5, seed=3, max_epochs=400,
                            target_error=0.05, eta=point["eta"])
        assert np.array_equal(alone.final_errors, res.final_errors)
        assert np.array_equal(res.seeds, ex.run_seeds(3, 0, 5))
    row = sw.table[3]
    assert row["runs"] == 5 and row["success_rate"] == sw.results[3].success_rate
    assert (row["low"], row["high"]) == sw.results[3].interval
    text = str(sw).splitlines()
    assert text[0].split()[:2] == ["eta", "sizes"] and len(text) == 5


def test_a_grid_of_numpy_values_is_a_grid_of_their_floats():
    X, T = XOR
    sw = ex.sweep([2, 2, 1], X, T, grid={"eta": np.array([0.5, 2.0])}, repeats=2, max_epochs=50)
    assert [p["eta"] for p in sw.points] == [0.5, 2.0]
    assert type(sw.points[0]["eta"]) is float


def test_sweep_to_dataframe():
    pd = pytest.importorskip("pandas")
    X, T = XOR
    sw = ex.sweep([2, 2, 1], X, T, grid={"momentum": [0.0, 0.9]}, repeats=3, max_epochs=100)
    frame = sw.to_dataframe()
    assert isinstance(frame, pd.DataFrame) and list(frame["momentum"]) == [0.0, 0.9]
    assert list(frame["success_rate"]) == [row["success_rate"] for row in sw.table]


def test_gradient_profile_norms_are_those_of_an_independent_gradient():
    X, T = XOR
    prof = ex.gradient_profile([2, 4, 4, 1], "tanh", X, T, seed=4, init="normal", n=5)
    assert prof.norms.shape == (5, 3)
    for r, s in enumerate(ex.run_seeds(4, 0, 5)):
        net = nb.Network([2, 4, 4, 1], "tanh", seed=int(s), init="normal")
        gw, _ = gradient(net.weights, net.biases, net.activations, X, T)
        np.testing.assert_allclose(prof.norms[r], [np.linalg.norm(g) for g in gw],
                                   rtol=1e-12)
    np.testing.assert_array_equal(prof.median, np.median(prof.norms, axis=0))
    assert str(prof).splitlines()[1].split() == ["layer", "median", "25", "%", "75", "%"]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), epsilon=st.sampled_from([0.05, 0.1, 0.3]))
def test_a_full_batch_with_eta_epsilon_times_n_steps_on_the_summed_gradient(seed, epsilon):
    """The papers' step on the "accumulated gradient after each sweep",
    Δw = −ε Σ_x ∂E_x/∂w (scripts/limitations.py paper): fit's full batch with η = ε·n,
    its step being −η times the mean gradient; checked against an independent gradient."""
    X, T = nb.datasets.symmetry(6)
    net = nb.Network([6, 2, 1], seed=seed, init="uniform", init_scale=0.3)
    gw, gb = gradient(net.weights, net.biases, net.activations, X, T)  # of C, the mean
    expected = [w - epsilon * len(X) * g for w, g in zip(net.weights, gw)]
    expected_b = [b - epsilon * len(X) * g for b, g in zip(net.biases, gb)]
    net.fit(X, T, epochs=1, batch_size=len(X), eta=epsilon * len(X), momentum=0.9, seed=0)
    for got, want in zip([*net.weights, *net.biases], [*expected, *expected_b]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_lr_range_marks_divergence_and_keeps_the_fit_errors():
    X, T = XOR
    lr = ex.lr_range([2, 3, 1], X, T, eta_min=0.1, eta_max=1e3, steps=3, seed=2, epochs=50,
                     repeats=2, activation="linear")
    np.testing.assert_allclose(lr.etas, [0.1, 10.0, 1e3], rtol=1e-14)
    assert lr.diverged[2].all() and lr.divergence_rate[2] == 1.0
    assert not lr.diverged[0].any() and math.isnan(lr.median_errors[2])
    for r, s in enumerate(ex.run_seeds(2, 0, 2)):
        net = nb.Network([2, 3, 1], "linear", seed=int(s))
        history = net.fit(X, T, epochs=50, eta=0.1, seed=int(s))
        assert lr.final_errors[0, r] == history.errors[-1]


# --- bad input -----------------------------------------------------------------------------

BAD = [
    (lambda: ex.restarts([2, 2, 1], *XOR, n=0), nb.InvalidValue, ["n", "≥ 1", "0"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, n=2.5), nb.InvalidType, ["n", "integer", "2.5"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, seed=-1), nb.InvalidValue, ["seed", "≥ 0", "-1"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, target_error=-1.0), nb.InvalidValue,
     ["target_error", "≥ 0", "-1.0"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, target_error=None), nb.InvalidValue,
     ["target_error", "None"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, max_epochs=0), nb.InvalidValue,
     ["max_epochs", "≥ 1", "0"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, max_epochs=10**8), nb.InvalidValue,
     ["max_epochs", "≤", "100000000"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, n_jobs=0), nb.InvalidValue, ["n_jobs", "non-zero"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, n_jobs="all"), nb.InvalidType, ["n_jobs", "'all'"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, chunk_size=0), nb.InvalidValue, ["chunk_size", "0"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, progress="yes"), nb.InvalidType,
     ["progress", "True or False", "'yes'"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, etta=0.5), nb.InvalidType,
     ["unexpected argument", "'etta'", "eta"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, eta=-1.0), nb.InvalidValue, ["eta", "positive"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, eta=lambda e: 0.1), nb.InvalidType,
     ["eta", "schedule"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, batch_size=5), nb.InvalidValue,
     ["batch_size", "≤ 4", "5"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, init_scale=1.0), nb.InvalidValue,
     ["init_scale", "uniform"]),
    (lambda: ex.restarts([3, 2, 1], *XOR), nb.InvalidValue, ["X", "(n, 3)", "(4, 2)"]),
    (lambda: ex.restarts([2, 2, 1], XOR[0], XOR[1][:3]), nb.InvalidValue, ["T", "(4, 1)"]),
    (lambda: ex.restarts("2-2-1", *XOR), nb.InvalidType, ["sizes", "'2-2-1'"]),
    (lambda: ex.restarts([2, 2, 1], *XOR, activation="step"), nb.InvalidValue,
     ["activation", "'step'"]),
    (lambda: ex.sweep([2, 2, 1], *XOR, grid=[0.5]), nb.InvalidType, ["grid", "dict"]),
    (lambda: ex.sweep([2, 2, 1], *XOR, grid={}), nb.InvalidType, ["grid", "non-empty"]),
    (lambda: ex.sweep([2, 2, 1], *XOR, grid={"seed": [1, 2]}), nb.InvalidValue,
     ["grid may vary", "eta", "'seed'"]),
    (lambda: ex.sweep([2, 2, 1], *XOR, grid={"eta": []}), nb.InvalidValue,
     ["grid['eta']", "non-empty list", "[]"]),
    (lambda: ex.sweep([2, 2, 1], *XOR, grid={"eta": 0.5}), nb.InvalidValue,
     ["grid['eta']", "list", "0.5"]),
    (lambda: ex.sweep([2, 2, 1], *XOR, grid={"eta": [0.5, -2.0]}), nb.InvalidValue,
     ["eta", "positive", "-2.0"]),
    (lambda: ex.sweep([2, 2, 1], *XOR, grid={"eta": [0.5]}, repeats=0), nb.InvalidValue,
     ["repeats", "≥ 1"]),
    (lambda: ex.gradient_profile([2, 2, 1], "sigmoid", *XOR, n=0), nb.InvalidValue,
     ["n", "≥ 1"]),
    (lambda: ex.gradient_profile([2, 2, 1], "sigmoid", *XOR, init="zeros"), nb.InvalidValue,
     ["init", "'zeros'"]),
    (lambda: ex.gradient_profile([2, 2, 1], "sigmoid", XOR[0], XOR[1][:, 0:0]),
     nb.InvalidValue, ["T", "(4, 1)"]),
    (lambda: ex.lr_range([2, 2, 1], *XOR, eta_min=0.0), nb.InvalidValue,
     ["eta_min", "positive", "0.0"]),
    (lambda: ex.lr_range([2, 2, 1], *XOR, eta_min=1.0, eta_max=0.1), nb.InvalidValue,
     ["eta_max", "≥ eta_min", "0.1"]),
    (lambda: ex.lr_range([2, 2, 1], *XOR, steps=0), nb.InvalidValue, ["steps", "≥ 1"]),
    (lambda: ex.lr_range([2, 2, 1], *XOR, eta=0.1), nb.InvalidType, ["eta", "eta_min"]),
]


@pytest.mark.parametrize("call, exception, words", BAD)
def test_bad_input_is_refused_clearly(call, exception, words):
    assert_clear_error(call, exception, words)


FRESH = """
import json, sys
import nbbackprop as nb
nb.experiments.restarts
print(json.dumps(sorted(m for m in sys.modules
                        if m.split(".")[0] in {"joblib", "dask", "distributed", "pandas",
                                               "tqdm", "ray"})))
"""


def test_experiments_load_joblib_dask_pandas_and_tqdm_only_when_used():
    result = processes.run(["-c", FRESH])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
