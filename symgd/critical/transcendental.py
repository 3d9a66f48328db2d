r"""Exact routes for gradients that are not polynomial: solveset, LambertW, substitution.

``solve_exact`` solves ``g(x) = 0`` exactly and completely, or returns None. The system is
split into independent blocks (a separable ``f = g(x) + h(y)`` gives one block per variable)
and each block is solved by the first route that applies:

- **linear elimination**: an equation ``a*u + r = 0`` with a constant ``a != 0`` and ``r`` free
  of ``u`` fixes ``u = -r/a`` (substituted into the others);
- **one unknown** (``symgd.critical._univariate``): ``real_roots`` for rational functions,
  ``solveset(g, x, Reals)`` read back as points and integer-parameter families (``ImageSet`` ->
  ``x = pi/2 + 2*k*pi``), and the LambertW forms ``A e^{Bx+c} + Cx + D``, ``(a x + b) e^{Bx+c} + D``
  and ``A log(a x + b) + Cx + D`` with the real branches ``W_0``/``W_{-1}`` decided exactly;
- **triangular**: an equation in one unknown of a block is solved first, the rest on each branch
  (``e^x cos y = 0`` -> ``y = pi/2 + k*pi``, then ``e^x sin y = -2x`` by LambertW);
- **cases**: ``g1*g2 = 0`` splits into ``g1 = 0`` or ``g2 = 0`` (factors that never vanish, such
  as ``exp(...)``, are dropped);
- **polynomial blocks**: ``polynomial.solve_polynomial``;
- **curve**: a single distinct equation, strictly monotone in one unknown, gives a family with
  real parameters (``e^(x+y) = 1`` -> ``x = -t, y = t``);
- **substitution**: non-polynomial subterms such as ``exp(x+y)`` become new unknowns ``T``, the
  polynomial part is solved for the variables in terms of ``T``, and the consistency equations
  ``T = exp(x(T) + y(T))`` are solved in turn (``exp(x+y) + x^2 - y^2`` -> ``T = exp(0) = 1``).

Periodic solution sets become :class:`Family` objects, or, when a ``box`` is given, the points
inside it. ``complete=True`` always: a route that cannot prove completeness returns None.

>>> import sympy as sp
>>> x, y = sp.symbols("x y", real=True)
>>> solve_exact([sp.exp(x) + 2 * x], [x], deadline=float("inf")).points
[{x: -LambertW(1/2)}]
>>> f = sp.exp(x + y) + x**2 - y**2
>>> solve_exact([f.diff(x), f.diff(y)], [x, y], deadline=float("inf")).points
[{x: -1/2, y: 1/2}]
>>> sol = solve_exact([sp.cos(x), -sp.sin(y)], [x, y], deadline=float("inf"))
>>> for fam in sol.families:
...     print(fam.description, "->", fam.kind)
x = 2*pi*k + pi/2, y = 2*pi*m (k, m integers) -> maximum
x = 2*pi*k + pi/2, y = 2*pi*m + pi (k, m integers) -> saddle
x = 2*pi*k + 3*pi/2, y = 2*pi*m (k, m integers) -> saddle
x = 2*pi*k + 3*pi/2, y = 2*pi*m + pi (k, m integers) -> minimum
"""

from __future__ import annotations

import time

import sympy as sp

from symgd.critical._families import Branch, enumerate_in_box, family
from symgd.critical._univariate import solve_one
from symgd.critical._types import RawSolution
from symgd.errors import BudgetError

__all__ = ["solve_exact"]

_MAX_DEPTH = 2  # nested substitutions
_MAX_CASES = 64  # factor case splits per call


class _Context:
    def __init__(self, deadline):
        self.deadline, self.methods, self.cases = deadline, [], 0

    def check(self):
        if time.monotonic() > self.deadline:
            raise BudgetError("the transcendental route ran past its time budget")

    def used(self, method):
        if method not in self.methods:
            self.methods.append(method)


