r"""Real points of a rational univariate representation, as exact SymPy numbers.

An :class:`AlgPoints` is the set of real points :math:`(h_v(t))_v` for the real roots t of one
irreducible polynomial f over QQ (one Galois-conjugacy class of solutions, restricted to the reals).
Exact questions about it are answered in :math:`\mathbb{Q}[T]/f`: a polynomial vanishes at one of
these points iff it vanishes at all of them iff its value reduces to 0 modulo f.

Each coordinate becomes its own exact number: a Rational, a square-root expression (degree 2), or
``CRootOf(m, j)`` where m is the minimal polynomial of :math:`h_v(t)` (computed by linear algebra in
:math:`\mathbb{Q}[T]/f`). The index j is found by rigorous rational interval arithmetic: the isolating
interval of t is refined until the enclosure of :math:`h_v(t)` meets exactly one isolating interval of
the real roots of m. No floating-point number decides anything.

>>> import sympy as sp
>>> from symgd.critical._poly_rur import T
>>> x = sp.Symbol("x", real=True)
>>> pts = AlgPoints(sp.Poly(T**2 - 2, T), {x: sp.Poly(T + 1, T)})
>>> [p[x] for p in pts.exact(deadline=float("inf"))]
[1 - sqrt(2), 1 + sqrt(2)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
import math

import sympy as sp
from sympy.polys.domains import QQ

from symgd.critical._poly_linalg import check_deadline, first_dependency
from symgd.critical._poly_rur import T

__all__ = ["AlgPoints", "from_rur", "real_root_points"]


def _poly_T(p) -> sp.Poly:
    return sp.Poly(p, T, domain=QQ)


@dataclass
class AlgPoints:
    """The real points ``{v: coords[v](t)}`` for the real roots t of the irreducible ``f`` (Polys in T).

    ``source``, when given, maps a polynomial (a ring element in the solved variables, see ``exprs``)
    to its minimal polynomial at these points (``_poly_rur.Rur.component_minpoly``): much cheaper
    than linear algebra in Q[T]/f, whose entries grow fast.
    """

    f: sp.Poly
    coords: dict
    exprs: dict = field(default_factory=dict)
    source: Callable | None = None
    _isolating: list | None = None

    def isolating(self) -> list:
        """Rational isolating intervals of the real roots of f, in increasing order."""
        if self._isolating is None:
            self._isolating = [iv for iv, _ in self.f.intervals()]
        return self._isolating

    def evaluate(self, poly, gens: tuple) -> sp.Poly:
        """``poly`` (a ring element or Poly in ``gens``) at these points, as a Poly in T reduced mod f."""
        terms = poly.terms() if hasattr(poly, "terms") else poly.as_dict().items()
        cache: dict = {}
        total = _poly_T(0)
        for monom, c in terms:
            term = _poly_T(QQ.convert(c))
            for v, e in zip(gens, monom):
                if e:
                    key = (v, e)
                    if key not in cache:
                        cache[key] = self.coords[v].pow(e).rem(self.f) if e > 1 else self.coords[v]
                    term = (term * cache[key]).rem(self.f)
            total += term
        return total.rem(self.f)

    def vanish(self, polys, gens: tuple) -> bool:
        """Whether every polynomial in ``polys`` is zero at these points (exactly)."""
        return all(self.evaluate(p, gens).is_zero for p in polys)

    def with_coordinate(self, v, poly, gens: tuple) -> AlgPoints:
        """A copy with the coordinate ``v = poly(other coordinates)`` added (``poly`` a ring element)."""
        exprs = dict(self.exprs)
        used = [w for w, e in zip(gens, poly.degrees()) if e]
        if self.source is not None and all(w in exprs for w in used):
            ring_gens = poly.ring.gens
            exprs[v] = poly.compose([(ring_gens[gens.index(w)], exprs[w]) for w in used]) if used else poly
        return AlgPoints(self.f, {**self.coords, v: self.evaluate(poly, gens)}, exprs, self.source,
                         self._isolating)

    def exact(self, *, deadline: float) -> list[dict]:
        """One dict ``{v: exact SymPy number}`` per real root of f, roots in increasing order."""
        f = self.f
        if f.degree() == 1:
            t0 = -f.nth(0) / f.LC()
            return [{v: sp.Rational(h.eval(t0)) for v, h in self.coords.items()}]
        isolating = self.isolating()
        points = [dict() for _ in isolating]
        for v, h in self.coords.items():
            check_deadline(deadline)
            P = self.source(self.exprs[v]) if self.source is not None and v in self.exprs else None
            for point, value in zip(points, _coordinate(f, isolating, h, v, deadline, P)):
                point[v] = value
        return points


def _coordinate(f, isolating: list, h, v, deadline: float, P=None) -> list:
    """The exact values of ``h(t)`` at the real roots t of f (isolating intervals in order).

    ``P``, when given, is a squarefree polynomial vanishing at those values.
    """
    if h.degree() <= 0:
        return [sp.Rational(h.LC() if not h.is_zero else 0)] * len(isolating)
    if h == _poly_T(T):
        return _real_roots(f, v)
    m = P if P is not None else _minimal_polynomial(h, f, deadline)
    m_int, f_int = _integer_coeffs(m), _integer_coeffs(f)
    roots = [_Root(m_int, a, b) for (a, b), _ in m.intervals()]
    values = _real_roots(m, v)
    return [values[_match(h, _Root(f_int, a, b), roots, deadline)] for a, b in isolating]


def _real_roots(m, v) -> list:
    """The real roots of the irreducible Poly m (in T), increasing, as numbers in the variable ``v``:
    rationals and radicals up to degree 2, else ``CRootOf`` built directly on m (SymPy's ``rootof``
    would factor m again, which costs seconds at degree 80)."""
    if m.degree() <= 2:
        return sp.Poly(m.as_expr().xreplace({T: v}), v, domain=QQ).real_roots(radicals=True)
    pure = sp.PurePoly(_integer_coeffs(m), v, domain=sp.ZZ)
    count = len(m.intervals())
    try:
        return [sp.CRootOf._new(pure, k) for k in range(count)]
    except AttributeError:  # pragma: no cover - a SymPy without the private constructor
        return [sp.rootof(pure, k) for k in range(count)]


def _minimal_polynomial(h, f, deadline: float) -> sp.Poly:
    """The minimal polynomial over QQ of h(t), t a root of the irreducible f (Krylov in Q[T]/f)."""
    d = f.degree()

    def powers():
        p = _poly_T(1)
        while True:
            c = p.rep.to_list()[::-1] if not p.is_zero else []
            yield [QQ.convert(a) for a in c] + [QQ(0)] * (d - len(c))
            p = (p * h).rem(f)

    dep = first_dependency(powers(), deadline=deadline, limit=d)
    return sp.Poly.from_list([QQ(1)] + [-c for c in reversed(dep.coefficients)], T, domain=QQ)


def _integer_coeffs(p) -> list:
    """Integer coefficients (highest degree first) of a positive multiple of the Poly ``p``."""
    den = 1
    coeffs = p.rep.to_list()
    for c in coeffs:
        den = den * c.denominator // math.gcd(den, c.denominator)
    return [int(c.numerator) * (den // int(c.denominator)) for c in coeffs]


class _Root:
    """A real root of a squarefree integer polynomial, isolated in [a, b]; refined by exact bisection."""

    def __init__(self, coeffs: list, a, b):
        self.coeffs, self.a, self.b = coeffs, Fraction(a), Fraction(b)
        self.sign_a = self._sign(self.a)

    def _sign(self, x: Fraction) -> int:
        p, q = x.numerator, x.denominator
        acc, qpow = self.coeffs[0], 1
        for c in self.coeffs[1:]:  # homogeneous Horner: q^d * f(p/q), integers only
            qpow *= q
            acc = acc * p + c * qpow
        return (acc > 0) - (acc < 0)

    def refine(self, width: Fraction) -> None:
        while self.b - self.a > width and self.sign_a:
            m = (self.a + self.b) / 2
            s = self._sign(m)
            if s == 0:
                self.a = self.b = m
            elif s == self.sign_a:
                self.a = m
            else:
                self.b = m


def _enclose(coeffs: list, a: Fraction, b: Fraction) -> tuple:
    """A rational interval containing {h(x): a <= x <= b} (centered form with a derivative bound)."""
    mid, rad = (a + b) / 2, (b - a) / 2
    val = Fraction(0)
    for c in coeffs:
        val = val * mid + c
    M = max(abs(a), abs(b))
    deg = len(coeffs) - 1
    bound = Fraction(0)
    for k, c in enumerate(coeffs[:-1]):
        bound = bound * M + abs(c) * (deg - k)
    return val - rad * bound, val + rad * bound


def _match(h, root: _Root, roots: list, deadline: float) -> int:
    """The index j of ``roots[j]`` (isolated roots of P) equal to h(t), t the root isolated by ``root``.

    Rigorous: h(t) is known to be a root of P, and the enclosure of h over t's interval meets only
    the interval of roots[j]."""
    coeffs = [Fraction(int(c.numerator), int(c.denominator)) for c in h.rep.to_list()]
    bits = 8
    while True:
        check_deadline(deadline)
        lo, hi = _enclose(coeffs, root.a, root.b)
        hits = [j for j, r in enumerate(roots) if not (r.b < lo or r.a > hi)]
        if len(hits) == 1:
            return hits[0]
        root.refine((root.b - root.a) / 2**bits)
        for j in hits:
            roots[j].refine((roots[j].b - roots[j].a) / 2**bits)
        bits *= 2  # the precision needed is unknown: double the bits gained per round


def real_root_points(poly, v) -> list[AlgPoints]:
    """The real roots of a univariate Poly (in ``v``), one :class:`AlgPoints` per irreducible factor."""
    out = []
    for fac, _ in sp.Poly(poly, v, domain=QQ).factor_list()[1]:
        points = AlgPoints(sp.Poly(fac.as_expr().xreplace({v: T}), T, domain=QQ).monic(), {v: _poly_T(T)})
        if points.isolating():
            out.append(points)
    return out


def from_rur(rur, variables: tuple, exprs: dict | None = None, source: Callable | None = None) -> list[AlgPoints]:
    """Split a rational univariate representation over the irreducible factors f of its eliminant;
    ``source(f)`` gives the minimal-polynomial oracle of the points of f (see :class:`AlgPoints`)."""
    out = []
    for fac, _ in rur.chi.factor_list()[1]:
        f = fac.monic()
        points = AlgPoints(f, {v: q.rem(f) for v, q in zip(variables, rur.coords)}, dict(exprs or {}),
                           source(f) if source is not None else None)
        if points.isolating():
            out.append(points)
    return out
