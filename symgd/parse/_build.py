"""Postfix to SymPy, with guards that run before SymPy evaluates anything large or slow."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from symgd.errors import ParseError
from symgd.parse._grammar import Item, check_rational
from symgd.parse._limits import (MAX_COMPOUND_EXPONENT, MAX_CONSTANT_DEPTH, MAX_EXPANDED_TERMS, MAX_EXPONENT,
                                 MAX_NODES, MAX_TREE_DEPTH)
from symgd.parse._names import CONSTANTS, FUNCTIONS

_NONFINITE = {sp.zoo, sp.oo, -sp.oo, sp.nan, sp.I}
_WHAT = {"+": "this sum", "-": "this difference", "*": "this product", "/": "this quotient", "^": "this power"}
_SPLIT_PRONE = (sp.sinh, sp.cosh, sp.tanh, sp.Abs)  # their assumptions call arg.as_real_imag()


@dataclass(slots=True)
class _Info:
    depth: int
    size: int
    const: bool  # no free symbols
    value: object = None  # for a checked constant: its Rational or Float value
    cdepth: int = 0  # for a constant: how deep functions nest in it


EDGES = {sp.asin: (-1, 1), sp.acos: (-1, 1), sp.atanh: (-1, 1), sp.acosh: (1,)}  # real on [-1, 1], (-1, 1), [1, oo)
EDGE_TOLERANCE = 1e-12  # an irrational constant this close to an edge: float64 cannot say on which side it is


def _check_constant(expr: sp.Expr, col: int | None, what: str) -> sp.Expr:
    """The numeric value of a constant whose arguments are already checked, or ParseError.

    Evaluating is cheap here: every argument is known to lie within [1e-300, 1e300] in magnitude.
    A value that is 0 at evalf's working precision counts as 0, as in float64: ``log(cosh(1e-300))``
    is accepted, and ``1/log(cosh(1e-300))`` refused.
    """
    if expr.is_Rational:
        check_rational(expr, col)
        return expr
    if _expanded_terms(expr, MAX_EXPANDED_TERMS) > MAX_EXPANDED_TERMS:  # SymPy expands them to compare
        raise ParseError(f"{what} is a constant that expands to more than {MAX_EXPANDED_TERMS} terms",
                         column=col, hint="use a simpler constant")
    try:
        value = expr.evalf(15)
    except (ArithmeticError, ValueError):  # mpmath's division by a zero it computed, domain errors
        raise ParseError(f"{what} is not a finite real number here", column=col) from None
    if not (value.is_Float or value.is_Rational):
        raise ParseError(f"{what} is not a finite real number here", column=col)
    size = abs(value)
    if size > 1e300 or 0 < size < 1e-300:
        raise ParseError(f"{what} is a constant outside float64's range [1e-300, 1e300]", column=col)
    return value


def _expanded_terms(arg: sp.Expr, cap: int) -> int:
    """An upper bound on the terms of ``arg.expand(deep=True)``, stopping once it exceeds ``cap``.

    A power ``b^n`` of ``t`` terms has at most ``comb(t + n - 1, n)`` (the monomials of degree n);
    a function's arguments are expanded on their own, so they are bounded separately.
    """
    terms: dict[sp.Basic, int] = {}
    for node in sp.postorder_traversal(arg):
        if node in terms:
            continue
        sub = [terms[a] for a in node.args]
        if node.is_Add:
            t = sum(sub)
        elif node.is_Mul:
            t = math.prod(sub)
        elif node.is_Pow:
            n = abs(node.exp.p) // node.exp.q if node.exp.is_Rational else 1
            t = math.comb(sub[0] + n - 1, n) if n > 1 else sub[0] * sub[1]
        else:
            t = 1
        if t > cap:
            return t
        terms[node] = t
    return terms[arg]


def _check_real_imag_cost(func, arg: sp.Expr, col: int, name: str) -> None:
    """Refuse sinh/cosh/tanh/abs of an argument that SymPy's assumptions would split at great cost.

    Asked for their sign, these four call ``arg.as_real_imag()``, which expands the arguments of the
    trigonometric functions inside (1.3 ms per term, measured) and, for an argument that may be
    complex, recurses through nested sinh/cosh/tanh/abs and expands powers ``(re + i*im)^n``.
    """
    if func not in _SPLIT_PRONE:
        return
    hint = "simplify the argument of sinh, cosh, tanh or abs"
    if _expanded_terms(arg, MAX_EXPANDED_TERMS) > MAX_EXPANDED_TERMS:
        raise ParseError(f"the argument of {name} would expand to more than {MAX_EXPANDED_TERMS} terms",
                         column=col, hint=hint)
    if arg.is_extended_real:
        return
    for node in sp.preorder_traversal(arg):
        if isinstance(node, _SPLIT_PRONE) or (
                node.is_Pow and node.exp.is_Integer and abs(node.exp) > 2 and not node.base.is_extended_real):
            raise ParseError(f"{name}(...) of an argument that may be complex is too costly for SymPy here",
                             column=col, hint="when it holds log, sqrt, asin or a quotient, it may hold no "
                             "power above 2 of those and no other sinh, cosh, tanh, abs")


def _exponent_limit(base: sp.Expr, base_is_constant: bool) -> int:
    return MAX_EXPONENT if base.is_Symbol or base_is_constant else MAX_COMPOUND_EXPONENT


class Builder:
    """Build SymPy nodes from postfix items; ``memo`` holds depth, size and constant facts per node."""

    def __init__(self):
        self.memo: dict[sp.Basic, _Info] = {}

    def build(self, items: list[Item]) -> sp.Expr:
        stack: list[sp.Expr] = []
        for item in items:
            if item.kind == "num":
                node, what = item.value, "this number"
            elif item.kind == "sym":
                node, what = sp.Symbol(item.text, real=True), item.text
            elif item.kind == "const":
                node, what = CONSTANTS[item.text], item.text
            elif item.kind == "neg":
                node, what = sp.Mul(sp.S.NegativeOne, stack.pop()), "this negation"
            elif item.kind == "bin":
                b, a = stack.pop(), stack.pop()
                node, what = self.binary(item.text, a, b, item.col), _WHAT[item.text]
            else:  # call
                args = stack[len(stack) - item.value:]
                del stack[len(stack) - item.value:]
                node, what = self.call(item.text, args, item.col), f"{item.text}(...)"
            self.visit(node, item.col, what)
            stack.append(node)
        (expr,) = stack
        self.checked(expr, None, "the expression")
        return expr

    def call(self, name: str, args: list[sp.Expr], col: int) -> sp.Expr:
        """``name(*args)``, after checking the arguments (SymPy evaluates a function of constants at once)."""
        for a in args:
            if self.checked(a, col, f"the argument of {name}") is None:
                _check_real_imag_cost(FUNCTIONS[name], a, col, name)
        self.nesting(args, col, f"{name}(...)")
        self.domain_edge(name, args, col)
        if name == "log" and len(args) == 2:
            base = self.memo[args[1]].value
            if base is not None and (base <= 0 or base == 1):
                raise ParseError("the base of a logarithm must be positive and not 1", column=col)
        return FUNCTIONS[name](*args)

    def domain_edge(self, name: str, args, col: int) -> None:
        """Refuse an irrational constant within rounding of the edge of asin's, acos's, atanh's or acosh's domain.

        evalf cannot tell ``2^1e-300`` from 1, so ``acos(2^1e-300)`` (complex: the argument is above 1) looked
        real, and SymPy's own realness query on it then ran for minutes. An exact edge (1, -1) is fine.
        """
        edges = EDGES.get(FUNCTIONS[name])
        value = self.memo[args[0]].value if edges and len(args) == 1 else None
        if value is None or value.is_Rational:
            return
        for edge in edges:
            if abs(value - edge) <= EDGE_TOLERANCE:
                raise ParseError(f"the argument of {name} is a constant within rounding of {edge}, the edge of "
                                 f"{name}'s domain: symgd cannot tell whether {name} of it is real", column=col,
                                 hint=f"write {edge} exactly, or a number clearly inside the domain")

    def nesting(self, args, col: int, what: str) -> None:
        """Refuse a function of constants nested too deep: SymPy evaluates it on construction, in a time
        exponential in the depth (``sigmoid(1 + sigmoid(1 + ...))`` 10 deep took 26 s)."""
        infos = [self.memo[a] for a in args]
        if all(i.const for i in infos) and 1 + max(i.cdepth for i in infos) > MAX_CONSTANT_DEPTH:
            raise ParseError(f"{what} nests functions of constants more than {MAX_CONSTANT_DEPTH} deep",
                             column=col, hint="write the constant as a decimal number")

    def binary(self, op: str, a: sp.Expr, b: sp.Expr, col: int) -> sp.Expr:
        if op == "+":
            return sp.Add(a, b)
        if op == "-":
            return sp.Add(a, sp.Mul(sp.S.NegativeOne, b))
        if op == "*":
            return sp.Mul(a, b)
        if op == "/":
            if b == 0:
                raise ParseError("division by zero", column=col)
            return sp.Mul(a, sp.Pow(b, sp.S.NegativeOne))
        return self.power(a, b, col)

    def power(self, a: sp.Expr, b: sp.Expr, col: int) -> sp.Expr:
        """``a^b``, refusing exponents and constant results that would be huge before SymPy computes them."""
        av = self.checked(a, col, "the base")
        bv = self.checked(b, col, "the exponent")
        if bv is not None:
            limit = _exponent_limit(a, av is not None)
            big = abs(b.p) > limit * b.q if b.is_Rational else abs(bv) > limit
            if big:
                raise self.exponent_error(limit, a, av is not None, col)
        if av is None:
            return sp.Pow(a, b)
        if bv is None and av <= 0:
            raise ParseError("a base <= 0 needs a constant exponent", column=col, hint="(-2)^x is not real")
        if not b.is_Rational:
            self.nesting([a, b], col, "this power")  # a^b of constants is evaluated as exp(b*log(a))
        if bv is not None and av < 0 and not b.is_Integer:
            raise ParseError("a negative base with a fractional exponent is not real", column=col,
                             hint="write -(8^(1/3)) for the real cube root of -8")
        if bv is not None and av == 0 and bv < 0:
            raise ParseError("division by zero (0 to a negative power)", column=col)
        if av != 0 and bv is not None and a.is_Rational and b.is_Rational:
            digits = float(bv) * (math.log10(abs(a.p)) - math.log10(a.q))
            if abs(digits) > 301:  # checked exactly once built; this stops SymPy building 9^(9^9)
                raise ParseError("a constant here is outside float64's range [1e-300, 1e300]", column=col)
        return sp.Pow(a, b)

    @staticmethod
    def exponent_error(limit: int, base: sp.Expr, constant_base: bool, col: int) -> ParseError:
        simple = base.is_Symbol or constant_base
        why = "" if simple else " unless the base is a variable or a number"
        return ParseError(f"exponent too large: at most {limit} in absolute value{why}", column=col,
                          hint=None if simple else "(x+y+1)^1000 would expand to 501501 terms")

    def checked(self, node: sp.Expr, col: int | None, what: str):
        """The checked value of ``node`` if it is constant (evaluated once, lazily), else None."""
        info = self.memo[node]
        if info.const and info.value is None:
            info.value = _check_constant(node, col, what)
        return info.value

    def visit(self, node: sp.Expr, col: int, what: str) -> None:
        """Record every node SymPy just made (post-order, iterative) and apply the guards to it."""
        memo, todo = self.memo, [node]
        while todo:
            n = todo[-1]
            if n in memo:
                todo.pop()
                continue
            pending = [a for a in n.args if a not in memo]
            if pending:
                todo.extend(pending)
                continue
            todo.pop()
            memo[n] = self.record(n, col, what)
        info = memo[node]
        if info.depth > MAX_TREE_DEPTH:
            raise ParseError(f"the expression nests deeper than {MAX_TREE_DEPTH} levels", column=col)
        if info.size > MAX_NODES:
            raise ParseError(f"the expression has more than {MAX_NODES} nodes", column=col)

    def record(self, n: sp.Basic, col: int, what: str) -> _Info:
        if n in _NONFINITE:
            raise ParseError(f"{what} is not a finite real number here", column=col)
        infos = [self.memo[a] for a in n.args]
        depth, size = 1 + max((i.depth for i in infos), default=0), 1 + sum(i.size for i in infos)
        if n.is_Symbol:
            return _Info(depth, size, False)
        if n.is_Rational:
            check_rational(n, col)
            return _Info(depth, size, True, n)
        if n.is_NumberSymbol:
            return _Info(depth, size, True)
        if not infos:
            raise ParseError(f"{what} gives {type(n).__name__}, which symgd does not accept", column=col)
        if n.is_Pow and n.exp.is_Rational and abs(n.exp) > _exponent_limit(n.base, infos[0].const):
            # SymPy merges powers: ((x+1)^100)^100 is (x+1)^10000, x^600*x^600 is x^1200
            raise self.exponent_error(_exponent_limit(n.base, infos[0].const), n.base, infos[0].const, col)
        info = _Info(depth, size, all(i.const for i in infos))
        if info.const:
            level = isinstance(n, sp.Function) or (n.is_Pow and not n.exp.is_Rational)
            info.cdepth = level + max(i.cdepth for i in infos)
        if info.const and not (n.is_Add or n.is_Mul):  # a function or power of constants: bound it now
            for a in n.args:
                self.checked(a, col, what)
            info.value = _check_constant(n, col, what)
        return info
