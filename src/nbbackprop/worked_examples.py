"""Worked examples from the literature, as data: starting weights, sample, η, and the
numbers the source prints, each with the place in a ``Trace`` that holds our value.

``worked_example(name).compare()`` sets every printed number next to ours, rounded to the
digits printed; ``nbbackprop example NAME`` prints that table after the trace of the first
step. Where a printed number is not what the source's own procedure gives, the entry says
so (``reproduced=False``) and explains where the printed number comes from; the tests
check those explanations independently.

Weights use the package's layout: ``weights[l][i, j]`` is w_ij, from neuron i of the layer
below to neuron j above. A source's bias shared by the neurons of a layer is a per-neuron
bias of the same value; a source that never updates its biases is traced with
``train_biases=False``.
"""

import dataclasses
import math
import re
from decimal import ROUND_HALF_UP, Decimal

from . import _validate as check
from .exceptions import InvalidValue
from .network import Network


@dataclasses.dataclass(frozen=True)
class Published:
    """One number as a source prints it.

    ``symbol``: the source's name for it; ``printed``: the digits exactly as printed;
    ``at``: where a ``Trace`` holds our value (``"error"`` or e.g. ``"layers[1].new_w[0, 0]"``);
    ``steps``: how many online updates precede the traced step (0: the first step; None:
    the epochs the example needs to reach its goal); ``reproduced``: whether our value
    rounds to the printed digits; ``note``: why not, or how the number is to be read.
    """

    symbol: str
    printed: str
    at: str
    steps: int | None = 0
    reproduced: bool = True
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A published number next to ours: ``value`` is ours in full, ``rounded`` ours to the
    printed digits, ``agrees`` whether that equals the printed number."""

    published: Published
    steps: int
    value: float
    rounded: str
    agrees: bool


@dataclasses.dataclass(frozen=True)
class WorkedExample:
    """A network, one training sample and η from a source, with the numbers it prints.

    ``convention`` is the source's sign of δ (see ``nbbackprop.trace``); ``goal``, if set,
    is an output value the source trains towards (one output, target above it), and
    ``epochs_to_goal()`` counts the online epochs it takes.
    """

    name: str
    title: str
    source: str
    about: str
    weights: tuple
    biases: tuple
    activations: tuple
    x: tuple
    t: tuple
    eta: float
    train_biases: bool
    convention: str
    published: tuple
    goal: float | None = None

    def network(self):
        """A fresh ``Network`` holding the example's starting weights."""
        return Network.from_weights(self.weights, self.biases, self.activations)

    def trained(self, steps):
        """The network after ``steps`` online updates on the example's sample."""
        net = self.network()
        steps = check.integer(steps, "steps", minimum=0)
        if steps:
            net.fit([self.x], [self.t], epochs=steps, eta=self.eta, batch_size=1,
                    shuffle=False, train_biases=self.train_biases)
        return net

    def trace(self, steps=0, convention=None):
        """The trace of update ``steps + 1`` (steps=0: the first step), by default in the
        source's sign convention."""
        return self.trained(steps).trace(
            self.x, self.t, eta=self.eta, train_biases=self.train_biases,
            convention=self.convention if convention is None else convention,
        )

    def epochs_to_goal(self, max_epochs=1_000_000):
        """Online epochs until the output first reaches ``goal`` (counted by ``fit``, which
        stops at the first epoch with E = ½ (t − y)² ≤ ½ (t − goal)²)."""
        if self.goal is None:
            raise InvalidValue(f"example {self.name!r} has no goal to train towards")
        max_epochs = check.integer(max_epochs, "max_epochs", minimum=1)
        (t,) = self.t
        history = self.network().fit(
            [self.x], [self.t], epochs=max_epochs, eta=self.eta, batch_size=1, shuffle=False,
            train_biases=self.train_biases, target_error=0.5 * (t - self.goal) ** 2,
        )
        if history.stop_reason != "target_error":
            raise InvalidValue(f"example {self.name!r} did not reach {self.goal} in "
                               f"max_epochs={max_epochs} epochs")
        return history.epochs

    def compare(self):
        """Every published number next to ours: a list of ``Comparison``."""
        traces, rows = {}, []
        for p in self.published:
            steps = self.epochs_to_goal() if p.steps is None else p.steps
            if steps not in traces:
                traces[steps] = self.trace(steps)
            value = _at(traces[steps], p.at)
            rounded = _rounded_like(value, p.printed)
            rows.append(Comparison(p, steps, value, rounded, rounded == p.printed))
        return rows


