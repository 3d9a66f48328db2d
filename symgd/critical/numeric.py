r"""Certified numeric route: every root of the gradient in a box, with evidence.

Branch and bound over boxes ``X``: a box is *excluded* when the interval enclosure of some
gradient component misses 0, and *certified* to hold exactly one root when the Krawczyk operator

.. math::

    K(X) = c - Y g(c) + (I - Y\,J(X))\,(X - c), \qquad c = \operatorname{mid} X,\;
    Y \approx \operatorname{mid} J(X)^{-1}

maps ``X`` into its interior (Krawczyk 1969; Moore, Kearfott & Cloud, *Introduction to Interval
Analysis*, SIAM 2009, §8.5). Boxes that are neither are contracted (``X ∩ K(X)``) and bisected;
boxes narrower than a minimum width are kept as *unresolved* (a singular Jacobian, e.g. the
degenerate root of ``f = x^4``, never certifies). The result is ``complete`` only when every part
of the box was excluded or certified before the deadline. Certified roots are polished to 50
digits with ``mpmath.findroot`` (multidimensional Newton) and returned as ``sp.Float(v, 50)``.

Interval arithmetic runs vectorized over all boxes of a generation (NumPy float64, outward
rounding by ``nextafter`` for ``+ - * /`` and a 4-ulp widening for library functions such as
``exp`` and ``sin``), evaluated from the SymPy tree by a small instruction list (no ``lambdify``).

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> sol = solve_box([sp.cos(x) + x / 5], [x], {x: (-10, 10)}, deadline=float("inf"))
>>> sol.complete, sol.exact, sol.method
(True, False, 'interval-newton')
>>> [sp.Float(p[x], 15) for p in sol.points]
[-1.30644000836951, 1.97738302932884, 3.83746710649905]
"""

from __future__ import annotations

import math
import time
from collections import deque

import mpmath
import numpy as np
import sympy as sp

from symgd.critical._interval import IntervalBackend, MpmathBackend, Program, down, up
from symgd.critical._types import RawSolution
from symgd.errors import InputError

__all__ = ["exclude_outside", "solve_box"]

_DIGITS = 50  # polished digits
_MIN_WIDTH = 1e-9  # relative to the box's scale: narrower undecided boxes are "unresolved"
_INFLATE_BELOW = 1e-3  # relative width under which an undecided box also tries epsilon-inflation
_SPLIT = 0.5 - 2.0**-7  # off-centre bisection, so roots at 0 or at the box centre rarely sit on a face
_CHUNK = 4096  # boxes evaluated per vectorized pass
_MAX_UNRESOLVED = 512  # stop refining once this many boxes are stuck (a curve of roots, say)
_MAX_CLUSTER_NOTES = 5
_OUTSIDE_DEPTH = 30  # bisection rounds for the pieces outside the box (exclude_outside)
_OUTSIDE_MAX_BOXES = 100_000


def solve_box(equations, variables, box, *, deadline: float) -> RawSolution:
    """All real roots of ``equations`` (the gradient) inside ``box``, certified by interval Newton.

    Parameters
    ----------
    equations : sequence of sympy.Expr
        ``g_i(x) = 0``, one per variable (the gradient components).
    variables : sequence of sympy.Symbol
    box : dict
        ``{Symbol: (lo, hi)}`` with finite ``lo < hi`` for every variable.
    deadline : float
        ``time.monotonic()`` value after which the search stops (the result is then incomplete).

    Returns
    -------
    RawSolution
        ``exact=False``; ``complete=True`` only when all of the box was excluded or certified.
    """
    variables = tuple(variables)
    equations = list(equations)
    if len(equations) != len(variables):
        raise InputError(f"{len(equations)} equations for {len(variables)} variables")
    lo, hi = _box_bounds(box, variables)
    jac = [sp.diff(e, v) for e in equations for v in variables]
    try:
        prog_g, prog_all = Program(equations, variables), Program(equations + jac, variables)
    except NotImplementedError as exc:
        return RawSolution([], [], False, False, "interval-newton",
                           [f"numeric search impossible: {exc}; no point of the box was decided"])
    search = _Search(prog_g, prog_all, lo, hi, deadline)
    search.run()
    return _assemble(search, equations, jac, variables)


