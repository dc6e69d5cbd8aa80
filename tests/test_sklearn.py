"""The scikit-learn estimators: scikit-learn's own estimator checks, bit-for-bit agreement
with training a ``Network`` directly, reproducibility, ``partial_fit``, labels of any type,
clear errors for bad parameters, and real use in Pipeline, cross_val_score and GridSearchCV
(with worker processes)."""

import contextlib
import io
import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nbbackprop as nb
import processes
from clear_errors import assert_clear_error
from fuzz import BAD_INTS, BAD_REALS, JUNK, bad_names

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, load_iris, make_classification  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from nbbackprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

values = st.floats(-2, 2, allow_nan=False, allow_infinity=False)
parameter_sets = st.fixed_dictionaries({
    "hidden_layer_sizes": st.lists(st.integers(1, 5), max_size=2).map(tuple),
    "activation": st.sampled_from(nb.ACTIVATIONS),
    "eta": st.floats(0.001, 0.1),
    "batch_size": st.integers(1, 8),
    "momentum": st.sampled_from([0.0, 0.5, 0.9]),
    "epochs": st.integers(1, 4),
    "weight_decay": st.sampled_from([0.0, 1e-3]),
    "random_state": st.integers(0, 2**32 - 1),
})


@st.composite
def problems(draw, n_classes=(0, 2, 3, 4)):
    """(X, labels): a few samples of a few features and integer labels 0 … K−1, each class
    present, K drawn from n_classes (K = 0 draws a regression target instead: y of shape
    (n,), (n, 1) or (n, 2))."""
    K = draw(st.sampled_from(n_classes))
    n = draw(st.integers(max(K, 1), 12))
    X = draw(arrays(np.float64, (n, draw(st.integers(1, 4))), elements=values))
    if K == 0:
        shape = draw(st.sampled_from([(n,), (n, 1), (n, 2)]))
        return X, draw(arrays(np.float64, shape, elements=values))
    labels = np.array(draw(st.permutations(list(range(K)) + draw(
        st.lists(st.integers(0, K - 1), min_size=n - K, max_size=n - K)))))
    return X, labels


def network_for(params, X, y):
    """The Network the estimator should hold, built and trained directly with nbbackprop."""
    regression = y.dtype.kind == "f"
    K = len(np.unique(y))
    n_out = (1 if y.ndim == 1 else y.shape[1]) if regression else (1 if K == 2 else K)
    output = "linear" if regression else ("sigmoid" if n_out == 1 else "softmax")
    s = params["random_state"]
    net = nb.Network([X.shape[1], *params["hidden_layer_sizes"], n_out], params["activation"],
                     output, loss="squared" if regression else "cross_entropy", seed=s)
    net.fit(X, y, epochs=params["epochs"], eta=params["eta"],
            batch_size=min(params["batch_size"], X.shape[0]), momentum=params["momentum"],
            shuffle=True, seed=s, weight_decay=params["weight_decay"])
    return net


def estimator_for(y, **params):
    return MLPRegressor(**params) if y.dtype.kind == "f" else MLPClassifier(**params)


# --- scikit-learn's estimator checks --------------------------------------------------------

