"""scripts/fast_paths.py on tiny networks: every case runs and both of its sides give the
same bits (the script's own check). No timing is asserted: the real runs are the script's."""

import importlib.util
from pathlib import Path

import numba
import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fast_paths.py"


@pytest.fixture(scope="module")
def fast_paths():
    spec = importlib.util.spec_from_file_location("fast_paths", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def keep_threads():
    threads = numba.get_num_threads()
    yield
    numba.set_num_threads(threads)


def test_the_smoke_run_times_every_case_and_each_agrees_bit_for_bit(fast_paths, keep_threads,
                                                                    capsys):
    assert fast_paths.main(["--smoke"]) == 0  # raises if a case's two sides differ
    report = capsys.readouterr().out
    rows = [line for line in report.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == len(fast_paths.cases(fast_paths.SMOKE))
    assert "Command: `python scripts/fast_paths.py --smoke`" in report
    assert "Numba on 1 thread(s)" in report and "CPU: " in report


def test_every_case_compares_outputs_that_the_kernels_wrote(fast_paths):
    for name, replaces, shape, _, build in fast_paths.cases(fast_paths.SMOKE):
        reference, fast_path, _ = build()
        assert fast_paths.check(reference, fast_path), (name, replaces, shape)
        written = [r for r in reference.results() if r is not None]
        assert written and all(np.any(r != 0) for r in written), (name, replaces, shape)


def test_the_check_sees_a_difference_in_one_bit(fast_paths):
    reference, fast_path, _ = fast_paths.hidden_delta_case((11, 8, 5), 1)
    fast_path.inputs = (fast_path.inputs[0], np.nextafter(fast_path.inputs[1], 1.0),
                        *fast_path.inputs[2:])
    fast_path.place(np.random.default_rng(0))
    assert not fast_paths.check(reference, fast_path)
