"""Worked examples from the literature, reproduced to their printed digits.

Every published number below is copied from the source (cited per example), and every
expected value is computed here by hand, in plain Python floats, independently of the
package; the package's values are then checked against both.
"""

import math

import numpy as np
import pytest

import nbbackprop as nb
import oracle
from clear_errors import assert_clear_error


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def printed_like(value, printed):
    """value with as many decimals as ``printed`` shows (an independent rounding)."""
    text = f"{value:.{len(printed.partition('.')[2])}f}"
    return "0" + text[2:] if text.startswith("-0") and not text.strip("-0.") else text


# --- Mazur (2015) ----------------------------------------------------------------------------
# Matt Mazur, "A Step by Step Backpropagation Example", 17 March 2015,
# https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/
# 2-2-2 logistic network, i = (0.05, 0.10), targets (0.01, 0.99), w1…w8 = .15 .20 .25 .30
# .40 .45 .50 .55, b1 = 0.35 (hidden), b2 = 0.60 (output), never updated, η = 0.5.
# Printed in the post: net_h1 = 0.3775, out_h1 = 0.593269992, out_h2 = 0.596884378,
# net_o1 = 1.105905967, out_o1 = 0.75136507, out_o2 = 0.772928465, E_total = 0.298371109,
# ∂out_o1/∂net_o1 = 0.186815602, δ_o1 = 0.138498562, ∂E/∂w5 = 0.082167041,
# w5+ … w8+ = 0.35891648, 0.408666186, 0.511301270, 0.561370121,
# ∂out_h1/∂net_h1 = 0.241300709, ∂E/∂w1 = 0.000438568,
# w1+ … w4+ = 0.149780716, 0.19956143, 0.24975114, 0.29950229;
# "after this first round … 0.291027924"; "after repeating this process 10,000 times …
# 0.0000351085 … the two outputs neurons generate 0.015912196 … and 0.984065734".


def mazur_by_hand(rounds, hidden_deltas_from_updated_w5_w8=False):
    """The post's procedure, written out with its own names; returns the first round's
    values (if rounds ≥ 1) and E, out_o1, out_o2 after ``rounds`` updates (…_after).

    With the flag set, w5…w8 are updated before the hidden deltas are computed, as the
    author's script did before its commit 4b6faac (15 March 2015)."""
    w1, w2, w3, w4, w5, w6, w7, w8 = 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55
    b1, b2, i1, i2, t1, t2, eta = 0.35, 0.60, 0.05, 0.10, 0.01, 0.99, 0.5
    first = None
    for r in range(rounds + 1):
        net_h1, net_h2 = w1 * i1 + w2 * i2 + b1, w3 * i1 + w4 * i2 + b1
        h1, h2 = sigmoid(net_h1), sigmoid(net_h2)
        net_o1, net_o2 = w5 * h1 + w6 * h2 + b2, w7 * h1 + w8 * h2 + b2
        o1, o2 = sigmoid(net_o1), sigmoid(net_o2)
        E = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
        if r == rounds:
            return dict(first or {}, E_after=E, out_o1_after=o1, out_o2_after=o2)
        d1, d2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
        new = (w5 - eta * d1 * h1, w6 - eta * d1 * h2, w7 - eta * d2 * h1, w8 - eta * d2 * h2)
        if hidden_deltas_from_updated_w5_w8:
            w5, w6, w7, w8 = new
        dh1 = (d1 * w5 + d2 * w7) * h1 * (1 - h1)
        dh2 = (d1 * w6 + d2 * w8) * h2 * (1 - h2)
        if first is None:
            first = {"net_h1": net_h1, "out_h1": h1, "out_h2": h2, "net_o1": net_o1,
                     "out_o1": o1, "out_o2": o2, "E_total": E,
                     "∂out_o1/∂net_o1": o1 * (1 - o1), "δ_o1": d1, "∂E_total/∂w5": d1 * h1,
                     "w5+": new[0], "w6+": new[1], "w7+": new[2], "w8+": new[3],
                     "∂out_h1/∂net_h1": h1 * (1 - h1), "∂E_total/∂w1": dh1 * i1,
                     "w1+": w1 - eta * dh1 * i1, "w2+": w2 - eta * dh1 * i2,
                     "w3+": w3 - eta * dh2 * i1, "w4+": w4 - eta * dh2 * i2}
        w1, w2, w3, w4 = w1 - eta * dh1 * i1, w2 - eta * dh1 * i2, w3 - eta * dh2 * i1, \
            w4 - eta * dh2 * i2
        w5, w6, w7, w8 = new


