"""Small built-in problems, class labels as one-hot rows, and the data a user brings.

- ``xor()``, ``parity(bits)``, ``symmetry(n)``: every binary input of a Boolean problem.
- ``spirals(n, seed=0, noise=0.0)``: two interleaved spirals in the plane.
- ``digits()``: scikit-learn's 8×8 handwritten digits (needs scikit-learn).
- ``load_idx(images_path, labels_path)``: MNIST-format IDX files, gzipped or not.
- ``split(X, T, test_size=0.2, seed=0)``: a reproducible shuffled train/test split.
"""

import gzip
import math
import numbers
import os
import zlib

import numpy as np

from . import _validate as check
from .exceptions import InvalidType, InvalidValue

MAX_BITS = 16  # 2^16 rows: every Boolean problem here stays a few megabytes


def one_hot(labels, n_classes=None):
    """Integer class labels (shape (n,)) as one-hot rows: a float64 array of shape
    (n, n_classes) with a 1 in column ``labels[s]`` of row s; ``n_classes`` defaults to the
    largest label + 1. What ``fit`` and ``error`` do with 1-D integer targets."""
    return check.one_hot(labels, n_classes)


def xor():
    """The XOR problem: inputs X of shape (4, 2) and targets T of shape (4, 1), float64."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    T = np.array([[0.0], [1.0], [1.0], [0.0]])
    return X, T


def _binary_inputs(bits, name):
    """All 2^bits binary rows, float64 of shape (2^bits, bits); row r is r in binary, most
    significant bit first."""
    bits = check.integer(bits, name, minimum=1, maximum=MAX_BITS)
    rows = np.arange(2**bits)[:, None] >> np.arange(bits - 1, -1, -1)
    return (rows & 1).astype(np.float64)


def parity(bits):
    """The parity problem: X (2^bits, bits) float64, every binary input (row r is r in
    binary, most significant bit first); T (2^bits, 1) float64, 1 where X's row holds an
    odd number of ones. ``bits`` is an integer from 1 to 16."""
    X = _binary_inputs(bits, "bits")
    T = (X.sum(axis=1) % 2)[:, None]
    return X, T


def symmetry(n):
    """The symmetry problem of Rumelhart, Hinton & Williams (1986): X (2^n, n) float64,
    every binary input (row r is r in binary); T (2^n, 1) float64, 1 where the row reads
    the same backwards (is symmetric about its centre). ``n`` is an integer from 1 to 16."""
    X = _binary_inputs(n, "n")
    T = (X == X[:, ::-1]).all(axis=1).astype(np.float64)[:, None]
    return X, T


def spirals(n, seed=0, noise=0.0):
    """Two interleaved spirals: X (2n, 2) float64, labels (2n,) int64, the n points of
    spiral 0 first, then the n of spiral 1.

    Point s of spiral c has t ~ U(0, 1) and lies at radius t, angle 3πt + πc (one and a
    half turns from the centre out, the second spiral the first turned by half a turn),
    plus N(0, noise²) in each coordinate. The same ``seed`` (a non-negative integer) gives
    the same points; ``noise`` is a finite float ≥ 0.
    """
    n = check.integer(n, "n", minimum=1)
    seed = check.integer(seed, "seed", minimum=0)
    noise = check.real(noise, "noise", expected="a finite float ≥ 0", ok=lambda v: v >= 0)
    rng = np.random.default_rng(seed)
    t = rng.random(2 * n)
    labels = np.repeat(np.arange(2, dtype=np.int64), n)
    angle = 3 * np.pi * t + np.pi * labels
    X = np.column_stack((t * np.cos(angle), t * np.sin(angle)))
    if noise:
        X += rng.normal(0.0, noise, size=X.shape)
    return X, labels


def digits():
    """scikit-learn's 8×8 handwritten digits: X (1797, 64) float64 in [0, 1] (the pixels'
    0–16 divided by 16), labels (1797,) int64 from 0 to 9. Needs scikit-learn, imported
    only when called."""
    from .interop import sklearn as adapter

    return adapter.digits()


# --- IDX files ---------------------------------------------------------------------------

IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801
GZIP_MAGIC = b"\x1f\x8b"
# Deflate compresses at most about 1032 to 1: a gzip file that promises more data than
# this allows is truncated, and is refused before anything that large is read.
MAX_DEFLATE_RATIO = 1100
CHUNK = 1 << 20


def _read_idx(path, name, magic, ndim, what):
    """The dimensions and the data bytes of an IDX file of ubyte with ``ndim`` dimensions."""
    path = os.fspath(path)
    header_size = 4 + 4 * ndim
    with open(path, "rb") as raw:  # FileNotFoundError, IsADirectoryError name the path
        file_size = os.fstat(raw.fileno()).st_size
        zipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if zipped else raw
        try:
            header = stream.read(header_size)
            if len(header) < 4:
                raise InvalidValue(f"{name} {path} must be an IDX file of {what} (magic "
                                   f"0x{magic:08x}), got a file of {len(header)} byte(s)")
            found = int.from_bytes(header[:4], "big")
            if found != magic:
                raise InvalidValue(f"{name} {path} must be an IDX file of {what} (magic "
                                   f"0x{magic:08x}: unsigned bytes, {ndim} dimension(s)), "
                                   f"got magic 0x{found:08x}")
            if len(header) < header_size:
                raise InvalidValue(f"{name} {path} is truncated: its header must hold {ndim} "
                                   f"dimension(s), got {len(header) - 4} byte(s) of them")
            dims = tuple(int.from_bytes(header[4 + 4 * d: 8 + 4 * d], "big")
                         for d in range(ndim))
            expected = math.prod(dims)
            if zipped and expected > file_size * MAX_DEFLATE_RATIO:
                raise InvalidValue(f"{name} {path} is truncated: its header promises "
                                   f"{' × '.join(map(str, dims))} = {expected} bytes of data, "
                                   f"got a gzip file of {file_size} bytes, too small to hold "
                                   "them")
            if not zipped and expected > file_size - header_size:
                raise InvalidValue(f"{name} {path} is truncated: its header promises "
                                   f"{' × '.join(map(str, dims))} = {expected} bytes of data, "
                                   f"got {file_size - header_size}")
            data = _read_at_most(stream, expected + 1)
        except (OSError, EOFError, zlib.error) as err:  # a damaged gzip stream
            raise InvalidValue(f"{name} {path} must be a readable gzip file, got: {err}") from None
        finally:
            if zipped:
                stream.close()
    if len(data) < expected:
        raise InvalidValue(f"{name} {path} is truncated: its header promises "
                           f"{' × '.join(map(str, dims))} = {expected} bytes of data, "
                           f"got {len(data)}")
    if len(data) > expected:
        raise InvalidValue(f"{name} {path} must end after the {expected} bytes of data its "
                           "header promises, got trailing bytes")
    return dims, data


def _read_at_most(stream, size):
    """Up to ``size`` bytes, read in chunks (never one allocation of ``size`` up front)."""
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(min(CHUNK, size - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def load_idx(images_path, labels_path):
    """MNIST-format IDX files, each gzipped or not (told apart by the gzip magic bytes):
    images (magic 0x00000803, n × rows × cols unsigned bytes) as X, float64 of shape
    (n, rows·cols) in [0, 1] (the bytes divided by 255), and labels (magic 0x00000801, n
    unsigned bytes) as int64 of shape (n,). Returns (X, labels).

    Refuses, naming the file: a wrong magic number, fewer or more data bytes than the
    header says, and two files that hold different numbers of samples."""
    (n, rows, cols), pixels = _read_idx(images_path, "images_path", IMAGES_MAGIC, 3, "images")
    (n_labels,), labels = _read_idx(labels_path, "labels_path", LABELS_MAGIC, 1, "labels")
    if n != n_labels:
        raise InvalidValue(f"labels_path {os.fspath(labels_path)} must hold one label per image "
                           f"of images_path {os.fspath(images_path)} ({n}), got {n_labels}")
    X = np.frombuffer(pixels, dtype=np.uint8).reshape(n, rows * cols) / 255.0
    return X, np.frombuffer(labels, dtype=np.uint8).astype(np.int64)


# --- train/test split --------------------------------------------------------------------


def _rows(value, name):
    """value as an array with at least one dimension (its dtype kept), checked numeric."""
    check.float_array(value, name)  # refuses ragged, bool, complex, object, string arrays
    array = np.asarray(value)
    if array.ndim == 0:
        raise InvalidValue(f"{name} must be an array of rows, got a scalar {check.shown(value)}")
    return array


def split(X, T, test_size=0.2, seed=0):
    """A reproducible shuffled split: (X_train, T_train, X_test, T_test).

    ``test_size`` is the fraction of rows held out for testing (a float in (0, 1), rounded
    up to whole rows) or their number (an integer from 1 to n − 1). The rows are shuffled
    by ``np.random.default_rng(seed)``: the same seed gives the same split. X and T keep
    their dtypes (integer labels stay integer) and must have the same number of rows."""
    X, T = _rows(X, "X"), _rows(T, "T")
    n = X.shape[0]
    if T.shape[0] != n:
        raise InvalidValue(f"T must have one row per row of X ({n}), got {T.shape[0]}")
    if n < 2:
        raise InvalidValue(f"X must have at least 2 rows to split, got {n}")
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, (bool, np.bool_)):
        n_test = check.integer(test_size, "test_size", minimum=1, maximum=n - 1)
    elif isinstance(test_size, numbers.Real) and not isinstance(test_size, (bool, np.bool_)):
        fraction = check.real(test_size, "test_size", expected="a fraction in (0, 1)",
                              ok=lambda v: 0 < v < 1)
        n_test = math.ceil(fraction * n)
        if n_test > n - 1:
            raise InvalidValue(f"test_size must leave at least one of the {n} rows for "
                               f"training, got {fraction!r} ({n_test} test rows)")
    else:
        raise InvalidType(f"test_size must be a fraction in (0, 1) or a number of rows from 1 "
                          f"to {n - 1}, got {check.shown(test_size)}")
    seed = check.seed(seed)
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], T[train], X[test], T[test]