@parametrize_with_checks([MLPClassifier(random_state=0), MLPRegressor(random_state=0)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# --- the estimator is a Network trained as nbbackprop trains it -----------------------------

@given(problems(), parameter_sets)
def test_the_estimator_holds_the_network_nbbackprop_trains_bit_for_bit(problem, params):
    X, y = problem
    est = estimator_for(y, **params).fit(X, y)
    direct = network_for(params, X, y)
    assert isinstance(est.network_, nb.Network)
    assert est.network_.sizes == direct.sizes and est.network_.activations == direct.activations
    assert np.array_equal(est.network_.parameters, direct.parameters)
    Y = direct.forward(X)
    if isinstance(est, MLPClassifier):
        proba = est.predict_proba(X)
        assert np.array_equal(proba[:, -Y.shape[1]:], Y)  # binary: the second column is y
        assert np.array_equal(est.predict(X), est.classes_[direct.predict(X)])
        assert np.allclose(proba.sum(axis=1), 1.0)
    else:
        assert np.array_equal(est.predict(X), Y[:, 0] if Y.shape[1] == 1 else Y)


@given(problems(), parameter_sets)
def test_the_same_random_state_gives_the_same_predictions_bit_for_bit(problem, params):
    X, y = problem
    first = estimator_for(y, **params).fit(X, y)
    again = clone(first).fit(X, y)
    assert np.array_equal(first.predict(X), again.predict(X))
    assert np.array_equal(first.network_.parameters, again.network_.parameters)
    seeded = [estimator_for(y, **{**params, "random_state": np.random.RandomState(7)}).fit(X, y)
              for _ in range(2)]
    assert np.array_equal(*(est.network_.parameters for est in seeded))


@given(problems(), parameter_sets)
def test_fit_starts_again_from_the_random_state(problem, params):
    X, y = problem
    est = estimator_for(y, **params)
    once = est.fit(X, y).network_.parameters.copy()
    assert np.array_equal(est.fit(X, y).network_.parameters, once)


@given(problems(n_classes=[3]), parameter_sets, st.integers(0, 2**32 - 1))
def test_another_random_state_gives_other_weights(problem, params, other):
    X, y = problem
    params["hidden_layer_sizes"] = (4,)
    a = MLPClassifier(**params).fit(X, y).network_.parameters
    b = MLPClassifier(**{**params, "random_state": other}).fit(X, y).network_.parameters
    assert np.array_equal(a, b) == (other == params["random_state"])


@given(problems(), parameter_sets)
def test_partial_fit_trains_one_epoch_per_call_as_fit_does(problem, params):
    X, y = problem
    est = estimator_for(y, **params)
    kwargs = {"classes": np.unique(y)} if isinstance(est, MLPClassifier) else {}
    for _ in range(params["epochs"]):
        est.partial_fit(X, y, **kwargs)
    assert est.network_.epochs_trained == params["epochs"]
    assert np.array_equal(est.network_.parameters, network_for(params, X, y).parameters)
    # and it continues after fit, as the network's own fit does
    fitted = estimator_for(y, **params).fit(X, y).partial_fit(X, y)
    direct = network_for(params, X, y)
    direct.fit(X, y, epochs=1, eta=params["eta"], batch_size=min(params["batch_size"], len(X)),
               momentum=params["momentum"], weight_decay=params["weight_decay"])
    assert np.array_equal(fitted.network_.parameters, direct.parameters)


@given(problems(n_classes=[3]), parameter_sets)
def test_partial_fit_may_see_only_some_classes_per_call(problem, params):
    X, y = problem
    est = MLPClassifier(**params).partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    est.partial_fit(X[y != 0], y[y != 0])
    assert est.network_.sizes[-1] == 3 and est.network_.epochs_trained == 2
    assert set(est.predict(X)) <= {0, 1, 2}


@given(problems(n_classes=[2, 3, 4]), parameter_sets,
       st.sampled_from(["strings", "shifted", "floats", "bools"]))
def test_labels_of_any_type_train_the_same_network(problem, params, kind):
    X, labels = problem
    K = labels.max() + 1
    if kind == "bools":
        labels = labels % 2  # two classes
        K = 2
    names = {"strings": np.array([f"class {c}" for c in "abcd"[:K]]),
             "shifted": np.array([-7, 3, 40, 41])[:K],
             "floats": np.array([-1.0, 0.0, 2.0, 9.0])[:K],
             "bools": np.array([False, True])}[kind]
    y = names[labels]  # the same classes in the same sorted order
    est = MLPClassifier(**params).fit(X, y)
    assert np.array_equal(est.classes_, names)
    assert np.array_equal(est.network_.parameters, network_for(params, X, labels).parameters)
    assert np.array_equal(est.predict(X), names[est.network_.predict(X)])


@given(problems(), parameter_sets)
def test_a_batch_larger_than_the_data_is_the_whole_data(problem, params):
    X, y = problem
    big = estimator_for(y, **{**params, "batch_size": len(X) + 5}).fit(X, y)
    whole = estimator_for(y, **{**params, "batch_size": len(X)}).fit(X, y)
    assert np.array_equal(big.network_.parameters, whole.network_.parameters)


@given(problems(n_classes=[3]), parameter_sets, st.integers(1, 5))
def test_one_hidden_layer_may_be_given_as_an_int(problem, params, width):
    X, y = problem
    as_int = MLPClassifier(**{**params, "hidden_layer_sizes": np.int64(width)}).fit(X, y)
    as_array = MLPClassifier(**{**params, "hidden_layer_sizes": np.array([width])}).fit(X, y)
    as_tuple = MLPClassifier(**{**params, "hidden_layer_sizes": (width,)}).fit(X, y)
    assert as_int.network_.sizes == (X.shape[1], width, 3)
    assert np.array_equal(as_int.network_.parameters, as_tuple.network_.parameters)
    assert np.array_equal(as_array.network_.parameters, as_tuple.network_.parameters)


def test_two_classes_have_one_sigmoid_unit_and_several_one_softmax_unit_each():
    X, y = make_classification(60, 4, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=0)
    three = MLPClassifier(random_state=0, epochs=2).fit(X, y)
    two = MLPClassifier(random_state=0, epochs=2).fit(X[y < 2], y[y < 2])
    assert three.network_.activations[-1] == "softmax" and three.network_.sizes[-1] == 3
    assert two.network_.activations[-1] == "sigmoid" and two.network_.sizes[-1] == 1
    assert three.network_.loss == two.network_.loss == "cross_entropy"
    p = two.predict_proba(X)
    assert np.array_equal(p[:, 1], two.network_.forward(X)[:, 0])
    assert np.array_equal(p[:, 0], 1.0 - p[:, 1])


def test_a_fitted_estimator_pickles_and_keeps_training_where_it_stopped():
    X, y = load_iris(return_X_y=True)
    est = MLPClassifier(random_state=3, epochs=3, eta=nb.schedules.exponential(0.02, 0.9))
    copy = pickle.loads(pickle.dumps(est.fit(X, y)))
    assert np.array_equal(copy.predict_proba(X), est.predict_proba(X))
    assert np.array_equal(copy.partial_fit(X, y).network_.parameters,
                          est.partial_fit(X, y).network_.parameters)


# --- bad parameters and data -----------------------------------------------------------------

BAD_PARAMETERS = [
    ({"hidden_layer_sizes": (4, 0)}, nb.InvalidValue, ["hidden_layer_sizes[1]", "≥ 1", "0"]),
    ({"hidden_layer_sizes": "32"}, nb.InvalidType, ["hidden_layer_sizes", "sequence", "'32'"]),
    ({"hidden_layer_sizes": 2.5}, nb.InvalidType, ["hidden_layer_sizes", "sequence", "2.5"]),
    ({"activation": "softmax"}, nb.InvalidValue, ["activation", "'tanh'", "'softmax'"]),
    ({"activation": None}, nb.InvalidType, ["activation", "'relu'", "None"]),
    ({"eta": -0.1}, nb.InvalidValue, ["eta", "positive", "-0.1"]),
    ({"batch_size": 0}, nb.InvalidValue, ["batch_size", "≥ 1", "0"]),
    ({"batch_size": 2.0}, nb.InvalidType, ["batch_size", "integer", "2.0"]),
    ({"momentum": 1.0}, nb.InvalidValue, ["momentum", "[0, 1)", "1.0"]),
    ({"epochs": 0}, nb.InvalidValue, ["epochs", "≥ 1", "0"]),
    ({"weight_decay": -1e-3}, nb.InvalidValue, ["weight_decay", "≥ 0", "-0.001"]),
    ({"random_state": -1}, nb.InvalidValue, ["random_state", "≥ 0", "-1"]),
    ({"random_state": "0"}, nb.InvalidType, ["random_state", "integer", "RandomState", "'0'"]),
    ({"random_state": np.random.default_rng(0)}, nb.InvalidType,
     ["random_state", "None, an integer ≥ 0 or a numpy.random.RandomState", "Generator"]),
    ({"hidden_layer_sizes": {4: 4}}, nb.InvalidType, ["hidden_layer_sizes", "sequence", "{4: 4}"]),
    ({"hidden_layer_sizes": np.ones((2, 2), int)}, nb.InvalidType,
     ["hidden_layer_sizes", "(32,)", "array"]),
]


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("params, exception, words", BAD_PARAMETERS)
def test_a_bad_parameter_is_named_when_fitting(Estimator, params, exception, words):
    X, y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0, 1, 1])
    est = Estimator(**params)  # scikit-learn's rule: __init__ only stores
    assert_clear_error(lambda: est.fit(X, y), exception, words)
    kwargs = {"classes": [0, 1]} if Estimator is MLPClassifier else {}
    assert_clear_error(lambda: Estimator(**params).partial_fit(X, y, **kwargs), exception, words)


