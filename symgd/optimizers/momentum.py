"""Heavy-ball momentum in its three textbook forms."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from symgd.optimizers._adaptive import choice
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._momentum import FORMS_MOMENTUM, as_momentum


class MomentumState(NamedTuple):
    b: np.ndarray  # (B, n) buffer b (torch), velocity v (slide) or previous iterate x_{t-2} (heavy_ball)


@optimizer
def momentum(lr=0.01, momentum=0.9, form="torch"):
    r"""Gradient descent with heavy-ball momentum (Polyak, 1964), in three forms.

    .. math::

        \text{torch:} \quad b_t = \mu b_{t-1} + g_t, \quad b_0 = 0, \quad x_t = x_{t-1} - \eta_t b_t \\
        \text{slide:} \quad v_t = \mu v_{t-1} + \eta_t g_t, \quad v_0 = 0, \quad x_t = x_{t-1} - v_t \\
        \text{heavy\_ball:} \quad x_t = x_{t-1} - \eta_t g_t + \mu (x_{t-1} - x_{t-2}), \quad x_{-1} = x_0

    with :math:`g_t = \nabla f(x_{t-1})`.

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    momentum : float or callable
        :math:`\mu \in [0, 1)`, or a schedule ``t -> μ_t``.
    form : {"torch", "slide", "heavy_ball"}
        Which recursion. All three give the same iterates for a constant η (``v_t = η b_t``); under a
        schedule "torch" rescales the whole buffer by the new η_t, the others only the new gradient.

    Convention: form "torch" is ``torch.optim.SGD(lr, momentum)`` (= ``sgd(momentum=μ)``) and
    ``optax.sgd(lr, momentum)``; "slide" is Sutskever et al.'s velocity and the lecture's
    (000, 004); "heavy_ball" is Polyak's two-step recursion as lecture 002 codes it (slide L3).

    Examples
    --------
    On f = x² from 1 (g = 2x) with η = 0.1, μ = 0.5: x₁ = 1 − 0.2 = 0.8, x₂ = 0.8 − 0.16 + 0.5·(0.8 − 1) = 0.54.

    >>> from symgd import Problem
    >>> p = Problem("x^2")
    >>> [p.minimize("momentum", [1.0], steps=2, lr=0.1, momentum=0.5, form=f, tol=None).x.round(10).tolist()
    ...  for f in ("torch", "slide", "heavy_ball")]
    [[0.54], [0.54], [0.54]]

    References
    ----------
    Polyak. Some methods of speeding up the convergence of iteration methods. USSR Comput. Math. 4(5), 1964.
    Sutskever, Martens, Dahl, Hinton. On the importance of initialization and momentum in deep learning. ICML 2013.
    """
    lr, mu, form = as_schedule(lr), as_momentum(momentum), choice("form", form, FORMS_MOMENTUM)

    def init(x):
        return MomentumState(x if form == "heavy_ball" else np.zeros_like(x))

    def step(s, x, t, k):
        g = k.grad(x)
        if form == "torch":
            b = mu(t) * s.b + g
            return x - lr(t) * b, MomentumState(b)
        if form == "slide":
            v = mu(t) * s.b + lr(t) * g
            return x - v, MomentumState(v)
        return x - lr(t) * g + mu(t) * (x - s.b), MomentumState(x)  # heavy ball: s.b = x_{t-2}

    def coefs(t):
        return float(lr(t)), float(mu(t))

    def scalar_init(x):  # a copy of x_{-1} = x_0: the kernel may write its state back
        return (x.copy() if form == "heavy_ball" else np.zeros_like(x),)

    return init, step, Fused(MomentumState._fields, scalar_init, coefs, UPDATES[form])


# The scalar forms of step for symgd.fused, one per form; c = (η_t, μ_t).
def update_torch(x, g, s, c):
    b = c[1] * s[0] + g
    return x - c[0] * b, (b,)


def update_slide(x, g, s, c):
    v = c[1] * s[0] + c[0] * g
    return x - v, (v,)


def update_heavy_ball(x, g, s, c):  # s = (x_{t-2},)
    return x - c[0] * g + c[1] * (x - s[0]), (x,)


UPDATES = {"torch": update_torch, "slide": update_slide, "heavy_ball": update_heavy_ball}
