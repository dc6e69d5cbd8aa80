"""PyTorch adapter: a Network from an ``nn.Sequential``, and a module's autograd gradients
checked entry by entry, reported in the module's own parameter names (``0.weight[j, i]``).

Supported layers: ``nn.Linear`` (with bias), each followed by ``nn.Sigmoid``, ``nn.Tanh``,
``nn.ReLU`` or ``nn.Identity``, or by nothing (a linear layer). The last ``nn.Linear`` may
instead be followed by ``nn.Softmax`` or ``nn.LogSoftmax`` over the outputs (``dim=-1``, or
``dim=1``: the module is fed (n, n_in) batches), as the module's last layer. Subclasses
count as their base class, so a layer whose forward calls a hand-written
``autograd.Function`` is checked as what it claims to be; ``check_module`` first confirms
that the module really computes that network's function.

The losses ``check_module`` takes, the network each is checked against, and the factor
between autograd's gradient and that of C = (1/n) Σ_x E_x (``net.error``), by reduction:

    module ends with       loss                   network (output, loss)    "mean"    "sum"
    an activation (*)      None                   the same, squared         1 (C itself)
    an activation (*)      nn.MSELoss             the same, squared         2/n_out   2n
    nn.Linear (logits)     nn.CrossEntropyLoss    softmax, cross_entropy    1         n
    nn.LogSoftmax          nn.NLLLoss             softmax, cross_entropy    1         n
    nn.Sigmoid             nn.BCELoss             sigmoid, cross_entropy    1/n_out   n
    nn.Linear (logits)     nn.BCEWithLogitsLoss   sigmoid, cross_entropy    1/n_out   n

(*) nn.Linear or nn.Identity (linear), nn.Sigmoid, nn.Tanh, nn.ReLU or nn.Softmax. "mean"
of nn.MSELoss, nn.BCELoss and nn.BCEWithLogitsLoss averages over all n·n_out elements,
that of nn.CrossEntropyLoss and nn.NLLLoss over the n samples. A LogSoftmax end is the
network's softmax output: the network's output is the probabilities, exp of the module's,
and the log belongs to the loss, nn.NLLLoss, with which it is the cross-entropy.
"""

import dataclasses

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
#: Layers that may only end a module, directly after its last nn.Linear.
SOFTMAXES = ((torch.nn.Softmax, "softmax"), (torch.nn.LogSoftmax, "log_softmax"))
DTYPES = (torch.float16, torch.float32, torch.float64)
REDUCTIONS = ("mean", "sum")
DEFAULT_IGNORE_INDEX = -100  # that of nn.CrossEntropyLoss and nn.NLLLoss
SUPPORTED = ("supported: loss=None (C = (1/n) Σ_x ½ Σ_k (t_k − y_k)²) or nn.MSELoss after a "
             "linear, sigmoid, tanh, ReLU or softmax output; nn.CrossEntropyLoss or "
             "nn.BCEWithLogitsLoss after a last nn.Linear (logits); nn.NLLLoss after "
             "nn.LogSoftmax; nn.BCELoss after nn.Sigmoid; each with reduction 'mean' or 'sum', "
             "no weight, pos_weight or label smoothing")


@dataclasses.dataclass(frozen=True)
class _Module:
    """What ``_parse`` read from an nn.Sequential."""

    names: list  # the nn.Linear layers' names, as in named_parameters
    weights: list  # float64, weights[l][i, j] = w_ij (Linear.weight transposed)
    biases: list
    activations: list  # the network's names; a Softmax or LogSoftmax end is "softmax"
    dtype: torch.dtype
    end: str  # the last layer: an activation name, "softmax" or "log_softmax"
    end_layer: str  # it, for messages: "module[3] (3), nn.Softmax"


@dataclasses.dataclass(frozen=True)
class _Plan:
    """The network a module and loss are checked against, and how to compare them."""

    net: Network
    link: str  # what makes the network's output of the module's: identity, softmax, sigmoid, exp
    labels: bool  # the loss takes class indices (nn.NLLLoss)


