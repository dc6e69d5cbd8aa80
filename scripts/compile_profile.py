"""Where a first run's time goes: every kernel compiled, its specialisations and seconds.

    python scripts/compile_profile.py [--scenario demo|all] [--runs N]

Runs the scenario in a fresh process with an empty compile cache (a new NUMBA_CACHE_DIR),
so every kernel it needs is compiled, and times every compile of every kernel
(``Dispatcher.compile``, the disk cache's lookup and save included). A kernel compiled
while another is being compiled (a callee) counts in its caller's *total* and in its own
*self* time; the self times add up to the whole. Numba compiles a kernel with every
kernel it calls linked in and optimised again, so a kernel deep in the call graph is
optimised once per level above it: that is what *total* shows. Scenarios:

- ``demo``: what ``nbbackprop demo`` does (a 2-2-1 network trained online on XOR, its
  error and outputs), the command's output discarded;
- ``all``: every kernel the public API can reach: online, mini-batch and momentum
  training, weight decay, a data set large enough for the threaded error pass, forward,
  error, gradient, trace and a gradient check.

With ``--runs N`` the scenario runs N times (each in a fresh process and cache); the
report gives the median of each figure. The report, in Markdown, goes to stdout.

With ``--stages`` it also says where the compiling thread's time went: Numba's own passes
(typing, lowering to LLVM IR, the others), and LLVM's optimisation of each kernel's
functions, of its module once its callees are linked in, and its machine code; and how
many LLVM instructions the module optimisation went through, against the instructions
of the kernels themselves: the ratio is how many times, on average, a kernel's code is
optimised (once in itself, once more in every caller above it). Counting the
instructions adds some time of its own, so the other figures come from runs without it.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from machine import cpu_model  # scripts/machine.py

CHILD = r"""
import contextlib, io, json, sys, time
started = time.perf_counter()
import numba
from numba.core import dispatcher

records, depth = [], [0]
original = dispatcher.Dispatcher.compile

def timed(self, sig):
    name = f"{self.py_func.__module__.rsplit('.', 1)[-1]}.{self.py_func.__name__}"
    had = len(self.overloads)
    depth[0] += 1
    tic = time.thread_time()
    try:
        return original(self, sig)
    finally:
        depth[0] -= 1
        if len(self.overloads) > had:
            records.append({"kernel": name, "sig": str(sig), "depth": depth[0],
                            "start": tic, "end": time.thread_time()})

dispatcher.Dispatcher.compile = timed
stages = {}
if STAGES:
    from numba.core import codegen, event

    def add(key, seconds):
        stages[key] = stages.get(key, 0.0) + seconds

    class Passes(event.Listener):  # Numba's passes, each without the compiles nested in it
        def __init__(self):
            self.stack = []

        def on_start(self, ev):
            self.stack.append([ev.data["name"].split(" [")[0], time.thread_time(), 0.0])

        def on_end(self, ev):
            name, tic, nested = self.stack.pop()
            took = time.thread_time() - tic
            add({"nopython_type_inference": "Numba: typing",
                 "native_lowering": "Numba: lowering to LLVM IR",
                 # the package's own lowering pass (_jit.WideCompiler)
                 "nbbackprop_wide_native_lowering": "Numba: lowering to LLVM IR",
                 }.get(name, "Numba: other passes"), took - nested)
            if self.stack:
                self.stack[-1][2] += took

    passes = Passes()
    event.register("numba:run_pass", passes)
    library = codegen.CPUCodeLibrary

    def not_numba(seconds):  # time spent inside a pass that is not the pass's own
        if passes.stack:
            passes.stack[-1][2] += seconds

    def count(key, module):
        tic = time.thread_time()
        add(key, sum(len(list(b.instructions)) for f in module.functions for b in f.blocks))
        took = time.thread_time() - tic
        add("counting instructions", took)
        not_numba(took)

    def llvm(method, key, counted=None):
        original_method = getattr(library, method)

        def wrapped(self, *args):
            if counted:
                count(counted, self._final_module)
            tic = time.thread_time()
            try:
                return original_method(self, *args)
            finally:
                took = time.thread_time() - tic
                add(key, took)
                not_numba(took)

        setattr(library, method, wrapped)

    llvm("_optimize_functions", "LLVM: each kernel's functions")
    llvm("_optimize_final_module", "LLVM: the module, callees linked in", "instructions optimised")
    llvm("_finalize_final_module", "LLVM: machine code")
    original_finalize = library.finalize

    def finalize(self):
        count("instructions of the kernels", self._final_module)
        return original_finalize(self)

    library.finalize = finalize
import nbbackprop
imported = time.perf_counter()
SCENARIO
with contextlib.redirect_stdout(io.StringIO()):
    run()
