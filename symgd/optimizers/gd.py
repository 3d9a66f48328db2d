"""Plain gradient descent."""

from __future__ import annotations

from symgd.optimizers._core import Fused, as_schedule, optimizer


@optimizer
def gd(lr=0.01):
    r"""Gradient descent (Cauchy, 1847); batch gradient descent (BGD) on a finite sum.

    .. math::

        x_t = x_{t-1} - \eta_t \, g_t, \qquad g_t = \nabla f(x_{t-1})

    On a quadratic with curvatures :math:`h_i` (the Hessian's eigenvalues) each coordinate is multiplied
    by :math:`1 - \eta h_i` per update: GD converges iff :math:`0 < \eta h_i < 2` for every i, and
    oscillates when :math:`\eta h_i > 1`.

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.

    Convention: ``torch.optim.SGD(lr)`` with no momentum (= ``sgd(lr)``), and ``optax.sgd(lr)``; the
    lectures' :math:`x^{(t+1)} = x^{(t)} - \gamma \nabla f(x^{(t)})` with γ for η.

    Examples
    --------
    The slide's first step on :math:`(x_1 - 5)^2 + x_2^2` from (-9, 6), where ∇f = (-28, 12):

    >>> from symgd import Problem
    >>> run = Problem("(x1-5)^2 + x2^2").minimize("gd", [-9.0, 6.0], steps=1, lr=0.1, tol=0)
    >>> run.x.round(10).tolist()
    [-6.2, 4.8]

    On :math:`x^2 - 10x + 1` with η = 1 (h = 2, so 1 - ηh = -1) it flips between x₀ and 10 - x₀ forever:

    >>> Problem("x^2 - 10x + 1").minimize("gd", [3.0], steps=3, lr=1.0, path=True).path.ravel().tolist()
    [3.0, 7.0, 3.0, 7.0]

    References
    ----------
    Cauchy. Méthode générale pour la résolution des systèmes d'équations simultanées. 1847.
    """
    lr = as_schedule(lr)

    def init(x):
        return ()

    def step(s, x, t, k):
        return x - lr(t) * k.grad(x), s

    def coefs(t):
        return (float(lr(t)),)

    return init, step, Fused((), init, coefs, update)


def update(x, g, s, c):  # the scalar form of step for symgd.fused; c = (lr(t),)
    return x - c[0] * g, s
