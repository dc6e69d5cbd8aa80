"""The full benchmark: nbbackprop and its peers training the same networks, in one run.

    python scripts/bench.py [--threads N] > results.md

The same as ``nbbackprop bench --full`` (``nbbackprop bench`` alone is a quick run); see
``nbbackprop.bench`` for what is measured and docs/performance.md for a run's results.
"""

import sys

from nbbackprop.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--full", *sys.argv[1:]]))
