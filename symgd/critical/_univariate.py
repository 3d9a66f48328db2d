r"""One equation in one real unknown: exact, complete real solution sets, or None.

``solve_one`` tries, in order: exact real-root isolation for rational functions with rational
coefficients (``real_roots``: integers, square roots or ``CRootOf``, never Cardano radicals);
``solveset(g, x, Reals)`` read back into points and integer-parameter families (``ImageSet``),
with excluded points (``Complement``); and for a ``ConditionSet`` the LambertW forms.

LambertW: ``w e^w = z`` has the real solutions ``W_0(z)`` for ``z >= 0``, both ``W_0(z)`` and
``W_{-1}(z)`` for ``-1/e < z < 0``, the single ``w = -1`` at ``z = -1/e`` and none below; the signs
of ``z`` and ``z + 1/e`` are decided by SymPy on exact numbers (or the form is declined). SymPy's
``solveset`` returns a ``ConditionSet`` for all of these (``exp(x) + 2*x``), and ``solve`` gives
branches without saying whether they are real or complete.
"""

from __future__ import annotations

import sympy as sp

from symgd.critical._families import Branch

__all__ = ["exp_form", "lambert_roots", "solve_one"]


def solve_one(eqs, x, ctx):
    """Solutions of ``eqs[0] = 0`` in one real unknown, checked against the other equations."""
    ctx.check()
    eq = exp_form(eqs[0])
    branches = _rational_roots(eq, x, ctx)
    if branches is None:
        try:
            solset = sp.solveset(eq, x, sp.S.Reals)
        except (NotImplementedError, ValueError, TypeError):
            solset = sp.ConditionSet(x, sp.Eq(eq, 0), sp.S.Reals)
        branches = _read_set(solset, x, ctx)
    if branches is None or len(eqs) == 1:
        return branches
    keep = []
    for b in branches:  # the other equations hold on a whole branch, or on none of it
        zero = [sp.simplify(e.xreplace(b.values)).is_zero for e in eqs[1:]]
        if None in zero:
            return None
        if all(zero):
            keep.append(b)
    return keep


def _rational_roots(eq, x, ctx):
    """A rational function with rational coefficients: exact real-root isolation (``CRootOf``).

    ``real_roots`` gives integers, rationals, square roots or ``CRootOf`` objects, never the
    Cardano/Ferrari radicals that ``solveset`` prints for cubics and quartics; poles are removed.
    """
    num, den = sp.fraction(sp.together(eq))
    if not (num.is_polynomial(x) and den.is_polynomial(x)) or not num.has(x):
        return None
    poly = sp.Poly(num, x)
    if not (poly.domain.is_ZZ or poly.domain.is_QQ):
        return None
    roots = list(dict.fromkeys(sp.real_roots(poly)))
    ctx.used("real_roots")
    return [Branch({x: r}) for r in roots if den.xreplace({x: r}).is_zero is False]


def _read_set(s, x, ctx):
    """Turn a solveset answer into branches; None if it is not a complete, readable real set."""
    if s is sp.S.EmptySet:
        return []
    if s == sp.S.Reals:
        t = sp.Dummy("t", real=True)
        return [Branch({x: t}, (t,))]
    if isinstance(s, sp.FiniteSet):
        if any(v.is_real is not True for v in s):
            return None
        ctx.used("solveset")
        return [Branch({x: v}) for v in s]
    if isinstance(s, sp.Union):
        parts = [_read_set(a, x, ctx) for a in s.args]
        return None if any(p is None for p in parts) else [b for p in parts for b in p]
    if isinstance(s, sp.ImageSet):
        return _read_image(s, x, ctx)
    if isinstance(s, sp.Complement) and isinstance(s.args[1], sp.FiniteSet):
        base = _read_set(s.args[0], x, ctx)
        if base is not None:
            for b in base:
                b.excluded.extend({x: v} for v in s.args[1])
        return base
    if isinstance(s, sp.Intersection):
        return _read_intersection(s, x, ctx)
    if isinstance(s, sp.ConditionSet) and isinstance(s.condition, sp.Eq):
        roots = lambert_roots(s.condition.lhs - s.condition.rhs, s.sym)
        if roots is None:
            return None
        ctx.used("lambert")
        members = [s.base_set.contains(r) for r in roots]
        if any(m not in (sp.true, sp.false) for m in members):
            return None
        return [Branch({x: r.xreplace({s.sym: x})}) for r, m in zip(roots, members) if m == sp.true]
    return None


