"""Model files survive crashes: a save killed at any moment (kill -9 of a real process) or
failing at any step leaves the previous file intact and loadable; a damaged file is
refused with a reason, never half-loaded; round trips are bit-exact."""

import io
import os
import random
import struct
import textwrap
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import nbbackprop as nb
import processes
from nbbackprop import storage

SAVER = textwrap.dedent("""
    import sys, time
    import numpy as np
    import nbbackprop as nb
    from nbbackprop import storage

    path, mode = sys.argv[1], sys.argv[2]
    sizes = [1000, 1000, 10]              # about 8 MB: each save takes a while
    nets = [nb.Network(sizes, seed=1), nb.Network(sizes, seed=2)]
    if mode == "before-rename":            # stop for the kill between fsync and rename
        real = storage.os.replace
        def replace(*args):
            print("written", flush=True)
            time.sleep(60)
            real(*args)
        storage.os.replace = replace
        nets[1].save(path)
    else:                                  # save the two networks in turn, forever
        print("saving", flush=True)
        for k in range(10**9):
            nets[k % 2].save(path)
""")


def saved_versions():
    return [nb.Network([1000, 1000, 10], seed=seed).parameters for seed in (1, 2)]


def leftovers(directory):
    return sorted(name for name in os.listdir(directory) if name.startswith(".nbbackprop-"))


def test_kill_9_between_writing_and_renaming_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.npz"
    nb.Network([1000, 1000, 10], seed=1).save(path)
    before = path.read_bytes()
    child = processes.start(["-c", SAVER, str(path), "before-rename"])
    assert child.stdout.readline() == "written\n", child.stderr.read()
    assert len(leftovers(tmp_path)) == 1  # the new version is fully on disk, not yet renamed
    child.kill()  # SIGKILL: no cleanup runs
    child.wait()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(nb.load(path).parameters, saved_versions()[0])


def test_kill_9_at_random_moments_never_leaves_a_damaged_file(tmp_path):
    path = tmp_path / "model.npz"
    nb.Network([1000, 1000, 10], seed=1).save(path)  # a first kill may come before any rename
    versions, rng, mid_save = saved_versions(), random.Random(0), 0
    for _ in range(5):
        child = processes.start(["-c", SAVER, str(path), "loop"])
        assert child.stdout.readline() == "saving\n", child.stderr.read()
        time.sleep(rng.uniform(0.05, 0.5))
        child.kill()
        child.wait()
        mid_save += bool(leftovers(tmp_path))  # killed while a temporary file was open
        for name in leftovers(tmp_path):
            os.unlink(tmp_path / name)
        loaded = nb.load(path).parameters  # whichever version was last renamed, whole
        assert any(np.array_equal(loaded, v) for v in versions)
    assert mid_save >= 1, "no kill landed inside a save; the test proved nothing"


STEPS = ["savez", "flush", "fsync", "chmod", "replace"]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("fault", [OSError("disk full"), KeyboardInterrupt()],
                         ids=["OSError", "KeyboardInterrupt"])
def test_a_fault_at_any_step_of_save_leaves_the_old_file_and_no_litter(tmp_path, monkeypatch,
                                                                      step, fault):
    path = tmp_path / "model.npz"
    nb.Network([3, 2, 1], seed=1).save(path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        if step == "savez":
            args[0].write(b"half an archive")
        raise fault

    if step == "savez":
        monkeypatch.setattr(storage.np, "savez", fail)
    elif step == "flush":
        monkeypatch.setattr(storage.os, "fdopen", lambda *a, **k: _FailingFlush(*a, **k))
        _FailingFlush.fault = fault
    else:
        monkeypatch.setattr(storage.os, step, fail)
    with pytest.raises(type(fault)):
        nb.Network([3, 2, 1], seed=2).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and leftovers(tmp_path) == []
    np.testing.assert_array_equal(nb.load(path).parameters,
                                  nb.Network([3, 2, 1], seed=1).parameters)


class _FailingFlush:
    """A file object whose flush fails, standing in for a full disk."""

    fault = None

    def __init__(self, fd, mode):
        self._file = open(fd, mode)  # noqa: SIM115 - closed by __exit__

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()

    def flush(self):
        raise self.fault


def test_save_refuses_weights_that_load_would_refuse(tmp_path):
    net = nb.Network([2, 2, 1], seed=0)
    net.biases[1][0] = np.nan
    with pytest.raises(ValueError, match=r"biases\[1\] must be finite"):
        net.save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("path", ["", "model\0.npz"])
def test_save_and_load_name_an_impossible_path(tmp_path, path):
    with pytest.raises(ValueError, match="path must be a file name"):
        nb.Network([2, 1], seed=0).save(path)
    with pytest.raises(ValueError, match="path must be a file name"):
        nb.load(path)


def special_values():
    """Every float64 a weight can hold that a careless format would change: −0, the
    smallest subnormal, the largest finite, and ordinary values."""
    return st.sampled_from([-0.0, 0.0, 5e-324, -5e-324, 2.2250738585072014e-308,
                            np.finfo(np.float64).max, -np.finfo(np.float64).max, 1 / 3])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(special_values(), min_size=6, max_size=6))
