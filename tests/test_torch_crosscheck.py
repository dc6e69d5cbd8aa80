"""nbbackprop's loops against torch autograd in float64 (skipped without torch).

Same random architectures and tolerance as test_oracle.py: |got − want| ≤ 1e-12 · scale
with scale from oracle.error_scales (only the strategies and tolerance helpers are
shared; the reference values here come from torch alone).

ReLU: torch's relu backward uses grad·(z > 0), i.e. relu'(0) = 0, the package's
convention, so exact zeros agree; z merely near 0 (where rounding decides) is
excluded with oracle.relu_kink_ambiguous.
"""

import pytest

torch = pytest.importorskip("torch")

from hypothesis import assume, given, settings  # noqa: E402

import nbbackprop as nb  # noqa: E402
import oracle  # noqa: E402
from oracle import assert_close, networks_and_data  # noqa: E402

MODULES = {
    "sigmoid": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
    "linear": torch.nn.Identity,
}


def torch_reference(weights, biases, activations, X, T):
    """(Y, C, dC/dW per layer, dC/db per layer) from torch autograd."""
    linears, modules = [], []
    for W, b, name in zip(weights, biases, activations, strict=True):
        linear = torch.nn.Linear(*W.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))  # nn.Linear stores w_ij transposed
            linear.bias.copy_(torch.from_numpy(b))
        linears.append(linear)
        modules += [linear, MODULES[name]()]
    Y = torch.nn.Sequential(*modules)(torch.from_numpy(X))
    C = 0.5 * ((Y - torch.from_numpy(T)) ** 2).sum(dim=1).mean()
    C.backward()
    return (
        Y.detach().numpy(),
        C.item(),
        [m.weight.grad.numpy().T for m in linears],
        [m.bias.grad.numpy() for m in linears],
    )


def crosscheck(case, single_output=False):
    weights, biases, activations, X, T = case
    assume(not oracle.relu_kink_ambiguous(weights, biases, activations, X))
    Y, C, tw, tb = torch_reference(weights, biases, activations, X, T)
    sy, se, sw, sb = oracle.error_scales(weights, biases, X, T)
    net = nb.Network.from_weights(weights, biases, activations=activations)
    T_arg = T[:, 0] if single_output else T  # (n,) targets when n_out == 1
    assert_close(net.forward(X), Y, sy, "forward")
    assert_close(net.error(X, T_arg), C, se, "error")
    gw, gb = net.gradient(X, T_arg)
    for l in range(len(weights)):
        assert_close(gw[l], tw[l], sw[l], f"dC/dw layer {l}")
        assert_close(gb[l], tb[l], sb[l], f"dC/db layer {l}")


@settings(deadline=None)  # Numba compiles on first call
@given(networks_and_data())
def test_matches_torch_autograd(case):
    crosscheck(case)


@settings(deadline=None)
@given(networks_and_data(n_out=1))
def test_matches_torch_autograd_1d_targets(case):
    crosscheck(case, single_output=True)
