"""The PyTorch adapter (skipped without torch): a Network from an nn.Sequential, and a
module's autograd gradients checked in the module's own parameter names."""

import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import nbbackprop as nb  # noqa: E402
from clear_errors import assert_clear_error  # noqa: E402
from nbbackprop.interop import torch as nbtorch  # noqa: E402

ACTIVATIONS = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
               "linear": torch.nn.Identity}


class CorruptedLinearFunction(torch.autograd.Function):
    """y = x Wᵀ + b with a hand-written backward that gets one weight entry wrong."""

    where, by = (0, 0), 0.0

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved_tensors
        grad_weight = grad_y.T @ x
        grad_weight[CorruptedLinearFunction.where] += CorruptedLinearFunction.by
        return grad_y @ weight, grad_weight, grad_y.sum(dim=0)


class CustomLinear(torch.nn.Linear):
    def forward(self, x):
        return CorruptedLinearFunction.apply(x, self.weight, self.bias)


@st.composite
def modules_and_data(draw, dtype=torch.float64):
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    names = draw(st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=len(sizes) - 1,
                          max_size=len(sizes) - 1))
    torch.manual_seed(draw(st.integers(0, 2**16)))
    layers = []
    for l, name in enumerate(names):
        layers += [torch.nn.Linear(sizes[l], sizes[l + 1]), ACTIVATIONS[name]()]
    n = draw(st.integers(1, 5))
    X, T = torch.randn(n, sizes[0], dtype=dtype), torch.rand(n, sizes[-1], dtype=dtype)
    return torch.nn.Sequential(*layers).to(dtype), X, T


@given(modules_and_data())
def test_the_network_computes_what_the_module_computes(case):
    module, X, _ = case
    net = nbtorch.network_from_module(module)
    np.testing.assert_allclose(net.forward(X.numpy()), module(X).detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    for w, linear in zip(net.weights, linears):
        np.testing.assert_array_equal(w, linear.weight.detach().numpy().T)


@given(modules_and_data())
def test_autograd_gradients_pass(case):
    module, X, T = case
    report = nbtorch.check_module(module, X, T)
    assert report.ok, str(report)
    assert report.entries[0].name == "0.weight[0, 0]"


@given(modules_and_data(dtype=torch.float32))
def test_float32_modules_are_judged_in_float32(case):
    module, X, T = case
    report = nbtorch.check_module(module, X, T)
    assert report.ok, str(report)
    assert report.precision == "float32"


@given(st.integers(2, 5), st.integers(2, 5), st.data())
def test_a_wrong_custom_autograd_function_is_caught_at_its_name_and_index(n_in, n_hidden, data):
    j = data.draw(st.integers(0, n_hidden - 1), label="j")
    i = data.draw(st.integers(0, n_in - 1), label="i")
    CorruptedLinearFunction.where = (j, i)
    CorruptedLinearFunction.by = data.draw(st.sampled_from([0.5, -1.0, 1e-3]), label="by")
    torch.manual_seed(data.draw(st.integers(0, 2**16), label="seed"))
    module = torch.nn.Sequential(torch.nn.Linear(n_in, n_in), torch.nn.Tanh(),
                                 CustomLinear(n_in, n_hidden), torch.nn.Sigmoid(),
                                 torch.nn.Linear(n_hidden, 2)).double()
    X, T = torch.randn(4, n_in, dtype=torch.float64), torch.rand(4, 2, dtype=torch.float64)
    report = nbtorch.check_module(module, X, T)
    # The mean over 4 samples divides the corruption by 4: autograd sums, C averages.
    assert [e.name for e in report.failures] == [f"2.weight[{j}, {i}]"]
    assert report.worst.name == f"2.weight[{j}, {i}]"
    assert (report.worst.layer, report.worst.i, report.worst.j) == (1, i, j)
    with pytest.raises(nb.GradcheckError, match=rf"2\.weight\[{j}, {i}\]"):
        nbtorch.check_module(module, X, T, raise_on_failure=True)


def test_mse_loss_is_rescaled():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    X, T = torch.randn(6, 3), torch.randn(6, 2)
    for reduction in ("mean", "sum"):
        assert nbtorch.check_module(module, X, T, loss=torch.nn.MSELoss(reduction=reduction)).ok


def test_one_output_accepts_1d_targets_and_fast_mode():
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    X, T = nb.xor()
    report = nbtorch.check_module(module, X, T.ravel(), mode="fast", seed=1)
    assert report.ok and report.mode == "fast"


class Doubled(torch.nn.Linear):
    def forward(self, x):
        return 2 * super().forward(x)


@pytest.mark.parametrize(("module", "loss", "exception", "words"), [
    (torch.nn.Linear(2, 1), None, TypeError, ["nn.Sequential", "Linear"]),
    (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(), torch.nn.Linear(3, 1)), None,
     ValueError, ["module[1]", "Dropout", "nn.Tanh"]),
    (torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Linear(2, 1)), None, ValueError,
     ["module[0]", "follow an nn.Linear"]),
    (torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Tanh(), torch.nn.Tanh()), None,
     ValueError, ["module[2]", "follow an nn.Linear"]),
    (torch.nn.Sequential(torch.nn.Linear(2, 1, bias=False)), None, ValueError, ["without bias"]),
    (torch.nn.Sequential(Doubled(2, 1)), None, ValueError, ["differs", "forward"]),
    (torch.nn.Sequential(torch.nn.Linear(2, 1)), torch.nn.L1Loss(), TypeError,
     ["loss", "MSELoss", "L1Loss"]),
    (torch.nn.Sequential(torch.nn.Linear(2, 1)).to(torch.bfloat16), None, TypeError,
     ["float16, float32 or float64", "bfloat16"]),
])
def test_bad_modules(module, loss, exception, words):
    X, T = nb.xor()
    assert_clear_error(lambda: nbtorch.check_module(module, X, T, loss=loss), exception, words)