def exclude_outside(equations, variables, box, *, deadline: float) -> bool:
    """True when interval arithmetic proves that no root lies *outside* ``box``.

    Then a complete :func:`solve_box` answer is complete on all of R^n. The complement of the box
    is cut into slabs growing geometrically away from it (``hi + w, hi + 3w, ... , +inf``); finite
    pieces may be bisected a few times, half-infinite ones must be excluded at once (e.g.
    ``cos x + x/5`` on ``[1270, inf)`` lies in ``[253, inf)``). False when a piece stays undecided,
    when a function has no interval form, or at the deadline.

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> exclude_outside([sp.cos(x) + x / 5], [x], {x: (-10, 10)}, deadline=float("inf"))
    True
    >>> exclude_outside([sp.cos(x)], [x], {x: (-10, 10)}, deadline=float("inf"))
    False
    """
    variables = tuple(variables)
    lo, hi = _box_bounds(box, variables)
    try:
        prog = Program(list(equations), variables)
    except NotImplementedError:
        return False
    n = len(variables)
    steps = 6 if n <= 2 else 3
    segments = [_outer_segments(a, b, steps) for a, b in zip(lo, hi)]
    inside = tuple(steps + 1 for _ in range(n))  # index of the box's own segment in each coordinate
    combos = [c for c in np.ndindex(*(len(s) for s in segments)) if c != inside]
    plo = np.array([[segments[i][j][0] for i, j in enumerate(c)] for c in combos])
    phi = np.array([[segments[i][j][1] for i, j in enumerate(c)] for c in combos])
    plo, phi = _undecided(prog, plo, phi)
    for _ in range(_OUTSIDE_DEPTH):
        if not len(plo):
            return True
        if time.monotonic() > deadline or len(plo) > _OUTSIDE_MAX_BOXES:
            return False
        plo, phi = _best_split(prog, plo, phi)
        if plo is None:
            return False  # an undecided piece that is infinite in every direction cannot be split
    return not len(plo)


def _undecided(prog, lo, hi):
    """The boxes (rows of lo, hi) that the interval enclosure of g does not exclude."""
    B = IntervalBackend(len(lo))
    glo, ghi = _columns(prog.run(B, [(lo[:, i], hi[:, i]) for i in range(lo.shape[1])]), len(lo))
    keep = ~(B.empty | np.any((glo > 0) | (ghi < 0), axis=1))
    return lo[keep], hi[keep]


def _best_split(prog, lo, hi):
    """Bisect each box along the finite side whose halves are excluded most often; keep the rest."""
    N, n = lo.shape
    finite = np.isfinite(lo) & np.isfinite(hi)
    if not np.all(finite.any(axis=1)):
        return None, None
    score, halves = np.full((N, n), -1.0), []
    for i in range(n):
        mid = np.where(finite[:, i], lo[:, i] + _SPLIT * (hi[:, i] - lo[:, i]), 0.0)
        left_hi, right_lo = hi.copy(), lo.copy()
        left_hi[:, i], right_lo[:, i] = mid, mid
        both_lo, both_hi = np.concatenate([lo, right_lo]), np.concatenate([left_hi, hi])
        B = IntervalBackend(2 * N)
        glo, ghi = _columns(prog.run(B, [(both_lo[:, j], both_hi[:, j]) for j in range(n)]), 2 * N)
        out = B.empty | np.any((glo > 0) | (ghi < 0), axis=1)
        score[:, i] = np.where(finite[:, i], out[:N].astype(float) + out[N:] + 1e-3 * (hi[:, i] - lo[:, i])
                               / np.maximum(1.0, np.abs(hi[:, i]) + np.abs(lo[:, i])), -1.0)
        halves.append((both_lo, both_hi, out))
    axis = np.argmax(score, axis=1)
    keep_lo, keep_hi = [], []
    for i, (both_lo, both_hi, out) in enumerate(halves):
        rows = np.concatenate([axis == i, axis == i]) & ~out
        keep_lo.append(both_lo[rows])
        keep_hi.append(both_hi[rows])
    return np.concatenate(keep_lo), np.concatenate(keep_hi)


