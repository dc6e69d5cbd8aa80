"""The command line's DATA: .npz and .csv files the tests write themselves, and data set
names; what is read, and a clear refusal naming the file, line and column otherwise."""

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nbbackprop as nb
from nbbackprop import storage
from nbbackprop.data_files import read_data, write_predictions
from nbbackprop.exceptions import InputError

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
matrices = st.tuples(st.integers(1, 12), st.integers(1, 5)).flatmap(
    lambda shape: hnp.arrays(np.float64, shape, elements=finite))


def write_csv(path, rows, header=None):
    """Write rows (lists of numbers or text) as the CSV a user's program would."""
    lines = ([",".join(header)] if header else []) + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@given(X=matrices, data=st.data())
def test_a_csv_with_a_header_gives_its_inputs_and_integer_labels(tmp_path_factory, X, data):
    n, n_in = X.shape
    labels = data.draw(hnp.arrays(np.int64, n, elements=st.integers(-3, 9)))
    at = data.draw(st.integers(0, n_in))  # where the label column is
    names = [f"x{c}" for c in range(n_in)]
    names.insert(at, "label")
    rows = [[repr(v) for v in row] for row in X.tolist()]
    for row, label in zip(rows, labels.tolist()):
        row.insert(at, str(label))
    path = write_csv(tmp_path_factory.mktemp("csv") / "d.csv", rows, names)
    got = read_data(path, "label")
    np.testing.assert_array_equal(got.X, X)  # repr reads back the same float64
    assert got.T.dtype == np.int64 and got.T.shape == (n,)
    np.testing.assert_array_equal(got.T, labels)


@given(values=matrices, data=st.data())
def test_a_csv_without_a_header_names_columns_by_position(tmp_path_factory, values, data):
    n, width = values.shape
    if width < 2:
        values = np.column_stack([values, values])
        width = 2
    targets = data.draw(st.lists(st.integers(1, width), min_size=1, max_size=width - 1,
                                 unique=True))
    path = write_csv(tmp_path_factory.mktemp("csv") / "d.csv",
                     [[repr(v) for v in row] for row in values.tolist()])
    got = read_data(path, ",".join(map(str, targets)))
    inputs = [c for c in range(width) if c + 1 not in targets]
    np.testing.assert_array_equal(got.X, values[:, inputs])
    # float cells (repr always writes a '.' or an exponent) are targets, not labels
    assert got.T.dtype == np.float64 and got.T.shape == (n, len(targets))
    np.testing.assert_array_equal(got.T, values[:, [t - 1 for t in targets]])


def test_csv_details(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("\ufeffa, b ,t\n1,2,3.0\n\n 4 ,5e-1,-6\r\n", encoding="utf-8")  # BOM, CRLF
    got = read_data(str(path), " b ,t")  # names are stripped
    assert got.X.tolist() == [[1.0], [4.0]] and got.T.tolist() == [[2.0, 3.0], [0.5, -6.0]]
    assert read_data(str(path), "a").T.tolist() == [1, 4]  # integers: labels
    assert read_data(str(path), "t").T.dtype == np.float64  # 3.0 is not an integer label
    inputs_only = read_data(str(path), need_targets=False)
    assert inputs_only.T is None and inputs_only.X.shape == (2, 3)


@given(X=matrices, data=st.data())
def test_an_npz_with_T_or_with_integer_labels_y(tmp_path_factory, X, data):
    directory = tmp_path_factory.mktemp("npz")
    T = data.draw(hnp.arrays(np.float64, (len(X), 2), elements=finite))
    y = data.draw(hnp.arrays(np.int64, len(X), elements=st.integers(0, 3)))
    np.savez(directory / "t.npz", X=X, T=T, other=np.ones(3))
    np.savez(directory / "y.npz", X=X, y=y)
    np.savez(directory / "x.npz", X=X)
    got = read_data(str(directory / "t.npz"))
    np.testing.assert_array_equal(got.X, X)
    np.testing.assert_array_equal(got.T, T)
    np.testing.assert_array_equal(read_data(str(directory / "y.npz")).T, y)
    assert read_data(str(directory / "x.npz"), need_targets=False).T is None


@pytest.mark.parametrize(("spec", "expected"), [
    ("xor", nb.datasets.xor()), ("parity:3", nb.datasets.parity(3)),
    ("symmetry:4", nb.datasets.symmetry(4)), ("spirals:5", nb.datasets.spirals(5)),
    ("spirals:5,2,0.1", nb.datasets.spirals(5, 2, 0.1)),
])
def test_a_data_set_by_name_and_arguments(spec, expected):
    got = read_data(spec)
    np.testing.assert_array_equal(got.X, expected[0])
    np.testing.assert_array_equal(got.T, expected[1])
    assert got.name == f"data set {spec}"


def test_an_existing_file_is_a_file_even_with_a_data_set_s_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "xor", X=np.ones((3, 5)), T=np.zeros(3))
    os.rename(tmp_path / "xor.npz", tmp_path / "xor")
    assert read_data("xor").X.shape == (3, 5)


