"""Exact facts about the real zero set of one polynomial: sign sampling and nonnegativity proofs.

A polynomial that takes both signs at two (exactly evaluated) rational points has a real zero set of
codimension one; one that is provably >= 0 vanishes only where its gradient does too.

>>> import sympy as sp
>>> x, y = sp.symbols("x y", real=True)
>>> sorted(sample_signs(x**2 + y**2 - 1, (x, y)))
[-1, 1]
>>> nonnegative_proof(x**2 + y**4 + 1, (x, y)), nonnegative_proof(x**2 - y**2, (x, y))
(True, False)
"""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import sympy as sp

__all__ = ["nonnegative_proof", "sample_signs"]

_GRID = [Fraction(v) for v in (0, 1, -1, 2, -2, 3, -3, 10, -10)] + [Fraction(1, 2), Fraction(-1, 2),
                                                                     Fraction(1, 3), Fraction(-1, 3)]


def _terms(expr, syms) -> list:
    poly = sp.Poly(expr, *syms)
    return [(m, Fraction(int(c.p), int(c.q))) for m, c in poly.terms()]


def _value(terms: list, point: tuple) -> Fraction:
    total = Fraction(0)
    for m, c in terms:
        term = c
        for x, e in zip(point, m):
            if e:
                term *= x**e
        total += term
    return total


def sample_signs(expr, syms, *, samples: int = 2000) -> set:
    """The nonzero signs that ``expr`` takes at rational sample points (exact arithmetic)."""
    terms = _terms(expr, syms)
    if len(_GRID) ** len(syms) <= samples:
        points = itertools.product(_GRID, repeat=len(syms))
    else:
        rng = random.Random(len(terms))
        points = (tuple(Fraction(rng.randint(-40, 40), rng.randint(1, 8)) for _ in syms) for _ in range(samples))
    signs = set()
    for point in points:
        v = _value(terms, point)
        if v:
            signs.add(1 if v > 0 else -1)
            if len(signs) == 2:
                break
    return signs


def nonnegative_proof(expr, syms) -> bool:
    """True when ``expr >= 0`` on all of R^n is proven: even powers with positive coefficients, or a
    positive semidefinite quadratic."""
    poly = sp.Poly(expr, *syms)
    if all(c > 0 and all(e % 2 == 0 for e in m) for m, c in poly.terms()):
        return True
    if poly.total_degree() == 2:
        z = sp.Dummy("z")
        hom = sp.Poly(poly.homogenize(z).as_expr(), *syms, z)
        gens = (*syms, z)
        M = sp.Matrix(len(gens), len(gens), lambda i, j: sp.Rational(
            hom.coeff_monomial(gens[i] * gens[j]), 1 if i == j else 2))
        return bool(M.is_positive_semidefinite)
    return False
