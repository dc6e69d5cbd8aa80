"""The command line's DATA: a data file or a built-in data set, read as (X, T); and the
files ``nbbackprop predict`` writes.

DATA is one of:

- an ``.npz`` archive holding ``X`` (n, n_in) and either the targets ``T`` (n, n_out)
  or (n,), or integer class labels ``y`` (n,). It is read by ``storage.read_npz``, which
  never unpickles.
- a ``.csv`` file, one sample per line; ``target`` (the ``--target`` option) names the
  target columns, comma-separated, and the other columns are the inputs, in file order.
  A first line with a cell that does not read as a number (``nan`` and ``inf`` do, and
  are then refused as samples) is the header and names the columns; without one, the
  columns are named by their position: 1, 2, 3, … A single target column of integers
  (``3``, not ``3.0``) is read as class labels, shape (n,); other targets as float64 of
  shape (n, n_targets). Blank lines are skipped.
- the name of a data set of ``nb.datasets``: ``digits``, ``xor``, or with the function's
  arguments after a colon, ``parity:4``, ``symmetry:6``, ``spirals:200,1`` (what
  ``nb.datasets.spirals(200, 1)`` returns).

A path that exists is always a file (a file named ``xor`` is read, not the data set);
any file that does not end in ``.csv`` is read as ``.npz``, and the reader says what it
is instead when it is not one. Problems are ``InvalidValue`` naming the file, the line
and the column.
"""

import csv
import errno
import inspect
import math
import os
import re
import typing

import numpy as np

from . import datasets
from .exceptions import InputError, InvalidValue
from .storage import PathIsADirectory, PathNotFound, read_npz, write_atomically, write_npz

#: The data sets DATA may name, each a function of ``nb.datasets``.
DATASETS = ("digits", "xor", "parity", "symmetry", "spirals")
#: The file formats ``write_predictions`` writes, by suffix.
PREDICTION_FORMATS = (".npz", ".csv")

_NAME = re.compile(r"[A-Za-z_]\w*")
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


class Data(typing.NamedTuple):
    """Samples read from DATA: X (n, n_in), T (None when DATA holds no targets), and the
    name messages call them by (the path, or "data set parity:4")."""

    X: np.ndarray
    T: np.ndarray | None
    name: str


def read_data(data, target=None, *, need_targets=True):
    """The ``Data`` of the DATA argument ``data`` (see the module's docstring); ``target``
    names the target columns of a .csv file. Without ``need_targets``, DATA may hold
    inputs only (a .csv without ``target``, an .npz without T or y)."""
    is_file = os.path.exists(data) or data.lower().endswith((".csv", ".npz"))
    name = data.partition(":")[0]
    if not is_file and _NAME.fullmatch(name):
        if target is not None:
            raise InvalidValue(f"--target names columns of a .csv DATA, not of the data set "
                               f"{data}")
        return _dataset(data)
    if data.lower().endswith(".csv"):
        return _csv(data, target, need_targets)
    if target is not None:
        raise InvalidValue(f"--target names columns of a .csv DATA, not of {data} (an .npz "
                           "holds X and T, or X and integer labels y)")
    return _npz(data, need_targets)


def check_width(data, net, model):
    """Refuse ``data`` whose inputs or targets do not fit ``net``, loaded from ``model``."""
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if data.X.shape[1] != n_in:
        raise InvalidValue(f"{data.name} has {_count(data.X.shape[1], 'input column')}, but "
                           f"the model {model} takes {_count(n_in, 'input')}")
    T = data.T
    if T is not None and T.ndim == 2 and T.shape[1] != n_out:
        raise InvalidValue(f"{data.name} has {_count(T.shape[1], 'target column')}, but the "
                           f"model {model} has {_count(n_out, 'output')}")


def _count(n, thing):
    return f"{n} {thing}{'' if n == 1 else 's'}"


# --- data sets -------------------------------------------------------------------------------