MAZUR_FIRST_ROUND = {
    "net_h1": "0.3775", "out_h1": "0.593269992", "out_h2": "0.596884378",
    "net_o1": "1.105905967", "out_o1": "0.75136507", "out_o2": "0.772928465",
    "E_total": "0.298371109", "∂out_o1/∂net_o1": "0.186815602", "δ_o1": "0.138498562",
    "∂E_total/∂w5": "0.082167041", "w5+": "0.35891648", "w6+": "0.408666186",
    "w7+": "0.511301270", "w8+": "0.561370121", "∂out_h1/∂net_h1": "0.241300709",
    "∂E_total/∂w1": "0.000438568", "w1+": "0.149780716", "w2+": "0.19956143",
    "w3+": "0.24975114", "w4+": "0.29950229",
}


def test_mazur_first_round_by_hand_and_by_the_package():
    by_hand = mazur_by_hand(1)  # the first round, forward and backward
    rows = {c.published.symbol: c for c in nb.worked_example("mazur").compare() if c.steps == 0}
    assert set(rows) == set(MAZUR_FIRST_ROUND)
    for symbol, printed in MAZUR_FIRST_ROUND.items():
        assert printed_like(by_hand[symbol], printed) == printed, symbol
        assert rows[symbol].published.printed == printed
        assert rows[symbol].agrees and rows[symbol].rounded == printed, symbol
        assert rows[symbol].value == pytest.approx(by_hand[symbol], rel=1e-13, abs=1e-16), symbol


def test_mazur_summary_numbers_and_where_they_come_from():
    rows = {c.published.symbol: c for c in nb.worked_example("mazur").compare() if c.steps}
    standard_1, standard_9999, standard_10000 = (mazur_by_hand(n) for n in (1, 9999, 10000))
    early_script_1 = mazur_by_hand(1, hidden_deltas_from_updated_w5_w8=True)
    early_script_10000 = mazur_by_hand(10000, hidden_deltas_from_updated_w5_w8=True)

    # "after this first round … 0.291027924": not the post's procedure, the early script's.
    row = rows["E_total after the first round"]
    assert row.published.printed == "0.291027924" and not row.agrees
    assert printed_like(standard_1["E_after"], "0.291027924") == row.rounded == "0.291027774"
    assert printed_like(early_script_1["E_after"], "0.291027924") == "0.291027924"

    # "after repeating this process 10,000 times … 0.0000351085": the error of round
    # 10,000's forward pass (9,999 updates before it).
    row = rows["E_total after 10,000 rounds"]
    assert row.published.printed == "0.0000351085" and row.agrees and row.steps == 9999
    assert printed_like(standard_9999["E_after"], "0.0000351085") == "0.0000351085"
    assert printed_like(standard_10000["E_after"], "0.0000351085") == "0.0000351019"
    assert row.value == pytest.approx(standard_9999["E_after"], rel=1e-9)

    # "… generate 0.015912196 … and 0.984065734": the early script's outputs.
    for symbol, printed, key in [("out_o1 after 10,000 rounds", "0.015912196", "out_o1_after"),
                                 ("out_o2 after 10,000 rounds", "0.984065734", "out_o2_after")]:
        row = rows[symbol]
        assert row.published.printed == printed and not row.agrees and row.steps == 10000
        assert printed_like(standard_10000[key], printed) == row.rounded != printed
        assert printed_like(early_script_10000[key], printed) == printed
    for row in rows.values():
        assert row.agrees == row.published.reproduced, row.published.symbol


