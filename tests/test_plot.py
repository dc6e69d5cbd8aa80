"""nbbackprop.plot: what each picture shows, read back from the matplotlib artists
(the data of the lines, the predictions of the cells, the labels of the nodes and edges),
after rendering with the Agg backend."""

import io
import re
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nbbackprop as nb

pytest.importorskip("matplotlib")
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection, QuadMesh  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nbbackprop import plot  # noqa: E402


def rendered(fig):
    """fig drawn by Agg (so every label, mathtext included, is laid out), and its Axes."""
    assert isinstance(fig, Figure)
    FigureCanvasAgg(fig).draw()
    (ax,) = fig.axes
    return ax


def history(errors, first_epoch=1, validation=None):
    h = nb.History(errors=np.asarray(errors, dtype=float), epochs=len(errors),
                   stop_reason="epochs", seconds=0.0, first_epoch=first_epoch)
    if validation is not None:
        h.validation_errors = np.asarray(validation, dtype=float)
    return h


errors_lists = st.lists(st.floats(0, 10.0), min_size=1, max_size=50)


# --- learning_curve ------------------------------------------------------------------------


@settings(max_examples=25)
@given(errors=errors_lists, first=st.integers(1, 10**6), with_validation=st.booleans(),
       data=st.data())
def test_learning_curve_draws_the_errors_against_the_networks_epochs(errors, first,
                                                                     with_validation, data):
    validation = (data.draw(st.lists(st.floats(0, 10.0), min_size=len(errors),
                                     max_size=len(errors))) if with_validation else None)
    ax = rendered(plot.learning_curve(history(errors, first, validation)))
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == ({"training", "validation"} if with_validation else {"training"})
    for name, values in (("training", errors), ("validation", validation)):
        if values is not None:
            assert lines[name].get_xdata().tolist() == list(range(first, first + len(errors)))
            assert lines[name].get_ydata().tolist() == values
    positive = min(errors + (validation or [])) > 0
    assert ax.get_yscale() == ("log" if positive else "linear")


def test_learning_curve_of_fit_continues_the_epoch_numbers():
    net = nb.Network([2, 2, 1], seed=0)
    X, T = nb.xor()
    net.fit(X, T, epochs=7)
    h = net.fit(X, T, epochs=5)
    ax = rendered(plot.learning_curve(h))
    (line,) = ax.get_lines()
    assert line.get_xdata().tolist() == [8, 9, 10, 11, 12]
    assert line.get_ydata().tolist() == h.errors.tolist()
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "error C"


def test_learning_curve_of_a_list_starts_at_epoch_1_and_draws_into_a_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.learning_curve([0.5, 0.25, 0.0], ax=ax) is fig
    (line,) = ax.get_lines()
    assert line.get_xdata().tolist() == [1, 2, 3] and ax.get_yscale() == "linear"


@pytest.mark.parametrize(("value", "words"), [
    ([], ["history must be a non-empty 1-D sequence of errors", "shape (0,)"]),
    ([[0.1, 0.2]], ["history must be a non-empty 1-D", "shape (1, 2)"]),
    ([0.1, float("nan")], ["history must be finite", "index 1"]),
    ([0.1, -0.2], ["history must hold errors ≥ 0", "-0.2 at index 1"]),
    (["a"], ["history must hold real numbers"]),
    (history([0.1, 0.2], validation=[0.3]),
     ["history.validation_errors must hold one error per epoch (2), got 1"]),
    (history([0.1], first_epoch=0), ["history.first_epoch must be an integer ≥ 1, got 0"]),
])
def test_learning_curve_refuses_what_is_not_a_curve(value, words):
    with pytest.raises(nb.InputError) as err:
        plot.learning_curve(value)
    for word in words:
        assert word in str(err.value)


def test_ax_must_be_an_axes():
    with pytest.raises(nb.InvalidType, match="ax must be a matplotlib Axes or None, got Figure"):
        plot.learning_curve([1.0], ax=Figure())


