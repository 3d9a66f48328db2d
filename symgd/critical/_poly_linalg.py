"""Exact linear algebra over QQ guided by one prime: first linear dependencies of vector sequences.

The polynomial route needs, again and again, the first vector ``w_e`` of a sequence ``w_0, w_1, ...``
that is a rational combination of the ones before it (a Krylov sequence ``w_k = M^k v``, or the powers
of an element of a number field), together with the coefficients. Gaussian elimination over QQ on such
sequences is slow in pure Python (the entries have hundreds of digits), so:

1. eliminate modulo a large prime p to find ``e`` and ``e`` *pivot rows* where the first ``e`` vectors
   are independent mod p, hence independent over QQ (a nonzero minor mod p is a nonzero minor);
2. solve the ``e x e`` system on those rows exactly over QQ (p-adic Dixon lifting, checked exactly);
3. check the solution on *all* rows exactly. Only an unlucky prime can make the check fail, and then the
   next prime is tried: the answer never rests on the modular computation.

>>> from sympy.polys.domains import QQ
>>> seq = [[QQ(1), QQ(0)], [QQ(1), QQ(2)], [QQ(3), QQ(4)]]
>>> dep = first_dependency(seq, deadline=float("inf"))
>>> [int(c) for c in dep.coefficients]  # w_2 = 1*w_0 + 2*w_1
[1, 2]
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator

from sympy.polys.domains import QQ

from symgd.errors import BudgetError

__all__ = ["PRIMES", "Dependency", "check_deadline", "first_dependency", "solve_on_rows"]

# Primes just below 2**62 (checked by sympy.isprime in the tests): reductions of rationals stay ints.
PRIMES = (4611686018427387847, 4611686018427387817, 4611686018427387787, 4611686018427387733)


def check_deadline(deadline: float, what: str = "the polynomial route") -> None:
    """Raise :class:`~symgd.errors.BudgetError` once ``time.monotonic()`` has passed ``deadline``."""
    if time.monotonic() > deadline:
        raise BudgetError(f"{what} ran out of time")


class _BadPrime(Exception):
    """p divides a denominator: the reduction mod p is undefined."""


def _mod(c, p: int) -> int:
    den = c.denominator % p
    if den == 0:
        raise _BadPrime
    return c.numerator * pow(den, -1, p) % p


class Dependency:
    """``vectors[e] = sum(coefficients[j] * vectors[j] for j < e)``; ``rows`` make ``vectors[:e]`` regular."""

    def __init__(self, vectors: list, coefficients: list, rows: list, extra: list):
        self.vectors = vectors
        self.coefficients = coefficients
        self.rows = rows
        self.extra = extra  # the coordinates of the extra targets in vectors[:e]

    @property
    def degree(self) -> int:
        """The index e of the first dependent vector."""
        return len(self.coefficients)


def _echelon_step(basis: list, w: list, p: int) -> int | None:
    """Reduce ``w`` (mod p, in place) by ``basis`` [(pivot, vector)]; append it; its pivot or None."""
    for piv, b in basis:
        c = w[piv]
        if c:
            for i, bi in enumerate(b):
                if bi:
                    w[i] = (w[i] - c * bi) % p
    piv = next((i for i, c in enumerate(w) if c), None)
    if piv is not None:
        inv = pow(w[piv], -1, p)
        basis.append((piv, [c * inv % p for c in w]))
    return piv


def _inverse_mod(A: list, p: int) -> list | None:
    """The inverse of the square integer matrix ``A`` modulo p (Gauss-Jordan), None if singular mod p."""
    n = len(A)
    M = [[a % p for a in row] + [int(i == j) for j in range(n)] for i, row in enumerate(A)]
    for col in range(n):
        piv = next((r for r in range(col, n) if M[r][col]), None)
        if piv is None:
            return None
        M[col], M[piv] = M[piv], M[col]
        inv = pow(M[col][col], -1, p)
        prow = [a * inv % p for a in M[col]]
        M[col] = prow
        for r in range(n):
            c = M[r][col]
            if r != col and c:
                M[r] = [(a - c * b) % p for a, b in zip(M[r], prow)]
    return [row[n:] for row in M]


def _reconstruct(a: int, m: int) -> tuple[int, int] | None:
    """(u, v) with u = a*v mod m, |u|, v <= sqrt(m/2) (rational reconstruction), or None."""
    bound = math.isqrt(m // 2)
    r0, r1, t0, t1 = m, a % m, 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1, t0, t1 = r1, r0 - q * r1, t1, t0 - q * t1
    if t1 == 0 or abs(t1) > bound or math.gcd(r1, abs(t1)) != 1:
        return None
    return (r1, t1) if t1 > 0 else (-r1, -t1)


def _rational_solution(X: list, m: int) -> tuple[list, int] | None:
    """Integer numerators and a common denominator from residues mod m, or None if not yet possible."""
    den, half = 1, m // 2
    for row in X:
        for a in row:
            b = a * den % m
            if b > half:
                b -= m
            if b * b * 2 > m:  # not small: find the missing denominator factor
                uv = _reconstruct(b, m)
                if uv is None:
                    return None
                den *= uv[1]
    nums = []
    for row in X:
        out = []
        for a in row:
            b = a * den % m
            out.append(b - m if b > half else b)
        nums.append(out)
    return nums, den


def _dixon(A: list, B: list, p: int, deadline: float) -> list | None:
    """Exact rational solution X of ``A X = B`` (integer matrices) by p-adic lifting, None if A is singular
    mod p. Each lifting step costs O(n^2) small products; the result is checked exactly."""
    C = _inverse_mod(A, p)
    if C is None:
        return None
    n, k = len(A), len(B[0])
    r = [row[:] for row in B]
    X = [[0] * k for _ in range(n)]
    pk, steps, next_try = 1, 0, 2
    while True:
        check_deadline(deadline)
        rp = [[v % p for v in row] for row in r]
        Y = [[sum(cij * rp[j][c] for j, cij in enumerate(Ci) if cij) % p for c in range(k)] for Ci in C]
        for i in range(n):
            Xi, Yi = X[i], Y[i]
            for c in range(k):
                Xi[c] += Yi[c] * pk
        r = [[(ri[c] - sum(a * Y[j][c] for j, a in enumerate(Ai) if a)) // p for c in range(k)]
             for ri, Ai in zip(r, A)]
        pk *= p
        steps += 1
        if steps < next_try:
            continue
        next_try = steps + max(2, steps // 4)
        sol = _rational_solution(X, pk)
        if sol is None:
            continue
        nums, den = sol
        if all(sum(a * nums[j][c] for j, a in enumerate(Ai) if a) == den * Bi[c]
               for Ai, Bi in zip(A, B) for c in range(k)):
            return [[QQ(nums[j][c], den) for j in range(n)] for c in range(k)]


def solve_on_rows(vectors: list, rows: list, targets: list, *, deadline: float = math.inf) -> list:
    """Exact coefficients ``a`` with ``sum(a[j] * vectors[j]) = t`` on ``rows``, for each target t.

    The square system is scaled row by row to integers and solved by p-adic (Dixon) lifting: one
    inverse modulo a prime, then cheap lifting steps and rational reconstruction, checked exactly.
    Rational LU on entries with hundreds of digits is far slower in pure Python.
    """
    e = len(vectors)
    if e == 0:
        return [[] for _ in targets]
    A, B = [], []
    for r in rows:
        row = [vectors[j][r] for j in range(e)] + [t[r] for t in targets]
        scale = math.lcm(*(c.denominator for c in row))
        ints = [c.numerator * (scale // c.denominator) for c in row]
        A.append(ints[:e])
        B.append(ints[e:])
    for p in PRIMES:
        sol = _dixon(A, B, p, deadline)
        if sol is not None:
            return sol
    raise BudgetError("the linear system is singular modulo every prime tried")  # pragma: no cover


def _holds(vectors: list, coeffs: list, target: list, rows: list) -> bool:
    for i in rows:
        if sum((c * v[i] for c, v in zip(coeffs, vectors) if v[i]), QQ(0)) != target[i]:
            return False
    return True


def first_dependency(sequence: Iterable[list], *, deadline: float, limit: int | None = None,
                     min_degree: int = 0, targets: tuple = ()) -> Dependency | None:
    """The first vector of ``sequence`` that depends linearly (over QQ) on the ones before it.

    Parameters
    ----------
    sequence : iterable of list of QQ
        Vectors of one length D, produced lazily (at most D + 1 are consumed).
    deadline : float
        ``time.monotonic()`` value after which :class:`~symgd.errors.BudgetError` is raised.
    limit : int, optional
        Stop (BudgetError) if no dependency shows up among the first ``limit`` vectors.
    min_degree : int
        Return None, without exact work, when the first dependency (mod p) comes before this index.
    targets : tuple of list of QQ
        Vectors to express in the first e vectors as well (``Dependency.extra``); each is checked exactly.
    """
    cache: list = []
    it: Iterator = iter(sequence)

    def vector(k: int) -> list:
        while len(cache) <= k:
            cache.append(next(it))
        return cache[k]

    for p in PRIMES:
        basis: list = []
        try:
            k = 0
            while True:
                check_deadline(deadline)
                if limit is not None and k > limit:
                    raise BudgetError("no linear dependency within the size limit")
                w = [_mod(c, p) for c in vector(k)]
                if _echelon_step(basis, w, p) is None:
                    break
                k += 1
        except _BadPrime:
            continue
        if k < min_degree:
            return None
        rows = sorted(piv for piv, _ in basis)
        vecs = cache[:k]
        coeffs, *extra = solve_on_rows(vecs, rows, [cache[k], *targets], deadline=deadline)
        others = sorted(set(range(len(cache[k]))) - set(rows))  # the solve is exact on ``rows``
        if all(_holds(vecs, a, t, others) for a, t in zip([coeffs, *extra], [cache[k], *targets])):
            return Dependency(cache, coeffs, rows, extra)
    raise BudgetError("exact linear algebra failed for every prime tried")  # pragma: no cover