def solve_exact(equations, variables, *, deadline: float, box=None) -> RawSolution | None:
    """All real solutions of a non-polynomial gradient system, exactly; None when no route applies.

    Parameters
    ----------
    equations : sequence of sympy.Expr
        The gradient components ``g_i = 0``.
    variables : sequence of sympy.Symbol
    deadline : float
        ``time.monotonic()`` value; past it :class:`symgd.errors.BudgetError` is raised.
    box : dict, optional
        ``{Symbol or name: (lo, hi)}``: integer-parameter families are then enumerated as points
        inside the box (families with a real parameter stay families).

    Returns
    -------
    RawSolution or None
        ``exact=True`` and ``complete=True`` (within ``box`` if given), or None.
    """
    variables = tuple(variables)
    equations = [sp.Integer(e) if isinstance(e, int) else e for e in equations]  # SymPy expressions
    if all(_is_polynomial(e, variables) for e in equations):
        return None  # the polynomial route's job
    ctx = _Context(deadline)
    branches = _solve_system(equations, variables, ctx, 0)
    if branches is None:
        return None
    notes = []
    if box is not None:
        branches = enumerate_in_box(branches, variables, box, notes)
        if branches is None:
            return None
    hessian = sp.Matrix([[sp.diff(e, v) for v in variables] for e in equations])
    points = _unique([{v: b.values[v] for v in variables} for b in branches if not b.params])
    families = [family(b, variables, hessian) for b in branches if b.params]
    return RawSolution(points, families, True, True, "+".join(ctx.methods) or "solveset", notes)


def _unique(points):
    out = []
    for p in points:
        if p not in out:
            out.append(p)
    return out


def _is_polynomial(e, unknowns) -> bool:
    return e.is_polynomial(*unknowns)


# --------------------------------------------------------------------------- systems
def _solve_system(eqs, unknowns, ctx, depth):
    """Branches covering every real solution of ``eqs`` in ``unknowns``, or None."""
    ctx.check()
    live = []
    for e in eqs:
        if e.has(*unknowns):
            live.append(e)
        elif e.is_zero is False:
            return []  # a nonzero constant equation: no solution at all
        elif e.is_zero is None:
            return None
    for i, e in enumerate(live):
        for u in unknowns:
            a = sp.diff(e, u)
            if a.is_number and a != 0 and not sp.expand(e - a * u).has(u):
                return _eliminate(live[:i] + live[i + 1:], unknowns, u, -sp.expand(e - a * u) / a, ctx, depth)
    blocks = _blocks(live, unknowns)
    free = [u for u in unknowns if not any(e.has(u) for e in live)]
    pieces = [[Branch({u: t}, (t,)) for t in [sp.Dummy("t", real=True)]] for u in free]
    for block_eqs, block_unknowns in blocks:
        piece = _solve_block(block_eqs, block_unknowns, ctx, depth)
        if piece is None:
            return None
        pieces.append(piece)
    return _product(pieces)


def _eliminate(others, unknowns, u, value, ctx, depth):
    ctx.used("elimination")
    rest = _solve_system([sp.expand(o.subs(u, value)) for o in others], [v for v in unknowns if v != u],
                         ctx, depth)
    if rest is None:
        return None
    for b in rest:
        b.values[u] = sp.expand(value.xreplace(b.values))
    return rest


def _blocks(eqs, unknowns):
    """Connected components of the equation/unknown incidence graph."""
    groups = []
    for e in eqs:
        us = {u for u in unknowns if e.has(u)}
        merged = [g for g in groups if g[1] & us]
        for g in merged:
            groups.remove(g)
        groups.append(([e] + [x for g in merged for x in g[0]], us.union(*(g[1] for g in merged))))
    return [(es, [u for u in unknowns if u in us]) for es, us in groups]


