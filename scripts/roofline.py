"""The roofline of ``scripts/bench.py``: what one core of this machine can do at most for
the work of a training sample, measured by two micro-benchmarks.

- **Compute peak**: float64 vector multiplies and adds, no FMA (the instruction mix the
  exact kernels may use: FMA rounds once where they round twice). Several independent
  chains ``a_c ← a_c · m + s`` on vectors held in registers, so nothing waits for memory
  or for a previous result; one chain step is one multiply and one add per lane, 2 FLOP.
- **Streaming-read bandwidth** of an array of a given byte size (the weights' size: the
  cache level that holds them): repeated sweeps of vector loads, each added into one of
  several independent accumulators.

Both are written in LLVM IR with explicit vectors (``<8 x double>`` and narrower) and
compiled by llvmlite, Numba's own code generator, for this CPU: Numba's vectoriser on an
AVX-512 core may prefer 256-bit vectors, and a ceiling must use the widest the CPU has.
The plain ``fmul``/``fadd`` carry no fast-math flags, so LLVM may not contract them into
an FMA; ``assembly`` shows the code (``vmulpd``/``vaddpd`` on ``zmm`` registers, no
``vfmadd``). Each width the CPU supports is measured, and the fastest counts;
``compute_peaks`` gives every width's own figure (Numba's code on an AVX-512 core may use
only 4-double vectors, whose peak is then the one its kernels can approach).

- **Read-modify-write bandwidth** (``update_ir``) of an array of the weights' size: each
  vector loaded, a constant added, stored back, as a step reads and writes each weight;
  a written line must go back to the cache level below, so this is slower than reading.
- **The register tile's loop** (``tile_ir``), the instruction mix of the exact batch
  kernel's inner loop (``add_products`` in ``nbbackprop.fast``): per vector of columns,
  TILE_TERMS vectors of B loaded, then for each of TILE_ROWS rows its accumulator loaded
  from memory, TILE_TERMS multiplies and adds in the kernel's order, and stored back, on
  arrays that stay in L1. Its rate against the peak of the same width is what the exact
  tile can reach at most: the cost of the accumulators' round trip to memory every
  TILE_TERMS terms and of the factors' registers, with no loop bounds or strides to pay.
"""

import ctypes
import functools
import time

import numpy as np

CHAINS = 16  # independent chains: enough to cover the latency of two FP ports
LOADS = 16  # independent accumulators of the read sweep
TILE_ROWS, TILE_TERMS = 8, 4  # those of nbbackprop.fast.add_products
TILE_COLUMNS = 96  # C's columns (about a hidden layer of 100): the tile's arrays stay in L1


def _vector(width):
    return f"<{width} x double>"


def _splat(name, scalar, width):
    v = _vector(width)
    return (f"  %{name}.0 = insertelement {v} undef, double {scalar}, i32 0\n"
            f"  %{name} = shufflevector {v} %{name}.0, {v} undef, "
            f"<{width} x i32> zeroinitializer\n")


def _sum(names, width):
    """IR that adds the vectors ``names`` and the lanes of their sum into %total."""
    v, lines, last = _vector(width), [], names[0]
    for c, name in enumerate(names[1:]):
        lines.append(f"  %sum{c} = fadd {v} %{last}, %{name}")
        last = f"sum{c}"
    lines.append(f"  %lane0 = extractelement {v} %{last}, i32 0")
    for k in range(1, width):
        lines.append(f"  %lanex{k} = extractelement {v} %{last}, i32 {k}")
        lines.append(f"  %lane{k} = fadd double %lane{k - 1}, %lanex{k}")
    lines.append(f"  %total = fadd double %lane{width - 1}, 0.0")
    return "\n".join(lines) + "\n"


ATTRIBUTES = ('attributes #0 = {{ nounwind "min-legal-vector-width"="{bits}" '
              '"prefer-vector-width"="{bits}" }}\n')


def compute_ir(width):
    """``double peak(i64 n, double m, double s)``: n steps of CHAINS chains, each step
    ``a ← a·m + s`` on a vector of ``width`` doubles; returns the sum (so nothing is dead)."""
    v = _vector(width)
    ir = ["define double @peak(i64 %n, double %m, double %s) #0 {\nentry:\n",
          _splat("mv", "%m", width), _splat("sv", "%s", width), "  br label %loop\nloop:\n",
          "  %i = phi i64 [0, %entry], [%i1, %loop]\n"]
    for c in range(CHAINS):  # distinct starting values: the chains cannot be merged
        start = ", ".join([f"double {c + 1}.0"] * width)
        ir.append(f"  %a{c} = phi {v} [<{start}>, %entry], [%b{c}, %loop]\n")
    for c in range(CHAINS):
        ir.append(f"  %p{c} = fmul {v} %a{c}, %mv\n  %b{c} = fadd {v} %p{c}, %sv\n")
    ir.append("  %i1 = add i64 %i, 1\n  %more = icmp ult i64 %i1, %n\n"
              "  br i1 %more, label %loop, label %exit\nexit:\n")
    ir.append(_sum([f"b{c}" for c in range(CHAINS)], width))
    ir.append("  ret double %total\n}\n")
    return "".join(ir) + ATTRIBUTES.format(bits=64 * width)


