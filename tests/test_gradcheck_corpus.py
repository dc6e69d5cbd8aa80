"""scripts/gradcheck_corpus.py: its backpropagation is right where it injects no bug, and
on a small slice of the corpus the checker raises no false alarm and finds every bug in
full mode (the published figures are the script's own, over 11,000 trials)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

import oracle

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gradcheck_corpus.py"
spec = importlib.util.spec_from_file_location("gradcheck_corpus", SCRIPT)
corpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(corpus)


@given(oracle.classifier_networks_and_data(hidden=("sigmoid", "tanh", "relu")))
def test_the_corpus_backprop_without_a_bug_is_the_oracle_gradient(case):
    weights, biases, activations, X, T, loss = case
    got = corpus.backprop(weights, biases, activations, loss, X, T)
    want = oracle.gradient(weights, biases, activations, X, T, loss=loss)
    _, _, sw, sb = oracle.error_scales(weights, biases, X, T, activations, loss)
    for l in range(len(weights)):
        oracle.assert_close(got[0][l], want[0][l], sw[l], f"dC/dW[{l}]")
        oracle.assert_close(got[1][l], want[1][l], sb[l], f"dC/db[{l}]")


def test_the_one_sided_derivatives_at_a_kink():
    # relu(w·x + b) with x = 1, w = 1, b = −1: z = 0. E = ½(y − 1)²: right ∂E/∂b = −1, left 0.
    W, b = [np.array([[1.0]])], [np.array([-1.0])]
    left, right = corpus.one_sided(W, b, ["relu"], "squared", np.array([[1.0]]),
                                   np.array([[1.0]]))
    assert left == pytest.approx([0.0, 0.0], abs=1e-6)
    assert right == pytest.approx([-1.0, -1.0], abs=1e-6)


@pytest.fixture(scope="module")
def quick():
    return corpus.run(20 * len(corpus.BUGS), seed=0)


def test_no_false_alarm_and_every_bug_found_in_full_mode(quick):
    table, overall = corpus.summarise(quick)
    assert overall["full false alarms"] == 0 and overall["fast false alarms"] == 0
    assert overall["false alarm seeds"] == []
    assert overall["full misses"] == []
    assert overall["flagged unchanged"] == 0
    for bug, row in table.items():
        assert row["with a bug"] > 0, bug
        assert row["full detected"] == row["with a bug"], bug


def test_the_slice_has_kinks_and_both_precisions(quick):
    assert any(t["kinks"] for t in quick)
    assert {t["dtype"] for t in quick} == {"float32", "float64"}


def test_the_report_names_its_columns_and_the_cpu(quick):
    text = corpus.report(quick, 1.0)
    assert text.splitlines()[0].split()[:2] == ["bug", "class"]
    assert "false alarms on right gradients" in text and "trials in 1 s on" in text