def test_bad_data():
    module = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with pytest.raises(ValueError, match=r"T must have shape \(4, 1\)"):
        nbtorch.check_module(module, nb.xor()[0], np.ones((4, 2)))
    with pytest.raises(TypeError, match="X must hold real numbers"):
        nbtorch.check_module(module, np.ones((4, 2), dtype=complex), np.ones(4))


# --- classification: softmax and log-softmax ends, the classification losses ---------------

# (the module's end, the loss, its reduction): every combination check_module supports
# besides the activations with loss=None or nn.MSELoss above.
COMBINATIONS = [
    ("linear", "CrossEntropyLoss", "mean"), ("linear", "CrossEntropyLoss", "sum"),
    ("log_softmax", "NLLLoss", "mean"), ("log_softmax", "NLLLoss", "sum"),
    ("sigmoid", "BCELoss", "mean"), ("sigmoid", "BCELoss", "sum"),
    ("linear", "BCEWithLogitsLoss", "mean"), ("linear", "BCEWithLogitsLoss", "sum"),
    ("softmax", "MSELoss", "mean"), ("softmax", "MSELoss", "sum"),
    ("softmax", None, None),
]
SOFTMAX_BASED = ("CrossEntropyLoss", "NLLLoss", "MSELoss", None)  # a softmax network
DTYPES = [torch.float64, torch.float32]
#: What the network makes of the module's output: the loss's link.
LINKS = {("linear", "CrossEntropyLoss"): lambda Y: torch.softmax(Y, dim=1),
         ("linear", "BCEWithLogitsLoss"): torch.sigmoid,
         ("log_softmax", "NLLLoss"): torch.exp}


def end_layer(end, draw, cls=None):
    """The module's last layer after its last nn.Linear (None: that Linear ends it)."""
    if end == "linear":
        return torch.nn.Identity() if draw(st.booleans(), label="identity end") else None
    if end in ("softmax", "log_softmax"):
        cls = cls or (torch.nn.Softmax if end == "softmax" else torch.nn.LogSoftmax)
        return cls(dim=draw(st.sampled_from([-1, 1]), label="dim"))
    return (cls or torch.nn.Sigmoid)()