def network_from_module(module, loss=None):
    """The Network that ``module`` (an ``nn.Sequential``) computes, in float64: the one
    ``check_module(module, X, T, loss=loss)`` checks the module against.

    ``nn.Linear`` stores ``weight[j, i]`` (out × in); the Network's ``weights[l][i, j]`` is
    its transpose, w_ij from neuron i below to j above. An ``nn.Softmax`` end gives a
    ``"softmax"`` output layer. With ``loss=None`` the network's loss is ``"squared"``,
    except after an ``nn.LogSoftmax``: that end is a ``"softmax"`` output with
    ``loss="cross_entropy"``, the network's output being the probabilities (exp of the
    module's output), as for ``loss=nn.NLLLoss()``. With ``nn.CrossEntropyLoss`` or
    ``nn.BCEWithLogitsLoss`` the module's last nn.Linear gives logits and the network
    has a softmax or sigmoid output (see the table in this module's docstring).
    """
    layers = _parse(module)
    if loss is None and layers.end == "log_softmax":
        loss = torch.nn.NLLLoss()
    return _plan(layers, loss).net


def check_module(module, X, T, loss=None, mode="full", n_directions=8, seed=None,
                 raise_on_failure=False):
    """Check the gradients autograd computes for ``module`` on (X, T) against finite
    differences, entry by entry, named like ``module.named_parameters()``: ``0.weight[j, i]``.

    ``loss``: None for C = (1/n) Σ_x ½ Σ_k (t_k − y_k)² of the module's output, or one of
    these (reduction ``"mean"`` or ``"sum"``), whose gradient is C's times the factor given,
    C = (1/n) Σ_x E_x being the error of the network named; autograd's gradient is divided
    by that factor before it is judged:

    - ``nn.MSELoss`` after any output but nn.LogSoftmax, as the network of the module's
      layers with the squared error: × 2/n_out (mean) or × 2n (sum);
    - ``nn.CrossEntropyLoss`` after a last ``nn.Linear`` (logits), checked as a softmax
      network with the cross-entropy: × 1 or × n;
    - ``nn.NLLLoss`` after ``nn.LogSoftmax``, as the same network: × 1 or × n;
    - ``nn.BCELoss`` after ``nn.Sigmoid``, as a sigmoid network with the cross-entropy
      −Σ_k [t_k ln y_k + (1 − t_k) ln(1 − y_k)]: × 1/n_out (mean over all n·n_out
      elements) or × n;
    - ``nn.BCEWithLogitsLoss`` after a last ``nn.Linear`` (logits), as the same: × 1/n_out
      or × n.

    Class weights, ``pos_weight``, label smoothing and samples hit by ``ignore_index``
    change C and are refused, as are ends that do not fit the loss. The module's output,
    through the loss's link (softmax or sigmoid of logits, exp of log-probabilities), must
    be the network's (see ``_same_function``).

    T: rows of targets (n, n_out), or for nn.CrossEntropyLoss, nn.NLLLoss and any module
    with several outputs 1-D integer class labels (an array or a tensor), which the network
    sees as one-hot rows. nn.CrossEntropyLoss gets labels as class indices and rows as
    probabilities (one-hot rows as indices when it has an ignore_index of its own, which
    PyTorch applies to indices only); nn.NLLLoss gets class indices. Cross-entropy targets
    lie in [0, 1], and rows for a softmax output sum to 1. X and T are rounded to the
    module's dtype first, so both sides see the same data; the gradients are judged in that
    dtype. Other arguments as in ``nb.gradcheck``.
    """
    layers = _parse(module)
    plan = _plan(layers, loss)
    net, dtype = plan.net, layers.dtype
    n_out = net.sizes[-1]
    X_t = _tensor(X, dtype, "X")
    labels = _labels(T, X_t, n_out, loss)
    if labels is not None:
        _check_ignore_index(loss, labels, "T")
        T_rows = check.one_hot(labels, n_out, "T")
    else:
        given = _tensor(T, torch.float64, "T").numpy()
        T_rows = torch.from_numpy(given).to(dtype).double().numpy()
        _check_rounded_rows(net, given, T_rows, dtype)
    X64, T64 = net.check_data(X_t.double().numpy(), T_rows)
    # Rows go to nn.NLLLoss as class indices; to nn.CrossEntropyLoss too when it has an
    # ignore_index of its own, which PyTorch refuses with probability targets.
    custom_ignore = getattr(loss, "ignore_index", DEFAULT_IGNORE_INDEX) != DEFAULT_IGNORE_INDEX
    if labels is None and (plan.labels or custom_ignore):
        labels = _indices_of_rows(T64, loss)
        _check_ignore_index(loss, labels, "T (as one-hot rows)")
    if labels is not None and (plan.labels or isinstance(loss, torch.nn.CrossEntropyLoss)):
        target = torch.from_numpy(labels)  # class indices, int64
    else:
        target = torch.from_numpy(T64).to(dtype)
    n = X64.shape[0]
    scale = _loss_scale(loss, n, n_out)

    module.zero_grad(set_to_none=True)
    Y = module(torch.from_numpy(X64).to(dtype))  # X64 holds X_t's values exactly
    _same_function(net, X64, Y.detach(), dtype, plan.link)
    value = 0.5 * ((Y - target) ** 2).sum(dim=1).mean() if loss is None else loss(Y, target)
    value.backward()
    grad_w, grad_b = [], []
    for name, linear in zip(layers.names, _linears(module)):
        for kind, parameter, out in (("weight", linear.weight, grad_w),
                                     ("bias", linear.bias, grad_b)):
            if parameter.grad is None:
                raise InvalidValue(f"{name}.{kind} got no gradient from autograd (does it have "
                                   "requires_grad=True?)")
            g = parameter.grad.detach().cpu().numpy()
            # Divided in float64 and rounded once to the gradient's own dtype, which sets
            # the precision it is judged in.
            g64 = (g.T if kind == "weight" else g).astype(np.float64)
            out.append((g64 / scale).astype(g.dtype))
    report = gc.compare_gradients(net, X64, T64, grad_w, grad_b, mode=mode,
                                   n_directions=n_directions, seed=seed)
    if mode == "full":
        report.relabel(_torch_names(net, layers.names))
    if report.hint and scale != 1:
        report.hint += (f" (check_module divided autograd's gradient of {_described(loss)} by "
                        f"{scale:g} to get C's)")
    if raise_on_failure and not report.ok:
        raise GradcheckError(report)
    return report


