"""The package's kernels prefer 512-bit vectors (``_jit.WideCompiler``), for themselves
alone, and compute the same bits as Numba's default compilation of the same function."""

import re

import llvmlite.binding as llvm
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbbackprop import fast
from nbbackprop._jit import WIDE_VECTORS, WideCompiler

if WideCompiler is None:
    pytest.skip("this Numba's pipeline internals differ: the kernels use Numba's own pipeline",
                allow_module_level=True)

DEFAULT = numba.njit(fast.add_products.py_func)
WIDE = numba.njit(fast.add_products.py_func, pipeline_class=WideCompiler)
STEP = {"default": numba.njit(fast.descend_forward_layer.py_func),
        "wide": numba.njit(fast.descend_forward_layer.py_func, pipeline_class=WideCompiler)}


def _compiled(dispatcher):
    A, B, C = np.ones((8, 4)), np.ones((4, 16)), np.zeros((8, 16))
    dispatcher(A, B, C)
    return dispatcher.signatures[0]


def test_only_the_packages_kernels_carry_the_attribute():
    assert WIDE_VECTORS in WIDE.inspect_llvm(_compiled(WIDE))
    # the same function compiled by plain Numba in the same process is untouched
    assert "prefer-vector-width" not in DEFAULT.inspect_llvm(_compiled(DEFAULT))


@pytest.mark.skipif(not llvm.get_host_cpu_features().get("avx512f"),
                    reason="the CPU has no 512-bit vectors")
def test_on_an_avx512_cpu_the_tile_multiplies_and_adds_on_zmm_registers():
    asm = WIDE.inspect_asm(_compiled(WIDE))
    packed = re.findall(r"v(?:mul|add)pd\s[^\n]*%([xyz])mm", asm)
    assert packed.count("z") > packed.count("y") + packed.count("x")
    assert "vfmadd" not in asm, "no multiply-add is contracted"


@settings(deadline=None, max_examples=25)
@given(rows=st.integers(1, 20), terms=st.integers(1, 12), columns=st.integers(1, 40),
       seed=st.integers(0, 2**32 - 1))
def test_wider_vectors_give_the_same_bits(rows, terms, columns, seed):
    """Vectorising the loop over columns more widely does not reorder any sum."""
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((rows, terms)), rng.standard_normal((terms, columns))
    C0 = rng.standard_normal((rows, columns))
    C1, C2 = C0.copy(), C0.copy()
    DEFAULT(A, B, C1)
    WIDE(A, B, C2)
    assert np.array_equal(C1, C2)

    n_i, n_j = terms, columns
    w0, b0 = rng.standard_normal((n_i, n_j)), rng.standard_normal(n_j)
    delta, before, y_below = (rng.standard_normal(n_j), rng.standard_normal(n_i),
                              rng.standard_normal(n_i))
    out = {}
    for name, kernel in STEP.items():
        w, b, z, y = w0.copy(), b0.copy(), np.empty(n_j), np.empty(n_j)
        kernel(w, b, delta, before, 0.01, True, y_below, 0, z, y)
        out[name] = (w, b, z, y)
    assert all(np.array_equal(p, q) for p, q in zip(out["default"], out["wide"]))


def test_a_numba_without_those_internals_falls_back_to_its_own_pipeline(monkeypatch):
    from numba.core import typed_passes

    from nbbackprop import _jit

    monkeypatch.delattr(typed_passes, "NativeLowering")
    assert _jit._wide_compiler() is None
