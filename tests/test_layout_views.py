"""The layout's untracked views (``layout.segment``, ``layout.matrix``, ``layout.untracked``)
are the slices, reshapes and arrays they replace: the same entries, and writes through them
reach the buffer."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from nbbackprop.layout import matrix, segment, untracked


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


@njit
def rows_doubled_through_untracked(A):
    """A copy of each row of ``untracked(A)``, then A doubled in place through it."""
    view = untracked(A)
    rows = [view[s].copy() for s in range(view.shape[0])]
    for s in range(view.shape[0]):
        for i in range(view.shape[1]):
            view[s, i] *= 2.0
    return rows


@given(st.integers(1, 6), st.integers(1, 6), st.booleans())
def test_an_untracked_array_is_the_array(n_rows, n_columns, strided):
    A = np.random.default_rng(n_rows * 7 + n_columns).normal(size=(n_rows, 2 * n_columns))
    A = A[:, ::2] if strided else A[:, :n_columns].copy()
    before = A.copy()
    rows = rows_doubled_through_untracked(A)
    for s in range(n_rows):
        np.testing.assert_array_equal(rows[s], before[s])
    np.testing.assert_array_equal(A, 2.0 * before)
