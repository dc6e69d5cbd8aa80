"""save and load: bit-exact round trips, atomic writes, and clear errors on bad files."""

import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import nbbackprop as nb
from nbbackprop import storage
from oracle import networks_and_data


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(networks_and_data())
def test_round_trip_is_bit_exact(tmp_path, case):
    weights, biases, activations, X, _ = case
    net = nb.Network.from_weights(weights, biases, activations)
    path = tmp_path / "model.npz"
    net.save(path)
    same = nb.load(path)
    assert same.sizes == net.sizes and same.activations == net.activations
    np.testing.assert_array_equal(same.parameters, net.parameters)
    np.testing.assert_array_equal(same.forward(X), net.forward(X))


def test_file_holds_the_documented_keys(tmp_path):
    """What a C, Julia or R program reads: plain arrays under documented names."""
    net = nb.Network([3, 2, 1], ["relu", "linear"], seed=0)
    net.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:
        assert sorted(f.files) == ["activations", "b0", "b1", "format", "loss", "sizes",
                                   "training_epochs", "training_order", "training_rng",
                                   "training_velocity", "version", "w0", "w1"]
        assert str(f["format"]) == "nbbackprop.Network" and int(f["version"]) == 2
        assert str(f["loss"]) == "squared" and int(f["training_epochs"]) == 0
        assert f["training_velocity"].shape == net.parameters.shape
        assert f["sizes"].tolist() == [3, 2, 1]
        assert f["activations"].tolist() == ["relu", "linear"]
        np.testing.assert_array_equal(f["w0"], net.weights[0])
        np.testing.assert_array_equal(f["b1"], net.biases[1])


def test_a_file_written_with_plain_numpy_loads(tmp_path):
    w0, b0 = np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([0.5, 0.6])
    path = tmp_path / "by_hand.npz"
    np.savez(path, format="nbbackprop.Network", version=1, sizes=[2, 2],
             activations=["tanh"], w0=w0, b0=b0)
    net = nb.load(path)
    np.testing.assert_array_equal(net.weights[0], w0)
    np.testing.assert_array_equal(net.forward([1.0, 1.0]), np.tanh(w0.sum(axis=0) + b0))


def test_a_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = nb.Network([2, 2, 1], seed=1)
    old.save(path)
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(storage.np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        nb.Network([2, 2, 1], seed=2).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind


def test_save_keeps_the_name_given_and_reports_a_missing_directory(tmp_path):
    net = nb.Network([2, 1], seed=0)
    net.save(tmp_path / "model.weights")
    assert os.listdir(tmp_path) == ["model.weights"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        net.save(tmp_path / "no" / "model.npz")


def write(path, **arrays):
    np.savez(path, **arrays)
    return path


def good_arrays():
    return dict(format="nbbackprop.Network", version=1, sizes=[2, 1], activations=["tanh"],
                w0=np.ones((2, 1)), b0=np.zeros(1))


def variant(**changes):
    arrays = good_arrays()
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return arrays


@pytest.mark.parametrize(("arrays", "words"), [
    (variant(format="something else"), ["'format'", "nbbackprop.Network"]),
    (variant(format=None), ["'format'", "no such entry"]),
    (variant(version=3), ["format version 3", "reads versions 1 and 2"]),
    (variant(version="1"), ["'version'", "integer"]),
    (variant(b0=None), ["missing ['b0']"]),
    (variant(extra=np.ones(1)), ["unexpected ['extra']"]),
    (variant(w0=np.ones((3, 1))), ["sizes (3, 1)", "'sizes' entry says (2, 1)"]),
    (variant(w0=np.ones((2, 2))), ["biases[0]", "(2,)", "(1,)"]),
    (variant(w0=np.array([[np.nan], [1.0]])), ["weights[0]", "finite", "nan"]),
    (variant(activations=["softsign"]), ["activations[0]", "'softsign'"]),
    (variant(activations=["tanh", "tanh"]), ["'activations'", "1 names"]),
    (variant(sizes=[[2, 1]]), ["'sizes'", "1-D integer"]),
    (variant(w0=np.array([["a"], ["b"]])), ["weights[0]", "real numbers"]),
], ids=lambda v: v[0] if isinstance(v, list) else None)
def test_a_bad_model_file_is_refused_with_the_reason(tmp_path, arrays, words):
    path = write(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError) as info:
        nb.load(path)
    for word in words:
        assert word in str(info.value)
    assert str(path) in str(info.value)


def test_a_truncated_file_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    nb.Network([4, 8, 2], seed=0).save(path)
    data = path.read_bytes()
    for keep in (0, 10, len(data) // 2, len(data) - 10):
        path.write_bytes(data[:keep])
        with pytest.raises(ValueError, match="not a readable nbbackprop model file"):
            nb.load(path)


def test_other_files_are_refused(tmp_path):
    np.save(tmp_path / "array.npy", np.ones(3))
    with pytest.raises(ValueError, match="single .npy array"):
        nb.load(tmp_path / "array.npy")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="not a valid nbbackprop model file"):
        nb.load(tmp_path / "other.zip")
    np.savez(tmp_path / "pickled.npz", w0=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable nbbackprop model file"):
        nb.load(tmp_path / "pickled.npz")
    with pytest.raises(FileNotFoundError):
        nb.load(tmp_path / "missing.npz")
