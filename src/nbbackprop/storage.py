"""Every ``.npz`` archive the package reads or writes: model, data and gradient files.

``read_npz`` is the one reader: it opens the file itself, names what a file that is not an
``.npz`` archive is (empty, a single ``.npy`` array, a pickle, text), reads each member
with ``allow_pickle=False`` after refusing object arrays from their header, and never
unpickles. ``write_npz`` writes atomically: a temporary file in the same directory,
flushed and fsynced, renamed over the target, then the directory fsynced, so a crash
mid-save leaves the old file intact; the target keeps its permissions.
``write_atomically`` is that write for any content (the command line's CSV files use it).

``read_model`` and ``write_model`` add the model file's format (version 2; version 1
files, which have no ``loss`` and no training state, are read as ``loss="squared"``):

=================  =========================  ===========================================
key                dtype, shape               meaning
=================  =========================  ===========================================
format             str, ()                    always ``"nbbackprop.Network"``
version            int64, ()                  ``2`` (or ``1``)
sizes              int64, (L+1,)              neurons per layer, inputs first
activations        str, (L,)                  sigmoid, tanh, relu, linear (softmax: last)
loss               str, ()                    ``squared`` or ``cross_entropy`` (version 2)
w0 … w{L-1}        float64, (sizes[l], sizes[l+1])  ``w{l}[i, j]`` is w_ij (row-major)
b0 … b{L-1}        float64, (sizes[l+1],)     ``b{l}[j]`` is b_j
training_epochs    int64, ()                  optional, with the three below: epochs
                                              trained so far
training_rng       uint64, (1,)               the shuffle generator's state
training_order     int64, (n,)                the sample order of the last epoch
training_velocity  float64, (P,)              the momentum velocity, laid out like the
                                              parameters (P of them)
=================  =========================  ===========================================

Every key, shape, dtype, name and value is checked before anything is returned, and the
same checks run before a model is written, so what ``write_model`` writes
``read_model`` reads. A file's content that is unusable raises ``InvalidValue`` naming
the path; a path of the wrong type ``InvalidType``; a missing file or a directory the
usual ``FileNotFoundError`` / ``IsADirectoryError`` (with ``filename`` set).

This module works on plain arrays and imports nothing of the package but its exceptions;
``nbbackprop.load`` and ``Network.save`` build networks on top of it.
"""

import errno
import math
import os
import tempfile
import typing
import zipfile
import zlib

import numpy as np

from .exceptions import InputError, InvalidType, InvalidValue

FORMAT, VERSION = "nbbackprop.Network", 2
#: The activation and loss names a model file may hold (the package's).
ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "linear", "softmax")
LOSS_NAMES = ("squared", "cross_entropy")
TRAINING_KEYS = ("training_epochs", "training_rng", "training_order", "training_velocity")


class Model(typing.NamedTuple):
    """What a model file holds: plain Python values and float64 arrays."""

    sizes: tuple
    activations: tuple
    weights: list
    biases: list
    loss: str = "squared"
    training: dict | None = None  # TRAINING_KEYS without "training_", or None

EXPECTED = "an .npz archive (a zip of .npy arrays, as written by numpy.savez or Network.save)"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member's header; the end of an empty zip
_NPY_MAGIC = b"\x93NUMPY"
# What the zip and .npy readers raise on damaged bytes; found by flipping every bit of a
# saved file (tests/test_crash_safety.py): a flipped flag or version byte in a zip
# header gives NotImplementedError ("compression method") or RuntimeError ("encrypted").
_DAMAGE = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError,
           NotImplementedError, RuntimeError)


class PathNotFound(FileNotFoundError):
    """FileNotFoundError whose text is the message alone (``filename`` is still set)."""

    def __str__(self):
        return self.strerror


class PathIsADirectory(IsADirectoryError):
    """IsADirectoryError whose text is the message alone (``filename`` is still set)."""

    def __str__(self):
        return self.strerror


class PathNotWritable(PermissionError):
    """PermissionError whose text is the message alone (``filename`` is still set)."""

    def __str__(self):
        return self.strerror


# --- reading ---------------------------------------------------------------------------------