def _forms():
    """How DATA names each data set: "parity:BITS", "spirals:N[,SEED[,NOISE]]", …"""
    forms = []
    for name in DATASETS:
        parameters = inspect.signature(getattr(datasets, name)).parameters.values()
        required = [p.name.upper() for p in parameters if p.default is p.empty]
        optional = [p.name.upper() for p in parameters if p.default is not p.empty]
        form = name + (":" + ",".join(required) if required else "")
        form += "".join(f"[{',' if required or i else ':'}{p}" for i, p in enumerate(optional))
        forms.append(form + "]" * len(optional))
    return forms


def _dataset(spec):
    name, colon, rest = spec.partition(":")
    if name not in DATASETS:
        raise InvalidValue(f"DATA {spec} is not a file, nor a data set: the data sets are "
                           f"{', '.join(_forms())}")
    function = getattr(datasets, name)
    values = [_number(text, spec) for text in rest.split(",")] if colon else []
    try:
        inspect.signature(function).bind(*values)
    except TypeError:
        raise InvalidValue(f"DATA {spec} must be {_forms()[DATASETS.index(name)]} (the "
                           f"arguments of nb.datasets.{name}), got {len(values)} "
                           "argument(s)") from None
    try:
        X, T = function(*values)
    except InputError as err:
        raise type(err)(f"DATA {spec}: {err}") from None
    except ImportError as err:  # digits without scikit-learn
        raise InvalidValue(f"DATA {spec}: {err}") from None
    return Data(X, T, f"data set {spec}")


def _number(text, spec):
    try:
        return int(text) if _INTEGER.fullmatch(text) else float(text)
    except ValueError:
        raise InvalidValue(f"DATA {spec}: the data set's arguments must be numbers, got "
                           f"{text!r}") from None


# --- .npz ------------------------------------------------------------------------------------


def _npz(path, need_targets):
    arrays = read_npz(path, "data file", {"X"}, exact=False, optional={"T", "y"})
    X = arrays["X"]
    if X.ndim != 2 or X.dtype.kind not in "iuf":
        raise InvalidValue(f"{path}: X must be a 2-D array of numbers (n samples, n_in), got "
                           f"shape {X.shape} and dtype {X.dtype}")
    if "T" in arrays and "y" in arrays:
        raise InvalidValue(f"{path} must hold either T (targets) or y (integer class labels), "
                           "got both")
    T = arrays.get("T", arrays.get("y"))
    if T is None:
        if need_targets:
            raise InvalidValue(f"{path} must hold the targets, T, or integer class labels, y, "
                               "next to X; it holds neither")
        return Data(X, None, path)
    if "y" in arrays and (T.ndim != 1 or T.dtype.kind not in "iu"):
        raise InvalidValue(f"{path}: y must be integer class labels of shape (n,), got shape "
                           f"{T.shape} and dtype {T.dtype}")
    if T.ndim not in (1, 2) or T.dtype.kind not in "iuf":
        raise InvalidValue(f"{path}: T must be a 1-D or 2-D array of numbers, got shape "
                           f"{T.shape} and dtype {T.dtype}")
    if len(T) != len(X):
        raise InvalidValue(f"{path} must hold one target per sample of X: X has shape "
                           f"{X.shape}, {'y' if 'y' in arrays else 'T'} has shape {T.shape}")
    return Data(X, T, path)


# --- .csv ------------------------------------------------------------------------------------


def _csv(path, target, need_targets):
    lines = _csv_lines(path)
    if not lines:
        raise InvalidValue(f"{path} is empty: expected rows of numbers, one sample per line, "
                           "after an optional header")
    header = not all(_is_number(cell) for cell in lines[0][1])
    if header:
        names = [cell.strip() for cell in lines[0][1]]
        _check_names(path, names)
        lines = lines[1:]
        if not lines:
            raise InvalidValue(f"{path} holds a header but no samples")
    else:
        names = [str(c) for c in range(1, len(lines[0][1]) + 1)]
    values = np.array([_row(path, number, cells, names, header) for number, cells in lines])
    if target is None:
        if need_targets:
            raise InvalidValue(f"{path} needs --target naming its target column(s); "
                               f"{_columns(names, header)}")
        return Data(values, None, path)
    wanted = [name.strip() for name in target.split(",")]
    for name in wanted:
        if name not in names:
            raise InvalidValue(f"--target {name!r} is not a column of {path}; "
                               f"{_columns(names, header)}")
        if wanted.count(name) > 1:
            raise InvalidValue(f"--target names the column {name!r} twice")
    targets = [names.index(name) for name in wanted]
    inputs = [c for c in range(len(names)) if c not in targets]
    if not inputs:
        raise InvalidValue(f"--target {target} leaves no input columns in {path}")
    X, T = values[:, inputs], values[:, targets]
    if len(targets) == 1 and all(_INTEGER.fullmatch(cells[targets[0]]) for _, cells in lines):
        T = T[:, 0].astype(np.int64)  # class labels
    return Data(X, T, path)