def draw_targets(draw, loss_name, n, n_out, seed):
    """Targets a loss takes, in each form check_module accepts for it."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_out, size=n)
    if loss_name in ("BCELoss", "BCEWithLogitsLoss"):
        forms = ["values"] + (["labels"] if n_out > 1 else [])
    else:
        forms = ["labels", "label tensor", "one-hot"]
        if loss_name != "NLLLoss":  # nn.NLLLoss takes class indices only
            forms.append("probabilities")
    form = draw(st.sampled_from(forms), label="targets")
    if form == "values":
        return rng.uniform(0, 1, size=(n, n_out))
    if form == "labels":
        return labels
    if form == "label tensor":
        return torch.from_numpy(labels)
    if form == "one-hot":
        return nb.one_hot(labels, n_out)
    # Multiples of 1/16: rows that sum to 1 exactly, in float32 too.
    return rng.multinomial(16, [1 / n_out] * n_out, size=n) / 16


def draw_case(data, end, loss_name, reduction, dtype, *, last=torch.nn.Linear, end_cls=None,
              min_n=1):
    """A random classifier ending as asked, its data and targets, and the loss."""
    draw = data.draw
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3), label="sizes")
    n_out = draw(st.integers(2 if loss_name in SOFTMAX_BASED else 1, 4), label="n_out")
    names = draw(st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=len(sizes) - 1,
                          max_size=len(sizes) - 1), label="activations")
    seed = draw(st.integers(0, 2**16), label="seed")
    torch.manual_seed(seed)
    layers = []
    for l, name in enumerate(names):
        layers += [torch.nn.Linear(sizes[l], sizes[l + 1]), ACTIVATIONS[name]()]
    layers.append(last(sizes[-1], n_out))
    final = end_layer(end, draw, end_cls)
    if final is not None:
        layers.append(final)
    n = draw(st.integers(min_n, 6), label="n")
    X = torch.randn(n, sizes[0], dtype=dtype)
    T = draw_targets(draw, loss_name, n, n_out, seed)
    loss = None if loss_name is None else getattr(torch.nn, loss_name)(reduction=reduction)
    return torch.nn.Sequential(*layers).to(dtype), X, T, loss


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(("end", "loss_name", "reduction"), COMBINATIONS, ids=str)
@given(data=st.data())
def test_classifiers_pass(end, loss_name, reduction, dtype, data):
    module, X, T, loss = draw_case(data, end, loss_name, reduction, dtype)
    report = nbtorch.check_module(module, X, T, loss=loss)
    assert report.ok, str(report)
    assert report.precision == str(dtype).removeprefix("torch.")
    assert report.entries[0].name == "0.weight[0, 0]"
    last = max(i for i, layer in enumerate(module) if isinstance(layer, torch.nn.Linear))
    assert report.entries[-1].name == f"{last}.bias[{module[last].out_features - 1}]"


@pytest.mark.parametrize(("end", "loss_name", "reduction"), COMBINATIONS, ids=str)
@given(data=st.data())
def test_the_network_is_the_module_through_the_loss_s_link(end, loss_name, reduction, data):
    module, X, _, loss = draw_case(data, end, loss_name, reduction, torch.float64)
    net = nbtorch.network_from_module(module, loss=loss)
    output = "sigmoid" if loss_name in ("BCELoss", "BCEWithLogitsLoss") else "softmax"
    assert net.activations[-1] == output
    assert net.loss == ("squared" if loss_name in ("MSELoss", None) else "cross_entropy")
    link = LINKS.get((end, loss_name), lambda Y: Y)
    np.testing.assert_allclose(net.forward(X.numpy()), link(module(X)).detach().numpy(),
                               rtol=1e-12, atol=1e-15)


def test_a_log_softmax_end_is_a_softmax_cross_entropy_network():
    torch.manual_seed(1)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3),
                                 torch.nn.LogSoftmax(dim=-1)).double()
    net = nbtorch.network_from_module(module)
    assert (net.activations, net.loss) == (("tanh", "softmax"), "cross_entropy")
    X = torch.randn(5, 3, dtype=torch.float64)
    np.testing.assert_allclose(net.forward(X.numpy()), module(X).exp().detach().numpy(),
                               rtol=1e-12)
    softmax_end = torch.nn.Sequential(*module[:3], torch.nn.Softmax(dim=1))
    net = nbtorch.network_from_module(softmax_end)
    assert (net.activations, net.loss) == (("tanh", "softmax"), "squared")


# Hand-written backward passes with one bug each, in layers that count as their stock base
# class; ``stock()`` gives that stock layer (sharing the parameters), for the correct twin.

class SoftmaxDiagonalOnlyFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        y = torch.softmax(z, dim=-1)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * y * (1 - y)  # the Jacobian's −y_k y_m off the diagonal is missing


class SoftmaxDiagonalOnly(torch.nn.Softmax):
    def forward(self, z):
        return SoftmaxDiagonalOnlyFunction.apply(z)

    def stock(self):
        return torch.nn.Softmax(dim=self.dim)


class LogSoftmaxNoJacobianFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        return torch.log_softmax(z, dim=-1)

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y  # ∂ ln y_k/∂z_m = [k = m] − y_m: the − y_m Σ_k grad_k is missing


class LogSoftmaxNoJacobian(torch.nn.LogSoftmax):
    def forward(self, z):
        return LogSoftmaxNoJacobianFunction.apply(z)

    def stock(self):
        return torch.nn.LogSoftmax(dim=self.dim)


class SigmoidMissingFactorFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z):
        y = torch.sigmoid(z)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * y  # σ' = y(1 − y): the (1 − y) is missing


class SigmoidMissingFactor(torch.nn.Sigmoid):
    def forward(self, z):
        return SigmoidMissingFactorFunction.apply(z)

    def stock(self):
        return torch.nn.Sigmoid()


class BatchScaledGradient(torch.autograd.Function):
    """Identity on the logits; the gradient comes back n times too large (a loss gradient
    written without its 1/n)."""

    @staticmethod
    def forward(ctx, z):
        return z.clone()

    @staticmethod
    def backward(ctx, grad_z):
        return grad_z * grad_z.shape[0]


class OneColumnDoubled(torch.autograd.Function):
    """Identity on the logits; the gradient of column k comes back doubled."""

    @staticmethod
    def forward(ctx, z, k):
        ctx.k = k
        return z.clone()

    @staticmethod
    def backward(ctx, grad_z):
        grad = grad_z.clone()
        grad[:, ctx.k] *= 2
        return grad, None


class StockLinear(torch.nn.Linear):
    def stock(self):
        linear = torch.nn.Linear(self.in_features, self.out_features, dtype=self.weight.dtype)
        linear.weight, linear.bias = self.weight, self.bias
        return linear


class LogitsScaledByN(StockLinear):
    def forward(self, x):
        return BatchScaledGradient.apply(super().forward(x))


class OneLogitDoubled(StockLinear):
    k = 0

    def forward(self, x):
        return OneColumnDoubled.apply(super().forward(x), OneLogitDoubled.k)


def twin(module):
    """The same module with every hand-written layer replaced by its stock one."""
    return torch.nn.Sequential(*(getattr(layer, "stock", lambda layer=layer: layer)()
                                 for layer in module))


def assert_caught_where_changed(report, correct):
    """Each entry the bug moves by more than 2·tol fails, each it moves by at most tol/4
    (unchanged ones first of all) passes; entries at ReLU kinks, judged by a range, and
    those in between are not asserted on. At least one entry must be moved."""
    assert correct.ok, str(correct)
    moved = 0
    for bad, good in zip(report.entries, correct.entries, strict=True):
        assert (bad.name, bad.numeric) == (good.name, good.numeric)
        change = abs(bad.analytic - good.analytic)
        if bad.kink:
            continue
        if change > 2 * bad.tol:
            moved += 1
            assert not bad.ok, f"{bad.name} moved by {change:.3g} (tol {bad.tol:.3g}) but passed"
        elif change <= bad.tol / 4:
            assert bad.ok, f"{bad.name} moved by {change:.3g} (tol {bad.tol:.3g}) but failed"
    assert moved and not report.ok, str(report)


BUGS = [  # (the bug, the end it sits in or before, the losses it is checked with)
    ("softmax Jacobian's diagonal only", "softmax", ["MSELoss", None]),
    ("log-softmax without its Jacobian", "log_softmax", ["NLLLoss"]),
    ("sigmoid' without (1 − y)", "sigmoid", ["BCELoss"]),
    ("loss gradient scaled by n", "linear", ["CrossEntropyLoss", "BCEWithLogitsLoss"]),
]
BUG_LAYERS = {"softmax": {"end_cls": SoftmaxDiagonalOnly},
              "log_softmax": {"end_cls": LogSoftmaxNoJacobian},
              "sigmoid": {"end_cls": SigmoidMissingFactor},
              "linear": {"last": LogitsScaledByN, "min_n": 2}}
BUG_CASES = [(bug, end, loss, reduction) for bug, end, losses in BUGS for loss in losses
             for reduction in (["mean", "sum"] if loss else [None])]


@pytest.mark.parametrize(("bug", "end", "loss_name", "reduction"), BUG_CASES, ids=str)
@given(data=st.data())
def test_a_wrong_backward_is_caught_at_the_entries_it_changes(bug, end, loss_name, reduction,
                                                              data):
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    module, X, T, loss = draw_case(data, end, loss_name, reduction, dtype, **BUG_LAYERS[end])
    report = nbtorch.check_module(module, X, T, loss=loss)
    assert_caught_where_changed(report, nbtorch.check_module(twin(module), X, T, loss=loss))
    with pytest.raises(nb.GradcheckError, match=r"FAILED"):
        nbtorch.check_module(module, X, T, loss=loss, raise_on_failure=True)
    fast = nbtorch.check_module(module, X, T, loss=loss, mode="fast", seed=0)
    assert fast.mode == "fast"


@pytest.mark.parametrize(("end", "loss_name", "reduction"), COMBINATIONS, ids=str)
@given(data=st.data())
def test_one_wrong_logit_gradient_is_caught_in_its_row(end, loss_name, reduction, data):
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    module, X, T, loss = draw_case(data, end, loss_name, reduction, dtype, last=OneLogitDoubled)
    last = next(i for i in reversed(range(len(module))) if isinstance(module[i], OneLogitDoubled))
    OneLogitDoubled.k = data.draw(st.integers(0, module[last].out_features - 1), label="k")
    report = nbtorch.check_module(module, X, T, loss=loss)
    assert_caught_where_changed(report, nbtorch.check_module(twin(module), X, T, loss=loss))
    k = OneLogitDoubled.k
    in_last = [e.name for e in report.failures if e.name.startswith(f"{last}.")]
    assert all(name in (f"{last}.bias[{k}]",) or name.startswith(f"{last}.weight[{k}, ")
               for name in in_last), in_last


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_a_gradient_scaled_by_n_gets_the_scale_hint_in_the_loss_s_terms(reduction):
    torch.manual_seed(3)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                 LogitsScaledByN(4, 3)).double()
    X, labels = torch.randn(5, 3, dtype=torch.float64), torch.tensor([0, 2, 1, 1, 0])
    report = nbtorch.check_module(module, X, labels,
                                  loss=torch.nn.CrossEntropyLoss(reduction=reduction))
    assert not report.ok and report.n_failed == report.n_checked
    assert "every entry is 5 ×" in report.hint and "ln y_k" in report.hint
    assert ("divided" in report.hint) == (reduction == "sum")


def test_class_labels_and_their_one_hot_rows_give_the_same_check():
    torch.manual_seed(4)
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3),
                                 torch.nn.LogSoftmax(dim=1))
    X, labels = torch.randn(6, 2), [2, 0, 1, 1, 0, 2]
    reports = [nbtorch.check_module(module, X, T, loss=torch.nn.NLLLoss(ignore_index=5))
               for T in (labels, np.array(labels), torch.tensor(labels), nb.one_hot(labels, 3))]
    assert all(r.ok for r in reports)
    assert len({tuple(e.analytic for e in r.entries) for r in reports}) == 1


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_confident_log_softmax_classifiers_pass(dtype):
    """ln p down to about −100: exp of the module's log-probabilities is compared with the
    network's probabilities within their rounding, |ln p|·u relative included."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LogSoftmax(dim=1)).to(dtype)
    with torch.no_grad():
        module[0].weight.mul_(60.0)
    X = torch.randn(8, 3, dtype=dtype)
    assert module(X).min() < -80
    report = nbtorch.check_module(module, X, [0, 1, 2, 3, 0, 1, 2, 3], loss=torch.nn.NLLLoss())
    assert report.ok, str(report)


