"""The benchmark, scripts/bench.py: its FLOP count, that every peer trains the same network
as nbbackprop, the report of a tiny run, and its command line (the real runs are the
script's own; no timing asserted)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import processes

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name):
    """scripts/<name>.py as a module, loaded from its path (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load_script("bench")

FLOAT64_AGREEMENT = 1e-12  # relative, after one epoch: only the order of rounding differs


def test_flops_per_sample_counts_each_pass():
    # 784-100-10: W = 78,400 + 1,000; forward, gradient and error pass 2W each, and the
    # hidden deltas 2 · 1,000 (only the layer above the first one sends deltas down).
    assert bench.flops_per_sample((784, 100, 10)) == 6 * 79_400 + 2 * 1_000
    assert bench.flops_per_sample((2, 2, 1)) == 6 * (4 + 2) + 2 * 2


def small_case():
    return bench.make_case("small", (6, 5, 4, 3), 0.05, samples=64)


def first_epoch_error(trainer_class, batch, *args):
    return trainer_class(small_case(), batch, *args).run(1)


@pytest.mark.parametrize("batch", [1, 32])
@pytest.mark.parametrize(("module", "trainer", "args", "agreement"), [
    ("torch", "TorchTrainer", ("float64",), FLOAT64_AGREEMENT),
    ("torch", "TorchTrainer", ("float32",), 1e-5),
    ("jax", "JaxTrainer", (), FLOAT64_AGREEMENT),
    ("sklearn", "SklearnTrainer", (), FLOAT64_AGREEMENT),
])
def test_each_peer_trains_the_same_network(module, trainer, args, agreement, batch):
    pytest.importorskip(module)
    reference = first_epoch_error(bench.NbbackpropTrainer, batch)
    got = first_epoch_error(getattr(bench.bench_peers, trainer), batch, *args)
    assert abs(got - reference) <= agreement * reference


def test_the_harness_loads_its_modules_from_beside_itself(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # not the checkout: nothing is looked for here
    harness = load_script("bench")
    assert Path(harness.numpy_sgd.__file__) == SCRIPTS / "numpy_sgd.py"
    assert Path(harness.bench_peers.__file__) == SCRIPTS / "bench_peers.py"
    numpy_row = next(row for row in harness.peers() if row[0].startswith("NumPy"))
    assert numpy_row[2] is harness.NumpyTrainer, "the NumPy baseline is never skipped"


def test_the_numpy_baseline_trains_the_same_network():
    reference = first_epoch_error(bench.NbbackpropTrainer, 1)
    assert abs(first_epoch_error(bench.NumpyTrainer, 1) - reference) <= 1e-12 * reference


def test_training_changes_the_error():
    """The agreement above must not come from trainers that do nothing."""
    case = small_case()
    before = bench.NbbackpropTrainer(case, 1).net.error(case.X, case.T)
    assert abs(bench.NbbackpropTrainer(case, 1).run(1) - before) > 1e-6 * before


TINY = bench.Settings(samples=64, repeats=1, seconds=0.01, cold_repeats=1,
                      compile_and_memory=False)


def test_a_tiny_run_reports_tables_skips_and_targets(monkeypatch, capsys):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sklearn" else real_find_spec(name, *a))
    monkeypatch.setattr(bench, "SHAPES", [("6-5-3", (6, 5, 3), 0.05)])
    summary = bench.run(TINY, 1, "test")
    report = capsys.readouterr().out
    assert "skipped: scikit-learn" in report and "scikit-learn is not installed" in report
    assert "### 6-5-3 (64 samples" in report
    assert report.count("| **nbbackprop**") == 2  # batch 1 and batch 32
    assert "### Targets" in report and "| < 1 s |" in report
    assert set(summary["6-5-3", 1]) >= {"nbbackprop", "GFLOP/s", "roof"}
    assert "scripts/bench_gradcheck.py" in report
    assert "issue" not in report, "the report speaks of the project, not of its history"


@pytest.mark.parametrize(("argv", "settings", "threads", "command"), [
    ([], "FULL", os.cpu_count(), "`python scripts/bench.py`"),
    (["--quick"], "QUICK", os.cpu_count(), "`python scripts/bench.py --quick`"),
    (["--quick", "--threads", "1"], "QUICK", 1, "`python scripts/bench.py --quick --threads 1`"),
    (["--threads", "2"], "FULL", 2, "`python scripts/bench.py --threads 2`"),
])
def test_the_command_line_picks_the_run_and_names_itself(monkeypatch, argv, settings, threads,
                                                          command):
    calls = []
    monkeypatch.setattr(bench, "run", lambda *args: calls.append(args))
    assert bench.main(argv) == 0
    assert calls == [(getattr(bench, settings), threads, command)]


def test_help_works_from_any_directory(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPTS / "bench.py"), "--help"],
                            cwd=tmp_path, env=processes.environment(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python scripts/bench.py")
    assert "--quick" in result.stdout and "--threads" in result.stdout


def test_bench_refuses_a_bad_thread_count_in_one_line():
    result = processes.run([str(SCRIPTS / "bench.py"), "--threads", "0"], timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--threads" in result.stderr and "positive" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
