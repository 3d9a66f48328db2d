"""Pieces shared by the momentum family (sgd, momentum, nag): a momentum coefficient that may be a schedule.

>>> mu = as_momentum(0.9)
>>> mu(1), mu(100)
(0.9, 0.9)
>>> from symgd.schedules import one_cycle_momentum
>>> round(as_momentum(one_cycle_momentum(10))(1), 6)
0.95
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

from symgd.optimizers._core import require

FORMS_MOMENTUM = ("torch", "slide", "heavy_ball")


def as_momentum(momentum, name: str = "momentum") -> Callable[[int], float]:
    r"""``momentum`` as a function of t: a number μ in [0, 1), or a schedule ``t -> μ_t`` (e.g. one-cycle's).

    A schedule is checked at t = 1 only (its later values are its author's business).
    """
    if callable(momentum):
        first = momentum(1)
        require(isinstance(first, numbers.Real) and 0 <= first < 1,
                f"a {name} schedule must give values in [0, 1), got {name}(1)={first!r}")
        return momentum
    require(isinstance(momentum, numbers.Real) and not isinstance(momentum, bool),
            f"{name} must be a number in [0, 1) or a schedule, got {name}={momentum!r}")
    require(math.isfinite(momentum) and 0 <= momentum < 1, f"{name} must be in [0, 1), got {name}={momentum!r}")
    mu = float(momentum)
    return lambda t: mu
