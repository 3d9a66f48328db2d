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

import itertools
from dataclasses import dataclass

import mpmath
import sympy as sp
from mpmath import iv

from symgd.critical._higher import higher_order, sign_definite_polynomial, structural_bound
from symgd.critical._result import Kind
from symgd.critical._signs import interval, sign, tidy

__all__ = ["Classification", "charpoly_coeffs", "classify", "classify_family", "eigenvalues", "inertia"]


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


def _entry_float(e, digits: int):
    """An entry as mpf: the midpoint of a rigorous enclosure when available (cheap for CRootOf), else evalf."""
    box = interval(e, digits)
    if box is not None:
        return mpmath.mpf(box.mid)
    return mpmath.mpf(sp.re(sp.N(e, digits + 10)))


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
            for j in range(i, n):
                A[i, j] = A[j, i] = _entry_float(Hp[i, j], digits)
        values = mpmath.eigsy(A, eigvals_only=True) if n else []
        return tuple(sorted(float(v) for v in values))


def _minor(M, rows) -> sp.Expr:
    """Determinant of the principal submatrix on ``rows`` by Laplace expansion (no simplification)."""
    if len(rows) == 1:
        return M[rows[0], rows[0]]
    first, rest = rows[0], rows[1:]
    total = sp.Integer(0)
    for k, col in enumerate(rows):
        if M[first, col] == 0:
            continue
        sub_cols = rows[:k] + rows[k + 1:]
        total += (-1) ** k * M[first, col] * _det(M, rest, sub_cols)
    return total


def _det(M, rows, cols) -> sp.Expr:
    if len(rows) == 1:
        return M[rows[0], cols[0]]
    total = sp.Integer(0)
    for k, col in enumerate(cols):
        if M[rows[0], col] != 0:
            total += (-1) ** k * M[rows[0], col] * _det(M, rows[1:], cols[:k] + cols[k + 1:])
    return total


def charpoly_coeffs(Hp) -> list:
    r"""Coefficients :math:`c_1, \dots, c_n` of :math:`\det(\lambda I - H) = \lambda^n + c_1 \lambda^{n-1} + \dots`.

    Rational matrices use SymPy's ``charpoly`` over QQ; others the sums of principal minors,
    :math:`c_k = (-1)^k E_k`, unsimplified (their signs are decided by interval arithmetic).

    >>> import sympy as sp
    >>> charpoly_coeffs(sp.Matrix([[2, 1], [1, 2]]))
    [-4, 3]
    """
    n = Hp.rows
    if all(e.is_Rational for e in Hp) or n > 6:
        lam = sp.Dummy("lambda")
        return list(Hp.charpoly(lam, simplify=lambda e: e).all_coeffs()[1:])
    out = []
    for k in range(1, n + 1):
        e_k = sum((_minor(Hp, list(rows)) for rows in itertools.combinations(range(n), k)), sp.Integer(0))
        out.append((-1) ** k * e_k)
    return out


def _interval_ldl(Hp, digits: int):
    """Inertia (pos, neg) from a symmetric LDL^T elimination in interval arithmetic, or None.

    Every pivot's enclosure must exclude 0 (diagonal pivoting picks the remaining diagonal entry with
    the largest lower bound on |d|); then every symmetric matrix in the enclosure of ``Hp``, in
    particular ``Hp`` itself, is congruent to diag(d) and Sylvester's law of inertia gives the counts.
    """
    n = Hp.rows
    A = [[interval(Hp[i, j], digits) for j in range(n)] for i in range(n)]
    if any(a is None for row in A for a in row):
        return None
    old = iv.dps
    iv.dps = digits
    try:
        left, signs = list(range(n)), []
        while left:
            k = max(left, key=lambda i: _mag_low(A[i][i]))
            d = A[k][k]
            if _mag_low(d) == 0:
                return None
            signs.append(1 if d.a > 0 else -1)
            left.remove(k)
            for i in left:
                for j in left:
                    A[i][j] = A[i][j] - A[i][k] * A[k][j] / d
        return signs.count(1), signs.count(-1)
    finally:
        iv.dps = old


def _mag_low(box) -> float:
    """A lower bound on |x| over the interval (0 when it contains 0)."""
    if box.a > 0:
        return float(mpmath.mpf(box.a))
    if box.b < 0:
        return float(-mpmath.mpf(box.b))
    return 0.0