def _solve_block(eqs, unknowns, ctx, depth):
    if len(unknowns) == 1:
        return solve_one(eqs, unknowns[0], ctx)
    eqs = _distinct(eqs)
    if len(eqs) == 1:
        return _curve(eqs[0], unknowns, ctx)
    if len(eqs) != len(unknowns):
        return None
    polynomial = all(_is_polynomial(e, unknowns) for e in eqs)
    if polynomial:
        solved = _polynomial(eqs, unknowns, ctx)
        if solved is not None:
            return solved
    for e in ([] if polynomial else eqs):
        single = [u for u in unknowns if e.has(u)]
        if len(single) == 1:
            return _triangular(eqs, unknowns, single[0], ctx, depth)
    split = _split_product(eqs, unknowns, ctx, depth)
    if split is not NotImplemented or polynomial:
        return None if split is NotImplemented else split
    if depth >= _MAX_DEPTH:
        return None
    return _substitute(eqs, unknowns, ctx, depth)


def _distinct(eqs):
    """Drop equations that are constant multiples of an earlier one (f(x + y) repeats f')."""
    out = []
    for e in eqs:
        if not any(sp.simplify(e / o).is_number for o in out):
            out.append(e)
    return out


def _curve(eq, unknowns, ctx):
    """One equation in several unknowns: solved for an unknown in which it is strictly monotone.

    ``e^(x+y) = 1`` is increasing in x for every y, so each y gives at most one x, and
    ``x = -y`` (y any real) is the whole solution set; None if no unknown qualifies.
    """
    for u in unknowns:
        slope = sp.diff(eq, u)
        if not (slope.is_positive or slope.is_negative):
            continue
        try:
            solset = sp.solveset(eq, u, sp.S.Reals)
        except (NotImplementedError, ValueError, TypeError):
            continue
        if isinstance(solset, sp.FiniteSet) and len(solset) == 1 and next(iter(solset)).is_real:
            ctx.used("curve")
            free = {v: sp.Dummy("t", real=True) for v in unknowns if v != u}
            value = next(iter(solset)).xreplace(free)
            return [Branch({u: value, **free}, tuple(free.values()))]
    return None


def _triangular(eqs, unknowns, u, ctx, depth):
    """Solve the equations in ``u`` alone first, then the rest on each of their branches."""
    alone = [e for e in eqs if not e.has(*[v for v in unknowns if v != u])]
    others = [e for e in eqs if e not in alone]
    first = solve_one(alone, u, ctx)
    if first is None:
        return None
    ctx.used("triangular")
    out = []
    for b in first:
        rest = _solve_system([e.xreplace(b.values) for e in others], [v for v in unknowns if v != u], ctx, depth)
        if rest is None:
            return None
        out.extend(Branch({**r.values, **b.values}, b.params + r.params, b.excluded + r.excluded) for r in rest)
    return out


def _split_product(eqs, unknowns, ctx, depth):
    """``g1*g2 = 0`` splits into the cases ``g1 = 0`` and ``g2 = 0`` (factors never zero dropped)."""
    for i, e in enumerate(eqs):
        factors = _zero_factors(e, unknowns)
        if factors is None or len(factors) < 2:
            continue
        ctx.cases += len(factors) - 1
        if ctx.cases > _MAX_CASES:
            return None
        ctx.used("cases")
        out = []
        for g in factors:
            part = _solve_system(eqs[:i] + [g] + eqs[i + 1:], unknowns, ctx, depth)
            if part is None:
                return None
            out.extend(part)
        return out
    return NotImplemented


def _zero_factors(e, unknowns):
    """The factors of e that can vanish, or None when a denominator of e may vanish."""
    factors = []
    for g in sp.Mul.make_args(sp.factor(e)):
        base, power = g.as_base_exp()
        if not base.has(*unknowns) or (power.is_negative and base.is_nonzero):
            continue  # 2*y/(1 + x**2 + y**2): the denominator is never 0
        if not (power.is_Integer and power > 0):
            return None
        if base.is_nonzero is not True and base not in factors:
            factors.append(base)
    return factors


def _product(pieces):
    out = [Branch({}, (), [])]
    for piece in pieces:
        out = [Branch({**a.values, **b.values}, a.params + b.params, a.excluded + b.excluded)
               for a in out for b in piece]
    return out


