"""Learning-rate schedules: callables ``epoch -> η`` for ``Network.fit(eta=...)``.

``epoch`` counts the network's epochs of training from 0 (training continues where it
stopped, so a second ``fit`` goes on along the schedule). ``fit`` calls the schedule once
per epoch, before training starts, and refuses a value that is not a positive finite
float before any weight changes. Any callable of one integer works the same way.

==================================  ==================================================
schedule                            η at epoch e
==================================  ==================================================
``step(eta0, factor, every)``       η₀ · factor^⌊e / every⌋
``exponential(eta0, gamma)``        η₀ · γ^e
``inverse_time(eta0, decay)``       η₀ / (1 + decay · e)
``cosine(eta0, eta_min, period)``   η_min + ½ (η₀ − η_min)(1 + cos(π · min(e, period) / period))
==================================  ==================================================
"""

import functools
import math

from . import _validate as check

_POSITIVE = {"expected": "a positive finite float", "ok": lambda v: v > 0}


class Schedule:
    """A learning-rate schedule: ``schedule(epoch)`` is η for that epoch (from 0)."""

    def __init__(self, name, formula, rate, **parameters):
        self._name, self._formula, self._rate, self._parameters = name, formula, rate, parameters

    def __call__(self, epoch):
        epoch = check.integer(epoch, "epoch", minimum=0)
        try:
            return float(self._rate(epoch))
        except OverflowError:  # e.g. factor ** e beyond float64
            raise check.InvalidValue(f"eta({epoch}) = {self._formula} is beyond float64 at "
                                     f"epoch {epoch} for {self!r}") from None

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self._parameters.items())
        return f"{self._name}({arguments}): η(e) = {self._formula}"


def step(eta0, factor, every):
    """η₀ · factor^⌊e / every⌋: η multiplied by ``factor`` every ``every`` epochs."""
    eta0 = check.real(eta0, "eta0", **_POSITIVE)
    factor = check.real(factor, "factor", **_POSITIVE)
    every = check.integer(every, "every", minimum=1)
    return Schedule("step", "η₀ · factor^⌊e / every⌋",
                    functools.partial(_step, eta0, factor, every),
                    eta0=eta0, factor=factor, every=every)


def exponential(eta0, gamma):
    """η₀ · γ^e."""
    eta0 = check.real(eta0, "eta0", **_POSITIVE)
    gamma = check.real(gamma, "gamma", **_POSITIVE)
    return Schedule("exponential", "η₀ · γ^e", functools.partial(_exponential, eta0, gamma),
                    eta0=eta0, gamma=gamma)


def inverse_time(eta0, decay):
    """η₀ / (1 + decay · e)."""
    eta0 = check.real(eta0, "eta0", **_POSITIVE)
    decay = check.real(decay, "decay", expected="a finite float ≥ 0", ok=lambda v: v >= 0)
    return Schedule("inverse_time", "η₀ / (1 + decay · e)",
                    functools.partial(_inverse_time, eta0, decay), eta0=eta0, decay=decay)


def cosine(eta0, eta_min, period):
    """η_min + ½ (η₀ − η_min)(1 + cos(π · min(e, period) / period)): from η₀ down to η_min
    over ``period`` epochs, then η_min."""
    eta0 = check.real(eta0, "eta0", **_POSITIVE)
    eta_min = check.real(eta_min, "eta_min", expected=f"a positive finite float ≤ eta0 ({eta0})",
                         ok=lambda v: 0 < v <= eta0)
    period = check.integer(period, "period", minimum=1)
    return Schedule(
        "cosine", "η_min + ½ (η₀ − η_min)(1 + cos(π · min(e, period) / period))",
        functools.partial(_cosine, eta0, eta_min, period),
        eta0=eta0, eta_min=eta_min, period=period)


# The rates, at module level (not lambdas) so that a schedule pickles: joblib's worker
# processes (GridSearchCV with n_jobs) receive it that way.


def _step(eta0, factor, every, e):
    return eta0 * factor ** (e // every)


def _exponential(eta0, gamma, e):
    return eta0 * gamma**e


def _inverse_time(eta0, decay, e):
    return eta0 / (1.0 + decay * e)


def _cosine(eta0, eta_min, period, e):
    return eta_min + 0.5 * (eta0 - eta_min) * (1.0 + math.cos(math.pi * min(e, period) / period))


__all__ = ["Schedule", "cosine", "exponential", "inverse_time", "step"]
