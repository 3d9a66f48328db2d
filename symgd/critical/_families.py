"""Output of the exact transcendental route: branches -> points and :class:`Family` objects.

A :class:`Branch` is ``{unknown: Expr}`` in parameters (SymPy Dummies: integers, nonnegative
integers or reals) minus excluded points. This module names the parameters (``k, m, ...``),
describes and classifies families, and enumerates integer parameters inside a box.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from dataclasses import dataclass, field

import sympy as sp

from symgd.critical._types import Family
from symgd.errors import InputError

__all__ = ["Branch", "enumerate_in_box", "family"]

_MAX_BOX_POINTS = 20000


@dataclass
class Branch:
    """A solution piece: ``values`` {unknown: Expr in ``params``} minus the ``excluded`` points."""

    values: dict
    params: tuple = ()  # Dummies: integer (all or nonnegative) or real
    excluded: list = field(default_factory=list)  # dicts {unknown: value} that are not solutions


def _expr(v):
    """SymPy numbers and expressions pass; a Python int (a constant coordinate) becomes an Integer."""
    return sp.Integer(v) if isinstance(v, int) else v


def family(b, variables, hessian) -> Family:
    """The :class:`Family` of a branch with parameters: description, parametrization, kind."""
    params = sorted(b.params, key=lambda p: next((i for i, v in enumerate(variables)  # k drives x, m y
                                                  if _expr(b.values[v]).has(p)), len(variables)))
    b = Branch(b.values, tuple(params), b.excluded)
    names = _parameter_names(b.params, variables)
    rename = {p: s for p, s in zip(b.params, names)}
    param = {v: _expr(b.values[v]).xreplace(rename) for v in variables}
    parts, shown = [], set()  # shown: real parameters already told as "y any real"
    for v in variables:
        p = param[v]
        if p in names and not p.is_integer and not any(param[w].has(p) for w in variables if w != v):
            parts.append(f"{v} any real")
            shown.add(p)
        else:
            parts.append(f"{v} = {sp.sstr(p)}")
    whole = [str(s) for s in names if s.is_integer and not s.is_nonnegative]
    natural = [str(s) for s in names if s.is_nonnegative]
    if whole:
        parts[-1] += f" ({', '.join(whole)} integer{'s' if len(whole) > 1 else ''})"
    if natural:
        parts[-1] += f" ({', '.join(natural)} = 0, 1, 2, ...)"
    reals = [s for s in names if not s.is_integer and s not in shown]
    if reals:
        parts[-1] += f" ({', '.join(map(str, reals))} real)"
    for ex in b.excluded:
        parts[-1] += ", except " + ", ".join(f"{v} = {sp.sstr(w)}" for v, w in ex.items())
    return Family(", ".join(parts), param, tuple(names), _family_kind(hessian, param))


def _parameter_names(params, variables):
    taken = {v.name for v in variables}
    pool = iter(n for n in ["k", "m", "j", "l", "p", "q", "r", "s"] + [f"k{i}" for i in range(1, 99)]
                if n not in taken)
    real_pool = iter(n for n in ["t", "u", "w"] + [f"t{i}" for i in range(1, 99)] if n not in taken)
    out = []
    for p in params:
        if p.is_integer:
            out.append(sp.Symbol(next(pool), integer=True, nonnegative=p.is_nonnegative or None))
        else:
            out.append(sp.Symbol(next(real_pool), real=True))
    return out


def _family_kind(hessian, param):
    """Kind when the Hessian's inertia is the same along the whole family (parameters' assumptions).

    Jacobi's rule: with nonzero leading principal minors D_1..D_n, the number of negative
    eigenvalues is the number of sign changes in (1, D_1, ..., D_n). A constant matrix with a
    vanishing minor falls back to Descartes' rule on its (real-rooted) characteristic polynomial.
    """
    H = hessian.xreplace(param).applyfunc(sp.simplify)
    n = H.rows
    signs = [_sign(sp.simplify(H[:i, :i].det())) for i in range(1, n + 1)]
    if all(s in (1, -1) for s in signs):
        neg = sum(1 for a, b in zip([1] + signs, signs) if a != b)
        return "minimum" if neg == 0 else "maximum" if neg == n else "saddle"
    if H.free_symbols:
        return None
    coeffs = [_sign(c) for c in H.charpoly(sp.Dummy("lambda")).all_coeffs()]
    if None in coeffs or coeffs[-1] == 0:
        return None  # an undecided sign, or a zero eigenvalue
    nonzero = [c for c in coeffs if c != 0]
    positive = sum(1 for a, b in zip(nonzero, nonzero[1:]) if a != b)
    return "minimum" if positive == n else "maximum" if positive == 0 else "saddle"


def _sign(e):
    return 1 if e.is_positive else -1 if e.is_negative else 0 if e.is_zero else None


def enumerate_in_box(branches, variables, box, notes):
    """Integer-parameter branches become the points inside ``box``; None if that is not possible."""
    bounds = _exact_box(box, variables)
    out = []
    for b in branches:
        ints = [p for p in b.params if p.is_integer]
        if not ints:
            inside = True if b.params else _inside(b.values, bounds)
            if inside is None:
                return None
            out.extend([b] if inside else [])
            continue
        ranges = [_parameter_range(p, b.values, bounds) for p in ints]
        if any(r is None for r in ranges) or len(ints) != len(b.params) or _count(ranges) > _MAX_BOX_POINTS:
            return None
        for combo in itertools.product(*ranges):
            point = {v: _expr(w).xreplace(dict(zip(ints, combo))) for v, w in b.values.items()}
            inside = _inside(point, bounds)
            if inside is None:
                return None
            if inside and not any(all(point[v] == w for v, w in ex.items()) for ex in b.excluded):
                out.append(Branch(point))
    notes.append("periodic solution families enumerated inside the box " + ", ".join(
        f"{v} in [{lo}, {hi}]" for v, (lo, hi) in bounds.items()))
    return out


def _count(ranges):
    total = 1
    for r in ranges:
        total *= len(r)
    return total


def _exact_box(box, variables):
    """``{variable: (lo, hi)}`` as exact SymPy numbers (a float 0.1 means 1/10); missing: unbounded."""
    by_name = {str(k): v for k, v in dict(box).items()}
    out = {}
    for v in variables:
        ends = box[v] if v in box else by_name.get(v.name, (-sp.oo, sp.oo))
        out[v] = tuple(_exact_number(t, v) for t in ends)
    return out


def _exact_number(t, v):
    if isinstance(t, bool):
        raise InputError(f"the box bound for {v} must be a number, got {t!r}")
    if isinstance(t, float):
        return sp.Rational(Fraction(repr(t))) if math.isfinite(t) else (sp.oo if t > 0 else -sp.oo)
    if isinstance(t, int):
        return sp.Integer(t)
    if isinstance(t, sp.Expr) and t.is_number:
        return t
    raise InputError(f"the box bound for {v} must be a number, got {t!r}")


def _inside(point, bounds):
    """True/False whether every coordinate lies in its range; None when SymPy cannot decide."""
    for v, (lo, hi) in bounds.items():
        if v in point:
            ok = sp.And(sp.Le(lo, point[v]), sp.Le(point[v], hi))
            if ok not in (sp.true, sp.false):
                return None
            if ok == sp.false:
                return False
    return True


def _parameter_range(p, values, bounds):
    """Integers p for which some coordinate depending on p alone stays in its box range."""
    for v, e in values.items():
        e = _expr(e)
        lo, hi = bounds.get(v, (-sp.oo, sp.oo))
        if e.free_symbols != {p} or not (lo.is_finite and hi.is_finite):
            continue
        if e.is_polynomial(p) and sp.degree(e, p) == 1:
            b, a = sp.Poly(e, p).all_coeffs()
            ends = sorted([(lo - a) / b, (hi - a) / b], key=float)
            return range(int(sp.ceiling(ends[0])), int(sp.floor(ends[1])) + 1)
        if p.is_nonnegative:  # c0 + c1*(a + b*p)**r: |e - c0| grows with p >= 0
            c0 = e.xreplace({w: 0 for w in e.atoms(sp.Pow) if w.has(p)})
            reach = max(abs(lo - c0), abs(hi - c0), key=float)
            stop = 0
            while stop <= _MAX_BOX_POINTS and bool(abs(e.xreplace({p: stop}) - c0) <= reach):
                stop += 1
            return range(0, stop)
    return None