def _read_intersection(s, x, ctx):
    finite = [a for a in s.args if isinstance(a, sp.FiniteSet)]
    if not finite:
        return None
    others = [a for a in s.args if a is not finite[0]]
    keep = []
    for v in finite[0]:
        members = [o.contains(v) for o in others]
        if any(m not in (sp.true, sp.false) for m in members):
            return None
        if all(m == sp.true for m in members):
            keep.append(v)
    return _read_set(sp.FiniteSet(*keep), x, ctx)


def _read_image(s, x, ctx):
    """``ImageSet(Lambda(n, e), Integers)`` as a branch with an integer parameter."""
    if s.base_set != sp.S.Integers:
        return None
    n, expr = s.lamda.variables[0], s.lamda.expr
    k = sp.Dummy("k", integer=True)
    e = expr.xreplace({n: k})
    if e.is_polynomial(k) and sp.degree(e, k) == 1:
        a, b = sp.Poly(e, k).all_coeffs()[::-1]
        if a.is_real and b.is_real:
            ctx.used("solveset")
            return [Branch({x: e}, (k,))]
        return None
    shifted = _real_part_of_root_family(e, k)
    if shifted is None:
        return None
    ctx.used("solveset")
    return [Branch({x: shifted[0]}, (shifted[1],))]


def _real_part_of_root_family(e, k):
    """``c0 + c1*(a + b*k)**r`` (r > 0 not an integer) is real only for k on one side: reindex.

    solveset returns e.g. ``sqrt(2*n*pi + pi/2)`` over all integers for ``x*cos(x**2) = 0``; the
    real members are n >= 0. Returns ``(expr in j, j)`` with j a nonnegative integer, or None.
    """
    pows = [p for p in e.atoms(sp.Pow) if p.has(k)]
    if len(pows) != 1 or not pows[0].exp.is_Rational or pows[0].exp.is_integer or pows[0].exp < 0:
        return None
    p = pows[0]
    T = sp.Dummy("T")
    lin = e.xreplace({p: T})
    if lin.has(k) or not lin.is_polynomial(T) or sp.degree(lin, T) != 1:
        return None
    if not (p.base.is_polynomial(k) and sp.degree(p.base, k) == 1):
        return None
    a, b = sp.Poly(p.base, k).all_coeffs()[::-1]
    if not (a.is_real and b.is_real and b != 0):
        return None
    j = sp.Dummy("k", integer=True, nonnegative=True)
    start = sp.ceiling(-a / b) if b.is_positive else sp.floor(-a / b)
    return e.xreplace({k: start + j if b.is_positive else start - j}), j


def exp_form(e):
    """``a**x`` with a constant base a > 0 becomes ``exp(x*log(a))`` (LambertW patterns need exp)."""
    return e.replace(lambda t: t.is_Pow and t.base.is_number and t.base.is_positive and not t.exp.is_number,
                     lambda t: sp.exp(t.exp * sp.log(t.base)))