# --- decision_regions ----------------------------------------------------------------------


def blobs(n_classes, n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    centres = rng.normal(scale=3.0, size=(n_classes, 2))
    return centres[labels] + rng.normal(size=(n, 2)), labels


@settings(max_examples=10)
@given(n_out=st.integers(1, 4), seed=st.integers(0, 2**16), resolution=st.integers(2, 40))
def test_decision_regions_colours_each_cell_by_predict_at_its_centre(n_out, seed, resolution):
    net = nb.Network([2, 4, n_out], "tanh", seed=seed)
    X, labels = blobs(max(n_out, 2), 30, seed)
    ax = rendered(plot.decision_regions(net, X, labels, resolution=resolution))
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    corners = mesh.get_coordinates()  # (rows + 1, columns + 1, 2): x, y of the cell corners
    assert corners.shape == (resolution + 1, resolution + 1, 2)
    x_edges, y_edges = corners[0, :, 0], corners[:, 0, 1]
    assert x_edges[0] < X[:, 0].min() and x_edges[-1] > X[:, 0].max()
    assert y_edges[0] < X[:, 1].min() and y_edges[-1] > X[:, 1].max()
    xs, ys = (x_edges[:-1] + x_edges[1:]) / 2, (y_edges[:-1] + y_edges[1:]) / 2
    expected = np.array([[net.predict([x, y]) for x in xs] for y in ys])
    assert np.array_equal(np.asarray(mesh.get_array()).reshape(resolution, resolution), expected)
    points = {c.get_label(): c for c in ax.collections if isinstance(c, PathCollection)}
    assert set(points) == {f"class {c}" for c in np.unique(labels)}
    for c in np.unique(labels):
        assert np.array_equal(points[f"class {c}"].get_offsets(), X[labels == c])


def test_decision_regions_takes_targets_as_fit_does():
    net = nb.Network([2, 3, 3], output_activation="softmax", loss="cross_entropy", seed=1)
    X, labels = blobs(3, 20, 1)
    ax = rendered(plot.decision_regions(net, X, nb.one_hot(labels, 3)))
    points = {c.get_label(): c for c in ax.collections if isinstance(c, PathCollection)}
    for c in range(3):
        assert np.array_equal(points[f"class {c}"].get_offsets(), X[labels == c])


@pytest.mark.parametrize(("args", "words"), [
    ((nb.Network([3, 2, 1]), np.zeros((4, 3)), [0, 1, 0, 1]),
     ["decision_regions draws a network with 2 inputs", "net with 3 inputs"]),
    ((nb.Network([2, 2, 1]), np.zeros((4, 3)), [0, 1, 0, 1]),
     ["X must have shape (2,) or (n, 2), got shape (4, 3)"]),
    ((nb.Network([2, 2, 3]), np.zeros((4, 2)), [0, 1, 0]),
     ["labels must have shape (4, 3) or (4,) of integer class labels", "got shape (3,)"]),
    ((nb.Network([2, 2, 3]), np.zeros((4, 2)), [0, 1, 3, 0]),
     ["labels must be class labels from 0 to 2", "got 3 at index 2"]),
    (("net", np.zeros((4, 2)), [0, 1, 0, 1]), ["net must be an nbbackprop Network, got str"]),
])
def test_decision_regions_refuses_a_mismatch(args, words):
    with pytest.raises(nb.InputError) as err:
        plot.decision_regions(*args)
    for word in words:
        assert word in str(err.value)


def test_decision_regions_resolution_is_checked():
    with pytest.raises(nb.InvalidValue, match="resolution must be an integer ≥ 2"):
        plot.decision_regions(nb.Network([2, 1]), [[0.0, 0.0]], [0], resolution=1)


# --- network -------------------------------------------------------------------------------


def texts(ax):
    """{gid: text} of the labels of nodes ('node l j') and edges ('edge l i j')."""
    return {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}


def value(label, name):
    """The number after '<name> = ' in a label, e.g. value(label, '$z_{1}$')."""
    match = re.search(re.escape(name) + r" = (\S+)", label)
    assert match, f"{name} not in {label!r}"
    return float(match.group(1))


def shown(x, digits):
    """x as a label shows it, rounded to `digits` significant digits."""
    return float(f"{x:.{digits}g}")


nets = st.builds(
    lambda sizes, activation, seed: nb.Network(sizes, activation, seed=seed),
    st.lists(st.integers(1, 4), min_size=2, max_size=4),
    st.sampled_from(["sigmoid", "tanh", "relu", "linear"]), st.integers(0, 2**16))


@settings(max_examples=15)
@given(net=nets, digits=st.integers(2, 9), convention=st.sampled_from(nb.CONVENTIONS),
       train_biases=st.booleans(), data=st.data())
def test_network_labels_every_node_and_edge_with_the_traces_numbers(net, digits, convention,
                                                                    train_biases, data):
    x = data.draw(st.lists(st.floats(-2, 2), min_size=net.sizes[0], max_size=net.sizes[0]))
    t = data.draw(st.lists(st.floats(0, 1), min_size=net.sizes[-1], max_size=net.sizes[-1]))
    tr = net.trace(x, t, eta=0.25, convention=convention, train_biases=train_biases)
    ax = rendered(plot.network(net, tr, digits=digits))
    labels = texts(ax)
    for i in range(net.sizes[0]):
        assert value(labels[f"node 0 {i}"], f"$x_{{{i + 1}}}$") == shown(x[i], digits)
    for l, layer in enumerate(tr.layers):
        for j in range(net.sizes[l + 1]):
            label, n = labels[f"node {l + 1} {j}"], j + 1
            assert value(label, f"$b_{{{n}}}$") == shown(layer.b[j], digits)
            assert value(label, f"$z_{{{n}}}$") == shown(layer.z[j], digits)
            assert value(label, f"$y_{{{n}}}$") == shown(layer.y[j], digits)
            assert value(label, f"$\\delta_{{{n}}}$") == shown(layer.delta[j], digits)
            assert ("$\\Delta b" in label) == train_biases
            if train_biases:
                assert value(label, f"$\\Delta b_{{{n}}}$") == shown(layer.delta_b[j], digits)
            if l == len(tr.layers) - 1:
                assert value(label, f"$t_{{{n}}}$") == shown(t[j], digits)
            for i in range(net.sizes[l]):
                edge = labels[f"edge {l} {i} {j}"]
                ij = f"{i + 1}{j + 1}"
                assert value(edge, f"$w_{{{ij}}}$") == shown(layer.w[i, j], digits)
                assert value(edge, f"$\\Delta w_{{{ij}}}$") == shown(layer.delta_w[i, j], digits)
    assert len(labels) == sum(net.sizes) + sum(a * b for a, b in zip(net.sizes, net.sizes[1:]))
    assert f"convention {convention!r}" in ax.get_title()


def test_network_without_a_trace_shows_weights_and_biases():
    net = nb.Network.from_weights([[[0.5, -1.0]], [[2.0], [0.25]]], [[0.1, 0.2], [-0.3]],
                                  activations=["tanh", "sigmoid"])
    ax = rendered(plot.network(net))
    assert texts(ax) == {
        "node 0 0": "$x_{1}$",
        "node 1 0": "$b_{1}$ = 0.1", "node 1 1": "$b_{2}$ = 0.2",
        "node 2 0": "$b_{1}$ = -0.3",
        "edge 0 0 0": "$w_{11}$ = 0.5", "edge 0 0 1": "$w_{12}$ = -1",
        "edge 1 0 0": "$w_{11}$ = 2", "edge 1 1 0": "$w_{21}$ = 0.25"}
    edges = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert [len(c.get_segments()) for c in edges] == [2, 2]
    # edge 0 → 1 of the first layer is negative: drawn in the negative colour
    from matplotlib.colors import to_rgba
    colours = [tuple(c) for c in edges[0].get_colors()]
    assert colours[0][:3] == to_rgba(plot.POSITIVE)[:3]
    assert colours[1][:3] == to_rgba(plot.NEGATIVE)[:3]


def test_wide_layers_are_drawn_without_numbers_and_wider_ones_refused():
    net = nb.Network([12, 30, 3], seed=0)
    ax = rendered(plot.network(net))
    assert not [gid for gid in texts(ax) if gid.startswith(("node", "edge"))]
    assert "drawn without numbers" in ax.get_title()
    edges = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert [len(c.get_segments()) for c in edges] == [12 * 30, 30 * 3]
    with pytest.raises(nb.InvalidValue, match=r"at most 100 units, got net with sizes "
                                              r"\(784, 10\); print\(net.trace"):
        plot.network(nb.Network([784, 10]))


def test_network_refuses_a_trace_of_another_network():
    net = nb.Network([2, 2, 1], seed=0)
    other = nb.Network([2, 3, 1], seed=0)
    with pytest.raises(nb.InvalidValue, match=r"trace must be of net: it is of a 2-3-1 network "
                                              r"\(sigmoid, sigmoid\), net is 2-2-1"):
        plot.network(net, other.trace([0, 1], [1]))
    tr = net.trace([0, 1], [1])
    net.fit(*nb.xor(), epochs=1)
    with pytest.raises(nb.InvalidValue, match=r"trace must be of net's current weights: "
                                              r"net.weights\[0\] differs"):
        plot.network(net, tr)
    with pytest.raises(nb.InvalidType, match="trace must be a Trace"):
        plot.network(net, tr.to_dict())


def test_figures_save_in_the_format_of_their_name():
    fig = plot.network(nb.Network([2, 1], seed=0))
    for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")):
        out = io.BytesIO()
        fig.savefig(out, format=fmt)
        assert out.getvalue().startswith(magic)


def test_without_matplotlib_the_error_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for call in (lambda: plot.learning_curve([1.0]),
                 lambda: plot.network(nb.Network([2, 1])),
                 lambda: plot.decision_regions(nb.Network([2, 1]), [[0.0, 0.0]], [0])):
        with pytest.raises(ImportError, match=re.escape('pip install "nbbackprop[plot]"')):
            call()


# --- save and `nbbackprop trace --plot` ----------------------------------------------------


def run(capsys, *args):
    from nbbackprop import cli

    try:
        code = cli.main(list(args))
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


MAGIC = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}


