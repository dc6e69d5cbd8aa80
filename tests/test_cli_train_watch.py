"""`nbbackprop train` with --val, --patience, --progress: the summary, the warnings, and
data checked before training starts."""

import sys

import numpy as np
import pytest

import nbbackprop as nb
from nbbackprop import cli


@pytest.fixture
def files(tmp_path):
    """A 3-class problem: training and validation .npz files with integer labels y as T."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 4))
    def data(n):
        y = rng.integers(0, 3, n)
        return centres[y] + 0.3 * rng.normal(size=(n, 4)), y
    (X, y), (Xv, yv) = data(60), data(20)
    np.savez(tmp_path / "train.npz", X=X, T=y)
    np.savez(tmp_path / "val.npz", X=Xv, T=yv)
    return tmp_path, (X, y), (Xv, yv)


CLASSIFIER = ["--sizes", "4,5,3", "--activation", "tanh", "--output-activation", "softmax",
              "--loss", "cross_entropy", "--eta", "0.1", "--epochs", "30"]


def classifier():
    return nb.Network([4, 5, 3], "tanh", output_activation="softmax", loss="cross_entropy",
                      seed=0)


def test_the_summary_gives_both_errors_and_accuracies(files, capsys):
    path, (X, y), (Xv, yv) = files
    out = path / "model.npz"
    assert cli.main(["train", str(path / "train.npz"), "--val", str(path / "val.npz"),
                     *CLASSIFIER, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    net = classifier()
    net.fit(X, y, epochs=30, eta=0.1)  # validation changes nothing in training
    np.testing.assert_array_equal(nb.load(out).parameters, net.parameters)
    assert (f": error C = {net.error(X, y):.6g}, training accuracy "
            f"{net.accuracy(X, y):.2%}\n") in printed
    assert (f"\nvalidation: error C = {net.error(Xv, yv):.6g}, validation accuracy "
            f"{net.accuracy(Xv, yv):.2%}\n") in printed
    assert f"saved the model to {out}" in printed


def test_without_out_it_says_the_model_was_not_saved(files, capsys):
    path, _, _ = files
    assert cli.main(["train", str(path / "train.npz"), *CLASSIFIER]) == 0
    printed = capsys.readouterr().out
    assert "the model was not saved" in printed and "validation" not in printed


def test_patience_stops_early_and_keeps_the_best_epoch(files, capsys):
    path, (X, y), (Xv, yv) = files
    np.savez(path / "wrong.npz", X=Xv, T=(yv + 1) % 3)  # labels no training can fit
    out = path / "model.npz"
    assert cli.main(["train", str(path / "train.npz"), "--val", str(path / "wrong.npz"),
                     "--patience", "3", *CLASSIFIER, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    history = classifier().fit(X, y, epochs=30, eta=0.1, validation=(Xv, (yv + 1) % 3),
                               patience=3)
    assert history.stop_reason == "early_stopping"
    assert f"best at epoch {history.best_epoch}" in printed
    assert nb.load(out).epochs_trained == history.best_epoch


@pytest.mark.parametrize(("which", "args", "words"), [
    ("val", ["--val", "{path}/bad.npz"], ["--val", "bad.npz", "X must have shape", "(5, 2)"]),
    ("data", [], ["X must have shape (4,) or (n, 4)", "(5, 2)"]),
    ("patience", ["--patience", "2"], ["--patience needs --val or --val-split"]),
    ("both", ["--val", "{path}/val.npz", "--val-split", "0.2"],
     ["give either --val", "or --val-split", "not both"]),
    ("fraction", ["--val-split", "1.5"],
     ["--val-split", "must be a fraction between 0 and 1", "got 1.5"]),
    ("fraction", ["--val-split", "a"], ["--val-split", "must be a fraction", "got a"]),
])
def test_bad_data_is_refused_before_training_is_announced(files, which, args, words, capsys):
    path, _, _ = files
    np.savez(path / "bad.npz", X=np.ones((5, 2)), T=np.zeros(5, dtype=np.int64))
    data = path / ("bad.npz" if which == "data" else "train.npz")
    try:
        code = cli.main(["train", str(data), *[a.format(path=path) for a in args], *CLASSIFIER])
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and captured.err.count("\n") == 1
    for word in words:
        assert word in captured.err, (word, captured.err)


@pytest.mark.parametrize("seed", [None, 3])
def test_val_split_holds_out_the_rows_datasets_split_holds_out(files, seed, capsys):
    path, (X, y), _ = files
    out = path / "model.npz"
    seeding = [] if seed is None else ["--seed", str(seed)]
    assert cli.main(["train", str(path / "train.npz"), "--val-split", "0.25", *CLASSIFIER,
                     *seeding, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    X_train, y_train, X_val, y_val = nb.datasets.split(X, y, 0.25, seed=seed or 0)
    net = nb.Network([4, 5, 3], "tanh", output_activation="softmax", loss="cross_entropy",
                     seed=seed or 0)
    net.fit(X_train, y_train, epochs=30, eta=0.1, seed=seed)
    np.testing.assert_array_equal(nb.load(out).parameters, net.parameters)
    assert f"on {len(X_train)} samples" in printed
    assert (f"\nvalidation: error C = {net.error(X_val, y_val):.6g}, validation accuracy "
            f"{net.accuracy(X_val, y_val):.2%}\n") in printed


def test_warnings_are_printed_after_the_summary(files, capsys):
    path, (X, y), _ = files
    np.savez(path / "raw.npz", X=X * 100, T=y)
    assert cli.main(["train", str(path / "raw.npz"), *CLASSIFIER]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # a successful run leaves stderr empty
    summary, warning = captured.out.split("\n")[1:3]
    assert summary.startswith("trained 30 epochs")
    assert warning.startswith("warning: the inputs are far from unit scale (as large as")


@pytest.mark.parametrize(("flag", "bar"), [("--progress", True), ("--no-progress", False),
                                           (None, False)])  # captured stderr: no terminal
def test_the_progress_bar_is_on_stderr_when_asked(files, flag, bar, capsys):
    pytest.importorskip("tqdm")
    path, _, _ = files
    assert cli.main(["train", str(path / "train.npz"), "--val", str(path / "val.npz"),
                     *CLASSIFIER, *([flag] if flag else [])]) == 0
    err = capsys.readouterr().err
    assert ("30/30" in err and "val_acc=" in err) == bar


def test_progress_without_tqdm_is_one_line_naming_the_extra(files, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    path, _, _ = files
    assert cli.main(["train", str(path / "train.npz"), *CLASSIFIER, "--progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "nbbackprop[progress]"' in err
