"""Domain checks: is f (and its gradient) defined and real at a point?

Every sub-expression that can be undefined (``log``, powers with negative or fractional exponents,
``asin``, ``tan``, ...) is evaluated exactly at the point; the point is dropped when one of them is
not a finite real number (log of a number <= 0, square root of a negative number, division by zero).

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> f = x**2 / 2 - sp.log(x)
>>> undefined_reason([f, sp.diff(f, x)], {x: -1})
'log(x) needs x > 0, but x = -1 there'
>>> undefined_reason([1 / x], {x: 0})
'division by zero in 1/x'
>>> undefined_reason([f], {x: 1}) is None
True
"""

from __future__ import annotations

import sympy as sp

from symgd.critical._signs import sign

__all__ = ["describe_point", "undefined_reason"]


def describe_point(point: dict) -> str:
    """``x = -1, y = 1/2``."""
    return ", ".join(f"{v} = {sp.sstr(c)}" for v, c in point.items())


def _risky(node) -> bool:
    """Nodes that can be undefined or non-real for real arguments."""
    if node.is_Pow:
        ex = node.exp
        return not (ex.is_Integer and ex >= 0)
    return isinstance(node, sp.Function) and not isinstance(node, (sp.exp, sp.sin, sp.cos, sp.atan))


def _human(e) -> str:
    return sp.sstr(e).replace("**", "^")


def _special(node, point) -> str | None:
    """Readable reasons for log and for powers: the argument's sign, decided exactly."""
    if isinstance(node, sp.log) and len(node.args) == 1:
        arg = node.args[0]
        if sign(arg.xreplace(point))[0] <= 0:
            return f"{_human(node)} needs {_human(arg)} > 0, but {_human(arg)} = {_human(arg.xreplace(point))} there"
    if node.is_Pow and not node.exp.is_integer and node.exp.is_number:
        base = node.base.xreplace(point)
        if base.is_number and sign(base)[0] < 0:
            return f"{_human(node)} needs {_human(node.base)} >= 0, but {_human(node.base)} = {_human(base)} there"
    return None


def _check(node, point) -> str | None:
    why = _special(node, point)
    if why:
        return why
    value = node.xreplace(point)
    if value.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        base = node.base if node.is_Pow else None
        if base is not None and node.exp.is_negative and base.xreplace(point) == 0:
            return f"division by zero in {_human(node)}"
        return f"{_human(node)} is undefined there ({_human(value)})"
    real = value.is_extended_real
    if real is None and value.is_number:
        im = sp.im(value)
        s, _ = sign(im) if not im.has(sp.im, sp.re) else (_numeric_im(value), False)
        real = s == 0
    if real is False:
        return f"{_human(node)} is not real there ({_human(value)})"
    return None


def _numeric_im(value) -> int:
    v = complex(sp.N(value, 30))
    return 0 if abs(v.imag) <= 1e-25 * max(1.0, abs(v.real)) else 1


def undefined_reason(exprs, point: dict) -> str | None:
    """Why one of ``exprs`` (f and its gradient) is undefined or not real at ``point``; None if fine."""
    seen = set()
    for expr in exprs:
        if expr.is_polynomial(*point):
            continue
        for node in sp.postorder_traversal(expr):  # innermost first: report the first failure
            if node in seen or not _risky(node):
                continue
            seen.add(node)
            why = _check(node, point)
            if why:
                return why
    return None
