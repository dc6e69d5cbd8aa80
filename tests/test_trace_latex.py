"""Trace.to_latex: every number of the trace is in the LaTeX, next to its symbol, read back
by parsing the LaTeX; the LaTeX is balanced; and pdflatex compiles it when installed."""

import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nbbackprop as nb

NUMBER = r"-?\d+(?:\.\d*)?(?: \\times 10\^\{-?\d+\})?"


def number(text):
    """A number as to_latex writes it: 0.25, -1.5 \\times 10^{-7}."""
    match = re.fullmatch(NUMBER, text.strip())
    assert match, f"not a number: {text!r}"
    mantissa, _, exponent = text.strip().partition(r" \times 10^{")
    return float(f"{mantissa}e{exponent.rstrip('}') or 0}")


def numbers(text):
    """Every number of a substituted expression, in order (subscripts left out)."""
    return [number(n) for n in re.findall(NUMBER, re.sub(r"_\{[^}]*\}", "", text))]


def blocks(latex):
    """[(heading, {left-hand side: right-hand side})] of each align* block; a line that
    starts with '&=' or '&\\quad' continues the line before it."""
    found = []
    for heading, body in re.findall(r"\\noindent ([^\n]*):\n\\begin\{align\*\}\n(.*?)\n"
                                    r"\\end\{align\*\}", latex, flags=re.S):
        rows = {}
        last = None
        for line in body.split(" \\\\\n"):
            line = line.strip()
            if line.startswith(("&=", "&\\quad")):  # a long line, continued
                rows[last] += " " + line[1:]
            elif line != r"&\vdots":
                last, _, rhs = line.partition(" &")
                assert last not in rows, f"{last} twice"
                rows[last] = rhs
        found.append((heading, rows))
    return found


def balanced(latex):
    """Every \\begin{x} closed by its \\end{x}, in order, and every brace by its partner."""
    stack = []
    for kind, name in re.findall(r"\\(begin|end)\{([^}]*)\}", latex):
        if kind == "begin":
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    depth = 0
    for char in re.sub(r"\\[{}]", "", latex):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return not stack and depth == 0


@st.composite
def traces(draw):
    output, loss = draw(st.sampled_from([("sigmoid", "squared"), ("linear", "squared"),
                                         ("softmax", "squared"), ("softmax", "cross_entropy"),
                                         ("sigmoid", "cross_entropy")]))
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    net = nb.Network(sizes, draw(st.sampled_from(["sigmoid", "tanh", "relu", "linear"])),
                     output_activation=output, loss=loss, seed=draw(st.integers(0, 2**16)))
    for b in net.biases:  # biases start at 0: give them values, so b + Δb ≠ Δb
        b[:] = draw(st.lists(st.floats(-1, 1), min_size=len(b), max_size=len(b)))
    x = draw(st.lists(st.floats(-3, 3), min_size=sizes[0], max_size=sizes[0]))
    if output == "softmax":
        t = nb.one_hot([draw(st.integers(0, sizes[-1] - 1))], sizes[-1])[0]
    else:
        t = draw(st.lists(st.floats(0, 1), min_size=sizes[-1], max_size=sizes[-1]))
    return net.trace(x, t, eta=draw(st.sampled_from([0.5, 0.1, 2.0])),
                     convention=draw(st.sampled_from(nb.CONVENTIONS)),
                     train_biases=draw(st.booleans()))


