"""SWATS."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from symgd.optimizers._adaptive import check_betas, ema, flag, l2, real
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._scalar import bit, zeros


class SwatsState(NamedTuple):
    m: np.ndarray  # (B, n) Adam's moments m, v, from 0
    v: np.ndarray
    avg: np.ndarray  # (B, 1) EMA of the projected rates γ_t, from 0
    b: np.ndarray  # (B, n) SGD momentum buffer, 0 until the switch
    rate: np.ndarray  # (B, 1) Λ, the SGD learning rate fixed at the switch (0 before)
    sgd: np.ndarray  # (B, 1) bool, True once the row has switched


@optimizer
def swats(lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0, nesterov=False):
    r"""SWATS (Keskar & Socher, 2017): Adam, then momentum SGD at the rate Adam's steps project onto g.

    .. math::

        g_t = \nabla f(x_{t-1}) + \lambda x_{t-1} \qquad
        p_t = -\eta_t \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \frac{m_t}{\sqrt{v_t} + \epsilon} \qquad
        x_t = x_{t-1} + p_t \qquad \gamma_t = \frac{p_t^\top p_t}{-p_t^\top g_t} \\
        \bar\gamma_t = \beta_2 \bar\gamma_{t-1} + (1 - \beta_2) \gamma_t \qquad
        \Lambda_t = \bar\gamma_t / (1 - \beta_2^t) \qquad
        \text{switch once } t > 1,\ \Lambda_t > 0,\ |\Lambda_t - \gamma_t| \le 10^{-8} + \epsilon |\gamma_t| \\
        \text{then: } b_k = \beta_1 b_{k-1} + g_k \qquad x_k = x_{k-1} - \Lambda (1 - \beta_1) b_k

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t` of the Adam phase; a number or a schedule ``t -> float``.
    betas : (float, float)
        Decays :math:`(\beta_1, \beta_2)`, each in [0, 1); β₁ is also the SGD momentum.
    eps : float
        :math:`\epsilon \ge 0`: Adam's ε (on :math:`\sqrt{v_t + 10^{-15}}`) and the switch's relative tolerance.
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient (both phases).
    nesterov : bool
        pytorch_optimizer's Nesterov: its SGD step is :math:`\Lambda ((1 - \beta_1) b_k + \beta_1 b_k) = \Lambda b_k`.

    Convention: as pytorch_optimizer 3.9.0 (kozistr) ``SWATS`` (m, v as in Adam; γ̄ moves only when
    pᵀg ≠ 0), one row = one parameter group switching on its own; after it a schedule no longer applies.
    The paper tests |Λ_t - γ_t| < 1e-9; jettify's torch_optimizer uses ε = 1e-3 and loses momentum.
    With the default ε SWATS rarely switches on smooth problems: try ``eps=0.1``.

    Examples
    --------
    Before switching it is ε̂-Adam, so the first step from 1 on x² is lr·sign(g), shortened by ε:

    >>> from symgd import Problem
    >>> Problem("x^2").minimize("swats", [1.0], steps=1, lr=0.1, tol=None).x.round(6).tolist()
    [0.900002]

    References
    ----------
    Keskar, Socher. Improving Generalization Performance by Switching from Adam to SGD. arXiv:1712.07628.
    """
    lr, (b1, b2), eps = as_schedule(lr), check_betas(betas), real("eps", eps)
    weight_decay, nesterov = real("weight_decay", weight_decay), flag("nesterov", nesterov)

    def init(x):
        z, z1 = np.zeros_like(x), np.zeros_like(x[:, :1])
        return SwatsState(z, z, z1, z, z1, z1 > 0)

    def step(s, x, t, k):
        g, sgd = l2(k.grad(x), x, weight_decay), s.sgd
        b = np.where(sgd, b1 * s.b + g, s.b)  # SGD phase
        x_sgd = x - s.rate * ((1 - b1) * b + (b1 * b if nesterov else 0.0))
        m, v = ema(s.m, g, b1), ema(s.v, g * g, b2)  # Adam phase
        p = -lr(t) * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v + 1e-15) + eps)
        pg, pp = rowsum(p * g), rowsum(p * p)  # per-row pᵀg, pᵀp, left to right (as the compiled kernels)
        gam = pp / np.where(pg != 0, -pg, 1.0)
        avg = np.where(pg != 0, ema(s.avg, gam, b2), s.avg)
        big = avg / (1 - b2**t)
        switch = ~sgd & (pg != 0) & (t > 1) & (big > 0) & (np.abs(big - gam) <= 1e-8 + eps * np.abs(gam))
        frozen = (np.where(sgd, old, new) for old, new in zip(s, (m, v, avg)))  # m, v, avg stop at the switch
        return np.where(sgd, x_sgd, x + p), SwatsState(*frozen, b, np.where(switch, big, s.rate), sgd | switch)

    def coefs(t):  # the scalar form's row: Adam's step factor, then what swats_update and swats_finish read
        return (-lr(t) * math.sqrt(1 - b2**t) / (1 - b1**t), b1, b2, eps, weight_decay, bit(nesterov),
                1 - b2**t, float(t))

    def row_init(x):
        return tuple(np.zeros(len(x)) for _ in SwatsState._fields[3:])

    # The switch needs the per-start sums pᵀg, pᵀp: the update returns p_j g_j, p_j p_j as parts, the kernel adds
    # them up over the coordinates left to right (as rowsum) and swats_finish moves avg, rate, sgd.
    return init, step, Fused(("m", "v", "b"), zeros(3), coefs, swats_update, rows=("avg", "rate", "sgd"),
                             row_init=row_init, sums=2, finish=swats_finish)


def rowsum(a):
    """Per-row sums of a ``(B, n)`` array as ``(B, 1)``, added left to right over the coordinates (``np.add.accumulate``
    is sequential: the compiled kernels add in the same order, so a threshold test on the sum agrees exactly).

    >>> rowsum(np.array([[1e16, 1.0, -1e16]]))[:, 0].tolist()
    [0.0]
    """
    return np.add.accumulate(a, axis=1)[:, -1:]


def swats_update(x, g, s, r, c):
    """One coordinate of ``step`` (scalars; ``s = (m, v, b)``, ``r = (avg, rate, sgd)``): ``(x, s, (p g, p p))``."""
    a, b1, b2, eps, wd, nest = c[0], c[1], c[2], c[3], c[4], c[5]
    m, v, b = s
    sgd = r[2] > 0.0
    if wd != 0.0:
        g = g + wd * x
    bn = b1 * b + g if sgd else b
    x_sgd = x - r[1] * ((1 - b1) * bn + (b1 * bn if nest > 0.0 else 0.0))
    mn, vn = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * (g * g)
    p = a * mn / (math.sqrt(vn + 1e-15) + eps)
    if sgd:
        return x_sgd, (m, v, bn), (p * g, p * p)
    return x + p, (mn, vn, bn), (p * g, p * p)


def swats_finish(r, sums, c):
    """The per-start part of ``step`` after the coordinates: ``(avg, rate, sgd)`` from the sums ``(pᵀg, pᵀp)``."""
    avg, rate, sgd = r
    pg, pp = sums
    b2, eps, bc2, t = c[2], c[3], c[6], c[7]
    if sgd > 0.0:
        return avg, rate, sgd
    gam = pp / (-pg if pg != 0.0 else 1.0)
    if pg != 0.0:
        avg = b2 * avg + (1 - b2) * gam
    big = avg / bc2
    if pg != 0.0 and t > 1.0 and big > 0.0 and abs(big - gam) <= 1e-8 + eps * abs(gam):
        return avg, big, 1.0
    return avg, rate, 0.0