def _outer_segments(a, b, steps):
    """Segments covering R: ``steps`` growing ones on each side of [a, b], then [a, b] itself."""
    w = b - a
    right = [b + w * (2.0**k - 1) for k in range(steps + 1)]
    left = [a - w * (2.0**k - 1) for k in range(steps + 1)]
    cuts = [-np.inf] + left[::-1] + right + [np.inf]
    return list(zip(cuts[:-1], cuts[1:]))


def _box_bounds(box, variables):
    by_name = {str(k): v for k, v in dict(box).items()}
    lo, hi = [], []
    for v in variables:
        if v not in box and v.name not in by_name:
            raise InputError(f"the box gives no range for {v}")
        a, b = box[v] if v in box else by_name[v.name]
        a, b = float(a), float(b)
        if not (math.isfinite(a) and math.isfinite(b) and a < b):
            raise InputError(f"the box range for {v} must be finite with lo < hi, got ({a}, {b})")
        lo.append(a)
        hi.append(b)
    return np.array(lo), np.array(hi)


class _Search:
    """Breadth-first branch and bound; the queue holds (lo, hi) arrays of shape (N, n)."""

    def __init__(self, prog_g, prog_all, lo, hi, deadline):
        self.prog_g, self.prog_all, self.deadline = prog_g, prog_all, deadline
        self.n = lo.size
        self.lo0, self.hi0 = lo, hi
        scale = np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)))
        self.min_width, self.inflate_width = _MIN_WIDTH * scale, _INFLATE_BELOW * (hi - lo)
        self.queue = deque([(lo[None, :].copy(), hi[None, :].copy())])
        self.certified, self.unresolved = [], []
        self.boxes, self.timed_out = 0, False

    def run(self):
        while self.queue:
            if time.monotonic() > self.deadline:
                self.timed_out = True
                return
            if sum(len(u[0]) for u in self.unresolved) > _MAX_UNRESOLVED:
                return
            lo, hi = self.queue.popleft()
            if len(lo) > _CHUNK:
                self.queue.appendleft((lo[_CHUNK:], hi[_CHUNK:]))
                lo, hi = lo[:_CHUNK], hi[:_CHUNK]
            self.boxes += len(lo)
            self._process(lo, hi)

    def _process(self, lo, hi):
        verdict, klo, khi = krawczyk(self.prog_g, self.prog_all, lo, hi)
        self._keep_certified(verdict == 1, klo, khi)
        open_ = verdict == 0
        lo, hi = np.where(open_[:, None], klo, lo)[open_], np.where(open_[:, None], khi, hi)[open_]
        small = np.all(hi - lo < self.inflate_width, axis=1)
        if small.any():  # epsilon-inflation: certify a slightly larger box around X ∩ K(X)
            c, r = 0.5 * (lo[small] + hi[small]), 0.5 * (hi[small] - lo[small])
            r = 1.5 * r + 4 * self.min_width
            v2, zlo, zhi = krawczyk(self.prog_g, self.prog_all, down(c - r), up(c + r))
            self._keep_certified(v2 == 1, zlo, zhi)
            done = np.zeros(len(lo), bool)
            done[np.flatnonzero(small)[v2 == 1]] = True
            lo, hi = lo[~done], hi[~done]
        stuck = np.all(hi - lo < self.min_width, axis=1)
        if stuck.any():
            self.unresolved.append((lo[stuck], hi[stuck]))
        lo, hi = lo[~stuck], hi[~stuck]
        if len(lo):
            self.queue.append(_bisect(lo, hi, self.hi0 - self.lo0))

    def _keep_certified(self, mask, lo, hi):
        if mask.any():
            self.certified.extend(zip(lo[mask], hi[mask]))

    def undecided_fraction(self) -> float:
        total = float(np.prod(self.hi0 - self.lo0))
        left = [*self.queue, *self.unresolved]
        return sum(float(np.prod(h - l, axis=1).sum()) for l, h in left) / total


