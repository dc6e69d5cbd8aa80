"""Pictures of training and of one training step (needs matplotlib: the ``[plot]`` extra).

- ``learning_curve(history)``: the error C per epoch, training and validation.
- ``decision_regions(net, X, labels)``: the class ``net.predict`` gives over the plane, for
  networks with 2 inputs, with the samples coloured by their label.
- ``network(net, trace=None)``: the network as layers of nodes with w_ij on the edges and
  b_j on the nodes; given a ``Trace``, also z_j, y_j and δ_j on each node and Δw_ij on each
  edge, named and signed as in the printed trace.

Each returns a ``matplotlib.figure.Figure`` made without pyplot (no global state, no
window, works headless: ``fig.savefig("curve.png")``); given ``ax=``, each draws into that
Axes instead and returns its figure. ``save(fig, path)`` writes a figure atomically in the
format its name ends with. matplotlib is imported only when one is called.
"""

import os

import numpy as np

from . import _validate as check
from . import storage
from .exceptions import InvalidType, InvalidValue
from .trace import Trace, _Numbers, _sub

NEEDS = 'nbbackprop.plot needs matplotlib: pip install "nbbackprop[plot]"'

# network(): every number is written up to LABELLED units in every layer; up to DRAWN
# units the nodes and edges are drawn without numbers (a picture of the shape and the
# weights' signs); beyond that a picture says nothing a reader can see.
LABELLED, DRAWN = 10, 100

# Weights drawn in blue when positive, red when negative (as in many textbook figures).
POSITIVE, NEGATIVE = "tab:blue", "tab:red"


def _matplotlib():
    """matplotlib's Figure and Axes classes, or an ImportError naming the extra."""
    try:
        from matplotlib.axes import Axes
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(NEEDS) from err
    return Figure, Axes


