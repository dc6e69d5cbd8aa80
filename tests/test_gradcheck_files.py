"""The .npz path: a model, data and claimed gradients written with plain NumPy (as a C,
Julia or R program would), checked by `nbbackprop gradcheck` and `nbbackprop compare`."""

import json
import subprocess
import sys

import numpy as np
import pytest

import nbbackprop as nb
from nbbackprop.interop import files


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "nbbackprop.cli", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@pytest.fixture
def written(tmp_path):
    """A 3-4-2 tanh/sigmoid model, its data, and its gradient with w0[1, 2] wrong, written
    key by key with np.savez, not with the package; gradients in float32."""
    rng = np.random.default_rng(7)
    sizes = [3, 4, 2]
    model = {"format": np.array("nbbackprop.Network"), "version": np.array(1),
             "sizes": np.array(sizes), "activations": np.array(["tanh", "sigmoid"])}
    for l in range(2):
        model[f"w{l}"] = rng.normal(size=(sizes[l], sizes[l + 1]))
        model[f"b{l}"] = rng.normal(size=sizes[l + 1])
    np.savez(tmp_path / "model.npz", **model)
    X, T = rng.normal(size=(6, 3)), rng.uniform(size=(6, 2))
    np.savez(tmp_path / "data.npz", X=X, T=T)
    net = nb.Network.from_weights([model["w0"], model["w1"]], [model["b0"], model["b1"]],
                                  ["tanh", "sigmoid"])
    gw, gb = net.gradient(X, T)
    right = {**{f"w{l}": w.astype(np.float32) for l, w in enumerate(gw)},
             **{f"b{l}": b.astype(np.float32) for l, b in enumerate(gb)}}
    np.savez(tmp_path / "right.npz", **right)
    right["w0"] = right["w0"].copy()
    right["w0"][1, 2] += 0.05
    np.savez(tmp_path / "wrong.npz", **right)
    return tmp_path


def test_files_round_trip(written):
    net = nb.load(written / "model.npz")
    X, T = files.load_data(written / "data.npz")
    gw, gb = files.load_gradients(written / "wrong.npz", net)
    assert gw[0].dtype == np.float32 and gw[0][1, 2] != net.gradient(X, T)[0][0][1, 2]
    report = nb.compare_gradients(net, X, T, gw, gb)
    assert [e.name for e in report.failures] == ["weights[0][1, 2]"]
    assert report.precision == "float32"


def test_compare_passes_right_gradients_and_exits_0(written):
    result = run("compare", "model.npz", "data.npz", "right.npz", cwd=written)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED: all 26 entries agree" in result.stdout and "float32 gradients" in result.stdout


def test_compare_finds_the_wrong_index_and_exits_1(written):
    result = run("compare", "model.npz", "data.npz", "wrong.npz", cwd=written)
    assert result.returncode == 1 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[2].split("  ")[1] == "weights[0][1, 2]" and lines[2].endswith("FAIL")
    assert lines[-1].startswith("FAILED: 1 of 26 entries disagree; worst weights[0][1, 2]")


def test_compare_json(written):
    result = run("compare", "model.npz", "data.npz", "wrong.npz", "--json", "--all", cwd=written)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert not report["ok"] and report["n_failed"] == 1 and len(report["entries"]) == 26
    assert report["worst"]["name"] == "weights[0][1, 2]"
    assert (report["worst"]["layer"], report["worst"]["i"], report["worst"]["j"]) == (0, 1, 2)


def test_gradcheck_command(written):
    result = run("gradcheck", "model.npz", "data.npz", "--mode", "fast", "--seed", "3",
                 "--json", cwd=written)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["mode"] == "fast" and report["seed"] == 3


@pytest.mark.parametrize(("args", "words"), [
    (["compare", "model.npz", "data.npz", "missing.npz"], ["missing.npz", "does not exist"]),
    (["compare", "model.npz", "data.npz", "partial.npz"], ["partial.npz", "'b1'", "missing"]),
    (["compare", "model.npz", "data.npz", "shape.npz"], ["grad_w[1]", "(4, 2)", "(2, 4)"]),
    (["gradcheck", "model.npz", "right.npz"], ["right.npz", "missing ['X']", "it holds ['b0'"]),
    (["gradcheck", "model.npz", "short.npz"],
     ["short.npz", "X has shape (6, 3), T has shape (3, 2)"]),
    (["gradcheck", "data.npz", "data.npz"], ["data.npz", "model file"]),
    (["gradcheck", "model.npz", "text.npz"], ["text.npz", "not a readable data file"]),
])
def test_bad_files_give_one_line_and_exit_2(written, args, words):
    gw = dict(np.load(written / "right.npz"))
    np.savez(written / "partial.npz", **{k: v for k, v in gw.items() if k != "b1"})
    np.savez(written / "shape.npz", **{**gw, "w1": gw["w1"].T})
    X, T = files.load_data(written / "data.npz")
    np.savez(written / "short.npz", X=X, T=T[:3])
    (written / "text.npz").write_text("not a zip")
    result = run(*args, cwd=written)
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    for word in words:
        assert word in result.stderr, result.stderr


def test_a_missing_argument_is_a_usage_error():
    result = run("compare", "model.npz", "data.npz", cwd=".")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "required: gradients" in result.stderr
