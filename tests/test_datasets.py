"""nb.datasets: the Boolean problems against an independent computation, spirals and split
as properties, IDX files round-tripped through files the test writes, every refusal named,
and a network that learns parity(3)."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nbbackprop as nb
from clear_errors import assert_clear_error
from nbbackprop import datasets
from nbbackprop.exceptions import InvalidType, InvalidValue

BITS = st.integers(1, 10)


def bits_of(row):
    """The row as a tuple of 0/1 ints, checking every entry is exactly 0.0 or 1.0."""
    assert all(v in (0.0, 1.0) for v in row)
    return tuple(int(v) for v in row)


def every_binary_input(X, T, n):
    """The rows of X as 0/1 tuples, checking X, T are float64 of shapes (2ⁿ, n), (2ⁿ, 1)
    and X holds every n-bit input exactly once."""
    assert X.shape == (2**n, n) and T.shape == (2**n, 1)
    assert X.dtype == T.dtype == np.float64
    rows = [bits_of(row) for row in X]
    assert len(set(rows)) == 2**n  # all distinct, so every binary input once
    return rows


@given(BITS)
def test_parity_is_every_input_with_its_odd_count(bits):
    X, T = datasets.parity(bits)
    rows = every_binary_input(X, T, bits)
    for row, t in zip(rows, T[:, 0]):
        odd = 0
        for b in row:
            odd ^= b
        assert t == odd


@given(BITS)
def test_symmetry_is_every_input_with_its_mirror_test(n):
    X, T = datasets.symmetry(n)
    rows = every_binary_input(X, T, n)
    for row, t in zip(rows, T[:, 0]):
        assert t == float(all(row[i] == row[n - 1 - i] for i in range(n // 2)))


def test_symmetry_counts_the_symmetric_patterns():
    # a symmetric pattern is fixed by its first ceil(n/2) bits
    for n in range(1, 9):
        assert datasets.symmetry(n)[1].sum() == 2 ** ((n + 1) // 2)


@given(st.integers(1, 300), st.integers(0, 2**32), st.floats(0.0, 1.0))
def test_spirals_are_reproducible_balanced_and_shaped(n, seed, noise):
    X, y = datasets.spirals(n, seed=seed, noise=noise)
    X2, y2 = datasets.spirals(n, seed=seed, noise=noise)
    assert X.shape == (2 * n, 2) and X.dtype == np.float64 and np.isfinite(X).all()
    assert y.shape == (2 * n,) and y.dtype == np.int64
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert (y == 0).sum() == (y == 1).sum() == n
    if noise == 0:
        assert (np.hypot(X[:, 0], X[:, 1]) <= 1).all()


def test_spirals_differ_by_seed_and_turn_half_a_turn_apart():
    a, _ = datasets.spirals(50, seed=1)
    b, _ = datasets.spirals(50, seed=2)
    assert not np.array_equal(a, b)
    X, y = datasets.spirals(200, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    angle = np.arctan2(X[:, 1], X[:, 0])
    expected = 3 * np.pi * r + np.pi * y  # radius t, angle 3πt + πc
    assert np.allclose(np.cos(angle), np.cos(expected)) and np.allclose(np.sin(angle),
                                                                        np.sin(expected))


@st.composite
def data_to_split(draw):
    n = draw(st.integers(2, 60))
    width = draw(st.integers(1, 4))
    X = np.arange(n * width, dtype=np.float64).reshape(n, width)  # rows all distinct
    T = np.arange(n, dtype=np.int64) * 10
    if draw(st.booleans()):
        test_size = draw(st.integers(1, n - 1))
        n_test = test_size
    else:
        n_test = draw(st.integers(1, n - 1))
        test_size = (n_test - 0.5) / n  # rounded up to n_test rows
    return X, T, test_size, n_test, draw(st.integers(0, 2**32))


@given(data_to_split())
def test_split_is_a_reproducible_permutation(case):
    X, T, test_size, n_test, seed = case
    X_train, T_train, X_test, T_test = datasets.split(X, T, test_size=test_size, seed=seed)
    n = X.shape[0]
    assert X_test.shape == (n_test, X.shape[1]) and X_train.shape == (n - n_test, X.shape[1])
    assert T_test.shape == (n_test,) and T_train.shape == (n - n_test,)
    assert T_train.dtype == np.int64  # labels stay labels
    rows = sorted(map(tuple, np.concatenate([X_train, X_test]).tolist()))
    assert rows == sorted(map(tuple, X.tolist()))
    # each row keeps its own target
    for x, t in zip(np.concatenate([X_train, X_test]), np.concatenate([T_train, T_test])):
        assert t == 10 * (x[0] // X.shape[1])
    again = datasets.split(X, T, test_size=test_size, seed=seed)
    assert all(np.array_equal(a, b) for a, b in zip(again, (X_train, T_train, X_test, T_test)))


def test_split_defaults_to_a_fifth_and_seed_changes_the_order():
    X = np.arange(100.0)[:, None]
    a = datasets.split(X, X)
    assert a[2].shape == (20, 1)
    b = datasets.split(X, X, seed=1)
    assert not np.array_equal(a[2], b[2])


# --- IDX files ---------------------------------------------------------------------------


def idx_bytes(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + data


def write(path, content, zipped):
    path.write_bytes(gzip.compress(content) if zipped else content)
    return path


@given(st.integers(0, 12), st.integers(1, 5), st.integers(1, 5), st.booleans(), st.booleans(),
       st.data())
def test_idx_round_trip(tmp_path_factory, n, rows, cols, zip_images, zip_labels, data):
    tmp = tmp_path_factory.mktemp("idx")
    pixels = data.draw(st.binary(min_size=n * rows * cols, max_size=n * rows * cols))
    labels = data.draw(st.binary(min_size=n, max_size=n))
    images = write(tmp / "images", idx_bytes(0x803, (n, rows, cols), pixels), zip_images)
    label_file = write(tmp / "labels", idx_bytes(0x801, (n,), labels), zip_labels)
    X, y = datasets.load_idx(images, str(label_file))
    assert X.shape == (n, rows * cols) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    assert np.array_equal(np.round(X * 255).astype(np.uint8).tobytes(), pixels)
    assert 0 <= X.min(initial=0) and X.max(initial=1) <= 1
    assert bytes(y.astype(np.uint8)) == labels


GOOD_IMAGES = idx_bytes(0x803, (2, 2, 2), bytes(range(8)))
GOOD_LABELS = idx_bytes(0x801, (2,), b"\x01\x02")
HUGE = idx_bytes(0x803, (60000, 4096, 4096), b"\x00" * 16)  # promises ~1 TB

IDX_REFUSALS = [
    # (images content, labels content, zipped, path that is named, words)
    (idx_bytes(0x801, (2,), b"ab"), GOOD_LABELS, False, "images", ["magic", "0x00000803",
                                                                    "0x00000801"]),
    (GOOD_IMAGES, GOOD_IMAGES, False, "labels", ["magic", "0x00000801", "0x00000803"]),
    (GOOD_IMAGES[:-1], GOOD_LABELS, False, "images", ["truncated", "8 bytes", "got 7"]),
    (GOOD_IMAGES[:-1], GOOD_LABELS, True, "images", ["truncated", "8 bytes", "got 7"]),
    (GOOD_IMAGES, GOOD_LABELS[:-1], False, "labels", ["truncated", "2 bytes"]),
    (GOOD_IMAGES[:10], GOOD_LABELS, False, "images", ["truncated", "header"]),
    (b"\x00\x00", GOOD_LABELS, False, "images", ["IDX", "2 byte"]),
    (GOOD_IMAGES + b"\x00", GOOD_LABELS, False, "images", ["trailing"]),
    (GOOD_IMAGES + b"\x00", GOOD_LABELS, True, "images", ["trailing"]),
    (GOOD_IMAGES, GOOD_LABELS + b"\x00", True, "labels", ["trailing"]),
    (GOOD_IMAGES, idx_bytes(0x801, (3,), b"abc"), False, "labels", ["one label per image",
                                                                   "(2)", "got 3"]),
    (GOOD_IMAGES, idx_bytes(0x801, (3,), b"abc"), True, "labels", ["one label per image"]),
    (HUGE, GOOD_LABELS, False, "images", ["truncated", "60000 × 4096 × 4096"]),
    (HUGE, GOOD_LABELS, True, "images", ["truncated", "60000 × 4096 × 4096"]),
    (b"\x1f\x8b" + b"not really gzip", GOOD_LABELS, False, "images", ["gzip"]),
]


@pytest.mark.parametrize("images, labels, zipped, named, words", IDX_REFUSALS,
                         ids=[f"{r[3]}-{r[4][0]}-{'gz' if r[2] else 'plain'}"
                              for r in IDX_REFUSALS])
def test_load_idx_refuses_bad_files_by_name(tmp_path, images, labels, zipped, named, words):
    image_file = write(tmp_path / "train-images-idx3-ubyte", images, zipped)
    label_file = write(tmp_path / "train-labels-idx1-ubyte", labels, zipped)
    path = image_file if named == "images" else label_file
    assert_clear_error(lambda: datasets.load_idx(image_file, label_file), InvalidValue,
                       [f"{named}_path", str(path), *words])


def test_load_idx_refuses_missing_files_and_directories_by_name(tmp_path):
    labels = write(tmp_path / "labels", GOOD_LABELS, False)
    missing = tmp_path / "nowhere"
    assert_clear_error(lambda: datasets.load_idx(missing, labels), FileNotFoundError,
                       [str(missing)])
    assert_clear_error(lambda: datasets.load_idx(tmp_path, labels),
                       (IsADirectoryError, PermissionError), [str(tmp_path)])


# --- refusals of the other functions ---------------------------------------------------

X4 = np.zeros((4, 2))
REFUSALS = [
    (lambda: datasets.parity(0), InvalidValue, ["bits", "≥ 1", "≤ 16", "got 0"]),
    (lambda: datasets.parity(17), InvalidValue, ["bits", "≤ 16", "got 17"]),
    (lambda: datasets.parity(3.0), InvalidType, ["bits", "integer", "3.0"]),
    (lambda: datasets.parity(True), InvalidType, ["bits", "integer", "True"]),
    (lambda: datasets.symmetry(-1), InvalidValue, ["n", "≥ 1", "got -1"]),
    (lambda: datasets.symmetry("4"), InvalidType, ["n", "integer", "'4'"]),
    (lambda: datasets.spirals(0), InvalidValue, ["n", "≥ 1", "got 0"]),
    (lambda: datasets.spirals(5, seed=-1), InvalidValue, ["seed", "≥ 0", "got -1"]),
    (lambda: datasets.spirals(5, seed=1.5), InvalidType, ["seed", "integer", "1.5"]),
    (lambda: datasets.spirals(5, noise=-0.1), InvalidValue, ["noise", "≥ 0", "-0.1"]),
    (lambda: datasets.spirals(5, noise=float("nan")), InvalidValue, ["noise", "nan"]),
    (lambda: datasets.spirals(5, noise="a"), InvalidType, ["noise", "'a'"]),
    (lambda: datasets.split(X4, np.zeros(3)), InvalidValue, ["T", "one row per row of X",
                                                             "(4)", "got 3"]),
    (lambda: datasets.split(np.zeros((1, 2)), np.zeros(1)), InvalidValue, ["X", "2 rows",
                                                                          "got 1"]),
    (lambda: datasets.split(3.0, 3.0), InvalidValue, ["X", "array of rows", "3.0"]),
    (lambda: datasets.split([[1], [1, 2]], X4), InvalidValue, ["X", "rectangular"]),
    (lambda: datasets.split(X4, np.array(["a"] * 4)), InvalidType, ["T", "dtype"]),
    (lambda: datasets.split(X4, X4, test_size=0.0), InvalidValue, ["test_size", "(0, 1)",
                                                                   "0.0"]),
    (lambda: datasets.split(X4, X4, test_size=1.0), InvalidValue, ["test_size", "(0, 1)"]),
    (lambda: datasets.split(X4, X4, test_size=0.9), InvalidValue, ["test_size", "training",
                                                                   "0.9"]),
    (lambda: datasets.split(X4, X4, test_size=float("inf")), InvalidValue, ["test_size"]),
    (lambda: datasets.split(X4, X4, test_size=0), InvalidValue, ["test_size", "≥ 1", "≤ 3"]),
    (lambda: datasets.split(X4, X4, test_size=4), InvalidValue, ["test_size", "≤ 3", "got 4"]),
    (lambda: datasets.split(X4, X4, test_size=True), InvalidType, ["test_size", "True"]),
    (lambda: datasets.split(X4, X4, test_size="half"), InvalidType, ["test_size", "1 to 3",
                                                                     "'half'"]),
    (lambda: datasets.split(X4, X4, seed=-3), InvalidValue, ["seed", "got -3"]),
]


@pytest.mark.parametrize("call, exception, words", REFUSALS)
def test_refusals_are_clear(call, exception, words):
    assert_clear_error(call, exception, words)


# --- digits, exports, learning -----------------------------------------------------------


def test_digits():
    pytest.importorskip("sklearn")
    X, y = datasets.digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.shape == (1797,) and y.dtype == np.int64 and set(y.tolist()) == set(range(10))


def test_digits_without_scikit_learn_says_how_to_get_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert_clear_error(datasets.digits, ImportError,
                       ["nb.datasets.digits() needs scikit-learn: pip install scikit-learn"])


def test_exported_as_nb_datasets_and_the_old_names_stay():
    for name in ("parity", "symmetry", "spirals", "digits", "load_idx", "split", "xor",
                 "one_hot"):
        assert callable(getattr(nb.datasets, name))
    assert nb.xor is datasets.xor and nb.one_hot is datasets.one_hot


def test_a_small_network_learns_parity_3():
    X, T = datasets.parity(3)
    net = nb.Network([3, 6, 1], "tanh", output_activation="sigmoid", seed=0)
    net.fit(X, T, epochs=1000, eta=1.0, seed=0)
    assert net.accuracy(X, T) == 1.0