def read_npz(path, what, keys=None, *, exact=True, optional=()):
    """The arrays of the ``.npz`` archive at ``path``, as a dict from name to array.

    ``what`` names the file in messages ("data file"). ``keys``: the names it must hold
    (None: read whatever it holds); with ``exact=False`` it may hold others, which are
    then not read at all, except those named in ``optional``: read when it holds them.
    """
    path = _path(path)
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        raise PathNotFound(errno.ENOENT, f"the {what} {path} does not exist "
                           f"({os.strerror(errno.ENOENT)})", path) from None
    except IsADirectoryError:
        raise PathIsADirectory(errno.EISDIR, f"the {what} {path} is a directory, not "
                               f"{EXPECTED}", path) from None
    with file:
        problem = _not_a_zip(file.read(16))
        if problem:
            raise InvalidValue(f"{path} is not a readable {what}: {problem}")
        file.seek(0)
        unreadable = f"{path} is not a readable {what}"
        try:
            archive = zipfile.ZipFile(file)
        except _DAMAGE as err:
            raise InvalidValue(f"{unreadable}: it is a damaged or cut short zip archive "
                               f"({err})") from None
        with archive:
            members = _members(archive, path, what, keys, exact, optional)
            arrays = {}
            for key, info in members.items():
                try:
                    arrays[key] = _array(archive, info, f"{unreadable}: its member "
                                                        f"{info.filename!r}")
                except InputError:
                    raise
                except _DAMAGE as err:
                    raise InvalidValue(f"{unreadable}: its member {info.filename!r} is damaged "
                                       f"or cut short ({err})") from None
    return arrays


def _not_a_zip(head):
    """Why a file that starts with the bytes head is not an .npz archive; None if it is a
    zip archive."""
    if head.startswith(_ZIP_MAGIC):
        return None
    if not head:
        return f"it is empty, not {EXPECTED}"
    if head.startswith(_NPY_MAGIC):
        return f"it holds a single .npy array (as written by numpy.save), not {EXPECTED}"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return (f"it is a Python pickle, not {EXPECTED}; nbbackprop never unpickles, since "
                "unpickling can run any code")
    return f"it is not {EXPECTED}: it starts with {head[:12]!r}"


def _members(archive, path, what, keys, exact, optional):
    """The zip members to read, by array name (the member's name without ``.npy``)."""
    members = {}
    for info in archive.infolist():
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key in members:
            raise InvalidValue(f"{path} is not a readable {what}: it holds two members named "
                               f"{info.filename!r}")
        members[key] = info
    if keys is None:
        for info in members.values():
            if not info.filename.endswith(".npy"):
                raise InvalidValue(f"{path} is not a valid {what}: its member "
                                   f"{info.filename!r} is not a .npy array (an .npz archive "
                                   "holds one NAME.npy per array)")
        return members
    missing, extra = sorted(set(keys) - set(members)), sorted(set(members) - set(keys))
    if exact and (missing or extra):
        raise InvalidValue(f"{path} is not a valid {what}: it must hold exactly the arrays "
                           f"{sorted(keys)}; missing {missing}, unexpected {extra}")
    if missing:
        raise InvalidValue(f"{path} is not a valid {what}: it must hold the arrays "
                           f"{sorted(keys)}; missing {missing} (it holds {sorted(members)})")
    return {key: members[key] for key in sorted(set(keys) | (set(optional) & set(members)))}


def _array(archive, info, member):
    """The array in one zip member, read without unpickling; member starts each message."""
    with archive.open(info) as fp:
        if fp.read(len(_NPY_MAGIC)) != _NPY_MAGIC:
            raise InvalidValue(f"{member} is not a .npy array")
        version = tuple(fp.read(2))
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version in ((2, 0), (3, 0)):  # 3.0 allows UTF-8 in structured dtypes' names
            shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise InvalidValue(f"{member} has .npy format version {version}, not 1.0, 2.0 or 3.0")
    if dtype.hasobject:
        raise InvalidValue(f"{member} holds Python objects (dtype {dtype}), which only "
                           "unpickling could read, and nbbackprop never unpickles; expected "
                           "numbers or text")
    if math.prod(shape) * dtype.itemsize > info.file_size:  # before allocating that much
        raise InvalidValue(f"{member} says it holds an array of shape {shape} and dtype "
                           f"{dtype}, more than its {info.file_size} bytes")
    with archive.open(info) as fp:
        array = np.lib.format.read_array(fp, allow_pickle=False)
        if fp.read(1):  # reading to the end also checks the member's CRC-32
            raise InvalidValue(f"{member} holds more bytes than its array of shape "
                               f"{array.shape}")
    return array


