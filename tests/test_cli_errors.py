"""How the nbbackprop command ends: bad input (an InputError, or a path of the user's that
is missing, a directory or forbidden) is one line and exit 2; anything else is a bug and
keeps its traceback; a reader that goes away ends it quietly; --help shows plain text;
hints name the command's flags."""

import os
import re

import numpy as np
import pytest

import nbbackprop as nb
import processes
from nbbackprop import cli, storage
from nbbackprop.exceptions import InvalidValue


def run(capsys, *args):
    """main(args) in this process: (exit code, stdout, stderr)."""
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as exit:  # argparse's own errors and --help
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    """A directory with a model, its data, its gradients, and files that are none of these."""
    net = nb.Network([2, 2, 1], seed=0)
    net.save(tmp_path / "model.npz")
    X, T = nb.xor()
    np.savez(tmp_path / "xor.npz", X=X, T=T)
    gw, gb = net.gradient(X, T)
    np.savez(tmp_path / "grads.npz", w0=gw[0], w1=gw[1], b0=gb[0], b1=gb[1])
    (tmp_path / "notes.txt").write_text("hello world\n")
    (tmp_path / "empty.npz").write_bytes(b"")
    np.save(tmp_path / "array.npy", X)
    (tmp_path / "a-directory").mkdir()
    return tmp_path


BAD_INPUT = [
    (["train", "notes.txt", "--sizes", "2,1"], ["notes.txt", "not a readable data file",
                                                "not an .npz archive", "b'hello world"]),
    (["train", "empty.npz", "--sizes", "2,1"], ["empty.npz", "is empty"]),
    (["train", "a-directory", "--sizes", "2,1"], ["a-directory", "is a directory"]),
    (["train", "missing.npz", "--sizes", "2,1"], ["missing.npz", "does not exist"]),
    (["train", "xor.npz", "--model", "array.npy"], ["array.npy", "single .npy array"]),
    (["train", "xor.npz", "--model", "xor.npz"], ["xor.npz", "not a valid nbbackprop model"]),
    (["train", "xor.npz", "--sizes", "2,1", "--epochs", "1", "--out", "no/m.npz"],
     ["cannot save to", "no/m.npz", "does not exist"]),
    (["train", "xor.npz", "--sizes", "2,1", "--epochs", "1", "--out", "a-directory"],
     ["cannot save to", "a-directory", "is a directory"]),
    (["train", "xor.npz"], ["either --sizes", "or --model"]),
    (["train", "xor.npz", "--model", "model.npz", "--activation", "tanh"],
     ["--activation", "--model"]),
    (["train", "xor.npz", "--sizes", "2,3,1", "--activation", "tanh,tanh,tanh"],
     ["--activation", "one per layer", "2 for --sizes 2,3,1", "got 3"]),
    (["train", "xor.npz", "--sizes", "2,0,1"], ["--sizes", "positive", "2,0,1"]),
    (["train", "xor.npz", "--sizes", "2,1", "--activation", "softmax"],
     ["activation", "sigmoid", "softmax", "2 neurons"]),
    (["train", "xor.npz", "--sizes", "2,1", "--momentum", "1"], ["--momentum", "[0, 1)"]),
    (["train", "xor.npz", "--sizes", "2,1", "--seed", "-1"], ["--seed", "≥ 0", "-1"]),
    (["trace", "--model", "notes.txt", "--x", "1", "2", "--t", "1"],
     ["notes.txt", "not a readable nbbackprop model file"]),
    (["trace", "--model", "model.npz", "--x", "1", "--t", "1"], ["--x", "2 inputs", "got 1"]),
    (["trace", "--example", "mazur", "--digits", "18"], ["--digits", "≤ 17", "18"]),
    (["trace", "--example", "lecun"], ["--example", "mazur", "'lecun'"]),
    (["example"], ["example's name", "--list"]),
    (["gradcheck", "model.npz", "notes.txt"], ["notes.txt", "not a readable data file"]),
    (["gradcheck", "model.npz", "xor.npz", "--seed", "x"], ["--seed", "integer", "x"]),
    (["compare", "model.npz", "xor.npz", "array.npy"],
     ["array.npy", "not a readable gradient file", "single .npy array"]),
    (["compare", "model.npz", "xor.npz", "model.npz"],
     ["model.npz", "not a valid gradient file", "unexpected ['activations'"]),
    (["demo", "--seed", "-2"], ["--seed", "≥ 0"]),
]


