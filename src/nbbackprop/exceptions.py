"""The project's own exceptions.

Every error that says the *caller* gave something unusable (an argument, an array, a
file) is an ``InputError``: ``InvalidValue`` (also a ValueError) or ``InvalidType`` (also a
TypeError), so ``except ValueError`` keeps working. The command line prints an
``InputError`` as one line and exits 2; any other exception is a bug in nbbackprop and
keeps its traceback.
"""


class InputError(Exception):
    """The caller's input is unusable; the message names it, what was expected and what
    was given."""


class InvalidValue(InputError, ValueError):
    """An argument, array or file has the right kind but an unusable value."""


class InvalidType(InputError, TypeError):
    """An argument is of the wrong type."""


# Shown as nbbackprop.InvalidValue (where users import them from) in tracebacks.
for _error in (InputError, InvalidValue, InvalidType):
    _error.__module__ = "nbbackprop"


class TrainingDiverged(ArithmeticError):
    """Training diverged; the network holds the weights of the last finite epoch.

    An epoch diverges when its error C is not finite, or when C exceeds 10⁶ times the
    larger of the best C so far in this ``fit`` and the targets' own size
    (1/n) Σ_x ½ Σ_k t_k² (see ``docs/reliability.md``).

    Attributes: ``epoch`` (1-based epoch that diverged), ``last_error`` (error after the
    last finite epoch, or of the starting weights), ``history`` (the ``History`` of the
    epochs that did finish).
    """

    def __init__(self, message, *, epoch, last_error, history):
        super().__init__(message)
        self.epoch = epoch
        self.last_error = last_error
        self.history = history


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (KeyboardInterrupt) stopped ``fit``; the network holds the weights after the
    last completed epoch, never a partly trained one.

    A KeyboardInterrupt, so an uncaught one still ends a script as Ctrl-C always does.
    Attribute: ``history`` (the ``History`` of the completed epochs, ``stop_reason``
    ``"interrupted"``).
    """

    def __init__(self, message, *, history):
        super().__init__(message)
        self.history = history


class NonFiniteResult(InvalidValue):
    """Finite inputs and weights gave a result that is not finite: float64 overflowed.

    Raised by ``forward``, ``error``, ``gradient`` and ``fit`` instead of returning NaN or
    Inf; the message names the arguments and their largest magnitudes. An
    ``InvalidValue``: the cure is to scale the inputs.
    """


class GradcheckError(AssertionError):
    """A gradient check failed (``raise_on_failure=True``); ``report`` is its GradcheckReport.

    An AssertionError, so a test that calls ``nb.gradcheck(..., raise_on_failure=True)``
    fails with the report as its message.
    """

    def __init__(self, report):
        super().__init__(str(report))
        self.report = report
