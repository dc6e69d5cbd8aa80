"""The PyTorch adapter (skipped without torch): a Network from an nn.Sequential, and a
module's autograd gradients checked in the module's own parameter names."""

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