def inertia(Hp) -> tuple[int, int, int, bool]:
    """(positive, negative, zero, exact) eigenvalue counts of the symmetric constant matrix ``Hp``.

    Rational matrices: signs of the characteristic polynomial's coefficients. Others: an interval
    LDL^T (proves a nonsingular inertia cheaply), else the characteristic polynomial with exact signs.

    >>> import sympy as sp
    >>> inertia(sp.Matrix([[0, 1], [1, 0]]))
    (1, 1, 0, True)
    >>> inertia(sp.Matrix([[1, 1], [1, 1]]))
    (1, 0, 1, True)
    >>> inertia(sp.Matrix([[sp.sqrt(2), 1], [1, sp.sqrt(2)]]))
    (2, 0, 0, True)
    """
    n = Hp.rows
    if not all(e.is_Rational for e in Hp):
        for digits in (30, 60):
            counts = _interval_ldl(Hp, digits)
            if counts is not None:
                return counts[0], counts[1], 0, True
    exact, signs = True, []
    for c in charpoly_coeffs(Hp):
        s, ok = sign(c)
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
    if not all(e.is_number and e.is_finite is not False and not e.has(sp.DiracDelta, sp.nan, sp.zoo)
               for e in Hp):
        bound = structural_bound(f, point) if exact_point else None
        nan = (float("nan"),) * n
        if bound is not None:
            return Classification(bound[0], True, bound[1] + " (f is not twice differentiable at p)", nan)
        return Classification(Kind.DEGENERATE, exact_point, "f is not twice differentiable at p: the "
                              "second-derivative test does not apply", nan)
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


def classify_family(f, xs, H, family) -> tuple[str | None, str | None]:
    """``(kind, note)``: the kind of every point of ``family`` when symgd can decide it, else None.

    * real parameters: f constant c on the family with f - c >= 0 everywhere (a sum of even powers,
      a product of squares, or nonnegative terms) -> ``"minimum"``; <= 0 -> ``"maximum"``;
    * integer parameters (periodic sets): each point with parameters in {-1, 0, 1} is classified
      exactly with concrete values (SymPy 1.14 mis-evaluates e.g. ``tan(pi*k + 3*pi/4)`` as 1 for a
      symbolic integer k, so symbolic parameters are never trusted); one kind for all samples is
      reported, with a note when it overrides the route's own claim.

    >>> import sympy as sp
    >>> from symgd.critical._types import Family
    >>> x, y = sp.symbols("x y", real=True)
    >>> t = sp.Symbol("t", real=True)
    >>> fam = Family("x = 0, y any real", {x: sp.Integer(0), y: t}, (t,))
    >>> classify_family(x**2 * y**2, (x, y), sp.hessian(x**2 * y**2, (x, y)), fam)
    ('minimum', None)
    >>> k = sp.Symbol("k", integer=True)
    >>> fam = Family("x = pi*k + 3*pi/4", {x: sp.pi * k + 3 * sp.pi / 4}, (k,), kind="minimum")
    >>> f = sp.tan(x) - 2 * x
    >>> classify_family(f, (x,), sp.hessian(f, (x,)), fam)[0]
    'maximum'
    """
    sub = {x: family.parametrization.get(x, x) for x in xs}
    params = tuple(family.parameters)
    if params and all(p.is_integer for p in params):
        kinds = set()
        for values in itertools.product((0, 1, -1), repeat=len(params)):
            point = {x: e.xreplace(dict(zip(params, values))) for x, e in sub.items()}
            kinds.add(classify(f, xs, H, point).kind.value)
        if len(kinds) > 1:
            return None, f"family {family.description}: the kind varies ({', '.join(sorted(kinds))})"
        (kind,) = kinds
        if family.kind and family.kind != kind:
            return kind, (f"family {family.description}: exact evaluation at parameters in {{-1, 0, 1}} "
                          f"gives {kind}, not {family.kind}")
        return kind, None
    bound = structural_bound(f, sub)
    if bound is not None:
        return bound[0].value, None
    value = sp.expand(f.xreplace(sub))
    if f.is_polynomial(*xs) and not value.free_symbols:
        proof = sign_definite_polynomial(f - value, xs)
        if proof:
            return ("minimum" if proof[0] > 0 else "maximum"), None
    return family.kind, None
