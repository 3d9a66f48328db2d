"""Adadelta."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from symgd.optimizers._adaptive import decay, ema, l2, real, safe_div
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._scalar import zeros


class AdadeltaState(NamedTuple):
    v: np.ndarray  # (B, n) moving average of g^2, v_0 = 0
    u: np.ndarray  # (B, n) moving average of the squared (unscaled) steps Δ^2, u_0 = 0


@optimizer
def adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    r"""Adadelta (Zeiler, 2012): the step's units come from a running RMS of past steps.

    .. math::

        g_t = \nabla f(x_{t-1}) + \lambda x_{t-1} \qquad v_t = \rho v_{t-1} + (1 - \rho) g_t^2 \qquad
        \Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t \\
        u_t = \rho u_{t-1} + (1 - \rho) \Delta_t^2 \qquad x_t = x_{t-1} - \eta_t \Delta_t

    Parameters
    ----------
    lr : float or callable
        :math:`\eta_t`, a plain multiplier of the step (u accumulates the unscaled Δ); a number or a
        schedule ``t -> float``.
    rho : float
        Decay :math:`\rho \in [0, 1)` of both averages.
    eps : float
        :math:`\epsilon \ge 0`, inside both square roots.
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient.

    Convention: as ``torch.optim.Adadelta`` and ``optax.adadelta(learning_rate=1.0)`` (which agree).
    Zeiler's paper has no η (here lr = 1) and uses ρ = 0.95. optax's default ``learning_rate=None``
    ascends (its sign is never flipped); symgd always descends.

    Examples
    --------
    The first step is √ε/√(v_1 + ε)·g ≈ √(ε/(1 - ρ)), tiny and the same for every |g| ≫ √ε:

    >>> from symgd import Problem
    >>> run = Problem("x^2").minimize("adadelta", [[0.5], [50.0]], steps=1, tol=None)
    >>> (run.x - run.x0).round(6).tolist()
    [[-0.003162], [-0.003162]]

    References
    ----------
    Zeiler. ADADELTA: An Adaptive Learning Rate Method. arXiv:1212.5701, 2012.
    """
    lr = as_schedule(lr)
    rho, eps, weight_decay = decay("rho", rho), real("eps", eps), real("weight_decay", weight_decay)

    def init(x):
        z = np.zeros_like(x)
        return AdadeltaState(z, z)

    def step(s, x, t, k):
        g = l2(k.grad(x), x, weight_decay)
        v = ema(s.v, g * g, rho)
        delta = safe_div(np.sqrt(s.u + eps) * g, np.sqrt(v + eps), eps)
        return x - lr(t) * delta, AdadeltaState(v, ema(s.u, delta * delta, rho))

    def coefs(t):
        return float(lr(t)), weight_decay, rho, 1 - rho, eps

    return init, step, Fused(AdadeltaState._fields, zeros(2), coefs, update)


def update(x, g, s, c):  # the scalar form of step; c = (η_t, λ, ρ, 1 - ρ, ε)
    v, u = s
    if c[1] > 0.0:
        g = g + c[1] * x
    v = c[2] * v + c[3] * (g * g)
    num, den = math.sqrt(u + c[4]) * g, math.sqrt(v + c[4])
    delta = num / den if c[4] > 0.0 or den > 0.0 else type(num)(0.0)
    return x - c[0] * delta, (v, c[2] * u + c[3] * (delta * delta))
