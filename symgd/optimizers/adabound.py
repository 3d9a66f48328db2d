"""AdaBound."""

from __future__ import annotations

import math

import numpy as np

from symgd.optimizers._adaptive import AdamState, adam_init, check_betas, ema, flag, l2, real, safe_div
from symgd.optimizers._core import Fused, as_schedule, optimizer, require
from symgd.optimizers._scalar import bit, zeros


@optimizer
def adabound(lr=1e-3, final_lr=0.1, betas=(0.9, 0.999), gamma=1e-3, eps=1e-8, weight_decay=0.0, amsbound=False):
    r"""AdaBound (Luo et al., 2019): Adam whose per-coordinate rate is clipped into bounds closing on SGD's.

    .. math::

        g_t = \nabla f(x_{t-1}) + \lambda x_{t-1} \qquad m_t, v_t \text{ as in Adam} \qquad
        \eta^*_t = \eta^* \frac{\eta_t}{\eta_1} \\
        \ell_t = \eta^*_t \left(1 - \frac{1}{\gamma t + 1}\right) \qquad
        u_t = \eta^*_t \left(1 + \frac{1}{\gamma t}\right) \qquad
        x_t = x_{t-1} - \operatorname{clip}\left(
        \frac{\eta_t \sqrt{1 - \beta_2^t}}{(1 - \beta_1^t)(\sqrt{v_t} + \epsilon)}, \ell_t, u_t\right) m_t

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t` of the Adam phase; a number or a schedule ``t -> float``.
    final_lr : float
        :math:`\eta^* > 0`, the SGD rate both bounds converge to (scaled by :math:`\eta_t / \eta_1`).
    betas : (float, float)
        Decays :math:`(\beta_1, \beta_2)`, each in [0, 1).
    gamma : float
        :math:`\gamma > 0`, how fast the bounds close.
    eps : float
        :math:`\epsilon \ge 0`, added to the uncorrected :math:`\sqrt{v_t}`.
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient.
    amsbound : bool
        AMSBound: use :math:`\max_{i \le t} v_i` for :math:`v_t`.

    Convention: as Luolc/AdaBound (the authors' code) and pytorch_optimizer 3.9.0's ``AdaBound`` with
    ``weight_decouple=False`` (its default decouples the decay; its √(v + 1e-15) differs only for v ≲ 1e-15).
    The unclipped rate is the TF-style ε̂ Adam, not torch's Adam, and the clip multiplies the raw m_t.
    The paper's bounds are γ = 1 - β₂, η* = 0.1; its Algorithm 2 also divides by √t (no code does).

    Examples
    --------
    With the default γ the bounds are wide early on, so the first step is Adam's lr·sign(g):

    >>> from symgd import Problem
    >>> Problem("x^2").minimize("adabound", [1.0], steps=1, lr=0.1, tol=None).x.round(6).tolist()
    [0.9]

    References
    ----------
    Luo, Xiong, Liu, Sun. Adaptive Gradient Methods with Dynamic Bound of Learning Rate. ICLR 2019.
    arXiv:1902.09843.
    """
    lr = as_schedule(lr)
    final_lr, gamma = real("final_lr", final_lr, lo_open=True), real("gamma", gamma, lo_open=True)
    (b1, b2), eps, weight_decay = check_betas(betas), real("eps", eps), real("weight_decay", weight_decay)
    ams, lr1 = flag("amsbound", amsbound), lr(1)
    require(lr1 > 0, f"adabound needs a positive first learning rate (the bounds scale by lr(t)/lr(1)), got {lr1=}")

    def rates(t):  # (unclipped numerator, lower bound, upper bound): functions of t only
        eta = lr(t)
        star = final_lr * eta / lr1
        lo, hi = star * (1 - 1 / (gamma * t + 1)), star * (1 + 1 / (gamma * t))
        return eta * np.sqrt(1 - b2**t) / (1 - b1**t), lo, hi

    def step(s, x, t, k):
        g = l2(k.grad(x), x, weight_decay)
        m, v = ema(s.m, g, b1), ema(s.v, g * g, b2)
        vmax = np.maximum(s.vmax, v) if ams else v
        num, lo, hi = rates(t)
        rate = safe_div(num, np.sqrt(vmax) + eps, eps)
        return x - np.clip(rate, lo, hi) * m, AdamState(m, v, vmax)

    def coefs(t):
        num, lo, hi = rates(t)
        return float(num), float(lo), float(hi), weight_decay, b1, 1 - b1, b2, 1 - b2, bit(ams), eps

    return adam_init, step, Fused(AdamState._fields, zeros(3), coefs, update)


# The scalar form of step; c = (η_t √bc2 / bc1, lo_t, hi_t, λ, β1, 1 - β1, β2, 1 - β2, amsbound?, ε).
def update(x, g, s, c):
    m, v, vmax = s
    if c[3] > 0.0:
        g = g + c[3] * x
    m = c[4] * m + c[5] * g
    v = c[6] * v + c[7] * (g * g)
    if c[8] > 0.0:
        vmax = vmax if vmax > v or vmax != vmax else v  # np.maximum, NaN kept
    else:
        vmax = v
    den = math.sqrt(vmax) + c[9]
    rate = c[0] / den if c[9] > 0.0 or den > 0.0 else type(den)(0.0)
    rate = rate if rate > c[1] or rate != rate else c[1]  # np.clip(rate, lo, hi): NaN kept
    rate = rate if rate < c[2] or rate != rate else c[2]
    return x - rate * m, (m, v, vmax)
