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

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from symgd import _store

if TYPE_CHECKING:  # pragma: no cover
    import sympy as sp

    from symgd.critical import CriticalPoints
    from symgd.kernels import Kernels


def __getattr__(name):  # symgd.problem.partials, as before the derivatives moved to symgd._symbolic
    if name == "partials":
        from symgd._symbolic import partials

        return partials
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

    A problem made from text that some process made before is read from the store (``symgd._store``):
    its names are known, and ``expr`` and ``variables`` are parsed again on first use, so a run needs no
    SymPy at all. ``names`` gives the variables' names without building them.
    """

    expr: Any
    variables: tuple = field(default=())

    def __post_init__(self):
        key = _store.text_key(self.expr, self.variables or None) if isinstance(self.expr, str) else None
        record = _store.load(key) or {}
        names, constants = record.get("names"), record.get("constants")
        d = self.__dict__
        if _strings(names) and _strings(constants):  # seen before: SymPy waits until expr is asked for
            del d["expr"], d["variables"]
            d["_text_key"], d["names"], d["_constants"] = key, tuple(names), tuple(constants)
            return
        self._build()
        if key is not None:
            d["_text_key"] = key
            _store.save(key, names=list(self.names), constants=list(self._constants))

    def _build(self):
        from symgd._symbolic import build

        given = self.__dict__.get("_text_key")
        expr, variables = build(*given) if given else build(self.expr, self.variables)
        object.__setattr__(self, "expr", expr)
        object.__setattr__(self, "variables", variables)

    def __getattr__(self, name):
        """``expr`` and ``variables`` of a problem read from the store: parsed on first use."""
        d = self.__dict__
        if name in ("expr", "variables") and "_text_key" in d and "names" in d:
            self._build()
            return d[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The variables' names, in order (without building SymPy objects for a problem read from the store)."""
        return tuple(v.name for v in self.variables)

    @cached_property
    def _key(self):
        """What identifies the problem for the kernel caches: the text and variables as typed, else the SymPy pair."""
        return self.__dict__.get("_text_key") or (self.expr, self.variables)

    @property
    def n(self) -> int:
        """Number of variables."""
        return len(self.names)

    @cached_property
    def _constants(self) -> tuple[str, ...]:
        """Names of the free symbols that are not variables (parameters), sorted."""
        return tuple(sorted(s.name for s in self.expr.free_symbols - set(self.variables)))

    @cached_property
    def gradient(self) -> sp.Matrix:
        """Column vector of first partial derivatives, in variable order (``partials``: per term of a sum)."""
        from symgd._symbolic import gradient

        return gradient(self.expr, self.variables)

    @cached_property
    def hessian(self) -> sp.Matrix:
        """Matrix of second partial derivatives: the upper triangle from the gradient, mirrored.

        Only the pairs (i, j), j >= i, where :math:`x_j` occurs in :math:`g_i` are differentiated;
        every other entry is exactly zero.
        """
        from symgd._symbolic import hessian

        return hessian(self.gradient, self.variables)

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

    def _printed(self) -> str:
        """``sympy.sstr(self.expr)``, kept in the store's record of a problem made from text (for reprs)."""
        key = self.__dict__.get("_text_key")
        text = _store.get(key, "sstr")
        if type(text) is not str:
            import sympy as sp

            text = sp.sstr(self.expr)
            _store.save(key, sstr=text)
        return text

    def __repr__(self) -> str:
        return f"Problem({self._printed()}, variables=({', '.join(self.names)}{',' if self.n == 1 else ''}))"

    def _repr_latex_(self) -> str:
        """f, its gradient (column) and Hessian (matrix) as the slides write them; MathJax-safe."""
        import sympy as sp

        args = ", ".join(sp.latex(v) for v in self.variables)
        mat = {"mat_str": "bmatrix", "mat_delim": ""}
        lines = [rf"f({args}) &= {sp.latex(self.expr)}"]
        if self.n:
            lines.append(rf"\nabla f &= {sp.latex(self.gradient, **mat)}")
            lines.append(rf"\nabla^2 f &= {sp.latex(self.hessian, **mat)}")
        return r"$\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}$"


del Problem.variables  # no class attribute: a problem read from the store finds ``variables`` by __getattr__


def _strings(v) -> bool:
    return isinstance(v, list) and all(type(s) is str for s in v)
