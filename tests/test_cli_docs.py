"""The shell sessions of docs/cli.md are what the commands print: each ```console block is
run in an empty directory, command by command, and its output compared with the block.

In a block, ``$ nbbackprop …`` runs the command; ``$ cat FILE`` followed by lines creates
FILE with those lines (the block shows the file the commands then read); ``$ head -N FILE``
shows a file's first lines; a line ``...`` stands for any number of lines (the training
summary and its time)."""

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from nbbackprop import cli

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def sessions(text):
    """[[(command, expected output lines)]] of each ```console block."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        steps = []
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
        found.append(steps)
    return found


def run(command):
    """(exit code, what the command printed: stdout, then stderr)."""
    words = shlex.split(command)
    if words[0] == "head":
        lines = Path(words[2]).read_text().splitlines(keepends=True)
        return 0, "".join(lines[: int(words[1].lstrip("-"))])
    assert words[0] == "nbbackprop", command
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(words[1:])
    return code, out.getvalue() + err.getvalue()


def matches(expected, printed):
    """Whether printed is the expected lines, a line "..." standing for any lines."""
    pattern = "".join(r"(?:.*\n)*" if line == "..." else re.escape(line) + r"\n"
                      for line in expected)
    return re.fullmatch(pattern, printed) is not None


def test_matches_reads_the_ellipsis_as_any_lines():
    assert matches(["a", "...", "b"], "a\nb\n") and matches(["a", "...", "b"], "a\nx\ny\nb\n")
    assert not matches(["a", "b"], "a\nx\nb\n") and not matches(["a"], "a\nb\n")


SESSIONS = sessions(DOC.read_text(encoding="utf-8"))


@pytest.mark.parametrize("steps", SESSIONS, ids=[s[0][0][:40] for s in SESSIONS])
def test_each_session_prints_what_the_doc_shows(steps, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command, expected in steps:
        if command.startswith("cat "):
            Path(command[4:]).write_text("".join(line + "\n" for line in expected))
            continue
        code, printed = run(command)
        assert code == (2 if ": error: " in "\n".join(expected) else 0), (command, printed)
        assert matches(expected, printed), f"$ {command}\n{printed}"


def test_the_doc_has_sessions():
    assert len(SESSIONS) >= 2