@settings(max_examples=60)
@given(tr=traces(), digits=st.integers(1, 17))
def test_every_number_of_the_trace_is_in_the_latex_next_to_its_symbol(tr, digits):
    latex = tr.to_latex(full=True, digits=digits)
    assert balanced(latex)
    shown = lambda x: float(f"{x:.{digits}g}")  # noqa: E731
    parsed = blocks(latex)
    assert [heading for heading, _ in parsed] == [f"{layer.name} ({layer.activation})"
                                                  for layer in tr.layers]
    sign = 1.0 if tr.convention == "note" else -1.0
    for l, (_, rows) in enumerate(parsed):
        layer = tr.layers[l]
        below = tr.x if l == 0 else tr.layers[l - 1].y
        symbol = "x" if l == 0 else "y"
        expected = set()
        value = lambda lhs, rows=rows: number(rows[lhs].split(" = ")[-1])  # noqa: E731
        for j in range(len(layer.z)):
            n = j + 1
            expected |= {f"z_{{{n}}}", f"y_{{{n}}}", f"\\delta_{{{n}}}"}
            assert value(f"z_{{{n}}}") == shown(layer.z[j])
            substituted = [v for i in range(len(below)) for v in (layer.w[i, j], below[i])]
            assert numbers(rows[f"z_{{{n}}}"].split(" = ")[-2]) == [
                shown(v) for v in [*substituted, layer.b[j]]]
            assert value(f"y_{{{n}}}") == shown(layer.y[j])
            assert value(f"\\delta_{{{n}}}") == shown(layer.delta[j])
            if l == len(tr.layers) - 1:  # δ_k from t_k, y_k (and f'(z_k) or the softmax sum)
                pair = [tr.t[j], layer.y[j]][::int(sign)]
                extra = ([] if tr.loss == "cross_entropy" else
                         [layer.fprime[j]] if layer.activation != "softmax" else None)
                if extra is None:  # y_k [(t_k − y_k) − Σ_m (t_m − y_m) y_m]
                    pair, extra = [layer.y[j], *pair], [sign * (tr.t - layer.y) @ layer.y]
                terms = [*pair, *extra]
            else:  # δ_j = f'(z_j) Σ_k δ_k w_jk
                above = tr.layers[l + 1]
                terms = [layer.fprime[j], *(v for k in range(len(above.delta))
                                            for v in (above.delta[k], above.w[j, k]))]
            assert numbers(rows[f"\\delta_{{{n}}}"].split(" = ")[-2]) == [shown(v) for v in terms]
            for i in range(len(below)):
                w = f"w_{{{i + 1}{n}}}"
                expected |= {f"\\Delta {w}", f"{w}^{{+}}"}
                assert value(f"\\Delta {w}") == shown(layer.delta_w[i, j])
                assert numbers(rows[f"\\Delta {w}"].split(" = ")[-2]) == [
                    shown(sign * tr.eta), shown(layer.delta[j]), shown(below[i])]
                assert rows[f"\\Delta {w}"].startswith(
                    f"= {'' if sign > 0 else '-'}\\eta\\, \\delta_{{{n}}}\\, {symbol}_{{{i + 1}}}")
                assert value(f"{w}^{{+}}") == shown(layer.new_w[i, j])
            if tr.train_biases:
                expected |= {f"\\Delta b_{{{n}}}", f"b_{{{n}}}^{{+}}"}
                assert value(f"\\Delta b_{{{n}}}") == shown(layer.delta_b[j])
                assert value(f"b_{{{n}}}^{{+}}") == shown(layer.new_b[j])
        if l == len(tr.layers) - 1:
            expected.add("E")
            assert value("E") == shown(tr.error)
            if tr.loss == "squared" and layer.activation == "softmax":
                total = "\\textstyle\\sum_m ({}_m - {}_m)\\, y_m".format(
                    *(("t", "y") if sign > 0 else ("y", "t")))
                expected.add(total)
                assert value(total) == shown(sign * float((tr.t - layer.y) @ layer.y))
        assert set(rows) == expected


def mazur():
    net = nb.Network.from_weights(
        [[[0.15, 0.25], [0.20, 0.30]], [[0.40, 0.50], [0.45, 0.55]]],
        [[0.35, 0.35], [0.60, 0.60]], activations=["sigmoid", "sigmoid"])
    return net.trace([0.05, 0.10], [0.01, 0.99], eta=0.5, train_biases=False)


