"""scikit-learn estimators around ``Network``: ``MLPClassifier`` and ``MLPRegressor``.

They follow scikit-learn's conventions (``fit``, ``predict``, ``score``, ``partial_fit``,
``get_params``/``set_params``, cloning, pickling), so they work in ``Pipeline``,
``cross_val_score`` and ``GridSearchCV``; the trained network is ``network_``, an
ordinary ``nbbackprop.Network``. The data are checked by scikit-learn (its messages), the
estimator's own parameters by nbbackprop (its messages). Needs scikit-learn ≥ 1.6:
``pip install "nbbackprop[sklearn]"``. See docs/sklearn.md.
"""

import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as err:  # scikit-learn missing, or older than 1.6 (no validate_data)
    raise ImportError('nbbackprop.sklearn needs scikit-learn ≥ 1.6: '
                      'pip install "nbbackprop[sklearn]"') from err

from . import _validate as check
from .activations import ACTIVATIONS
from .exceptions import InvalidType, InvalidValue
from .network import FIT_PARAMETERS, Network


def _hidden_layer_sizes(value, name, limits):
    """A tuple of positive ints, one per hidden layer (empty: no hidden layer)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        value = (value,)  # scikit-learn's MLPs accept one int for one hidden layer
    if not (check.is_list(value) or (isinstance(value, np.ndarray) and value.ndim == 1)):
        raise InvalidType(f"{name} must be a sequence of hidden layer sizes such as (32,), "
                          f"got {check.shown(value)}")
    return tuple(check.integer(n, f"{name}[{l}]", minimum=1) for l, n in enumerate(value))


def _random_state(value, name, limits):
    """None, an int ≥ 0, or a numpy RandomState (scikit-learn's convention)."""
    if value is None or isinstance(value, np.random.RandomState):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidType(f"{name} must be None, an integer ≥ 0 or a numpy.random.RandomState, "
                          f"got {check.shown(value)}")
    return check.integer(value, name, minimum=0)


def _label(labels, i):
    """labels[i] as Python shows it ('a', 5), not as NumPy does (np.str_('a'))."""
    return check.shown(labels[i : i + 1].tolist()[0])


# Every parameter of the estimators, with its constraint; the training ones are
# Network.fit's own.
PARAMETERS = {
    "hidden_layer_sizes": _hidden_layer_sizes,
    "activation": check.Choice(*ACTIVATIONS),
    "epochs": check.Integer(minimum=1),
    **{name: FIT_PARAMETERS[name] for name in ("eta", "momentum", "weight_decay")},
    "batch_size": check.Integer(minimum=1),  # cut to the number of samples when larger
    "random_state": _random_state,
}


class _MLP(BaseEstimator):
    """What the classifier and the regressor share: the parameters, building ``network_``
    and training it. Subclasses say what the output layer is and how y becomes T."""

    def __init__(self, hidden_layer_sizes=(32,), activation="tanh", *, eta=0.01, batch_size=32,
                 momentum=0.9, epochs=50, weight_decay=1e-4, random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.eta = eta
        self.batch_size = batch_size
        self.momentum = momentum
        self.epochs = epochs
        self.weight_decay = weight_decay
        self.random_state = random_state

    def _checked_parameters(self):
        return dict(zip(PARAMETERS, check.arguments(
            PARAMETERS, **{name: getattr(self, name) for name in PARAMETERS})))

    def _train(self, X, T, n_outputs, epochs, first_call):
        """Train ``network_`` (a new one when ``first_call``) for ``epochs`` epochs.

        A new network takes its initial weights and its shuffle order from the same seed,
        drawn from ``random_state``; later calls continue the network's shuffle stream."""
        p = self._checked_parameters()
        seed = None
        if first_call:
            seed = p["random_state"]
            if not isinstance(seed, numbers.Integral):  # None or a RandomState: draw one
                seed = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
            output, loss = self._output(n_outputs)
            self.network_ = Network([X.shape[1], *p["hidden_layer_sizes"], n_outputs],
                                    p["activation"], output, loss=loss, seed=seed)
        self.network_.fit(X, T, epochs=epochs, eta=p["eta"],
                          batch_size=min(p["batch_size"], X.shape[0]), momentum=p["momentum"],
                          shuffle=True, seed=seed, weight_decay=p["weight_decay"])
        return self

    def _forward(self, X):
        check_is_fitted(self, "network_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.network_.forward(X)


class MLPClassifier(ClassifierMixin, _MLP):
    """A multilayer perceptron classifier trained by nbbackprop's SGD.

    Several classes: a softmax output layer with one unit per class and the cross-entropy
    loss. Two classes: one sigmoid output unit (the probability of ``classes_[1]``) and the
    binary cross-entropy. Labels may be of any type scikit-learn accepts (ints, strings, …);
    ``classes_`` holds them sorted and output unit k stands for ``classes_[k]``.

    Parameters: ``hidden_layer_sizes`` (units per hidden layer), ``activation`` of the
    hidden layers (``sigmoid``, ``tanh``, ``relu``, ``linear``), and ``eta``,
    ``batch_size`` (cut to the number of samples when larger), ``momentum``, ``epochs``
    and ``weight_decay`` as in ``Network.fit``; ``random_state`` seeds both the initial
    weights and the shuffle order (an int is used as ``Network``'s ``seed`` and ``fit``'s).

    Attributes after fitting: ``network_``, ``classes_``, ``n_features_in_``.
    """

    def fit(self, X, y):
        """Train a new network for ``epochs`` epochs on X (n, n_features) and labels y (n,)."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        self._check_two_classes()
        return self._train(X, labels, self._n_outputs(), self.epochs, first_call=True)

    def partial_fit(self, X, y, classes=None):
        """Train one epoch on X and y, continuing where the last call (or ``fit``) stopped;
        the first call makes a new network and needs ``classes``, every label y may hold."""
        first_call = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=np.float64, reset=first_call)
        check_classification_targets(y)
        if first_call:
            if classes is None:
                raise InvalidValue("classes must be given to the first partial_fit (every "
                                   "label y may hold), got None")
            self.classes_ = np.unique(classes)
            self._check_two_classes()
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise InvalidValue(f"classes must be the classes of the first partial_fit, "
                               f"{check.shown(self.classes_.tolist())}, got "
                               f"{check.shown(np.unique(classes).tolist())}")
        labels = np.searchsorted(self.classes_, y)
        unknown = np.flatnonzero((labels == len(self.classes_))
                                 | (self.classes_[np.minimum(labels, len(self.classes_) - 1)]
                                    != y))
        if unknown.size:
            i = int(unknown[0])
            raise InvalidValue(f"y must hold only the classes "
                               f"{check.shown(self.classes_.tolist())}, got {_label(y, i)} "
                               f"at index {i}")
        return self._train(X, labels, self._n_outputs(), 1, first_call)

    def _check_two_classes(self):
        if len(self.classes_) < 2:
            raise InvalidValue(f"y must hold at least 2 classes to train a classifier, got 1 "
                               f"class: {_label(self.classes_, 0)}")

    def _n_outputs(self):
        """One sigmoid unit for two classes (the label is its 0/1 target), else one
        softmax unit per class."""
        return 1 if len(self.classes_) == 2 else len(self.classes_)

    def _output(self, n_outputs):
        """The output layer's activation and the loss."""
        return ("sigmoid" if n_outputs == 1 else "softmax"), "cross_entropy"

    def predict_proba(self, X):
        """Class probabilities, shape (n, n_classes): column k is P(``classes_[k]`` | x)."""
        Y = self._forward(X)
        return np.hstack((1.0 - Y, Y)) if Y.shape[1] == 1 else Y

    def predict(self, X):
        """The predicted labels: ``classes_[network_.predict(X)]`` (the most probable class;
        for two classes, ``classes_[1]`` where its probability is ≥ 0.5)."""
        check_is_fitted(self, "network_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.classes_[self.network_.predict(X)]


class MLPRegressor(RegressorMixin, _MLP):
    """A multilayer perceptron regressor trained by nbbackprop's SGD: a linear output
    layer (one unit per target column) and the squared error loss E = ½ Σ_k (t_k − y_k)².

    The parameters are those of ``MLPClassifier``. Scale the targets to order 1 (e.g. with
    ``sklearn.compose.TransformedTargetRegressor``): ``eta`` is a step on their scale.

    Attributes after fitting: ``network_``, ``n_features_in_``.
    """

    def fit(self, X, y):
        """Train a new network for ``epochs`` epochs on X (n, n_features) and y (n,) or
        (n, n_targets)."""
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        return self._train(X, y, 1 if y.ndim == 1 else y.shape[1], self.epochs, first_call=True)

    def partial_fit(self, X, y):
        """Train one epoch on X and y, continuing where the last call (or ``fit``) stopped;
        the first call makes a new network."""
        first_call = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True,
                             reset=first_call)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if not first_call and n_outputs != self.network_.sizes[-1]:
            raise InvalidValue(f"y must have {self.network_.sizes[-1]} target column(s), as "
                               f"in the first partial_fit, got shape {y.shape}")
        return self._train(X, y, n_outputs, 1, first_call)

    def _output(self, n_outputs):
        return "linear", "squared"

    def predict(self, X):
        """The network's outputs: shape (n,) for one target (as scikit-learn's MLPRegressor),
        (n, n_targets) for several."""
        Y = self._forward(X)
        return Y[:, 0] if Y.shape[1] == 1 else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


__all__ = ["MLPClassifier", "MLPRegressor"]
