r"""Zero-dimensional systems: Groebner basis, quotient algebra, rational univariate representation.

For a zero-dimensional ideal :math:`I \subset \mathbb{Q}[x_1, \dots, x_n]` with grevlex Groebner basis
G, the algebra :math:`A = \mathbb{Q}[x]/I` has the standard monomials B (those divisible by no leading
monomial of G) as a basis, D = |B| (the number of complex solutions with multiplicity), and
multiplication by :math:`x_k` is a D x D matrix :math:`M_k`. For a linear form
:math:`u = \sum_k c_k x_k`:

.. math::

    1, u, \dots, u^{D-1} \text{ independent in } A
    \iff A = \mathbb{Q}[u] \cong \mathbb{Q}[T]/\chi(T),
    \qquad x_k = q_k(u), \ \deg q_k < D,

the *rational univariate representation* (RUR): :math:`\chi` is the minimal polynomial of u, every
solution is :math:`(q_1(t), \dots, q_n(t))` for a root t of :math:`\chi`, and since u has rational
coefficients the **real** solutions are exactly those with t real. No radicality is needed: when the
Krylov sequence of u has full rank D, u separates the solutions.

If no u has full rank (multiple solutions, e.g. the gradient :math:`4x^3, 4y^3` of :math:`x^4 + y^4`),
the ideal is replaced by its radical :math:`I + (\mathrm{sqf}\,P_1(x_1), \dots, \mathrm{sqf}\,P_n(x_n))`
(Seidenberg), where :math:`P_k` generates :math:`I \cap \mathbb{Q}[x_k]`; then a generic u separates.

>>> from sympy.polys.rings import ring
>>> from sympy.polys.domains import QQ
>>> from sympy.polys.orderings import grevlex
>>> R, x, y = ring("x, y", QQ, grevlex)
>>> rur = univariate_representation([x**2 - 2, y - x], R, deadline=float("inf"))
>>> rur.chi, rur.coords
(Poly(T**2 - 2, T, domain='QQ'), [Poly(T, T, domain='QQ'), Poly(T, T, domain='QQ')])
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.groebnertools import groebner as _groebner

from symgd.critical._poly_linalg import check_deadline, first_dependency
from symgd.errors import BudgetError

__all__ = ["NotZeroDimensional", "Rur", "T", "groebner_basis", "is_zero_dimensional",
           "univariate_representation"]

T = sp.Symbol("T")  # the variable of eliminants (a plain Symbol: it pickles and prints stably)
MAX_DIMENSION = 600  # quotient dimensions beyond this are out of reach of exact pure-Python algebra


class NotZeroDimensional(Exception):
    """The system has infinitely many complex solutions."""


@dataclass
class Rur:
    """Solutions ``(coords[0](t), ..., coords[n-1](t))`` for the roots t of ``chi`` (Polys in T over QQ)."""

    chi: sp.Poly
    coords: list
    dimension: int  # D, the dimension of the quotient algebra (complex solutions with multiplicity)
    algebra: object = None  # the quotient algebra, for minimal polynomials of other polynomials
    form: tuple = ()  # the separating linear form u = sum(form[k] * x_k)
    deadline: float = float("inf")

    def component_minpoly(self, f: sp.Poly, g) -> sp.Poly:
        """The minimal polynomial of g (a ring element) at the solutions where chi's factor f vanishes.

        In A = Q[u] = Q[T]/chi the element e = (chi/f)(u) generates the component Q[T]/f, a field;
        the first linear dependency among e, g e, g^2 e, ... (multiplication by g in the standard
        monomial basis, whose entries stay small) is the minimal polynomial of g there: irreducible,
        and no univariate factorization is needed.
        """
        Q = self.algebra
        cofactor = self.chi.quo(f)
        u = Q.linear_form(self.form)
        e = [QQ(0)] * Q.D
        one = Q.dense(Q.R.one)
        for c in cofactor.rep.to_list():  # Horner: e = cofactor(u) * 1
            e = [a + c * b for a, b in zip(Q.apply(u, e), one)]

        def sequence():
            v = e
            while True:
                yield v
                v = Q.times(g, v)

        dep = first_dependency(sequence(), deadline=self.deadline, limit=f.degree())
        return _poly([-c for c in dep.coefficients] + [QQ(1)])


def groebner_basis(polys: list, R) -> list:
    """Reduced Groebner basis (in ``R``'s order) of ring elements; ``[]`` for the zero ideal."""
    polys = [p for p in polys if p]
    if not polys:
        return []
    return _groebner(polys, R, method="f5b")


def is_zero_dimensional(G: list, n: int) -> bool:
    """Each variable has a pure power among the leading monomials (finitely many complex solutions)."""
    pure = set()
    for g in G:
        m = g.LM
        nz = [i for i, e in enumerate(m) if e]
        if len(nz) == 1:
            pure.add(nz[0])
        elif not nz:  # G = [1]: no solutions at all
            return True
    return len(pure) == n


def _divisible(m, lms) -> bool:
    return any(all(a >= b for a, b in zip(m, lm)) for lm in lms)


def _normal_set(G: list, n: int, deadline: float) -> list:
    """Standard monomials (exponent tuples), by breadth-first search from 1."""
    lms = [g.LM for g in G]
    if any(not any(m) for m in lms):
        return []
    start = (0,) * n
    out, seen, i = [start], {start}, 0
    while i < len(out):
        if i % 64 == 0:
            check_deadline(deadline)
        m = out[i]
        i += 1
        for k in range(n):
            m2 = m[:k] + (m[k] + 1,) + m[k + 1:]
            if m2 not in seen and not _divisible(m2, lms):
                seen.add(m2)
                out.append(m2)
                if len(out) > MAX_DIMENSION:
                    raise BudgetError(f"the system has more than {MAX_DIMENSION} complex solutions")
    return out


class _Quotient:
    """The algebra Q[x]/I: standard monomials, normal forms and multiplication maps (sparse columns)."""

    def __init__(self, R, G: list, deadline: float):
        self.R, self.G, self.n, self.deadline = R, G, R.ngens, deadline
        self.basis = _normal_set(G, self.n, deadline)
        self.index = {m: i for i, m in enumerate(self.basis)}
        self.D = len(self.basis)
        self._mult: dict = {}
        self._nf: dict = {}
        self._lead = {g.LM: g for g in G}

    def coords(self, f) -> dict:
        """Coordinates of the normal form of ``f`` in the standard monomials: {row: QQ}."""
        out: dict = {}
        for m, c in f.items():
            for i, a in self.monomial(m).items():
                out[i] = out.get(i, QQ(0)) + c * a
        return {i: a for i, a in out.items() if a}

    def monomial(self, m: tuple) -> dict:
        """Normal form of the monomial ``m`` without polynomial division (FGLM-style border recursion).

        A standard monomial is itself; the leading monomial of a basis element g is minus the tail of
        g / LC(g) (in a reduced basis the tail is standard); otherwise m = x_j * m' with m' still
        reducible, and NF(m) = sum c_b NF(x_j * b) over NF(m') = sum c_b b, where every x_j * b is
        smaller than m in the monomial order, so the recursion terminates.
        """
        if m in self.index:
            return {self.index[m]: QQ(1)}
        memo = self._nf
        if m in memo:
            return memo[m]
        for lm, g in self._lead.items():
            if all(a >= b for a, b in zip(m, lm)):
                break
        else:  # pragma: no cover - m is not standard, so some leading monomial divides it
            raise AssertionError(m)
        if m == lm:
            lc = g.LC
            out = {self.index[t]: -c / lc for t, c in g.items() if t != lm}
        else:
            j = next(k for k, (a, b) in enumerate(zip(m, lm)) if a > b)
            out = {}
            for i, c in self.monomial(m[:j] + (m[j] - 1,) + m[j + 1:]).items():
                b = self.basis[i]
                for r, a in self.monomial(b[:j] + (b[j] + 1,) + b[j + 1:]).items():
                    out[r] = out.get(r, QQ(0)) + c * a
            out = {r: a for r, a in out.items() if a}
        memo[m] = out
        return out

    def dense(self, f) -> list:
        """The coordinate vector of ``f`` as a dense list of QQ."""
        v = [QQ(0)] * self.D
        for i, c in self.coords(f).items():
            v[i] = c
        return v

    def mult(self, k: int) -> list:
        """Columns of multiplication by ``x_k``."""
        if k not in self._mult:
            cols = []
            for m in self.basis:
                check_deadline(self.deadline)
                cols.append(self.coords(self.R({m[:k] + (m[k] + 1,) + m[k + 1:]: QQ(1)})))
            self._mult[k] = cols
        return self._mult[k]

    def linear_form(self, c: tuple) -> list:
        """Columns of multiplication by ``sum(c[k] * x_k)``."""
        if c in self._mult:
            return self._mult[c]
        cols = [dict() for _ in range(self.D)]
        for k, ck in enumerate(c):
            if ck:
                for j, col in enumerate(self.mult(k)):
                    out = cols[j]
                    for i, a in col.items():
                        out[i] = out.get(i, QQ(0)) + QQ(ck) * a
        self._mult[c] = cols
        return cols

    def apply(self, cols: list, v: list) -> list:
        """The image of the vector ``v`` under the map with sparse columns ``cols``."""
        w = [QQ(0)] * self.D
        for j, vj in enumerate(v):
            if vj:
                for i, a in cols[j].items():
                    w[i] += a * vj
        return w

    def times(self, g, v: list) -> list:
        """The coordinates of g * (the element with coordinates v), for a polynomial g."""
        out = [QQ(0)] * self.D
        for monom, c in g.terms():
            w = v
            for k, e in enumerate(monom):
                for _ in range(e):
                    w = self.apply(self.mult(k), w)
            out = [a + c * b for a, b in zip(out, w)]
        return out

    def krylov(self, cols: list):
        """Coordinate vectors of 1, u, u^2, ... for the map with columns ``cols`` (a generator)."""
        v = self.dense(self.R.one)
        while True:
            yield v
            v = self.apply(cols, v)

    def powers(self, g):
        """Coordinate vectors of 1, g, g^2, ... for a polynomial g (a generator)."""
        v = self.dense(self.R.one)
        while True:
            yield v
            v = self.times(g, v)


def _candidates(n: int):
    """Separating-element candidates: single variables, 1, 2, 4, ... (no signed subset sum vanishes),
    pairs, then seeded random small-integer forms."""
    for k in reversed(range(n)):
        yield tuple(int(i == k) for i in range(n))
    if n > 1:
        yield tuple(2**k for k in range(n))
    for a, b in itertools.combinations(range(n), 2):
        for c in (1, -2):
            yield tuple(1 if i == a else (c if i == b else 0) for i in range(n))
    rng = random.Random(n)
    while True:
        yield tuple(rng.choice((-1, 1)) * rng.randint(1, 9) for _ in range(n))


def _poly(coeffs_low_to_high: list) -> sp.Poly:
    return sp.Poly.from_list(list(reversed(coeffs_low_to_high)), T, domain=QQ)


def _eliminant(Q: _Quotient, k: int, deadline: float) -> sp.Poly:
    """The monic generator of I ∩ Q[x_k] (minimal polynomial of x_k in A)."""
    dep = first_dependency(Q.krylov(Q.mult(k)), deadline=deadline, limit=Q.D)
    return _poly([-c for c in dep.coefficients] + [QQ(1)])


def _radical(R, G: list, deadline: float) -> list:
    """Groebner basis of the radical of a zero-dimensional ideal (Seidenberg's lemma)."""
    Q = _Quotient(R, G, deadline)
    extra = []
    for k, x in enumerate(R.gens):
        P = _eliminant(Q, k, deadline)
        S = P.sqf_part()
        if S.degree() < P.degree():
            extra.append(R.from_dict({(0,) * k + (e,) + (0,) * (R.ngens - k - 1): c
                                      for (e,), c in S.rep.to_dict().items()}))
    return groebner_basis(G + extra, R) if extra else G


def _try_separate(Q: _Quotient, deadline: float, tries: int):
    """A linear form whose powers span A, with the coordinates of every x_k in those powers."""
    targets = tuple(Q.dense(x) for x in Q.R.gens)
    for c in itertools.islice(_candidates(Q.n), tries):
        check_deadline(deadline)
        dep = first_dependency(Q.krylov(Q.linear_form(c)), deadline=deadline, limit=Q.D,
                               min_degree=Q.D, targets=targets)
        if dep is not None:
            return c, dep
    return None, None


def univariate_representation(polys: list, R, *, deadline: float) -> Rur | None:
    """The RUR of the system ``polys`` (elements of ``R`` over QQ, grevlex); None if it has no solution.

    Raises
    ------
    NotZeroDimensional
        When the complex solution set is infinite.
    BudgetError
        When ``deadline`` passes, or the quotient is too large.
    """
    G = groebner_basis(polys, R)
    if not G:
        raise NotZeroDimensional
    if not is_zero_dimensional(G, R.ngens):
        raise NotZeroDimensional
    if any(g.is_ground for g in G):
        return None
    check_deadline(deadline)
    Q = _Quotient(R, G, deadline)
    c, dep = _try_separate(Q, deadline, tries=R.ngens + 1)
    if dep is None:
        G = _radical(R, G, deadline)
        Q = _Quotient(R, G, deadline)
        c, dep = _try_separate(Q, deadline, tries=60)
        if dep is None:  # pragma: no cover - a radical ideal has separating forms among 60 generic ones
            raise BudgetError("no separating linear form found")
    chi = _poly([-a for a in dep.coefficients] + [QQ(1)])
    return Rur(chi, [_poly(s) for s in dep.extra], Q.D, Q, c, deadline)
