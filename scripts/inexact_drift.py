"""How far ``fit(..., exact=False)`` drifts from the exact fit over whole trainings.

    python scripts/inexact_drift.py [--epochs 100]

Trains each case twice from the same start, exactly and with ``exact=False``, and prints
after 1, 10, … epochs the largest difference of a parameter relative to the largest
parameter, max |θ − θ_exact| / max |θ_exact|, the relative difference of the training
error, and the test accuracy of each where the case has a test set. The cases: the
784-100-10 and 784-256-128-64-10 networks of ``scripts/bench.py`` (sigmoid hidden layers,
linear output, squared error, η = 0.001, 1,024 synthetic samples, batch 32, data order),
and scikit-learn's 8×8 digits (``scripts/digits.py``'s 64-32-10 tanh + softmax
cross-entropy network, batch 32, momentum 0.9, η = 0.05, shuffled; skipped without
scikit-learn). The report, in Markdown, goes to stdout.
"""

import argparse

import numpy as np

import nbbackprop as nb
from machine import cpu_model  # scripts/machine.py


def synthetic(sizes, samples=1024, seed=0):
    """bench.py's case: inputs uniform in [0, 1), one-hot targets of random classes."""
    rng = np.random.default_rng(seed)
    X = rng.random((samples, sizes[0]))
    T = np.eye(sizes[-1])[rng.integers(sizes[-1], size=samples)]
    net = nb.Network(sizes, "sigmoid", output_activation="linear", seed=seed)
    return net, X, T, None, dict(eta=0.001, batch_size=32, shuffle=False)


def digits(seed=0):
    X, labels = nb.datasets.digits()
    order = np.random.default_rng(seed).permutation(len(X))
    cut = int(0.8 * len(X))
    T = nb.datasets.one_hot(labels, 10)
    net = nb.Network([64, 32, 10], "tanh", output_activation="softmax", loss="cross_entropy",
                     seed=seed)
    return (net, X[order[:cut]], T[order[:cut]], (X[order[cut:]], labels[order[cut:]]),
            dict(eta=0.05, batch_size=32, momentum=0.9, seed=seed))


def drift(case, checkpoints):
    """Rows (epochs, weights' relative difference, error's, accuracies) at each checkpoint."""
    start, X, T, test, settings = case
    nets = {exact: start.copy() for exact in (True, False)}
    rows, done = [], 0
    for epochs in checkpoints:
        errors = {}
        for exact, net in nets.items():
            net.fit(X, T, epochs=epochs - done, exact=exact, **settings)
            errors[exact] = net.error(X, T)
        done = epochs
        exact_theta, theta = nets[True].parameters, nets[False].parameters
        accuracy = ("" if test is None else
                    " / ".join(f"{net.accuracy(*test):.4f}" for net in nets.values()))
        rows.append((epochs, np.max(np.abs(theta - exact_theta)) / np.max(np.abs(exact_theta)),
                     abs(errors[False] - errors[True]) / errors[True], accuracy))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(prog="python scripts/inexact_drift.py",
                                description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=100)
    args = p.parse_args(argv)
    checkpoints = [e for e in (1, 10, 100, 1000, 10000) if e < args.epochs] + [args.epochs]
    cases = [("784-100-10, batch 32", lambda: synthetic((784, 100, 10))),
             ("784-256-128-64-10, batch 32", lambda: synthetic((784, 256, 128, 64, 10))),
             ("digits 64-32-10, batch 32, momentum 0.9", digits)]
    print(f"Command: `python scripts/inexact_drift.py --epochs {args.epochs}`; "
          f"{cpu_model()}, nbbackprop {nb.__version__}\n")
    print("| case | epochs | max \\|Δθ\\| / max \\|θ\\| | error, relative difference "
          "| test accuracy, exact / inexact |")
    print("|---|---:|---:|---:|---|")
    for name, make in cases:
        try:
            case = make()
        except ImportError as err:
            print(f"| {name} | skipped: {err} | | | |")
            continue
        for epochs, weights, error, accuracy in drift(case, checkpoints):
            print(f"| {name} | {epochs} | {weights:.1e} | {error:.1e} | {accuracy} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