def test_mazur_biases_are_shared_and_never_updated():
    example = nb.worked_example("mazur")
    tr = example.trace()
    assert not example.train_biases and example.convention == "gradient"
    for layer, b in zip(tr.layers, (0.35, 0.60)):
        np.testing.assert_array_equal(layer.b, [b, b])
        np.testing.assert_array_equal(layer.new_b, [b, b])
    np.testing.assert_array_equal(example.trained(3).biases[1], [0.60, 0.60])


# --- Han, Kamber & Pei (2012), Example 9.1 ---------------------------------------------------
# J. Han, M. Kamber, J. Pei, Data Mining: Concepts and Techniques, 3rd ed., 2012, Section
# 9.2.3, Example 9.1: units 1, 2, 3 (input), 4, 5 (hidden), 6 (output), logistic;
# X = (1, 0, 1), class label 1, learning rate 0.9; w14 = 0.2, w15 = −0.3, w24 = 0.4,
# w25 = 0.1, w34 = −0.5, w35 = 0.2, w46 = −0.3, w56 = −0.2, θ4 = −0.4, θ5 = 0.2, θ6 = 0.1.
# Printed (Tables 9.2–9.4): I4 = −0.7, O4 = 0.332, I5 = 0.1, O5 = 0.525, I6 = −0.105,
# O6 = 0.474; Err6 = 0.1311, Err5 = −0.0065, Err4 = −0.0087; new w46 = −0.261,
# w56 = −0.138, w14 = 0.192, w15 = −0.306, w24 = 0.4, w25 = 0.1, w34 = −0.508, w35 = 0.194,
# θ6 = 0.218, θ5 = 0.194, θ4 = −0.408.
HAN_PRINTED = {
    "I_4": "-0.7", "O_4": "0.332", "I_5": "0.1", "O_5": "0.525", "I_6": "-0.105",
    "O_6": "0.474", "Err_6": "0.1311", "Err_5": "-0.0065", "Err_4": "-0.0087",
    "w_46": "-0.261", "w_56": "-0.138", "w_14": "0.192", "w_15": "-0.306", "w_24": "0.4",
    "w_25": "0.1", "w_34": "-0.508", "w_35": "0.194", "θ_6": "0.218", "θ_5": "0.194",
    "θ_4": "-0.408",
}


def han_by_hand():
    """Example 9.1 in the book's notation: I_j = Σ_i w_ij O_i + θ_j, Err_6 = O_6 (1 − O_6)
    (T − O_6), Err_j = O_j (1 − O_j) Err_6 w_j6, w_ij += l Err_j O_i, θ_j += l Err_j."""
    x1, x2, x3, T, l = 1.0, 0.0, 1.0, 1.0, 0.9
    w14, w15, w24, w25, w34, w35, w46, w56 = 0.2, -0.3, 0.4, 0.1, -0.5, 0.2, -0.3, -0.2
    t4, t5, t6 = -0.4, 0.2, 0.1
    I4, I5 = w14 * x1 + w24 * x2 + w34 * x3 + t4, w15 * x1 + w25 * x2 + w35 * x3 + t5
    O4, O5 = sigmoid(I4), sigmoid(I5)
    I6 = w46 * O4 + w56 * O5 + t6
    O6 = sigmoid(I6)
    E6 = O6 * (1 - O6) * (T - O6)
    E5, E4 = O5 * (1 - O5) * E6 * w56, O4 * (1 - O4) * E6 * w46
    return {"I_4": I4, "O_4": O4, "I_5": I5, "O_5": O5, "I_6": I6, "O_6": O6, "Err_6": E6,
            "Err_5": E5, "Err_4": E4, "w_46": w46 + l * E6 * O4, "w_56": w56 + l * E6 * O5,
            "w_14": w14 + l * E4 * x1, "w_15": w15 + l * E5 * x1, "w_24": w24 + l * E4 * x2,
            "w_25": w25 + l * E5 * x2, "w_34": w34 + l * E4 * x3, "w_35": w35 + l * E5 * x3,
            "θ_6": t6 + l * E6, "θ_5": t5 + l * E5, "θ_4": t4 + l * E4}


