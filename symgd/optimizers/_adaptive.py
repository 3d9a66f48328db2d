"""Pieces shared by the adaptive optimizers: validation, moving averages, Adam's moments and direction.

Conventions (as torch.optim and optax): moment buffers start at 0, ``t = 1, 2, ...`` is the
1-based update number, so the bias corrections are ``1 - beta**t`` with t = 1 on the first update.

>>> import numpy as np
>>> s = adam_init(np.array([[1.0]]))
>>> d, s = adam_direction(s, np.array([[2.0]]), 1, 0.9, 0.999, 0.0)
>>> d.tolist()  # the first Adam direction is sign(g): m_hat = g, v_hat = g**2
[[1.0]]
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from symgd.optimizers._core import require

Array = np.ndarray
AMSGRAD_FORMS = ("torch", "optax", "paper")
AMSGRAD_CODES = {None: 0.0, "torch": 1.0, "optax": 2.0, "paper": 3.0}  # the form as a coefficient of adam_update


def real(name: str, value, lo: float = 0.0, *, lo_open: bool = False, hi: float | None = None,
         hi_open: bool = True, inf_ok: bool = False) -> float:
    """``value`` as a float after checking ``lo <= value (< or <=) hi``; the message names ``name``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    require(ok, f"{name} must be a number, got {value!r}")
    value = float(value)
    require(not np.isnan(value) and (inf_ok or np.isfinite(value)), f"{name} must be finite, got {name}={value!r}")
    low = value > lo if lo_open else value >= lo
    high = hi is None or (value < hi if hi_open else value <= hi)
    interval = f"{'(' if lo_open else '['}{lo:g}, {'inf' if hi is None else f'{hi:g}'}{')' if hi_open else ']'}"
    require(low and high, f"{name} must be in {interval}, got {name}={value!r}")
    return value


def decay(name: str, value) -> float:
    """A moving-average decay rate (β, α, ρ) in [0, 1)."""
    return real(name, value, 0.0, hi=1.0)


def flag(name: str, value) -> bool:
    """A boolean hyperparameter (``True``/``False``, not a truthy number or string)."""
    require(isinstance(value, (bool, np.bool_)), f"{name} must be True or False, got {name}={value!r}")
    return bool(value)


def choice(name: str, value, options: tuple[str, ...]) -> str:
    """One of ``options`` (a ``form=`` hyperparameter)."""
    require(value in options, f"{name} must be one of {', '.join(map(repr, options))}, got {name}={value!r}")
    return value


def check_betas(betas) -> tuple[float, float]:
    """``betas = (β1, β2)``, each in [0, 1), as torch's ``betas``."""
    ok = isinstance(betas, (tuple, list, np.ndarray)) and len(betas) == 2
    require(ok, f"betas must be a pair (beta1, beta2), got betas={betas!r}")
    return decay("betas[0]", betas[0]), decay("betas[1]", betas[1])


def ema(old: Array, new: Array, beta: float) -> Array:
    r""":math:`\beta \cdot old + (1 - \beta) \cdot new`, the exponential moving average."""
    return beta * old + (1 - beta) * new


def l2(g: Array, x: Array, weight_decay: float) -> Array:
    r"""Coupled L2 weight decay :math:`g + \lambda x` (torch's ``weight_decay`` outside AdamW)."""
    return g + weight_decay * x if weight_decay else g


def safe_div(num: Array, den: Array, eps: float) -> Array:
    """``num / den`` for a denominator that is ``>= eps`` or ``>= sqrt(eps)``; with ``eps = 0``, 0 where ``den == 0``.

    ``den == 0`` happens only with ε = 0 where no gradient has been seen: a zero step there, not NaN
    (as optax's Adagrad). The test is on the hyperparameter, so the common ε > 0 costs one division.
    """
    if eps > 0:
        return num / den
    ok = den > 0
    return np.where(ok, num, 0.0) / np.where(ok, den, 1.0)


def root(v: Array, eps: float, eps_inside_sqrt: bool) -> Array:
    r""":math:`\sqrt{v} + \epsilon` (torch), or :math:`\sqrt{v + \epsilon}` (the slides, optax ``eps_root``)."""
    return np.sqrt(v + eps) if eps_inside_sqrt else np.sqrt(v) + eps


class AdamState(NamedTuple):
    """Adam's moments; also used by AdamW, AMSGrad, RAdam and AdaBound."""

    m: Array  # (B, n) first moment, m_0 = 0
    v: Array  # (B, n) second moment (raw, not bias-corrected), v_0 = 0
    vmax: Array  # (B, n) AMSGrad's running max (of v, or of v_hat for form "optax"); equals v without AMSGrad


