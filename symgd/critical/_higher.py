"""Higher-order tests at a critical point p whose Hessian is singular (and not indefinite).

With g(h) = f(p + h) - f(p) (Taylor coefficients exact, up to degree D):

* **lines**: along a direction v, g(t v) = P_k(v) t^k + O(t^(k+1)) with P_k the first non-vanishing
  homogeneous part. An odd k, or even k with opposite signs in two directions, proves that p is *not* an
  extremum (the point stays ``DEGENERATE``; the reason says "not an extremum").
* **weighted lowest part** (a Newton-polygon argument): in coordinates u that diagonalise the Hessian
  (h = T u, T rational), let m_i be the order of g along the u_i axis, all even and of one sign s.
  With weights 1/m_i every monomial must have weighted degree >= 1; the weighted-degree-1 part Q
  (e.g. x^4 + y^4, or u^2 + v^4) is then tested for definiteness (exactly: diagonal, or for n = 2 by
  Sturm counting of Q(+-1, t)). s*Q positive definite => strict local minimum (s = 1) / maximum (s = -1),
  since the higher terms are o(Q) under the weighted scaling.
* **global polynomial**: f - f(p) = c * (product of squares), or a sum of even monomials with
  coefficients of one sign => f >= f(p) everywhere (a non-strict minimum), or <= (maximum).
"""

from __future__ import annotations

import itertools
import math

import sympy as sp

from symgd.critical._result import Kind
from symgd.critical._signs import sign

__all__ = ["higher_order", "sign_definite_polynomial", "structural_bound"]


def _human(e) -> str:
    return sp.sstr(e).replace("**", "^")


def taylor(f, xs, point, degree: int) -> tuple[dict, list]:
    """Exact Taylor coefficients {alpha: c} of g(h) = f(p + h) - f(p) for 1 <= |alpha| <= degree."""
    hs = [sp.Dummy(f"h{i}") for i in range(len(xs))]
    if f.is_polynomial(*xs):
        g = sp.expand(f.xreplace({x: point[x] + h for x, h in zip(xs, hs)})) - f.xreplace(point)
        poly = sp.Poly(sp.expand(g), *hs)
        return {a: c for a, c in poly.as_dict().items() if 0 < sum(a) <= degree}, hs
    coeffs, derivs = {}, {(0,) * len(xs): f}
    for k in range(1, degree + 1):
        for alpha in _monomials(len(xs), k):
            i = next(j for j, a in enumerate(alpha) if a)  # parent: alpha minus e_i
            parent = tuple(a - (j == i) for j, a in enumerate(alpha))
            derivs[alpha] = sp.diff(derivs[parent], xs[i])
            c = derivs[alpha].xreplace(point) / math.prod(math.factorial(a) for a in alpha)
            if c != 0:
                coeffs[alpha] = c
    return coeffs, hs


def _monomials(n: int, k: int):
    """Exponent tuples of total degree k in n variables."""
    for cut in itertools.combinations(range(k + n - 1), n - 1):
        yield tuple(b - a - 1 for a, b in zip((-1,) + cut, cut + (k + n - 1,)))


def _congruence(Hp):
    """Rational T with T^T Hp T diagonal (symmetric elimination; Hp semidefinite), or None."""
    n = Hp.rows
    if not all(e.is_Rational for e in Hp) or Hp.is_diagonal():
        return None
    A, T, done = sp.Matrix(Hp), sp.eye(n), []
    for _ in range(n):
        piv = [j for j in range(n) if j not in done and A[j, j] != 0]
        if not piv:
            break
        j = piv[0]
        done.append(j)
        for i in range(n):
            if i != j and i not in done and A[i, j] != 0:
                E = sp.eye(n)
                E[j, i] = -A[i, j] / A[j, j]
                A, T = E.T * A * E, T * E
    return T if A.is_diagonal() else None


def _transform(coeffs, hs, T, degree):
    """Coefficients of g(T u) (degree <= ``degree``) from those of g(h)."""
    us = [sp.Dummy(f"u{i}") for i in range(len(hs))]
    g = sum(c * sp.Mul(*(h**a for h, a in zip(hs, alpha))) for alpha, c in coeffs.items())
    sub = {h: sum(T[i, j] * us[j] for j in range(len(us))) for i, h in enumerate(hs)}
    poly = sp.Poly(sp.expand(g.xreplace(sub)), *us)
    return {a: c for a, c in poly.as_dict().items() if sum(a) <= degree}


class _Signs:
    """Sign decisions that remember whether all of them were exact."""

    def __init__(self):
        self.exact = True

    def __call__(self, e) -> int:
        s, exact = sign(e)
        self.exact &= exact
        return s


