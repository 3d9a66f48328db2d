"""AdamW."""

from __future__ import annotations

from symgd.optimizers._adaptive import (AdamState, adam_coefs, adam_direction, adam_init, adam_update, check_betas,
                                        flag, real)
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._scalar import zeros


@optimizer
def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with the weight decay taken out of the gradient.

    .. math::

        g_t = \nabla f(x_{t-1}) \qquad m_t, v_t, \hat m_t, \hat v_t \text{ as in Adam} \qquad
        x_t = x_{t-1} (1 - \eta_t \lambda) - \eta_t \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    betas : (float, float)
        Decays :math:`(\beta_1, \beta_2)`, each in [0, 1).
    eps : float
        :math:`\epsilon \ge 0`, added outside the square root.
    weight_decay : float
        :math:`\lambda \ge 0`, decoupled: x shrinks by the factor :math:`1 - \eta_t \lambda` each step.
    amsgrad : bool
        Use :math:`\max_{i \le t} v_i` for :math:`v_t`, as torch.

    Convention: as ``torch.optim.AdamW`` (= ``Adam(decoupled_weight_decay=True)``), which equals
    ``optax.adamw`` (update -η(adam + λx)); the defaults differ (torch λ = 1e-2, optax 1e-4). The
    paper multiplies λ by the schedule multiplier, not by η: its λ is lr·λ here.

    Examples
    --------
    With a minimum at 0 the decay only adds to Adam's pull: one step from 1 with lr 0.1 and
    λ = 0.5 is 1·(1 - 0.05) - 0.1·sign(g):

    >>> from symgd import Problem
    >>> Problem("x^2").minimize("adamw", [1.0], steps=1, lr=0.1, weight_decay=0.5, tol=None).x.round(6).tolist()
    [0.85]

    References
    ----------
    Loshchilov, Hutter. Decoupled Weight Decay Regularization. ICLR 2019. arXiv:1711.05101.
    """
    lr = as_schedule(lr)
    (b1, b2), eps, weight_decay = check_betas(betas), real("eps", eps), real("weight_decay", weight_decay)
    ams = "torch" if flag("amsgrad", amsgrad) else None

    def step(s, x, t, k):
        d, s = adam_direction(s, k.grad(x), t, b1, b2, eps, amsgrad=ams)
        eta = lr(t)
        return x * (1 - eta * weight_decay) - eta * d, s

    def coefs(t):  # for the scalar form of step, _adaptive.adam_update
        eta = lr(t)
        return adam_coefs(eta, t, b1, b2, eps, shrink=1 - eta * weight_decay, amsgrad=ams)

    return adam_init, step, Fused(AdamState._fields, zeros(3), coefs, adam_update)
