"""Exact sign decisions for real constants (rationals, radicals, ``CRootOf``, ``exp``, ``LambertW``, ...).

The sign of a constant c is decided, in order, by

1. rational arithmetic, when c is rational;
2. rigorous interval arithmetic (``mpmath.iv``, outward rounding) with ``CRootOf`` replaced by its
   isolating interval, refined by exact bisection: an interval that excludes 0 proves the sign;
3. SymPy's assumptions (``is_zero`` / ``is_positive`` / ``is_negative``);
4. an exact zero test for algebraic c: reduction modulo the minimal polynomial of a single ``CRootOf``,
   or ``minimal_polynomial(c) == t``;
5. otherwise 60-digit numerics, reported as *not exact*.

>>> import sympy as sp
>>> sign(sp.sqrt(2) - sp.Rational(141, 100))
(1, True)
>>> x = sp.Symbol("x")
>>> r = sp.CRootOf(x**5 - x - 1, 0)
>>> sign(r**5 - r - 1)
(0, True)
>>> sign(sp.exp(-sp.LambertW(sp.Rational(1, 2))) - 2)
(-1, True)
"""

from __future__ import annotations

import functools
import math

import mpmath
import sympy as sp
from mpmath import iv
from sympy.core.sympify import _sympify  # strict: refuses strings, never parses text

__all__ = ["interval", "reduce_single_root", "sign", "tidy"]

_IV_FUNCS = {sp.exp: iv.exp, sp.log: iv.log, sp.sin: iv.sin, sp.cos: iv.cos}


class _NoInterval(Exception):
    """The expression has a node that the interval evaluator does not handle rigorously."""


def _rational_iv(q: sp.Rational):
    return iv.mpf(int(q.p)) / iv.mpf(int(q.q)) if q.q != 1 else iv.mpf(int(q.p))


@functools.lru_cache(maxsize=4096)
def _croot_iv(r: sp.CRootOf, digits: int):
    """Enclosure of a real CRootOf to ``digits`` (cached: one exact refinement per root and precision)."""
    if not r.is_real:
        raise _NoInterval(r)
    dx = sp.Rational(1, 10**digits)
    q = r.eval_rational(dx=dx)  # exact bisection: the root lies within dx of q
    lo, hi = _rational_iv(q - dx), _rational_iv(q + dx)
    return iv.mpf([lo.a, hi.b])


def _lambertw_iv(arg, digits: int):
    """W0 on [-1/e, oo) is increasing: evaluate at both ends with guard digits and widen."""
    box = _iv(arg, digits)
    with mpmath.workdps(digits + 20):
        lo = mpmath.lambertw(mpmath.mpf(box.a))
        hi = mpmath.lambertw(mpmath.mpf(box.b))
        if mpmath.im(lo) != 0 or mpmath.im(hi) != 0:
            raise _NoInterval(arg)
        slack = mpmath.mpf(10) ** (-(digits + 10)) * (1 + abs(lo) + abs(hi))
        return iv.mpf([mpmath.re(lo) - slack, mpmath.re(hi) + slack])


def _ends(box):
    """The endpoints of an ``mpmath.iv`` interval as plain ``mpf`` (exact copies, no rounding)."""
    with mpmath.workprec(8 * max(iv.prec, 53) + 4000):
        return +mpmath.mpf(box.a), +mpmath.mpf(box.b)


def _iv(e, digits: int):
    """Rigorous enclosure of the real constant ``e`` (raises ``_NoInterval`` when unsupported)."""
    if e.is_Rational:
        return _rational_iv(e)
    if e is sp.pi:
        return iv.pi
    if e is sp.E:
        return iv.e
    if isinstance(e, sp.CRootOf):
        return _croot_iv(e, digits)
    if e.is_Add:
        out = iv.mpf(0)
        for a in e.args:
            out = out + _iv(a, digits)
        return out
    if e.is_Mul:
        out = iv.mpf(1)
        for a in e.args:
            out = out * _iv(a, digits)
        return out
    if e.is_Pow:
        base, ex = e.args
        if ex.is_Integer:
            b = _iv(base, digits)
            return b ** int(ex) if ex >= 0 else iv.mpf(1) / b ** int(-ex)
        if ex.is_Rational:
            b = _iv(base, digits)
            if not _ends(b)[0] > 0:
                raise _NoInterval(e)
            return iv.exp(_rational_iv(ex) * iv.log(b))
        raise _NoInterval(e)
    if isinstance(e, sp.LambertW) and len(e.args) == 1:
        return _lambertw_iv(e.args[0], digits)
    func = _IV_FUNCS.get(type(e))
    if func is not None:
        return func(_iv(e.args[0], digits))
    raise _NoInterval(e)


def interval(e, digits: int = 30):
    """A rigorous ``mpmath.iv`` enclosure of the real constant ``e``, or None when unsupported.

    >>> import sympy as sp
    >>> lo, hi = _ends(interval(sp.sqrt(2), 20))
    >>> print(mpmath.nstr(lo, 20), mpmath.nstr(hi, 20), bool(0 < hi - lo < 1e-20))
    1.4142135623730950488 1.4142135623730950488 True
    """
    old = iv.dps
    iv.dps = digits + 5
    try:
        return _iv(_sympify(e), digits)
    except (_NoInterval, ZeroDivisionError, ValueError, TypeError):
        return None
    finally:
        iv.dps = old


