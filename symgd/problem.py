"""``Problem``: an objective f with its variables, gradient and Hessian (exact, SymPy).

>>> from symgd import Problem
>>> p = Problem("x1^2 + x1 - 4*x1*x2 + x1^3*x2")
>>> p.variables
(x1, x2)
>>> p.gradient.T
Matrix([[3*x1**2*x2 + 2*x1 - 4*x2 + 1, x1**3 - 4*x1]])
>>> p.hessian
Matrix([
[6*x1*x2 + 2, 3*x1**2 - 4],
[3*x1**2 - 4,           0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy import S
from sympy.ntheory.multinomial import multinomial_coefficients_iterator

from symgd.errors import InputError
from symgd.parse import natural_key, parse

if TYPE_CHECKING:  # pragma: no cover
    from symgd.critical import CriticalPoints
    from symgd.kernels import Kernels


def _as_symbols(variables, expr: sp.Expr) -> tuple[sp.Symbol, ...]:
    """Turn names or Symbols into the Symbols of ``expr`` (matching by name), in the given order."""
    by_name = {s.name: s for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    if isinstance(variables, str):
        variables = [v.strip() for v in variables.split(",") if v.strip()]
    out = []
    for v in variables:
        if isinstance(v, sp.Symbol):
            out.append(v)
        elif isinstance(v, str):
            out.append(by_name.get(v, sp.Symbol(v, real=True)))
        else:
            raise InputError(f"a variable must be a name or a SymPy Symbol, got {v!r}")
    if len(set(out)) != len(out):
        raise InputError(f"variables repeat a name: {', '.join(map(str, out))}")
    return tuple(out)


_NOT_FINITE = (S.Infinity, S.NegativeInfinity, S.ComplexInfinity, S.NaN)


def _derivative(e: sp.Expr, v: sp.Symbol, memo: dict) -> sp.Expr:
    """``e.diff(v)``, computed by SymPy's own rules for sums, products and numeric powers without ``Derivative``.

    ``Derivative.__new__`` asks the assumptions system whether every intermediate result is zero, and
    ``Pow._eval_derivative`` builds ``log(base)`` to multiply it by the zero derivative of a numeric
    exponent: two thirds of the time of a Rosenbrock gradient. The rules below are those of
    ``Add._eval_derivative``, ``Mul._eval_derivative_n_times`` (one factor differentiated at a time, in the
    order of ``multinomial_coefficients_iterator``) and ``Pow._eval_derivative`` with the zero term left out,
    so the results are the same expressions; every other node goes to ``e.diff(v)`` whole.
    """
    if isinstance(e, sp.Symbol):
        return S.One if e == v else S.Zero
    if e.is_Number:
        return S.Zero
    key = (e, v)
    if key in memo:
        return memo[key]
    if e.is_Add:
        out = sp.Add(*[_derivative(a, v, memo) for a in e.args])
    elif e.is_Mul and e.is_commutative:
        args, terms = e.args, []
        for kvals, _ in multinomial_coefficients_iterator(len(args), 1):  # coefficient 1 when n = 1
            i = kvals.index(1)
            d = _derivative(args[i], v, memo)
            if d is not S.Zero:
                terms.append(sp.Mul(*args[:i], d, *args[i + 1:]))
        out = sp.Add(*terms)
    elif e.is_Pow and e.exp.is_Number:
        d = _derivative(e.base, v, memo)  # d(b^c) = b^c * (0*log(b) + b' c / b)
        out = S.Zero if d is S.Zero else e * (d * e.exp / e.base)
    else:
        out = e.diff(v)
    memo[key] = out
    return out


def partials(expr: sp.Expr, variables: Sequence[sp.Symbol]) -> list[sp.Expr]:
    r""":math:`\partial e / \partial v` for each ``v`` in ``variables``: ``[sp.diff(expr, v) for v in variables]``.

    A sum :math:`e = \sum_k t_k` is differentiated term by term, each variable only in the terms that contain
    it (found once, from ``free_symbols``): :math:`\partial_v e = \sum_{k: v \in t_k} \partial_v t_k`. That is
    what ``Add._eval_derivative`` computes, without the calls on the terms free of ``v`` (the zeros it drops):
    the n-variable chained Rosenbrock function needs O(n) term derivatives instead of O(n^2). Sums, products
    and numeric powers inside the terms follow SymPy's rules directly (``_derivative``).

    >>> import sympy as sp
    >>> x, y, z = sp.symbols("x y z", real=True)
    >>> partials(x**2*y + sp.exp(y) + 3, (x, y, z))
    [2*x*y, x**2 + exp(y), 0]
    """
    if expr.has(*_NOT_FINITE) or any(s.is_finite is False for s in expr.free_symbols):
        return [expr.diff(v) for v in variables]  # 0 * oo is nan: the zero products skipped below would matter
    terms = expr.args if expr.is_Add else (expr,)
    wanted, memo = set(variables), {}
    where: dict[sp.Symbol, list[sp.Expr]] = {v: [] for v in variables}
    for t in terms:
        for v in t.free_symbols & wanted:
            where[v].append(t)  # terms keep their order within each variable's list
    return [sp.Add(*[_derivative(t, v, memo) for t in where[v]]) for v in variables]


@dataclass(frozen=True)
class Problem:
    """The objective ``f(variables)``; gradient and Hessian are derived once and cached.

    Parameters
    ----------
    expr : str or sympy.Expr
        The objective. A string goes through symgd's safe parser (never ``eval``).
    variables : sequence of str or Symbol, optional
        The order of the variables; by default the free symbols in natural order (``x2`` before ``x10``).
        Symbols not listed are constants for differentiation (parameters).
    """

    expr: Any
    variables: tuple = field(default=())

    def __post_init__(self):
        expr, variables = self.expr, self.variables
        if isinstance(expr, str):
            expr, variables = parse(expr, variables=variables or None)  # the parsed (real) symbols, in order
        elif isinstance(expr, (int, float)) and not isinstance(expr, bool):
            expr = sp.nsimplify(expr) if isinstance(expr, float) else sp.Integer(expr)
        elif not isinstance(expr, sp.Expr):
            raise InputError(f"Problem needs a string or a SymPy expression, got {type(expr).__name__}")
        if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise InputError(f"the objective is not finite: {expr}")
        if variables:
            variables = _as_symbols(variables, expr)
        else:
            variables = tuple(sorted((s for s in expr.free_symbols if isinstance(s, sp.Symbol)),
                                     key=lambda s: natural_key(s.name)))
        object.__setattr__(self, "expr", expr)
        object.__setattr__(self, "variables", variables)

    @property
    def n(self) -> int:
        """Number of variables."""
        return len(self.variables)

    @cached_property
    def _constants(self) -> tuple[str, ...]:
        """Names of the free symbols that are not variables (parameters), sorted."""
        return tuple(sorted(s.name for s in self.expr.free_symbols - set(self.variables)))

    @cached_property
    def gradient(self) -> sp.Matrix:
        """Column vector of first partial derivatives, in variable order (``partials``: per term of a sum)."""
        return sp.Matrix(self.n, 1, partials(self.expr, self.variables))

    @cached_property
    def hessian(self) -> sp.Matrix:
        """Matrix of second partial derivatives: the upper triangle from the gradient, mirrored.

        Only the pairs (i, j), j >= i, where :math:`x_j` occurs in :math:`g_i` are differentiated;
        every other entry is exactly zero.
        """
        n, xs = self.n, self.variables
        H = [S.Zero] * (n * n)
        for i, gi in enumerate(self.gradient):
            for j, hij in zip(range(i, n), partials(gi, xs[i:])):
                H[i * n + j] = H[j * n + i] = hij
        return sp.Matrix(n, n, H)

    @cached_property
    def kernels(self) -> Kernels:
        """NumPy kernels for f, gradient and Hessian over batches (compiled on first use)."""
        from symgd.kernels import compile_kernels

        return compile_kernels(self)

    def critical_points(self, **options) -> CriticalPoints:
        """Every critical point, found and classified exactly where possible (see ``symgd.critical``)."""
        from symgd.critical import critical_points

        return critical_points(self, **options)

    def minimize(self, method, x0, steps: int = 100, **options):
        """Run an optimizer from ``x0`` (shape (d,) or (N, d)); see ``symgd.minimize.minimize``."""
        from symgd.minimize import minimize

        return minimize(self, method, x0, steps=steps, **options)

    def __repr__(self) -> str:
        names = ", ".join(v.name for v in self.variables)
        return f"Problem({sp.sstr(self.expr)}, variables=({names}{',' if self.n == 1 else ''}))"

    def _repr_latex_(self) -> str:
        """f, its gradient (column) and Hessian (matrix) as the slides write them; MathJax-safe."""
        args = ", ".join(sp.latex(v) for v in self.variables)
        mat = {"mat_str": "bmatrix", "mat_delim": ""}
        lines = [rf"f({args}) &= {sp.latex(self.expr)}"]
        if self.n:
            lines.append(rf"\nabla f &= {sp.latex(self.gradient, **mat)}")
            lines.append(rf"\nabla^2 f &= {sp.latex(self.hessian, **mat)}")
        return r"$\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}$"