def _parse(module):
    """The layers of an nn.Sequential of nn.Linear layers and activations, checked."""
    if not isinstance(module, torch.nn.Sequential):
        raise InvalidType(f"module must be a torch.nn.Sequential of nn.Linear layers and "
                          f"activations, got {type(module).__name__}")
    children = list(module.named_children())
    names, weights, biases, activations = [], [], [], []
    end, end_layer = None, None
    for position, (name, layer) in enumerate(children):
        where = f"module[{position}] ({name})"
        end_layer = f"{where}, nn.{type(layer).__name__}"
        after_linear = bool(names) and isinstance(children[position - 1][1], torch.nn.Linear)
        if isinstance(layer, torch.nn.Linear):
            if layer.bias is None:
                raise InvalidValue(f"{where} is an nn.Linear without bias; nbbackprop's "
                                   "networks have a bias on every neuron")
            names.append(name)
            weights.append(layer.weight.detach().cpu().double().numpy().T)
            biases.append(layer.bias.detach().cpu().double().numpy())
            activations.append("linear")
            end = "linear"
            continue
        softmax = next((s for cls, s in SOFTMAXES if isinstance(layer, cls)), None)
        if softmax is not None:
            kind = f"nn.{type(layer).__name__}"
            if position != len(children) - 1 or not after_linear:
                raise InvalidValue(f"{where} is {kind}: nbbackprop supports a softmax only as "
                                   "the output layer, so nn.Softmax and nn.LogSoftmax must be "
                                   "the module's last layer, directly after its last nn.Linear")
            if layer.dim not in (-1, 1) or isinstance(layer.dim, bool):
                raise InvalidValue(f"{where} is {kind}(dim={layer.dim!r}): nbbackprop's softmax "
                                   "is taken over each sample's outputs, the last dimension of "
                                   "the (n, n_out) output: give dim=-1 (or dim=1)")
            activations[-1], end = "softmax", softmax
            continue
        activation = next((a for cls, a in ACTIVATIONS if isinstance(layer, cls)), None)
        if activation is None:
            raise InvalidValue(f"{where} is {type(layer).__name__}: nbbackprop supports "
                               "nn.Linear followed by nn.Sigmoid, nn.Tanh, nn.ReLU or "
                               "nn.Identity, and a last nn.Linear followed by nn.Softmax or "
                               "nn.LogSoftmax")
        if not after_linear:
            raise InvalidValue(f"{where} must follow an nn.Linear directly")
        activations[-1] = end = activation
    if not names:
        raise InvalidValue("module must contain at least one nn.Linear")
    dtypes = {p.dtype for p in module.parameters()}
    if len(dtypes) != 1 or next(iter(dtypes)) not in DTYPES:
        raise InvalidType(f"module's parameters must all be float16, float32 or float64, "
                          f"got {sorted(map(str, dtypes))}")
    return _Module(names, weights, biases, activations, dtypes.pop(), end, end_layer)