# --------------------------------------------------------------------------- several unknowns
def _polynomial(eqs, unknowns, ctx):
    """A polynomial block: ``polynomial.solve_polynomial``, which must report completeness."""
    ctx.check()
    try:
        from symgd.critical.polynomial import solve_polynomial
    except ImportError:  # TODO(helper P): remove once symgd.critical.polynomial has landed
        return _polynomial_fallback(eqs, unknowns, ctx)
    sol = solve_polynomial(eqs, unknowns, deadline=ctx.deadline)
    if sol is None or not sol.complete:
        return None
    ctx.used("polynomial")
    out = [Branch(dict(p)) for p in sol.points]
    for fam in sol.families:
        out.append(Branch(dict(fam.parametrization), tuple(fam.parameters)))
    return out


def _polynomial_fallback(eqs, unknowns, ctx):
    """TODO(helper P): ``solve_poly_system(strict=True)`` raises where it would drop solutions."""
    try:
        if list(sp.groebner(eqs, *unknowns)) == [1]:
            return []  # inconsistent: no solution, even complex
        sols = sp.solve_poly_system(eqs, *unknowns, strict=True)
    except (NotImplementedError, sp.PolynomialError, sp.polys.polyerrors.UnsolvableFactorError):
        return None
    if sols is None:
        return None
    if any(v.is_real is None for s in sols for v in s):
        return None
    ctx.used("solve_poly_system")
    return [Branch(dict(zip(unknowns, s))) for s in sols if all(v.is_real for v in s)]


def _substitute(eqs, unknowns, ctx, depth):
    """Replace non-polynomial subterms by new unknowns T, solve for the variables, then for T."""
    atoms = sorted(_nonpolynomial_atoms(eqs, unknowns), key=sp.default_sort_key)
    T = [sp.Dummy("T", real=True) for _ in atoms]
    to_T = dict(zip(atoms, T))
    system, denominators = [], []
    for e in eqs:
        num, den = sp.fraction(sp.together(e.xreplace(to_T)))
        system.append(sp.expand(num))
        denominators.append(den)
    if not all(_is_polynomial(e, [*unknowns, *T]) for e in system):
        return None
    solved, rest = _eliminate_variables(system, list(unknowns))
    free = [u for u in unknowns if u not in solved]  # still unknown, next to T
    consistency = [t - a.xreplace(solved) for t, a in zip(T, atoms)]
    ctx.used("substitution")
    inner = _solve_system(consistency + rest, [*T, *free], ctx, depth + 1)
    if inner is None:
        return None
    out = []
    for b in inner:
        values = {u: b.values[u] for u in free}
        values.update({u: sp.expand(v.xreplace(b.values)) for u, v in solved.items()})
        ok = [sp.simplify(d.xreplace(values)).is_zero for d in denominators]
        if any(z is None for z in ok):
            return None
        if not any(ok):
            out.append(Branch(values, b.params, b.excluded))
    return out


def _nonpolynomial_atoms(eqs, unknowns):
    """Maximal subterms containing the unknowns that are not sums, products or integer powers."""
    found = set()

    def walk(e):
        if not e.has(*unknowns) or e.is_Symbol:
            return
        if e.is_Add or e.is_Mul or (e.is_Pow and e.exp.is_Integer):
            for a in e.args:
                walk(a)
        else:
            found.add(e)

    for e in eqs:
        walk(e)
    return found


def _eliminate_variables(system, variables):
    """Repeated linear elimination of ``variables`` (constant coefficients): (solved, rest)."""
    solved, rest = {}, list(system)
    progress = True
    while progress:
        progress = False
        for i, e in enumerate(rest):
            for u in variables:
                a = sp.diff(e, u)
                if u not in solved and a.is_number and a != 0 and not sp.expand(e - a * u).has(u):
                    value = -sp.expand(e - a * u) / a
                    solved = {v: sp.expand(w.subs(u, value)) for v, w in solved.items()}
                    solved[u] = value
                    rest = [sp.expand(o.subs(u, value)) for j, o in enumerate(rest) if j != i]
                    rest = [o for o in rest if o != 0]
                    progress = True
                    break
            if progress:
                break
    return solved, rest