def _axes(ax, figsize):
    """(figure, axes): a new Figure of ``figsize`` inches with one Axes, or ax's own."""
    Figure, Axes = _matplotlib()
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    if not isinstance(ax, Axes):
        raise InvalidType(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.get_figure(), ax


def _network(net):
    from .network import Network

    if not isinstance(net, Network):
        raise InvalidType(f"net must be an nbbackprop Network, got {type(net).__name__}")
    return net


# The formats save() writes, by the file name's ending.
FORMATS = ("png", "svg", "pdf")


def save(fig, path, dpi=150):
    """Write ``fig`` to ``path`` in the format its name ends with (.png, .svg or .pdf),
    atomically (a temporary file renamed over the target, as models are saved)."""
    fmt = figure_format(path)
    Figure, _ = _matplotlib()
    if not isinstance(fig, Figure):
        raise InvalidType(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    dpi = check.integer(dpi, "dpi", minimum=10, maximum=1200)
    storage.write_atomically(path, lambda file: fig.savefig(file, format=fmt, dpi=dpi))


def figure_format(path, name="path"):
    """The format a picture's file name asks for: png, svg or pdf (checked before any
    work is done, so a wrong name is refused first)."""
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidType(f"{name} must be a file name (str or os.PathLike), got "
                          f"{type(path).__name__}")
    fmt = os.path.splitext(os.fsdecode(path))[1].lstrip(".").lower()
    if fmt not in FORMATS:
        raise InvalidValue(f"{name} must end with .png, .svg or .pdf (the picture's format), "
                           f"got {os.fsdecode(path)!r}")
    return fmt


# --- learning_curve ----------------------------------------------------------------------


def learning_curve(history, ax=None):
    """The error C after each epoch: ``history.errors`` against the network's epoch
    numbers (``history.first_epoch`` on), and ``history.validation_errors`` when the
    History has them; a log scale when every error is positive.

    ``history`` may also be a sequence of errors, for epochs 1, 2, ….
    """
    if hasattr(history, "errors"):
        errors = _errors(history.errors, "history.errors")
        first = check.integer(getattr(history, "first_epoch", 1), "history.first_epoch",
                              minimum=1)
        validation = getattr(history, "validation_errors", None)
    else:
        errors, first, validation = _errors(history, "history"), 1, None
    if validation is not None and len(validation):
        validation = _errors(validation, "history.validation_errors")
        if len(validation) != len(errors):
            raise InvalidValue(f"history.validation_errors must hold one error per epoch "
                               f"({len(errors)}), got {len(validation)}")
    else:
        validation = None
    fig, ax = _axes(ax, (6.4, 4.0))
    epochs = np.arange(first, first + len(errors))
    ax.plot(epochs, errors, label="training", color="tab:blue")
    if validation is not None:
        ax.plot(epochs, validation, label="validation", color="tab:orange")
        ax.legend()
    shown = errors if validation is None else np.concatenate((errors, validation))
    if np.all(shown > 0):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("error C")
    ax.grid(True, which="major", alpha=0.3)
    return fig


def _errors(value, name):
    """A non-empty 1-D array of finite errors ≥ 0."""
    errors = check.float_array(value, name)
    if errors.ndim != 1 or errors.size == 0:
        raise InvalidValue(f"{name} must be a non-empty 1-D sequence of errors, one per "
                           f"epoch, got shape {errors.shape}")
    check.finite(errors, name)
    if np.any(errors < 0):
        bad = int(np.flatnonzero(errors < 0)[0])
        raise InvalidValue(f"{name} must hold errors ≥ 0, got {errors[bad]} at index {bad}")
    return errors


# --- decision_regions --------------------------------------------------------------------


def decision_regions(net, X, labels, ax=None, resolution=200):
    """The class ``net.predict`` gives at each point of the plane around the samples X
    (shape (n, 2)), and the samples coloured by their ``labels`` (integer class labels
    of shape (n,), or targets as ``fit`` takes them).

    The plane is cut into ``resolution`` × ``resolution`` cells; each cell's colour is
    ``net.predict`` at its centre. A network with one output predicts 1 where y ≥ 0.5.
    """
    net = _network(net)
    if net.sizes[0] != 2:
        raise InvalidValue(f"decision_regions draws a network with 2 inputs, got net with "
                           f"{net.sizes[0]} inputs (sizes {net.sizes})")
    X, _ = check.inputs(X, 2)
    n_out = net.sizes[-1]
    T = check.targets(labels, len(X), n_out, False, "labels")
    classes = (T[:, 0] >= 0.5).astype(np.int64) if n_out == 1 else np.argmax(T, axis=1)
    n_classes = max(n_out, 2)
    resolution = check.integer(resolution, "resolution", minimum=2, maximum=2000)

    fig, ax = _axes(ax, (5.5, 5.0))
    (x_edges, x_centres), (y_edges, y_centres) = (
        _cells(X[:, d], resolution) for d in (0, 1))
    grid = np.column_stack([g.ravel() for g in np.meshgrid(x_centres, y_centres)])
    predicted = net.predict(grid).reshape(resolution, resolution)  # rows: y, columns: x
    colors = _class_colors(n_classes)
    from matplotlib.colors import ListedColormap

    ax.pcolormesh(x_edges, y_edges, predicted, cmap=ListedColormap(colors), vmin=-0.5,
                  vmax=n_classes - 0.5, alpha=0.35, shading="flat", gid="predicted")
    for c in range(n_classes):
        mine = classes == c
        if mine.any():
            ax.scatter(X[mine, 0], X[mine, 1], color=colors[c], edgecolors="black",
                       linewidths=0.5, s=20, label=f"class {c}", gid=f"class {c}")
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    ax.set_xlabel("x_1")
    ax.set_ylabel("x_2")
    ax.legend(loc="best", fontsize="small")
    return fig


def _cells(values, resolution):
    """(edges, centres) of ``resolution`` cells spanning the values plus a 10 % margin;
    each centre is the mean of its two edges."""
    low, high = float(values.min()), float(values.max())
    margin = 0.1 * (high - low) or 0.5
    edges = np.linspace(low - margin, high + margin, resolution + 1)
    return edges, (edges[:-1] + edges[1:]) / 2


def _class_colors(n_classes):
    from matplotlib import colormaps

    palette = colormaps["tab10" if n_classes <= 10 else "tab20"].colors
    return [palette[c % len(palette)] for c in range(n_classes)]


# --- network -----------------------------------------------------------------------------


def network(net, trace=None, ax=None, digits=4):
    """The network as columns of nodes (inputs on the left), an edge from each node i to
    each node j above it labelled w_ij, each node labelled b_j (blue edges: w > 0, red:
    w < 0; width grows with |w|).

    Given ``trace`` (``net.trace(x, t, eta)``), each node also shows z_j, y_j and δ_j (the
    inputs x_i, the outputs t_k) and each edge Δw_ij, with the names, the 1-based indices
    and the sign convention of the printed trace; the weights shown are the trace's, which
    must be ``net``'s. Numbers have ``digits`` significant digits.

    Layers of up to 10 units are written out in full; up to 100 units, the nodes and edges
    are drawn without numbers; wider layers are refused (print the trace instead).
    """
    net = _network(net)
    digits = check.integer(digits, "digits", minimum=1, maximum=17)
    sizes = net.sizes
    if max(sizes) > DRAWN:
        raise InvalidValue(f"network draws layers of at most {DRAWN} units, got net with "
                           f"sizes {sizes}; print(net.trace(x, t)) shows every number of a "
                           "larger network")
    if trace is not None:
        _check_trace(net, trace)
    labelled = max(sizes) <= LABELLED
    gap = 5.0 if labelled else 3.0  # between layers, in data units
    step = (1.5 if trace is None else 2.2) if labelled else 0.4  # between nodes of a layer
    height = (1.0 if trace is None else 1.4) * max(sizes) if labelled else 3.0
    fig, ax = _axes(ax, (2.0 + (3.6 if labelled else 2.4) * (len(sizes) - 1), 1.6 + height))
    ax.set_axis_off()
    where = [[(gap * l, step * ((n - 1) / 2 - j)) for j in range(n)]
             for l, n in enumerate(sizes)]
    weights = net.weights if trace is None else [layer.w for layer in trace.layers]
    s = _Numbers(digits)
    _edges(ax, where, weights, trace, s, labelled)
    _nodes(ax, where, net, trace, s, labelled)
    top = step * (max(sizes) - 1) / 2 + (0.6 * step if labelled else 0.3)
    for l, name in enumerate(["input", *(f"hidden {l}" for l in range(1, len(sizes) - 1)),
                              "output"]):
        activation = "" if l == 0 else f" ({net.activations[l - 1]})"
        ax.text(gap * l, top, name + activation, ha="center", va="bottom", fontsize=9,
                fontweight="bold")
    ax.set_xlim(-0.3 * gap, gap * (len(sizes) - 1 + 0.3))
    ax.set_ylim(-top, top + (0.3 * step if labelled else 1.0))  # room for the layer names
    ax.set_title(_title(net, trace, s, labelled), fontsize=9)
    return fig


def _check_trace(net, trace):
    if not isinstance(trace, Trace):
        raise InvalidType(f"trace must be a Trace (net.trace(x, t)) or None, got "
                          f"{type(trace).__name__}")
    if trace.sizes != net.sizes or trace.activations != net.activations:
        raise InvalidValue(f"trace must be of net: it is of a {'-'.join(map(str, trace.sizes))}"
                           f" network ({', '.join(trace.activations)}), net is "
                           f"{'-'.join(map(str, net.sizes))} ({', '.join(net.activations)})")
    for l, layer in enumerate(trace.layers):
        for name, ours, theirs in (("weights", net.weights[l], layer.w),
                                   ("biases", net.biases[l], layer.b)):
            if not np.array_equal(ours, theirs):
                raise InvalidValue(f"trace must be of net's current weights: net.{name}[{l}] "
                                   "differs from the weights the trace started from (trace "
                                   "again after training)")


def _title(net, trace, s, labelled):
    shape = f"{'-'.join(map(str, net.sizes))} network ({', '.join(net.activations)})"
    if not labelled:
        shape += f"; layers over {LABELLED} units are drawn without numbers"
    if trace is None:
        return shape
    sign = "+" if trace.convention == "note" else "−"
    biases = "" if trace.train_biases else ", biases not trained"
    return (f"{shape}: one online step, η = {s.num(trace.eta)}{biases}, "
            f"E = {s.num(trace.error)}\n"
            f"δ as in convention {trace.convention!r}: δ_k = {trace._output_delta_formula()}, "
            f"Δw_ij = {sign}η δ_j y_i")


def _edges(ax, where, weights, trace, s, labelled):
    from matplotlib.collections import LineCollection

    for l, w in enumerate(weights):
        largest = float(np.max(np.abs(w))) or 1.0
        n_i, n_j = w.shape
        segments = [(where[l][i], where[l + 1][j]) for i in range(n_i) for j in range(n_j)]
        ax.add_collection(LineCollection(
            segments, colors=[POSITIVE if w[i, j] >= 0 else NEGATIVE
                              for i in range(n_i) for j in range(n_j)],
            linewidths=[0.4 + 2.0 * abs(w[i, j]) / largest
                        for i in range(n_i) for j in range(n_j)],
            alpha=0.6, zorder=1, gid=f"edges {l}"))
        if not labelled:
            continue
        for i in range(n_i):
            for j in range(n_j):
                (x0, y0), (x1, y1) = where[l][i], where[l + 1][j]
                at = 0.3 + 0.4 * (j / max(n_j - 1, 1))  # staggered, so labels do not meet
                angle = np.degrees(np.arctan2(y1 - y0, x1 - x0))
                text = f"$w_{{{_sub(i + 1, j + 1)}}}$ = {s.num(w[i, j])}"
                if trace is not None:
                    text += (f"\n$\\Delta w_{{{_sub(i + 1, j + 1)}}}$ = "
                             f"{s.num(trace.layers[l].delta_w[i, j])}")
                ax.text(x0 + at * (x1 - x0), y0 + at * (y1 - y0), text, fontsize=6.5,
                        ha="center", va="center", rotation=angle, rotation_mode="anchor",
                        transform_rotates_text=True, zorder=3, gid=f"edge {l} {i} {j}",
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none",
                                  alpha=0.8))


def _nodes(ax, where, net, trace, s, labelled):
    for l, column in enumerate(where):
        for j, (x, y) in enumerate(column):
            if not labelled:
                ax.plot([x], [y], "o", color="0.3", markersize=4, zorder=2, gid=f"node {l} {j}")
                continue
            ax.text(x, y, _node_text(l, j, net, trace, s), fontsize=7.5, ha="center",
                    va="center", zorder=4, gid=f"node {l} {j}",
                    bbox=dict(boxstyle="round,pad=0.35", fc="0.95" if l else "white",
                              ec="0.3"))


def _node_text(l, j, net, trace, s):
    """The lines of node j of layer l (layer 0: the inputs), 1-based as in the trace."""
    n = j + 1
    if l == 0:
        return f"$x_{{{n}}}$" + ("" if trace is None else f" = {s.num(trace.x[j])}")
    if trace is None:
        return f"$b_{{{n}}}$ = {s.num(net.biases[l - 1][j])}"
    layer = trace.layers[l - 1]
    lines = [f"$b_{{{n}}}$ = {s.num(layer.b[j])}",
             f"$z_{{{n}}}$ = {s.num(layer.z[j])}",
             f"$y_{{{n}}}$ = {s.num(layer.y[j])}"]
    if l == len(trace.layers):
        lines.append(f"$t_{{{n}}}$ = {s.num(trace.t[j])}")
    lines.append(f"$\\delta_{{{n}}}$ = {s.num(layer.delta[j])}")
    if trace.train_biases:
        lines.append(f"$\\Delta b_{{{n}}}$ = {s.num(layer.delta_b[j])}")
    return "\n".join(lines)


__all__ = ["decision_regions", "figure_format", "learning_curve", "network", "save"]