def stream_ir(width):
    """``double stream(double* p, i64 blocks, i64 sweeps)``: ``sweeps`` reads of ``blocks``
    blocks of LOADS vectors of ``width`` doubles from ``p``, each load added into its own
    accumulator; returns the sum."""
    v = _vector(width)
    ir = ["define double @stream(double* %p, i64 %blocks, i64 %sweeps) #0 {\nentry:\n",
          "  br label %sweep\nsweep:\n",
          "  %r = phi i64 [0, %entry], [%r1, %swept]\n"]
    for c in range(LOADS):
        ir.append(f"  %a{c} = phi {v} [zeroinitializer, %entry], [%d{c}, %swept]\n")
    ir.append("  br label %block\nblock:\n  %i = phi i64 [0, %sweep], [%i1, %block]\n")
    for c in range(LOADS):
        ir.append(f"  %c{c} = phi {v} [%a{c}, %sweep], [%d{c}, %block]\n")
    ir.append(f"  %base = mul i64 %i, {LOADS * width}\n")
    for c in range(LOADS):
        ir.append(f"  %o{c} = add i64 %base, {c * width}\n"
                  f"  %q{c} = getelementptr double, double* %p, i64 %o{c}\n"
                  f"  %w{c} = bitcast double* %q{c} to {v}*\n"
                  f"  %x{c} = load {v}, {v}* %w{c}, align 64\n"
                  f"  %d{c} = fadd {v} %c{c}, %x{c}\n")
    ir.append("  %i1 = add i64 %i, 1\n  %inner = icmp ult i64 %i1, %blocks\n"
              "  br i1 %inner, label %block, label %swept\nswept:\n"
              "  %r1 = add i64 %r, 1\n  %outer = icmp ult i64 %r1, %sweeps\n"
              "  br i1 %outer, label %sweep, label %exit\nexit:\n")
    ir.append(_sum([f"d{c}" for c in range(LOADS)], width))
    ir.append("  ret double %total\n}\n")
    return "".join(ir) + ATTRIBUTES.format(bits=64 * width)


def update_ir(width):
    """``void update(double* p, i64 blocks, i64 sweeps, double s)``: ``sweeps`` times, every
    vector of ``p`` (``blocks`` blocks of LOADS vectors of ``width`` doubles) loaded, ``s``
    added, and stored back: the weights' traffic of a step, each read and written once."""
    v = _vector(width)
    ir = ["define void @update(double* %p, i64 %blocks, i64 %sweeps, double %s) #0 {\n"
          "entry:\n", _splat("sv", "%s", width), "  br label %sweep\nsweep:\n"
          "  %r = phi i64 [0, %entry], [%r1, %swept]\n  br label %block\nblock:\n"
          "  %i = phi i64 [0, %sweep], [%i1, %block]\n"
          f"  %base = mul i64 %i, {LOADS * width}\n"]
    for c in range(LOADS):
        ir.append(f"  %o{c} = add i64 %base, {c * width}\n"
                  f"  %q{c} = getelementptr double, double* %p, i64 %o{c}\n"
                  f"  %w{c} = bitcast double* %q{c} to {v}*\n"
                  f"  %x{c} = load {v}, {v}* %w{c}, align 64\n"
                  f"  %y{c} = fadd {v} %x{c}, %sv\n"
                  f"  store {v} %y{c}, {v}* %w{c}, align 64\n")
    ir.append("  %i1 = add i64 %i, 1\n  %inner = icmp ult i64 %i1, %blocks\n"
              "  br i1 %inner, label %block, label %swept\nswept:\n"
              "  %r1 = add i64 %r, 1\n  %outer = icmp ult i64 %r1, %sweeps\n"
              "  br i1 %outer, label %sweep, label %exit\nexit:\n  ret void\n}\n")
    return "".join(ir) + ATTRIBUTES.format(bits=64 * width)


