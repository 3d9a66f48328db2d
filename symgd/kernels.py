"""NumPy kernels for f, gradient and Hessian: the only module that calls ``lambdify``.

Every kernel takes an array of shape ``(..., n)`` and returns ``(...)``, ``(..., n)`` or
``(..., n, n)``: constant entries (which ``lambdify`` returns as Python scalars, and which make a
mixed Hessian raise "inhomogeneous shape") are broadcast to the batch shape.

Compiling scales to hundreds of variables: two generated functions, ``f_and_grad`` (f and the
gradient with their common subexpressions shared) and a sparse Hessian (only the nonzero entries of
the upper triangle are printed; the rest are preset zeros and mirrors); ``grad`` is ``f_and_grad``'s
second output, and ``f`` alone is compiled on its first call. Arguments and temporaries are printed
under fresh identifiers instead of ``lambdify``'s ``dummify``, which substitutes every argument into
every expression one at a time (quadratic in the number of variables; 80 % of the compile time of a
100-variable Rosenbrock function).

>>> import numpy as np
>>> from symgd import Problem
>>> k = Problem("x^2 + 3*y^2 + x*y").kernels
>>> k.hess(np.zeros((5, 2))).shape
(5, 2, 2)
>>> k.grad(np.array([[1.0, 1.0]])).tolist()
[[3.0, 7.0]]
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import sympy as sp
from sympy.core.sympify import _sympify  # strict: refuses strings, never parses text
from sympy.printing.numpy import NumPyPrinter

from symgd.problem import Problem

Array = np.ndarray


class Kernels(NamedTuple):
    """Batched NumPy functions of one problem."""

    n: int
    f: Callable[[Array], Array]  # (..., n) -> (...)
    grad: Callable[[Array], Array]  # (..., n) -> (..., n)
    hess: Callable[[Array], Array]  # (..., n) -> (..., n, n)
    f_and_grad: Callable[[Array], tuple[Array, Array]]  # one call, shared subexpressions
    source: str  # generated code of f_and_grad, for teaching


def _fresh(prefix: str, taken: set[str]) -> Callable[[int], str]:
    """Names ``prefix + str(i)``, the prefix lengthened with ``_`` until no name in ``taken`` can match."""
    while any(t.startswith(prefix) for t in taken):
        prefix = "_" + prefix
    return lambda i: f"{prefix}{i}"


class _Printer(NumPyPrinter):
    """``lambdify``'s NumPy printer, printing the symbols in ``names`` under their fresh names."""

    def __init__(self, names: dict):
        super().__init__({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
                          "user_functions": {}})  # the settings lambdify gives its own printer
        self._names = names

    def _print_Symbol(self, expr):
        name = self._names.get(expr)
        return super()._print_Symbol(expr) if name is None else name

    def _print_Dummy(self, expr):
        name = self._names.get(expr)
        return super()._print_Dummy(expr) if name is None else name