BAD_VALUES = {
    "hidden_layer_sizes": st.one_of(JUNK, st.lists(BAD_INTS, min_size=1, max_size=3)),
    "activation": bad_names(nb.ACTIVATIONS),
    "eta": BAD_REALS,
    "batch_size": BAD_INTS,
    "momentum": st.one_of(BAD_REALS, st.floats(1.0, 10.0)),
    "epochs": BAD_INTS.filter(lambda e: not (isinstance(e, int) and e > 100)),
    "weight_decay": BAD_REALS,
    "random_state": BAD_INTS,
}


@settings(max_examples=200)
@given(st.sampled_from([MLPClassifier, MLPRegressor]), st.sampled_from(sorted(BAD_VALUES)),
       st.data())
def test_fuzzed_parameters_are_refused_by_name_or_train_a_finite_network(Estimator, name, data):
    """tests/test_fuzz.py's contract for the estimators' parameters: each of the fuzzer's
    bad values (some of which are valid: ``()``, a huge η) either trains a network with
    finite outputs, or raises a ValueError or TypeError naming the parameter (or
    TrainingDiverged naming eta), never a Numba error or a warning."""
    X, y = make_classification(20, 3, n_informative=2, n_redundant=0, random_state=0)
    value = data.draw(BAD_VALUES[name], label=name)
    est = Estimator(epochs=3, random_state=0).set_params(**{name: value})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y)
            out = est.predict_proba(X) if Estimator is MLPClassifier else est.predict(X)
        except (ValueError, TypeError, nb.TrainingDiverged) as err:
            message = str(err)
            assert "numba" not in message.lower(), message
            blamed = {nb.TrainingDiverged: ("eta",), nb.NonFiniteResult: ("X",)}.get(
                type(err), (name, "sizes" if name == "hidden_layer_sizes" else name))
            assert any(re.search(rf"(?<![A-Za-z_]){b}(?![A-Za-z_])", message) for b in blamed), \
                (blamed, message)
        else:
            assert np.isfinite(out).all()
    assert not caught, [str(w.message) for w in caught]