def tile_ir(width):
    """``void tile(double* C, double* B, i64 vectors, i64 sweeps, double a)``: ``sweeps``
    times, for every vector v of ``width`` columns, C_rv ← (((C_rv + B_0v·a_r0) + B_1v·a_r1)
    + …) for the TILE_ROWS rows r of C and TILE_TERMS rows of B (each ``vectors·width``
    columns), a_rk = a·(1 + TILE_TERMS·r + k) held in registers: ``add_products``' loop."""
    v, row = _vector(width), f"%vectors.{width}"
    ir = ["define void @tile(double* %C, double* %B, i64 %vectors, i64 %sweeps, double %a) #0"
          " {\nentry:\n", f"  {row} = mul i64 %vectors, {width}\n"]
    for r in range(TILE_ROWS):
        for k in range(TILE_TERMS):
            ir.append(f"  %s{r}_{k} = fmul double %a, {1 + TILE_TERMS * r + k}.0\n")
            ir.append(_splat(f"f{r}_{k}", f"%s{r}_{k}", width))
    ir.append("  br label %sweep\nsweep:\n  %n = phi i64 [0, %entry], [%n1, %swept]\n"
              "  br label %column\ncolumn:\n  %c = phi i64 [0, %sweep], [%c1, %column]\n"
              f"  %col = mul i64 %c, {width}\n")
    for k in range(TILE_TERMS):  # B_kv at k·row + col, C_rv at r·row + col
        ir.append(f"  %bk{k} = mul i64 {row}, {k}\n  %bo{k} = add i64 %col, %bk{k}\n"
                  f"  %bq{k} = getelementptr double, double* %B, i64 %bo{k}\n"
                  f"  %bw{k} = bitcast double* %bq{k} to {v}*\n"
                  f"  %b{k} = load {v}, {v}* %bw{k}, align 8\n")
    for r in range(TILE_ROWS):
        ir.append(f"  %ck{r} = mul i64 {row}, {r}\n  %co{r} = add i64 %col, %ck{r}\n"
                  f"  %cq{r} = getelementptr double, double* %C, i64 %co{r}\n"
                  f"  %cw{r} = bitcast double* %cq{r} to {v}*\n"
                  f"  %x{r}_0 = load {v}, {v}* %cw{r}, align 8\n")
        for k in range(TILE_TERMS):
            ir.append(f"  %p{r}_{k} = fmul {v} %b{k}, %f{r}_{k}\n"
                      f"  %x{r}_{k + 1} = fadd {v} %x{r}_{k}, %p{r}_{k}\n")
        ir.append(f"  store {v} %x{r}_{TILE_TERMS}, {v}* %cw{r}, align 8\n")
    ir.append("  %c1 = add i64 %c, 1\n  %more = icmp ult i64 %c1, %vectors\n"
              "  br i1 %more, label %column, label %swept\nswept:\n"
              "  %n1 = add i64 %n, 1\n  %again = icmp ult i64 %n1, %sweeps\n"
              "  br i1 %again, label %sweep, label %exit\nexit:\n  ret void\n}\n")
    return "".join(ir) + ATTRIBUTES.format(bits=64 * width)


@functools.cache
def _llvm():
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    features = llvm.get_host_cpu_features()
    machine = llvm.Target.from_default_triple().create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=features.flatten(), opt=3)
    return llvm, machine, features


def widths():
    """Vector widths, in doubles, that this CPU has: 2 (SSE2), 4 (AVX), 8 (AVX-512)."""
    features = _llvm()[2]
    return [2] + [w for w, flag in ((4, "avx"), (8, "avx512f")) if features.get(flag)]


def _module(ir):
    llvm, machine, _ = _llvm()
    module = llvm.parse_assembly(ir)
    module.verify()
    return module, machine


def assembly(ir):
    """The machine code LLVM makes of ``ir`` for this CPU, as text."""
    module, machine = _module(ir)
    return machine.emit_assembly(module)


@functools.cache
def _compiled(kind, width):
    """The function of ``compute_ir``/``stream_ir`` for ``width``, callable from Python."""
    llvm = _llvm()[0]
    ir = {"peak": compute_ir, "stream": stream_ir, "update": update_ir,
          "tile": tile_ir}[kind](width)
    module, _ = _module(ir)
    # An execution engine takes ownership of its target machine and frees it when it is
    # collected: each engine gets a machine of its own (two sharing one was a double free,
    # a crash when the engines were collected).
    machine = llvm.Target.from_default_triple().create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=_llvm()[2].flatten(), opt=3)
    engine = llvm.create_mcjit_compiler(module, machine)
    engine.finalize_object()
    c = ctypes
    signature = {"peak": c.CFUNCTYPE(c.c_double, c.c_int64, c.c_double, c.c_double),
                 "stream": c.CFUNCTYPE(c.c_double, c.c_void_p, c.c_int64, c.c_int64),
                 "update": c.CFUNCTYPE(None, c.c_void_p, c.c_int64, c.c_int64, c.c_double),
                 "tile": c.CFUNCTYPE(None, c.c_void_p, c.c_void_p, c.c_int64, c.c_int64,
                                     c.c_double)}[kind]
    return engine, signature(engine.get_function_address(kind))


