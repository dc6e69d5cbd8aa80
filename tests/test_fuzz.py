"""Fuzzing every public function and CLI subcommand (listed in tests/fuzz.py) with wrong
shapes, dtypes, NaN/Inf, empty arrays, huge and tiny values and wrong types.

The contract (docs/reliability.md): a call either returns a result without NaN or Inf,
or raises ValueError, TypeError or one of the package's own exceptions whose message
names the bad argument — never a Numba error, never a silent NaN. The CLI exits 0, or
non-zero with one line on stderr and no traceback."""

import contextlib
import dataclasses
import io
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import nbbackprop as nb
from clear_errors import assert_clear_error
from fuzz import COMMANDS, TARGETS
from nbbackprop import cli

# Per target and per command; a deeper search: NBBACKPROP_FUZZ_EXAMPLES=5000 python -m pytest
# tests/test_fuzz.py (docs/reliability.md quotes both runs).
EXAMPLES = int(os.environ.get("NBBACKPROP_FUZZ_EXAMPLES", 300))


def names(name, message):
    """True if message names the argument (not merely a longer word that contains it)."""
    return re.search(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])", message) is not None


def all_finite(result):
    """No NaN or Inf anywhere in what a call returned."""
    if isinstance(result, nb.History):
        return all_finite(result.errors)
    if isinstance(result, nb.Network):
        return all_finite(result.parameters)
    if isinstance(result, (list, tuple)):
        return all(all_finite(r) for r in result)
    if dataclasses.is_dataclass(result):  # a Trace and its LayerTraces
        return all(all_finite(getattr(result, f.name)) for f in dataclasses.fields(result))
    if isinstance(result, np.ndarray) and result.dtype.kind not in "biufc":
        return True  # names (an experiment's outcomes), not numbers
    if isinstance(result, (float, np.ndarray)):
        return bool(np.isfinite(result).all())
    return True


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_every_public_function_refuses_bad_input_by_name(target, data):
    arguments = dict(data.draw(target.valid, label="valid arguments"))
    bad = data.draw(st.sampled_from([*target.bad] * 3 + [None]), label="bad argument")
    if bad is not None:
        arguments[bad] = data.draw(target.bad[bad](arguments), label=bad)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = target.call(arguments)
        except (ValueError, TypeError, nb.TrainingDiverged, *target.also) as err:
            message = str(err)
            event(f"{bad or 'nothing'} bad: {type(err).__name__}")
            assert not type(err).__module__.startswith("numba"), repr(err)
            assert "numba" not in message.lower(), message
            if isinstance(err, nb.TrainingDiverged):  # valid values may diverge: eta's fault
                assert names("eta", message), message
            elif isinstance(err, nb.NonFiniteResult) and bad not in ("x", "X", "t", "T"):
                assert names("X", message) or names("x", message), message  # data too large
            else:
                assert bad is not None, repr(err)
                blamed = (bad, *target.blame.get(bad, ()))
                if isinstance(arguments[bad], str) and arguments[bad]:
                    blamed += (arguments[bad],)  # a path may be named by its value
                assert any(names(name, message) for name in blamed), (blamed, message)
        else:
            event(f"{bad or 'nothing'} bad: returned")
            assert all_finite(result), result
    assert not caught, [str(w.message) for w in caught]  # no warnings leak out either
    net = arguments.get("net")
    if isinstance(net, nb.Network) and bad != "net":  # whatever happened, no NaN left behind
        assert np.isfinite(net.parameters).all()


def run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit:  # argparse
            code = exit.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_every_subcommand_answers_bad_arguments_in_one_line(command, data):
    words, blamed = data.draw(command.base, label="base")
    argv, bad = [command.name, *words], [blamed] if blamed else []
    for option, (valid, invalid, blamed) in command.options.items():
        use = data.draw(st.sampled_from(["omit", "omit", "valid", "valid", "bad"]), label=option)
        if use != "omit":
            argv += [option, data.draw(valid if use == "valid" else invalid, label=option)]
        if use == "bad":
            bad.append(blamed)
    code, out, err = run_cli(argv)
    event(f"exit {code}")
    if code == 0:
        assert err == "", err
        return
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and "numba" not in err.lower(), err
    if len(bad) == 1:  # one thing wrong: the line names it
        assert any(name in err for name in bad[0]), (bad[0], err)