def test_bad_labels_are_refused_clearly():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert_clear_error(lambda: MLPClassifier().fit(X, ["a", "a", "a"]), nb.InvalidValue,
                       ["y", "at least 2 classes", "1 class", "'a'"])
    assert_clear_error(lambda: MLPClassifier().partial_fit(X, [0, 1, 1]), nb.InvalidValue,
                       ["classes", "first partial_fit", "None"])
    est = MLPClassifier().partial_fit(X, [0, 1, 1], classes=[0, 1, 2])
    assert_clear_error(lambda: est.partial_fit(X, [0, 5, 1]), nb.InvalidValue,
                       ["y", "only the classes", "[0, 1, 2]", "5", "index 1"])
    assert_clear_error(lambda: est.partial_fit(X, [0, 1, 1], classes=[0, 1]), nb.InvalidValue,
                       ["classes", "[0, 1, 2]", "[0, 1]"])
    reg = MLPRegressor().partial_fit(X, [0.0, 1.0, 2.0])
    assert_clear_error(lambda: reg.partial_fit(X, np.ones((3, 2))), nb.InvalidValue,
                       ["y", "1 target column", "(3, 2)"])
    # the data themselves are scikit-learn's to check, with its messages
    assert_clear_error(lambda: est.predict(np.ones((2, 3))), ValueError,
                       ["3 features", "expecting 2 features"])
    assert_clear_error(lambda: MLPRegressor().predict(X), ValueError, ["not fitted"])