def adam_init(x: Array) -> AdamState:
    """Zero moments shaped like ``x``."""
    z = np.zeros_like(x)
    return AdamState(z, z, z)


def adam_direction(s: AdamState, g: Array, t: int, b1: float, b2: float, eps: float, *,
                   eps_inside_sqrt: bool = False, amsgrad: str | None = None) -> tuple[Array, AdamState]:
    r"""Adam's direction :math:`d_t = \hat m_t / (\sqrt{\hat v_t} + \epsilon)`: :math:`x_t = x_{t-1} - \eta_t d_t`.

    ``amsgrad`` replaces :math:`\hat v_t` by a running max: ``"torch"`` of the raw v (then / bc2),
    ``"optax"`` of :math:`\hat v`, ``"paper"`` of the raw v with no bias correction of m or v (Reddi et al.).
    """
    m, v = ema(s.m, g, b1), ema(s.v, g * g, b2)
    bc1, bc2 = 1 - b1**t, 1 - b2**t
    r1, r2 = 1 / bc1, 1 / bc2  # multiply by reciprocals: two divisions fewer per coordinate (the kernel's rate)
    if amsgrad is None:
        vmax = v
        v_hat = v * r2
    elif amsgrad == "torch":
        vmax = np.maximum(s.vmax, v)
        v_hat = vmax * r2
    elif amsgrad == "optax":
        vmax = v_hat = np.maximum(s.vmax, v * r2)
    else:  # "paper"
        vmax = v_hat = np.maximum(s.vmax, v)
        r1 = 1.0
    return safe_div(m * r1, root(v_hat, eps, eps_inside_sqrt), eps), AdamState(m, v, vmax)


def adam_coefs(eta, t: int, b1: float, b2: float, eps: float, *, weight_decay: float = 0.0, shrink=1.0,
               eps_inside_sqrt: bool = False, amsgrad: str | None = None) -> tuple[float, ...]:
    r"""The coefficients ``c`` of ``adam_update`` at update t, computed as ``adam_direction`` computes them.

    ``eta`` is the learning rate η_t, ``weight_decay`` the coupled L2 λ, ``shrink`` AdamW's factor
    :math:`1 - \eta_t \lambda` on x (1.0 otherwise: x·1.0 is x, bit for bit).
    """
    bc1, bc2 = 1 - b1**t, 1 - b2**t
    r1, r2 = 1 / bc1, 1 / bc2
    if amsgrad == "paper":
        r1 = 1.0
    return (float(eta), weight_decay, b1, 1 - b1, b2, 1 - b2, r1, r2, eps, AMSGRAD_CODES[amsgrad],
            1.0 if eps_inside_sqrt else 0.0, float(shrink))


def adam_update(x, g, s, c):  # the scalar form of adam_direction and of adam/adamw/amsgrad's step; c = adam_coefs
    m, v, vmax = s
    if c[1] > 0.0:
        g = g + c[1] * x
    m = c[2] * m + c[3] * g
    v = c[4] * v + c[5] * (g * g)
    if c[9] == 0.0:
        vmax = v
        v_hat = v * c[7]
    elif c[9] == 1.0:  # torch: the max of the raw v (np.maximum keeps NaN)
        vmax = vmax if vmax > v or vmax != vmax else v
        v_hat = vmax * c[7]
    elif c[9] == 2.0:  # optax: the max of v_hat
        q = v * c[7]
        vmax = v_hat = vmax if vmax > q or vmax != vmax else q
    else:  # paper: the max of the raw v, no bias correction (c[6] = 1.0)
        vmax = v_hat = vmax if vmax > v or vmax != vmax else v
    den = math.sqrt(v_hat + c[8]) if c[10] > 0.0 else math.sqrt(v_hat) + c[8]
    num = m * c[6]
    d = num / den if c[8] > 0.0 or den > 0.0 else type(num)(0.0)
    return x * c[11] - c[0] * d, (m, v, vmax)


def adam_update_plain(x, g, s, c):  # adam_update without weight decay, AMSGrad or eps inside the sqrt: no branch
    m, v, _ = s  # on a hyperparameter left, so numba vectorizes the loop over a tile's starts
    m = c[2] * m + c[3] * g
    v = c[4] * v + c[5] * (g * g)
    den = math.sqrt(v * c[7]) + c[8]
    num = m * c[6]
    d = num / den if c[8] > 0.0 or den > 0.0 else type(num)(0.0)
    return x * c[11] - c[0] * d, (m, v, v)
