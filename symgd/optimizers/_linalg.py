"""Batched linear algebra for second-order steps, safe per row.

One singular or non-finite start never breaks the batch.

>>> import numpy as np
>>> H = np.array([[[2.0, 0.0], [0.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]])  # the second row is singular
>>> d, singular = solve(H, np.array([[2.0, 4.0], [1.0, 1.0]]))
>>> d.tolist(), singular.tolist()
([[1.0, 1.0], [0.0, 0.0]], [False, True])
"""

from __future__ import annotations

import math

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


# ---------------------------------------------------------------------------------------------------------
# Newton's scalar form, for the compiled backends (symgd.fused): one start at a time, on flat buffers
# (``A[i * n + j]``), in plain arithmetic that CPython runs on lists and numba compiles on arrays. The
# batched functions above stay the reference; these follow the same rules: LU with partial pivoting, the
# pseudo-inverse (cut at 1e-15 of the largest |eigenvalue|, as ``numpy.linalg.pinv``) where a pivot is
# exactly 0, NaN for a non-finite H or g, and |H| = V max(|Λ|, eps) Vᵀ (Jacobi rotations) for saddle-free.

PINV_RCOND = 1e-15  # numpy.linalg.pinv's default cut-off, relative to the largest singular value


def _finite(A, m):
    acc = 0.0
    for i in range(m):
        acc += A[i] - A[i]
    return acc == 0.0


def newton_direction(H, g, d, W, n, saddle_free, eps):
    r"""Newton's direction for one start: ``d = H⁻¹ g`` (``|H|⁻¹ g`` if ``saddle_free``); True if singular.

    ``H`` (n·n, row-major) and ``g`` (n) are read, ``d`` (n) written, ``W`` (3n² + 2n) is workspace. As
    the batched ``solve``/``abs_hessian``: a non-finite H or g gives NaN (saddle-free first replaces a
    non-finite H by I), a zero pivot the pseudo-inverse.
    """
    A, V, M, lam, b = 0, n * n, 2 * n * n, 3 * n * n, 3 * n * n + n  # offsets into W
    for i in range(n * n):
        W[A + i] = H[i]
    if saddle_free:
        if not _finite(H, n * n):
            for i in range(n * n):
                W[A + i] = 0.0
            for i in range(n):
                W[A + i * n + i] = 1.0
        _eigh(W, n, A, V, M, lam)
        for i in range(n):  # |H| = (V max(|lam|, eps)) Vᵀ, into A
            for j in range(n):
                s = 0.0
                for k in range(n):
                    s += W[V + i * n + k] * max(abs(W[lam + k]), eps) * W[V + j * n + k]
                W[A + i * n + j] = s
    if not (_finite(W, n * n) and _finite(g, n)):
        for i in range(n):
            d[i] = math.nan
        return False
    for i in range(n * n):
        W[M + i] = W[A + i]
    for i in range(n):
        W[b + i] = g[i]
    if _lu_solve(W, n, M, b, d):
        return False
    _eigh(W, n, A, V, M, lam)  # pinv(H) g = Σ v vᵀ g / λ over |λ| > rcond·max|λ|
    top = 0.0
    for k in range(n):
        top = max(top, abs(W[lam + k]))
    for i in range(n):
        d[i] = 0.0
    for k in range(n):
        if abs(W[lam + k]) > PINV_RCOND * top:
            vg = 0.0
            for j in range(n):
                vg += W[V + j * n + k] * g[j]
            for i in range(n):
                d[i] += W[V + i * n + k] * (vg / W[lam + k])
    return True


def _eigh(W, n, A, V, M, lam):
    """Eigenvalues (``W[lam:]``) and eigenvectors (columns of ``W[V:]``) of the symmetric ``W[A:]`` (kept)."""
    for i in range(n * n):
        W[M + i] = W[A + i]
    _jacobi(W, n, M, V, lam)


def _jacobi(W, n, M, V, lam):
    r"""Cyclic Jacobi on ``W[M:]`` (overwritten): sweeps of rotations :math:`J^T A J`, until the off-diagonal
    part is below :math:`10^{-30}` of the diagonal's squared norm."""
    for i in range(n * n):
        W[V + i] = 0.0
    for i in range(n):
        W[V + i * n + i] = 1.0
    for _sweep in range(60):
        off, diag = 0.0, 0.0
        for p in range(n):
            diag += W[M + p * n + p] * W[M + p * n + p]
            for q in range(p + 1, n):
                off += W[M + p * n + q] * W[M + p * n + q]
        if not (off > 1e-30 * diag):
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                _rotate(W, n, M, V, p, q)
    for i in range(n):
        W[lam + i] = W[M + i * n + i]


def _rotate(W, n, M, V, p, q):
    """One Jacobi rotation zeroing ``M[p, q]`` (Golub & Van Loan, Algorithm 8.5.1), accumulated into V."""
    apq = W[M + p * n + q]
    if apq == 0.0:
        return
    theta = (W[M + q * n + q] - W[M + p * n + p]) / (2.0 * apq)
    t = 1.0 / (abs(theta) + math.sqrt(theta * theta + 1.0)) if abs(theta) < 1e150 else 0.5 / abs(theta)
    if theta < 0.0:
        t = -t
    c = 1.0 / math.sqrt(t * t + 1.0)
    s = t * c
    for k in range(n):
        akp, akq = W[M + k * n + p], W[M + k * n + q]
        W[M + k * n + p], W[M + k * n + q] = c * akp - s * akq, s * akp + c * akq
        vkp, vkq = W[V + k * n + p], W[V + k * n + q]
        W[V + k * n + p], W[V + k * n + q] = c * vkp - s * vkq, s * vkp + c * vkq
    for k in range(n):
        apk, aqk = W[M + p * n + k], W[M + q * n + k]
        W[M + p * n + k], W[M + q * n + k] = c * apk - s * aqk, s * apk + c * aqk
    W[M + p * n + q] = W[M + q * n + p] = 0.0


def _lu_solve(W, n, M, b, d):
    """Solve ``M d = b`` (``W[M:]``, ``W[b:]``, overwritten) by Gaussian elimination with partial pivoting.

    False, leaving ``d`` unset, when a pivot is exactly 0: where LAPACK's ``getrf`` reports a singular
    matrix and ``numpy.linalg.solve`` raises.
    """
    for k in range(n):
        p, best = k, abs(W[M + k * n + k])
        for r in range(k + 1, n):
            if abs(W[M + r * n + k]) > best:
                p, best = r, abs(W[M + r * n + k])
        if best == 0.0:
            return False
        if p != k:
            for j in range(n):
                W[M + k * n + j], W[M + p * n + j] = W[M + p * n + j], W[M + k * n + j]
            W[b + k], W[b + p] = W[b + p], W[b + k]
        for r in range(k + 1, n):
            m = W[M + r * n + k] / W[M + k * n + k]
            for j in range(k + 1, n):
                W[M + r * n + j] -= m * W[M + k * n + j]
            W[b + r] -= m * W[b + k]
    for r in range(n - 1, -1, -1):
        s = W[b + r]
        for j in range(r + 1, n):
            s -= W[M + r * n + j] * d[j]
        d[r] = s / W[M + r * n + r]
    return True