def _at(trace, place):
    """The value at ``place`` in a trace: "error" or "layers[l].name[i]" / "[i, j]"."""
    if place == "error":
        return trace.error
    match = re.fullmatch(r"layers\[(\d+)\]\.(\w+)\[(\d+)(?:, (\d+))?\]", place)
    if match is None:
        raise InvalidValue(f"not a place in a trace: {place!r}")
    l, name, *index = match.groups()
    array = getattr(trace.layers[int(l)], name)
    return float(array[tuple(int(i) for i in index if i is not None)])


def _rounded_like(value, printed):
    """value rounded half-up to as many decimals as ``printed`` shows, written the same way."""
    decimals = len(printed.partition(".")[2])
    text = str(Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))
    return "0" + text[2:] if text.startswith("-0") and set(text[1:]) <= set("0.") else text


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


MAZUR = WorkedExample(
    name="mazur",
    title="Mazur (2015), A Step by Step Backpropagation Example: 2-2-2 sigmoid, η = 0.5",
    source=("Matt Mazur, \"A Step by Step Backpropagation Example\", 17 March 2015, "
            "https://mattmazur.com/2015/03/17/a-step-by-step-backpropagation-example/ ; "
            "script: https://github.com/mattm/simple-neural-network"),
    about=("Inputs i1, i2, hidden h1, h2, outputs o1, o2. The post's w1…w4 are "
           "w1 = w_11 (i1→h1), w2 = w_21 (i2→h1), w3 = w_12 (i1→h2), w4 = w_22 (i2→h2), "
           "and w5…w8 likewise into o1, o2. Each layer shares one bias (b1 = 0.35, b2 = 0.60) "
           "that the post never updates: here every neuron gets a bias of that value and the "
           "step is taken with train_biases=False. Its δ is ∂E/∂net (convention \"gradient\")."),
    weights=(((0.15, 0.25), (0.20, 0.30)), ((0.40, 0.50), (0.45, 0.55))),
    biases=((0.35, 0.35), (0.60, 0.60)),
    activations=("sigmoid", "sigmoid"),
    x=(0.05, 0.10),
    t=(0.01, 0.99),
    eta=0.5,
    train_biases=False,
    convention="gradient",
    published=(
        Published("net_h1", "0.3775", "layers[0].z[0]"),
        Published("out_h1", "0.593269992", "layers[0].y[0]"),
        Published("out_h2", "0.596884378", "layers[0].y[1]"),
        Published("net_o1", "1.105905967", "layers[1].z[0]"),
        Published("out_o1", "0.75136507", "layers[1].y[0]"),
        Published("out_o2", "0.772928465", "layers[1].y[1]"),
        Published("E_total", "0.298371109", "error"),
        Published("∂out_o1/∂net_o1", "0.186815602", "layers[1].fprime[0]"),
        Published("δ_o1", "0.138498562", "layers[1].delta[0]"),
        Published("∂E_total/∂w5", "0.082167041", "layers[1].grad_w[0, 0]"),
        Published("w5+", "0.35891648", "layers[1].new_w[0, 0]"),
        Published("w6+", "0.408666186", "layers[1].new_w[1, 0]"),
        Published("w7+", "0.511301270", "layers[1].new_w[0, 1]"),
        Published("w8+", "0.561370121", "layers[1].new_w[1, 1]"),
        Published("∂out_h1/∂net_h1", "0.241300709", "layers[0].fprime[0]"),
        Published("∂E_total/∂w1", "0.000438568", "layers[0].grad_w[0, 0]"),
        Published("w1+", "0.149780716", "layers[0].new_w[0, 0]"),
        Published("w2+", "0.19956143", "layers[0].new_w[1, 0]"),
        Published("w3+", "0.24975114", "layers[0].new_w[0, 1]"),
        Published("w4+", "0.29950229", "layers[0].new_w[1, 1]"),
        Published(
            "E_total after the first round", "0.291027924", "error", steps=1, reproduced=False,
            note=("The post's own procedure (hidden deltas from the original w5…w8) gives "
                  "0.291027774. The printed value is what one gets by updating w5…w8 before "
                  "computing the hidden deltas, as the author's script did until its commit "
                  "4b6faac of 15 March 2015 (\"Update backprop algorithm so that hidden layer "
                  "weight updates use original weights\")."),
        ),
        Published(
            "E_total after 10,000 rounds", "0.0000351085", "error", steps=9999,
            note=("The error of round 10,000 as computed in that round's forward pass, i.e. "
                   "after 9,999 updates; after all 10,000 updates it is 0.0000351019."),
        ),
        Published(
            "out_o1 after 10,000 rounds", "0.015912196", "layers[1].y[0]", steps=10000,
            reproduced=False,
            note=("Standard backpropagation gives 0.015913620. The printed value is that of "
                  "the earlier script that updated w5…w8 before the hidden deltas (see above)."),
        ),
        Published(
            "out_o2 after 10,000 rounds", "0.984065734", "layers[1].y[1]", steps=10000,
            reproduced=False,
            note=("Standard backpropagation gives 0.984064274; the printed value is the "
                  "earlier script's, as for out_o1."),
        ),
    ),
)

