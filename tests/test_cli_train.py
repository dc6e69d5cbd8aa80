"""`nbbackprop train`: train on an .npz file, save with --out, continue with --model; on
Ctrl-C or divergence it still saves the last completed epoch's weights and says so."""

import signal
import time

import numpy as np
import pytest

import nbbackprop as nb
import processes
from nbbackprop import cli


@pytest.fixture
def xor_file(tmp_path):
    X, T = nb.xor()
    np.savez(tmp_path / "xor.npz", X=X, T=T)
    return tmp_path / "xor.npz"


def test_train_saves_what_fit_would_give_and_continues_from_it(xor_file, tmp_path, capsys):
    out = tmp_path / "model.npz"
    argv = ["train", str(xor_file), "--sizes", "2,3,1", "--activation", "tanh,sigmoid",
            "--epochs", "300", "--eta", "0.5", "--seed", "4", "--out", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    X, T = nb.xor()
    net = nb.Network([2, 3, 1], "tanh", output_activation="sigmoid", seed=4)
    history = net.fit(X, T, epochs=300, eta=0.5, seed=4)
    np.testing.assert_array_equal(nb.load(out).parameters, net.parameters)
    assert "trained 300 epochs" in printed and f"error C = {history.errors[-1]:.6g}" in printed
    assert cli.main(["train", str(xor_file), "--model", str(out), "--epochs", "100",
                     "--out", str(out)]) == 0
    net.fit(X, T, epochs=100, eta=0.5)  # the saved training state: it continues
    np.testing.assert_array_equal(nb.load(out).parameters, net.parameters)


def test_divergence_is_one_line_and_saves_the_last_finite_epoch(xor_file, tmp_path, capsys):
    out = tmp_path / "model.npz"
    code = cli.main(["train", str(xor_file), "--sizes", "2,3,1", "--activation", "linear",
                     "--eta", "100", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "diverged at epoch 1" in err and f"Saved them to {out}" in err
    np.testing.assert_array_equal(nb.load(out).parameters,
                                  nb.Network([2, 3, 1], "linear", seed=0).parameters)


@pytest.mark.parametrize(("args", "words"), [
    (["--sizes", "2,3,1", "--model", "m.npz"], ["either --sizes", "or --model"]),
    ([], ["either --sizes"]),
    (["--sizes", "2,x,1"], ["--sizes", "2,3,1"]),
    (["--sizes", "3,1"], ["X must have shape (3,) or (n, 3)", "(4, 2)"]),
    (["--sizes", "2,1", "--batch-size", "5"], ["batch_size", "≤ 4"]),
    (["--sizes", "2,1", "--momentum", "1"], ["momentum", "[0, 1)"]),
    (["--sizes", "2,1", "--activation", "tanh,tanh"], ["activation", "per layer"]),
    (["--model", "missing.npz"], ["No such file", "missing.npz"]),
])
def test_bad_train_arguments_give_one_line(xor_file, args, words, capsys):
    try:
        code = cli.main(["train", str(xor_file), *args])
    except SystemExit as exit:  # argparse's own usage errors
        code = exit.code
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


@pytest.mark.parametrize("content", ["not an archive", "arrays without X and T"])
def test_a_bad_data_file_gives_one_line(tmp_path, content, capsys):
    path = tmp_path / "data.npz"
    if content == "not an archive":
        path.write_bytes(b"PK\x03\x04 truncated")
    else:
        np.savez(path, A=np.ones(3))
    assert cli.main(["train", str(path), "--sizes", "2,1"]) == 2  # bad input, as for argparse
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err


def test_a_real_sigint_saves_the_last_completed_epoch_and_exits_130(tmp_path):
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(4000, 128)), rng.random((4000, 10))
    np.savez(tmp_path / "data.npz", X=X, T=T)
    out = tmp_path / "model.npz"
    child = processes.start(["-m", "nbbackprop.cli", "train", str(tmp_path / "data.npz"),
                             "--sizes", "128,128,128,10", "--epochs", "100000", "--eta", "0.01",
                             "--out", str(out)])
    assert child.stdout.readline().startswith("training "), child.stderr.read()
    time.sleep(1.5)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    # With a cold kernel cache (a fresh install), the one-time compile message comes first.
    err = "".join(line for line in err.splitlines(keepends=True)
                  if not line.startswith("nbbackprop: compiling its kernels"))
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "interrupted" in err and f"Saved them to {out}" in err
    epoch = int(err.split("after epoch ")[1].split()[0].rstrip("."))  # "… epoch 0. Saved …"
    saved = nb.load(out)
    if epoch:  # the error it reports is that of the weights it saved
        reported = float(err.split("(error ")[1].split(")")[0])
        assert f"{saved.error(X, T):.6g}" == f"{reported:.6g}"
    else:
        np.testing.assert_array_equal(saved.parameters,
                                      nb.Network([128, 128, 128, 10], seed=0).parameters)
