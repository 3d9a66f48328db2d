"""Adagrad."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from symgd.optimizers._adaptive import flag, l2, real, root, safe_div
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._scalar import bit


class AdagradState(NamedTuple):
    s: np.ndarray  # (B, n) sum of squared gradients, s_0 = initial_accumulator_value


@optimizer
def adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
            eps_inside_sqrt=False):
    r"""Adagrad (Duchi, Hazan & Singer, 2011): a per-coordinate step shrinking with the gradients seen.

    .. math::

        g_t = \nabla f(x_{t-1}) + \lambda x_{t-1} \qquad s_t = s_{t-1} + g_t^2 \qquad
        \eta'_t = \frac{\eta_t}{1 + (t - 1)\,\delta} \qquad
        x_t = x_{t-1} - \eta'_t \frac{g_t}{\sqrt{s_t} + \epsilon}

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    lr_decay : float
        :math:`\delta \ge 0`, torch's extra decay of the learning rate.
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient.
    initial_accumulator_value : float
        :math:`s_0 \ge 0`.
    eps : float
        :math:`\epsilon \ge 0`, added outside the square root (inside with ``eps_inside_sqrt``).
    eps_inside_sqrt : bool
        Use :math:`g_t / \sqrt{s_t + \epsilon}` (the slides' and optax's form).

    Convention: as ``torch.optim.Adagrad`` (ε outside the √, as Duchi et al.'s δ). The slides (002, 004)
    write ε inside the √ with ε = 1e-8: ``adagrad(lr=0.1, eps=1e-8, eps_inside_sqrt=True)``; optax's
    ``adagrad`` is ``eps_inside_sqrt=True, eps=1e-7, initial_accumulator_value=0.1``. Where s_t = 0 and
    ε = 0 the step is 0 (optax), not NaN.

    Examples
    --------
    The first step on f = x² from 0.5 moves by lr·sign(g); the slide L5 (29 updates, ε inside):

    >>> from symgd import Problem
    >>> p = Problem("x^2")
    >>> p.minimize("adagrad", [0.5], steps=1, lr=0.1, tol=None).x.round(10).tolist()
    [0.4]
    >>> p.minimize("adagrad", [0.5], steps=29, lr=0.1, eps=1e-8, eps_inside_sqrt=True, tol=None).x.round(8).tolist()
    [0.01459057]

    References
    ----------
    Duchi, Hazan, Singer. Adaptive Subgradient Methods for Online Learning and Stochastic Optimization.
    JMLR 12, 2011.
    """
    lr = as_schedule(lr)
    lr_decay, weight_decay = real("lr_decay", lr_decay), real("weight_decay", weight_decay)
    s0, eps = real("initial_accumulator_value", initial_accumulator_value), real("eps", eps)
    inside = flag("eps_inside_sqrt", eps_inside_sqrt)

    def init(x):
        return AdagradState(np.full_like(x, s0))

    def step(state, x, t, k):
        g = l2(k.grad(x), x, weight_decay)
        s = state.s + g * g
        return x - lr(t) / (1 + (t - 1) * lr_decay) * safe_div(g, root(s, eps, inside), eps), AdagradState(s)

    def coefs(t):
        return float(lr(t) / (1 + (t - 1) * lr_decay)), weight_decay, eps, bit(inside)

    return init, step, Fused(AdagradState._fields, init, coefs, update)


def update(x, g, s, c):  # the scalar form of step; c = (η_t / (1 + (t - 1) δ), λ, ε, ε inside the √?)
    if c[1] > 0.0:
        g = g + c[1] * x
    acc = s[0] + g * g
    den = math.sqrt(acc + c[2]) if c[3] > 0.0 else math.sqrt(acc) + c[2]
    return x - c[0] * (g / den if c[2] > 0.0 or den > 0.0 else type(g)(0.0)), (acc,)
