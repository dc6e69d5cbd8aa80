"""One training step on one sample, with every intermediate named as in the text.

``Network.trace(x, t, eta)`` runs the compiled kernels that ``fit`` runs, on the same
parameter buffer, and keeps what they compute: ``formulas.backpropagate`` gives z, y and δ,
``formulas.accumulate_gradient`` gives ∂E/∂w and ∂E/∂b, and ``formulas.descend_layer``,
applied to a copy of the parameters, gives the new weights — bit for bit the weights
``fit(..., epochs=1, batch_size=1, shuffle=False)`` leaves after that sample. Nothing in
the network changes. No arithmetic of the step is redone here except Δw = ±η δ_j y_i for
display, and ``w + Δw`` equals the kernel's new weight exactly (the tests check it).

Sign conventions (``convention=``):

- ``"note"`` (the default; the study note "05_Backprop", Rumelhart–Hinton–Williams,
  Han–Kamber–Pei):
  δ_k = (t_k − y_k) f'(z_k), δ_j = f'(z_j) Σ_k δ_k w_jk, Δw_ij = +η δ_j y_i.
- ``"gradient"`` (the article on backpropagation, Mazur, and the package's kernels):
  δ = ∂E/∂z, so
  δ_k = (y_k − t_k) f'(z_k), the same hidden rule, Δw_ij = −η δ_j y_i.

The two δ differ in sign only; Δw, ∂E/∂w and the new weights are the same. Arrays count
from 0 where the texts count from 1: ``layers[l].z[j - 1]`` is z_j and
``layers[l].w[i - 1, j - 1]`` is w_ij; the printed trace uses the texts' 1-based indices.
"""

import dataclasses
import re

import numpy as np

from . import _validate as check
from . import formulas
from .activations import CODES, fprime
from .exceptions import InvalidValue
from .layout import neuron_buffer

CONVENTIONS = ("note", "gradient")
TRACE_PARAMETERS = {"eta": check.ETA, "convention": check.Choice(*CONVENTIONS),
                    "train_biases": check.Flag()}

# The per-layer arrays of a trace, in the order they are computed and printed.
LAYER_ARRAYS = ("w", "b", "z", "y", "fprime", "delta", "grad_w", "grad_b",
                "delta_w", "delta_b", "new_w", "new_b")

# Large layers are abbreviated in print to their first HEAD and last TAIL neurons (and
# sums to their first HEAD and last TAIL terms); full=True shows everything.
HEAD, TAIL = 3, 2

_F = {"sigmoid": "σ({})", "tanh": "tanh({})", "relu": "max(0, {})", "linear": "{}",
      "softmax": "softmax({})"}
_FPRIME = {"sigmoid": "y (1 − y)", "tanh": "1 − y²", "relu": "1 if z > 0 else 0",
           "linear": "1", "softmax": "∂y_k/∂z_k = y_k (1 − y_k)"}
_ERROR = {"squared": "E = ½ Σ_k (t_k − y_k)²",
          ("cross_entropy", "softmax"): "E = −Σ_k t_k ln y_k",
          ("cross_entropy", "sigmoid"): "E = −Σ_k [t_k ln y_k + (1 − t_k) ln(1 − y_k)]"}


@dataclasses.dataclass(frozen=True, eq=False)
class LayerTrace:
    """One layer of weights and the neurons above it, during one training step.

    ``name`` is ``"hidden 1"``, ``"hidden 2"``, … or ``"output"``. Arrays (read-only,
    0-based; the text's w_ij is ``w[i - 1, j - 1]``):

    - ``w``, ``b``: the weights and biases before the step
    - ``z``: z_j = Σ_i w_ij y_i + b_j;  ``y``: y_j = f(z_j);  ``fprime``: f'(z_j) (for a
      softmax layer the diagonal of its Jacobian, ∂y_k/∂z_k = y_k (1 − y_k))
    - ``delta``: δ_j in the trace's convention (see ``Trace.convention``)
    - ``grad_w``, ``grad_b``: ∂E/∂w_ij and ∂E/∂b_j (the same in both conventions)
    - ``delta_w``, ``delta_b``: the step Δw_ij, Δb_j (zero for biases that are not trained)
    - ``new_w``, ``new_b``: the weights and biases after the step
    """

    name: str
    activation: str
    w: np.ndarray
    b: np.ndarray
    z: np.ndarray
    y: np.ndarray
    fprime: np.ndarray
    delta: np.ndarray
    grad_w: np.ndarray
    grad_b: np.ndarray
    delta_w: np.ndarray
    delta_b: np.ndarray
    new_w: np.ndarray
    new_b: np.ndarray

    def __repr__(self):
        n_i, n_j = self.w.shape
        return f"LayerTrace({self.name!r}, {self.activation}, {n_i} → {n_j} neurons)"


