"""Lookahead: slow weights that follow any inner optimizer's fast weights every k steps."""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from symgd.optimizers._adaptive import real
from symgd.optimizers._core import get, optimizer, require


class LookaheadState(NamedTuple):
    slow: np.ndarray  # (B, n) slow weights phi, phi_0 = x_0
    inner: Any  # the inner optimizer's state, kept across syncs


@optimizer
def lookahead(inner="gd", k=5, alpha=0.5, **inner_hyper):
    r"""Lookahead (Zhang, Lucas, Hinton & Ba, 2019, Algorithm 1) around any ``inner`` optimizer.

    .. math::

        \theta_t = \mathrm{inner}(\theta_{t-1}), \qquad
        \text{if } k \mid t: \quad \phi \leftarrow \phi + \alpha (\theta_t - \phi), \quad \theta_t \leftarrow \phi
        \qquad (\phi_0 = \theta_0 = x_0)

    The reported iterate is :math:`x_t = \theta_t` (equal to the slow weights φ right after a sync).

    Parameters
    ----------
    inner : str or Optimizer
        The fast optimizer: a registered name (configured by ``**inner_hyper``) or a configured ``Optimizer``.
    k : int
        Synchronisation period :math:`k \ge 1` (inner steps per slow step).
    alpha : float
        Slow step size :math:`\alpha \in (0, 1]`.
    **inner_hyper
        Hyperparameters of the inner optimizer by name: ``lookahead(inner="adam", lr=0.1)``.

    Convention: the paper's, optax ``lookahead(reset_state=False)`` and pytorch_optimizer's
    (kozistr, ``pullback_momentum="none"``): the inner state is kept across syncs, and syncs happen
    after inner steps k, 2k, ... (jettify's torch_optimizer syncs after steps 1, k+1, ...: trap T13).
    ``k=1, alpha=1`` is the inner optimizer itself.

    Examples
    --------
    GD with η = 0.25 on f = x² halves x: θ₁ = 0.5, θ₂ = 0.25; with k = 2, α = 0.5 the sync gives
    φ = 1 + 0.5·(0.25 − 1) = 0.625.

    >>> from symgd import Problem
    >>> p = Problem("x^2")
    >>> p.minimize("lookahead", [1.0], steps=3, k=2, lr=0.25, tol=None, path=True).path.ravel().tolist()
    [1.0, 0.5, 0.625, 0.3125]

    References
    ----------
    Zhang, Lucas, Hinton, Ba. Lookahead Optimizer: k steps forward, 1 step back. NeurIPS 2019. arXiv:1907.08610.
    """
    fast = get(inner, **inner_hyper)
    require(isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1,
            f"k must be a positive integer (inner steps per sync), got {k=}")
    alpha = real("alpha", alpha, lo_open=True, hi=1.0, hi_open=False)

    def init(x):
        return LookaheadState(x, fast.init(x))

    def step(s, x, t, oracle):
        theta, inner_state = fast.step(s.inner, x, t, oracle)
        if t % k:  # t is shared by every row: a Python branch on t, never on data
            return theta, LookaheadState(s.slow, inner_state)
        slow = s.slow + alpha * (theta - s.slow)
        return slow, LookaheadState(slow, inner_state)

    return init, step