HAN = WorkedExample(
    name="han",
    title="Han, Kamber & Pei (2012), Data Mining, Example 9.1: 3-2-1 sigmoid, η = 0.9",
    source=("Jiawei Han, Micheline Kamber, Jian Pei, Data Mining: Concepts and Techniques, "
            "3rd ed., Morgan Kaufmann 2012, Section 9.2.3, Example 9.1 \"Sample calculations "
            "for learning by the backpropagation algorithm\" (Figure 9.5, Tables 9.1-9.4)"),
    about=("Input units 1, 2, 3, hidden units 4, 5, output unit 6; w_ij joins unit i to "
           "unit j, so the book's w_14 is weights[0][0, 0] and w_46 is weights[1][0, 0]. "
           "The book's bias θ_j is added to the net input, I_j = Σ_i w_ij O_i + θ_j, and is "
           "learned: it is b_j here. Its Err_j = O_j (1 − O_j)(T_j − O_j) is the note's δ "
           "(convention \"note\"), and it updates w_ij += (l) Err_j O_i, θ_j += (l) Err_j."),
    weights=(((0.2, -0.3), (0.4, 0.1), (-0.5, 0.2)), ((-0.3,), (-0.2,))),
    biases=((-0.4, 0.2), (0.1,)),
    activations=("sigmoid", "sigmoid"),
    x=(1.0, 0.0, 1.0),
    t=(1.0,),
    eta=0.9,
    train_biases=True,
    convention="note",
    published=(
        Published("I_4", "-0.7", "layers[0].z[0]"),
        Published("O_4", "0.332", "layers[0].y[0]"),
        Published("I_5", "0.1", "layers[0].z[1]"),
        Published("O_5", "0.525", "layers[0].y[1]"),
        Published("I_6", "-0.105", "layers[1].z[0]"),
        Published("O_6", "0.474", "layers[1].y[0]"),
        Published(
            "Err_6", "0.1311", "layers[1].delta[0]", reproduced=False,
            note=("The book multiplies the rounded O_6: 0.474 × (1 − 0.474) × (1 − 0.474) = "
                  "0.1311. Unrounded, Err_6 = 0.13117, which rounds to 0.1312."),
        ),
        Published("Err_5", "-0.0065", "layers[0].delta[1]"),
        Published("Err_4", "-0.0087", "layers[0].delta[0]"),
        Published("w_46", "-0.261", "layers[1].new_w[0, 0]"),
        Published("w_56", "-0.138", "layers[1].new_w[1, 0]"),
        Published("w_14", "0.192", "layers[0].new_w[0, 0]"),
        Published("w_15", "-0.306", "layers[0].new_w[0, 1]"),
        Published("w_24", "0.4", "layers[0].new_w[1, 0]"),
        Published("w_25", "0.1", "layers[0].new_w[1, 1]"),
        Published("w_34", "-0.508", "layers[0].new_w[2, 0]"),
        Published("w_35", "0.194", "layers[0].new_w[2, 1]"),
        Published("θ_6", "0.218", "layers[1].new_b[0]"),
        Published("θ_5", "0.194", "layers[0].new_b[1]"),
        Published("θ_4", "-0.408", "layers[0].new_b[0]"),
    ),
)

