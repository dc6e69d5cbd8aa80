"""What tests/test_fuzz.py fuzzes: every public function and every CLI subcommand, listed
in one place.

To fuzz a new public function, add a ``Target`` to ``TARGETS``: a name, how to call it
from a dict of arguments, a strategy for a consistent dict of valid arguments, and for
each argument a function giving a strategy of bad values (given the valid dict). To fuzz
a new subcommand, add a ``Command`` to ``COMMANDS``: its name, the positional words it
needs, and for each option a strategy of valid strings and one of bad strings. Then
``python -m pytest tests/test_fuzz.py`` checks the contract of docs/reliability.md:
only ValueError, TypeError or the package's own exceptions, naming the bad argument;
no NaN in any result; the CLI answers in one line on stderr, no traceback.
"""

import atexit
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nbbackprop as nb

# --- bad values of every kind ---------------------------------------------------------------

JUNK = st.sampled_from([None, "", "abc", b"bytes", object(), [], {}, (), {"a": 1}, 1j, Ellipsis,
                        print, np.array("text"), np.array([1 + 2j]), np.array([None]),
                        np.datetime64("2024-01-01"), float("nan"), float("inf"), True])

BAD_REALS = st.one_of(JUNK, st.sampled_from([
    0, -1, -0.0, -1e-300, 5e-324, 1e308, -1e308, float("inf"), float("-inf"), float("nan"),
    10**400, -(10**400), 2**63, True, False, "0.5", np.float32("nan"), np.array(0.5),
    np.array([0.5]), Decimal("0.5"), Fraction(1, 3), complex(0.5, 0), np.float64(1e300),
    np.int8(-1), np.uint64(2**63)]), st.floats())

BAD_INTS = st.one_of(JUNK, st.sampled_from([
    -1, -(2**70), 1.0, 2.5, float("nan"), True, False, "3", np.int8(-1), np.float64(3.0),
    np.array(3), np.array([3]), Fraction(3, 1), Decimal(3), 10**400]), st.integers(max_value=0))

BAD_FLAGS = st.one_of(JUNK, st.sampled_from([0, 1, 1.0, "yes", "False", np.array([True]),
                                             np.int64(1)]))


def bad_names(options):
    """Strings that are not one of options, and non-strings."""
    near = [o.upper() for o in options] + [o + " " for o in options] + [o[:-1] for o in options]
    return st.one_of(JUNK, st.sampled_from(near + ["", "none", "softmax"]),
                     st.text(max_size=8).filter(lambda s: s not in options),
                     st.sampled_from([np.array(list(options)), list(options)]))


def bad_arrays(valid):
    """Arrays that differ from a valid one in shape, dtype, values or kind of container."""
    valid = np.asarray(valid, dtype=np.float64)
    shape = valid.shape

    @st.composite
    def changed(draw):
        how = draw(st.sampled_from([
            "shape", "ndim", "empty", "dtype", "nan", "huge", "huge", "tiny", "ragged", "scalar",
            "list", "float32", "int", "fortran", "strided", "object numbers"]))
        a = valid.copy()
        if how == "shape":
            axis = draw(st.integers(0, max(a.ndim - 1, 0)))
            new = list(shape) or [1]
            new[axis] = draw(st.integers(0, 6).filter(lambda n: n != new[axis]))
            return np.zeros(new)
        if how == "ndim":
            return a.reshape(draw(st.sampled_from([(-1,), (1, -1), (-1, 1), (1, 1, -1)])))
        if how == "empty":
            return np.empty((0,) + shape[1:])
        if how == "dtype":
            dtype = draw(st.sampled_from([bool, complex, object, str, "datetime64[s]",
                                          [("a", float)]]))
            return np.zeros(shape, dtype=dtype)
        if how in ("nan", "huge", "tiny"):
            if a.size == 0:
                return a
            value = {"nan": draw(st.sampled_from([np.nan, np.inf, -np.inf])),
                     "huge": draw(st.sampled_from([1e300, -1e300, 1e154, np.finfo(float).max])),
                     "tiny": draw(st.sampled_from([5e-324, -5e-324, 1e-310]))}[how]
            index = draw(st.integers(0, a.size - 1))
            if how != "nan" and draw(st.booleans()):  # all of them, so that sums overflow
                a[...] = value * np.sign(draw(arrays(np.float64, shape, elements=VALUES)) + 0.5)
            a.flat[index] = value
            return a
        if how == "ragged":
            return [list(row) for row in np.atleast_2d(a)] + [[1.0] * (a.shape[-1] + 1)]
        if how == "scalar":
            return draw(st.sampled_from([1.0, np.float64(2.0), np.array(3.0)]))
        if how == "list":
            return a.tolist()
        if how == "float32":
            return a.astype(np.float32)
        if how == "int":
            return np.round(a).astype(np.int64)
        if how == "fortran":
            return np.asfortranarray(a)
        if how == "strided":
            return np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a
        return a.astype(object)

    return st.one_of(JUNK, changed())