def lambert_roots(h, x):
    r"""Every real root of ``h = 0`` when h has a LambertW form; None otherwise.

    Forms (A, B, C, D, a, b, c real constants): ``A e^{Bx+c} + Cx + D`` gives
    ``x = -W(z)/B - D/C`` with ``z = (AB/C) e^{c - BD/C}``; ``(a x + b) e^{Bx+c} + D`` gives
    ``x = W(z)/B - b/a`` with ``z = -(DB/a) e^{Bb/a - c}``; ``A log(a x + b) + Cx + D`` is the first
    form in ``s = log(a x + b)``. Real branches of ``w e^w = z``: ``W_0`` for z >= 0; ``W_0`` and
    ``W_{-1}`` for -1/e < z < 0; ``w = -1`` for z = -1/e; none below.

    >>> x = sp.Symbol("x", real=True)
    >>> lambert_roots(sp.exp(x) - 3 * x, x)
    [-LambertW(-1/3), -LambertW(-1/3, -1)]
    """
    num, den = sp.fraction(sp.together(exp_form(h)))
    num = sp.expand(num)
    exps = [a for a in num.atoms(sp.exp) if a.has(x)]
    logs = [a for a in num.atoms(sp.log) if a.has(x)]
    if len(exps) == 1 and not logs:
        roots = _lambert_exp(num, x, exps[0])
    elif len(logs) == 1 and not exps:
        roots = _lambert_log(num, x, logs[0])
    else:
        return None
    if roots is None or any(den.xreplace({x: r}).is_zero is not False for r in roots if den.has(x)):
        return None
    return roots


def _coefficients(g, x, t):
    """``(c1, cx, ct, cxt)`` with ``g = c1 + cx*x + ct*t + cxt*x*t`` (real numbers), or None."""
    if not g.is_polynomial(x, t):
        return None
    co = {}
    for monom, c in sp.Poly(g, x, t).as_dict().items():
        if monom not in ((0, 0), (1, 0), (0, 1), (1, 1)) or not (c.is_number and c.is_real):
            return None
        co[monom] = c
    return tuple(co.get(m, sp.S.Zero) for m in ((0, 0), (1, 0), (0, 1), (1, 1)))


def _lambert_exp(h, x, E):
    u = E.args[0]
    B = sp.diff(u, x)
    c = sp.expand(u - B * x)
    if not (B.is_number and B.is_real and B != 0) or c.has(x):
        return None
    t = sp.Dummy("t")
    co = _coefficients(h.xreplace({E: t}), x, t)
    if co is None:
        return None
    D, C, A, alpha = co
    if alpha == 0 and A != 0 and C != 0:
        ws = _real_branches(A * B / C * sp.exp(c - B * D / C))
        return None if ws is None else [sp.expand(-w / B - D / C) for w in ws]
    if alpha != 0 and C == 0:
        if D == 0:
            return [-A / alpha]
        ws = _real_branches(-D * B / alpha * sp.exp(B * A / alpha - c))
        return None if ws is None else [sp.expand(w / B - A / alpha) for w in ws]
    return None


def _lambert_log(h, x, L):
    v = L.args[0]
    a = sp.diff(v, x)
    b = sp.expand(v - a * x)
    if not (a.is_number and a.is_real and a != 0) or b.has(x):
        return None
    s = sp.Dummy("s")
    co = _coefficients(h.xreplace({L: s}), x, s)
    if co is None or co[3] != 0 or co[2] == 0 or co[1] == 0:
        return None
    D, C, A = co[0], co[1], co[2]
    D2 = D - C * b / a  # C/a e^s + A s + D2 = 0: the first form in s with B = 1
    ws = _real_branches(C / (a * A) * sp.exp(-D2 / A))
    return None if ws is None else [sp.expand((sp.exp(-w - D2 / A) - b) / a) for w in ws]


def _real_branches(z):
    """The real solutions w of ``w e^w = z``, as LambertW values; None if a sign is undecidable."""
    if z.is_zero:
        return [sp.S.Zero]
    if z.is_positive:
        return [sp.LambertW(z)]
    if not z.is_negative:
        return None
    d = z + sp.exp(-1)
    if d.is_positive:
        return [sp.LambertW(z), sp.LambertW(z, -1)]
    if d.is_zero:
        return [sp.S.NegativeOne]
    return [] if d.is_negative else None