@pytest.mark.parametrize(("args", "words"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_2(files, capsys, monkeypatch, args, words):
    monkeypatch.chdir(files)
    code, _, err = run(capsys, *args)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith(f"nbbackprop {args[0]}: error: "), err
    assert "Traceback" not in err and "allow_pickle" not in err
    for word in words:
        assert word in err, (word, err)


def test_a_forbidden_path_is_one_line_and_exit_2(files, capsys, monkeypatch):
    """Permissions cannot be tested as root (this suite may run as root): the file system's
    answer is simulated where the reader opens the file."""
    path = files / "model.npz"

    def forbidden(name, mode="r"):
        raise PermissionError(13, "Permission denied", os.fspath(name))

    monkeypatch.setattr(storage, "open", forbidden, raising=False)
    code, _, err = run(capsys, "trace", "--model", path, "--x", "1", "2", "--t", "1")
    assert code == 2 and err.count("\n") == 1
    assert "Permission denied" in err and str(path) in err


def test_the_package_s_input_errors_are_exit_2_and_nothing_else_is(capsys, monkeypatch):
    """A ValueError or an OSError without a path of the user's, raised inside a command,
    is a bug: it propagates with its traceback (Python exits 1), as does any exception."""
    def raising(error):
        def worked_example(name):
            raise error

        return worked_example

    monkeypatch.setattr(cli, "worked_example", raising(InvalidValue("example is bad")))
    code, _, err = run(capsys, "example", "mazur")
    assert code == 2 and err == "nbbackprop example: error: example is bad\n"
    for bug in [ZeroDivisionError("division by zero"), ValueError("a bug's ValueError"),
                TypeError("a bug's TypeError"), KeyError("w0"),
                FileNotFoundError(2, "No such file or directory"),  # no filename: not the user's
                OSError(28, "No space left on device")]:
        monkeypatch.setattr(cli, "worked_example", raising(bug))
        with pytest.raises(type(bug)) as info:
            cli.main(["example", "mazur"])
        assert info.value is bug
        assert capsys.readouterr().err == ""


def test_a_bug_shows_its_traceback_and_exits_1():
    code = ("import sys\nfrom nbbackprop import cli\n"
            "cli.worked_example = lambda name: 1 / 0\n"
            "sys.exit(cli.main(['example', 'mazur']))\n")
    result = processes.run(["-c", code])
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().endswith("ZeroDivisionError: division by zero")


def test_python_m_nbbackprop_is_the_command(tmp_path):
    result = processes.run(["-m", "nbbackprop", "--version"])
    assert result.returncode == 0 and result.stdout == f"nbbackprop {nb.__version__}\n"
    result = processes.run(["-m", "nbbackprop", "gradcheck", str(tmp_path / "missing.npz"),
                            str(tmp_path / "data.npz")])
    assert result.returncode == 2 and "missing.npz does not exist" in result.stderr


def test_output_cut_short_by_a_pipe_ends_quietly(tmp_path):
    """`nbbackprop trace --full ... | head -1`: megabytes of output, one line read."""
    nb.Network([100, 100, 1], seed=0).save(tmp_path / "big.npz")
    with processes.start(["-m", "nbbackprop", "trace", "--model", str(tmp_path / "big.npz"),
                          "--full", "--x", *["0.5"] * 100, "--t", "1"]) as child:
        assert child.stdout.readline().startswith("Trace of one online training step")
        child.stdout.close()  # as head does after its line
        err = child.stderr.read()
    assert child.returncode == 141, err
    assert err == ""


def test_a_reader_gone_before_any_output_ends_quietly():
    """`nbbackprop example mazur | head -0`: the pipe is closed before the first write."""
    with processes.start(["-m", "nbbackprop", "example", "mazur"]) as child:
        child.stdout.close()
        err = child.stderr.read()
    assert child.returncode == 141, err
    assert err == ""


def commands():
    p = cli.parser()
    subparsers = next(a for a in p._actions if a.dest == "command")
    return p, subparsers.choices


@pytest.mark.parametrize("command", [None, *commands()[1]])
def test_help_is_plain_text(capsys, command):
    code, out, _ = run(capsys, *([command] if command else []), "--help")
    assert code == 0 and out.startswith("usage: nbbackprop")
    assert "`" not in out and not re.search(r":\w+:|\*\*|\.\. ", out), out
    if command is None:
        assert cli.DESCRIPTION in out and all(name in out for name in commands()[1])


def test_hints_name_the_command_s_flags(files, capsys, monkeypatch):
    """Printers that take `more_hint` are told the flag that shows what they left out."""
    given = {}

    def printer(name, default):
        def text(self, *args, more_hint=default, **kwargs):
            given[name] = more_hint
            return f"{name} printed\n"

        return text

    monkeypatch.setattr(nb.Trace, "to_text", printer("to_text", "to_text(full=True)"))
    monkeypatch.setattr(nb.Trace, "to_markdown", printer("to_markdown", "to_markdown(full=True)"))
    monkeypatch.setattr(nb.GradcheckReport, "show", printer("show", "show(limit=None)"))
    monkeypatch.chdir(files)
    assert run(capsys, "trace", "--example", "mazur")[0] == 0
    assert run(capsys, "trace", "--example", "mazur", "--format", "markdown")[0] == 0
    assert run(capsys, "example", "han")[0] == 0
    assert run(capsys, "compare", "model.npz", "xor.npz", "grads.npz")[0] == 0
    assert given == {"to_text": "--full", "to_markdown": "--full", "show": "--all"}


def test_the_trace_hint_names_full(tmp_path, capsys):
    nb.Network([8, 2, 1], seed=0).save(tmp_path / "m.npz")
    code, out, _ = run(capsys, "trace", "--model", tmp_path / "m.npz", "--x", *"12345678",
                       "--t", "1")
    assert code == 0
    hint = next(line for line in out.splitlines() if "large layers" in line)
    assert "--full" in hint and "to_text" not in hint


def test_the_report_hint_names_all_and_counts_what_it_left_out(files, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    net = nb.Network([6, 8, 3], seed=1)
    X, T = rng.normal(size=(5, 6)), rng.uniform(size=(5, 3))
    gw, gb = net.gradient(X, T)
    gw[0][:4] += 1.0  # 32 wrong entries of 83
    net.save(files / "m.npz")
    np.savez(files / "d.npz", X=X, T=T)
    np.savez(files / "g.npz", w0=gw[0], w1=gw[1], b0=gb[0], b1=gb[1])
    report = nb.compare_gradients(net, X, T, gw, gb)
    assert report.n_failed == 32 and report.n_checked == 83
    code, out, _ = run(capsys, "compare", files / "m.npz", files / "d.npz", files / "g.npz")
    assert code == 1
    more = next(line for line in out.splitlines() if line.lstrip().startswith("… and"))
    shown = sum(line.endswith("FAIL") for line in out.splitlines())
    assert f"… and {83 - shown} more ({32 - shown} failed, {83 - 32} ok)" in more
    assert "--all" in more and ".failures" not in more