def bad_npz(directory):
    np.savez(directory / "both.npz", X=np.ones((2, 2)), T=np.ones(2), y=np.ones(2, int))
    np.savez(directory / "float-y.npz", X=np.ones((2, 2)), y=np.ones(2))
    np.savez(directory / "neither.npz", X=np.ones((2, 2)), A=np.ones(2))
    np.savez(directory / "no-x.npz", T=np.ones(2))
    np.savez(directory / "short-t.npz", X=np.ones((3, 2)), T=np.ones(2))
    np.savez(directory / "flat-x.npz", X=np.ones(3), T=np.ones(3))
    np.savez(directory / "text-t.npz", X=np.ones((2, 2)), T=np.array(["a", "b"]))
    np.savez(directory / "objects.npz", X=np.array([{"a": 1}, None], dtype=object),
             T=np.ones(2))


BAD = [
    # (file content or None, DATA, --target, words the message must hold)
    ("", "e.csv", "t", ["e.csv is empty", "rows of numbers"]),
    ("\n \n", "e.csv", "t", ["e.csv is empty"]),
    ("a,t\n", "h.csv", "t", ["h.csv", "header but no samples"]),
    ("a,t\n1,2\n3\n", "r.csv", "t", ["r.csv, line 3", "expected 2 cells", "header", "got 1"]),
    ("1,2\n3,4,5\n", "r.csv", "1", ["r.csv, line 2", "expected 2 cells", "first line", "got 3"]),
    ("a,t\n1,2\n3,x\n", "n.csv", "t", ["n.csv, line 3, column 't' (2)", "finite number",
                                        "'x'"]),
    ("a,t\n1,2\n,4\n", "n.csv", "t", ["line 3, column 'a' (1)", "got ''"]),
    ("a,t\n1,nan\n", "n.csv", "t", ["line 2, column 't' (2)", "finite number", "'nan'"]),
    ("1,2\n1,1e999\n", "n.csv", "1", ["line 2, column 2", "'1e999'"]),
    ("1,nan\n1,2\n", "n.csv", "1", ["line 1, column 2", "'nan'"]),  # not a header
    ("a,t\n1,2\n", "m.csv", None, ["m.csv needs --target", "its columns are a, t"]),
    ("a,t\n1,2\n", "m.csv", "label", ["--target 'label'", "not a column of m.csv",
                                       "its columns are a, t"]),
    ("1,2\n", "m.csv", "label", ["--target 'label'", "no header",
                                 "named by position, 1 to 2"]),
    ("a,t\n1,2\n", "m.csv", "t,t", ["--target", "'t' twice"]),
    ("a,t\n1,2\n", "m.csv", "a,t", ["--target a,t leaves no input columns in m.csv"]),
    ("a,a\n1,2\n", "d.csv", "a", ["d.csv, line 1", "columns 1 and 2", "both named 'a'"]),
    ("a,,t\n1,2,3\n", "d.csv", "t", ["d.csv, line 1", "column 2 has no name"]),
    (b"\x93NUMPY\xff\xfe binary", "b.csv", "t", ["b.csv is not a readable .csv file",
                                                "UTF-8"]),
    (None, "missing.csv", "t", ["missing.csv does not exist"]),
    (None, "missing.npz", None, ["missing.npz does not exist"]),
    (None, "both.npz", None, ["both.npz", "either T", "or y", "got both"]),
    (None, "float-y.npz", None, ["float-y.npz", "y must be integer class labels",
                                 "float64"]),
    (None, "neither.npz", None, ["neither.npz must hold the targets, T, or integer class "
                                 "labels, y", "neither"]),
    (None, "no-x.npz", None, ["no-x.npz", "missing ['X']"]),
    (None, "short-t.npz", None, ["short-t.npz", "one target per sample of X",
                                 "X has shape (3, 2), T has shape (2,)"]),
    (None, "flat-x.npz", None, ["flat-x.npz", "X must be a 2-D array", "shape (3,)"]),
    (None, "text-t.npz", None, ["text-t.npz", "T must be", "numbers", "<U1"]),
    (None, "objects.npz", None, ["objects.npz", "never unpickles"]),
    (None, "both.npz", "t", ["--target names columns of a .csv DATA", "both.npz"]),
    (None, "xor", "t", ["--target names columns of a .csv DATA", "data set xor"]),
    (None, "digitz", None, ["DATA digitz is not a file, nor a data set", "digits, xor, "
                            "parity:BITS, symmetry:N, spirals:N[,SEED[,NOISE]]"]),
    (None, "parity", None, ["DATA parity must be parity:BITS", "got 0 argument(s)"]),
    (None, "xor:2", None, ["DATA xor:2 must be xor", "got 1 argument(s)"]),
    (None, "spirals:ten", None, ["DATA spirals:ten", "must be numbers", "'ten'"]),
    (None, "parity:40", None, ["DATA parity:40: bits must be an integer", "≤ 16", "40"]),
    (None, "spirals:5,0.5", None, ["DATA spirals:5,0.5: seed must be an integer", "0.5"]),
]