@dataclasses.dataclass(frozen=True, eq=False)
class Trace:
    """Every intermediate of one online training step on one sample (``Network.trace``).

    ``x``, ``t``: the sample; ``eta``: η; ``convention``: ``"note"`` or ``"gradient"``;
    ``train_biases``: whether the step changes the biases; ``loss``: the network's loss;
    ``error``: E before the step (½ Σ_k (t_k − y_k)², or the cross-entropy);
    ``layers[l]``: a ``LayerTrace`` for ``weights[l]`` and the neurons it feeds
    (``layers[-1]`` is the output layer; the input layer is ``x``).

    ``print(trace)`` shows every quantity with its formula and the numbers substituted;
    ``to_text``, ``to_markdown`` and ``to_dict`` give the same as text, Markdown or plain
    Python lists and floats (JSON-ready); ``to_latex`` the formulas with their numbers as
    LaTeX, an ``align*`` block per layer.
    """

    sizes: tuple
    activations: tuple
    x: np.ndarray
    t: np.ndarray
    eta: float
    convention: str
    train_biases: bool
    error: float
    layers: tuple
    loss: str = "squared"

    def __repr__(self):
        return (f"Trace(sizes={self.sizes}, convention={self.convention!r}, eta={self.eta}, "
                f"error={self.error:.9g})")

    def __str__(self):
        return self.to_text()

    def to_text(self, full=False, digits=9, *, more_hint="to_text(full=True)"):
        """The trace as plain text: formulas with the numbers substituted, 1-based indices.

        Large layers show their first and last neurons unless ``full=True``; numbers have
        ``digits`` significant digits (the arrays always hold every value in full).
        ``more_hint`` names, in the text, what shows every neuron.
        """
        out = []
        for kind, text in self._items(full, digits, more_hint):
            if kind == "section":
                out.append(f"== {text} ==")
            elif kind in ("line", "gap"):
                out.append("  " + text)
            else:
                out.append(text)
        return "\n".join(out)

    def to_markdown(self, full=False, digits=9, *, more_hint="to_markdown(full=True)"):
        """The trace as Markdown: one heading per pass, one list item per formula."""
        out = []
        for kind, text in self._items(full, digits, more_hint):
            if kind == "title":
                out += [f"### {text}", ""]
            elif kind == "text":
                out.append(f"- {text}")
            elif kind == "section":
                out += ["", f"#### {text}"]
            elif kind == "group":
                out += ["", f"**{text}**", ""]
            elif kind == "line":
                out.append(f"- `{text}`")
            else:
                out.append("- ⋮")
        return "\n".join(out) + "\n"

    def to_dict(self):
        """The trace as plain Python lists, floats and strings (ready for ``json.dumps``)."""
        return {
            "sizes": list(self.sizes),
            "activations": list(self.activations),
            "x": self.x.tolist(),
            "t": self.t.tolist(),
            "eta": self.eta,
            "convention": self.convention,
            "train_biases": self.train_biases,
            "loss": self.loss,
            "error": self.error,
            "layers": [
                {"name": layer.name, "activation": layer.activation,
                 **{key: getattr(layer, key).tolist() for key in LAYER_ARRAYS}}
                for layer in self.layers
            ],
        }

    def to_latex(self, full=False, digits=9, document=False):
        r"""The trace's formulas with the numbers substituted, as LaTeX: a line of text
        (the network, η and the sign convention) then, for each layer, an ``align*`` block
        (package amsmath) with z_j = Σ_i w_ij y_i + b_j, y_j = f(z_j), the error E (output
        layer), δ_j, Δw_ij and the new w_ij (and Δb_j, the new b_j when biases are trained),
        in the trace's convention, indices from 1. Large layers show their first and last
        neurons (with ⋯ and ⋮) unless ``full=True``; numbers have ``digits`` significant
        digits; long lines are broken to fit a page. ``document=True`` wraps it in a
        complete article that ``pdflatex`` compiles (with ``\\allowdisplaybreaks``, which
        lets a long block continue on the next page).
        """
        full = check.flag(full, "full")
        document = check.flag(document, "document")
        s = _LatexNumbers(check.integer(digits, "digits", minimum=1, maximum=17))
        sign = "" if self.convention == "note" else "-"
        out = [r"\noindent One online training step on one sample: network "
               f"{'-'.join(map(str, self.sizes))} ({', '.join(self.activations)}), "
               rf"$\eta = {s.num(self.eta)}$, "
               f"biases {'trained' if self.train_biases else 'not trained'}; "
               + (r"$\delta$ as in the study note, $\Delta w_{ij} = +\eta\, \delta_j\, y_i$."
                  if self.convention == "note" else
                  r"$\delta = \partial E / \partial z$, $\Delta w_{ij} = -\eta\, \delta_j\, "
                  "y_i$.")
               + " Indices count from 1."]
        for l, layer in enumerate(self.layers):
            lines = [*self._latex_forward(s, full, l, layer)]
            if l == len(self.layers) - 1:
                lines += [*self._latex_error(s, full), *self._latex_output_deltas(s, full)]
            else:
                lines += [*self._latex_hidden_deltas(s, full, l)]
            lines += [*self._latex_update(s, full, l, layer, sign)]
            lines = [part for line in lines for part in _wrapped(line)]
            out += ["", rf"\noindent {layer.name} ({layer.activation}):", r"\begin{align*}",
                    " \\\\\n".join(f"  {line}" for line in lines), r"\end{align*}"]
        text = "\n".join(out) + "\n"
        if document:
            text = ("\\documentclass{article}\n\\usepackage{amsmath}\n"
                    "\\allowdisplaybreaks  % long blocks may continue on the next page\n"
                    "\\begin{document}\n" + text + "\\end{document}\n")
        return text

    def _latex_forward(self, s, full, l, layer):
        symbol, y_i = self._below(l)
        rows = _shown(len(y_i), full)
        if layer.activation == "softmax":
            top = float(np.max(layer.z))
            total = float(np.sum(np.exp(layer.z - top)))
        for j in _shown(len(layer.z), full):
            if j is None:
                yield r"&\vdots"
                continue
            n = j + 1
            terms = " + ".join(r"\cdots" if i is None else
                               f"w_{{{_sub(i + 1, n)}}} {symbol}_{{{i + 1}}}" for i in rows)
            values = " + ".join(r"\cdots" if i is None else
                                rf"{s.factor(layer.w[i, j])} \cdot {s.factor(y_i[i])}"
                                for i in rows)
            yield f"z_{{{n}}} &= {terms} + b_{{{n}}}"
            yield f"&= {values} + {s.factor(layer.b[j])} = {s.num(layer.z[j])}"
            z = s.num(layer.z[j])
            if layer.activation == "softmax":
                yield (rf"y_{{{n}}} &= \frac{{e^{{z_{{{n}}}}}}}{{\sum_m e^{{z_m}}}} = "
                       rf"\frac{{e^{{z_{{{n}}} - \max z}}}}{{\sum_m e^{{z_m - \max z}}}} = "
                       rf"\frac{{\exp({z} - {s.factor(top)})}}{{{s.num(total)}}} = "
                       f"{s.num(layer.y[j])}")
            elif layer.activation == "linear":
                yield f"y_{{{n}}} &= z_{{{n}}} = {s.num(layer.y[j])}"
            else:
                f = _LATEX_F[layer.activation]
                yield (f"y_{{{n}}} &= {f.format(f'z_{{{n}}}')} = {f.format(z)} = "
                       f"{s.num(layer.y[j])}")

    def _latex_error(self, s, full):
        y, t = self.layers[-1].y, self.t
        shown = _shown(len(y), full)
        if self.loss == "squared":
            yield r"E &= \tfrac{1}{2} \textstyle\sum_k (t_k - y_k)^2"
            terms = " + ".join(r"\cdots" if k is None else f"({s.num(t[k])} - {s.num(y[k])})^2"
                               for k in shown)
            yield rf"&= \tfrac{{1}}{{2}} \bigl[{terms}\bigr] = {s.num(self.error)}"
        elif self.activations[-1] == "softmax":
            yield r"E &= -\textstyle\sum_k t_k \ln y_k"
            terms = " + ".join(r"\cdots" if k is None else
                               rf"{s.factor(t[k])} \cdot \ln {s.factor(y[k])}" for k in shown)
            yield rf"&= -\bigl({terms}\bigr) = {s.num(self.error)}"
        else:
            yield r"E &= -\textstyle\sum_k \bigl[t_k \ln y_k + (1 - t_k) \ln(1 - y_k)\bigr]"
            terms = " + ".join(
                r"\cdots" if k is None else
                rf"[{s.factor(t[k])} \cdot \ln {s.factor(y[k])} + (1 - {s.num(t[k])}) "
                rf"\cdot \ln(1 - {s.num(y[k])})]" for k in shown)
            yield rf"&= -\bigl({terms}\bigr) = {s.num(self.error)}"

    def _latex_output_deltas(self, s, full):
        layer, t = self.layers[-1], self.t
        y, d = layer.y, layer.delta
        a, b = ("t", "y") if self.convention == "note" else ("y", "t")
        shown = _shown(len(y), full)
        softmax_squared = self.loss == "squared" and layer.activation == "softmax"
        if softmax_squared:  # the softmax Jacobian's sum, Σ_m (a_m − b_m) y_m
            r = (t - y) if self.convention == "note" else (y - t)
            total = s.num(float(r @ y))
            terms = " + ".join(r"\cdots" if m is None else rf"{s.factor(r[m])} \cdot "
                               f"{s.factor(y[m])}" for m in shown)
            yield rf"\textstyle\sum_m ({a}_m - {b}_m)\, y_m &= {terms} = {total}"
        for k in shown:
            if k is None:
                yield r"&\vdots"
                continue
            n = k + 1
            pair = (s.num(t[k]), s.num(y[k]))[:: 1 if a == "t" else -1]
            if self.loss == "cross_entropy":
                yield (rf"\delta_{{{n}}} &= {a}_{{{n}}} - {b}_{{{n}}} = {pair[0]} - {pair[1]}"
                       f" = {s.num(d[k])}")
            elif softmax_squared:
                yield (rf"\delta_{{{n}}} &= y_{{{n}}} \bigl[({a}_{{{n}}} - {b}_{{{n}}}) - "
                       rf"\textstyle\sum_m ({a}_m - {b}_m)\, y_m\bigr] = {s.factor(y[k])} "
                       rf"\cdot [({pair[0]} - {pair[1]}) - {s.factor(float(r @ y))}] = "
                       f"{s.num(d[k])}")
            else:
                yield (rf"\delta_{{{n}}} &= ({a}_{{{n}}} - {b}_{{{n}}})\, f'(z_{{{n}}}) = "
                       rf"({pair[0]} - {pair[1]}) \cdot {s.factor(layer.fprime[k])} = "
                       f"{s.num(d[k])}")

    def _latex_hidden_deltas(self, s, full, l):
        layer, above = self.layers[l], self.layers[l + 1]
        for j in _shown(len(layer.z), full):
            if j is None:
                yield r"&\vdots"
                continue
            n = j + 1
            terms = " + ".join(r"\cdots" if k is None else
                               rf"{s.factor(above.delta[k])} \cdot {s.factor(above.w[j, k])}"
                               for k in _shown(len(above.delta), full))
            yield (rf"\delta_{{{n}}} &= f'(z_{{{n}}}) \textstyle\sum_k \delta_k "
                   f"w_{{{_sub(n, 'k')}}}")
            yield (rf"&= {s.factor(layer.fprime[j])} \cdot \bigl({terms}\bigr) = "
                   f"{s.num(layer.delta[j])}")

    def _latex_update(self, s, full, l, layer, sign):
        symbol, y_i = self._below(l)
        eta = f"{sign}{s.num(self.eta)}"
        for j in _shown(len(layer.z), full):
            if j is None:
                yield r"&\vdots"
                continue
            n, delta = j + 1, s.factor(layer.delta[j])
            for i in _shown(len(y_i), full):
                if i is None:
                    yield r"&\vdots"
                    continue
                w = f"w_{{{_sub(i + 1, n)}}}"
                yield (rf"\Delta {w} &= {sign}\eta\, \delta_{{{n}}}\, {symbol}_{{{i + 1}}} = "
                       rf"{eta} \cdot {delta} \cdot {s.factor(y_i[i])} = "
                       f"{s.num(layer.delta_w[i, j])}")
                yield (rf"{w}^{{+}} &= {w} + \Delta {w} = {s.num(layer.w[i, j])} + "
                       f"{s.factor(layer.delta_w[i, j])} = {s.num(layer.new_w[i, j])}")
            if self.train_biases:
                yield (rf"\Delta b_{{{n}}} &= {sign}\eta\, \delta_{{{n}}} = {eta} \cdot "
                       f"{delta} = {s.num(layer.delta_b[j])}")
                yield (rf"b_{{{n}}}^{{+}} &= b_{{{n}}} + \Delta b_{{{n}}} = "
                       f"{s.num(layer.b[j])} + {s.factor(layer.delta_b[j])} = "
                       f"{s.num(layer.new_b[j])}")

    # --- printing ----------------------------------------------------------------------

    def _items(self, full, digits, more_hint):
        """(kind, text) pairs: kind is title, text, section, group, line or gap."""
        full = check.flag(full, "full")
        s = _Numbers(check.integer(digits, "digits", minimum=1, maximum=17))
        yield "title", "Trace of one online training step on one sample (the network is unchanged)"
        yield "text", (f"network {'-'.join(map(str, self.sizes))} ({', '.join(self.activations)})"
                       f", η = {s.num(self.eta)}, "
                       f"biases trained: {'yes' if self.train_biases else 'no'}")
        if self.loss != "squared" or self.activations[-1] == "softmax":
            yield "text", f"loss: {self._error_formula()}"
        if self.convention == "note":
            yield "text", ("δ as in the study note (convention=\"note\"): "
                           f"δ_k = {self._output_delta_formula()}, Δw_ij = +η δ_j y_i")
        else:
            yield "text", ("δ = ∂E/∂z (convention=\"gradient\"): "
                           f"δ_k = {self._output_delta_formula()}, Δw_ij = −η δ_j y_i")
        yield "text", "indices count from 1 as in the texts, arrays from 0: w_ij is w[i-1, j-1]"
        if not full and max(self.sizes) > HEAD + TAIL + 1:
            yield "text", (f"large layers show their first {HEAD} and last {TAIL} neurons; "
                           f"{more_hint} shows all")
        yield from self._forward(s, full)
        yield from self._error(s, full)
        yield from self._backward(s, full)
        yield from self._gradient(s, full)
        yield from self._update(s, full)

    def _error_formula(self):
        if self.loss == "squared":
            return _ERROR["squared"]
        return _ERROR[self.loss, self.activations[-1]]

    def _output_delta_formula(self):
        """δ_k of the output layer, in the trace's convention (note: the negated ∂E/∂z)."""
        a, b = ("t", "y") if self.convention == "note" else ("y", "t")
        if self.loss == "cross_entropy":
            return f"{a}_k − {b}_k"
        if self.activations[-1] == "softmax":
            return f"y_k [({a}_k − {b}_k) − Σ_m ({a}_m − {b}_m) y_m]"
        return f"({a}_k − {b}_k) f'(z_k)"

    def _below(self, l):
        """The symbol and values of the inputs y_i of layer l (x_i for the first layer)."""
        return ("x", self.x) if l == 0 else ("y", self.layers[l - 1].y)

    def _forward(self, s, full):
        yield "section", "forward pass"
        yield "group", "input"
        for i in _shown(len(self.x), full):
            yield ("gap", "⋮") if i is None else ("line", f"x_{i + 1} = {s.num(self.x[i])}")
        for l, layer in enumerate(self.layers):
            yield "group", f"{layer.name} ({layer.activation})"
            symbol, y_i = self._below(l)
            rows = _shown(len(y_i), full)
            f = _F[layer.activation]
            if layer.activation == "softmax":
                top = float(np.max(layer.z))
                total = float(np.sum(np.exp(layer.z - top)))
            for j in _shown(len(layer.z), full):
                if j is None:
                    yield "gap", "⋮"
                    continue
                terms = " + ".join(
                    "…" if i is None else f"w_{_sub(i + 1, j + 1)}·{symbol}_{i + 1}" for i in rows)
                values = " + ".join(
                    "…" if i is None else f"{s.factor(layer.w[i, j])}·{s.factor(y_i[i])}"
                    for i in rows)
                yield "line", (f"z_{j + 1} = {terms} + b_{j + 1} = {values} + "
                               f"{s.factor(layer.b[j])} = {s.num(layer.z[j])}")
                if layer.activation == "softmax":  # as activations.activate computes it
                    yield "line", (f"y_{j + 1} = exp(z_{j + 1}) / Σ_m exp(z_m) = exp(z_{j + 1} "
                                   f"− max z) / Σ_m exp(z_m − max z) = exp({s.num(layer.z[j])} "
                                   f"− {s.num(top)}) / {s.num(total)} = {s.num(layer.y[j])}")
                    continue
                # y_1 = σ(z_1) = σ(0.3775) = 0.593…, but y_1 = z_1 = 0.3775 for a linear neuron
                applied = "" if f == "{}" else f" = {f.format(s.num(layer.z[j]))}"
                yield "line", (f"y_{j + 1} = {f.format(f'z_{j + 1}')}{applied} = "
                               f"{s.num(layer.y[j])}")

    def _error(self, s, full):
        y, t = self.layers[-1].y, self.t
        shown = _shown(len(y), full)
        yield "section", "error"
        if self.loss == "squared":
            squares = " + ".join("…" if k is None else f"({s.num(t[k])} − {s.num(y[k])})²"
                                 for k in shown)
            yield "line", f"{_ERROR['squared']} = ½ ({squares}) = {s.num(self.error)}"
        elif self.activations[-1] == "softmax":
            terms = " + ".join("…" if k is None else f"{s.factor(t[k])}·ln {s.factor(y[k])}"
                               for k in shown)
            yield "line", f"{self._error_formula()} = −({terms}) = {s.num(self.error)}"
        else:
            terms = " + ".join(
                "…" if k is None else f"[{s.factor(t[k])}·ln {s.factor(y[k])} + "
                f"(1 − {s.num(t[k])})·ln(1 − {s.num(y[k])})]" for k in shown)
            yield "line", f"{self._error_formula()} = −({terms}) = {s.num(self.error)}"
        if self.loss == "cross_entropy":
            yield "line", ("computed from z (log-sum-exp, log-sigmoid), so that it stays finite "
                           "when outputs saturate")

    def _backward(self, s, full):
        note = self.convention == "note"
        yield "section", f"backward pass (δ as in convention {self.convention!r})"
        for l in range(len(self.layers) - 1, -1, -1):
            layer, output = self.layers[l], l == len(self.layers) - 1
            if output and (self.loss == "cross_entropy" or layer.activation == "softmax"):
                yield "group", (f"{layer.name} ({layer.activation}, {self.loss.replace('_', '-')}"
                                f": δ_k = {self._output_delta_formula()})")
                yield from self._output_deltas(s, full, layer)
                continue
            yield "group", f"{layer.name} ({layer.activation}: f'(z) = {_FPRIME[layer.activation]})"
            for j in _shown(len(layer.z), full):
                if j is None:
                    yield "gap", "⋮"
                    continue
                slope, delta = s.factor(layer.fprime[j]), s.num(layer.delta[j])
                if output:
                    t, y = s.num(self.t[j]), s.num(layer.y[j])
                    diff, nums = (("t", "y"), (t, y)) if note else (("y", "t"), (y, t))
                    yield "line", (f"δ_{j + 1} = ({diff[0]}_{j + 1} − {diff[1]}_{j + 1}) "
                                   f"f'(z_{j + 1}) = ({nums[0]} − {nums[1]})·{slope} = {delta}")
                else:
                    d, w = self.layers[l + 1].delta, self.layers[l + 1].w
                    terms = " + ".join("…" if k is None else f"{s.factor(d[k])}·{s.factor(w[j, k])}"
                                       for k in _shown(len(d), full))
                    yield "line", (f"δ_{j + 1} = f'(z_{j + 1}) Σ_k δ_k w_{_sub(j + 1, 'k')} = "
                                   f"{slope}·({terms}) = {delta}")

    def _output_deltas(self, s, full, layer):
        """The output deltas of cross-entropy, and of a softmax output with the squared error."""
        note = self.convention == "note"
        y, t, d = layer.y, self.t, layer.delta
        a, b = ("t", "y") if note else ("y", "t")
        if self.loss == "squared":  # the softmax Jacobian's sum, Σ_m (a_m − b_m) y_m
            r = (t - y) if note else (y - t)
            terms = " + ".join("…" if m is None else f"{s.factor(r[m])}·{s.factor(y[m])}"
                               for m in _shown(len(y), full))
            yield "line", (f"Σ_m ({a}_m − {b}_m) y_m = {terms} = {s.num(float(r @ y))}")
        for k in _shown(len(y), full):
            if k is None:
                yield "gap", "⋮"
                continue
            pair = (t[k], y[k]) if note else (y[k], t[k])
            if self.loss == "cross_entropy":
                yield "line", (f"δ_{k + 1} = {a}_{k + 1} − {b}_{k + 1} = {s.num(pair[0])} − "
                               f"{s.num(pair[1])} = {s.num(d[k])}")
            else:
                yield "line", (f"δ_{k + 1} = y_{k + 1} [({a}_{k + 1} − {b}_{k + 1}) − Σ_m "
                               f"({a}_m − {b}_m) y_m] = {s.factor(y[k])}·(({s.num(pair[0])} − "
                               f"{s.num(pair[1])}) − Σ) = {s.num(d[k])}")

    def _each_weight(self, s, full, weight_line, bias_line, biases_fixed=False):
        """For each layer its group, then for each neuron j the lines of its weights w_ij
        (``weight_line``) and of its bias (``bias_line``, None for no line), with gaps
        where large layers are abbreviated; ``biases_fixed``: say so after each layer."""
        for l, layer in enumerate(self.layers):
            yield "group", layer.name
            symbol, y_i = self._below(l)
            for j in _shown(len(layer.z), full):
                if j is None:
                    yield "gap", "⋮"
                    continue
                delta = s.factor(layer.delta[j])
                for i in _shown(len(y_i), full):
                    if i is None:
                        yield "gap", "⋮"
                        continue
                    yield "line", weight_line(layer, symbol, y_i, i, j, delta)
                line = bias_line(layer, j, delta)
                if line is not None:
                    yield "line", line
            if biases_fixed:
                yield "line", "biases not trained: every b_j stays as it was"

    def _gradient(self, s, full):
        minus = "−" if self.convention == "note" else ""  # the note's δ is −∂E/∂z
        yield "section", f"gradient: ∂E/∂w_ij = {minus}δ_j y_i, ∂E/∂b_j = {minus}δ_j"
        yield from self._each_weight(
            s, full,
            lambda layer, symbol, y_i, i, j, delta: (
                f"∂E/∂w_{_sub(i + 1, j + 1)} = {minus}δ_{j + 1} {symbol}_{i + 1} = "
                f"{minus}{delta}·{s.factor(y_i[i])} = {s.num(layer.grad_w[i, j])}"),
            lambda layer, j, delta: (
                f"∂E/∂b_{j + 1} = {minus}δ_{j + 1} = {minus}{delta} = "
                f"{s.num(layer.grad_b[j])}"))

    def _update(self, s, full):
        sign, minus = ("+", "") if self.convention == "note" else ("−", "−")
        eta = f"{minus}{s.num(self.eta)}"
        yield "section", (f"update (online): Δw_ij = {sign}η δ_j y_i, Δb_j = {sign}η δ_j, "
                          "new = old + Δ")
        yield from self._each_weight(
            s, full,
            lambda layer, symbol, y_i, i, j, delta: (
                f"Δw_{_sub(i + 1, j + 1)} = {minus}η δ_{j + 1} {symbol}_{i + 1} = "
                f"{eta}·{delta}·{s.factor(y_i[i])} = {s.num(layer.delta_w[i, j])}, "
                f"w_{_sub(i + 1, j + 1)}: {s.num(layer.w[i, j])} → "
                f"{s.num(layer.new_w[i, j])}"),
            lambda layer, j, delta: None if not self.train_biases else (
                f"Δb_{j + 1} = {minus}η δ_{j + 1} = {eta}·{delta} = "
                f"{s.num(layer.delta_b[j])}, "
                f"b_{j + 1}: {s.num(layer.b[j])} → {s.num(layer.new_b[j])}"),
            biases_fixed=not self.train_biases)


