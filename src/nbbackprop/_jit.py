"""The one place where compiled code is declared, and with which flags.

Every kernel is ``@njit(cache=True, nogil=True, pipeline_class=WideCompiler)`` and
nothing else (``jit``); the one driver that spreads independent work over threads has
``parallel=True`` instead of the pipeline (``jit_parallel``):

- ``cache=True``: a user's second process loads machine code from ``__pycache__``
  instead of compiling again. Numba looks for a writable directory (``NUMBA_CACHE_DIR``,
  the package's ``__pycache__``, the user's cache directory); when there is none (a
  read-only install and home), it refuses ``cache=True``, so the kernels are compiled
  without an on-disk cache instead, after one warning.
- The cache key covers every module with compiled code: Numba keys a kernel's cache on
  its own file only, so after an edit of ``activations.py`` a kernel in ``formulas.py``
  that inlines ``f`` was loaded stale (and a stale kernel calling a changed one can crash
  the process). Here the kernels of each version of those files (``KERNEL_SOURCES``) are
  cached in a directory named by their hash, so any edit recompiles them all, and two
  versions never share a cache file.
- ``nogil=True``: two threads may train two networks at once.
- no ``fastmath``: these are the reference kernels, so every sum is evaluated in the
  order the loop states it, in IEEE float64 (plain ``fastmath=True`` would also assume
  no NaN/Inf and delete the non-finite checks that divergence detection relies on).
  The forward sum still vectorises without reassociation because its inner loop runs
  over ``j`` (independent sums), not over ``i``.
- 512-bit vectors where the CPU has them: every kernel's LLVM function carries the
  attribute ``"prefer-vector-width"="512"`` (``WideCompiler``), which overrides, for
  that function alone, the 256-bit preference LLVM's tuning gives Intel's AVX-512 cores;
  other code in the process, and CPUs without AVX-512, are unaffected. Vectorising the
  loops over ``j`` more widely does not reorder any sum, so the bits stay the same.
- a first compile is announced: once per process, on the ``nbbackprop`` logger, when
  Numba starts compiling one of the package's kernels (which it does only when the disk
  cache has none), so that a first run does not sit silent; a warm start says nothing.
- ``parallel=True`` only where every result is computed whole by one thread (a block of
  samples' errors, added in sample order afterwards): no sum is ever split between
  threads, so the results are the same, bit for bit, for any number of threads.
"""

import functools
import hashlib
import logging
import os
import warnings

import numba
from numba.core import caching, event

_cache = True  # False once Numba has said that no cache directory is writable
compiled = False  # True once this process has compiled a kernel (not loaded it from the cache)
PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _kernel_sources():
    """The package's modules that hold compiled code (and this one), by file name."""
    names = []
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py"):
            with open(os.path.join(PACKAGE, name), encoding="utf-8") as file:
                if name == "_jit.py" or "from ._jit import" in file.read():
                    names.append(name)
    return tuple(names)


KERNEL_SOURCES = _kernel_sources()


@functools.lru_cache(maxsize=1)
def _sources_stamp():
    digest = hashlib.sha256()
    for name in KERNEL_SOURCES:
        with open(os.path.join(PACKAGE, name), "rb") as file:
            digest.update(name.encode() + b"\0" + file.read())
    return digest.hexdigest()


class _WholePackageStamp:
    """A Numba cache locator for this package's kernels: a directory of its own per hash of
    every kernel source (inside the one the usual locator would use), and that hash as the
    stamp, so that no two versions of the sources ever share or overwrite a cache file."""

    def get_cache_path(self):
        return os.path.join(super().get_cache_path(), f"kernels-{_sources_stamp()[:16]}")

    def get_source_stamp(self):
        return _sources_stamp()

    @classmethod
    def from_function(cls, py_func, py_file):
        if os.path.dirname(os.path.abspath(py_file)) != PACKAGE:
            return None  # not ours: Numba's own locators decide
        return super().from_function(py_func, py_file)


# Tried before Numba's own locators, in their order (older Numba names it _CacheImpl).
(getattr(caching, "CacheImpl", None) or caching._CacheImpl)._locator_classes[:0] = [
    type(f"Package{base.__name__}", (_WholePackageStamp, base), {})
    for base in (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator,
                 caching.UserWideCacheLocator)
]


WIDE_VECTORS = '"prefer-vector-width"="512"'


def _wide_compiler():
    """Numba's nopython pipeline whose lowering marks each LLVM function ``WIDE_VECTORS``;
    None when this Numba's internals (lowering and pass classes, used here as of Numba
    0.68) differ, and the kernels then compile with Numba's own pipeline: the same bits,
    256-bit vectors."""
    try:
        from numba.core import compiler, lowering, typed_passes
        from numba.core.compiler_machinery import register_pass

        class WideLowering(lowering.Lower):
            def pre_lower(self):
                super().pre_lower()
                # a string attribute: llvmlite's FunctionAttributes.add takes known keywords only
                set.add(self.builder.function.attributes, WIDE_VECTORS)

        @register_pass(mutates_CFG=True, analysis_only=False)
        class WideNativeLowering(typed_passes.NativeLowering):
            _name = "nbbackprop_wide_native_lowering"

            @property
            def lowering_class(self):
                return WideLowering

        class WideCompiler(compiler.CompilerBase):
            def define_pipelines(self):
                pipeline = compiler.DefaultPassBuilder.define_nopython_pipeline(self.state)
                pipeline.passes[:] = [
                    (WideNativeLowering if cls is typed_passes.NativeLowering else cls, text)
                    for cls, text in pipeline.passes]
                return [pipeline]

        return WideCompiler
    except (ImportError, AttributeError, TypeError):
        return None


WideCompiler = _wide_compiler()


def jit(function=None, **options):
    """``numba.njit(cache=True, nogil=True, **options)``, as ``@jit`` or ``@jit(...)``,
    with 512-bit vectors preferred (``WideCompiler``) except for ``parallel=True``."""
    global _cache
    if function is None:
        return functools.partial(jit, **options)
    if not options.get("parallel") and WideCompiler is not None:
        options.setdefault("pipeline_class", WideCompiler)
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

# What a first fit compiles, in CPU seconds on a 2-core Intel Xeon: about 12 s for online
# training with its error and forward passes (python scripts/compile_profile.py).
FIRST_COMPILE_SECONDS = 12


class _Announcement(event.Listener):
    """Says on the ``nbbackprop`` logger, once per process, that the kernels are being
    compiled, when the first of them is: Numba broadcasts "numba:compile" only for a
    kernel it did not find in the on-disk cache, so a warm start says nothing."""

    def on_start(self, ev):
        global compiled
        if not ev.data["dispatcher"].py_func.__module__.startswith(__package__ + "."):
            return
        compiled = True
        event.unregister("numba:compile", self)
        later = ("later runs load them from the cache" if _cache else
                 "no writable cache directory, so every process compiles them again")
        logging.getLogger(__package__).warning(
            "nbbackprop: compiling its kernels for this install (about %d s for a first fit, "
            "once; %s) ...", FIRST_COMPILE_SECONDS, later)

    def on_end(self, ev):
        pass


event.register("numba:compile", _Announcement())