@pytest.mark.parametrize("fmt", plot.FORMATS)
def test_trace_plot_saves_the_network_with_the_trace_in_the_names_format(tmp_path, capsys,
                                                                         monkeypatch, fmt):
    drawn = []
    real_network = plot.network
    monkeypatch.setattr(plot, "network", lambda net, tr: drawn.append((net, tr))
                        or real_network(net, tr))
    path = tmp_path / f"step.{fmt.upper() if fmt == 'pdf' else fmt}"
    code, out, err = run(capsys, "trace", "--example", "mazur", "--plot", str(path))
    assert code == 0, err
    assert path.read_bytes().startswith(MAGIC[fmt])
    assert f"drew the step to {path}" in err
    assert out == run(capsys, "trace", "--example", "mazur")[1]  # the printed trace unchanged
    ((net, tr),) = drawn
    assert tr.to_dict() == nb.worked_example("mazur").trace().to_dict()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_trace_plot_replaces_a_file_only_once_the_picture_is_whole(tmp_path, capsys,
                                                                   monkeypatch):
    path = tmp_path / "step.png"
    path.write_bytes(b"old")
    code, _, err = run(capsys, "trace", "--example", "mazur", "--plot", str(path))
    assert code == 0 and path.read_bytes().startswith(MAGIC["png"])

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    path.write_bytes(b"old")
    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plot.save(plot.network(nb.Network([2, 1])), path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["step.png"]


@pytest.mark.parametrize(("args", "words"), [
    (["--plot", "step.jpg"], ["--plot must end with .png, .svg or .pdf", "'step.jpg'"]),
    (["--plot", "step"], ["--plot must end with .png, .svg or .pdf", "'step'"]),
    (["--plot", "missing/step.png"], ["cannot save to missing/step.png", "does not exist"]),
])
def test_trace_plot_refuses_a_bad_file_name_before_printing(tmp_path, capsys, monkeypatch,
                                                            args, words):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "trace", "--example", "mazur", *args)
    assert code == 2 and out == ""
    for word in words:
        assert word in err


