"""nbbackprop: backpropagation for fully connected networks as explicit per-neuron loops.

Each formula of the textbook derivation (z_j, y_j, δ_k, δ_j, Δw_ij) is one compiled
loop in ``nbbackprop.formulas``; ``Network`` is the Python shell around them.
"""

from importlib.metadata import PackageNotFoundError, version

from . import datasets, experiments, schedules
from .activations import ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS
from .datasets import one_hot, xor
from .exceptions import (
    GradcheckError,
    InputError,
    InvalidType,
    InvalidValue,
    NonFiniteResult,
    TrainingDiverged,
    TrainingInterrupted,
)
from .gradient_check import GradcheckReport, check_function, compare_gradients, gradcheck
from .monitor import EpochInfo
from .network import History, Network, load
from .trace import CONVENTIONS, LayerTrace, Trace
from .worked_examples import EXAMPLES, WorkedExample, worked_example

try:
    __version__ = version("nbbackprop")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["ACTIVATIONS", "History", "Network", "TrainingDiverged", "load", "xor", "__version__",
           "CONVENTIONS", "EXAMPLES", "LayerTrace", "Trace", "WorkedExample", "worked_example",
           "NonFiniteResult", "TrainingInterrupted", "GradcheckError", "GradcheckReport",
           "check_function", "compare_gradients", "gradcheck", "InputError", "InvalidType",
           "InvalidValue", "one_hot", "LOSSES", "OUTPUT_ACTIVATIONS",
           "datasets", "experiments", "schedules", "EpochInfo"]