class _Numbers:
    """How numbers are printed: ``digits`` significant digits, no negative zero."""

    def __init__(self, digits):
        self.digits = digits

    def num(self, value):
        return f"{float(value) + 0.0:.{self.digits}g}"

    def factor(self, value):
        """A number inside a product or sum: negative ones in parentheses."""
        text = self.num(value)
        return f"({text})" if text.startswith("-") else text


class _LatexNumbers(_Numbers):
    """Numbers as LaTeX: 1.5e-05 becomes 1.5 \\times 10^{-5}."""

    def num(self, value):
        mantissa, _, exponent = super().num(value).partition("e")
        return mantissa + (rf" \times 10^{{{int(exponent)}}}" if exponent else "")


# A line of to_latex's align* blocks shows at most about this many characters (commands,
# braces and sub/superscript marks not counted), so that it fits the width of a page of
# LaTeX's article class; longer ones are broken before a top-level " = " or " + ".
LATEX_WIDTH = 48
_SEPARATORS = re.compile(r" = | \+ ")


def _wrapped(line):
    """An align* line as one or more lines of at most about LATEX_WIDTH visible characters,
    continued with "&= …" or "&\\quad + …" (never inside braces, e.g. of a fraction)."""
    pieces, start = [], 0
    for m in _SEPARATORS.finditer(line):
        if line.count("{", 0, m.start()) == line.count("}", 0, m.start()):  # not in braces
            pieces.append(line[start:m.start()])
            start = m.start()
    pieces.append(line[start:])
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if _visible(lines[-1] + piece) > LATEX_WIDTH and _visible(lines[-1]) > 0:
            lines.append(("&" if piece.startswith(" = ") else r"&\quad") + piece)
        else:
            lines[-1] += piece
    return [line.replace("& = ", "&= ", 1) for line in lines]