def lambdify_batched(variables, exprs, extra=(), cse=True) -> Callable[..., list]:
    """``lambdify`` a flat list of expressions of ``variables`` (and ``extra`` argument symbols).

    The one call site of ``sympy.lambdify`` in symgd: ``modules="numpy"``, the arguments and temporaries
    printed under fresh names ``_x0, _x1, ...`` and ``_t0, ...`` that avoid every name in use (names the user
    typed never reach the generated code as identifiers), and common subexpressions shared: ``cse=True`` runs
    ``sympy.cse``; a callable ``exprs -> (replacements, reduced)`` supplies precomputed temporaries instead
    (``symgd.models``' backpropagation program, linear time on deep networks); ``cse=False`` prints each
    expression whole. The returned function takes one array per argument and returns a list with one entry
    per expression (Python scalars for constants).

    The renaming happens in the printer: ``lambdify``'s ``dummify`` substitutes every argument into every
    expression one at a time, quadratic in the number of variables (80 % of the compile time of a
    100-variable Rosenbrock function), and even one substitution pass rebuilds every node.

    >>> x, y = sp.symbols("x y", real=True)
    >>> fn = lambdify_batched((x, y), [x * y + sp.sin(x * y), 2])
    >>> fn(np.array([0.0, 1.0]), np.array([3.0, 0.5]))[0].tolist(), fn(1.0, 2.0)[1]
    ([0.0, 0.979425538604203], 2)
    """
    args, exprs = (*variables, *extra), [_sympify(e) for e in exprs]
    if not all(isinstance(a, sp.Symbol) for a in args):  # e.g. a function as argument: lambdify's own renaming
        return sp.lambdify(args, exprs, modules="numpy", cse=cse, dummify=True)
    if cse is True:  # canonical order, SymPy's temporaries: the code symgd.fused prints; the same in every process
        temps, exprs = sp.cse(exprs)
    elif callable(cse):
        temps, exprs = cse(exprs)
        temps, exprs = list(temps), [_sympify(e) for e in exprs]
    else:
        temps = []
    own = {*args, *(t for t, _ in temps)}
    taken = {s.name for e in itertools.chain(exprs, (e for _, e in temps if e is not None))
             for s in e.free_symbols if s not in own}
    x_name, t_name = _fresh("_x", taken), _fresh("_t", taken)
    names = {a: x_name(i) for i, a in enumerate(args)}
    first = len(names)
    for t, _ in temps:  # a temporary may come back as (t, None): "del t"
        names.setdefault(t, t_name(len(names) - first))
    fresh = [sp.Symbol(names[a]) for a in args]
    return sp.lambdify(fresh, exprs, modules="numpy", cse=lambda _: (temps, exprs), dummify=False,
                       printer=_Printer(names))


def _columns(x: Array) -> tuple[Array, tuple[Array, ...]]:
    x = np.asarray(x, dtype=float)
    return x, tuple(np.moveaxis(x, -1, 0))


class _Lazy:
    """``f`` compiled on its first call (the runners only call ``f_and_grad``): ``(..., n) -> (...)``.

    Two threads calling first may both compile; either result is the same function.
    """

    def __init__(self, variables, expr):
        self._variables, self._expr, self._fn = variables, expr, None

    def __call__(self, x: Array) -> Array:
        if self._fn is None:
            self._fn = lambdify_batched(self._variables, [self._expr])
        x, cols = _columns(x)
        (value,) = self._fn(*cols)
        return np.broadcast_to(np.asarray(value, dtype=float), x.shape[:-1]).copy()


def _hessian_kernel(xs, H: sp.Matrix):
    """The Hessian from its nonzero upper-triangle entries: ``(..., n) -> (..., n, n)``."""
    n = len(xs)
    upper = sorted((ij, v) for ij, v in H.todok().items() if ij[1] >= ij[0] and v != 0)
    fn = lambdify_batched(xs, [v for _, v in upper]) if upper else None
    cells = [(i * n + j, j * n + i) for (i, j), _ in upper]

    def hess(x: Array) -> Array:
        x, cols = _columns(x)
        out = np.zeros(x.shape[:-1] + (n * n,))
        if fn is not None:
            for (a, b), c in zip(cells, fn(*cols)):
                out[..., a] = c
                out[..., b] = c  # the mirror (a == b on the diagonal)
        return out.reshape(x.shape[:-1] + (n, n))

    return hess


def compile_kernels(problem: Problem) -> Kernels:
    """Compile f, gradient and Hessian of ``problem`` into batched NumPy kernels."""
    xs, n = problem.variables, problem.n
    fg_fn = lambdify_batched(xs, [problem.expr, *problem.gradient])

    def f_and_grad(x: Array) -> tuple[Array, Array]:
        x, cols = _columns(x)
        value, *entries = fg_fn(*cols)
        g = np.empty(x.shape, dtype=float)
        for i, c in enumerate(entries):
            g[..., i] = c  # broadcasts constant entries
        return np.broadcast_to(np.asarray(value, dtype=float), x.shape[:-1]).copy(), g

    def grad(x: Array) -> Array:
        return f_and_grad(x)[1]

    return Kernels(n, _Lazy(xs, problem.expr), grad, _hessian_kernel(xs, problem.hessian), f_and_grad,
                   inspect.getsource(fg_fn))