def test_han_kamber_pei_example_by_hand_and_by_the_package():
    by_hand = han_by_hand()
    rows = {c.published.symbol: c for c in nb.worked_example("han").compare()}
    assert {s: r.published.printed for s, r in rows.items()} == HAN_PRINTED
    for symbol, printed in HAN_PRINTED.items():
        row = rows[symbol]
        assert row.value == pytest.approx(by_hand[symbol], rel=1e-13, abs=1e-16), symbol
        assert row.rounded == printed_like(by_hand[symbol], printed), symbol
        assert row.agrees == (symbol != "Err_6") == row.published.reproduced, symbol
    # The book's Err_6 multiplies the rounded O_6 = 0.474; unrounded it rounds to 0.1312.
    assert printed_like(0.474 * (1 - 0.474) * (1 - 0.474), "0.1311") == "0.1311"
    assert rows["Err_6"].rounded == "0.1312"


def test_han_uses_the_note_convention():
    tr = nb.worked_example("han").trace()
    assert tr.convention == "note" and tr.layers[-1].delta[0] > 0  # Err_6 = O(1 − O)(T − O) > 0


# --- The study note's 2-2-1 story --------------------------------------------------------
# "Input passes forward → produces prediction 0.8; actual target = 1 → error = (1 − 0.8) = 0.2;
# … after many iterations, output becomes 0.99." The start is ours (see worked_examples.py).


def test_note_story_starts_at_a_prediction_of_0_8():
    example = nb.worked_example("note")
    y = example.trace().layers[-1].y[0]
    assert y == pytest.approx(0.8, abs=1e-15)
    assert example.t == (1.0,) and 1.0 - y == pytest.approx(0.2, abs=1e-15)
    # z = ln 4 at the output: σ(ln 4) = 1/(1 + 1/4) = 0.8
    assert example.trace().layers[-1].z[0] == pytest.approx(math.log(4.0), abs=1e-15)


def test_note_story_epochs_to_0_99_agree_with_the_oracle():
    example = nb.worked_example("note")
    weights = [np.array(w) for w in example.weights]
    biases = [np.array(b) for b in example.biases]
    X, T = np.array([example.x]), np.array([example.t])

    def output():
        return oracle.forward(weights, biases, example.activations, X)[-1][1][0, 0]

    epochs = 0
    while output() < 0.99:
        gw, gb = oracle.gradient(weights, biases, example.activations, X, T)
        for l in range(len(weights)):
            weights[l] -= example.eta * gw[l]
            biases[l] -= example.eta * gb[l]
        epochs += 1
    assert output() - 0.99 > 1e-9  # far from a tie: rounding cannot move the count
    assert example.epochs_to_goal() == epochs
    (row,) = [c for c in example.compare() if c.published.steps is None]
    assert row.steps == epochs and row.agrees and row.published.printed == "0.99"


# --- the data themselves ---------------------------------------------------------------------


@pytest.mark.parametrize("name", nb.EXAMPLES)
def test_every_example_is_complete(name):
    example = nb.worked_example(name)
    assert example.name == name and example.title and example.source and example.about
    net = example.network()
    assert net.sizes[0] == len(example.x) and net.sizes[-1] == len(example.t)
    for c in example.compare():
        assert c.published.printed.lstrip("-").replace(".", "", 1).isdigit()
        assert c.agrees == c.published.reproduced, c.published.symbol
        assert c.published.reproduced or c.published.note  # every mismatch is explained


@pytest.mark.parametrize(("call", "exception", "words"), [
    (lambda: nb.worked_example("lecun"), ValueError, ["example", "'mazur'", "'lecun'"]),
    (lambda: nb.worked_example(3), TypeError, ["example", "3"]),
    (lambda: nb.worked_example("mazur").epochs_to_goal(), ValueError, ["mazur", "no goal"]),
    (lambda: nb.worked_example("note").epochs_to_goal(max_epochs=10), ValueError,
     ["did not reach", "10 epochs"]),
    (lambda: nb.worked_example("han").trained(-1), ValueError, ["steps", "≥ 0", "-1"]),
    (lambda: nb.worked_example("han").trace(convention="up"), ValueError, ["convention"]),
])
def test_bad_input_gets_a_clear_error(call, exception, words):
    assert_clear_error(call, exception, words)
