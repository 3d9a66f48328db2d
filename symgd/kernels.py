"""NumPy kernels for f, gradient and Hessian: the only module that calls ``lambdify``.

Every kernel takes an array of shape ``(..., n)`` and returns ``(...)``, ``(..., n)`` or
``(..., n, n)``: constant entries (which ``lambdify`` returns as Python scalars, and which make a
mixed Hessian raise "inhomogeneous shape") are broadcast to the batch shape.

>>> import numpy as np
>>> from symgd import Problem
>>> k = Problem("x^2 + 3*y^2 + x*y").kernels
>>> k.hess(np.zeros((5, 2))).shape
(5, 2, 2)
>>> k.grad(np.array([[1.0, 1.0]])).tolist()
[[3.0, 7.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import sympy as sp

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


def lambdify_batched(variables, exprs, extra=(), cse=True) -> Callable[..., list]:
    """``lambdify`` a flat list of expressions of ``variables`` (and ``extra`` argument symbols).

    The one call site of ``sympy.lambdify`` in symgd: ``modules="numpy"``, ``dummify=True`` (names the
    user typed never reach the generated code as identifiers), and common subexpressions shared:
    ``cse=True`` runs ``sympy.cse``; a callable ``exprs -> (replacements, reduced)`` supplies precomputed
    temporaries instead (``symgd.models``' backpropagation program, linear time on deep networks).
    """
    return sp.lambdify((*variables, *extra), list(exprs), modules="numpy", cse=cse, dummify=True)


def _stacked(fn, n_out: int, tail: tuple[int, ...]):
    def call(x: Array, *extra) -> Array:
        x = np.asarray(x, dtype=float)
        batch = x.shape[:-1]
        cols = fn(*np.moveaxis(x, -1, 0), *extra)
        out = np.empty(batch + (n_out,), dtype=float)
        for i, c in enumerate(cols):
            out[..., i] = c  # broadcasts scalars and arrays alike
        return out.reshape(batch + tail)

    return call


def compile_kernels(problem: Problem) -> Kernels:
    """Compile f, gradient and Hessian of ``problem`` into batched NumPy kernels."""
    xs, n = problem.variables, problem.n
    g = list(problem.gradient)
    f_fn = lambdify_batched(xs, [problem.expr])
    fg_fn = lambdify_batched(xs, [problem.expr, *g])
    g_fn = lambdify_batched(xs, g)
    h_fn = lambdify_batched(xs, list(problem.hessian))

    def f_and_grad(x):
        x = np.asarray(x, dtype=float)
        cols = fg_fn(*np.moveaxis(x, -1, 0))
        g = np.empty(x.shape, dtype=float)
        for i, c in enumerate(cols[1:]):
            g[..., i] = c  # broadcasts constant entries
        return np.broadcast_to(np.asarray(cols[0], dtype=float), x.shape[:-1]).copy(), g

    import inspect

    return Kernels(n, _stacked(f_fn, 1, ()), _stacked(g_fn, n, (n,)), _stacked(h_fn, n * n, (n, n)), f_and_grad,
                   inspect.getsource(fg_fn))
