"""Every command's --help ends with a runnable example: its lines are run, one after the
other, in an empty directory, as a user would paste them, and each succeeds."""

import contextlib
import io
import shlex

import pytest

from nbbackprop import cli

COMMANDS = sorted(next(a for a in cli.parser()._actions if a.dest == "command").choices)


def run(*args):
    """main(args) in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(args))
        except SystemExit as exit:  # --help
            code = exit.code
    return code, out.getvalue(), err.getvalue()


def example_lines(command):
    code, text, _ = run(command, "--help")
    assert code == 0
    _, heading, example = text.rpartition("\nexample")
    assert heading, f"nbbackprop {command} --help has no example:\n{text}"
    lines = example.rstrip("\n").splitlines()[1:]
    assert lines and all(line.startswith("  ") for line in lines), example
    assert all(len(line) <= 80 for line in lines), example
    # a backslash before the end of a line continues it, as in a shell
    return [line.strip() for line in "\n".join(lines).replace("\\\n", "").splitlines()]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_ends_with_an_example_that_runs(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = example_lines(command)
    assert shlex.split(lines[-1])[:2] == ["nbbackprop", command]
    for line in lines:
        words = shlex.split(line)
        if words[:2] == ["python", "-c"]:  # stands for the user's own program
            exec(words[2], {})
            continue
        assert words[0] == "nbbackprop", line
        code, _, err = run(*words[1:])
        assert code == 0, (line, err)
