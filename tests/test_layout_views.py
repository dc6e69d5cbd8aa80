"""The layout's untracked views (``layout.segment``, ``layout.matrix``) are the slices and
reshapes they replace: the same entries, and writes through them reach the buffer."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from nbbackprop.layout import matrix, segment


@njit
def through_views(buffer, start, n_rows, n_columns):
    """Copies of a segment and of a matrix view; then every entry of the matrix view
    doubled in place."""
    flat = segment(buffer, start, n_rows * n_columns).copy()
    block = matrix(buffer, start, n_rows, n_columns)
    seen = block.copy()
    for i in range(n_rows):
        for j in range(n_columns):
            block[i, j] *= 2.0
    return flat, seen


@njit
def strided_segment(buffer, start, n):
    return segment(buffer, start, n).copy()


@given(st.data())
def test_views_equal_slices_and_write_through(data):
    size = data.draw(st.integers(1, 40), label="size")
    n_rows = data.draw(st.integers(1, size), label="n_rows")
    n_columns = data.draw(st.integers(1, size // n_rows), label="n_columns")
    start = data.draw(st.integers(0, size - n_rows * n_columns), label="start")
    buffer = np.random.default_rng(size).normal(size=size)
    before = buffer.copy()
    flat, seen = through_views(buffer, start, n_rows, n_columns)
    stop = start + n_rows * n_columns
    np.testing.assert_array_equal(flat, before[start:stop])
    np.testing.assert_array_equal(seen, before[start:stop].reshape(n_rows, n_columns))
    expected = before.copy()
    expected[start:stop] *= 2.0
    np.testing.assert_array_equal(buffer, expected)


def test_a_segment_of_a_strided_array_is_its_slice():
    buffer = np.arange(20.0)[::3]
    np.testing.assert_array_equal(strided_segment(buffer, 2, 3), buffer[2:5])
