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
    def gradient(self) -> sp.Matrix:
        """Column vector of first partial derivatives, in variable order."""
        return sp.Matrix([sp.diff(self.expr, v) for v in self.variables])

    @cached_property
    def hessian(self) -> sp.Matrix:
        """Matrix of second partial derivatives (computed from the gradient; symmetric by construction)."""
        n, g, xs = self.n, self.gradient, self.variables
        H = sp.zeros(n, n)
        for i in range(n):
            for j in range(i, n):
                H[i, j] = H[j, i] = sp.diff(g[i], xs[j])
        return H

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
