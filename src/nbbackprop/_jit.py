"""The one place where compiled code is declared, and with which flags.

Every kernel is ``@njit(cache=True, nogil=True)`` and nothing else (``jit``); the one
driver that spreads independent work over threads adds ``parallel=True`` (``jit_parallel``):

- ``cache=True``: a user's second process loads machine code from ``__pycache__``
  instead of compiling again. Numba looks for a writable directory (``NUMBA_CACHE_DIR``,
  the package's ``__pycache__``, the user's cache directory); when there is none (a
  read-only install and home), it refuses ``cache=True``, so the kernels are compiled
  without an on-disk cache instead, after one warning.
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
import warnings

import numba

_cache = True  # False once Numba has said that no cache directory is writable


def jit(function=None, **options):
    """``numba.njit(cache=True, nogil=True, **options)``, as ``@jit`` or ``@jit(...)``."""
    global _cache
    if function is None:
        return functools.partial(jit, **options)
    if _cache:
        try:
            return numba.njit(function, cache=True, nogil=True, **options)
        except RuntimeError as err:  # "cannot cache function ...: no locator available"
            if "cannot cache" not in str(err):
                raise
            _cache = False
            warnings.warn("nbbackprop: no writable directory for Numba's compile cache "
                          "(set NUMBA_CACHE_DIR to one); compiling the kernels in memory, "
                          "so every new process compiles them again", RuntimeWarning,
                          stacklevel=2)
    return numba.njit(function, cache=False, nogil=True, **options)


jit_parallel = functools.partial(jit, parallel=True)