def test_round_trips_keep_every_bit(tmp_path, values):
    net = nb.Network([2, 2, 1], "relu", seed=0)
    net.parameters[: len(values)] = values
    net.save(tmp_path / "model.npz")
    same = nb.load(tmp_path / "model.npz")
    assert same.parameters.tobytes() == net.parameters.tobytes()


def damage(data, kind, where, value):
    """The bytes of a file after one fault: a flipped bit, a cut, or inserted garbage."""
    where %= len(data)
    if kind == "flip":
        return data[:where] + bytes([data[where] ^ (1 << value % 8)]) + data[where + 1 :]
    if kind == "truncate":
        return data[:where]
    return data[:where] + bytes([value % 256]) * (1 + value % 7) + data[where:]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(st.sampled_from(["flip", "truncate", "insert"]), st.integers(0, 2**32),
       st.integers(0, 255))
def test_a_damaged_file_is_refused_or_loads_unchanged(tmp_path, kind, where, value):
    """Every member of an .npz carries a CRC-32, so damage to the numbers is caught; damage
    elsewhere (headers, names) is refused with a reason or, where it is harmless, the
    network loads bit for bit as saved. Never a different network, never another error."""
    net = nb.Network([3, 4, 2], ["tanh", "linear"], seed=5)
    path = tmp_path / "model.npz"
    net.save(path)
    path.write_bytes(damage(path.read_bytes(), kind, where, value))
    try:
        loaded = nb.load(path)
    except ValueError as err:
        event(f"{kind}: refused")
        assert str(path) in str(err)
        return
    event(f"{kind}: loaded unchanged")
    assert loaded.sizes == net.sizes and loaded.activations == net.activations
    assert loaded.parameters.tobytes() == net.parameters.tobytes()


def zip_header_bytes(data, member):
    """Offsets of the bytes of a zip file that no CRC-32 protects, for one member (the
    others have the same layout): its local header, its central directory entry, and the
    end record. The members' contents are checked by their CRC-32."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info, offset = archive.getinfo(member), archive.start_dir
    name, extra = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    offsets = list(range(info.header_offset, info.header_offset + 30 + name + extra))
    while data[offset : offset + 4] == b"PK\x01\x02":  # central directory entries
        name, extra, comment = struct.unpack("<HHH", data[offset + 28 : offset + 34])
        size = 46 + name + extra + comment
        if data[offset + 46 : offset + 46 + name].decode() == member:
            offsets += range(offset, offset + size)
        offset += size
    return offsets + list(range(len(data) - 22, len(data)))


def test_every_bit_flip_in_the_zip_headers_and_many_truncations_are_caught(tmp_path):
    net = nb.Network([2, 1], "tanh", seed=5)
    path = tmp_path / "model.npz"
    net.save(path)
    data = path.read_bytes()
    damaged = [data[:cut] for cut in range(0, len(data), 13)]
    damaged += [data[:i] + bytes([data[i] ^ 1 << bit]) + data[i + 1 :]
                for i in zip_header_bytes(data, "w0.npy") for bit in range(8)]
    outcomes = {"refused": 0, "loaded unchanged": 0}
    for faulty in damaged:
        path.write_bytes(faulty)
        try:
            loaded = nb.load(path)
        except ValueError as err:
            assert str(path) in str(err)
            outcomes["refused"] += 1
            continue
        assert loaded.parameters.tobytes() == net.parameters.tobytes()
        assert (loaded.sizes, loaded.activations) == (net.sizes, net.activations)
        outcomes["loaded unchanged"] += 1
    print(f"{len(damaged)} damaged files: {outcomes}")  # figures for docs/reliability.md
