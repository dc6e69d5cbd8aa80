"""The benchmark, scripts/bench.py: its FLOP count, that every peer trains the same network
as nbbackprop, the report of a tiny run, and its command line (the real runs are the
script's own; no timing asserted)."""

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    # 784-100-10: W = 78,400 + 1,000 weights, W′ = 1,000 above the first layer. Online:
    # forward 2W, hidden deltas 2W′, the step w − η·(δ·y) 3W, the error pass 2W.
    assert bench.flops_per_sample((784, 100, 10)) == 7 * 79_400 + 2 * 1_000
    assert bench.flops_per_sample((2, 2, 1)) == 7 * (4 + 2) + 2 * 2
    # batch 32: the gradient's sum 2W per sample, the step 3W once per batch
    assert bench.flops_per_sample((784, 100, 10), 32) == 6 * 79_400 + 2 * 1_000 + 3 * 79_400 / 32


def test_bytes_per_sample_read_and_write_each_weight_once_per_step():
    assert bench.bytes_per_sample((784, 100, 10)) == 16 * 79_400
    assert bench.bytes_per_sample((784, 100, 10), 32) == 16 * 79_400 / 32


@settings(deadline=None)
@given(sizes=st.lists(st.integers(1, 300), min_size=2, max_size=5).map(tuple),
       batch=st.sampled_from([1, 8, 32]), peak=st.floats(1e9, 1e11),
       bandwidth=st.floats(1e9, 1e12))
def test_the_roof_on_one_thread_is_the_lower_of_compute_and_traffic(sizes, batch, peak,
                                                                    bandwidth):
    roof = bench.roof_samples(sizes, batch, 1, peak, bandwidth)
    expected = min(peak / bench.flops_per_sample(sizes, batch),
                   bandwidth / bench.bytes_per_sample(sizes, batch))
    assert roof == pytest.approx(expected, rel=1e-12)
    more = bench.roof_samples(sizes, batch, 2, peak, bandwidth)
    assert roof <= more <= 2 * roof * (1 + 1e-12), "a second core helps, at most twice"


roofline = bench.roofline


@pytest.mark.parametrize("width", roofline.widths())
def test_the_peak_kernel_multiplies_and_adds_on_the_widest_vectors_without_fma(width):
    asm = roofline.assembly(roofline.compute_ir(width))
    register = {2: "xmm", 4: "ymm", 8: "zmm"}[width]
    assert "vfmadd" not in asm and "fmadd" not in asm
    # one multiply and one add per chain in the loop (the final sum adds CHAINS − 1 more)
    multiplies = re.findall(r"v?mulpd\s+[^\n]*", asm)
    assert len(multiplies) == roofline.CHAINS
    assert all(register in line for line in multiplies), multiplies
    assert len(re.findall(r"v?addpd\s", asm)) == 2 * roofline.CHAINS - 1


@pytest.mark.parametrize("width", roofline.widths())
def test_the_read_kernel_loads_whole_vectors(width):
    asm = roofline.assembly(roofline.stream_ir(width))
    register = {2: "xmm", 4: "ymm", 8: "zmm"}[width]
    adds_from_memory = re.findall(r"v?addpd\s+-?\d*\(%\w+\)[^\n]*", asm)
    assert len(adds_from_memory) >= roofline.LOADS
    assert all(register in line for line in adds_from_memory), adds_from_memory


@settings(deadline=None, max_examples=20)
@given(steps=st.integers(1, 50), m=st.sampled_from([0.5, 0.25, 0.75]),
       s=st.sampled_from([1.0, 0.5, 3.0]))
def test_the_peak_kernel_takes_as_many_steps_as_it_is_counted_for(steps, m, s):
    """The FLOP count 2 · CHAINS · width · steps holds only if every chain takes every step."""
    for width in roofline.widths():
        expected = 0.0
        for c in range(roofline.CHAINS):
            a = c + 1.0
            for _ in range(steps):
                a = a * m + s
            expected += width * a
        got = roofline._compiled("peak", width)[1](steps, m, s)
        assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("sweeps", [1, 3])