# The study note "05_Backprop" (section 4) tells a story without numbers for the weights:
# a 2-2-1 network predicts 0.8 for target 1 and, after many iterations, 0.99. This start
# makes the story exact: round weights, and the output bias chosen so that z_1 = ln 4 at
# the output, where σ(ln 4) = 1/(1 + 1/4) = 0.8.
_NOTE_HIDDEN_Y = (_sigmoid(0.1 + 0.2), _sigmoid(0.3 + 0.4))  # x = (1, 1), hidden biases 0
NOTE = WorkedExample(
    name="note",
    title="The study note's 2-2-1 story: prediction 0.8, target 1, trained to 0.99",
    source=("the study note \"05_Backprop\", section 4 \"Example (Simple Intuition)\": "
            "2 inputs, 2 hidden, 1 output; prediction 0.8, target 1, error 1 − 0.8 = 0.2; "
            "after many iterations the output is 0.99"),
    about=("The note gives no weights; this start is ours: x = (1, 1), hidden weights "
           "w_11 = 0.1, w_21 = 0.2, w_12 = 0.3, w_22 = 0.4 with biases 0, output weights "
           "w_11 = w_21 = 0.5 and output bias b_1 = ln 4 − 0.5 (σ(0.3) + σ(0.7)), so that "
           "z = ln 4 and y = σ(ln 4) = 0.8. Online training at η = 0.5, biases trained; the "
           "number of epochs to reach 0.99 is computed, not published."),
    weights=(((0.1, 0.3), (0.2, 0.4)), ((0.5,), (0.5,))),
    biases=((0.0, 0.0), (math.log(4.0) - 0.5 * (_NOTE_HIDDEN_Y[0] + _NOTE_HIDDEN_Y[1]),)),
    activations=("sigmoid", "sigmoid"),
    x=(1.0, 1.0),
    t=(1.0,),
    eta=0.5,
    train_biases=True,
    convention="note",
    published=(
        Published("prediction", "0.8", "layers[1].y[0]"),
        Published("after many iterations", "0.99", "layers[1].y[0]", steps=None,
                  note="after the epochs it takes to reach y ≥ 0.99 (computed, see above)"),
    ),
    goal=0.99,
)

EXAMPLES = {example.name: example for example in (MAZUR, HAN, NOTE)}


def worked_example(name):
    """The worked example called ``name``: one of ``nbbackprop.EXAMPLES``."""
    return EXAMPLES[check.choice(name, "example", tuple(EXAMPLES))]


__all__ = ["EXAMPLES", "Comparison", "Published", "WorkedExample", "worked_example"]
