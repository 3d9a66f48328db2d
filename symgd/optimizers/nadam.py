"""NAdam."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from symgd.optimizers._adaptive import check_betas, choice, ema, l2, real, safe_div
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._scalar import zeros


class NadamState(NamedTuple):
    m: np.ndarray  # (B, n) first moment, m_0 = 0
    v: np.ndarray  # (B, n) second moment, v_0 = 0


@optimizer
def nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3, form="torch"):
    r"""NAdam (Dozat, 2016): Adam with Nesterov momentum and a warming-up momentum schedule.

    .. math::

        \mu_t = \beta_1 \left(1 - \tfrac12\, 0.96^{t \psi}\right) \qquad \Pi_t = \prod_{i \le t} \mu_i \qquad
        g_t = \nabla f(x_{t-1}) + \lambda x_{t-1} \qquad m_t, v_t \text{ as in Adam} \\
        x_t = x_{t-1} - \frac{\eta_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}
        \left(\frac{(1 - \mu_t)\, g_t}{1 - \Pi_t} + \frac{\mu_{t+1}\, m_t}{1 - \Pi_t \mu_{t+1}}\right)

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    betas : (float, float)
        Decays :math:`(\beta_1, \beta_2)`, each in [0, 1); the EMA of g uses :math:`\beta_1`, not :math:`\mu_t`.
    eps : float
        :math:`\epsilon \ge 0`, added outside the square root.
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient.
    momentum_decay : float
        :math:`\psi \ge 0`; ``float("inf")`` gives the constant :math:`\mu_t = \beta_1`.
    form : {"torch", "dozat"}
        "dozat" also multiplies :math:`v_t / (1 - \beta_2^t)` by :math:`\beta_2`, as Dozat's Algorithm 2.

    Convention: as ``torch.optim.NAdam`` (= TF-Keras Nadam). Its μ_t starts near β₁/2, so for the first
    thousand or so steps the momentum is about half of β₁. ``momentum_decay=float("inf")``
    is exactly ``optax.nadam`` (constant μ = β₁). Form "dozat" adds the β₂ factor of Dozat's
    Algorithm 2 that every implementation drops (noted in optax's source; not re-checked against the PDF).

    Examples
    --------
    The first step is lr·sign(g)·(1 + μ₂(1 - β₁)/(1 - μ₁μ₂)) with μ₁ ≈ μ₂ ≈ 0.45, a bit more than lr:

    >>> from symgd import Problem
    >>> Problem("x^2").minimize("nadam", [1.0], steps=1, lr=0.1, tol=None).x.round(6).tolist()
    [0.894355]

    References
    ----------
    Dozat. Incorporating Nesterov Momentum into Adam. ICLR 2016 workshop.
    """
    lr = as_schedule(lr)
    (b1, b2), eps, weight_decay = check_betas(betas), real("eps", eps), real("weight_decay", weight_decay)
    psi = real("momentum_decay", momentum_decay, inf_ok=True)
    scale = b2 if choice("form", form, ("torch", "dozat")) == "dozat" else 1.0
    mu = [1.0, b1 * (1 - 0.5 * 0.96**psi)]  # μ_t, and Π_t below: functions of t only, memoized in order
    prod = [1.0, mu[1]]

    def init(x):
        return NadamState(np.zeros_like(x), np.zeros_like(x))

    def grow(t):
        while len(mu) <= t + 1:
            mu.append(b1 * (1 - 0.5 * 0.96 ** (len(mu) * psi)))
            prod.append(prod[-1] * mu[-1])

    def step(s, x, t, k):
        grow(t)
        g = l2(k.grad(x), x, weight_decay)
        m, v = ema(s.m, g, b1), ema(s.v, g * g, b2)
        u = (1 - mu[t]) / (1 - prod[t]) * g + mu[t + 1] / (1 - prod[t] * mu[t + 1]) * m
        return x - lr(t) * safe_div(u, np.sqrt(scale * v / (1 - b2**t)) + eps, eps), NadamState(m, v)

    def coefs(t):
        grow(t)
        return (float(lr(t)), weight_decay, b1, 1 - b1, b2, 1 - b2, (1 - mu[t]) / (1 - prod[t]),
                mu[t + 1] / (1 - prod[t] * mu[t + 1]), scale, 1 - b2**t, eps)

    return init, step, Fused(NadamState._fields, zeros(2), coefs, update)


# The scalar form of step; c = (η_t, λ, β1, 1 - β1, β2, 1 - β2, (1 - μ_t) / (1 - Π_t),
# μ_{t+1} / (1 - Π_t μ_{t+1}), β2 (form "dozat") or 1, 1 - β2^t, ε).
def update(x, g, s, c):
    m, v = s
    if c[1] > 0.0:
        g = g + c[1] * x
    m = c[2] * m + c[3] * g
    v = c[4] * v + c[5] * (g * g)
    u = c[6] * g + c[7] * m
    den = math.sqrt(c[8] * v / c[9]) + c[10]
    return x - c[0] * (u / den if c[10] > 0.0 or den > 0.0 else type(u)(0.0)), (m, v)