def _bisect(lo, hi, extent):
    """Split every box across its widest side (relative to the search box), off-centre."""
    axis = np.argmax((hi - lo) / extent, axis=1)
    rows = np.arange(len(lo))
    cut = lo[rows, axis] + _SPLIT * (hi[rows, axis] - lo[rows, axis])
    hi_left, lo_right = hi.copy(), lo.copy()
    hi_left[rows, axis] = cut
    lo_right[rows, axis] = cut
    return np.concatenate([lo, lo_right]), np.concatenate([hi_left, hi])


def krawczyk(prog_g, prog_all, lo, hi):
    """One vectorized exclusion + Krawczyk pass over boxes ``[lo, hi]`` of shape (N, n).

    Returns ``(verdict, klo, khi)``: verdict -1 no root in the box, 1 exactly one root in
    ``[klo, khi]`` (a sub-box), 0 undecided with ``[klo, khi] = X ∩ K(X)`` (or X itself).
    """
    N, n = lo.shape
    X = [(lo[:, i], hi[:, i]) for i in range(n)]
    Bg, B = IntervalBackend(N), IntervalBackend(N)
    glo, ghi = _columns(prog_g.run(Bg, X), N)  # exclusion uses g alone (J may be undefined where g is not)
    verdict = np.where(Bg.empty | np.any((glo > 0) | (ghi < 0), axis=1), -1, 0)
    alo, ahi = _columns(prog_all.run(B, X), N)
    Jlo, Jhi = alo[:, n:].reshape(N, n, n), ahi[:, n:].reshape(N, n, n)
    c = 0.5 * (lo + hi)
    Bc = IntervalBackend(N)
    gclo, gchi = _columns(prog_g.run(Bc, [(c[:, i], c[:, i]) for i in range(n)]), N)
    smooth = (~B.partial & ~Bc.partial & ~Bc.empty & np.all(np.isfinite(Jlo) & np.isfinite(Jhi), axis=(1, 2))
              & np.all(np.isfinite(gclo) & np.isfinite(gchi), axis=1) & (verdict == 0))
    klo, khi = lo.copy(), hi.copy()
    if smooth.any():
        s = np.flatnonzero(smooth)
        kc, kr = _krawczyk_mid_rad(c[s], lo[s], hi[s], Jlo[s], Jhi[s], gclo[s], gchi[s])
        kl, kh = down(kc - kr), up(kc + kr)
        inside = np.all((kl > lo[s]) & (kh < hi[s]), axis=1)
        apart = np.any((kh < lo[s]) | (kl > hi[s]), axis=1)
        verdict[s[inside]], verdict[s[apart]] = 1, -1
        klo[s], khi[s] = np.maximum(lo[s], kl), np.minimum(hi[s], kh)
    return verdict, klo, khi


def _columns(values, N):
    """Interval outputs (scalars for constant entries) as two (N, m) arrays of bounds."""
    lo = np.stack([np.broadcast_to(v[0], (N,)) for v in values], axis=1)
    return lo, np.stack([np.broadcast_to(v[1], (N,)) for v in values], axis=1)