done = time.perf_counter()
json.dump({"records": records, "import": imported - started, "total": done - started,
           "stages": stages}, sys.stdout)
"""

DEMO = """from nbbackprop.cli import main
    main(["demo"])"""

ALL = """import numpy as np
    import nbbackprop as nb
    from nbbackprop.cli import main
    main(["demo"])
    X, T = nb.xor()
    for kwargs in ({"batch_size": 2}, {"momentum": 0.5}, {"weight_decay": 1e-3}):
        nb.Network([2, 2, 1], seed=0).fit(X, T, epochs=2, **kwargs)
    rng = np.random.default_rng(0)
    Xb, Tb = rng.random((4096, 784)), rng.random((4096, 10))
    big = nb.Network([784, 16, 10], seed=0)
    big.fit(Xb[:64], Tb[:64], epochs=1)
    big.error(Xb, Tb)
    net = nb.Network([2, 3, 1], activation="tanh", seed=0)
    net.gradient(X, T)
    net.trace(X[0], T[0])
    nb.gradcheck(net, X, T)"""

SCENARIOS = {"demo": DEMO, "all": ALL}


def profile_once(scenario, stages=False):
    """One fresh process with an empty cache: its compile records and timings (and with
    ``stages``, the time of each stage of compiling, counted as well)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        code = CHILD.replace("SCENARIO", "def run():\n    " + SCENARIOS[scenario])
        code = code.replace("if STAGES:", f"if {stages}:")
        tic, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=False)
        wall = time.perf_counter() - tic
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    if out.returncode:
        sys.exit(f"the scenario failed:\n{out.stderr}")
    result = json.loads(out.stdout)
    result["wall"], result["cpu"] = wall, cpu
    return result


def per_kernel(records):
    """kernel -> (specialisations, self seconds, total seconds)."""
    table = {}
    for r in records:
        children = sum(c["end"] - c["start"] for c in records
                       if c["depth"] == r["depth"] + 1 and r["start"] <= c["start"]
                       and c["end"] <= r["end"])
        count, own, total = table.get(r["kernel"], (0, 0.0, 0.0))
        table[r["kernel"]] = (count + 1, own + r["end"] - r["start"] - children,
                              total + r["end"] - r["start"])
    return table


def main(argv=None):
    p = argparse.ArgumentParser(prog="python scripts/compile_profile.py")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="demo")
    p.add_argument("--runs", type=int, default=1, help="fresh processes (default 1)")
    p.add_argument("--stages", action="store_true",
                   help="also time Numba's and LLVM's stages, in one more process")
    args = p.parse_args(argv)
    runs = [profile_once(args.scenario) for _ in range(args.runs)]
    tables = [per_kernel(run["records"]) for run in runs]

    def median(values):
        return statistics.median(values)

    def of(kernel):
        return [t.get(kernel, (0, 0.0, 0.0)) for t in tables]

    kernels = sorted(set().union(*tables), key=lambda k: -median([r[1] for r in of(k)]))
    compiling = median([sum(r["end"] - r["start"] for r in run["records"] if r["depth"] == 0)
                        for run in runs])
    wall = median([r["wall"] for r in runs])
    print(f"Scenario `{args.scenario}`, empty compile cache, {cpu_model()}, median of "
          f"{len(runs)} fresh process(es): whole process {wall:.1f} s "
          f"elapsed, {median([r['cpu'] for r in runs]):.1f} s CPU, of which compiling "
          f"{compiling:.1f} s CPU; `import nbbackprop` {median([r['import'] for r in runs]):.2f} s "
          "elapsed. Seconds below are CPU seconds of the compiling thread (steady on a busy "
          "machine, where elapsed time is not).\n")
    print("| kernel | specialisations | self s | total s |")
    print("|---|---:|---:|---:|")
    for k in kernels:
        rows = of(k)
        print(f"| {k} | {median([r[0] for r in rows]):g} | {median([r[1] for r in rows]):.2f} "
              f"| {median([r[2] for r in rows]):.2f} |")
    if args.stages:
        run = profile_once(args.scenario, stages=True)
        stages = run["stages"]
        optimised = stages.pop("instructions optimised")
        own = stages.pop("instructions of the kernels")
        print(f"\nStages of compiling (one more process, CPU seconds): LLVM's module "
              f"optimisation went through {optimised:,.0f} instructions for kernels of "
              f"{own:,.0f}, {optimised / own:.1f} times their code.\n")
        print("| stage | CPU s |")
        print("|---|---:|")
        for stage, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
            print(f"| {stage} | {seconds:.2f} |")
        rest = sum(r["end"] - r["start"] for r in run["records"] if r["depth"] == 0)
        rest -= sum(stages.values())
        print(f"| the rest (Numba's dispatch, the disk cache) | {rest:.2f} |")


if __name__ == "__main__":
    main()
