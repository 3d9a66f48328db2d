r"""Classify a critical point exactly: the inertia of the Hessian, then higher-order tests.

The inertia (numbers of positive, negative and zero eigenvalues) of the symmetric Hessian H(p) is read
from the signs of its characteristic polynomial :math:`\det(\lambda I - H) = \lambda^n + c_1\lambda^{n-1}
+ \dots + c_n`: all roots are real, so Descartes' rule of signs is *exact*: the number of positive
eigenvalues is the number of sign changes in :math:`(1, c_1, \dots, c_n)`, and the multiplicity of 0 is
the number of trailing zero coefficients. Each sign is decided exactly (``symgd.critical._signs``).

* all eigenvalues > 0: ``MINIMUM``; all < 0: ``MAXIMUM``; both signs: ``SADDLE`` (even if one is 0);
* singular and semidefinite: higher-order tests (``symgd.critical._higher``): 1-D, the first
  non-vanishing derivative (even order: extremum; odd order: an inflection point, not an extremum);
  n-D, lines and the weighted lowest-order part. Whatever is not proven an extremum stays
  ``DEGENERATE``, with a reason saying whether it is proven *not* to be one (monkey saddle, x^3).

>>> import sympy as sp
>>> x, y = sp.symbols("x y", real=True)
>>> f = x**4 + y**4
>>> H = sp.hessian(f, (x, y))
>>> c = classify(f, (x, y), H, {x: 0, y: 0})
>>> c.kind, c.reason
(<Kind.MINIMUM: 'minimum'>, 'f - f(p) = x^4 + y^4 >= 0 near p')
>>> classify(x**3 - 3*x*y**2, (x, y), sp.hessian(x**3 - 3*x*y**2, (x, y)), {x: 0, y: 0}).kind
<Kind.DEGENERATE: 'degenerate'>
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from symgd.critical._higher import higher_order, sign_definite_polynomial
from symgd.critical._result import Kind
from symgd.critical._signs import sign, tidy

__all__ = ["Classification", "classify", "classify_family", "eigenvalues", "inertia"]


@dataclass(frozen=True)
class Classification:
    """The verdict at one point: kind, whether every sign was exact, a one-sentence reason, eigenvalues."""

    kind: Kind
    exact: bool
    reason: str
    eigenvalues: tuple


def _human(e) -> str:
    text = sp.sstr(e).replace("**", "^")
    if len(text) > 24:
        v = complex(sp.N(e, 20))
        text = f"{v.real:.10g}"
    return text


def eigenvalues(Hp, digits: int = 30) -> tuple:
    """Eigenvalues of the symmetric matrix ``Hp`` (numbers) as floats, ascending.

    >>> import sympy as sp
    >>> eigenvalues(sp.Matrix([[2, 1], [1, 2]]))
    (1.0, 3.0)
    """
    n = Hp.rows
    with mpmath.workdps(digits):
        A = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                A[i, j] = mpmath.mpf(sp.re(sp.N(Hp[i, j], digits + 10)))
        values = mpmath.eigsy(A, eigvals_only=True) if n else []
        return tuple(sorted(float(v) for v in values))


def inertia(Hp) -> tuple[int, int, int, bool]:
    """(positive, negative, zero, exact) eigenvalue counts of the symmetric constant matrix ``Hp``.

    >>> import sympy as sp
    >>> inertia(sp.Matrix([[0, 1], [1, 0]]))
    (1, 1, 0, True)
    >>> inertia(sp.Matrix([[1, 1], [1, 1]]))
    (1, 0, 1, True)
    """
    n = Hp.rows
    lam = sp.Dummy("lambda")
    coeffs = Hp.charpoly(lam, simplify=lambda e: e).all_coeffs()
    exact, signs = True, []
    for c in coeffs[1:]:
        s, ok = sign(sp.expand(c) if not c.is_Rational else c)
        exact &= ok
        signs.append(s)
    zero = 0
    while zero < n and signs[n - 1 - zero] == 0:
        zero += 1
    seq = [1] + [s for s in signs if s]
    pos = sum(1 for a, b in zip(seq, seq[1:]) if a != b)
    return pos, n - zero - pos, zero, exact


def _numeric_inertia(values) -> tuple[int, int, int]:
    scale = max([1.0] + [abs(v) for v in values])
    tol = 1e-9 * scale
    return (sum(v > tol for v in values), sum(v < -tol for v in values),
            sum(abs(v) <= tol for v in values))


def _nondegenerate_reason(n, pos, neg, point, Hp) -> str:
    if n == 1:
        (p,) = point.values()
        rel = ">" if pos else "<"
        value = _human(Hp[0, 0])
        eq = "≈" if _human(p) != sp.sstr(p).replace("**", "^") or value != sp.sstr(Hp[0, 0]).replace("**", "^") \
            else "="
        return f"f''({_human(p)}) {eq} {value} {rel} 0"
    if pos and neg:
        return "Hessian eigenvalues of both signs"
    return "Hessian positive definite" if pos else "Hessian negative definite"


def classify(f, xs, H, point, *, exact_point: bool = True) -> Classification:
    """Classify the critical point ``point`` ({Symbol: value}) of ``f`` with Hessian matrix ``H``.

    ``exact_point=False`` (numeric coordinates) decides from the numeric eigenvalues, ``exact=False``.
    """
    n = len(xs)
    Hp = H.xreplace(point).applyfunc(tidy)
    values = eigenvalues(Hp)
    if not exact_point:
        pos, neg, zero = _numeric_inertia(values)
        exact = False
    else:
        pos, neg, zero, exact = inertia(Hp)
    if pos and neg:
        extra = " (and a zero eigenvalue)" if zero else ""
        return Classification(Kind.SADDLE, exact, _nondegenerate_reason(n, pos, neg, point, Hp) + extra, values)
    if not zero:
        kind = Kind.MINIMUM if pos else Kind.MAXIMUM
        return Classification(kind, exact, _nondegenerate_reason(n, pos, neg, point, Hp), values)
    if not exact_point:
        return Classification(Kind.DEGENERATE, False, "Hessian numerically singular: the second-derivative "
                              "test is inconclusive", values)
    kind, reason, ok = higher_order(f, xs, point, Hp)
    return Classification(kind, exact and ok, reason, values)


def classify_family(f, xs, H, family) -> str | None:
    """The kind of every point of ``family`` when it can be proven, else None.

    A family on which f is constant c, with f - c >= 0 everywhere (a sum of even powers or a product
    of squares), is a family of (non-strict) minima; <= 0: maxima. A family with integer parameters
    whose Hessian is a constant nondegenerate matrix takes that matrix's kind.

    >>> import sympy as sp
    >>> from symgd.critical._types import Family
    >>> x, y = sp.symbols("x y", real=True)
    >>> t = sp.Symbol("t", real=True)
    >>> fam = Family("x = 0, y any real", {x: sp.Integer(0), y: t}, (t,))
    >>> classify_family(x**2 * y**2, (x, y), sp.hessian(x**2 * y**2, (x, y)), fam)
    'minimum'
    """
    if family.kind:
        return family.kind
    sub = {x: family.parametrization.get(x, x) for x in xs}
    value = sp.expand(f.xreplace(sub))
    if f.is_polynomial(*xs) and not (value.free_symbols & set(xs)) and not value.free_symbols:
        proof = sign_definite_polynomial(f - value, xs)
        if proof:
            return "minimum" if proof[0] > 0 else "maximum"
    Hp = H.xreplace(sub)
    if not Hp.free_symbols:
        pos, neg, zero, exact = inertia(Hp)
        if exact and not zero:
            return "saddle" if pos and neg else ("minimum" if pos else "maximum")
        if exact and pos and neg:
            return "saddle"
    return None