def test_importing_the_estimators_without_scikit_learn_says_what_to_install():
    result = processes.run(["-c", "import sys; sys.modules['sklearn'] = None\n"
                                  "import nbbackprop.sklearn"])
    assert result.returncode != 0
    assert 'ImportError: nbbackprop.sklearn needs scikit-learn' in result.stderr
    assert 'pip install "nbbackprop[sklearn]"' in result.stderr


# --- in scikit-learn's tools, on real data ----------------------------------------------------

def test_in_a_pipeline_on_digits_it_learns_and_holds_the_network_nbbackprop_trains():
    X, y = load_digits(return_X_y=True)
    X_train, y_train, X_test, y_test = X[:1200], y[:1200], X[1200:], y[1200:]
    pipe = make_pipeline(StandardScaler(), MLPClassifier(random_state=0)).fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.9  # chance: 0.1
    params = MLPClassifier(random_state=0).get_params()
    direct = network_for(params, StandardScaler().fit_transform(X_train), y_train)
    assert np.array_equal(pipe[-1].network_.parameters, direct.parameters)


def test_cross_val_score_on_iris_is_well_above_chance():
    X, y = load_iris(return_X_y=True)
    scores = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier(random_state=0)),
                             X, y, cv=5)
    assert scores.min() > 0.8  # chance: 1/3


def test_a_regressor_fits_a_smooth_function_far_better_than_its_mean():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(300, 2))
    y = np.sin(X[:, 0]) * X[:, 1]
    scores = cross_val_score(MLPRegressor(hidden_layer_sizes=(16,), epochs=200, random_state=0),
                             X, y, cv=3)
    assert scores.min() > 0.9  # R²: 0 for predicting the mean, and the best linear fit's is ~0


def test_grid_search_in_worker_processes_gives_the_numbers_of_one_process():
    X, y = make_classification(200, 8, n_informative=5, random_state=0)
    grid = {"hidden_layer_sizes": [(8,), (16,)],
            "eta": [0.01, nb.schedules.cosine(0.05, 0.005, 20)]}
    est = MLPClassifier(epochs=20, random_state=0)
    two = GridSearchCV(est, grid, cv=3, n_jobs=2).fit(X, y)
    one = GridSearchCV(est, grid, cv=3, n_jobs=1).fit(X, y)
    assert np.array_equal(two.cv_results_["mean_test_score"],
                          one.cv_results_["mean_test_score"])
    assert two.best_score_ > 0.8  # chance: 0.5
    assert np.array_equal(two.best_estimator_.network_.parameters,
                          clone(est).set_params(**two.best_params_).fit(X, y).network_.parameters)


def test_the_readme_example_prints_what_the_readme_shows():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## scikit-learn estimators", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    shown = section.split("```text\n", 1)[1].split("```", 1)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})
    assert out.getvalue() == shown
