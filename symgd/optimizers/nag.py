"""Nesterov's accelerated gradient: the classical look-ahead form and torch's reparametrisation."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from symgd.optimizers._adaptive import choice
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._momentum import as_momentum
from symgd.optimizers._scalar import bit, zeros


class NAGState(NamedTuple):
    v: np.ndarray  # (B, n) velocity v (classical, v_0 = 0) or torch's buffer b (b_1 = g_1)


@optimizer
def nag(lr=0.01, momentum=0.9, form="classical"):
    r"""Nesterov accelerated gradient (Nesterov, 1983; in Sutskever et al., 2013, eqs. 3-4).

    .. math::

        \text{classical:} \quad v_t = \mu v_{t-1} - \eta_t \nabla f(x_{t-1} + \mu v_{t-1}), \quad
        v_0 = 0, \quad x_t = x_{t-1} + v_t \\
        \text{torch:} \quad b_t = \mu b_{t-1} + g_t, \quad b_1 = g_1, \quad
        x_t = x_{t-1} - \eta_t (g_t + \mu b_t), \quad g_t = \nabla f(x_{t-1})

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    momentum : float or callable
        :math:`\mu \in [0, 1)`, or a schedule ``t -> μ_t``.
    form : {"classical", "torch"}
        "classical" evaluates the gradient at the look-ahead point and reports :math:`x_t`; "torch"
        reports the look-ahead point itself, :math:`p_t = x_t + \mu v_t` (Bengio et al. 2013).

    Convention: "classical" is Sutskever et al.'s (and the lecture's, 004) look-ahead NAG; "torch" is
    ``torch.optim.SGD(lr, momentum, nesterov=True)`` = ``optax.sgd(lr, momentum, nesterov=True)`` =
    ``sgd(nesterov=True)``. For a constant η the two produce the same points, reported at different
    places (trap T5): torch's iterate is the classical :math:`x_t + \mu v_t`.

    Examples
    --------
    On f = x² from 1 with η = 0.1, μ = 0.5: v₁ = −0.2, x₁ = 0.8; the look-ahead point is 0.8 − 0.1 = 0.7,
    so v₂ = −0.1 − 0.14 = −0.24 and x₂ = 0.56. torch's form reports x₁ + μv₁ = 0.7 and x₂ + μv₂ = 0.44.

    >>> from symgd import Problem
    >>> p = Problem("x^2")
    >>> def path(form):
    ...     run = p.minimize("nag", [1.0], steps=2, lr=0.1, momentum=0.5, form=form, tol=None, path=True)
    ...     return run.path.ravel().round(10).tolist()
    >>> path("classical"), path("torch")
    ([1.0, 0.8, 0.56], [1.0, 0.7, 0.44])

    References
    ----------
    Nesterov. A method for solving the convex programming problem with convergence rate O(1/k²).
    Soviet Math. Dokl. 27, 1983.
    Sutskever, Martens, Dahl, Hinton. On the importance of initialization and momentum in deep learning. ICML 2013.
    Bengio, Boulanger-Lewandowski, Pascanu. Advances in optimizing recurrent networks. ICASSP 2013.
    """
    lr, mu, form = as_schedule(lr), as_momentum(momentum), choice("form", form, ("classical", "torch"))

    def init(x):
        return NAGState(np.zeros_like(x))

    def step(s, x, t, k):
        m = mu(t)
        if form == "classical":
            v = m * s.v - lr(t) * k.grad(x + m * s.v)  # gradient at the look-ahead point
            return x + v, NAGState(v)
        g = k.grad(x)
        b = g if t == 1 else m * s.v + g
        return x - lr(t) * (g + m * b), NAGState(b)

    def coefs(t):
        return float(lr(t)), float(mu(t)), bit(t == 1)

    if form == "classical":  # the gradient is taken at the look-ahead point x + μv: Fused.point
        return init, step, Fused(NAGState._fields, zeros(1), coefs, update_classical, point_classical)
    return init, step, Fused(NAGState._fields, zeros(1), coefs, update_torch)


# The scalar forms of step for symgd.fused; c = (η_t, μ_t, t == 1?).
def point_classical(x, s, c):  # where the classical update takes its gradient: x + μ_t v_{t-1}
    return x + c[1] * s[0]


def update_classical(x, g, s, c):  # g = ∇f(x + μ_t v_{t-1}), taken at point_classical
    v = c[1] * s[0] - c[0] * g
    return x + v, (v,)


def update_torch(x, g, s, c):
    m = c[1]
    b = g if c[2] > 0.0 else m * s[0] + g
    return x - c[0] * (g + m * b), (b,)