def test_the_read_kernel_reads_every_element_of_every_sweep(sweeps):
    for width in roofline.widths():
        data = roofline._aligned(3 * 8 * roofline.LOADS * width, width)
        data[:] = np.arange(len(data)) % 7  # small integers: every sum is exact
        assert data.ctypes.data % 64 == 0
        stream = roofline._compiled("stream", width)[1]
        got = stream(data.ctypes.data, len(data) // (roofline.LOADS * width), sweeps)
        assert got == sweeps * data.sum()


@pytest.mark.parametrize("width", roofline.widths())
def test_the_tile_kernel_has_the_tiles_mix_without_fma(width):
    """Per vector of columns: TILE_ROWS·TILE_TERMS multiplies and adds on the width's
    registers, each row's accumulator stored once (``add_products``' inner loop)."""
    asm = roofline.assembly(roofline.tile_ir(width))
    register = {2: "xmm", 4: "ymm", 8: "zmm"}[width]
    terms = roofline.TILE_ROWS * roofline.TILE_TERMS
    assert "fmadd" not in asm
    multiplies = [line for line in re.findall(r"v?mulpd\s+[^\n]*", asm) if register in line]
    assert len(multiplies) == terms
    assert len([line for line in re.findall(r"v?addpd\s+[^\n]*", asm)
                if register in line]) == terms
    stores = re.findall(rf"v?mov[au]pd\s+%{register}\d+, [^\n]*\(%\w+[^\n]*", asm)
    assert len([line for line in stores if "rsp" not in line]) == roofline.TILE_ROWS


@settings(deadline=None, max_examples=10)
@given(sweeps=st.integers(1, 3), a=st.sampled_from([1.0, 0.5, 0.25]))
def test_the_tile_kernel_adds_every_term_in_order(sweeps, a):
    """C_rc ← (((C_rc + B_0c·a_r0) + B_1c·a_r1) + …) for every row, column and sweep, bit
    for bit as the same sums in NumPy, in the same order."""
    rows, terms = roofline.TILE_ROWS, roofline.TILE_TERMS
    for width in roofline.widths():
        columns = 3 * width
        rng = np.random.default_rng(width)
        C = roofline._aligned(rows * columns * 8, width)[:rows * columns]
        B = roofline._aligned(terms * columns * 8, width)[:terms * columns]
        C[:], B[:] = rng.random(rows * columns), rng.random(terms * columns)
        expected = C.reshape(rows, columns).copy()
        Bm = B.reshape(terms, columns)
        for _ in range(sweeps):
            for r in range(rows):
                for k in range(terms):
                    expected[r] = expected[r] + Bm[k] * (a * (1 + terms * r + k))
        roofline._compiled("tile", width)[1](C.ctypes.data, B.ctypes.data, 3, sweeps, a)
        assert np.array_equal(C.reshape(rows, columns), expected)


@pytest.mark.parametrize("sweeps", [1, 3])
def test_the_update_kernel_reads_and_writes_every_element_of_every_sweep(sweeps):
    for width in roofline.widths():
        data = roofline._aligned(2 * 8 * roofline.LOADS * width, width)
        start = np.arange(len(data)) % 5.0  # small integers: every sum is exact
        data[:] = start
        roofline._compiled("update", width)[1](data.ctypes.data,
                                               len(data) // (roofline.LOADS * width), sweeps,
                                               0.5)
        assert np.array_equal(data, start + 0.5 * sweeps)


@pytest.mark.parametrize("width", roofline.widths())
def test_the_update_kernel_stores_whole_vectors(width):
    asm = roofline.assembly(roofline.update_ir(width))
    register = {2: "xmm", 4: "ymm", 8: "zmm"}[width]
    stores = re.findall(rf"v?mov[au]pd\s+%{register}\d+, -?\d*\(%\w+[^\n]*", asm)
    assert len(stores) >= roofline.LOADS


def test_each_widths_peak_is_measured():
    peaks = roofline.compute_peaks(0.003)
    assert sorted(peaks) == roofline.widths() and all(rate > 0 for rate in peaks.values())
    assert roofline.compute_peak(0.003)[1] in peaks


def test_cache_levels_grow_with_the_size():
    small, huge = roofline.cache_level(1024), roofline.cache_level(1 << 40)
    if small is None:
        pytest.skip("this system does not say its cache sizes")
    assert small == "L1" and huge == "RAM"


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
    assert Path(harness.roofline.__file__) == SCRIPTS / "roofline.py"
    numpy_row = next(row for row in harness.peers(1) if row[0].startswith("NumPy"))
    assert numpy_row[2] is harness.NumpyTrainer, "the NumPy baseline is never skipped"


@pytest.mark.parametrize("threads", [1, 4])
def test_pytorch_batch_1_also_runs_on_the_other_thread_count(threads):
    pytest.importorskip("torch")
    other = 1 if threads > 1 else os.cpu_count()
    labels = [row[0] for row in bench.peers(threads) if row[2] is not None]
    assert (f"PyTorch float64 on {other} thread(s)" in labels) == (other != threads)
    if other != threads:
        import torch

        before = torch.get_num_threads()
        trainer = bench.bench_peers.TorchTrainer(small_case(), 1, "float64", threads=other)
        seen = []
        real = trainer._epochs
        trainer._epochs = lambda epochs: seen.append(torch.get_num_threads()) or real(epochs)
        trainer.run(1)
        assert seen == [other] and torch.get_num_threads() == before


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


def test_a_tiny_run_reports_tables_skips_roofline_and_targets(monkeypatch, capsys, tmp_path):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sklearn" else real_find_spec(name, *a))
    monkeypatch.setattr(bench, "SHAPES", [("6-5-3", (6, 5, 3), 0.05)])
    # settings that slow a current NumPy: its peer must run in a process without them
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "262144")
    summary = bench.run(TINY, 1, "test", tmp_path / "run.json")
    report = capsys.readouterr().out
    assert "skipped: scikit-learn" in report and "scikit-learn is not installed" in report
    assert "### 6-5-3 (64 samples" in report
    assert report.count("| **nbbackprop**") == 2  # batch 1 and batch 32
    assert report.count(f"| {bench.INEXACT} |") == 1  # batch 32 only: online stays exact
    assert f"batch 32 with fit(exact=False) vs {bench.JAX}" in report
    assert "sets OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=262144" in report
    assert "BLAS, NumPy peer's process:" in report
    numpy_row = next(line for line in report.splitlines() if line.startswith("| NumPy"))
    assert float(numpy_row.split("|")[-2]) <= 1e-12, "the NumPy peer trained the same network"
    assert "### Roofline" in report and "### Targets" in report and "| < 1 s |" in report
    assert set(summary["6-5-3", 1]) >= {"nbbackprop", "roof", "share of roof"}
    assert "scripts/bench_gradcheck.py" in report
    assert "issue" not in report, "the report speaks of the project, not of its history"
    saved = json.loads((tmp_path / "run.json").read_text())
    assert saved["command"] == "test" and saved["threads"] == 1
    assert saved["figures"]["6-5-3, batch 32"]["nbbackprop"] == summary["6-5-3", 32]["nbbackprop"]
    assert saved["figures"]["6-5-3, batch 32"][bench.INEXACT] > 0
    for point in saved["roofline"]:
        assert point["share"] == pytest.approx(point["nbbackprop_samples_per_second"]
                                               / point["roof_samples_per_second"])
        # the share against the 256-bit peak: a lower peak, a lower roof, a higher share
        assert point["share_4_doubles"] == pytest.approx(
            point["nbbackprop_samples_per_second"]
            / point["roof_samples_per_second_4_doubles"])
    assert saved["report"] in report


