"""Batched linear algebra for second-order steps, safe per row.

One singular or non-finite start never breaks the batch.

>>> import numpy as np
>>> H = np.array([[[2.0, 0.0], [0.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]])  # the second row is singular
>>> d, singular = solve(H, np.array([[2.0, 4.0], [1.0, 1.0]]))
>>> d.tolist(), singular.tolist()
([[1.0, 1.0], [0.0, 0.0]], [False, True])
"""

from __future__ import annotations

import numpy as np

ARMIJO_C, MAX_HALVINGS = 1e-4, 60


def solve(H, g):
    """Per-row ``H⁻¹ g``; rows whose LU has a zero pivot get ``pinv(H) g`` instead (returned as a mask).

    ``np.linalg.solve`` on a stack raises for the whole batch if one matrix is singular; ``slogdet``
    runs the same LU without raising, and sign 0 marks exactly the rows ``solve`` refuses.
    """
    ok = np.isfinite(H).all(axis=(-2, -1)) & np.isfinite(g).all(axis=-1)
    H = np.where(ok[:, None, None], H, np.eye(H.shape[-1]))  # a diverged row must not break the batch
    try:
        d = np.linalg.solve(H, g[..., None])[..., 0]
        singular = np.zeros(len(g), bool)
    except np.linalg.LinAlgError:
        singular = np.linalg.slogdet(H)[0] == 0
        d = np.empty_like(g)
        good = ~singular
        d[good] = np.linalg.solve(H[good], g[good][..., None])[..., 0]
        d[singular] = (np.linalg.pinv(H[singular]) @ g[singular][..., None])[..., 0]
    return np.where(ok[:, None], d, np.nan), singular


def abs_hessian(H, eps):
    r""":math:`|H| = V \max(|\Lambda|, \epsilon) V^T` per row (rows with non-finite entries become I)."""
    ok = np.isfinite(H).all(axis=(-2, -1))
    lam, V = np.linalg.eigh(np.where(ok[:, None, None], H, np.eye(H.shape[-1])))
    return (V * np.maximum(np.abs(lam), eps)[..., None, :]) @ np.swapaxes(V, -1, -2)


def armijo(k, x, d, g, a0):
    """Backtracking: halve ``a`` (per row) while ``f(x + a d) > f(x) + c a gᵀd``; NaN counts as too far."""
    fx, slope = k.f(x), np.einsum("ij,ij->i", g, d)
    a = np.full(len(x), a0)
    todo = np.isfinite(fx) & np.isfinite(slope)
    for _ in range(MAX_HALVINGS):  # a loop over halvings (shared), never over rows
        trial = k.f(x[todo] + a[todo, None] * d[todo])
        bad = ~(trial <= fx[todo] + ARMIJO_C * a[todo] * slope[todo])
        idx = np.flatnonzero(todo)
        a[idx[bad]] *= 0.5
        todo[idx[~bad]] = False
        if not todo.any():
            break
    return a