def _net():
    return nb.Network([2, 3, 1], "tanh", seed=0)


def _half_assigned():
    net = _net()
    before = net.parameters.copy()
    try:
        net.weights = [np.zeros((2, 3)), np.full((3, 1), np.nan)]
    finally:
        assert np.array_equal(net.parameters, before), "weights[0] was changed anyway"


# What fuzzing and the review for this suite found in the core, each now a clear error:
# (call, exception, words the message must contain).
FOUND = [
    (lambda: nb.Network([2, 1], init=np.array(["auto", "he"])), TypeError, ["init"]),
    (lambda: nb.Network(np.array(3)), TypeError, ["sizes"]),
    (lambda: nb.Network([2**63, 1]), ValueError, ["sizes", "allocate"]),
    (lambda: nb.Network([10**400, 1]), ValueError, ["sizes", "1e400"]),
    (lambda: nb.Network([2, 1], init="uniform", init_scale=1e308), ValueError, ["init_scale"]),
    (lambda: _net().fit(*nb.xor(), eta=10**400), ValueError, ["eta", "positive"]),
    (lambda: nb.Network.from_weights([[[1.0, 2.0], [3.0]]], [[0.0]], ["tanh"]), ValueError,
     ["weights[0]", "rectangular"]),
    (lambda: nb.Network.from_weights([np.ones((0, 1))], [np.ones(1)], ["tanh"]), ValueError,
     ["weights[0]", "at least one row"]),
    (lambda: nb.Network.from_weights([np.ones((2, 1))], {"a": 1}, ["tanh"]), TypeError,
     ["biases", "list"]),
    (lambda: nb.Network.from_weights([np.ones((2, 1))], [np.ones(1)], None), TypeError,
     ["activations"]),
    (lambda: setattr(_net(), "biases", np.array(0.5)), ValueError, ["biases", "list"]),
    (lambda: _net().weights.__setitem__(5, np.ones((2, 3))), IndexError,
     ["weights", "2 layers", "index 5"]),
    (_half_assigned, ValueError, ["weights[1]", "finite"]),
    (lambda: nb.Network.from_weights([[[1.0]]], [[0.0]], ["linear"]).error([[1e200]], [[-1e200]]),
     nb.NonFiniteResult, ["error", "X and T", "overflowed"]),
    (lambda: _net().save(""), ValueError, ["path"]),
    (lambda: _net().fit(*nb.xor(), on_divergence=["raise"]), TypeError, ["on_divergence"]),
    (lambda: _net().weights.__setitem__(np.array("0"), np.ones((2, 3))), TypeError,
     ["weights", "one layer at a time"]),
    # After merging the trace (issue 5): its overflow, and epochs_to_goal's argument.
    (lambda: nb.Network([2, 1], "linear", seed=0).trace([1e300, -1e300], [0.0]),
     nb.NonFiniteResult, ["trace", "x and t"]),
    (lambda: nb.worked_example("note").epochs_to_goal(None), TypeError, ["max_epochs"]),
    (lambda: nb.worked_example("note").epochs_to_goal(10), ValueError, ["max_epochs=10"]),
]


@pytest.mark.parametrize(("call", "exception", "words"), FOUND,
                         ids=[f"{i}-{w[0]}" for i, (_, _, w) in enumerate(FOUND)])
def test_what_fuzzing_found_stays_fixed(call, exception, words):
    assert_clear_error(call, exception, words)


@pytest.mark.parametrize("epochs", [10**12, 10**400])
def test_fit_does_not_reserve_memory_for_epochs_it_has_not_run(epochs):
    """epochs=10**12 used to allocate 8 TB for the history up front (MemoryError); the
    history now grows as epochs complete, so a huge count is "until stopped" (and one
    beyond int64 is not handed to compiled code, which cannot take it)."""
    X, T = nb.xor()
    history = _net().fit(X, T, epochs=epochs, target_error=0.2)
    assert history.stop_reason == "target_error" and len(history.errors) == history.epochs
