"""PyTorch adapter: a Network from an ``nn.Sequential``, and a module's autograd gradients
checked entry by entry, reported in the module's own parameter names (``0.weight[j, i]``).

Supported layers: ``nn.Linear`` (with bias), each followed by ``nn.Sigmoid``, ``nn.Tanh``,
``nn.ReLU`` or ``nn.Identity``, or by nothing (a linear layer). Subclasses count as their
base class, so a Linear whose forward calls a hand-written ``autograd.Function`` is checked
as what it claims to be; ``check_module`` first confirms that the module really computes
that network's function.
"""

try:
    import torch
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("nbbackprop.interop.torch needs PyTorch: pip install 'nbbackprop[torch]' "
                      "(on a machine without a GPU, install a CPU build of PyTorch first)") from err

import numpy as np

from .. import _validate as check
from .. import gradient_check as gc
from ..exceptions import GradcheckError, InvalidType, InvalidValue
from ..network import Network

ACTIVATIONS = ((torch.nn.Sigmoid, "sigmoid"), (torch.nn.Tanh, "tanh"), (torch.nn.ReLU, "relu"),
               (torch.nn.Identity, "linear"))
DTYPES = (torch.float16, torch.float32, torch.float64)


def network_from_module(module):
    """The Network that ``module`` (an ``nn.Sequential``) computes, in float64.

    ``nn.Linear`` stores ``weight[j, i]`` (out × in); the Network's ``weights[l][i, j]`` is
    its transpose, w_ij from neuron i below to j above.
    """
    return _parse(module)[0]


def check_module(module, X, T, loss=None, mode="full", n_directions=8, seed=None,
                 raise_on_failure=False):
    """Check the gradients autograd computes for ``module`` on (X, T) against finite
    differences, entry by entry, named like ``module.named_parameters()``: ``0.weight[j, i]``.

    ``loss``: None for C = (1/n) Σ_x ½ Σ_k (t_k − y_k)², or an ``nn.MSELoss`` (reduction
    ``"mean"`` or ``"sum"``), whose gradient is C's times 2/n_out or 2n. X and T are
    rounded to the module's dtype first, so both sides see the same data; the gradients
    are judged in that dtype. Other arguments as in ``nb.gradcheck``.
    """
    net, names, dtype = _parse(module)
    X_t, T_t = _tensor(X, dtype, "X"), _tensor(T, dtype, "T")
    X64, T64 = net.check_data(X_t.double().numpy(), T_t.double().numpy())
    T_t = torch.from_numpy(T64).to(dtype)  # (n, n_out) even where T was given as (n,)
    scale = _loss_scale(loss, X64.shape[0], T64.shape[1])

    module.zero_grad(set_to_none=True)
    Y = module(X_t)
    _same_function(net, X64, Y.detach().double().numpy(), dtype)
    value = 0.5 * ((Y - T_t) ** 2).sum(dim=1).mean() if loss is None else loss(Y, T_t)
    value.backward()
    grad_w, grad_b = [], []
    for name, linear in zip(names, _linears(module)):
        for kind, parameter, out in (("weight", linear.weight, grad_w),
                                     ("bias", linear.bias, grad_b)):
            if parameter.grad is None:
                raise InvalidValue(f"{name}.{kind} got no gradient from autograd (does it have "
                                   "requires_grad=True?)")
            g = parameter.grad.detach().cpu().numpy()
            out.append((g.T if kind == "weight" else g) / g.dtype.type(scale))
    report = gc.compare_gradients(net, X64, T64, grad_w, grad_b, mode=mode,
                                   n_directions=n_directions, seed=seed)
    if mode == "full":
        report.relabel(_torch_names(net, names))
    if raise_on_failure and not report.ok:
        raise GradcheckError(report)
    return report


def _parse(module):
    """(Network, the Linear layers' names, the parameters' dtype) for an nn.Sequential."""
    if not isinstance(module, torch.nn.Sequential):
        raise InvalidType(f"module must be a torch.nn.Sequential of nn.Linear layers and "
                          f"activations, got {type(module).__name__}")
    children = list(module.named_children())
    names, weights, biases, activations = [], [], [], []
    for position, (name, layer) in enumerate(children):
        if isinstance(layer, torch.nn.Linear):
            if layer.bias is None:
                raise InvalidValue(f"module[{position}] ({name}) is an nn.Linear without bias; "
                                   "nbbackprop's networks have a bias on every neuron")
            names.append(name)
            weights.append(layer.weight.detach().cpu().double().numpy().T)
            biases.append(layer.bias.detach().cpu().double().numpy())
            activations.append("linear")
            continue
        activation = next((a for cls, a in ACTIVATIONS if isinstance(layer, cls)), None)
        if activation is None:
            raise InvalidValue(f"module[{position}] ({name}) is {type(layer).__name__}: nbbackprop "
                               "supports nn.Linear followed by nn.Sigmoid, nn.Tanh, nn.ReLU or "
                               "nn.Identity")
        if not names or not isinstance(children[position - 1][1], torch.nn.Linear):
            raise InvalidValue(f"module[{position}] ({name}) must follow an nn.Linear directly")
        activations[-1] = activation
    if not names:
        raise InvalidValue("module must contain at least one nn.Linear")
    dtypes = {p.dtype for p in module.parameters()}
    if len(dtypes) != 1 or next(iter(dtypes)) not in DTYPES:
        raise InvalidType(f"module's parameters must all be float16, float32 or float64, "
                          f"got {sorted(map(str, dtypes))}")
    return Network.from_weights(weights, biases, activations), names, dtypes.pop()


def _linears(module):
    return [layer for layer in module if isinstance(layer, torch.nn.Linear)]


def _tensor(value, dtype, name):
    """value rounded to the module's dtype (after the package's usual checks)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return torch.from_numpy(check.float_array(value, name)).to(dtype)


def _loss_scale(loss, n, n_out):
    """The factor between ``loss``'s gradient and that of C = (1/n) Σ_x ½ Σ_k (t_k − y_k)²."""
    if loss is None:
        return 1.0
    if isinstance(loss, torch.nn.MSELoss) and loss.reduction in ("mean", "sum"):
        return 2.0 / n_out if loss.reduction == "mean" else 2.0 * n
    raise InvalidType(f"loss must be None (C = (1/n) Σ ½ Σ (t − y)²) or an nn.MSELoss with "
                      f"reduction 'mean' or 'sum', got {check.shown(loss)}")


def _same_function(net, X, Y, dtype):
    """Refuse a module whose output is not the Network's (up to rounding in its dtype)."""
    bound = 3 * gc.output_rounding(net, X, np.dtype(str(dtype).removeprefix("torch.")))
    expected = net.forward(X)
    off = np.abs(Y - expected) > bound + gc.UNDERFLOW
    if off.any() or not np.isfinite(Y).all():
        s, k = (int(i) for i in np.argwhere(off | ~np.isfinite(Y))[0])
        raise InvalidValue(f"the module's output differs from that of the network of its layers "
                           f"(sample {s}, output {k}: {Y[s, k]!r} instead of {expected[s, k]!r}, "
                           f"more than rounding allows): its forward computes something else")


def _torch_names(net, names):
    """Entry names in the module's own terms: ``weights[l][i, j]`` is ``{name}.weight[j, i]``."""
    describe = gc.network_names(net)

    def torch_name(p):
        _, l, kind, i, j = describe(p)
        label = f"{names[l]}.weight[{j}, {i}]" if kind == "w" else f"{names[l]}.bias[{j}]"
        return label, l, kind, i, j

    return torch_name


__all__ = ["check_module", "network_from_module"]
