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

import functools
import inspect
import itertools
import types
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from symgd import _store
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


@functools.cache
def _printer_class():
    """``lambdify``'s NumPy printer, printing the symbols in ``names`` under their fresh names (SymPy on first use)."""
    from sympy.printing.numpy import NumPyPrinter

    class _Printer(NumPyPrinter):
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

        def _print_DiracDelta(self, expr):  # |x|'' and sign(x)': 0 away from the kink, undefined (nan) on it
            return f"where(equal({self._print(expr.args[0])}, 0), nan, 0.0)"

    return _Printer


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

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> fn = lambdify_batched((x, y), [x * y + sp.sin(x * y), 2])
    >>> fn(np.array([0.0, 1.0]), np.array([3.0, 0.5]))[0].tolist(), fn(1.0, 2.0)[1]
    ([0.0, 0.979425538604203], 2)
    """
    import sympy as sp
    from sympy.core.sympify import _sympify  # strict: refuses strings, never parses text

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
                       printer=_printer_class()(names))


def _columns(x: Array) -> tuple[Array, tuple[Array, ...]]:
    x = np.asarray(x, dtype=float)
    return x, tuple(np.moveaxis(x, -1, 0))


class _Lazy:
    """``f`` compiled on its first call (the runners only call ``f_and_grad``): ``(..., n) -> (...)``.

    Two threads calling first may both compile; either result is the same function.
    """

    def __init__(self, make: Callable[[], Callable]):
        self._make, self._fn = make, None

    def __call__(self, x: Array) -> Array:
        if self._fn is None:
            self._fn = self._make()
        x, cols = _columns(x)
        (value,) = self._fn(*cols)
        return np.broadcast_to(np.asarray(value, dtype=float), x.shape[:-1]).copy()


def _hessian_from(n: int, fn, cells) -> Callable[[Array], Array]:
    """The Hessian from the function of its nonzero upper-triangle entries: ``(..., n) -> (..., n, n)``."""

    def hess(x: Array) -> Array:
        x, cols = _columns(x)
        out = np.zeros(x.shape[:-1] + (n * n,))
        if fn is not None:
            for (a, b), c in zip(cells, fn(*cols)):
                out[..., a] = c
                out[..., b] = c  # the mirror (a == b on the diagonal)
        return out.reshape(x.shape[:-1] + (n, n))

    return hess


def _f_and_grad_from(fg_fn):
    """``(f_and_grad, grad)`` from the function of ``[f, g_0, ...]``."""

    def f_and_grad(x: Array) -> tuple[Array, Array]:
        x, cols = _columns(x)
        value, *entries = fg_fn(*cols)
        g = np.empty(x.shape, dtype=float)
        for i, c in enumerate(entries):
            g[..., i] = c  # broadcasts constant entries
        return np.broadcast_to(np.asarray(value, dtype=float), x.shape[:-1]).copy(), g

    def grad(x: Array) -> Array:
        return f_and_grad(x)[1]

    return f_and_grad, grad


def compile_kernels(problem: Problem) -> Kernels:
    """Compile f, gradient and Hessian of ``problem`` into batched NumPy kernels.

    A problem made from text keeps the generated source in its record of the store (``symgd._store``): another
    process executes it instead of deriving and printing again (and importing SymPy).
    """
    key = problem.__dict__.get("_text_key")
    stored = _stored_kernels(problem, key)
    if stored is not None:
        return stored
    xs, n = problem.variables, problem.n
    fg_fn = lambdify_batched(xs, [problem.expr, *problem.gradient])
    upper = sorted((ij, v) for ij, v in problem.hessian.todok().items() if ij[1] >= ij[0] and v != 0)
    h_fn = lambdify_batched(xs, [v for _, v in upper]) if upper else None
    cells = [(i * n + j, j * n + i) for (i, j), _ in upper]
    if key is not None:
        fg, h = _portable(fg_fn), None if h_fn is None else _portable(h_fn)
        if fg is not None and (h_fn is None or h is not None):
            _store.save(key, numpy_kernels={"fg": fg, "hess": h, "cells": [list(c) for c in cells]})
    f_and_grad, grad = _f_and_grad_from(fg_fn)
    return Kernels(n, _Lazy(lambda: _f_alone(problem, key)), grad, _hessian_from(n, h_fn, cells), f_and_grad,
                   inspect.getsource(fg_fn))


def _f_alone(problem: Problem, key):
    """The function of f alone: from the store, else compiled (and kept there for a problem made from text)."""
    fn = _function(_store.get(key, "numpy_f"))
    if fn is None:
        fn = lambdify_batched(problem.variables, [problem.expr])
        entry = _portable(fn) if key is not None else None
        if entry is not None:
            _store.save(key, numpy_f=entry)
    return fn


def _stored_kernels(problem: Problem, key) -> Kernels | None:
    """The kernels from the source kept in the store, or None (nothing kept, or not of the expected shape)."""
    entry = _store.get(key, "numpy_kernels")
    if not isinstance(entry, dict):
        return None
    fg_fn, h_fn = _function(entry.get("fg")), _function(entry.get("hess"))
    try:
        cells = [(int(a), int(b)) for a, b in entry.get("cells")]
    except (TypeError, ValueError):
        return None
    if fg_fn is None or (h_fn is None) != (entry.get("hess") is None) or (h_fn is None) != (not cells):
        return None
    f_and_grad, grad = _f_and_grad_from(fg_fn)
    n = problem.n
    return Kernels(n, _Lazy(lambda: _f_alone(problem, key)), grad, _hessian_from(n, h_fn, cells), f_and_grad,
                   entry["fg"][0])


def _numpy_name(name: str):
    """What ``lambdify``'s NumPy namespace binds ``name`` to, when that is NumPy's (or numpy.linalg's) own."""
    return getattr(np, name, None) if hasattr(np, name) else getattr(np.linalg, name, None)


def _portable(fn) -> list | None:
    """``[source, global names]`` of a ``lambdify`` function whose globals are all NumPy's, else None."""
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        return None
    codes, names = [fn.__code__], set()
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    used = sorted(name for name in names if name in fn.__globals__)
    if not src.startswith(f"def {fn.__name__}(") or any(_numpy_name(u) is not fn.__globals__[u] for u in used):
        return None
    return [src, used]


def _function(entry):
    """The function of a ``_portable`` entry, its names bound to NumPy's; None for anything else."""
    try:
        src, used = entry
        if type(src) is not str or not src.startswith("def _lambdifygenerated(") or any(
                type(u) is not str or _numpy_name(u) is None for u in used):
            return None
    except (TypeError, ValueError):
        return None
    namespace = {u: _numpy_name(u) for u in used}
    # src was printed by lambdify from the SymPy tree (by an earlier process: _store), never user text
    exec(compile(src, "<symgd stored kernel>", "exec"), namespace)
    return namespace.get("_lambdifygenerated")