def _along(coeffs, v, degree, signs):
    """(k, s): order and sign of the first non-vanishing term of g(t v), or None up to ``degree``."""
    for k in range(2, degree + 1):
        pk = sum((c * math.prod(vi**a for vi, a in zip(v, alpha)) for alpha, c in coeffs.items()
                  if sum(alpha) == k), sp.Integer(0))
        s = signs(pk) if pk != 0 else 0
        if s:
            return k, s, pk
    return None


def _directions(n, Hp, T):
    out = [tuple(int(i == j) for j in range(n)) for i in range(n)]
    if T is not None:
        out += [tuple(T[:, j]) for j in range(n)]
    if all(e.is_Rational for e in Hp):
        out += [tuple(v) for v in Hp.nullspace()]
    span = (-1, 0, 1) if n <= 3 else (0, 1)
    out += [v for v in itertools.product(span, repeat=n) if any(v)]
    if n == 2:
        out += [(1, 2), (2, 1), (1, -2), (2, -1)]
    seen, unique = set(), []
    for v in out:
        key = tuple(v)
        if key not in seen and any(key):
            seen.add(key)
            unique.append(key)
    return unique


def _line_test(coeffs, hs, n, Hp, T, degree, signs):
    """A reason string when lines prove 'not an extremum', else None."""
    pos = neg = None
    for v in _directions(n, Hp, T):
        found = _along(coeffs, v, degree, signs)
        if found is None:
            continue
        k, s, pk = found
        where = "" if n == 1 else f" along direction {tuple(v)}"
        if k % 2:
            if n == 1:
                return (f"not an extremum: the first non-vanishing derivative is of order {k} (odd), "
                        "an inflection point")
            lead = f"t^{k}" if pk == 1 else (f"-t^{k}" if pk == -1 else f"({_human(pk)})*t^{k}")
            return f"not an extremum:{where}, f(p + t*v) - f(p) = {lead} + ... changes sign"
        if s > 0:
            pos = pos or (v, k)
        else:
            neg = neg or (v, k)
        if pos and neg:
            return (f"not an extremum: f - f(p) > 0 along direction {pos[0]} (order {pos[1]}) and < 0 "
                    f"along direction {neg[0]} (order {neg[1]})")
    return None


def _weighted_test(coeffs, n, signs, Hp):
    """(kind, Q) when the weighted lowest part proves a strict extremum, else None."""
    orders, sgn = [], set()
    for i in range(n):
        pure = sorted((alpha[i], c) for alpha, c in coeffs.items() if alpha[i] == sum(alpha))
        first = next(((k, signs(c)) for k, c in pure if signs(c) != 0), None)
        if first is None or first[0] % 2:
            return None
        orders.append(first[0])
        sgn.add(first[1])
    if len(sgn) != 1:
        return None
    s = sgn.pop()
    weight = {alpha: sum(sp.Rational(a, m) for a, m in zip(alpha, orders)) for alpha in coeffs}
    if any(w < 1 and signs(coeffs[a]) != 0 for a, w in weight.items()):
        return None
    q = {a: coeffs[a] for a, w in weight.items() if w == 1 and signs(coeffs[a]) != 0}
    if not _weighted_definite(q, n, s, orders):
        return None
    return (Kind.MINIMUM if s > 0 else Kind.MAXIMUM), q


def _weighted_definite(q, n, s, orders) -> bool:
    """Is s*Q positive definite (Q weighted homogeneous; its pure terms have sign s)?"""
    if all(sum(1 for a in alpha if a) == 1 for alpha in q):
        return True  # diagonal: a sum of c_i u_i^(m_i), m_i even, s*c_i > 0
    if n != 2 or not all(c.is_Rational for c in q.values()):
        return False
    t = sp.Dummy("t")
    for s1 in (1, -1):
        line = sp.Poly(sum(s * c * s1 ** a[0] * t ** a[1] for a, c in q.items()), t)
        if line.count_roots() != 0:  # Q(+-1, t) > 0 for all t  (and Q(0, 1) > 0 by construction)
            return False
    return True


def sign_definite_polynomial(g, xs) -> tuple[int, str] | None:
    """(s, why) when the polynomial g is >= 0 (s = 1) or <= 0 (s = -1) on all of R^n, proven exactly.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> sign_definite_polynomial(x**2 * y**2, (x, y))
    (1, 'x^2*y^2 is a sum of even powers with positive coefficients')
    >>> sign_definite_polynomial(-(x - y)**2, (x, y))
    (-1, '-(x - y)^2 is a product of squares')
    >>> sign_definite_polynomial(x**3, (x,)) is None
    True
    """
    g = sp.expand(g)
    if g == 0 or not g.is_polynomial(*xs) or g.free_symbols - set(xs):
        return None
    try:
        poly = sp.Poly(g, *xs, domain="QQ")
    except (sp.PolynomialError, sp.CoercionFailed):
        return None
    signs = {1 if c > 0 else -1 for c in poly.coeffs()}
    if len(signs) == 1 and all(e % 2 == 0 for m in poly.monoms() for e in m):
        s = signs.pop()
        return s, f"{_human(g)} is a sum of even powers with {'positive' if s > 0 else 'negative'} coefficients"
    const, factors = sp.factor_list(g, *xs)
    if factors and all(m % 2 == 0 for _, m in factors):
        return (1 if const > 0 else -1), f"{_human(sp.factor(g))} is a product of squares"
    return None