def _krawczyk_mid_rad(c, lo, hi, Jlo, Jhi, gclo, gchi):
    """K(X) in midpoint-radius form, radii inflated for every float rounding (Rump's bounds)."""
    n, eps = c.shape[1], np.finfo(float).eps
    with np.errstate(all="ignore"):
        r = up(np.maximum(hi - c, c - lo))
        Jm = 0.5 * (Jlo + Jhi)
        Jr = up(np.maximum(Jhi - Jm, Jm - Jlo))
        Y = _inverse(Jm)
        aY = np.abs(Y)
        gm = 0.5 * (gclo + gchi)
        gr = up(np.maximum(gchi - gm, gm - gclo))
        Mm = np.eye(n) - Y @ Jm
        Mr = aY @ Jr + (n + 2) * eps * (aY @ np.abs(Jm) + 1.0)
        Yg = np.einsum("bij,bj->bi", Y, gm)
        kc = c - Yg
        kr = (np.einsum("bij,bj->bi", aY, gr) + np.einsum("bij,bj->bi", np.abs(Mm) + Mr, r)
              + (n + 3) * eps * (np.abs(c) + np.einsum("bij,bj->bi", aY, np.abs(gm)) + np.abs(kc)))
        kr = up(kr * (1 + 8 * n * eps) + 1e-300)
    kr[~np.isfinite(kr) | ~np.isfinite(kc)] = np.inf
    kc[~np.isfinite(kc)] = 0.0
    return kc, kr


def _inverse(Jm):
    """Batched approximate inverse; singular or non-finite rows get Y = 0 (the test then fails)."""
    Y = np.zeros_like(Jm)
    ok = np.all(np.isfinite(Jm), axis=(1, 2))
    try:
        Y[ok] = np.linalg.inv(Jm[ok])
    except np.linalg.LinAlgError:
        for i in np.flatnonzero(ok):
            try:
                Y[i] = np.linalg.inv(Jm[i])
            except np.linalg.LinAlgError:
                pass
    Y[~np.all(np.isfinite(Y), axis=(1, 2))] = 0.0
    return Y


def _assemble(search, equations, jac, variables) -> RawSolution:
    prog = Program(list(equations) + jac, variables)
    roots, late = _polish_all(prog, search.certified, len(variables), search.deadline)
    slack = 1e-40 * np.maximum(1.0, np.maximum(np.abs(search.lo0), np.abs(search.hi0)))
    roots = [r for r in roots  # an inflated box may certify a root just outside the search box
             if all(a - e <= t <= b + e for t, a, b, e in zip(r, search.lo0, search.hi0, slack))]
    points = [{v: sp.Float(x, _DIGITS) for v, x in zip(variables, r)} for r in roots]
    extent = ", ".join(f"{v} in [{a:.15g}, {b:.15g}]" for v, a, b in zip(variables, search.lo0, search.hi0))
    notes = [f"searched {extent}: {len(points)} root(s) certified unique by the Krawczyk test "
             f"({search.boxes} boxes), polished to {_DIGITS} digits"]
    if late:
        notes.append(f"deadline reached while polishing: {late} root(s) are only accurate to about "
                     "the width of their certified box (~1e-12)")
    undecided = search.undecided_fraction()
    complete = not search.queue and not search.unresolved
    if search.timed_out:
        notes.append(f"deadline reached: {undecided:.3g} of the box volume is undecided")
    elif not complete:
        notes.append(f"{undecided:.3g} of the box volume is undecided")
    for lo, hi in _clusters(search.unresolved)[:_MAX_CLUSTER_NOTES]:
        notes.extend(_describe_cluster(prog, lo, hi, equations, variables, points))
    return RawSolution(points, [], complete, False, "interval-newton", notes)


def _polish_all(prog, boxes, n, deadline):
    """Newton-polish each certified box's root; boxes found twice (inflation) give one root."""
    roots, late = [], 0
    for lo, hi in boxes:
        if time.monotonic() > deadline:
            r, late = [mpmath.mpf(float(t)) for t in 0.5 * (lo + hi)], late + 1
        else:
            r = _polish(prog, n, 0.5 * (lo + hi), lo, hi) or [mpmath.mpf(float(t)) for t in 0.5 * (lo + hi)]
        tol = mpmath.mpf(10) ** (-_DIGITS + 10) * (1 + max(abs(t) for t in r))
        if not any(max(abs(a - b) for a, b in zip(r, q)) < tol for q in roots):
            roots.append(r)
    return sorted(roots, key=lambda r: tuple(float(t) for t in r)), late