@pytest.mark.parametrize(("argv", "settings", "threads", "command", "json_path"), [
    ([], "FULL", os.cpu_count(), "`python scripts/bench.py`", None),
    (["--quick"], "QUICK", os.cpu_count(), "`python scripts/bench.py --quick`", None),
    (["--quick", "--threads", "1"], "QUICK", 1, "`python scripts/bench.py --quick --threads 1`",
     None),
    (["--threads", "2", "--json", "r.json"], "FULL", 2,
     "`python scripts/bench.py --threads 2 --json r.json`", "r.json"),
])
def test_the_command_line_picks_the_run_and_names_itself(monkeypatch, argv, settings, threads,
                                                          command, json_path):
    calls = []
    monkeypatch.setattr(bench, "run", lambda *args: calls.append(args))
    assert bench.main(argv) == 0
    assert calls == [(getattr(bench, settings), threads, command, json_path)]


def test_help_works_from_any_directory(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPTS / "bench.py"), "--help"],
                            cwd=tmp_path, env=processes.environment(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python scripts/bench.py")
    assert all(option in result.stdout for option in ("--quick", "--threads", "--json"))


def test_bench_refuses_a_bad_thread_count_in_one_line():
    result = processes.run([str(SCRIPTS / "bench.py"), "--threads", "0"], timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--threads" in result.stderr and "positive" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_kernel_rates_reports_each_kernel_against_each_peak(capsys):
    """scripts/kernel_rates.py, in one tiny round: every kernel and micro-benchmark is
    there, each kernel checked for the same bits in both compilations (or it stops)."""
    load_script("kernel_rates").main(["--rounds", "1", "--seconds", "0.002"])
    report = capsys.readouterr().out
    assert report.count("| peak: ") == report.count("| register-tile loop") == len(
        roofline.widths())
    for kernel in ("add_products, forward", "add_products, gradient", "forward_layer_batch",
                   "descend_forward_layer"):
        assert f"| {kernel}" in report
    assert "| read and write (roofline.py) |" in report


def test_the_micro_benchmarks_engines_are_collected_without_a_crash():
    """Each of roofline's execution engines owns its target machine and frees it when
    collected; engines sharing one machine freed it twice and crashed the process."""
    path = str(SCRIPTS / "roofline.py")
    code = (f"import gc, importlib.util\n"
            f"for _ in range(3):\n"
            f"    spec = importlib.util.spec_from_file_location('r', {path!r})\n"
            f"    r = importlib.util.module_from_spec(spec)\n"
            f"    spec.loader.exec_module(r)\n"
            f"    for width in r.widths():\n"
            f"        for kind in ('peak', 'stream', 'update', 'tile'):\n"
            f"            r._compiled(kind, width)\n"
            f"    del r, spec\n"
            f"    gc.collect()\n"
            f"print('collected')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "collected", result.stderr


def test_the_scripts_name_the_cpu_from_proc_cpuinfo():
    machine = load_script("machine")
    model, flags = machine.cpu_info()
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        pytest.skip("no /proc/cpuinfo here")
    lines = cpuinfo.read_text().splitlines()
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    assert model == machine.cpu_model() == (names[0] if names else model)
    first_flags = next((line for line in lines if line.startswith("flags")), "flags :")
    assert flags == set(first_flags.split(":", 1)[1].split())