def test_trace_plot_of_a_wide_model_is_refused(tmp_path, capsys):
    nb.Network([101, 2]).save(tmp_path / "m.npz")
    code, out, err = run(capsys, "trace", "--model", str(tmp_path / "m.npz"), "--x",
                         *["0"] * 101, "--t", "0", "1", "--plot", str(tmp_path / "s.png"))
    assert code == 2 and out == ""
    assert "network draws layers of at most 100 units" in err
    assert not (tmp_path / "s.png").exists()


def test_trace_plot_without_matplotlib_names_the_extra(tmp_path, capsys, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    code, out, err = run(capsys, "trace", "--example", "mazur", "--plot",
                         str(tmp_path / "s.png"))
    assert code == 2 and out == ""
    assert 'nbbackprop trace: error: --plot nbbackprop.plot needs matplotlib: pip install ' \
           '"nbbackprop[plot]"' in err


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda p: plot.save("fig", p / "a.png"), nb.InvalidType,
     "fig must be a matplotlib Figure, got str"),
    (lambda p: plot.save(Figure(), p / "a.gif"), nb.InvalidValue,
     "path must end with .png, .svg or .pdf (the picture's format), got"),
    (lambda p: plot.save(Figure(), 3), nb.InvalidType,
     "path must be a file name (str or os.PathLike), got int"),
    (lambda p: plot.save(Figure(), p / "a.png", dpi=0), nb.InvalidValue,
     "dpi must be an integer ≥ 10 and ≤ 1200, got 0"),
])
def test_save_refuses_what_it_cannot_write(tmp_path, call, error, words):
    with pytest.raises(error) as err:
        call(tmp_path)
    assert words in str(err.value)


