"""Adam."""

from __future__ import annotations

from symgd.optimizers._adaptive import (AdamState, adam_coefs, adam_direction, adam_init, adam_update,
                                        adam_update_plain, check_betas, flag, l2, real)
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._scalar import zeros


@optimizer
def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, eps_inside_sqrt=False):
    r"""Adam (Kingma & Ba, 2015, Algorithm 1): momentum on g over a running RMS of g, both bias-corrected.

    .. math::

        g_t = \nabla f(x_{t-1}) + \lambda x_{t-1} \qquad m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat m_t = \frac{m_t}{1 - \beta_1^t} \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t} \qquad
        x_t = x_{t-1} - \eta_t \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    betas : (float, float)
        Decays :math:`(\beta_1, \beta_2)`, each in [0, 1).
    eps : float
        :math:`\epsilon \ge 0`, added outside the square root (inside with ``eps_inside_sqrt``).
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient (``adamw`` decouples it).
    amsgrad : bool
        Use :math:`\max_{i \le t} v_i` for :math:`v_t` (torch's AMSGrad; see ``amsgrad`` for the others).
    eps_inside_sqrt : bool
        Use :math:`\hat m_t / \sqrt{\hat v_t + \epsilon}`: the slides' form, optax ``adam(eps=0, eps_root=ε)``.

    Convention: as ``torch.optim.Adam`` and ``optax.adam`` (Algorithm 1, ε outside the √), not the
    TF/Keras ε̂ form η√(1 - β₂ᵗ)/(1 - β₁ᵗ)·m/(√v + ε̂). The slides (002 R code, 000, 004) put ε inside
    the √: ``adam(eps_inside_sqrt=True)``. The last Adam slide of 004 divides by 1 - β₁² and
    1 - β₂²: a typo for 1 - β₁ᵗ and 1 - β₂ᵗ (its previous slide has the t). Both ε forms differ
    only when √v̂ is near ε, i.e. near a critical point.

    Examples
    --------
    The first step is lr·sign(g) (m̂₁ = g, v̂₁ = g²); slide L6 (x² from 0.5, lr 0.1, 30 updates):

    >>> from symgd import Problem
    >>> p = Problem("x^2")
    >>> p.minimize("adam", [1.0], steps=3, lr=0.1, tol=None, path=True).path.ravel().round(6).tolist()
    [1.0, 0.9, 0.800412, 0.701586]
    >>> p.minimize("adam", [0.5], steps=30, lr=0.1, tol=None).x.round(8).tolist()
    [0.02099521]

    References
    ----------
    Kingma, Ba. Adam: A Method for Stochastic Optimization. ICLR 2015. arXiv:1412.6980.
    """
    lr = as_schedule(lr)
    (b1, b2), eps, weight_decay = check_betas(betas), real("eps", eps), real("weight_decay", weight_decay)
    ams, inside = ("torch" if flag("amsgrad", amsgrad) else None), flag("eps_inside_sqrt", eps_inside_sqrt)

    def step(s, x, t, k):
        g = l2(k.grad(x), x, weight_decay)
        d, s = adam_direction(s, g, t, b1, b2, eps, eps_inside_sqrt=inside, amsgrad=ams)
        return x - lr(t) * d, s

    def coefs(t):  # for the scalar form of step, _adaptive.adam_update
        return adam_coefs(lr(t), t, b1, b2, eps, weight_decay=weight_decay, eps_inside_sqrt=inside, amsgrad=ams)

    plain = not weight_decay and ams is None and not inside  # the common case: the branch-free update
    return adam_init, step, Fused(AdamState._fields, zeros(3), coefs, adam_update_plain if plain else adam_update)