def reduce_single_root(e):
    """``e`` reduced modulo the polynomial of its only ``CRootOf`` r (degree < deg r), or None.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> r = sp.CRootOf(x**3 - x - 1, 0)
    >>> reduce_single_root(r**4 + 1)
    1 + CRootOf(x**3 - x - 1, 0) + CRootOf(x**3 - x - 1, 0)**2
    """
    roots = e.atoms(sp.CRootOf)
    if len(roots) != 1 or e.free_symbols:
        return None
    (r,) = roots
    t = sp.Dummy("t")
    expr = e.xreplace({r: t})
    if not expr.is_polynomial(t) or expr.has(sp.CRootOf):
        return None
    try:
        poly = sp.Poly(expr, t, domain="QQ")
        minimal = sp.Poly(r.poly.as_expr().xreplace({r.poly.gen: t}), t, domain="QQ")
    except (sp.PolynomialError, sp.CoercionFailed):
        return None
    return poly.rem(minimal).as_expr().xreplace({t: r})  # CRootOf keeps an irreducible polynomial


def _lambert_exp(a) -> bool:
    if not isinstance(a, sp.exp):
        return False
    arg = a.args[0]
    if arg.is_Mul and len(arg.args) == 2 and arg.args[0] == -1:
        arg = arg.args[1]
    return isinstance(arg, sp.LambertW) and len(arg.args) == 1 and arg.args[0] != 0


def _lambert_identity(a):
    arg = a.args[0]
    if isinstance(arg, sp.LambertW):
        return arg.args[0] / arg  # exp(W(z)) = z / W(z), on every branch
    w = arg.args[1]
    return w / w.args[0]  # exp(-W(z)) = W(z) / z


def tidy(e):
    """Exact rewriting that makes values readable: exp(+-W(z)) -> z/W(z), W(z)/z.

    >>> import sympy as sp
    >>> w = sp.LambertW(sp.Rational(1, 2))
    >>> tidy(sp.exp(-w) + w**2)
    LambertW(1/2)**2 + 2*LambertW(1/2)
    """
    return e.replace(_lambert_exp, _lambert_identity) if e.has(sp.LambertW) else e


def _single_root_zero(e) -> bool | None:
    """Exact zero test when ``e`` is a polynomial in one real ``CRootOf``."""
    reduced = reduce_single_root(e)
    return None if reduced is None else reduced == 0


def _algebraic(e) -> bool:
    return not any(isinstance(a, (sp.Function, sp.NumberSymbol)) and not isinstance(a, sp.CRootOf)
                   for a in sp.preorder_traversal(e)) and not e.has(sp.Float)


def _exact_zero(e) -> bool | None:
    """True/False when ``e == 0`` is decided exactly, None when undecidable here."""
    z = _single_root_zero(e)
    if z is not None:
        return z
    if _algebraic(e):
        t = sp.Dummy("t")
        try:
            return sp.minimal_polynomial(e, t) == t
        except (NotImplementedError, sp.PolynomialError, ValueError):
            return None
    return None


def sign(e, *, max_digits: int = 120) -> tuple[int, bool]:
    """The sign of a real constant ``e``: ``(s, exact)`` with s in {-1, 0, 1}.

    ``exact`` is False only when the sign came from 60-digit numerics (zero then means |e| < 1e-45).
    """
    e = _sympify(e)
    if e.is_Rational:
        return (0 if e == 0 else (1 if e > 0 else -1)), True
    if e.has(sp.Float):
        return _numeric_sign(e), False
    if e.has(sp.CRootOf):
        reduced = reduce_single_root(e)  # lower degree in the root: less cancellation, exact zero test
        if reduced is not None:
            if reduced.is_Rational:
                return (0 if reduced == 0 else (1 if reduced > 0 else -1)), True
            e = reduced
    decided = _interval_sign(e, (30, 60, max_digits))
    if decided is not None:
        return decided, True
    roots = e.atoms(sp.CRootOf)
    if len(roots) <= 1:  # SymPy's assumptions can take minutes on sums of several CRootOf
        for query, s in ((e.is_zero, 0), (e.is_positive, 1), (e.is_negative, -1)):
            if query:
                return s, True
    if math.prod(r.poly.degree() for r in roots) > 64:
        return _numeric_sign(e), False  # an exact zero test (minimal polynomial) would be too costly
    zero = _exact_zero(e)
    if zero is True:
        return 0, True
    if zero is False:  # proven nonzero but very close to 0: refine until the enclosure leaves 0
        decided = _interval_sign(e, (2 * max_digits, 4 * max_digits, 8 * max_digits))
        if decided is not None:
            return decided, True
    return _numeric_sign(e), False


def _interval_sign(e, precisions) -> int | None:
    """The sign proven by an enclosure at one of ``precisions`` (digits), or None."""
    for digits in precisions:
        box = interval(e, digits)
        if box is None:
            return None
        lo, hi = _ends(box)
        if lo > 0:
            return 1
        if hi < 0:
            return -1
        if lo == 0 and hi == 0:
            return 0
    return None


def _numeric_sign(e) -> int:
    v = complex(sp.N(e, 60))
    if abs(v.real) < 1e-45 * max(1.0, abs(v.imag)):
        return 0
    return 1 if v.real > 0 else -1
