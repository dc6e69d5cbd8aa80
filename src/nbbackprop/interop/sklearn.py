"""scikit-learn adapter: its bundled data sets as nbbackprop arrays (needs scikit-learn)."""

import numpy as np

NEEDS = "nb.datasets.digits() needs scikit-learn: pip install scikit-learn"


def digits():
    """scikit-learn's 8×8 digits: X (1797, 64) float64 in [0, 1], labels (1797,) int64."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(NEEDS) from err
    data = load_digits()
    X = np.ascontiguousarray(data.data, dtype=np.float64) / 16.0  # pixels are 0..16
    return X, np.asarray(data.target, dtype=np.int64)
