"""The symbolic side of ``Problem`` (SymPy): building the expression and its variables, and derivatives.

Kept apart from ``symgd.problem`` so that a ``Problem`` read from the store (``symgd._store``) imports SymPy
only when something asks for its expression.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy import S
from sympy.ntheory.multinomial import multinomial_coefficients_iterator

from symgd.errors import InputError
from symgd.parse import natural_key, parse


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


def build(expr, variables) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """``Problem``'s inputs as ``(expr, variables)``: the text parsed, the variables as Symbols in their order."""
    if isinstance(expr, str):
        expr, variables = parse(expr, variables=variables or None)  # the parsed (real) symbols, in order
    elif isinstance(expr, (int, float)) and not isinstance(expr, bool):
        expr = sp.nsimplify(expr) if isinstance(expr, float) else sp.Integer(expr)
    elif not isinstance(expr, sp.Expr):
        raise InputError(f"Problem needs a string or a SymPy expression, got {type(expr).__name__}")
    if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise InputError(f"the objective is not finite: {expr}")
    if variables:
        return expr, _as_symbols(variables, expr)
    return expr, tuple(sorted((s for s in expr.free_symbols if isinstance(s, sp.Symbol)),
                              key=lambda s: natural_key(s.name)))


def gradient(expr, variables) -> sp.Matrix:
    """The gradient as a column (``Problem.gradient``): ``partials`` per term of a sum."""
    return sp.Matrix(len(variables), 1, partials(expr, variables))


def hessian(gradient, variables) -> sp.Matrix:
    """The Hessian from the gradient: the upper triangle, mirrored (see ``Problem.hessian``)."""
    n, xs = len(variables), variables
    H = [S.Zero] * (n * n)
    for i, gi in enumerate(gradient):
        for j, hij in zip(range(i, n), partials(gi, xs[i:])):
            H[i * n + j] = H[j * n + i] = hij
    return sp.Matrix(n, n, H)
