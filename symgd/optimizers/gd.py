"""Plain gradient descent."""

from __future__ import annotations

from symgd.optimizers._core import as_schedule, optimizer


@optimizer
def gd(lr=0.01):
    r"""Gradient descent (Cauchy, 1847); batch gradient descent (BGD) on a finite sum.

    .. math::

        x_t = x_{t-1} - \eta_t \, g_t, \qquad g_t = \nabla f(x_{t-1})

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.

    Convention: ``torch.optim.SGD(lr)`` with no momentum, and ``optax.sgd(lr)``.

    Examples
    --------
    >>> from symgd import Problem
    >>> run = Problem("(x1-5)^2 + x2^2").minimize("gd", [-9.0, 6.0], steps=1, lr=0.1, tol=0)
    >>> run.x.round(10).tolist()
    [-6.2, 4.8]

    References
    ----------
    Cauchy. Méthode générale pour la résolution des systèmes d'équations simultanées. 1847.
    """
    lr = as_schedule(lr)

    def init(x):
        return ()

    def step(s, x, t, k):
        return x - lr(t) * k.grad(x), s

    return init, step
