"""AMSGrad."""

from __future__ import annotations

from symgd.optimizers._adaptive import (AMSGRAD_FORMS, AdamState, adam_coefs, adam_direction, adam_init,
                                        adam_update, check_betas, choice, l2, real)
from symgd.optimizers._core import Fused, as_schedule, optimizer
from symgd.optimizers._scalar import zeros


@optimizer
def amsgrad(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, form="torch"):
    r"""AMSGrad (Reddi, Kale & Kumar, 2018): Adam whose denominator never shrinks.

    .. math::

        m_t, v_t \text{ as in Adam} \qquad \tilde v_t = \max(\tilde v_{t-1}, v_t) \qquad
        x_t = x_{t-1} - \eta_t \frac{m_t / (1 - \beta_1^t)}{\sqrt{\tilde v_t / (1 - \beta_2^t)} + \epsilon}

    (form ``"torch"``; ``"optax"``: :math:`\tilde v_t = \max(\tilde v_{t-1}, v_t / (1 - \beta_2^t))` and
    :math:`x_t = x_{t-1} - \eta_t \hat m_t / (\sqrt{\tilde v_t} + \epsilon)`; ``"paper"``:
    :math:`\tilde v_t = \max(\tilde v_{t-1}, v_t)` and
    :math:`x_t = x_{t-1} - \eta_t m_t / (\sqrt{\tilde v_t} + \epsilon)`).

    Parameters
    ----------
    lr : float or callable
        Learning rate :math:`\eta_t`; a number or a schedule ``t -> float``.
    betas : (float, float)
        Decays :math:`(\beta_1, \beta_2)`, each in [0, 1).
    eps : float
        :math:`\epsilon \ge 0`, added outside the square root.
    weight_decay : float
        :math:`\lambda \ge 0`, coupled L2 penalty added to the gradient.
    form : {"torch", "optax", "paper"}
        Which of the three incompatible definitions (see Convention).

    Convention: form "torch" is ``torch.optim.Adam(amsgrad=True)`` (= ``adam(amsgrad=True)``, max over
    the raw v); "optax" is ``optax.amsgrad`` 0.2.8 (max over the bias-corrected v̂); "paper" is Reddi
    et al.'s Algorithm 2 with constant β₁ and η (no bias correction; ε added, the paper has none).
    They differ whenever v peaks early, the usual case.

    Examples
    --------
    Same first step as Adam (lr·sign(g)); after a peak the forms part (x² from 0.5, lr 0.1, 30 steps):

    >>> from symgd import Problem
    >>> p = Problem("x^2")
    >>> [p.minimize("amsgrad", [0.5], 30, lr=0.1, form=f, tol=None).x.round(6).tolist() for f in ("torch", "optax")]
    [[0.021009], [0.015712]]

    References
    ----------
    Reddi, Kale, Kumar. On the Convergence of Adam and Beyond. ICLR 2018. arXiv:1904.09237.
    """
    lr = as_schedule(lr)
    (b1, b2), eps, weight_decay = check_betas(betas), real("eps", eps), real("weight_decay", weight_decay)
    form = choice("form", form, AMSGRAD_FORMS)

    def step(s, x, t, k):
        d, s = adam_direction(s, l2(k.grad(x), x, weight_decay), t, b1, b2, eps, amsgrad=form)
        return x - lr(t) * d, s

    def coefs(t):  # for the scalar form of step, _adaptive.adam_update
        return adam_coefs(lr(t), t, b1, b2, eps, weight_decay=weight_decay, amsgrad=form)

    return adam_init, step, Fused(AdamState._fields, zeros(3), coefs, adam_update)