def _plan(layers, loss):
    """The network that ``loss`` on the module's output makes of the module's layers;
    refuses unsupported losses and ends that do not fit the loss."""
    _check_loss(loss)
    end, output = layers.end, layers.activations[-1]
    link, network_loss, labels = "identity", "squared", False
    if loss is None or isinstance(loss, torch.nn.MSELoss):
        if end == "log_softmax":
            _mismatch(layers, loss, "a linear, sigmoid, tanh, ReLU or softmax output",
                      "the network's outputs are probabilities, not their logs: end with "
                      "nn.Softmax for the squared error, or use nn.NLLLoss after nn.LogSoftmax")
    elif isinstance(loss, torch.nn.CrossEntropyLoss):
        if end != "linear":
            _mismatch(layers, loss, "nn.Linear (logits)", _CE_ADVICE.get(end, ""))
        output, link, network_loss = "softmax", "softmax", "cross_entropy"
    elif isinstance(loss, torch.nn.NLLLoss):
        if end != "log_softmax":
            _mismatch(layers, loss, "nn.LogSoftmax (log-probabilities)",
                      "nn.NLLLoss takes log-probabilities: end the module with nn.LogSoftmax, "
                      "or end it with nn.Linear and use nn.CrossEntropyLoss")
        link, network_loss, labels = "exp", "cross_entropy", True
    elif isinstance(loss, torch.nn.BCEWithLogitsLoss):
        if end != "linear":
            advice = ("a double sigmoid: nn.BCEWithLogitsLoss applies its own sigmoid to the "
                      "logits; end the module with nn.Linear, or use nn.BCELoss after "
                      "nn.Sigmoid" if end == "sigmoid" else "")
            _mismatch(layers, loss, "nn.Linear (logits)", advice)
        output, link, network_loss = "sigmoid", "sigmoid", "cross_entropy"
    else:  # nn.BCELoss
        if end != "sigmoid":
            _mismatch(layers, loss, "nn.Sigmoid (probabilities)",
                      "nn.BCELoss takes probabilities: end the module with nn.Sigmoid, or end "
                      "it with nn.Linear and use nn.BCEWithLogitsLoss"
                      + ("; for a softmax output use nn.CrossEntropyLoss on logits or "
                         "nn.NLLLoss after nn.LogSoftmax" if end in ("softmax", "log_softmax")
                         else ""))
        network_loss = "cross_entropy"
    activations = list(layers.activations[:-1]) + [output]
    net = Network.from_weights(layers.weights, layers.biases, activations, loss=network_loss)
    return _Plan(net, link, labels)


_CE_ADVICE = {
    "softmax": ("a double softmax: nn.CrossEntropyLoss applies its own (log-)softmax to its "
                "input, so the module must output logits; end it with nn.Linear (drop the "
                "nn.Softmax), or end it with nn.LogSoftmax and use nn.NLLLoss"),
    "log_softmax": ("nn.CrossEntropyLoss applies its own log-softmax to its input, which "
                    "must be logits: end the module with nn.Linear, or keep nn.LogSoftmax and "
                    "use nn.NLLLoss"),
    "sigmoid": ("for independent sigmoid outputs use nn.BCELoss after nn.Sigmoid, or "
                "nn.BCEWithLogitsLoss after nn.Linear"),
}

_LOSSES = (torch.nn.MSELoss, torch.nn.CrossEntropyLoss, torch.nn.NLLLoss, torch.nn.BCELoss,
           torch.nn.BCEWithLogitsLoss)


