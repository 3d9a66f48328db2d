"""Adamax."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from symgd.optimizers._adaptive import check_betas, ema, l2, real, safe_div
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._scalar import zeros


class AdamaxState(NamedTuple):
    m: np.ndarray  # (B, n) first moment, m_0 = 0
    u: np.ndarray  # (B, n) exponentially weighted infinity norm, u_0 = 0


@optimizer
def adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    r"""Adamax (Kingma & Ba, 2015, Algorithm 2): Adam with the infinity norm in place of the RMS.

    .. math::

        g_t = \nabla f(x_{t-1}) + \lambda x_{t-1} \qquad m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t \qquad
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon) \qquad
        x_t = x_{t-1} - \frac{\eta_t}{1 - \beta_1^t} \frac{m_t}{u_t}

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    betas : (float, float)
        Decays :math:`(\beta_1, \beta_2)`, each in [0, 1).
    eps : float
        :math:`\epsilon \ge 0`, inside the max.
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient.

    Convention: as ``torch.optim.Adamax`` and ``optax.adamax`` (which agree: ε inside the max). The paper
    has no ε and needs no bias correction of u.

    Examples
    --------
    The first step is lr·g/(|g| + ε), i.e. lr·sign(g):

    >>> from symgd import Problem
    >>> Problem("x^2").minimize("adamax", [1.0], steps=1, lr=0.1, tol=None).x.round(6).tolist()
    [0.9]

    References
    ----------
    Kingma, Ba. Adam: A Method for Stochastic Optimization. ICLR 2015. arXiv:1412.6980, section 7.1.
    """
    lr = as_schedule(lr)
    (b1, b2), eps, weight_decay = check_betas(betas), real("eps", eps), real("weight_decay", weight_decay)

    def init(x):
        z = np.zeros_like(x)
        return AdamaxState(z, z)

    def step(s, x, t, k):
        g = l2(k.grad(x), x, weight_decay)
        m, u = ema(s.m, g, b1), np.maximum(b2 * s.u, np.abs(g) + eps)
        return x - lr(t) / (1 - b1**t) * safe_div(m, u, eps), AdamaxState(m, u)

    def coefs(t):
        return float(lr(t) / (1 - b1**t)), weight_decay, b1, 1 - b1, b2, eps

    return init, step, Fused(AdamaxState._fields, zeros(2), coefs, update)


def update(x, g, s, c):  # the scalar form of step; c = (η_t / (1 - β1^t), λ, β1, 1 - β1, β2, ε)
    m, u = s
    if c[1] > 0.0:
        g = g + c[1] * x
    m = c[2] * m + c[3] * g
    a, b = c[4] * u, math.fabs(g) + c[5]
    u = a if a > b or a != a else b  # np.maximum(a, b), NaN kept
    return x - c[0] * (m / u if c[5] > 0.0 or u > 0.0 else type(m)(0.0)), (m, u)