# --- valid arguments -------------------------------------------------------------------------

VALUES = st.floats(-3, 3, allow_nan=False, allow_infinity=False)


@st.composite
def networks(draw):
    L = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 5), min_size=L + 1, max_size=L + 1))
    activations = draw(st.lists(st.sampled_from(nb.ACTIVATIONS), min_size=L, max_size=L))
    return nb.Network(sizes, activations, seed=draw(st.integers(0, 2**32)))


@st.composite
def network_and_data(draw):
    net = draw(networks())
    n = draw(st.integers(1, 6))
    X = draw(arrays(np.float64, (n, net.sizes[0]), elements=VALUES))
    T = draw(arrays(np.float64, (n, net.sizes[-1]), elements=VALUES))
    return {"net": net, "X": X, "T": T}


def poked(valid):
    """The network with one parameter made NaN or infinite (a user poking a view)."""
    net = valid["net"].copy()

    @st.composite
    def strategy(draw):
        net.parameters[draw(st.integers(0, net.parameters.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf]))
        return net

    return strategy()


def with_(base, **more):
    """A strategy of dicts: base's, plus one entry per keyword strategy."""
    return st.tuples(base, st.fixed_dictionaries(more)).map(lambda pair: {**pair[0], **pair[1]})


# --- files -----------------------------------------------------------------------------------

_FILES = tempfile.mkdtemp(prefix="nbbackprop-fuzz-")
atexit.register(shutil.rmtree, _FILES, ignore_errors=True)


def file(name):
    """A path in the fuzzing directory (made once per process)."""
    return os.path.join(_FILES, name)


def _make_files():
    X, T = nb.xor()
    np.savez(file("xor.npz"), X=X, T=T)
    nb.Network([2, 3, 1], seed=0).save(file("model.npz"))
    np.savez(file("no-T.npz"), X=X)
    np.savez(file("nan.npz"), X=np.where(X > 0, np.nan, X), T=T)
    np.savez(file("huge.npz"), X=X * 1e300, T=T)
    np.savez(file("3-D.npz"), X=X[None], T=T)
    np.savez(file("strings.npz"), X=X.astype(str), T=T)
    np.savez(file("pickled.npz"), X=np.array([{"a": 1}], dtype=object), T=T)
    np.save(file("array.npy"), X)
    with open(file("text.npz"), "w") as f:
        f.write("not an archive")
    os.mkdir(file("a-directory"))


_make_files()
BAD_FILES = [file(name) for name in ("no-T.npz", "nan.npz", "huge.npz", "3-D.npz",
                                      "strings.npz", "pickled.npz", "array.npy", "text.npz",
                                      "a-directory", "missing.npz")]
# Not JUNK: its strings ("abc") are valid relative paths, and saving there would litter.
BAD_PATHS = st.one_of(JUNK.filter(lambda v: not isinstance(v, str)), st.sampled_from([
    "", "\0", file("a-directory"), file("missing-directory/model.npz"), b"model.npz",
    file("a-directory") + "/", 3]))