def _check_loss(loss):
    """Refuse a loss that is not supported, or whose options change C."""
    if loss is None:
        return
    if isinstance(loss, type) and issubclass(loss, torch.nn.Module):
        raise InvalidType(f"loss must be a loss module, an instance such as "
                          f"nn.{loss.__name__}(), got the class nn.{loss.__name__}; {SUPPORTED}")
    if not isinstance(loss, _LOSSES):
        raise InvalidType(f"loss must be None or one of nn.MSELoss, nn.CrossEntropyLoss, "
                          f"nn.NLLLoss, nn.BCELoss, nn.BCEWithLogitsLoss, got "
                          f"{check.shown(loss)}; {SUPPORTED}")
    name = f"nn.{type(loss).__name__}"
    if loss.reduction not in REDUCTIONS:
        raise InvalidValue(f"loss {name}(reduction={loss.reduction!r}) is not supported: the "
                           "check needs one number, the 'mean' or 'sum' of the samples' losses; "
                           f"{SUPPORTED}")
    for option, why in (("weight", "weights make it a weighted sum over the outputs or "
                                   "classes (and 'mean' a weighted mean)"),
                        ("pos_weight", "pos_weight weighs the t_k ln y_k terms")):
        if getattr(loss, option, None) is not None:
            raise InvalidValue(f"loss {name} with a {option} is not supported: its {why}, "
                               f"which nbbackprop's losses do not; {SUPPORTED}")
    smoothing = getattr(loss, "label_smoothing", 0.0)
    if smoothing != 0:
        raise InvalidValue(f"loss {name}(label_smoothing={smoothing!r}) is not supported: label "
                           "smoothing mixes the targets with the uniform distribution; give "
                           "label_smoothing=0.0, or smoothed probability rows as T; "
                           f"{SUPPORTED}")


def _mismatch(layers, loss, needed, advice):
    raise InvalidValue(f"loss {_described(loss)} needs a module that ends with {needed}, but "
                       f"this one ends with {layers.end_layer}"
                       + (f": {advice}" if advice else "") + f"; {SUPPORTED}")


def _described(loss):
    if loss is None:
        return "None (C = (1/n) Σ_x ½ Σ_k (t_k − y_k)²)"
    return f"nn.{type(loss).__name__}(reduction={loss.reduction!r})"


def _linears(module):
    return [layer for layer in module if isinstance(layer, torch.nn.Linear)]


