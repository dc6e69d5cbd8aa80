"""Saving and loading networks as .npz files that any language can read and write.

Keys of the file (format version 1):

============  ==========================  ================================================
key           dtype, shape                meaning
============  ==========================  ================================================
format        str, ()                     always ``"nbbackprop.Network"``
version       int64, ()                   ``1``
sizes         int64, (L+1,)               neurons per layer, inputs first
activations   str, (L,)                   one of sigmoid, tanh, relu, linear per layer
w0 … w{L-1}   float64, (sizes[l], sizes[l+1])   ``w{l}[i, j]`` is w_ij (row-major)
b0 … b{L-1}   float64, (sizes[l+1],)      ``b{l}[j]`` is b_j
============  ==========================  ================================================

``save`` is atomic: it writes a temporary file in the same directory, flushes and fsyncs
it, then renames it over the target, so a crash mid-save leaves the old file intact.
``load`` never unpickles, and checks every key, shape and value before building anything.
"""

import os
import tempfile
import zipfile
import zlib

import numpy as np

FORMAT, VERSION = "nbbackprop.Network", 1


def save(net, path):
    """Write ``net`` to ``path`` (the name is used as given: no suffix is added)."""
    path = _path(path)
    net.check_parameters()  # a NaN written now would make the file unloadable later
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {path}: directory {directory} does not exist")
    arrays = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION, dtype=np.int64),
        "sizes": np.array(net.sizes, dtype=np.int64),
        "activations": np.array(net.activations),
    }
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"w{l}"], arrays[f"b{l}"] = w, b
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
    fd, tmp = tempfile.mkstemp(prefix=".nbbackprop-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def load(path):
    """Read a network written by ``Network.save`` (or by any program following the format)."""
    from .network import Network

    path = _path(path)
    # What the zip and npy readers raise on damaged bytes; found by flipping every bit of a
    # saved file (tests/test_crash_safety.py): a flipped flag or version byte in a zip
    # header gives NotImplementedError ("compression method") or RuntimeError ("encrypted").
    unreadable = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError,
                  NotImplementedError, RuntimeError)
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except unreadable as err:
        raise ValueError(f"{path} is not a readable nbbackprop model file: {err}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not a readable nbbackprop model file: it holds a single "
                         ".npy array, not an .npz archive")
    try:
        with archive:
            arrays = {key: archive[key] for key in archive.files}
    except unreadable as err:  # a truncated or corrupted member
        raise ValueError(f"{path} is not a readable nbbackprop model file: {err}") from None

    def fail(problem):
        return ValueError(f"{path} is not a valid nbbackprop model file: {problem}")

    if str(arrays.get("format", "")) != FORMAT:
        raise fail(f"its 'format' entry must be {FORMAT!r}, got "
                   f"{str(arrays['format']) if 'format' in arrays else 'no such entry'!r}")
    version = arrays.get("version")
    if version is None or version.shape != () or version.dtype.kind not in "iu":
        raise fail(f"its 'version' entry must be an integer, got {version!r}")
    if int(version) != VERSION:
        raise fail(f"format version {int(version)} is not supported; this nbbackprop reads "
                   f"version {VERSION}")
    sizes = arrays.get("sizes")
    if sizes is None or sizes.ndim != 1 or sizes.dtype.kind not in "iu" or len(sizes) < 2:
        raise fail(f"its 'sizes' entry must be a 1-D integer array of at least 2 sizes, "
                   f"got {sizes!r}")
    L = len(sizes) - 1
    expected = {"format", "version", "sizes", "activations"}
    expected |= {f"w{l}" for l in range(L)} | {f"b{l}" for l in range(L)}
    if set(arrays) != expected:
        missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
        raise fail(f"for sizes {sizes.tolist()} it must hold exactly the keys "
                   f"{sorted(expected)}; missing {missing}, unexpected {extra}")
    names = arrays["activations"]
    if names.dtype.kind != "U" or names.shape != (L,):
        raise fail(f"its 'activations' entry must be {L} names, got {names!r}")
    try:
        net = Network.from_weights([arrays[f"w{l}"] for l in range(L)],
                                   [arrays[f"b{l}"] for l in range(L)],
                                   activations=[str(a) for a in names])
    except (ValueError, TypeError) as err:
        raise fail(str(err)) from None
    if net.sizes != tuple(int(n) for n in sizes):
        raise fail(f"its weights have layer sizes {net.sizes}, its 'sizes' entry says "
                   f"{tuple(sizes.tolist())}")
    return net


def _path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"path must name a file as text, got {path!r}")
    if not path or "\0" in path:
        raise ValueError(f"path must be a file name, got {path!r}")
    return path


def _fsync_directory(directory):
    """Make the rename itself durable (best effort: not every platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
