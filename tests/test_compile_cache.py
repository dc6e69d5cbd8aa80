"""The on-disk compile cache is keyed on every module with compiled code, not only on the
kernel's own file: editing ``activations.py`` must recompile ``formulas.forward_layer``,
which inlines its ``f``."""

import math
import shutil
import subprocess
import sys
from pathlib import Path

import nbbackprop

PROGRAM = """
import numpy as np
from nbbackprop import formulas
z, y = np.empty(1), np.empty(1)
formulas.forward_layer(np.array([[1.0]]), np.array([0.0]), np.array([2.0]), 0, z, y)
print(repr(float(y[0])))
"""


def run_in(copy, **extra):
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                            env={"PYTHONPATH": str(copy), "PATH": "", **extra}, timeout=300)
    assert result.returncode == 0, result.stderr
    return float(result.stdout)


def test_editing_a_module_a_kernel_calls_recompiles_the_kernel(tmp_path):
    package = Path(nbbackprop.__file__).parent
    shutil.copytree(package, tmp_path / "nbbackprop",
                    ignore=shutil.ignore_patterns("__pycache__"))
    first = run_in(tmp_path)  # compiles, and writes the cache
    assert first == 1 / (1 + math.exp(-2.0))
    cache = tmp_path / "nbbackprop" / "__pycache__"
    assert list(cache.glob("kernels-*/formulas.forward_layer-*.nbi"))  # one per version
    assert run_in(tmp_path) == first  # from the cache

    activations = tmp_path / "nbbackprop" / "activations.py"
    text = activations.read_text()
    sigmoid = "return 1.0 / (1.0 + math.exp(-z))"
    assert sigmoid in text
    activations.write_text(text.replace(sigmoid, "return 0.5 / (1.0 + math.exp(-z))"))
    assert run_in(tmp_path) == 0.5 * first  # formulas.py did not change; its kernel did


def test_numba_alone_would_have_loaded_the_stale_kernel(tmp_path):
    """What the test above guards against, shown with Numba's own locator."""
    package = Path(nbbackprop.__file__).parent
    shutil.copytree(package, tmp_path / "nbbackprop",
                    ignore=shutil.ignore_patterns("__pycache__"))
    numba_only = {"NUMBA_CACHE_LOCATOR_CLASSES": "InTreeCacheLocator"}
    first = run_in(tmp_path, **numba_only)
    activations = tmp_path / "nbbackprop" / "activations.py"
    activations.write_text(activations.read_text().replace(
        "return 1.0 / (1.0 + math.exp(-z))", "return 0.5 / (1.0 + math.exp(-z))"))
    assert run_in(tmp_path, **numba_only) == first  # stale