def _timed(call, *args):
    tic = time.perf_counter()
    call(*args)
    return time.perf_counter() - tic


PIECE = 0.001  # seconds: one timed run, short enough to fit between other processes' turns
PIECES = 5  # timed runs at least, of which the fastest counts


def _rate(run, units, seconds):
    """``units`` per second of ``run(n)``, which does n times ``units``: the fastest of
    runs of about PIECE seconds each, repeated for about ``seconds`` and at least PIECES
    times (load from other processes can only slow a run)."""
    n = 1
    while _timed(run, n) < PIECE:
        n *= 2
    times = []
    while sum(times) < seconds or len(times) < PIECES:
        times.append(_timed(run, n))
    return units * n / min(times)


def compute_peaks(seconds=0.02):
    """{width: GFLOP/s}: one core's float64 multiply + add rate on vectors of each width."""
    peaks = {}
    for width in widths():
        peak = _compiled("peak", width)[1]
        rate = _rate(lambda steps, peak=peak: peak(1000 * steps, 0.5, 1.0),
                     2 * CHAINS * width * 1000, seconds / len(widths()))
        peaks[width] = rate / 1e9
    return peaks


def compute_peak(seconds=0.02):
    """(GFLOP/s, width): one core's float64 multiply + add rate, the best vector width."""
    return max((rate, width) for width, rate in compute_peaks(seconds).items())


def tile_rates(seconds=0.02):
    """{width: GFLOP/s} of the register tile's loop (``tile_ir``) on arrays in L1."""
    rates = {}
    for width in widths():
        tile = _compiled("tile", width)[1]
        vectors = TILE_COLUMNS // width
        C, B = _aligned(TILE_ROWS * TILE_COLUMNS * 8, width), _aligned(
            TILE_TERMS * TILE_COLUMNS * 8, width)
        C[:], B[:] = 1.0, 1.0
        args = C.ctypes.data, B.ctypes.data, vectors

        def run(sweeps, tile=tile, args=args):
            tile(*args, sweeps, 1e-9)

        rate = _rate(run, 2 * TILE_ROWS * TILE_TERMS * TILE_COLUMNS, seconds / len(widths()))
        rates[width] = rate / 1e9
    return rates


def _aligned(nbytes, width):
    """A float64 array of at least ``nbytes`` (whole blocks), starting on 64 bytes."""
    block = LOADS * width
    count = max(block, -(-nbytes // 8 // block) * block)
    raw = np.ones(count + 8)
    skip = (-raw.ctypes.data % 64) // 8
    return raw[skip:skip + count]


def _sweep_rate(kind, nbytes, seconds, moved, *extra):
    """(GB/s, width): the best width's rate of the sweeps of ``_compiled(kind)`` over an
    array of ``nbytes``, counting ``moved`` bytes per byte of the array."""
    best = (0.0, 0)
    for width in widths():
        sweep = _compiled(kind, width)[1]
        data = _aligned(nbytes, width)
        blocks = len(data) // (LOADS * width)

        def run(sweeps, sweep=sweep, address=data.ctypes.data, blocks=blocks):
            sweep(address, blocks, sweeps, *extra)

        run(2)  # warm: the array is now where it fits
        rate = _rate(run, moved * data.nbytes, seconds / len(widths()))
        best = max(best, (rate / 1e9, width))
    return best


def read_bandwidth(nbytes, seconds=0.02):
    """(GB/s, width): one core's rate of streaming reads of an array of ``nbytes``,
    swept again and again (it stays in whichever cache level it fits), the best width."""
    return _sweep_rate("stream", nbytes, seconds, 1)


def update_bandwidth(nbytes, seconds=0.02):
    """(GB/s, width): one core's rate of read-modify-write sweeps of an array of ``nbytes``
    (``update_ir``), each byte read and written counted once each, the best width."""
    return _sweep_rate("update", nbytes, seconds, 2, 0.0)


def cache_level(nbytes):
    """The name of the smallest data cache of this core that holds ``nbytes`` ("RAM" if
    none does; None where the sizes are unknown), from /sys."""
    from pathlib import Path

    levels = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            if (index / "type").read_text().strip() == "Instruction":
                continue
            size = (index / "size").read_text().strip()
            scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(size[-1], 1)
            levels.append((int(size.rstrip("KMG")) * scale,
                           "L" + (index / "level").read_text().strip()))
        except (OSError, ValueError):
            return None
    if not levels:
        return None
    return next((name for size, name in sorted(levels) if nbytes <= size), "RAM")