def _nonnegative(e) -> bool:
    """Provably >= 0 for real variables, from the expression's structure alone (no expansion)."""
    if e.is_Number:
        return e >= 0
    if e.is_Pow:
        return (e.exp.is_Integer and e.exp % 2 == 0 and e.base.is_extended_real is not False) or (
            _nonnegative(e.base) and e.exp.is_extended_real)
    if e.is_Add or e.is_Mul:
        return all(_nonnegative(a) for a in e.args)
    return isinstance(e, (sp.exp, sp.Abs)) and e.args[0].is_extended_real is not False


def structural_bound(f, point):
    """(kind, reason) when f = c + (terms that are each >= 0, or each <= 0) and f(p) = c, else None.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> structural_bound((x + 10*y)**2 + (x - y)**4 + 3, {x: 0, y: 0})[1]
    'f - 3 is a sum of even powers and other nonnegative terms, so f >= 3 = f(p)'
    """
    const, rest = f.as_independent(*point.keys(), as_Add=True)
    if rest == 0 or sp.expand(f.xreplace(point)) != const:
        return None
    for s, e in ((1, rest), (-1, -rest)):
        if _nonnegative(e):
            rel = ">=" if s > 0 else "<="
            kind = Kind.MINIMUM if s > 0 else Kind.MAXIMUM
            sign_word = "nonnegative" if s > 0 else "nonpositive"
            lhs = "f" if const == 0 else f"f - {_human(const)}" if not const.could_extract_minus_sign() \
                else f"f + {_human(-const)}"
            return kind, (f"{lhs} is a sum of even powers and other {sign_word} terms, so f {rel} "
                          f"{_human(const)} = f(p)")
    return None


def higher_order(f, xs, point, Hp) -> tuple[Kind, str, bool]:
    """Classify p with singular, semidefinite Hessian ``Hp`` by higher-order terms (exact point).

    Returns ``(kind, reason, exact)``; ``DEGENERATE`` when nothing proves an extremum.
    """
    n = len(xs)
    degree = 8 if n <= 2 else (6 if n <= 4 else 4)
    coeffs, hs = taylor(f, xs, point, degree)
    signs = _Signs()
    T = _congruence(Hp)
    why = _line_test(coeffs, hs, n, Hp, T, degree, signs)
    if why:
        return Kind.DEGENERATE, why, signs.exact
    ucoeffs = _transform(coeffs, hs, T, degree) if T is not None else coeffs
    found = _weighted_test(ucoeffs, n, signs, Hp)
    if found is not None:
        kind, q = found
        return kind, _weighted_reason(kind, q, xs, point, n, T,
                                            len(q) < len(ucoeffs) or not f.is_polynomial(*xs)), signs.exact
    structural = structural_bound(f, point)
    if structural is not None:
        return structural[0], structural[1], signs.exact
    if f.is_polynomial(*xs) and all(c.is_Rational for c in point.values()):
        g = f.xreplace({x: x + point[x] for x in xs}) - f.xreplace(point)
        proof = sign_definite_polynomial(g, xs)
        if proof:
            s, text = proof
            shift = "" if all(c == 0 for c in point.values()) else " (x shifted by p)"
            kind = Kind.MINIMUM if s > 0 else Kind.MAXIMUM
            return kind, f"f - f(p){shift} = {text}, so f {'>=' if s > 0 else '<='} f(p)", signs.exact
    return (Kind.DEGENERATE, f"second-derivative test inconclusive (singular Hessian) and terms up to "
            f"degree {degree} decide nothing", signs.exact)


def _weighted_reason(kind, q, xs, point, n, T, more: bool) -> str:
    if n == 1:
        (alpha, c), = q.items()
        order = alpha[0]
        word = "positive" if kind is Kind.MINIMUM else "negative"
        return f"first non-vanishing derivative is of order {order} and {word}"
    rel = ">=" if kind is Kind.MINIMUM else "<="
    if T is None:
        hs = [x - point[x] for x in xs]
        lowest = sum(c * sp.Mul(*(h**a for h, a in zip(hs, alpha))) for alpha, c in q.items())
        tail = " + (higher-order terms)" if more else ""
        return f"f - f(p) = {_human(lowest)}{tail} {rel} 0 near p"
    return (f"f - f(p) {rel} 0 near p: after completing squares its lowest weighted-order part is "
            f"{'positive' if kind is Kind.MINIMUM else 'negative'} definite")
