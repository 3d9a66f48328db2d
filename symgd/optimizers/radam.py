"""RAdam."""

from __future__ import annotations

import math

import numpy as np

from symgd.optimizers._adaptive import AdamState, adam_init, check_betas, choice, ema, l2, real, safe_div
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._scalar import bit, zeros

THRESHOLD = {"torch": (5.0, False), "optax": (5.0, True), "paper": (4.0, False)}  # form -> (ρ bound, ρ_t ≥ bound?)


@optimizer
def radam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, form="torch"):
    r"""RAdam (Liu et al., 2020): Adam that starts as momentum SGD until the variance of v can be trusted.

    .. math::

        \rho_\infty = \frac{2}{1 - \beta_2} - 1 \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} \qquad
        r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}} \\
        x_t = x_{t-1} - \eta_t \hat m_t \, r_t \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon}
        \quad \text{if } \rho_t > 5, \qquad x_t = x_{t-1} - \eta_t \hat m_t \quad \text{otherwise}

    (:math:`g_t = \nabla f(x_{t-1}) + \lambda x_{t-1}`; :math:`m_t, v_t, \hat m_t` as in Adam.)

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    betas : (float, float)
        Decays :math:`(\beta_1, \beta_2)`, each in [0, 1).
    eps : float
        :math:`\epsilon \ge 0`, added to :math:`\sqrt{v_t}` (form "optax": to :math:`\sqrt{\hat v_t}`).
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient.
    form : {"torch", "optax", "paper"}
        "torch": :math:`\rho_t > 5`, ε on the uncorrected √v; "optax": :math:`\rho_t \ge 5` and
        :math:`x_t = x_{t-1} - \eta_t \hat m_t r_t / (\sqrt{\hat v_t} + \epsilon)`; "paper": :math:`\rho_t > 4`.

    Convention: form "torch" is ``torch.optim.RAdam`` (its ε differs from torch's own Adam), "optax" is
    ``optax.radam`` (threshold 5.0); "paper" is Algorithm 2's ρ_t > 4 with the official code's ε (the
    paper has none), so the rectified steps start at t = 5 instead of 6. Before that every
    form takes the un-adapted step η m̂ (the official repo's default ``degenerated_to_sgd=False`` skips it).

    Examples
    --------
    With β₂ = 0.999, ρ₁ = 1: the first five steps are momentum SGD, so x² from 1 moves by lr·g = 0.2:

    >>> from symgd import Problem
    >>> Problem("x^2").minimize("radam", [1.0], steps=1, lr=0.1, tol=None).x.round(10).tolist()
    [0.8]

    References
    ----------
    Liu, Jiang, He, Chen, Liu, Gao, Han. On the Variance of the Adaptive Learning Rate and Beyond.
    ICLR 2020. arXiv:1908.03265.
    """
    lr = as_schedule(lr)
    (b1, b2), eps, weight_decay = check_betas(betas), real("eps", eps), real("weight_decay", weight_decay)
    bound, closed = THRESHOLD[choice("form", form, tuple(THRESHOLD))]
    rho_inf = 2 / (1 - b2) - 1

    def rectified(t):  # (ρ_t past the threshold?, r_t, bc2): functions of t only, the same for every row
        bc2 = 1 - b2**t
        rho = rho_inf - 2 * t * b2**t / bc2
        if rho > bound or (closed and rho == bound):
            return True, np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)), bc2
        return False, 0.0, bc2

    def step(s, x, t, k):
        g = l2(k.grad(x), x, weight_decay)
        m, v = ema(s.m, g, b1), ema(s.v, g * g, b2)
        m_hat, (rect, r, bc2) = m / (1 - b1**t), rectified(t)
        if rect:
            den = np.sqrt(v / bc2) + eps if form == "optax" else (np.sqrt(v) + eps) / np.sqrt(bc2)
            m_hat = r * safe_div(m_hat, den, eps)
        return x - lr(t) * m_hat, AdamState(m, v, v)

    def coefs(t):
        rect, r, bc2 = rectified(t)
        return (float(lr(t)), weight_decay, b1, 1 - b1, b2, 1 - b2, 1 - b1**t, bit(rect), float(r), bc2,
                float(np.sqrt(bc2)), eps, bit(form == "optax"))

    return adam_init, step, Fused(("m", "v"), zeros(2), coefs, update)


# The scalar form of step; c = (η_t, λ, β1, 1 - β1, β2, 1 - β2, bc1, rectified?, r_t, bc2, √bc2, ε, optax?).
def update(x, g, s, c):
    m, v = s
    if c[1] > 0.0:
        g = g + c[1] * x
    m = c[2] * m + c[3] * g
    v = c[4] * v + c[5] * (g * g)
    m_hat = m / c[6]
    if c[7] > 0.0:
        den = math.sqrt(v / c[9]) + c[11] if c[12] > 0.0 else (math.sqrt(v) + c[11]) / c[10]
        m_hat = c[8] * (m_hat / den if c[11] > 0.0 or den > 0.0 else type(m_hat)(0.0))
    return x - c[0] * m_hat, (m, v)
