r"""SymPy -> scalar Python statements for the generated kernels: symgd's second code printer.

There are exactly two places where symgd turns SymPy trees into code: ``symgd.kernels.lambdify_batched``
(NumPy, whole arrays) and this module (one float at a time, for ``symgd.fused``). Keep it that way.

It prints what the NumPy printer prints, operation for operation (the same ``cse``, the same order of
terms and factors, ``x**2`` as ``x*x`` like NumPy's ``power``, a negative integer power as a float
``pow``), so that both backends round alike; but every division, power and function is a call into
``symgd.fused._scalar`` (``_f_div(a, b)``, ``_f_log(x)``), which gives NumPy's answer where CPython
would raise. Functions are a WHITELIST (everything ``symgd.parse`` and ``symgd.models`` produce):
anything else raises ``Unprintable`` naming it, and the run stays on NumPy and says so.

Names never come from the user: variables print as ``x_0, x_1, ...`` and temporaries as ``<prefix>0, ...``
(a symbol named ``__import__`` or ``lambda`` is just ``x_0`` here).

>>> import sympy as sp
>>> x, y = sp.symbols("x y", real=True)
>>> print("\n".join(statements([sp.log(x) / y, x**2 * y], {x: "x_0", y: "x_1"}, ["f", "g_0"], "u")))
f = _f_div(_f_log(x_0), x_1)
g_0 = _f_sq(x_0)*x_1
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.core.mul import _keep_coeff
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE, precedence

from symgd.errors import Unprintable  # noqa: F401 - raised here, caught in symgd.fused

# SymPy function class -> name in symgd.fused._scalar (called as _f_<name>)
FUNCTIONS = {sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.asin: "asin",
             sp.acos: "acos", sp.atan: "atan", sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh",
             sp.asinh: "asinh", sp.acosh: "acosh", sp.atanh: "atanh", sp.Abs: "fabs", sp.sign: "sign"}
# symgd.models' activation functions, by class name (they print themselves as these NumPy calls)
MODEL_FUNCTIONS = {"unit_step": "heaviside0", "relu": "relu", "sigmoid": "sigmoid", "softplus": "softplus"}
MAX_POWI = 8  # x**3 .. x**8 multiply (within an ulp or two of NumPy's power, as libm's pow is); above: pow
_LEAVES = (sp.Symbol, sp.Number, sp.NumberSymbol)
_LOGIC = (sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.core.relational.Relational, sp.And, sp.Or, sp.Not,
          sp.logic.boolalg.BooleanAtom, sp.functions.elementary.piecewise.ExprCondPair)


def _model_name(expr) -> str | None:
    cls = type(expr)
    if (cls.__module__ or "").startswith("symgd.models"):
        return MODEL_FUNCTIONS.get(cls.__name__)
    return None


def check(exprs) -> None:
    """Raise ``Unprintable`` for the first node outside the whitelist (or a non-finite number)."""
    for e in exprs:
        for node in sp.preorder_traversal(e):
            if isinstance(node, (sp.Add, sp.Mul, sp.Pow, *_LOGIC)):
                continue
            if isinstance(node, _LEAVES):
                if node.is_Number and not (node.is_finite and node.is_real):
                    raise Unprintable(f"the constant {node}")
                continue
            if type(node) in FUNCTIONS or _model_name(node):
                continue
            raise Unprintable(getattr(type(node), "__name__", str(type(node))))


class ScalarPrinter(NumPyPrinter):
    """NumPy's printer with scalar leaves: numbers as float literals, ``_f_`` calls, mapped names."""

    def __init__(self, names: dict):
        super().__init__({"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": False})
        self.names = names

    def _print(self, expr, **kwargs):
        if type(expr) in FUNCTIONS or _model_name(expr):  # before NumPy's known functions and _numpycode
            return self._print_Function(expr)
        return super()._print(expr, **kwargs)

    # --- leaves
    def _print_Symbol(self, expr):
        try:
            return self.names[expr]
        except KeyError:
            raise Unprintable(f"the symbol {expr.name!r} (not a variable)") from None

    _print_Dummy = _print_Symbol

    def _number(self, value) -> str:
        v = float(value)
        return repr(v) if v >= 0 else f"({v!r})"

    def _print_Integer(self, expr):
        return self._number(int(expr))

    def _print_Rational(self, expr):
        return self._number(int(expr.p) / int(expr.q))  # Python's correctly rounded p/q, as NumPy code gets

    def _print_Float(self, expr):
        return self._number(expr)

    def _print_NumberSymbol(self, expr):
        return self._number(expr)

    _print_Zero = _print_One = _print_NegativeOne = _print_Integer
    _print_Half = _print_Rational
    _print_Pi = _print_Exp1 = _print_NumberSymbol

    # --- arithmetic
    def _print_Pow(self, expr, rational=False):
        b, e = expr.base, expr.exp
        if e == sp.S.Half:
            return f"_f_sqrt({self._print(b)})"
        if e == -sp.S.Half:
            return f"_f_div(1.0, _f_sqrt({self._print(b)}))"
        if e == sp.S.NegativeOne:
            return f"_f_div(1.0, {self._print(b)})"
        if e == 2:
            return f"_f_sq({self._print(b)})"
        if e.is_Integer and 3 <= e <= MAX_POWI:  # by squaring, as JAX's integer_pow: no libm call, vectorizes
            return f"_f_powi({self._print(b)}, {int(e)})"
        if e.is_integer and e.is_negative:
            e = sp.Float(e)  # NumPy's printer does this too: a negative int power of a float array is a float pow
            if e == -1:  # NumPy's power(x, -1.0) is its reciprocal
                return f"_f_div(1.0, {self._print(b)})"
        return f"_f_pow({self._print(b)}, {self._print(e)})"

    def _print_Mul(self, expr):
        """``CodePrinter._print_Mul`` (the NumPy backend's order of factors) with ``_f_div`` for ``/``."""
        prec = precedence(expr)
        c, e = expr.as_coeff_Mul()
        sign = ""
        if c < 0:
            expr, sign = _keep_coeff(-c, e), "-"
        num, den = [], []
        for item in expr.as_ordered_factors():
            if item.is_commutative and item.is_Pow and item.exp.is_Rational and item.exp.is_negative:
                den.append(sp.Pow(item.base, -item.exp, evaluate=item.exp == -1))
            else:
                num.append(item)
        num = num or [sp.S.One]
        if len(num) == 1 and sign == "-":
            a_str = [self.parenthesize(num[0], 0.5 * (PRECEDENCE["Pow"] + PRECEDENCE["Mul"]))]
        else:
            a_str = [self.parenthesize(x, prec) for x in num]
        if not den:
            return sign + "*".join(a_str)
        b_str = [self.parenthesize(x, prec) for x in den]
        return f"{sign}_f_div({'*'.join(a_str)}, {'*'.join(b_str)})"

    # --- functions (whitelist)
    def _print_Function(self, expr):
        name = FUNCTIONS.get(type(expr)) or _model_name(expr)
        if name is None:
            raise Unprintable(type(expr).__name__)
        return f"_f_{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Max(self, expr):
        return self._fold("maximum", expr.args)

    def _print_Min(self, expr):
        return self._fold("minimum", expr.args)

    def _fold(self, name, args):
        out = self._print(args[0])
        for a in args[1:]:  # NumPy's reduce(maximum, [a, b, c]) = maximum(maximum(a, b), c)
            out = f"_f_{name}({out}, {self._print(a)})"
        return out

    def _print_Heaviside(self, expr):
        return self._print(expr.rewrite(sp.Piecewise))  # as the NumPy printer does (Heaviside(nan) = 1)

    def _print_Piecewise(self, expr):
        """``numpy.select``: the first true condition wins, nan if none."""
        out = "_NAN"
        for pair in reversed(expr.args):
            out = f"({self._print(pair.expr)} if {self._print(pair.cond)} else {out})"
        return out

    def _print_Relational(self, expr):
        return f"({self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)})"

    def _print_And(self, expr):
        return "(" + " and ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr):
        return "(" + " or ".join(self._print(a) for a in expr.args) + ")"

    def _print_Not(self, expr):
        return f"(not {self._print(expr.args[0])})"

    def _print_BooleanTrue(self, expr):
        return "True"

    def _print_BooleanFalse(self, expr):
        return "False"

    def emptyPrinter(self, expr):  # noqa: N802 (SymPy's name)
        raise Unprintable(type(expr).__name__)

    _print_Basic = _print_Expr = emptyPrinter