def _csv_lines(path):
    """[(line number, cells)] of the CSV file's lines that are not blank."""
    try:
        file = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise PathNotFound(errno.ENOENT, f"the data file {path} does not exist", path) from None
    except IsADirectoryError:
        raise PathIsADirectory(errno.EISDIR, f"the data file {path} is a directory, not a "
                               ".csv file", path) from None
    with file:
        reader = csv.reader(file)
        try:
            return [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
        except (csv.Error, UnicodeDecodeError) as err:
            raise InvalidValue(f"{path} is not a readable .csv file (UTF-8 text, "
                               f"comma-separated): {err}") from None


def _check_names(path, names):
    for c, name in enumerate(names):
        if not name:
            raise InvalidValue(f"{path}, line 1 (the header): column {c + 1} has no name")
        if name in names[:c]:
            raise InvalidValue(f"{path}, line 1 (the header): columns {names.index(name) + 1} "
                               f"and {c + 1} are both named {name!r}")


def _columns(names, header):
    if not header:
        return f"it has no header, so its columns are named by position, 1 to {len(names)}"
    shown = names if len(names) <= 12 else [*names[:10], "…", names[-1]]
    return f"its columns are {', '.join(shown)}"


def _row(path, number, cells, names, header):
    if len(cells) != len(names):
        first = "the header has" if header else "the first line has"
        raise InvalidValue(f"{path}, line {number}: expected {len(names)} cells, as {first}, "
                           f"got {len(cells)}")
    row = [_float(cell) for cell in cells]
    if None in row:
        c = row.index(None)
        column = f"column {names[c]!r} ({c + 1})" if header else f"column {c + 1}"
        raise InvalidValue(f"{path}, line {number}, {column}: expected a finite number, got "
                           f"{cells[c]!r}")
    return row


def _is_number(cell):
    """Whether the cell reads as a number, finite or not (a first line of numbers, one of
    them nan, is a sample to refuse, not a header)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _float(cell):
    """The cell's number, or None when it is not a finite number."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# --- predictions -----------------------------------------------------------------------------


def check_prediction_path(path):
    """Refuse an output path whose suffix names no format ``write_predictions`` writes."""
    if not path.lower().endswith(PREDICTION_FORMATS):
        raise InvalidValue(f"--out must end in {' or '.join(PREDICTION_FORMATS)} (the format "
                           f"of the predictions), got {path}")


def write_predictions(path, outputs, labels=None):
    """Write the outputs (n, n_out) and, for a classifier, the labels (n,) to ``path``,
    atomically: an .npz with the arrays ``outputs`` and ``labels``, or a .csv with a header
    ``output_0, …, output_{n_out−1}[, label]`` and the numbers written in full
    (``repr``: they read back to the same float64)."""
    check_prediction_path(path)
    if path.lower().endswith(".npz"):
        write_npz(path, {"outputs": outputs} | ({} if labels is None else {"labels": labels}))
        return
    header = [f"output_{k}" for k in range(outputs.shape[1])]
    columns = [outputs[:, k].tolist() for k in range(outputs.shape[1])]
    if labels is not None:
        header.append("label")
        columns.append(labels.tolist())
    text = "\n".join([",".join(header)] + [",".join(map(repr, row)) for row in zip(*columns)])
    write_atomically(path, lambda file: file.write((text + "\n").encode()))
