"""Stochastic gradient descent with momentum, dampening, weight decay and Nesterov, as torch.optim.SGD."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from symgd.optimizers._adaptive import flag, real
from symgd.optimizers._core import Fused, as_schedule, optimizer, require
from symgd.optimizers._momentum import as_momentum
from symgd.optimizers._scalar import bit, zeros


class SGDState(NamedTuple):
    b: np.ndarray  # (B, n) momentum buffer; b_1 = g_1 (torch), unused without momentum


@optimizer
def sgd(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    r"""SGD (Robbins & Monro, 1951) with heavy-ball momentum (Polyak, 1964) in torch.optim.SGD's form.

    .. math::

        g_t = \nabla f(x_{t-1}) + \lambda x_{t-1} \qquad
        b_t = \begin{cases} g_1 & t = 1 \\ \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases} \\
        x_t = x_{t-1} - \eta_t \, b_t \quad \text{or, with Nesterov,} \quad
        x_t = x_{t-1} - \eta_t \, (g_t + \mu b_t)

    Without momentum (μ = 0) this is plain gradient descent, ``gd``. It is *stochastic* when fed a noisy
    or mini-batch gradient: gradient noise is a runner option usable with any optimizer
    (``minimize(..., noise=0.01, seed=0)``).

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    momentum : float or callable
        :math:`\mu \in [0, 1)`; a schedule ``t -> μ_t`` (``one_cycle_momentum``) cycles it as torch's OneCycleLR.
    dampening : float
        :math:`\tau \in [0, 1]`, scales the new gradient in the buffer from the second update on.
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient ("SGDWM" with momentum).
    nesterov : bool
        Use the Nesterov form (needs momentum > 0 and dampening = 0, as torch).

    Convention: exactly ``torch.optim.SGD`` (its buffer starts at :math:`b_1 = g_1`, so dampening is
    skipped on the first update; the lr multiplies the whole buffer), and ``optax.sgd(lr, momentum,
    nesterov)`` when τ = 0. The slides' velocity form :math:`v_t = \mu v_{t-1} + \eta g_t` is
    ``momentum(form="slide")``; it differs from this one under a learning-rate schedule.

    Examples
    --------
    With μ = 0.5 on f = x² from 1 (g = 2x): b₁ = 2, x₁ = 1 − 0.1·2 = 0.8; b₂ = 0.5·2 + 1.6 = 2.6,
    x₂ = 0.8 − 0.26 = 0.54.

    >>> from symgd import Problem
    >>> p = Problem("x^2")
    >>> p.minimize("sgd", [1.0], steps=2, lr=0.1, momentum=0.5, tol=None, path=True).path.ravel().round(10).tolist()
    [1.0, 0.8, 0.54]

    References
    ----------
    Robbins, Monro. A Stochastic Approximation Method. Ann. Math. Statist. 22(3), 1951.
    Polyak. Some methods of speeding up the convergence of iteration methods. USSR Comput. Math. 4(5), 1964.
    Sutskever, Martens, Dahl, Hinton. On the importance of initialization and momentum in deep learning. ICML 2013.
    """
    lr, mu = as_schedule(lr), as_momentum(momentum)
    tau, weight_decay = real("dampening", dampening, hi=1.0, hi_open=False), real("weight_decay", weight_decay)
    nesterov = flag("nesterov", nesterov)
    heavy = callable(momentum) or momentum != 0
    require(not nesterov or (heavy and mu(1) > 0 and tau == 0),
            f"nesterov needs momentum > 0 and dampening = 0, got {momentum=}, {dampening=}")

    def init(x):
        return SGDState(np.zeros_like(x))

    def step(s, x, t, k):
        g = k.grad(x)
        if weight_decay:
            g = g + weight_decay * x
        if not heavy:
            return x - lr(t) * g, s
        m = mu(t)
        b = g if t == 1 else m * s.b + (1 - tau) * g  # t is shared by all rows: a Python branch is fine
        return x - lr(t) * (g + m * b if nesterov else b), SGDState(b)

    def coefs(t):
        return (float(lr(t)), weight_decay, bit(heavy), float(mu(t)) if heavy else 0.0, bit(t == 1), 1 - tau,
                bit(nesterov))

    return init, step, Fused(SGDState._fields, zeros(1), coefs, update)


def update(x, g, s, c):  # the scalar form of step; c = (lr, λ, heavy?, μ_t, t == 1?, 1 - τ, nesterov?)
    b = s[0]
    if c[1] > 0.0:
        g = g + c[1] * x
    if c[2] == 0.0:
        return x - c[0] * g, s
    m = c[3]
    b = g if c[4] > 0.0 else m * b + c[5] * g
    return x - c[0] * (g + m * b if c[6] > 0.0 else b), (b,)
