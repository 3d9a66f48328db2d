"""The gradient program: symbolic reverse accumulation over the expression DAG, then shared subexpressions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import sympy as sp
from sympy.core.function import Application


class Program(NamedTuple):
    """Straight-line code: ``assignments`` ``[(Dummy, expr), ...]`` in evaluation order, then ``outputs``.

    The pair is what ``sympy.lambdify(..., cse=callable)`` expects from its cse function.
    """

    assignments: list
    outputs: list

    def expand(self) -> list:
        """The outputs as plain expressions (every temporary substituted: trees can get large)."""
        full = {}
        for s, e in self.assignments:
            full[s] = e.xreplace(full)
        return [o.xreplace(full) for o in self.outputs]


def dag_size(expr: sp.Basic) -> int:
    """Number of distinct subexpressions of ``expr`` (its size as a DAG; ``count_ops`` walks the tree).

    >>> x = sp.Symbol("x")
    >>> dag_size(sp.sin(x) + sp.sin(x) ** 2)
    5
    """
    return len(_postorder([expr]))


def _postorder(roots) -> list:
    """Every distinct node under ``roots``, children before parents (iterative: deep trees are fine)."""
    order, seen = [], set()
    stack = [(r, False) for r in reversed(roots)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.args) if a not in seen)
    return order


def _local(node: sp.Basic, k: int) -> sp.Expr | None:
    """∂ node / ∂ (its k-th argument), or None when only a whole-node derivative will do."""
    if node.is_Add:
        return sp.S.One
    if node.is_Mul:
        return sp.Mul(*(node.args[:k] + node.args[k + 1:]))
    if node.is_Pow:
        b, e = node.args
        return e * b ** (e - 1) if k == 0 else node * sp.log(b)
    if isinstance(node, Application):
        try:
            return node.fdiff(k + 1)
        except Exception:  # noqa: BLE001 - SymPy raises several types for "no partial derivative"
            return None
    return None


def gradient_program(expr: sp.Expr, wrt: Sequence[sp.Symbol]) -> Program:
    r"""``[expr, ∂expr/∂wrt_1, ...]`` as a ``Program``, by reverse accumulation over the expression DAG.

    Each node's adjoint :math:`\bar v = \sum_{\text{parents } u} \bar u \, \partial u / \partial v` is one
    assignment; then every subexpression reached twice becomes a temporary. Nodes whose arguments are not
    all expressions (``Piecewise``) or without a partial derivative are differentiated whole per parameter.

    >>> a, b, x = sp.symbols("a b x")
    >>> prog = gradient_program(sp.exp(-a * x) + b * x, [a, b])
    >>> prog.expand()
    [b*x + exp(-a*x), -x*exp(-a*x), x]
    """
    wrt = list(wrt)
    targets = set(wrt)
    order = _postorder([expr])
    dep = {}
    for node in order:
        dep[node] = node in targets if not node.args else any(dep[a] for a in node.args)
    adjoint, assignments = {expr: [sp.S.One]}, []
    for node in reversed(order):  # parents before children
        if node in targets or node not in adjoint or not dep[node]:
            continue
        bar = sp.Add(*adjoint.pop(node))
        if not bar.is_Atom:
            s = sp.Dummy("d")
            assignments.append((s, bar))
            bar = s
        locals_ = [_local(node, k) if dep[a] else sp.S.Zero for k, a in enumerate(node.args)]
        if any(v is None for v in locals_) or not all(isinstance(a, sp.Expr) for a in node.args):
            for p in wrt:
                if p in node.free_symbols:
                    adjoint.setdefault(p, []).append(bar * sp.diff(node, p))
            continue
        for a, v in zip(node.args, locals_):
            if dep[a]:
                adjoint.setdefault(a, []).append(bar * v)
    grads = [sp.Add(*adjoint.get(p, [])) for p in wrt]
    return share_subexpressions(Program(assignments, [expr, *grads]))


def share_subexpressions(program: Program) -> Program:
    """Make every non-atomic subexpression used twice (anywhere in ``program``) a temporary, in a valid order."""
    roots = [e for _, e in program.assignments] + list(program.outputs)
    uses: dict = {}
    for r in roots:
        uses[r] = uses.get(r, 0) + 1
    for node in _postorder(roots):
        for a in node.args:
            uses[a] = uses.get(a, 0) + 1
    done, out = {}, []

    def rebuild(root):
        for node in _postorder([root]):
            if node in done:
                continue
            if not node.args:
                done[node] = node
                continue
            args = tuple(done[a] for a in node.args)
            new = node if args == node.args else node.func(*args)
            if uses.get(node, 0) > 1 and isinstance(node, sp.Expr) and not new.is_Atom:
                s = sp.Dummy("c")
                out.append((s, new))
                new = s
            done[node] = new
        return done[root]

    for s, e in program.assignments:
        out.append((s, rebuild(e)))
    return Program(out, [rebuild(o) for o in program.outputs])
