"""The nbbackprop command, run as a user runs it."""

import subprocess
import sys

import pytest


def run(*args):
    return subprocess.run([sys.executable, "-m", "nbbackprop.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_demo_trains_xor_and_shows_the_error_falling():
    result = run("demo", "--epochs", "5000")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    errors = [float(line.split()[1]) for line in lines if line.strip()[:1].isdigit()
              and len(line.split()) == 2]
    assert errors[0] > 0.1 and errors[-1] < 0.001 and errors == sorted(errors, reverse=True)
    outputs = [float(line.split()[-1]) for line in lines if line.startswith("  0 ")
               or line.startswith("  1 ")]
    assert [round(y) for y in outputs] == [0, 1, 1, 0]
    assert "trained 5000 epochs" in result.stdout


@pytest.mark.parametrize(("args", "words"), [
    (["demo", "--eta", "-1"], ["--eta", "positive"]),
    (["demo", "--epochs", "zero"], ["--epochs"]),
    (["demo", "--seed", "-2"], ["seed", "≥ 0"]),
    (["frobnicate"], ["invalid choice"]),
    ([], ["required"]),
])
def test_bad_arguments_give_one_line_and_no_traceback(args, words):
    result = run(*args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_ci_runs_the_readme_commands_verbatim():
    """A green CI must prove what a new user types: the README's test command is in .ci/run."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme, ci = (root / "README.md").read_text(), (root / ".ci" / "run").read_text()
    command = 'pip install ".[dev]" && python -m pytest'
    assert f"```bash\n{command}\n```" in readme
    assert f"\n{command}\n" in ci