def _polish(prog, n, x0, lo, hi):
    """50-digit Newton (``mpmath.findroot``, mdnewton) from ``x0``; None unless it stays in [lo, hi]."""
    with mpmath.mp.workdps(_DIGITS + 15):
        B = MpmathBackend()

        def F(*xs):
            return prog.run(B, list(xs), outputs=slice(0, n))

        def J(*xs):
            vals = prog.run(B, list(xs), outputs=slice(n, None))
            return [vals[i * n:(i + 1) * n] for i in range(n)]

        try:
            r = mpmath.findroot(F, [mpmath.mpf(float(t)) for t in x0], J=J, solver="mdnewton",
                                verify=False, maxsteps=80, tol=mpmath.mpf(10) ** (-2 * _DIGITS))
            r = [r[i] for i in range(n)]
            residual = max(abs(v) for v in F(*r))
        except (ZeroDivisionError, ValueError, TypeError, ArithmeticError):
            return None
        slack = [1e-9 * float(b - a) for a, b in zip(lo, hi)]
        inside = all(a - w <= t <= b + w for t, a, b, w in zip(r, lo, hi, slack))
        return [+t for t in r] if inside and residual < mpmath.mpf(10) ** -(_DIGITS - 10) else None


def _clusters(unresolved):
    """Group the unresolved boxes into connected clusters (touching boxes); hulls, largest first."""
    if not unresolved:
        return []
    lo = np.concatenate([u[0] for u in unresolved])
    hi = np.concatenate([u[1] for u in unresolved])
    touch = np.all((lo[:, None, :] <= hi[None, :, :]) & (lo[None, :, :] <= hi[:, None, :]), axis=2)
    label = np.arange(len(lo))
    for _ in range(len(lo)):  # label propagation to the smallest index in each component
        new = np.min(np.where(touch, label[None, :], len(lo)), axis=1)
        if np.array_equal(new, label):
            break
        label = new
    groups = [np.flatnonzero(label == g) for g in np.unique(label)]
    groups.sort(key=len, reverse=True)
    return [(lo[g].min(axis=0), hi[g].max(axis=0)) for g in groups]


def _describe_cluster(prog, lo, hi, equations, variables, points):
    """Why a cluster stayed undecided, and the root inside it when one can be shown."""
    n = len(variables)
    B = IntervalBackend(1)
    glo, ghi = _columns(prog.run(B, [(lo[i:i + 1], hi[i:i + 1]) for i in range(n)]), 1)
    singular = bool(B.partial[0]) or not np.all(np.isfinite(glo[0, :n]) & np.isfinite(ghi[0, :n]))
    where = ", ".join(f"{v} in [{a:.6g}, {b:.6g}]" for v, a, b in zip(variables, lo, hi))
    why = ("the gradient is undefined or unbounded there" if singular
           else "singular Jacobian: a degenerate root, a curve of roots, or a near-miss")
    notes = [f"undecided region {where}: neither excluded nor certified ({why})"]
    if singular or np.any(hi - lo > 1e-4 * np.maximum(1.0, np.abs(lo))):
        return notes  # a spread-out region (a curve?) is not an isolated root
    exact = _exact_candidate(equations, variables, lo, hi)
    root = exact or _polish(prog, n, 0.5 * (lo + hi), lo, hi)
    if root is None:
        return notes
    values = [exact[v] for v in variables] if exact else root
    points.append({v: sp.Float(t, _DIGITS) for v, t in zip(variables, values)})
    shown = ", ".join(f"{v} = {t if exact else sp.Float(t, 15)}" for v, t in zip(variables, values))
    how = "checked exactly" if exact else f"residual below 1e-{_DIGITS - 10}"
    notes.append(f"{shown} is a root there ({how}), but not certified to be the only one")
    return notes


def _exact_candidate(equations, variables, lo, hi):
    """A simple rational point inside [lo, hi] at which every equation is exactly zero, if any."""
    point = {}
    for v, a, b in zip(variables, lo, hi):
        q = sp.Rational(float(0.5 * (a + b))).limit_denominator(1000)
        if not a <= float(q) <= b:
            return None
        point[v] = q
    return point if all(e.xreplace(point) == 0 for e in equations) else None