class NotNormalised(torch.nn.Softmax):
    def forward(self, z):
        return 1.01 * super().forward(z)


class ShiftedLogSoftmax(torch.nn.LogSoftmax):
    def forward(self, z):
        return super().forward(z) + 1e-3


class ScaledLogits(torch.nn.Linear):
    def forward(self, x):
        return 1.5 * super().forward(x)


def seq(*layers):
    return torch.nn.Sequential(*layers)


Lin, CE, NLL = torch.nn.Linear, torch.nn.CrossEntropyLoss, torch.nn.NLLLoss
LABELS = np.array([0, 1, 2, 1])  # for 4 samples of nb.xor()'s X, 3 classes
SUPPORTED = "supported:"


@pytest.mark.parametrize(("module", "loss", "T", "exception", "words"), [
    # where a softmax may stand, and over which dim
    (seq(Lin(2, 3), torch.nn.Softmax(dim=1), Lin(3, 3)), None, LABELS, ValueError,
     ["module[1]", "Softmax", "last layer", "directly after its last nn.Linear"]),
    (seq(Lin(2, 3), torch.nn.Tanh(), torch.nn.Softmax(dim=1)), None, LABELS, ValueError,
     ["module[2]", "Softmax", "directly after its last nn.Linear"]),
    (seq(torch.nn.LogSoftmax(dim=1), Lin(2, 3)), NLL(), LABELS, ValueError,
     ["module[0]", "LogSoftmax", "last layer"]),
    (seq(Lin(2, 3), torch.nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)), NLL(), LABELS,
     ValueError, ["module[1]", "LogSoftmax", "last layer"]),
    (seq(Lin(2, 3), torch.nn.Softmax(dim=0)), None, LABELS, ValueError,
     ["module[1]", "Softmax(dim=0)", "dim=-1", "dim=1"]),
    (seq(Lin(2, 3), torch.nn.Softmax()), None, LABELS, ValueError,
     ["Softmax(dim=None)", "dim=-1"]),
    (seq(Lin(2, 3), torch.nn.LogSoftmax(dim=2)), NLL(), LABELS, ValueError,
     ["LogSoftmax(dim=2)", "dim=-1"]),
    # end and loss that do not fit
    (seq(Lin(2, 3), torch.nn.Softmax(dim=1)), CE(), LABELS, ValueError,
     ["CrossEntropyLoss", "double softmax", "end it with nn.Linear", "module[1]", SUPPORTED]),
    (seq(Lin(2, 3), torch.nn.LogSoftmax(dim=1)), CE(), LABELS, ValueError,
     ["CrossEntropyLoss", "logits", "nn.Linear", "nn.NLLLoss", SUPPORTED]),
    (seq(Lin(2, 3), torch.nn.Sigmoid()), CE(), LABELS, ValueError,
     ["CrossEntropyLoss", "nn.Linear (logits)", "Sigmoid", "BCELoss", SUPPORTED]),
    (seq(Lin(2, 3)), NLL(), LABELS, ValueError,
     ["NLLLoss", "log-probabilities", "nn.LogSoftmax", "CrossEntropyLoss", SUPPORTED]),
    (seq(Lin(2, 3), torch.nn.Softmax(dim=1)), NLL(), LABELS, ValueError,
     ["NLLLoss", "log-probabilities", "nn.LogSoftmax", "module[1]", SUPPORTED]),
    (seq(Lin(2, 3)), torch.nn.BCELoss(), np.ones((4, 3)), ValueError,
     ["BCELoss", "probabilities", "nn.Sigmoid", "BCEWithLogitsLoss", SUPPORTED]),
    (seq(Lin(2, 3), torch.nn.Softmax(dim=1)), torch.nn.BCELoss(), LABELS, ValueError,
     ["BCELoss", "softmax output", "CrossEntropyLoss", SUPPORTED]),
    (seq(Lin(2, 3), torch.nn.Sigmoid()), torch.nn.BCEWithLogitsLoss(), np.ones((4, 3)),
     ValueError, ["BCEWithLogitsLoss", "double sigmoid", "nn.Linear", "BCELoss", SUPPORTED]),
    (seq(Lin(2, 3), torch.nn.Softmax(dim=1)), torch.nn.BCEWithLogitsLoss(), LABELS, ValueError,
     ["BCEWithLogitsLoss", "nn.Linear (logits)", "Softmax", SUPPORTED]),
    (seq(Lin(2, 3), torch.nn.LogSoftmax(dim=1)), torch.nn.MSELoss(), LABELS, ValueError,
     ["MSELoss", "LogSoftmax", "probabilities, not their logs", "NLLLoss", SUPPORTED]),
    (seq(Lin(2, 3), torch.nn.LogSoftmax(dim=1)), None, LABELS, ValueError,
     ["None", "LogSoftmax", "NLLLoss", SUPPORTED]),
    # losses and options that change C
    (seq(Lin(2, 3)), torch.nn.KLDivLoss(), LABELS, TypeError,
     ["loss", "KLDivLoss", "nn.CrossEntropyLoss", "nn.BCEWithLogitsLoss", SUPPORTED]),
    (seq(Lin(2, 3)), torch.nn.functional.cross_entropy, LABELS, TypeError,
     ["loss must be None or one of", "cross_entropy", SUPPORTED]),
    (seq(Lin(2, 3)), CE, LABELS, TypeError,
     ["nn.CrossEntropyLoss()", "the class", SUPPORTED]),
    *[(seq(Lin(2, 3), *end), cls(reduction="none"), T, ValueError,
       [cls.__name__, "reduction='none'", "'mean' or 'sum'", SUPPORTED])
      for end, cls, T in [((), CE, LABELS), ((torch.nn.LogSoftmax(dim=1),), NLL, LABELS),
                          ((torch.nn.Sigmoid(),), torch.nn.BCELoss, np.ones((4, 3))),
                          ((), torch.nn.BCEWithLogitsLoss, np.ones((4, 3))),
                          ((torch.nn.Softmax(dim=1),), torch.nn.MSELoss, LABELS)]],
    *[(seq(Lin(2, 3), *end), loss, T, ValueError, [type(loss).__name__, option, SUPPORTED])
      for end, loss, T, option in [
          ((), CE(weight=torch.ones(3)), LABELS, "weight"),
          ((torch.nn.LogSoftmax(dim=1),), NLL(weight=torch.ones(3)), LABELS, "weight"),
          ((torch.nn.Sigmoid(),), torch.nn.BCELoss(weight=torch.ones(3)), np.ones((4, 3)),
           "weight"),
          ((), torch.nn.BCEWithLogitsLoss(weight=torch.ones(3)), np.ones((4, 3)), "weight"),
          ((), torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(3)), np.ones((4, 3)),
           "pos_weight")]],
    (seq(Lin(2, 3)), CE(label_smoothing=0.1), LABELS, ValueError,
     ["CrossEntropyLoss", "label_smoothing=0.1", SUPPORTED]),
    # ignore_index hit by the targets (and -100, the default, given as a label)
    (seq(Lin(2, 3)), CE(ignore_index=1), LABELS, ValueError,
     ["T gives sample 1", "2 sample(s)", "class 1", "ignore_index", "CrossEntropyLoss"]),
    (seq(Lin(2, 3)), CE(), np.array([0, -100, 2, 1]), ValueError,
     ["sample 1", "class -100", "ignore_index"]),
    (seq(Lin(2, 3)), CE(ignore_index=0), nb.one_hot(LABELS, 3), ValueError,
     ["T (as one-hot rows)", "sample 0", "class 0", "ignore_index"]),
    (seq(Lin(2, 3)), CE(ignore_index=5), np.full((4, 3), 0.25) + [0, 0, 0.25], ValueError,
     ["T must be integer class labels or one-hot rows", "ignore_index=5", "probability",
      "-100"]),
    (seq(Lin(2, 3), torch.nn.LogSoftmax(dim=1)), NLL(ignore_index=2), nb.one_hot(LABELS, 3),
     ValueError, ["T (as one-hot rows)", "sample 2", "class 2", "ignore_index", "NLLLoss"]),
    # targets the loss cannot take
    (seq(Lin(2, 3), torch.nn.LogSoftmax(dim=1)), NLL(), np.full((4, 3), 1 / 4) + [0, 0, 0.25],
     ValueError, ["NLLLoss", "class indices", "row 0", "CrossEntropyLoss"]),
    (seq(Lin(2, 3)), CE(), np.array([0, 3, 1, 2]), ValueError, ["T", "0 to 2", "3"]),
    (seq(Lin(2, 3)).float(), CE(), np.tile([0.1, 0.2, 0.7], (4, 1)), ValueError,
     ["T", "sum to 1", "rounded to float32", "class labels"]),
    (seq(Lin(2, 3), torch.nn.Sigmoid()), torch.nn.BCELoss(), np.full((4, 3), 1.5), ValueError,
     ["T", "[0, 1]", "cross_entropy"]),
    # a forward that computes something else, seen through the loss's link
    (seq(Lin(2, 3), NotNormalised(dim=1)), None, LABELS, ValueError,
     ["module's output differs", "forward computes something else"]),
    (seq(Lin(2, 3), ShiftedLogSoftmax(dim=1)), NLL(), LABELS, ValueError,
     ["exp of its log-probabilities differs", "forward"]),
    (seq(ScaledLogits(2, 3)), CE(), LABELS, ValueError,
     ["softmax of its logits differs", "forward"]),
    (seq(ScaledLogits(2, 3)), torch.nn.BCEWithLogitsLoss(), np.ones((4, 3)), ValueError,
     ["sigmoid of its logits differs", "forward"]),
])
def test_bad_classifiers(module, loss, T, exception, words):
    X, _ = nb.xor()
    assert_clear_error(lambda: nbtorch.check_module(module, X, T, loss=loss), exception, words)


