r"""Exact and complete real solutions of polynomial systems (the gradient of a polynomial f).

``solve_polynomial(equations, variables, deadline=...)`` returns every real solution, exactly:

1. **Separable blocks.** Equations that share no variable are solved apart and combined (3^n points of
   Styblinski-Tang cost n cubics, not one system of degree 3^n).
2. **Linear elimination.** An equation ``c*v + rest`` with a constant c != 0 gives ``v = -rest/c``; it
   is substituted everywhere (Rosenbrock's chain: x_n = x_{n-1}^2, then x_{n-1} = (200 x_{n-2}^2 + 2)/202,
   which turns a Groebner basis that SymPy cannot finish into one it computes at once).
3. **Common factors** g = gcd(equations) are solution *hypersurfaces*: families ("x = 0, y any real",
   "x = y, y any real"); the rest (equations / g) is solved on its own and points lying on a family are
   dropped.
4. **Zero-dimensional systems**: grevlex Groebner basis, then the rational univariate representation
   (``_poly_rur``): x_k = q_k(t), chi(t) = 0; chi is factored over QQ and its real roots are isolated
   exactly; coordinates become Rationals, square roots or ``CRootOf`` of their own minimal polynomials
   (``_poly_real``).
5. **Positive-dimensional systems** without common factor are split along the factors of a Groebner
   basis element; what cannot be decomposed is reported in ``notes`` with ``complete=False``.

``complete=True`` is claimed only when every step was exact and decisive.

>>> import sympy as sp
>>> x, y = sp.symbols("x y", real=True)
>>> f = (x**2 + y - 11)**2 + (x + y**2 - 7)**2          # Himmelblau: 9 critical points
>>> sol = solve_polynomial([f.diff(x), f.diff(y)], (x, y), deadline=float("inf"))
>>> len(sol.points), sol.complete, sol.exact, {x: 3, y: 2} in sol.points
(9, True, True, True)
>>> g = x**2 * y**2
>>> fams = solve_polynomial([g.diff(x), g.diff(y)], (x, y), deadline=float("inf")).families
>>> [fam.description for fam in fams]
['x = 0, y any real', 'y = 0, x any real']
"""

from __future__ import annotations

import sympy as sp
from sympy.core.sympify import _sympify  # strict: refuses strings, never parses text
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

from symgd.critical._poly_linalg import check_deadline
from symgd.critical._poly_solver import Solver
from symgd.critical._types import RawSolution

__all__ = ["solve_polynomial"]


def solve_polynomial(equations, variables, *, deadline: float) -> RawSolution | None:
    """All real solutions of ``equations = 0`` (polynomials over QQ in ``variables``), exactly.

    Parameters
    ----------
    equations : sequence of sympy.Expr
        The gradient components (any polynomial system works).
    variables : sequence of sympy.Symbol
        The unknowns, in order.
    deadline : float
        A ``time.monotonic()`` value; past it, :class:`~symgd.errors.BudgetError` is raised.

    Returns
    -------
    RawSolution or None
        None when an equation is not a polynomial in ``variables`` with rational coefficients
        (Floats, sqrt(2), other symbols). Points are dicts of exact numbers; infinite solution sets are
        :class:`~symgd.critical._types.Family` objects.
    """
    variables = tuple(variables)
    lifted = _to_ring(equations, variables)
    if lifted is None:
        return None
    check_deadline(deadline)
    R, polys, hidden = lifted
    if R is None:
        consistent = all(not p for p in polys)
        return RawSolution([{}] if consistent else [], [], True, True, "univariate")
    solver = Solver(R, deadline)
    if hidden:
        solver.tags["algebraic"] = None
    points, families = solver.top(polys, hidden=hidden)
    method = "+".join(solver.tags) or "linear"
    return RawSolution(points, families, solver.complete, True, method, solver.notes)


def _to_ring(equations, variables) -> tuple | None:
    """(ring over QQ, elements, hidden) for polynomial equations, or None.

    Coefficients in a real algebraic number field QQ(a) (sqrt(2), ...) become polynomials in an extra
    variable t with the minimal polynomial of a among the equations; ``hidden = (t, a)`` tells the
    solver to keep only the solutions with t = a (and to drop t).
    """
    exprs = [_sympify(e) for e in equations]
    if any(e.has(sp.Float) or not e.is_polynomial(*variables) for e in exprs):
        return None
    if not variables:
        return (None, [QQ(0) if e == 0 else QQ(1) for e in exprs], ()) if all(e.is_Rational for e in exprs) \
            else None
    try:
        polys, opt = sp.parallel_poly_from_expr(exprs, *variables, extension=True)
    except (sp.PolynomialError, sp.CoercionFailed, sp.GeneratorsNeeded):
        return None
    K = opt.domain
    if K.is_ZZ or K.is_QQ:
        R = ring(variables, QQ)[0]
        return R, [R.from_dict({m: QQ.convert(c, K) for m, c in p.rep.to_dict().items()}) for p in polys], ()
    if not K.is_AlgebraicField or K.ext.as_expr().is_real is not True:
        return None
    t = sp.Dummy("a", real=True)
    R = ring((*variables, t), QQ)[0]
    gen = R.gens[-1]

    def lift(coeffs):  # an element of K (coefficients in the primitive element, highest first)
        return sum((c * gen ** (len(coeffs) - 1 - i) for i, c in enumerate(coeffs)), R.zero)

    out = [lift(K.mod.to_list())]
    for p in polys:
        out.append(sum((lift(c.to_list()) * R.from_dict({m + (0,): QQ(1)}) for m, c in p.rep.to_dict().items()),
                       R.zero))
    return R, out, (t, K.ext.as_expr())