def read_model(path):
    """The ``Model`` in the file at ``path``, every entry checked: sizes a tuple of ints,
    activations a tuple of names, weights and biases lists of float64 arrays, the loss's
    name, and the training state (or None)."""
    path = _path(path)
    arrays = read_npz(path, "nbbackprop model file")

    def fail(problem):
        return InvalidValue(f"{path} is not a valid nbbackprop model file: {problem}")

    return _model(arrays, fail)


# --- writing ---------------------------------------------------------------------------------


def write_model(path, model):
    """Write a ``Model`` to ``path`` in the model format, atomically, after the checks
    ``read_model`` makes (a NaN written now would make the file unloadable)."""
    path = _path(path)
    arrays = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION, dtype=np.int64),
        "sizes": np.array(model.sizes, dtype=np.int64),
        "activations": np.array(model.activations, dtype=str),
        "loss": np.array(model.loss, dtype=str),
    }
    for l, (w, b) in enumerate(zip(model.weights, model.biases)):
        arrays[f"w{l}"], arrays[f"b{l}"] = np.asarray(w), np.asarray(b)
    if model.training is not None:
        for key in TRAINING_KEYS:
            arrays[key] = np.asarray(model.training[key.removeprefix("training_")])

    def fail(problem):
        return InvalidValue(f"cannot save the network to {path}: {problem}")

    _model(arrays, fail)
    write_npz(path, arrays)


def write_npz(path, arrays):
    """Write the dict of arrays to ``path`` as an .npz archive (the name is used as given:
    no suffix is added), atomically; an existing file's permissions are kept."""
    write_atomically(path, lambda file: np.savez(file, **arrays))


