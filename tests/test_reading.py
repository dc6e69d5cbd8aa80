"""The one .npz reader behind nb.load, the data and gradient files and the CLI: a file that is
not an .npz archive is named for what it is (empty, a single .npy array, a pickle, text, a
directory), and nothing is ever unpickled."""

import io
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nbbackprop as nb
from clear_errors import assert_clear_error
from nbbackprop import storage
from nbbackprop.exceptions import InvalidType, InvalidValue
from nbbackprop.interop import files

NET = nb.Network([2, 1], seed=0)

# Each reader, and what its messages call the file.
READERS = {
    "model": (nb.load, "nbbackprop model file"),
    "data": (files.load_data, "data file"),
    "gradients": (lambda path: files.load_gradients(path, NET), "gradient file"),
}


class Trap:
    """Unpickling this object creates the directory marker: proof that a reader unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def not_npz_files(tmp_path):
    """(name, bytes, words its refusal must contain) for files that are not .npz archives."""
    npy = io.BytesIO()
    np.save(npy, np.ones(3))
    return [
        ("notes.txt", b"hello world, these are notes\n",
         ["is not an .npz archive", "numpy.savez", "Network.save", "b'hello world,'"]),
        ("empty.npz", b"", ["is empty", "not an .npz archive"]),
        ("array.npy", npy.getvalue(), ["single .npy array", "numpy.save", "not an .npz archive"]),
        *[(f"pickle{protocol}.pkl", pickle.dumps(Trap(tmp_path / "unpickled"), protocol=protocol),
           ["Python pickle", "never unpickles", "not an .npz archive"]) for protocol in (2, 5)],
        ("pickle0.pkl", pickle.dumps(Trap(tmp_path / "unpickled"), protocol=0),
         ["is not an .npz archive", "it starts with"]),
    ]


@pytest.mark.parametrize("reader", READERS)
def test_a_file_that_is_not_an_npz_archive_is_named_for_what_it_is(tmp_path, reader):
    read, what = READERS[reader]
    for name, content, words in not_npz_files(tmp_path):
        path = tmp_path / name
        path.write_bytes(content)
        assert_clear_error(lambda: read(path), InvalidValue,  # noqa: B023 - called at once
                           [str(path), f"is not a readable {what}", *words])
        with pytest.raises(InvalidValue) as info:
            read(path)
        assert "allow_pickle" not in str(info.value)
    assert not (tmp_path / "unpickled").exists()


@pytest.mark.parametrize("reader", READERS)
def test_a_directory_and_a_missing_file_are_os_errors_naming_the_path(tmp_path, reader):
    read, what = READERS[reader]
    assert_clear_error(lambda: read(tmp_path), IsADirectoryError,
                       [f"the {what} {tmp_path} is a directory", "not an .npz archive"])
    missing = tmp_path / "missing.npz"
    assert_clear_error(lambda: read(missing), FileNotFoundError,
                       [f"the {what} {missing} does not exist", "No such file"])
    for path in (tmp_path, missing):  # what the CLI looks at to blame the user's path
        with pytest.raises(OSError) as info:
            read(path)
        assert info.value.filename == str(path)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(("path", "exception", "words"), [
    (None, InvalidType, ["path", "str", "NoneType"]),
    (b"model.npz", InvalidType, ["path", "str", "bytes"]),
    ("", InvalidValue, ["path", "file name", "''"]),
    ("a\0b.npz", InvalidValue, ["path", "file name"]),
])
def test_a_path_that_names_no_file_is_refused(reader, path, exception, words):
    assert_clear_error(lambda: READERS[reader][0](path), exception, words)


def test_an_object_array_inside_an_npz_is_refused_unread(tmp_path):
    """np.savez pickles object arrays; reading them would unpickle, so their header is
    enough to refuse them, for every reader."""
    marker = tmp_path / "unpickled"
    trap = np.array([Trap(marker)], dtype=object)
    X, T = nb.xor()
    cases = {
        "model": dict(format="nbbackprop.Network", version=1, sizes=[2, 1],
                      activations=["tanh"], w0=trap, b0=np.zeros(1)),
        "data": dict(X=trap, T=T),
        "gradients": dict(w0=trap, b0=np.zeros(1)),
    }
    for reader, arrays in cases.items():
        read, what = READERS[reader]
        path = tmp_path / f"{reader}.npz"
        np.savez(path, **arrays)
        assert_clear_error(lambda: read(path), InvalidValue,  # noqa: B023 - called at once
                           [str(path), f"not a readable {what}", "'w0.npy'" if reader != "data"
                            else "'X.npy'", "Python objects", "never unpickles"])
    assert not marker.exists()


def test_a_data_file_may_hold_other_arrays_which_are_not_read(tmp_path):
    marker = tmp_path / "unpickled"
    X, T = nb.xor()
    np.savez(tmp_path / "data.npz", X=X, T=T, notes=np.array([Trap(marker)], dtype=object))
    X2, T2 = files.load_data(tmp_path / "data.npz")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(T2, T)
    assert not marker.exists()
    np.savez(tmp_path / "data.npz", X=X)
    assert_clear_error(lambda: files.load_data(tmp_path / "data.npz"), InvalidValue,
                       ["data.npz", "not a valid data file", "missing ['T']", "holds ['X']"])


def test_a_gradient_file_must_hold_exactly_the_network_s_arrays(tmp_path):
    np.savez(tmp_path / "g.npz", w0=np.ones((2, 1)), b0=np.ones(1), w1=np.ones((1, 1)))
    assert_clear_error(lambda: files.load_gradients(tmp_path / "g.npz", NET), InvalidValue,
                       ["g.npz", "not a valid gradient file", "exactly", "unexpected ['w1']"])


def npy_bytes(header_shape, data):
    """A .npy file whose header claims header_shape (float64) and whose data is data."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        out, {"descr": "<f8", "fortran_order": False, "shape": header_shape})
    return out.getvalue() + data


