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


def test_no_compiled_function_calls_a_threaded_one():
    """A cached function that calls a ``parallel=True`` one, compiled in a process that had
    loaded a function between them from the cache, was cached without the threaded code and
    crashed the next process (Numba 0.68): the threaded kernels are called from Python only."""
    import ast

    from nbbackprop import _jit

    package = Path(nbbackprop.__file__).parent
    trees = {name: ast.parse((package / name).read_text()) for name in _jit.KERNEL_SOURCES}

    def decorator(node):
        return next((ast.unparse(d) for d in node.decorator_list), "")

    functions = [node for tree in trees.values() for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef)]
    threaded = {f.name for f in functions if "parallel" in decorator(f)}
    assert threaded  # the check has something to check
    for f in functions:
        if decorator(f).startswith("jit"):
            called = {n.func.id for n in ast.walk(f) if isinstance(n, ast.Call)
                      and isinstance(n.func, ast.Name)}
            assert not called & threaded, f"{f.name} calls {called & threaded}"


ANNOUNCED = """
import numpy as np
from nbbackprop import _jit, fast, training
training.all_finite(np.zeros(3))
fast.mean_of(np.ones(2))
print(_jit.compiled)
"""


def test_a_cold_cache_says_once_that_it_compiles_and_a_warm_one_says_nothing(tmp_path):
    import processes

    env = processes.environment(NUMBA_CACHE_DIR=tmp_path)
    cold = processes.run(["-c", ANNOUNCED], env=env)
    assert cold.returncode == 0, cold.stderr
    assert cold.stdout == "True\n"
    assert cold.stderr.count("nbbackprop: compiling its kernels for this install") == 1
    assert "later runs load them from the cache" in cold.stderr
    warm = processes.run(["-c", ANNOUNCED], env=env)
    assert warm.returncode == 0, warm.stderr
    assert (warm.stdout, warm.stderr) == ("False\n", "")
