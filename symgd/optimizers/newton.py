"""Newton's method with the exact SymPy Hessian: pure, Armijo-damped, or saddle-free."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from symgd.optimizers._adaptive import choice, real
from symgd.optimizers._core import as_schedule, optimizer
from symgd.optimizers._linalg import abs_hessian, armijo, newton_direction, solve


class NewtonState(NamedTuple):
    singular: np.ndarray  # (B,) bool: the last step used the pseudo-inverse (singular Hessian) or -g


class NewtonForm(NamedTuple):
    """Newton's scalar form for the compiled backends (``symgd.fused``), which know this optimizer by it.

    Newton is not elementwise, so it has no ``Fused`` update: the generated kernel evaluates the printed
    Hessian per start, calls ``direction`` (``_linalg.newton_direction``: LU with partial pivoting, the
    pseudo-inverse on a zero pivot, |H| by Jacobi rotations for "saddle_free") and, for "armijo",
    backtracks on the printed f with the same constants as ``_linalg.armijo``.
    """

    damping: str  # "none", "armijo" or "saddle_free": part of the generated code
    coefs: Callable[[int], tuple]  # t -> (lr(t), eps)
    direction: Callable  # (H, g, d, W, n, saddle_free, eps) -> singular


@optimizer
def newton(lr=1.0, damping="none", eps=1e-8):
    r"""Newton's method (the Taylor-expansion step), with the exact Hessian :math:`H = \nabla^2 f(x_{t-1})`.

    .. math::

        \text{none:} \quad x_t = x_{t-1} - \eta_t\, H^{-1} g_t \\
        \text{armijo:} \quad d = -H^{-1} g_t \ (\text{or } -g_t \text{ if } g_t^T d \ge 0), \quad
        x_t = x_{t-1} + a\, d, \quad a = \eta_t / 2^j \text{ with the least } j:
        f(x_{t-1} + a d) \le f(x_{t-1}) + c\, a\, g_t^T d \\
        \text{saddle\_free:} \quad x_t = x_{t-1} - \eta_t\, |H|^{-1} g_t, \quad
        |H| = V \max(|\Lambda|, \epsilon) V^T \ \ (H = V \Lambda V^T)

    Parameters
    ----------
    lr : float or callable
        :math:`\eta_t > 0`: the step multiplier ("none", "saddle_free") or the first trial step ("armijo");
        a number or a schedule ``t -> float``.
    damping : {"none", "armijo", "saddle_free"}
        "none" is pure Newton, which converges to *any* non-degenerate critical point, maxima and saddles
        included (trap T15); "armijo" backtracks on f (c = 1e-4, halving, at most 60 times) and so only
        goes downhill, though a full Newton step can still land on a saddle (x² − y² from (2, 1));
        "saddle_free" flips negative curvature (Dauphin et al.) and escapes saddles.
    eps : float
        :math:`\epsilon > 0`, the floor on :math:`|\lambda_i|` in "saddle_free" (a flat direction would
        otherwise give an infinite step).

    A singular Hessian in one row never breaks the others: that row uses the pseudo-inverse (and
    ``state.singular`` marks it), so on a flat direction it does not move.

    Convention: the textbook Newton step, solved (never inverted) per start; damping "armijo" is
    Nocedal & Wright's Algorithm 3.1 with ρ = 1/2; "saddle_free" uses the exact eigendecomposition
    where the paper uses a damped Krylov approximation. OPTIMIZERS.md §2.16.

    Examples
    --------
    One step solves a quadratic; pure Newton on the slide's quartic 2x² + 3x³ + x⁴ from −1 goes to the
    local *maximum* (−9 + √17)/8 ≈ −0.6096, the damped forms to the global minimum ≈ −1.6404.

    >>> from symgd import Problem
    >>> Problem("(x - 3)^2 + 1").minimize("newton", [10.0], steps=1, tol=None).x.tolist()
    [3.0]
    >>> quartic = Problem("2x^2 + 3x^3 + x^4")
    >>> [round(float(quartic.minimize("newton", [-1.0], steps=50, damping=d).x[0]), 6)
    ...  for d in ("none", "armijo", "saddle_free")]
    [-0.609612, -1.640388, -1.640388]

    References
    ----------
    Nocedal, Wright. Numerical Optimization, 2nd ed., Springer 2006, ch. 3.
    Dauphin, Pascanu, Gulcehre, Cho, Ganguli, Bengio. Identifying and attacking the saddle point problem
    in high-dimensional non-convex optimization. NeurIPS 2014.
    """
    lr = as_schedule(lr)
    damping = choice("damping", damping, ("none", "armijo", "saddle_free"))
    eps = real("eps", eps, lo_open=True)

    def init(x):
        return NewtonState(np.zeros(len(x), bool))

    def step(s, x, t, k):
        g, H = k.grad(x), k.hess(x)
        if damping == "saddle_free":
            H = abs_hessian(H, eps)
        d, singular = solve(H, g)
        if damping != "armijo":
            return x - lr(t) * d, NewtonState(singular)
        d = -d
        uphill = ~(np.einsum("ij,ij->i", g, d) < 0)  # not a descent direction (or NaN): use -g
        d = np.where(uphill[:, None], -g, d)
        return x + armijo(k, x, d, g, lr(t))[:, None] * d, NewtonState(singular | uphill)

    def coefs(t):
        return float(lr(t)), eps

    return init, step, NewtonForm(damping, coefs, newton_direction)
