"""RMSProp."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from symgd.optimizers._adaptive import decay, ema, flag, l2, real, root, safe_div
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._scalar import bit, zeros


class RMSpropState(NamedTuple):
    v: np.ndarray  # (B, n) moving average of g^2, v_0 = 0
    m: np.ndarray  # (B, n) moving average of g (centered only), m_0 = 0
    b: np.ndarray  # (B, n) momentum buffer, b_0 = 0 (unlike SGD's b_1 = g_1)


@optimizer
def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, eps_inside_sqrt=False):
    r"""RMSProp (Hinton, 2012, lecture 6e): divide the gradient by a running RMS of recent gradients.

    .. math::

        g_t = \nabla f(x_{t-1}) + \lambda x_{t-1} \qquad v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2 \qquad
        m_t = \alpha m_{t-1} + (1 - \alpha) g_t \\
        d_t = \frac{g_t}{\sqrt{v_t - m_t^2} + \epsilon} \qquad b_t = \mu b_{t-1} + d_t \qquad
        x_t = x_{t-1} - \eta_t b_t \qquad (\text{not centered: } \sqrt{v_t})

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    alpha : float
        Decay :math:`\alpha \in [0, 1)` of the averages.
    eps : float
        :math:`\epsilon \ge 0`, added outside the square root (inside with ``eps_inside_sqrt``).
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient.
    momentum : float
        :math:`\mu \ge 0`; the buffer accumulates the scaled step :math:`d_t` and starts at 0.
    centered : bool
        Divide by the running standard deviation :math:`\sqrt{v_t - m_t^2}` (Graves).
    eps_inside_sqrt : bool
        Use :math:`\sqrt{v_t + \epsilon}` (the slides' and optax's form).

    Convention: as ``torch.optim.RMSprop`` (ε outside the √, no bias correction; a centred variance
    rounded below 0 is clamped at 0). The slides (000, 004) put ε inside the √ with decay 0.9:
    ``rmsprop(alpha=0.9, eps_inside_sqrt=True)``, optax's default; 003 starts from v_1 = g². optax's
    momentum scales by the lr before its trace: the same as torch only for a constant lr.

    Examples
    --------
    No bias correction: the first step is lr·g/√(1 - α) ≈ 10·lr·sign(g) for α = 0.99:

    >>> from symgd import Problem
    >>> Problem("x^2").minimize("rmsprop", [0.5], steps=1, lr=0.01, tol=None).x.round(6).tolist()
    [0.4]

    References
    ----------
    Hinton, Srivastava, Swersky. Neural Networks for Machine Learning, lecture 6e, 2012.
    Graves. Generating Sequences With Recurrent Neural Networks. arXiv:1308.0850, 2013.
    """
    lr, alpha, eps, mu = as_schedule(lr), decay("alpha", alpha), real("eps", eps), real("momentum", momentum)
    weight_decay, centered = real("weight_decay", weight_decay), flag("centered", centered)
    inside = flag("eps_inside_sqrt", eps_inside_sqrt)

    def init(x):
        return RMSpropState(*[np.zeros_like(x)] * 3)

    def step(s, x, t, k):
        g = l2(k.grad(x), x, weight_decay)
        v = ema(s.v, g * g, alpha)
        m = ema(s.m, g, alpha) if centered else s.m
        d = safe_div(g, root(np.maximum(v - m * m, 0.0) if centered else v, eps, inside), eps)
        b = mu * s.b + d if mu else d
        return x - lr(t) * b, RMSpropState(v, m, b)

    def coefs(t):
        return float(lr(t)), weight_decay, alpha, 1 - alpha, bit(centered), eps, bit(inside), mu

    return init, step, Fused(RMSpropState._fields, zeros(3), coefs, update)


def update(x, g, s, c):  # the scalar form of step; c = (η_t, λ, α, 1 - α, centered?, ε, ε inside the √?, μ)
    v, m, b = s
    if c[1] > 0.0:
        g = g + c[1] * x
    v = c[2] * v + c[3] * (g * g)
    if c[4] > 0.0:
        m = c[2] * m + c[3] * g
        var = v - m * m
        var = var if var > 0.0 or var != var else type(var)(0.0)  # np.maximum(var, 0.0), NaN kept
    else:
        var = v
    den = math.sqrt(var + c[5]) if c[6] > 0.0 else math.sqrt(var) + c[5]
    d = g / den if c[5] > 0.0 or den > 0.0 else type(g)(0.0)
    b = c[7] * b + d if c[7] != 0.0 else d
    return x - c[0] * b, (v, m, b)
