"""The one place where compiled code is declared, and with which flags.

Every kernel is ``@njit(cache=True, nogil=True)`` and nothing else (``jit``); the one
driver that spreads independent work over threads adds ``parallel=True`` (``jit_parallel``):

- ``cache=True``: a user's second process loads machine code from ``__pycache__``
  instead of compiling again.
- ``nogil=True``: two threads may train two networks at once.
- no ``fastmath``: these are the reference kernels, so every sum is evaluated in the
  order the loop states it, in IEEE float64 (plain ``fastmath=True`` would also assume
  no NaN/Inf and delete the non-finite checks that divergence detection relies on).
  The forward sum still vectorises without reassociation because its inner loop runs
  over ``j`` (independent sums), not over ``i``.
- ``parallel=True`` only where every result is computed whole by one thread (a block of
  samples' errors, added in sample order afterwards): no sum is ever split between
  threads, so the results are the same, bit for bit, for any number of threads.
"""

import functools

import numba

jit = functools.partial(numba.njit, cache=True, nogil=True)
jit_parallel = functools.partial(numba.njit, cache=True, nogil=True, parallel=True)