def check_writable(path):
    """Refuse, before any work, a path a file cannot be saved to: its directory is missing
    or it names a directory. Returns the path as a str."""
    path = _path(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise PathNotFound(errno.ENOENT, f"cannot save to {path}: directory {directory} does "
                           "not exist", path)
    if os.path.isdir(path):
        raise PathIsADirectory(errno.EISDIR, f"cannot save to {path}: it is a directory", path)
    return path


def write_atomically(path, write):
    """Call write(file) on a new binary file that then replaces ``path`` in one rename: a
    crash leaves the old file or the new one, never a mix; an existing file's permissions
    are kept."""
    path = check_writable(path)
    directory = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
    try:
        fd, tmp = tempfile.mkstemp(prefix=".nbbackprop-", suffix=".tmp", dir=directory)
    except PermissionError:
        raise PathNotWritable(errno.EACCES, f"cannot save to {path}: no permission to create "
                              f"files in {directory}", path) from None
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
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


# --- the model format ------------------------------------------------------------------------


def _model(arrays, fail):
    """The ``Model`` of a model file's arrays, or fail(problem) raised for the first
    problem found."""
    if str(arrays.get("format", "")) != FORMAT:
        raise fail(f"its 'format' entry must be {FORMAT!r}, got "
                   f"{str(arrays['format']) if 'format' in arrays else 'no such entry'!r}")
    version = arrays.get("version")
    if version is None or version.shape != () or version.dtype.kind not in "iu":
        raise fail(f"its 'version' entry must be an integer, got {version!r}")
    if int(version) not in (1, VERSION):
        raise fail(f"format version {int(version)} is not supported; this nbbackprop reads "
                   f"versions 1 and {VERSION}")
    sizes = arrays.get("sizes")
    if sizes is None or sizes.ndim != 1 or sizes.dtype.kind not in "iu" or len(sizes) < 2:
        raise fail(f"its 'sizes' entry must be a 1-D integer array of at least 2 sizes, "
                   f"got {sizes!r}")
    L = len(sizes) - 1
    expected = {"format", "version", "sizes", "activations"}
    expected |= {f"w{l}" for l in range(L)} | {f"b{l}" for l in range(L)}
    if int(version) == 2:
        expected.add("loss")
        if TRAINING_KEYS[0] in arrays:
            expected |= set(TRAINING_KEYS)
    if set(arrays) != expected:
        missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
        raise fail(f"for sizes {sizes.tolist()} it must hold exactly the keys "
                   f"{sorted(expected)}; missing {missing}, unexpected {extra}")
    names = arrays["activations"]
    if names.dtype.kind != "U" or names.shape != (L,):
        raise fail(f"its 'activations' entry must be {L} names, got {names!r}")
    shapes = [arrays[f"w{l}"].shape for l in range(L)]
    for l, shape in enumerate(shapes):
        if len(shape) != 2:
            raise fail(f"weights[{l}] must be 2-D (n_i, n_j), got shape {shape}")
        if 0 in shape:
            raise fail(f"weights[{l}] must have at least one row and one column, got shape "
                       f"{shape}")
        if l and shape[0] != shapes[l - 1][1]:
            raise fail(f"weights[{l}] must have {shapes[l - 1][1]} rows to follow "
                       f"weights[{l - 1}] of shape {shapes[l - 1]}, got shape {shape}")
    layer_sizes = tuple(int(n) for n in [shapes[0][0]] + [s[1] for s in shapes])
    activations = tuple(str(name) for name in names)
    for l, name in enumerate(activations):
        if name not in ACTIVATION_NAMES:
            raise fail(f"activations[{l}] must be one of {', '.join(ACTIVATION_NAMES)}, "
                       f"got {name!r}")
    weights, biases = [], []
    for l in range(L):
        w = _finite_floats(arrays[f"w{l}"], f"weights[{l}]", fail)
        b = _finite_floats(arrays[f"b{l}"], f"biases[{l}]", fail)
        if b.shape != (layer_sizes[l + 1],):
            raise fail(f"biases[{l}] must have shape ({layer_sizes[l + 1]},), got shape "
                       f"{b.shape}")
        weights.append(w)
        biases.append(b)
    if layer_sizes != tuple(int(n) for n in sizes):
        raise fail(f"its weights have layer sizes {layer_sizes}, its 'sizes' entry says "
                   f"{tuple(sizes.tolist())}")
    loss = "squared"
    if "loss" in arrays:
        loss = arrays["loss"]
        if loss.dtype.kind != "U" or loss.shape != () or str(loss) not in LOSS_NAMES:
            raise fail(f"its 'loss' entry must be one of {', '.join(LOSS_NAMES)}, got {loss!r}")
        loss = str(loss)
    training = None
    if TRAINING_KEYS[0] in arrays:
        training = _training(arrays, sum(w.size + b.size for w, b in zip(weights, biases)), fail)
    return Model(layer_sizes, activations, weights, biases, loss, training)


def _training(arrays, n_parameters, fail):
    """The training state's entries, checked: epochs, rng, order, velocity."""
    epochs, rng = arrays["training_epochs"], arrays["training_rng"]
    order, velocity = arrays["training_order"], arrays["training_velocity"]
    if epochs.shape != () or epochs.dtype.kind not in "iu" or int(epochs) < 0:
        raise fail(f"its 'training_epochs' entry must be an integer ≥ 0, got {epochs!r}")
    if rng.shape != (1,) or rng.dtype != np.uint64:
        raise fail(f"its 'training_rng' entry must be one uint64, got {rng!r}")
    if (order.ndim != 1 or order.dtype.kind not in "iu"
            or not np.array_equal(np.sort(order), np.arange(order.size))):
        raise fail("its 'training_order' entry must be an order of the samples (a "
                   "permutation of 0 … n−1)")
    velocity = _finite_floats(velocity, "training_velocity", fail)
    if velocity.shape != (n_parameters,):
        raise fail(f"its 'training_velocity' entry must have shape ({n_parameters},), got "
                   f"shape {velocity.shape}")
    return {"epochs": int(epochs), "rng": rng.copy(), "order": order.astype(np.int64),
            "velocity": velocity}


def _finite_floats(array, name, fail):
    """array as C-contiguous float64, if it holds real numbers, all finite."""
    if array.dtype.kind not in "iuf":
        raise fail(f"{name} must hold real numbers (integer or float dtype), got dtype "
                   f"{array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        index = where[0] if len(where) == 1 else where
        raise fail(f"{name} must be finite, got {array[where]} at index {index}")
    return array


# --- paths -----------------------------------------------------------------------------------


def _path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidType(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise InvalidType(f"path must name a file as text, got {path!r}")
    if not path or "\0" in path:
        raise InvalidValue(f"path must be a file name, got {path!r}")
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
