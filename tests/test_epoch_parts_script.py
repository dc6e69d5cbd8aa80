"""scripts/epoch_parts.py runs against this version and times every part of an online
epoch. No timing is asserted: the real runs are the script's."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "epoch_parts.py"
PARTS = ("online steps", "error pass", "copy_state", "all_finite", "shuffle", "whole driver")


def test_every_part_of_an_epoch_is_timed(capsys):
    spec = importlib.util.spec_from_file_location("epoch_parts", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--sizes", "3-4-2", "--repeats", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("3-4-2, 4 samples")
    timed = dict(line.rsplit(None, 1) for line in lines[2:])
    assert tuple(name.strip() for name in timed) == PARTS
    assert all(float(ns) > 0 for ns in timed.values())