# --- the public functions --------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    """A public function: ``call(arguments)``, a strategy of valid argument dicts, and per
    argument a function (valid dict → strategy of bad values). ``blame[name]`` lists the
    other arguments an error may name when ``name`` is bad (a wrong X can make T's shape
    or batch_size the one that does not fit)."""

    name: str
    call: Callable[[dict], Any]
    valid: Any
    bad: dict
    blame: dict = dataclasses.field(default_factory=dict)
    # Besides ValueError, TypeError and the package's own: exceptions this one may raise.
    also: tuple = ()


def _fit(a):
    keys = ("epochs", "eta", "batch_size", "momentum", "shuffle", "seed", "train_biases",
            "target_error", "on_divergence")
    return a["net"].fit(a["X"], a["T"], **{k: a[k] for k in keys if k in a})


FIT_OPTIONS = with_(
    network_and_data(), epochs=st.integers(0, 20), eta=st.floats(1e-3, 2.0),
    batch_size=st.just(1), momentum=st.sampled_from([0.0, 0.5, 0.9]), shuffle=st.booleans(),
    seed=st.integers(0, 2**64), train_biases=st.booleans(),
    target_error=st.one_of(st.none(), st.floats(0, 1)),
    on_divergence=st.sampled_from(["raise", "stop"]))

NETWORK_BAD = {"net": poked}
DATA_BAD = {"X": lambda v: bad_arrays(v["X"]), "T": lambda v: bad_arrays(v["T"]), **NETWORK_BAD}
DATA_BLAME = {"X": ("T", "batch_size"), "net": ("weights", "biases")}

def _sum_of_squares(x):
    """check_function's f: a user's function, whose own overflow warning is not ours."""
    with np.errstate(over="ignore"):
        return float(np.sum(x**2))


TARGETS = [
    Target(
        "Network", lambda a: nb.Network(a["sizes"], a["activation"], a["output_activation"],
                                        seed=a["seed"], init=a["init"], init_scale=a["init_scale"]),
        st.fixed_dictionaries({
            "sizes": st.lists(st.integers(1, 5), min_size=3, max_size=3),
            "activation": st.sampled_from(nb.ACTIVATIONS), "seed": st.integers(0, 2**70),
            "output_activation": st.sampled_from((None,) + nb.ACTIVATIONS),
            "init": st.sampled_from(["auto", "glorot", "he", "normal"]),
            "init_scale": st.none()}),
        {"sizes": lambda v: st.one_of(JUNK, st.lists(BAD_INTS, min_size=1, max_size=4),
                                      st.lists(st.integers(1, 4), max_size=1),
                                      st.sampled_from([[2, 2**40], [2**63, 1], np.array(3)])),
         "activation": lambda v: st.one_of(bad_names(nb.ACTIVATIONS), st.lists(
             st.sampled_from(nb.ACTIVATIONS), min_size=1, max_size=4)),
         "output_activation": lambda v: bad_names(nb.ACTIVATIONS),
         "seed": lambda v: BAD_INTS, "init": lambda v: bad_names(("auto", "glorot", "he")),
         "init_scale": lambda v: BAD_REALS},
        blame={"sizes": ("activation",), "init": ("init_scale",)}),
    Target(
        "Network.from_weights",
        lambda a: nb.Network.from_weights(a["weights"], a["biases"], a["activations"]),
        network_and_data().map(lambda v: {"weights": [w.copy() for w in v["net"].weights],
                                           "biases": [b.copy() for b in v["net"].biases],
                                           "activations": list(v["net"].activations)}),
        {"weights": lambda v: st.one_of(JUNK, st.just(v["weights"][:-1]), st.lists(
            st.one_of(*(bad_arrays(w) for w in v["weights"])), min_size=len(v["weights"]),
            max_size=len(v["weights"]))),
         "biases": lambda v: st.one_of(JUNK, st.just(v["biases"] + v["biases"]), st.lists(
             st.one_of(*(bad_arrays(b) for b in v["biases"])), min_size=len(v["biases"]),
             max_size=len(v["biases"]))),
         "activations": lambda v: st.one_of(bad_names(nb.ACTIVATIONS), st.just(
             v["activations"] * 2))},
        blame={"weights": ("biases", "activations")}),
    Target("forward", lambda a: a["net"].forward(a["x"]),
           network_and_data().map(lambda v: {"net": v["net"], "x": v["X"]}),
           {"x": lambda v: bad_arrays(v["x"]), **NETWORK_BAD}, DATA_BLAME),
    Target("forward one sample", lambda a: a["net"].forward(a["x"]),
           network_and_data().map(lambda v: {"net": v["net"], "x": v["X"][0]}),
           {"x": lambda v: bad_arrays(v["x"]), **NETWORK_BAD}, DATA_BLAME),
    Target("error", lambda a: a["net"].error(a["X"], a["T"]), network_and_data(), DATA_BAD,
           DATA_BLAME),
    Target("gradient", lambda a: a["net"].gradient(a["X"], a["T"]), network_and_data(),
           DATA_BAD, DATA_BLAME),
    Target("fit", _fit, FIT_OPTIONS, {
        **DATA_BAD,
        "epochs": lambda v: BAD_INTS.filter(lambda e: not (isinstance(e, int) and e > 100)),
        "eta": lambda v: BAD_REALS, "batch_size": lambda v: st.one_of(BAD_INTS, st.integers(
            len(v["X"]) + 1, 2**70)),
        "momentum": lambda v: st.one_of(BAD_REALS, st.floats(1.0, 10.0)),
        "shuffle": lambda v: BAD_FLAGS, "seed": lambda v: BAD_INTS,
        "train_biases": lambda v: BAD_FLAGS, "target_error": lambda v: BAD_REALS,
        "on_divergence": lambda v: bad_names(("raise", "stop"))}, DATA_BLAME),
    Target("copy", lambda a: a["net"].copy(), network_and_data(), NETWORK_BAD, DATA_BLAME),
    Target("weights[l] = value",
           lambda a: a["net"].weights.__setitem__(a["l"], a["value"]),
           network_and_data().map(lambda v: {"net": v["net"], "l": 0,
                                             "value": v["net"].weights[0] * 2}),
           {"l": lambda v: st.one_of(BAD_INTS, st.integers(5, 9), st.just(slice(0, 1))),
            "value": lambda v: bad_arrays(v["value"])},
           {"l": ("weights",), "value": ("weights",)}, also=(IndexError,)),
    Target("biases = list", lambda a: setattr(a["net"], "biases", a["value"]),
           network_and_data().map(lambda v: {"net": v["net"],
                                             "value": [b + 1 for b in v["net"].biases]}),
           {"value": lambda v: st.one_of(JUNK, st.just(v["value"][:-1]), st.lists(
               st.one_of(*(bad_arrays(b) for b in v["value"])), min_size=len(v["value"]),
               max_size=len(v["value"])))},
           {"value": ("biases",)}),
    Target("save", lambda a: a["net"].save(a["path"]),
           network_and_data().map(lambda v: {"net": v["net"], "path": file("saved.npz")}),
           {"path": lambda v: BAD_PATHS, **NETWORK_BAD}, DATA_BLAME, also=(OSError,)),
    Target("load", lambda a: nb.load(a["path"]), st.just({"path": file("model.npz")}),
           {"path": lambda v: st.one_of(BAD_PATHS, st.sampled_from(BAD_FILES))},
           also=(OSError,)),
    Target("xor", lambda a: nb.xor(), st.just({}), {}),
    Target("predict", lambda a: a["net"].predict(a["X"]),
           network_and_data().map(lambda v: {"net": v["net"], "X": v["X"]}),
           {"X": lambda v: bad_arrays(v["X"]), **NETWORK_BAD}, DATA_BLAME),
    Target("accuracy", lambda a: a["net"].accuracy(a["X"], a["T"]), network_and_data(),
           DATA_BAD, DATA_BLAME),
    Target("experiments.restarts", lambda a: nb.experiments.restarts(
               a["sizes"], a["X"], a["T"], n=a["n"], seed=a["seed"], max_epochs=a["max_epochs"],
               target_error=a["target_error"], eta=a["eta"], chunk_size=a["chunk_size"]),
           st.fixed_dictionaries({
               "sizes": st.just([2, 2, 1]), "X": st.just(nb.xor()[0]), "T": st.just(nb.xor()[1]),
               "n": st.integers(1, 3), "seed": st.integers(0, 2**70),
               "max_epochs": st.integers(1, 20), "target_error": st.floats(0, 1),
               "eta": st.floats(1e-3, 2.0), "chunk_size": st.one_of(st.none(), st.integers(1, 3))}),
           {"X": lambda v: bad_arrays(v["X"]), "T": lambda v: bad_arrays(v["T"]),
            "sizes": lambda v: st.one_of(JUNK, st.lists(BAD_INTS, min_size=1, max_size=4)),
            "n": lambda v: BAD_INTS, "seed": lambda v: BAD_INTS,
            "max_epochs": lambda v: BAD_INTS, "eta": lambda v: BAD_REALS,
            "target_error": lambda v: BAD_REALS.filter(lambda t: not (
                isinstance(t, (int, float)) and not isinstance(t, bool) and 0 <= t < 1e308)),
            "chunk_size": lambda v: BAD_INTS.filter(lambda c: c is not None)},
           {"X": ("T", "batch_size", "sizes"), "T": ("X",), "sizes": ("X",)}),
    Target("experiments.gradient_profile", lambda a: nb.experiments.gradient_profile(
               a["sizes"], a["activation"], a["X"], a["T"], seed=a["seed"], n=a["n"]),
           st.fixed_dictionaries({
               "sizes": st.just([2, 3, 1]), "activation": st.sampled_from(nb.ACTIVATIONS),
               "X": st.just(nb.xor()[0]), "T": st.just(nb.xor()[1]), "seed": st.integers(0, 9),
               "n": st.integers(1, 3)}),
           {"X": lambda v: bad_arrays(v["X"]), "T": lambda v: bad_arrays(v["T"]),
            "activation": lambda v: bad_names(nb.ACTIVATIONS), "seed": lambda v: BAD_INTS,
            "n": lambda v: BAD_INTS},
           {"X": ("T",), "T": ("X",)}),
    Target("experiments.lr_range", lambda a: nb.experiments.lr_range(
               [2, 2, 1], a["X"], a["T"], eta_min=a["eta_min"], eta_max=a["eta_max"],
               steps=a["steps"], epochs=a["epochs"]),
           st.fixed_dictionaries({
               "X": st.just(nb.xor()[0]), "T": st.just(nb.xor()[1]),
               "eta_min": st.floats(1e-3, 1.0), "eta_max": st.floats(1.0, 1e3),
               "steps": st.integers(1, 3), "epochs": st.integers(1, 10)}),
           {"X": lambda v: bad_arrays(v["X"]), "T": lambda v: bad_arrays(v["T"]),
            "eta_min": lambda v: st.one_of(BAD_REALS, st.floats(1e4, 1e6)),
            "eta_max": lambda v: BAD_REALS, "steps": lambda v: BAD_INTS,
            "epochs": lambda v: BAD_INTS},
           {"X": ("T",), "T": ("X",), "eta_min": ("eta_max",)}),
    Target("one_hot", lambda a: nb.one_hot(a["labels"], a["n_classes"]),
           st.just({"labels": np.array([0, 2, 1]), "n_classes": 3}),
           {"labels": lambda v: bad_arrays(v["labels"]), "n_classes": lambda v: BAD_INTS},
           {"n_classes": ("labels",)}),
    Target("schedules", lambda a: nb.schedules.step(a["eta0"], a["factor"], a["every"])(
               a["epoch"]),
           st.just({"eta0": 0.5, "factor": 0.1, "every": 10, "epoch": 3}),
           {"eta0": lambda v: JUNK, "factor": lambda v: JUNK, "every": lambda v: BAD_INTS,
            "epoch": lambda v: BAD_INTS}),
    Target("gradcheck",
           lambda a: nb.gradcheck(a["net"], a["X"], a["T"], mode=a["mode"], seed=a["seed"]),
           with_(network_and_data(), mode=st.sampled_from(["full", "fast"]),
                 seed=st.integers(0, 2**32)),
           {**DATA_BAD, "mode": lambda v: bad_names(("full", "fast")),
            "seed": lambda v: BAD_INTS}, DATA_BLAME),
    Target("compare_gradients",
           lambda a: nb.compare_gradients(a["net"], a["X"], a["T"], a["grad_w"], a["grad_b"]),
           network_and_data().map(lambda v: {**v, "grad_w": v["net"].gradient(v["X"], v["T"])[0],
                                             "grad_b": v["net"].gradient(v["X"], v["T"])[1]}),
           {**DATA_BAD,
            "grad_w": lambda v: st.one_of(JUNK, st.just(v["grad_w"][:-1]), st.lists(
                st.one_of(*(bad_arrays(g) for g in v["grad_w"])), min_size=len(v["grad_w"]),
                max_size=len(v["grad_w"]))),
            "grad_b": lambda v: st.one_of(JUNK, st.just(v["grad_b"] * 2), st.lists(
                st.one_of(*(bad_arrays(g) for g in v["grad_b"])), min_size=len(v["grad_b"]),
                max_size=len(v["grad_b"])))},
           {**DATA_BLAME, "grad_w": ("grad_b",), "grad_b": ("grad_w",)}),
    Target("check_function", lambda a: nb.check_function(a["f"], a["grad"], a["x0"]),
           st.fixed_dictionaries({"f": st.just(_sum_of_squares),
                                  "grad": st.just(lambda x: 2 * x),
                                  "x0": arrays(np.float64, 3, elements=VALUES)}),
           {"f": lambda v: st.one_of(JUNK, st.just(lambda x: "a"), st.just(lambda x: x)),
            "grad": lambda v: st.one_of(JUNK, st.just(lambda x: x[:1]), st.just(lambda x: "g")),
            "x0": lambda v: bad_arrays(v["x0"])},
           {"f": ("grad",), "grad": ("f",)}),
    Target("trace",
           lambda a: a["net"].trace(a["x"], a["t"], eta=a["eta"], convention=a["convention"],
                                    train_biases=a["train_biases"]),
           with_(network_and_data().map(lambda v: {"net": v["net"], "x": v["X"][0],
                                                   "t": v["T"][0]}),
                 eta=st.floats(1e-3, 2.0), convention=st.sampled_from(nb.CONVENTIONS),
                 train_biases=st.booleans()),
           {"x": lambda v: bad_arrays(v["x"]), "t": lambda v: bad_arrays(v["t"]),
            "eta": lambda v: BAD_REALS, "convention": lambda v: bad_names(nb.CONVENTIONS),
            "train_biases": lambda v: BAD_FLAGS, **NETWORK_BAD}, DATA_BLAME),
    Target("Trace.to_text, to_markdown",
           lambda a: getattr(a["trace"], a["method"])(full=a["full"], digits=a["digits"]),
           st.fixed_dictionaries({
               "trace": network_and_data().map(lambda v: v["net"].trace(v["X"][0], v["T"][0])),
               "method": st.sampled_from(["to_text", "to_markdown"]), "full": st.booleans(),
               "digits": st.integers(1, 17)}),
           {"full": lambda v: BAD_FLAGS, "digits": lambda v: st.one_of(BAD_INTS, st.integers(
               100, 2**70))}),
    Target("worked_example, WorkedExample.trace",
           lambda a: nb.worked_example(a["name"]).trace(a["steps"], a["convention"]),
           st.fixed_dictionaries({"name": st.sampled_from(sorted(nb.EXAMPLES)),
                                  "steps": st.integers(0, 5),
                                  "convention": st.sampled_from((None,) + nb.CONVENTIONS)}),
           {"name": lambda v: bad_names(tuple(nb.EXAMPLES)),
            "steps": lambda v: BAD_INTS.filter(lambda e: not (isinstance(e, int) and e > 100)),
            "convention": lambda v: bad_names(nb.CONVENTIONS)},
           blame={"name": ("example",)}),
    Target("WorkedExample.epochs_to_goal",
           lambda a: nb.worked_example(a["name"]).epochs_to_goal(a["max_epochs"]),
           st.fixed_dictionaries({"name": st.just("note"),
                                  "max_epochs": st.integers(4131, 10**4)}),  # 4131 needed
           {"max_epochs": lambda v: st.one_of(BAD_INTS, st.integers(1, 4130))}),
]


# --- the CLI ---------------------------------------------------------------------------------


def _text(valid):
    return st.builds(str, valid)


NUMBER_WORDS = st.sampled_from(["", " ", "-1", "0", "-0", "nan", "inf", "-inf", "1e400", "abc",
                                "1,2", "0x10", "½", "1e3", "2.5", "--eta", "None", "\t1",
                                "-1e-300", "9" * 400])


def _not_a_long_run(text):
    """Excludes epoch counts that are valid but would train for a long time."""
    try:
        return int(text) <= 1000
    except ValueError:
        return True


EPOCH_WORDS = st.one_of(NUMBER_WORDS, st.text(max_size=6)).filter(_not_a_long_run)


@dataclasses.dataclass
class Command:
    """A subcommand: ``base``, a strategy of (words that make a valid call, None) or (bad
    words, the names an error may use for them); and per option (valid strings, bad
    strings, names an error may use for it). Options come after the base words, so a bad
    option overrides a valid one given there."""

    name: str
    base: Any
    options: dict


COMMANDS = [
    Command("demo", st.just(([], None)), {
        "--epochs": (_text(st.integers(1, 50)), EPOCH_WORDS, ("--epochs", "epochs")),
        "--eta": (_text(st.floats(1e-3, 10.0)), NUMBER_WORDS, ("--eta", "eta")),
        "--seed": (_text(st.integers(0, 2**70)), NUMBER_WORDS, ("--seed", "seed")),
    }),
    Command("train", st.one_of(
        st.sampled_from([([file("xor.npz"), "--sizes", "2,3,1"], None),
                         ([file("xor.npz"), "--model", file("model.npz")], None),
                         ([file("xor.npz")], ("--sizes", "--model")),
                         ([file("xor.npz"), "--sizes", "2,1", "--model", file("model.npz")],
                          ("--sizes", "--model"))]),
        st.sampled_from(BAD_FILES).map(lambda f: ([f, "--sizes", "2,1"], (f, "X", "T"))),
        st.one_of(NUMBER_WORDS, st.sampled_from(["2,,1", "3,1", "2,0,1", "2", "2,-1,1", "2;3;1",
                                                 "2.0,1"])).map(
            lambda sizes: ([file("xor.npz"), "--sizes", sizes],
                           ("--sizes", "sizes", "X", "activation"))),
        st.sampled_from(BAD_FILES + [""]).map(
            lambda f: ([file("xor.npz"), "--model", f], ("--model", "path", f))),
        st.sampled_from(["", "Tanh", "softmax", "tanh,", ",", "tanh,tanh,tanh"]).map(
            lambda a: ([file("xor.npz"), "--sizes", "2,3,1", "--activation", a],
                       ("--activation", "activation"))),
        st.just(([file("xor.npz"), "--model", file("model.npz"), "--activation", "tanh"],
                 ("--activation",)))), {
        "--epochs": (_text(st.integers(1, 30)), EPOCH_WORDS, ("--epochs", "epochs")),
        "--eta": (_text(st.floats(1e-3, 10.0)), NUMBER_WORDS, ("--eta", "eta")),
        "--batch-size": (_text(st.integers(1, 4)), NUMBER_WORDS,
                         ("--batch-size", "batch_size")),
        "--momentum": (_text(st.sampled_from([0.0, 0.5])), NUMBER_WORDS,
                       ("--momentum", "momentum")),
        "--seed": (_text(st.integers(0, 2**70)), NUMBER_WORDS, ("--seed", "seed")),
        "--target-error": (_text(st.floats(0, 1)), NUMBER_WORDS,
                           ("--target-error", "target_error")),
        "--out": (st.just(file("trained.npz")), st.sampled_from(
            ["", file("a-directory"), file("missing-directory/m.npz")]),
            ("--out", "path", file("a-directory"), file("missing-directory"))),
    }),
    Command("trace", st.one_of(
        st.sampled_from([(["--example", name], None) for name in sorted(nb.EXAMPLES)] + [
            (["--model", file("model.npz"), "--x", "0", "1", "--t", "1"], None),
            (["--model", file("model.npz"), "--x", "0", "--t", "1"], ("--x", "x", "input")),
            (["--model", file("model.npz"), "--x", "0", "1"], ("--t",)),
            (["--example", "mazur", "--x", "1"], ("--x",)),
            ([], ("--model", "--example"))]),
        st.one_of(NUMBER_WORDS, st.sampled_from(["Mazur", "nope", ""])).map(
            lambda name: (["--example", name], ("--example", "example", name or "example"))),
        st.sampled_from(BAD_FILES + [""]).map(
            lambda f: (["--model", f, "--x", "0", "1", "--t", "1"], ("--model", "path", f)))), {
        "--eta": (_text(st.floats(1e-3, 10.0)), NUMBER_WORDS, ("--eta", "eta")),
        "--convention": (st.sampled_from(nb.CONVENTIONS), st.sampled_from(["", "Note", "delta"]),
                         ("--convention", "convention")),
        "--digits": (_text(st.integers(1, 17)), NUMBER_WORDS, ("--digits", "digits")),
        "--format": (st.sampled_from(["text", "markdown", "json"]),
                     st.sampled_from(["", "html", "JSON"]), ("--format",)),
    }),
    Command("example", st.one_of(
        st.sampled_from([([name], None) for name in sorted(nb.EXAMPLES)] + [
            (["--list"], None), ([], ("--list",)), (["han", "--list"], ("--list",))]),
        st.one_of(NUMBER_WORDS, st.sampled_from(["Mazur", "nope", ""])).map(
            lambda name: ([name], ("example", "name", name or "example")))), {
        "--digits": (_text(st.integers(1, 17)), NUMBER_WORDS, ("--digits", "digits")),
    }),
]

__all__ = ["COMMANDS", "TARGETS", "Command", "Target", "file"]