def test_train_plot_draws_the_learning_curve_of_the_run(tmp_path, capsys, monkeypatch):
    drawn = []
    real_curve = plot.learning_curve
    monkeypatch.setattr(plot, "learning_curve", lambda h: drawn.append(h) or real_curve(h))
    path = tmp_path / "curve.svg"
    code, out, err = run(capsys, "train", "xor", "--sizes", "2,2,1", "--epochs", "30",
                         "--val", "xor", "--plot", str(path))
    assert code == 0, err
    assert path.read_bytes().startswith(MAGIC["svg"])
    assert f"drew the learning curve to {path}" in out
    ((history,),) = [drawn]
    X, T = nb.datasets.xor()
    net = nb.Network([2, 2, 1], seed=0)
    expected = net.fit(X, T, epochs=30, validation=(X, T))
    np.testing.assert_array_equal(history.errors, expected.errors)
    np.testing.assert_array_equal(history.validation_errors, expected.validation_errors)


@pytest.mark.parametrize(("args", "words"), [
    (["--plot", "curve.jpg"], ["--plot must end with .png, .svg or .pdf", "'curve.jpg'"]),
    (["--plot", "missing/curve.png"], ["cannot save to missing/curve.png", "does not exist"]),
])
def test_train_plot_refuses_a_bad_file_name_before_training(tmp_path, capsys, monkeypatch,
                                                            args, words):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "train", "xor", "--sizes", "2,2,1", "--epochs", "3", *args)
    assert code == 2 and out == ""
    for word in words:
        assert word in err
