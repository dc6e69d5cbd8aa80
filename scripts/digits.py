"""A softmax classifier of scikit-learn's 8×8 digits, trained with cross-entropy.

    python scripts/digits.py [--epochs 40] [--seed 0]

Needs scikit-learn (for the data: ``pip install scikit-learn``). The 1,797 images are
split 80/20 by a seeded permutation, pixels scaled to [0, 1]; a 64-32-10 network (tanh
hidden layer, softmax output, cross-entropy) trains by mini-batch SGD with momentum, a
cosine learning-rate schedule and a little weight decay, one epoch at a time so that the
test accuracy can be printed as it goes (training continues where it stopped, so this
is the same run as one ``fit`` of all the epochs). Prints the accuracy on the training
and the test images, and the confusion of the test images.
"""

import argparse
import sys
import time

import numpy as np

import nbbackprop as nb


def main(argv=None):
    p = argparse.ArgumentParser(prog="python scripts/digits.py", description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    try:
        X, labels = nb.datasets.digits()
    except ImportError as err:
        sys.exit(str(err))
    order = np.random.default_rng(args.seed).permutation(len(X))
    cut = int(0.8 * len(X))
    train, test = order[:cut], order[cut:]
    net = nb.Network([64, 32, 10], "tanh", output_activation="softmax", loss="cross_entropy",
                     seed=args.seed)
    schedule = nb.schedules.cosine(0.1, 0.005, args.epochs)
    print(f"{net}: {len(train)} training and {len(test)} test images")
    print(f"batch 32, momentum 0.9, weight decay 1e-4, eta {schedule}")
    started = time.perf_counter()
    for epoch in range(args.epochs):
        history = net.fit(X[train], labels[train], epochs=1, eta=schedule, batch_size=32,
                          momentum=0.9, weight_decay=1e-4)
        if (epoch + 1) % 10 == 0 or epoch == 0:
            print(f"  epoch {epoch + 1:>3}: training error C = {history.errors[-1]:.4f}, "
                  f"test accuracy {net.accuracy(X[test], labels[test]):.2%}")
    seconds = time.perf_counter() - started
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"training accuracy {net.accuracy(X[train], labels[train]):.2%}, "
          f"test accuracy {net.accuracy(X[test], labels[test]):.2%}")
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (labels[test], net.predict(X[test])), 1)
    print("test confusion (rows: true digit, columns: predicted):")
    print("     " + " ".join(f"{d:>3}" for d in range(10)))
    for d in range(10):
        print(f"  {d}  " + " ".join(f"{c:>3}" for c in confusion[d]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