def statements(exprs, names: dict, outputs, prefix: str) -> list[str]:
    """``output = expression`` lines for ``exprs`` with shared subexpressions as ``<prefix>k`` temporaries.

    ``names`` maps each variable Symbol to its identifier. ``sympy.cse`` runs on ``exprs`` as given, as
    ``lambdify(cse=True)`` does for the NumPy backend, so both evaluate the same temporaries.
    """
    exprs = list(exprs)
    check(exprs)
    reps, reduced = sp.cse(exprs, list=True)
    names = dict(names)
    printer = ScalarPrinter(names)
    lines = []
    for k, (sym, e) in enumerate(reps):
        text = printer.doprint(e)
        names[sym] = f"{prefix}{k}"
        lines.append(f"{prefix}{k} = {text}")
    lines += [f"{out} = {printer.doprint(e)}" for out, e in zip(outputs, reduced)]
    return lines


# a float literal as ``ScalarPrinter._number`` (``repr(float)``) and the kernel generator write them, not a digit
# inside a name (``x_10``, ``u3``) or an integer (``c[0]``, ``range(4)``)
_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d*(?:e[+-]?\d+)?|\d+e[+-]?\d+)(?![\w.])|\b_NAN\b")


def typed_constants(lines, cast: str = "DT") -> tuple[list[str], list[str]]:
    """Every float literal in ``lines`` (and ``_NAN``) as a name ``K<k>`` bound once to ``cast(literal)``.

    For the float32 kernels: numba types a literal such as ``100.0`` as float64, and one float64 operand
    promotes a whole expression to float64 (and the loop to half as many SIMD lanes). Returns the new
    lines and the definitions, ``K0 = DT(100.0)``, ..., in order of first use.

    >>> typed_constants(["f = 100.0*_f_sq(u1) + (-2.0)*x_10 + 1e-05", "g = 100.0 if x_0 < 0.0 else _NAN"])
    (['f = K0*_f_sq(u1) + (-K1)*x_10 + K2', 'g = K0 if x_0 < K3 else K4'], ['K0 = DT(100.0)', 'K1 = DT(2.0)', 'K2 = DT(1e-05)', 'K3 = DT(0.0)', 'K4 = DT(_NAN)'])
    """
    names: dict[str, str] = {}

    def name(m):
        text = m.group(0)
        if text not in names:
            names[text] = f"K{len(names)}"
        return names[text]

    out = [_LITERAL.sub(name, line) for line in lines]
    return out, [f"{k} = {cast}({text})" for text, k in names.items()]
