"""Runs in the CI step that sets NUMBA_BOUNDSCHECK=1 (see .ci/run), and proves the flag
took effect there: an out-of-bounds index in a kernel raises IndexError instead of
reading past the array. In that step the kernel tests run on kernels compiled this way."""

import os

import numpy as np
import pytest

from nbbackprop import formulas

pytestmark = pytest.mark.skipif(os.environ.get("NUMBA_BOUNDSCHECK") != "1",
                                reason="only meaningful with NUMBA_BOUNDSCHECK=1")


def test_an_out_of_bounds_index_in_a_kernel_raises():
    w, b = np.ones((3, 2)), np.zeros(2)  # w has 3 rows (i = 0, 1, 2) ...
    y_below = np.ones(2)  # ... but only 2 inputs y_i: reading y_2 is out of bounds
    with pytest.raises(IndexError):
        formulas.forward_layer(w, b, y_below, 0, np.empty(2), np.empty(2))
