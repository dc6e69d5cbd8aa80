"""`nbbackprop trace` and `nbbackprop example`, as a user runs them."""

import json
import subprocess
import sys

import pytest

import nbbackprop as nb
from nbbackprop import cli


def run(capsys, *args):
    """main(args) in this process: (exit code, stdout, stderr)."""
    try:
        code = cli.main(list(args))
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def test_trace_of_a_saved_model_is_the_api_trace(tmp_path, capsys):
    net = nb.Network([2, 3, 1], activation="tanh", seed=4)
    net.save(tmp_path / "m.npz")
    code, out, err = run(capsys, "trace", "--model", str(tmp_path / "m.npz"), "--x", "-1", "0.5",
                         "--t", "1", "--eta", "0.25")
    assert code == 0, err
    assert out == str(net.trace([-1, 0.5], [1], eta=0.25)) + "\n"
    code, out, _ = run(capsys, "trace", "--model", str(tmp_path / "m.npz"), "--x", "-1", "0.5",
                       "--t", "1", "--convention", "gradient", "--fixed-biases", "--digits", "4",
                       "--format", "markdown")
    assert code == 0
    assert out == net.trace([-1, 0.5], [1], convention="gradient", train_biases=False
                            ).to_markdown(digits=4)


def test_trace_json(tmp_path, capsys):
    net = nb.Network([2, 2], seed=1)
    net.save(tmp_path / "m.npz")
    code, out, _ = run(capsys, "trace", "--model", str(tmp_path / "m.npz"), "--x", "1", "2",
                       "--t", "0", "1", "--format", "json")
    assert code == 0
    assert json.loads(out) == net.trace([1, 2], [0, 1]).to_dict()


def test_trace_of_a_worked_example(capsys):
    code, out, _ = run(capsys, "trace", "--example", "mazur")
    assert code == 0
    assert "  z_1 = w_11·x_1 + w_21·x_2 + b_1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775\n" in out
    assert 'convention="gradient"' in out and "biases trained: no" in out  # as in the post
    code, out, _ = run(capsys, "trace", "--example", "mazur", "--convention", "note")
    assert 'convention="note"' in out


def test_example_list_and_show(capsys):
    code, out, _ = run(capsys, "example", "--list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == list(nb.EXAMPLES)
    code, out, _ = run(capsys, "example", "mazur")
    assert code == 0
    assert "Trace of one online training step" in out and "mattmazur.com" in out
    table = {line.split()[0]: line.split() for line in out.splitlines()
             if line.startswith("  ") and len(line.split()) >= 5}
    assert table["w5+"][1:] == ["0", "0.35891648", "0.35891648", "yes"]
    assert "0.0000351085" in out and "no [1]" in out and "[1] The post's own procedure" in out
    code, out, _ = run(capsys, "example", "note")
    epochs = nb.worked_example("note").epochs_to_goal()
    assert f"until the output first reaches 0.99: {epochs}" in out


@pytest.mark.parametrize(("args", "words"), [
    (["trace"], ["one of the arguments --model --example is required"]),
    (["trace", "--model", "m.npz", "--example", "mazur"], ["not allowed"]),
    (["trace", "--example", "lecun"], ["example must be one of", "'lecun'"]),
    (["trace", "--example", "mazur", "--x", "1", "2"], ["--x and --t come from the example"]),
    (["trace", "--example", "mazur", "--eta", "0"], ["--eta", "positive"]),
    (["trace", "--example", "mazur", "--convention", "up"], ["--convention", "invalid choice"]),
    (["trace", "--example", "mazur", "--digits", "30"], ["digits", "≤ 17"]),
    (["trace", "--model", "MISSING"], ["--model needs the sample"]),
    (["trace", "--model", "MISSING", "--x", "1", "--t", "1"], ["No such file"]),
    (["trace", "--model", "MODEL", "--x", "1", "--t", "1"], ["x must be one sample", "(2,)"]),
    (["trace", "--model", "MODEL", "--x", "1", "2", "--t", "1", "2"], ["t must be", "(1,)"]),
    (["trace", "--model", "MODEL", "--x", "a", "--t", "1"], ["--x", "finite number", "a"]),
    (["trace", "--model", "MODEL", "--x", "1", "nan", "--t", "1"], ["--x", "finite", "nan"]),
    (["trace", "--model", "MODEL", "--x", "1", "2", "--t", "inf"], ["--t", "finite", "inf"]),
    (["example"], ["give an example's name", "--list"]),
    (["example", "lecun"], ["example must be one of", "'lecun'"]),
    (["example", "mazur", "--list"], ["either an example's name or --list"]),
])
def test_bad_arguments_give_one_line_and_no_traceback(tmp_path, capsys, args, words):
    nb.Network([2, 2, 1], seed=0).save(tmp_path / "m.npz")
    args = [str(tmp_path / "m.npz") if a == "MODEL" else str(tmp_path / a) if a == "MISSING"
            else a for a in args]
    code, out, err = run(capsys, *args)
    assert code != 0 and out == ""
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("nbbackprop ")
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"


def test_the_installed_command_runs_an_example():
    result = subprocess.run([sys.executable, "-m", "nbbackprop.cli", "example", "han"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("  θ_")]
    assert [row[2:5] for row in rows] == [["0.218", "0.218", "yes"], ["0.194", "0.194", "yes"],
                                          ["-0.408", "-0.408", "yes"]]
