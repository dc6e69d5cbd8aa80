"""The limitations of backprop, measured with ``nb.experiments`` (docs/limitations.md).

    python scripts/limitations.py local-minima   [--jobs N]
    python scripts/limitations.py gradients
    python scripts/limitations.py learning-rate  [--jobs N]
    python scripts/limitations.py paper          [--jobs N]

Each prints its tables, and the CPU it ran on. Every run is seeded from (seed 0, run
index), so the counts are the same on every machine and for every --jobs; only the
seconds differ.
"""

import argparse

import numpy as np

import nbbackprop as nb
from machine import cpu_model  # scripts/machine.py
from nbbackprop import experiments as ex


def local_minima(jobs):
    X, T = nb.xor()
    common = dict(seed=0, target_error=0.01, max_epochs=5000, n_jobs=jobs)
    print("## XOR 2-2-1, sigmoid, online SGD, eta 0.5, default (Glorot) initialisation\n")
    res = ex.restarts([2, 2, 1], X, T, n=2000, eta=0.5, **common)
    print(res)
    stuck = np.flatnonzero(res.outcomes == "plateau")
    if stuck.size:
        low, mid, high = np.quantile(res.final_errors[stuck], [0, 0.5, 1])
        print(f"  final error C of the plateau runs: min {low:.4f}, median {mid:.4f}, max "
              f"{high:.4f}")
        grads, halves = [], 0
        for r in stuck[:100]:  # the first 100 plateau runs, trained again
            s = int(res.seeds[r])
            net = nb.Network([2, 2, 1], seed=s)
            net.fit(X, T, epochs=5000, eta=0.5, seed=s, target_error=0.01)
            gw, gb = net.gradient(X, T)
            grads.append(np.sqrt(sum(np.sum(g * g) for g in (*gw, *gb))))
            halves += int(np.sum(np.abs(net.forward(X)[:, 0] - 0.5) < 0.05))
        print(f"  of the first {len(grads)} plateau runs: ‖∂C/∂θ‖ at the end median "
              f"{np.median(grads):.1e} (max {np.max(grads):.1e}); outputs within 0.05 of "
              f"0.5: {halves / len(grads):.2f} of the 4 patterns per run on average")
    print("\n## eta and momentum (XOR 2-2-1, 500 runs per point)\n")
    print(ex.sweep([2, 2, 1], X, T, grid={"eta": [0.25, 0.5, 1.0, 2.0, 4.0],
                                          "momentum": [0.0, 0.9]}, repeats=500, **common))
    print("\n## the initial weight range: U(-a, a) (init='uniform'; XOR 2-2-1, eta 0.5, 500 "
          "runs per point)\n")
    print(ex.sweep([2, 2, 1], X, T, grid={"init_scale": [0.1, 0.5, 1.0, 2.0, 4.0]},
                   repeats=500, init="uniform", eta=0.5, **common))
    print("\n## a third hidden unit (eta 0.5, 1000 runs per point)\n")
    print(ex.sweep([2, 2, 1], X, T, grid={"sizes": [[2, 2, 1], [2, 3, 1]]}, repeats=1000,
                   eta=0.5, **common))
    print("\n## parity (3 bits, 3-3-1) and symmetry (6 bits, 6-2-1): eta 0.5, momentum 0.9, "
          "U(-0.5, 0.5), 500 runs each\n")
    for name, sizes, (Xp, Tp) in [("parity 3", [3, 3, 1], nb.datasets.parity(3)),
                                  ("symmetry 6", [6, 2, 1], nb.datasets.symmetry(6))]:
        print(f"### {name}")
        print(ex.restarts(sizes, Xp, Tp, n=500, eta=0.5, momentum=0.9, init="uniform",
                          **common))


def gradients(jobs):
    X, labels = nb.datasets.spirals(100, seed=0)
    T = labels[:, None].astype(float)
    print("‖∂C/∂w‖ of the first and the last layer of weights at initialisation, median over "
          "20 networks; 2-D spirals (200 points), hidden layers of 16, one linear output, the "
          "squared error.\n")
    for init in ("auto", "normal"):
        for activation in ("sigmoid", "tanh", "relu"):
            rows = []
            for depth in range(2, 11):
                sizes = [2] + [16] * (depth - 1) + [1]
                prof = ex.gradient_profile(sizes, [activation] * (depth - 1) + ["linear"],
                                           X, T, seed=0, init=init, n=20)
                first, last = prof.median[0], prof.median[-1]
                rows.append([str(depth), f"{first:.2e}", f"{last:.2e}",
                             f"{first / last:.2e}" if last else "–"])
            name = "N(0, 1)" if init == "normal" else "default (Glorot; He for ReLU)"
            print(f"### {activation} hidden layers, {name} initialisation")
            print(ex._format_table(["layers", "first", "last", "first/last"], rows) + "\n")


