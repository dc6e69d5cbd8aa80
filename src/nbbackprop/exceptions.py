"""The project's own exceptions."""


class TrainingDiverged(ArithmeticError):
    """Training produced a non-finite error; the network holds the last finite epoch's weights.

    Attributes: ``epoch`` (1-based epoch whose error was not finite), ``last_error``
    (error after the last finite epoch, or of the starting weights), ``history`` (the
    ``History`` of the epochs that did finish).
    """

    def __init__(self, message, *, epoch, last_error, history):
        super().__init__(message)
        self.epoch = epoch
        self.last_error = last_error
        self.history = history


class GradcheckError(AssertionError):
    """A gradient check failed (``raise_on_failure=True``); ``report`` is its GradcheckReport.

    An AssertionError, so a test that calls ``nb.gradcheck(..., raise_on_failure=True)``
    fails with the report as its message.
    """

    def __init__(self, report):
        super().__init__(str(report))
        self.report = report