def test_mazurs_published_numbers_are_in_the_latex():
    latex = mazur().to_latex()
    # the post's numbers, derived there by hand: net_h1, out_o1, E_total, w5+
    assert r"&= 0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35 = 0.3775 \\" in latex
    assert r"y_{1} &= \sigma(z_{1}) = \sigma(1.10590597) = 0.75136507 \\" in latex
    assert "= 0.298371109 \\\\" in latex
    assert r"w_{11}^{+} &= w_{11} + \Delta w_{11} = 0.4 + (-0.0410835203) = 0.35891648" in latex
    assert "biases not trained" in latex and r"\Delta b" not in latex


def test_large_layers_are_abbreviated_unless_full():
    net = nb.Network([8, 7, 2], seed=0)
    tr = net.trace(np.linspace(-1, 1, 8), [0, 1])
    short, full = tr.to_latex(), tr.to_latex(full=True)
    assert balanced(short) and balanced(full)
    assert r"\vdots" in short and r"\cdots" in short
    assert r"\vdots" not in full and r"\cdots" not in full
    assert "w_{87}" in full and "w_{87}" in short and "w_{47}" not in short
    assert len(short) < len(full)


def test_two_digit_indices_are_separated_by_a_comma():
    net = nb.Network([12, 2], seed=0)
    latex = net.trace(np.zeros(12), [0, 1]).to_latex(full=True)
    assert r"\Delta w_{12,2} &=" in latex and r"\Delta w_{12} &=" in latex


@pytest.mark.parametrize(("options", "words"), [
    ({"digits": 0}, "digits must be an integer ≥ 1 and ≤ 17, got 0"),
    ({"full": "yes"}, "full must be True or False"),
    ({"document": 1}, "document must be True or False"),
])
def test_to_latex_refuses_bad_options(options, words):
    with pytest.raises(nb.InputError) as err:
        mazur().to_latex(**options)
    assert words in str(err.value)


def test_the_document_is_a_complete_article():
    doc = mazur().to_latex(document=True)
    assert doc.startswith("\\documentclass{article}\n\\usepackage{amsmath}\n")
    assert "\n\\begin{document}\n" in doc
    assert doc.endswith("\\end{document}\n") and balanced(doc)
    assert mazur().to_latex() in doc


LATEX_CASES = {  # every kind of line to_latex writes, in both conventions
    "softmax, squared, note": ([3, 4, 3], "tanh", "softmax", "squared", "note", False),
    "softmax, cross-entropy, gradient": ([3, 4, 3], "relu", "softmax", "cross_entropy",
                                         "gradient", False),
    "sigmoid, cross-entropy": ([3, 2, 1], "linear", "sigmoid", "cross_entropy", "note", False),
    "abbreviated layers": ([8, 7, 2], "sigmoid", "sigmoid", "squared", "gradient", False),
    "every neuron": ([8, 7, 2], "sigmoid", "linear", "squared", "note", True),
    "ten units, many pages": ([10, 10, 10], "tanh", "sigmoid", "cross_entropy", "gradient",
                              True),
}


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("case", LATEX_CASES)
def test_pdflatex_compiles_the_document(tmp_path, case):
    sizes, activation, output, loss, convention, full = LATEX_CASES[case]
    net = nb.Network(sizes, activation, output_activation=output, loss=loss, seed=0)
    x = np.linspace(-1, 1, sizes[0])
    x[0] = 1e-7  # numbers with exponents: x_1 and its Δw_1j
    t = nb.one_hot([sizes[-1] - 1], sizes[-1])[0] if sizes[-1] > 1 else [1.0]
    doc = net.trace(x, t, convention=convention).to_latex(full=full, document=True)
    assert r"\times 10^{-7}" in doc and (r"\vdots" in doc) == (not full and max(sizes) > 6)
    (tmp_path / "trace.tex").write_text(doc, encoding="utf-8")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                             "trace.tex"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    assert (tmp_path / "trace.pdf").stat().st_size > 0
    log = (tmp_path / "trace.log").read_text(encoding="utf-8", errors="replace")
    assert "Overfull \\hbox" not in log and "Overfull \\vbox" not in log  # fits the pages