def learning_rate(jobs):
    X, T = nb.xor()
    print("## XOR 2-2-1, sigmoid, online SGD, 2000 epochs, 20 runs per eta\n")
    print(ex.lr_range([2, 2, 1], X, T, eta_min=1e-3, eta_max=1e3, steps=13, epochs=2000,
                      repeats=20, n_jobs=jobs))
    try:
        Xd, labels = nb.datasets.digits()
    except ImportError as err:
        print(f"\n(digits skipped: {err})")
        return
    print("\n## digits 64-32-10, tanh, softmax and cross-entropy, batches of 32, 20 epochs, "
          "3 runs per eta\n")
    print(ex.lr_range([64, 32, 10], Xd, nb.one_hot(labels, 10), eta_min=1e-3, eta_max=1e3,
                      steps=13, epochs=20, repeats=3, activation="tanh",
                      output_activation="softmax", loss="cross_entropy", batch_size=32,
                      n_jobs=jobs))


# The settings each problem's source states (docs/limitations.md cites where each was read):
# name, sizes, data, the source's sweeps, the source's settings, and ours. A sweep is one
# epoch. "accumulated gradient after each sweep" is one full batch whose step is the SUM
# of the patterns' gradients; fit's batch steps with their MEAN, so eta = epsilon · P.
PAPER_PROBLEMS = [
    ("symmetry 6-2-1", [6, 2, 1], lambda: nb.datasets.symmetry(6), "1,425",
     "batch, epsilon 0.1, alpha 0.9, U(-0.3, 0.3)",
     dict(batch_size=64, eta=0.1 * 64, momentum=0.9, init="uniform", init_scale=0.3)),
    ("parity 4-4-1", [4, 4, 1], lambda: nb.datasets.parity(4), "2,825 presentations",
     "eta 0.5",
     dict(batch_size=1, eta=0.5, momentum=0.9, init="uniform", init_scale=0.3)),
    ("XOR 2-2-1", [2, 2, 1], nb.xor, "558 (for 2-1-1 with input-output links)",
     "eta 0.5",
     dict(batch_size=1, eta=0.5, momentum=0.9, init="uniform", init_scale=0.3)),
]


def paper(jobs, n=300, max_epochs=20000):
    """Each problem of PAPER_PROBLEMS over n restarts. A run succeeds when every output is
    within 0.1 of its target, which C ≤ 0.005 / P guarantees: C = (1/P) Σ_p ½ (t − y)²
    ≥ ½ max (t − y)² / P."""
    print(f"{n} runs per problem (seed 0), sigmoid units, at most {max_epochs} sweeps; success: "
          "C ≤ 0.005 / P (every output within 0.1 of its target)\n")
    rows = []
    for name, sizes, data, theirs, stated, ours in PAPER_PROBLEMS:
        X, T = data()
        res = ex.restarts(sizes, X, T, n=n, seed=0, target_error=0.005 / len(X),
                          max_epochs=max_epochs, n_jobs=jobs, **ours)
        q10, q50, q90 = res.quantiles()
        low, high = res.interval
        settings = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                             for k, v in ours.items())
        print(f"{name}: paper {stated}; ours {settings}")
        rows.append([name, theirs, f"{q50:.0f} ({q10:.0f}–{q90:.0f})",
                     f"{100 * res.success_rate:.1f} % ({100 * low:.1f}–{100 * high:.1f} %)",
                     f"{100 * res.counts['plateau'] / n:.1f} %"])
    print()
    print(ex._format_table(["problem", "paper: sweeps", "ours: median sweeps (10–90 %)",
                            "ours: success (95 % interval)", "plateau"], rows))


COMMANDS = {"local-minima": local_minima, "gradients": gradients,
            "learning-rate": learning_rate, "paper": paper}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=COMMANDS)
    parser.add_argument("--jobs", type=int, default=1, help="processes (joblib n_jobs)")
    args = parser.parse_args()
    print(f"python scripts/limitations.py {args.what}: nbbackprop {nb.__version__}, "
          f"{cpu_model()}\n")
    COMMANDS[args.what](args.jobs)


if __name__ == "__main__":
    main()