def _tensor(value, dtype, name):
    """value rounded to the module's dtype (after the package's usual checks)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return torch.from_numpy(check.float_array(value, name)).to(dtype)


def _labels(T, X, n_out, loss):
    """T as int64 class labels when it is a 1-D integer array of one label per sample, for
    a classification loss or several outputs; else None (T holds the targets' values)."""
    if isinstance(T, torch.Tensor):
        T = T.detach().cpu().numpy()
    try:
        array = np.asarray(T)
    except (ValueError, TypeError):
        return None  # float_array says what is wrong with it
    n = X.shape[0] if X.ndim == 2 else 1
    classes = isinstance(loss, (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss))
    if array.ndim == 1 and array.dtype.kind in "iu" and array.shape[0] == n and (
            classes or n_out > 1):
        return array.astype(np.int64)
    return None


def _indices_of_rows(T, loss):
    """The class index of each one-hot row of T, for a loss that takes indices."""
    one_hot = ((T == 0) | (T == 1)).all(axis=1) & (T.sum(axis=1) == 1)
    if not one_hot.all():
        s = int(np.flatnonzero(~one_hot)[0])
        if isinstance(loss, torch.nn.NLLLoss):
            why = ("nn.NLLLoss, which takes class indices; for class probabilities end the "
                   "module with nn.Linear and use nn.CrossEntropyLoss")
        else:
            why = (f"nn.CrossEntropyLoss with ignore_index={loss.ignore_index}, which PyTorch "
                   "applies to class indices only (it refuses probability targets then); for "
                   f"class probabilities leave ignore_index at {DEFAULT_IGNORE_INDEX}")
        raise InvalidValue(f"T must be integer class labels or one-hot rows for {why}, got row "
                           f"{s}: {check.shown(T[s].tolist())}")
    return np.argmax(T, axis=1).astype(np.int64)


def _check_ignore_index(loss, labels, what):
    """Refuse labels equal to the loss's ignore_index: the loss would leave those samples
    out (and its mean would divide by fewer than n), unlike C."""
    ignored = getattr(loss, "ignore_index", None)
    hit = np.flatnonzero(labels == ignored) if ignored is not None else []
    if len(hit):
        raise InvalidValue(f"{what} gives sample {int(hit[0])} ({len(hit)} sample(s) in all) "
                           f"the class {ignored}, the loss's ignore_index: "
                           f"nn.{type(loss).__name__} would leave those samples out, which "
                           "C = (1/n) Σ_x E_x does not; drop those samples, or give the loss an "
                           "ignore_index that no label takes")


def _check_rounded_rows(net, given, T, dtype):
    """Rows for a softmax output that sum to 1 as given but not once rounded to the
    module's dtype: say so (the network's own check would not say why)."""
    n_out = net.sizes[-1]
    if net.activations[-1] != "softmax" or T.ndim != 2 or T.shape[1] != n_out:
        return
    sums = T.sum(axis=1)
    tolerance = n_out * np.finfo(np.float64).eps
    bad = np.flatnonzero((np.abs(sums - 1.0) > tolerance)
                         & (np.abs(given.sum(axis=1) - 1.0) <= tolerance))
    if bad.size:
        s = int(bad[0])
        raise InvalidValue(f"T must have rows that sum to 1 for a softmax output, as the module "
                           f"sees them, rounded to {str(dtype).removeprefix('torch.')}: row {s} "
                           f"sums to {float(sums[s])!r}; give integer class labels, one-hot "
                           "rows, or probabilities whose rounded values sum to 1")


def _loss_scale(loss, n, n_out):
    """The factor between ``loss``'s gradient and that of C = (1/n) Σ_x E_x."""
    if loss is None:
        return 1.0
    mean = loss.reduction == "mean"
    if isinstance(loss, torch.nn.MSELoss):
        return 2.0 / n_out if mean else 2.0 * n
    if isinstance(loss, (torch.nn.BCELoss, torch.nn.BCEWithLogitsLoss)):
        return 1.0 / n_out if mean else float(n)
    return 1.0 if mean else float(n)  # nn.CrossEntropyLoss, nn.NLLLoss


_LINKS = {"identity": lambda Y: Y, "softmax": lambda Y: torch.softmax(Y, dim=1),
          "sigmoid": torch.sigmoid, "exp": torch.exp}
_LINK_NAMES = {"identity": "output", "softmax": "softmax of its logits",
               "sigmoid": "sigmoid of its logits", "exp": "exp of its log-probabilities"}


def _same_function(net, X, Y, dtype, link):
    """Refuse a module whose output, through ``link``, is not the Network's (up to rounding
    in the module's dtype; the link itself is applied in float64).

    The bound is 3× ``gc.output_rounding`` plus the dtype's smallest normal number (gradual
    underflow). A log-softmax output adds the rounding of its last subtraction,
    ln p = z − max z − ln S, about u·|ln p| absolute, which exp turns into relative error:
    2u·|ln p|·p more is allowed.
    """
    np_dtype = np.dtype(str(dtype).removeprefix("torch."))
    Y = Y.double().cpu()
    expected = net.forward(X)
    bound = gc.output_rounding(net, X, np_dtype)
    finite = np.isfinite(Y.numpy())
    with np.errstate(invalid="ignore", over="ignore"):
        if link == "exp":
            u = float(np.finfo(np_dtype).eps) / 2
            bound = bound + 2 * u * np.abs(Y.numpy()) * expected
        got = _LINKS[link](Y).numpy()
        off = ~(np.abs(got - expected) <= 3 * bound + max(gc.UNDERFLOW,
                                                           float(np.finfo(np_dtype).tiny)))
    off |= ~finite
    if off.any():
        s, k = (int(i) for i in np.argwhere(off)[0])
        raise InvalidValue(f"the module's {_LINK_NAMES[link]} differs from the output of the "
                           f"network of its layers (sample {s}, output {k}: {got[s, k]!r} instead "
                           f"of {expected[s, k]!r}, more than rounding allows): its forward "
                           "computes something else")


def _torch_names(net, names):
    """Entry names in the module's own terms: ``weights[l][i, j]`` is ``{name}.weight[j, i]``."""
    describe = gc.network_names(net)

    def torch_name(p):
        _, l, kind, i, j = describe(p)
        label = f"{names[l]}.weight[{j}, {i}]" if kind == "w" else f"{names[l]}.bias[{j}]"
        return label, l, kind, i, j

    return torch_name


__all__ = ["check_module", "network_from_module"]