def test_an_ignore_index_no_label_takes_is_fine():
    torch.manual_seed(5)
    module = seq(Lin(2, 3))
    X, _ = nb.xor()
    assert nbtorch.check_module(module, X, LABELS, loss=CE(ignore_index=3)).ok
    assert nbtorch.check_module(module, X, nb.one_hot(LABELS, 3), loss=CE(ignore_index=5)).ok


def test_network_from_module_refuses_as_check_module_does():
    assert_clear_error(lambda: nbtorch.network_from_module(seq(Lin(2, 3), torch.nn.Softmax(1)),
                                                           loss=CE()),
                       ValueError, ["double softmax"])
    net = nbtorch.network_from_module(seq(Lin(2, 3)), loss=torch.nn.BCEWithLogitsLoss())
    assert (net.activations, net.loss) == (("sigmoid",), "cross_entropy")


def test_the_docs_classifier_example_prints_what_the_docs_show(capsys):
    """docs/gradcheck.md shows it as a plain block (its doctests run without torch too)."""
    text = (Path(__file__).parents[1] / "docs" / "gradcheck.md").read_text(encoding="utf-8")
    code, shown = re.search(r"```python\n(# A softmax classifier checked with[^`]*)```\n\n"
                            r"prints[^\n]*\n\n```text\n([^`]*)```", text).groups()
    exec(compile(code, "docs/gradcheck.md", "exec"), {})
    assert capsys.readouterr().out == shown
