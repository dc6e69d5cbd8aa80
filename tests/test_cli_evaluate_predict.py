"""`nbbackprop evaluate` and `nbbackprop predict` on a saved model, and `train` on every
form of DATA: what they print and write is what the network computes."""

import contextlib
import io
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nbbackprop as nb
from nbbackprop import cli

KINDS = {  # (output activation, loss) of each kind of model
    "softmax": ("softmax", "cross_entropy"),
    "sigmoid": ("sigmoid", "cross_entropy"),
    "regressor": ("linear", "squared"),
}


def run(*args):
    """main(args) in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exit:  # argparse's own errors
            code = exit.code
    return code, out.getvalue(), err.getvalue()


def model_and_data(directory, kind, seed, n=30, n_in=3):
    """A saved model of the kind, and an .npz of data for it (labels y for classifiers)."""
    output, loss = KINDS[kind]
    n_out = 3 if kind == "softmax" else 1
    net = nb.Network([n_in, 4, n_out], "tanh", output_activation=output, loss=loss, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in)) * 2
    if kind == "regressor":
        np.savez(directory / "data.npz", X=X, T=rng.normal(size=(n, 1)))
    else:
        np.savez(directory / "data.npz", X=X, y=rng.integers(0, max(n_out, 2), n))
    net.save(directory / "model.npz")
    return net, str(directory / "model.npz"), str(directory / "data.npz")


def confusion(true, predicted, k):
    """The count of each (true, predicted) pair, by a plain loop."""
    counts = [[0] * k for _ in range(k)]
    for t, p in zip(true, predicted):
        counts[t][p] += 1
    return counts


@settings(max_examples=20)
@given(kind=st.sampled_from(sorted(KINDS)), seed=st.integers(0, 2**16))
def test_evaluate_prints_the_error_accuracy_and_confusion_matrix(tmp_path_factory,
                                                                  kind, seed):
    directory = tmp_path_factory.mktemp("evaluate")
    net, model, data = model_and_data(directory, kind, seed)
    code, out, err = run("evaluate", "--model", model, data)
    assert code == 0, err
    with np.load(data) as arrays:
        X, T = arrays["X"], arrays["y" if kind != "regressor" else "T"]
    lines = out.splitlines()
    assert lines[0] == f"{net} on {data}: 30 samples"
    assert lines[1] == f"error C = {net.error(X, T):.6g}"
    if kind == "regressor":
        assert len(lines) == 2
        return
    Y = net.forward(X)
    predicted = Y.argmax(axis=1) if Y.shape[1] > 1 else (Y[:, 0] >= 0.5).astype(int)
    k = max(Y.shape[1], 2)
    correct = int((predicted == T).sum())
    assert lines[2] == f"accuracy {correct / 30:.2%} ({correct} of 30)"
    assert lines[3] == "confusion matrix (rows: true label, columns: predicted label):"
    assert [int(c) for c in lines[4].split()] == list(range(k))
    rows = [[int(c) for c in line.split()] for line in lines[5:]]
    assert [row[0] for row in rows] == list(range(k))
    assert [row[1:] for row in rows] == confusion(T, predicted, k)


@settings(max_examples=20)
@given(kind=st.sampled_from(sorted(KINDS)), seed=st.integers(0, 2**16),
       suffix=st.sampled_from([".npz", ".csv"]))
def test_predict_writes_the_outputs_and_for_classifiers_the_labels(tmp_path_factory,
                                                                    kind, seed, suffix):
    directory = tmp_path_factory.mktemp("predict")
    net, model, data = model_and_data(directory, kind, seed)
    out = directory / f"p{suffix}"
    code, printed, err = run("predict", "--model", model, data, "--out", out)
    assert code == 0, err
    with np.load(data) as arrays:
        X = arrays["X"]
    Y = net.forward(X)
    labels = None if kind == "regressor" else net.predict(X)
    assert printed == (f"wrote the outputs {Y.shape}"
                       + ("" if labels is None else f" and labels {labels.shape}")
                       + f" on {data} to {out}\n")
    if suffix == ".npz":
        with np.load(out) as saved:
            np.testing.assert_array_equal(saved["outputs"], Y)
            assert ("labels" in saved) == (labels is not None)
            if labels is not None:
                np.testing.assert_array_equal(saved["labels"], labels)
    else:
        table = np.loadtxt(out, delimiter=",", skiprows=1, ndmin=2)
        np.testing.assert_array_equal(table[:, :Y.shape[1]], Y)
        if labels is not None:
            np.testing.assert_array_equal(table[:, -1], labels)


def test_predict_and_evaluate_read_a_csv_s_inputs_around_its_target(tmp_path):
    net, model, _ = model_and_data(tmp_path, "softmax", 1, n_in=2)
    X, labels = np.array([[0.5, -1.0], [2.0, 0.25], [-3.0, 1.5]]), [2, 0, 1]
    rows = "\n".join(f"{x0!r},{label},{x1!r}" for (x0, x1), label in zip(X.tolist(), labels))
    (tmp_path / "d.csv").write_text(f"a,label,b\n{rows}\n")
    code, out, _ = run("evaluate", "--model", model, tmp_path / "d.csv",
                       "--target", "label")
    assert code == 0 and f"error C = {net.error(X, labels):.6g}" in out
    code, _, _ = run("predict", "--model", model, tmp_path / "d.csv", "--out",
                     tmp_path / "p.npz")  # without --target: every column is an input
    assert code == 2
    assert run("predict", "--model", model, tmp_path / "d.csv", "--target", "label",
               "--out", tmp_path / "p.npz")[0] == 0
    with np.load(tmp_path / "p.npz") as saved:
        np.testing.assert_array_equal(saved["outputs"], net.forward(X))


def test_train_reads_a_data_set_name_and_a_csv_as_fit_reads_the_arrays(tmp_path):
    X, y = nb.datasets.spirals(20, 3)
    rows = "\n".join(f"{x0!r},{x1!r},{label}" for (x0, x1), label in zip(X.tolist(), y))
    (tmp_path / "s.csv").write_text(rows + "\n")  # no header: --target by position
    for data, target in (("spirals:20,3", None), (tmp_path / "s.csv", "3")):
        out = tmp_path / "m.npz"
        code, _, err = run("train", data, *(["--target", target] if target else []),
                           "--sizes", "2,5,2", "--output-activation", "softmax", "--loss",
                           "cross_entropy", "--epochs", "20", "--eta", "0.1", "--out", out)
        assert code == 0, err
        net = nb.Network([2, 5, 2], output_activation="softmax", loss="cross_entropy", seed=0)
        net.fit(X, y, epochs=20, eta=0.1)
        np.testing.assert_array_equal(nb.load(out).parameters, net.parameters)


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model_and_data(tmp_path, "softmax", 0)
    (tmp_path / "two.csv").write_text("a,b\n1,2\n")
    (tmp_path / "old.csv").write_text("old\n")
    return tmp_path


BAD = [
    (["evaluate", "--model", "model.npz", "xor"],
     ["data set xor has 2 input columns", "model.npz takes 3 inputs"]),
    (["evaluate", "--model", "model.npz", "parity:3"],
     ["data set parity:3 has 1 target column", "model.npz has 3 outputs"]),
    (["evaluate", "--model", "model.npz", "two.csv"], ["two.csv needs --target"]),
    (["evaluate", "--model", "missing.npz", "xor"], ["missing.npz", "does not exist"]),
    (["evaluate", "--model", "model.npz", "digitz"], ["DATA digitz", "the data sets are"]),
    (["predict", "--model", "model.npz", "data.npz", "--out", "model.npz"],
     ["--out model.npz is the model file", "never overwrite"]),
    (["predict", "--model", "model.npz", "data.npz", "--out", "data.npz"],
     ["--out data.npz is DATA", "never overwrite"]),
    (["predict", "--model", "model.npz", "data.npz", "--out", "p.txt"],
     ["--out must end in .npz or .csv", "p.txt"]),
    (["predict", "--model", "model.npz", "two.csv", "--out", "old.csv"],
     ["two.csv has 2 input columns", "takes 3 inputs"]),
    (["predict", "--model", "model.npz", "data.npz", "--out", "no/p.csv"],
     ["cannot save to no/p.csv", "does not exist"]),
    (["predict", "--model", "model.npz", "data.npz"], ["--out", "required"]),
]


@pytest.mark.parametrize(("args", "words"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_leaves_the_files_as_they_were(files, args,
                                                                        words):
    before = {name: (files / name).read_bytes() for name in os.listdir(files)}
    code, out, err = run(*args)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)
    assert {name: (files / name).read_bytes() for name in os.listdir(files)} == before


def test_gradcheck_and_compare_read_a_csv_with_its_target(tmp_path):
    net, model, _ = model_and_data(tmp_path, "softmax", 2, n_in=2)
    (tmp_path / "d.csv").write_text("label,a,b\n2,0.5,-1\n0,2,0.25\n")
    X, labels = np.array([[0.5, -1.0], [2.0, 0.25]]), np.array([2, 0])
    assert run("gradcheck", model, tmp_path / "d.csv", "--target", "label")[0] == 0
    gw, gb = net.gradient(X, labels)  # the gradient on the CSV's samples passes,
    np.savez(tmp_path / "g.npz", w0=gw[0], w1=gw[1], b0=gb[0], b1=gb[1])
    assert run("compare", model, tmp_path / "d.csv", tmp_path / "g.npz", "--target",
               "label")[0] == 0
    gw[1][0, 0] += 1e-3  # and one entry off fails
    np.savez(tmp_path / "g.npz", w0=gw[0], w1=gw[1], b0=gb[0], b1=gb[1])
    assert run("compare", model, tmp_path / "d.csv", tmp_path / "g.npz", "--target",
               "label")[0] == 1