def zip_of(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def test_a_member_whose_header_claims_more_than_it_holds_is_refused_before_allocating(tmp_path):
    path = zip_of(tmp_path / "data.npz", {"X.npy": npy_bytes((10**12,), b"\0" * 16),
                                           "T.npy": npy_bytes((2,), b"\0" * 16)})
    assert_clear_error(lambda: files.load_data(path), InvalidValue,
                       [str(path), "'X.npy'", "(1000000000000,)", "float64", "more than its"])


def test_a_member_with_bytes_beyond_its_array_is_refused(tmp_path):
    path = zip_of(tmp_path / "data.npz", {"X.npy": npy_bytes((2,), b"\0" * 24),
                                           "T.npy": npy_bytes((2,), b"\0" * 16)})
    assert_clear_error(lambda: files.load_data(path), InvalidValue,
                       [str(path), "'X.npy'", "more bytes than its array of shape (2,)"])


def test_a_member_that_is_not_npy_or_appears_twice_is_refused(tmp_path):
    path = zip_of(tmp_path / "model.npz", {"readme.txt": "hello"})
    assert_clear_error(lambda: nb.load(path), InvalidValue,
                       [str(path), "not a valid nbbackprop model file", "'readme.txt'",
                        "not a .npy array"])
    path = tmp_path / "twice.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        zip_of(path, {"X.npy": npy_bytes((2,), b"\0" * 16)})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("X.npy", npy_bytes((2,), b"\0" * 16))
    assert_clear_error(lambda: files.load_data(path), InvalidValue,
                       [str(path), "two members named 'X.npy'"])


def garbage():
    """Bytes that are not an .npz archive, some starting like one, a .npy file or a pickle."""
    return st.one_of(st.binary(max_size=200),
                     *[st.binary(max_size=200).map(lambda b, p=prefix: p + b)
                       for prefix in (b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY", b"\x80\x04",
                                      b"\x80\x05\x95")])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
@given(content=garbage(), reader=st.sampled_from(sorted(READERS)))
def test_any_bytes_that_are_not_an_npz_are_refused_naming_the_path(tmp_path, content, reader):
    read, what = READERS[reader]
    path = tmp_path / "file.npz"
    path.write_bytes(content)
    with pytest.raises(InvalidValue) as info:
        read(path)
    message = str(info.value)
    assert str(path) in message and what in message
    assert "allow_pickle" not in message and "numba" not in message.lower()


def test_the_model_format_names_the_package_s_activations():
    assert storage.ACTIVATION_NAMES == nb.OUTPUT_ACTIVATIONS


def test_read_model_and_write_model_speak_plain_arrays(tmp_path):
    weights, biases = [np.arange(6.0).reshape(2, 3), np.ones((3, 1))], [np.zeros(3), [0.5]]
    storage.write_model(tmp_path / "m.npz",
                        storage.Model((2, 3, 1), ("tanh", "linear"), weights, biases))
    sizes, activations, w, b, loss, training = storage.read_model(tmp_path / "m.npz")
    assert sizes == (2, 3, 1) and activations == ("tanh", "linear")
    assert loss == "squared" and training is None
    assert all(type(n) is int for n in sizes) and all(type(a) is str for a in activations)
    for got, written in zip(w + b, weights + biases):
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, written)
    assert_clear_error(lambda: storage.write_model(tmp_path / "bad.npz", storage.Model(
                           (2, 1), ("relu",), [np.ones((2, 1))], [[np.inf]])),
                       InvalidValue, ["cannot save the network to", "bad.npz",
                                      "biases[0] must be finite", "inf"])
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_write_npz_refuses_a_directory_as_target(tmp_path):
    assert_clear_error(lambda: storage.write_npz(tmp_path, {"a": np.ones(1)}), IsADirectoryError,
                       [f"cannot save to {tmp_path}", "is a directory"])
    with pytest.raises(IsADirectoryError) as info:
        NET.save(tmp_path)
    assert info.value.filename == str(tmp_path)


def test_a_directory_that_may_not_be_written_is_named(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".nbbackprop-x.tmp"))

    monkeypatch.setattr(storage.tempfile, "mkstemp", refuse)
    assert_clear_error(lambda: NET.save(tmp_path / "m.npz"), PermissionError,
                       [f"cannot save to {tmp_path / 'm.npz'}", "no permission",
                        str(tmp_path)])
    assert os.listdir(tmp_path) == []