@pytest.mark.parametrize(("content", "data", "target", "words"), BAD,
                         ids=[f"{d} {t}" for _, d, t, _ in BAD])
def test_bad_data_is_refused_with_a_clear_message(tmp_path, monkeypatch, content, data,
                                                   target, words):
    monkeypatch.chdir(tmp_path)
    bad_npz(tmp_path)
    if isinstance(content, str):
        (tmp_path / data).write_text(content, encoding="utf-8")
    elif content is not None:
        (tmp_path / data).write_bytes(content)
    with pytest.raises((InputError, FileNotFoundError)) as info:
        read_data(data, target)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_digits_without_scikit_learn_says_what_to_install(monkeypatch):
    from nbbackprop.interop import sklearn as adapter

    def missing():
        raise ImportError(adapter.NEEDS)

    monkeypatch.setattr(adapter, "digits", missing)
    with pytest.raises(nb.InvalidValue, match="DATA digits: .*needs scikit-learn"):
        read_data("digits")


@given(outputs=matrices, classifier=st.booleans())
def test_predictions_read_back_exactly(tmp_path_factory, outputs, classifier):
    directory = tmp_path_factory.mktemp("out")
    labels = np.argmax(outputs, axis=1) if classifier else None
    write_predictions(str(directory / "p.npz"), outputs, labels)
    write_predictions(str(directory / "p.csv"), outputs, labels)
    with np.load(directory / "p.npz") as saved:
        assert sorted(saved) == (["labels", "outputs"] if classifier else ["outputs"])
        np.testing.assert_array_equal(saved["outputs"], outputs)
        if classifier:
            np.testing.assert_array_equal(saved["labels"], labels)
    lines = (directory / "p.csv").read_text().splitlines()
    k = outputs.shape[1]
    assert lines[0].split(",") == [f"output_{c}" for c in range(k)] + ["label"] * classifier
    cells = [line.split(",") for line in lines[1:]]
    np.testing.assert_array_equal(np.array([[float(c) for c in row[:k]] for row in cells]),
                                  outputs)
    if classifier:
        assert [int(row[k]) for row in cells] == labels.tolist()


def test_a_failed_write_keeps_the_old_predictions(tmp_path, monkeypatch):
    path = tmp_path / "p.csv"
    path.write_text("old\n")

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "replace", crash)
    with pytest.raises(OSError, match="No space"):
        write_predictions(str(path), np.ones((2, 1)))
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["p.csv"]


def test_an_unknown_prediction_format_is_refused(tmp_path):
    with pytest.raises(nb.InvalidValue, match=r"--out must end in \.npz or \.csv.*p\.txt"):
        write_predictions(str(tmp_path / "p.txt"), np.ones((2, 1)))
    assert not (tmp_path / "p.txt").exists()


def test_a_directory_named_like_a_csv_is_refused_naming_it(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(IsADirectoryError, match=r"d\.csv is a directory, not a \.csv file") as info:
        read_data(str(tmp_path / "d.csv"), "t")
    assert info.value.filename == str(tmp_path / "d.csv")  # the command line's exit 2