def _visible(text):
    """Roughly how many characters a line of LaTeX shows."""
    return len(re.sub(r"\\[a-zA-Z]+|\\.|[{}_^&\s]", "", text))  # math mode drops spaces


_LATEX_F = {"sigmoid": r"\sigma({})", "tanh": r"\tanh({})", "relu": r"\max(0, {})"}


def _shown(n, full):
    """Indices 0..n-1 to print: all, or the first HEAD and the last TAIL with None between."""
    if full or n <= HEAD + TAIL + 1:
        return list(range(n))
    return [*range(HEAD), None, *range(n - TAIL, n)]


def _sub(*indices):
    """Subscript indices as the texts write them: w_12, or w_12,3 once an index has two digits."""
    parts = [str(i) for i in indices]
    return "".join(parts) if all(len(p) == 1 for p in parts) else ",".join(parts)


def trace(net, x, t, eta=0.5, convention="note", train_biases=True):
    """One online training step of ``net`` on the sample (x, t), every intermediate kept.

    See ``Network.trace``; this module's docstring explains the two conventions.
    """
    x = _one_sample(x, net.sizes[0], "x", "input")
    t = _one_sample(t, net.sizes[-1], "t", "output")
    check.targets(t[None, :], 1, net.sizes[-1], False, "t", loss=net.loss,
                  output=net.activations[-1])
    eta, convention, train_biases = check.arguments(
        TRACE_PARAMETERS, eta=eta, convention=convention, train_biases=train_biases)
    net.check_parameters()

    # The step exactly as training.train_epochs takes it for one sample with batch_size=1.
    theta, layout = net.parameters, net.layout
    z, y, delta = (neuron_buffer(layout) for _ in range(3))
    formulas.backpropagate(theta, layout, x, t, z, y, delta)
    grad, after = np.zeros_like(theta), theta.copy()
    ws, bs = net.per_layer(theta)
    grad_ws, grad_bs = net.per_layer(grad)
    new_ws, new_bs = net.per_layer(after)
    sizes, n_off = layout.sizes, layout.n_off
    L = len(sizes) - 1

    def neurons(buffer, l):
        return buffer[n_off[l] : n_off[l] + sizes[l]]

    for l in range(L):
        formulas.accumulate_gradient(neurons(delta, l + 1), neurons(y, l), grad_ws[l], grad_bs[l])
        formulas.descend_layer(new_ws[l], new_bs[l], neurons(delta, l + 1), neurons(y, l), eta,
                               train_biases, 0.0)
    error = float(formulas.loss_error(neurons(z, L), neurons(y, L), t, layout.acts[L - 1],
                                      layout.loss))
    check.finite_result(np.concatenate((z, y, delta, grad, after, [error])),
                        "a number of the trace", x=x, t=t, net=net)

    layers = []
    for l in range(L):
        name = net.activations[l]
        z_j, y_j, y_i = neurons(z, l + 1), neurons(y, l + 1), neurons(y, l)
        slope = (y_j * (1.0 - y_j) if name == "softmax" else
                 np.array([fprime(CODES[name], z_j[j], y_j[j]) for j in range(len(z_j))]))
        d = neurons(delta, l + 1)  # the kernels' δ = ∂E/∂z
        if convention == "note":  # δ = (t − y) f'(z) = −∂E/∂z, Δw_ij = +η δ_j y_i
            d = -d
            delta_w, delta_b = eta * np.outer(y_i, d), eta * d
        else:  # δ = ∂E/∂z, Δw_ij = −η δ_j y_i
            delta_w, delta_b = -(eta * np.outer(y_i, d)), -(eta * d)
        if not train_biases:
            delta_b = np.zeros_like(delta_b)
        arrays = dict(w=ws[l], b=bs[l], z=z_j, y=y_j, fprime=slope, delta=d,
                      grad_w=grad_ws[l], grad_b=grad_bs[l], delta_w=delta_w, delta_b=delta_b,
                      new_w=new_ws[l], new_b=new_bs[l])
        layers.append(LayerTrace(
            name="output" if l == L - 1 else f"hidden {l + 1}", activation=name,
            **{key: _frozen(value) for key, value in arrays.items()},
        ))
    return Trace(sizes=net.sizes, activations=net.activations, x=_frozen(x), t=_frozen(t),
                 eta=eta, convention=convention, train_biases=train_biases, error=error,
                 layers=tuple(layers), loss=net.loss)


def _one_sample(value, n, name, what):
    """One sample's inputs or targets as a (n,) float64 array; (1, n) is accepted too."""
    array = check.float_array(value, name)
    if array.shape not in ((n,), (1, n)):
        raise InvalidValue(f"{name} must be one sample of shape ({n},), one value per {what}, "
                           f"got shape {array.shape}")
    return check.finite(array.reshape(n).copy(), name)  # a writable copy for the kernels


def _frozen(array):
    """A read-only copy: a trace is a record of one step, independent of the network."""
    array = np.array(array, dtype=np.float64)
    array.setflags(write=False)
    return array


__all__ = ["CONVENTIONS", "LayerTrace", "Trace", "trace"]
