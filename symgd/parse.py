"""The safe parser: the text a student types becomes ``(sympy.Expr, variables)``, never through ``eval``.

On SymPy 1.14, ``sympify``/``parse_expr`` ran injected code in every form tried (STYLE.md §4.1),
so user text only ever meets this module's own code:

1. type and length (``MAX_LENGTH``) are checked before any other work;
2. ASCII only; ``x²``, ``√x``, ``−``, ``×``, ``π``, Greek and fullwidth letters get a hint;
3. a regular-expression tokenizer over a fixed character set;
4. a shunting-yard pass to postfix that checks the grammar, the parenthesis depth and implicit
   multiplication, so that every error carries the column of the character at fault;
5. an iterative build of SymPy nodes from a whitelist (``FUNCTIONS``, ``CONSTANTS``, ``+ - * / ^``,
   exact numbers, ``Symbol(name, real=True)``), with guards before SymPy evaluates anything large.

What people type, and what it means:

- ``^`` and ``**`` are powers, right-associative (``2^3^2`` is 512); unary minus binds looser than
  a power (``-x^2`` is ``-(x^2)``) and may follow one (``2^-x``, ``x^-1``).
- A number before a name or ``(`` multiplies (``10x``, ``2(x+1)``, ``2pi``, ``2 x``), and so does
  ``)`` before ``(`` or a name; this implicit product binds like ``*``, so ``1/2x`` is ``x/2``
  and ``e^2x`` is ``e^2*x``. Two names (``x y``) or two numbers (``2 3``) side by side are errors.
  A name is ``[A-Za-z_][A-Za-z0-9_]*``, so ``x1x2`` is one name, never ``x*1*x*2``.
- Decimals are the exact rationals typed: ``0.5`` is 1/2, ``1e-3`` is 1/1000.
- ``e``, ``E`` (how SymPy prints it, so printed output parses back) and ``pi`` are constants;
  Greek names such as ``gamma``, ``beta``, ``lam`` are variables (``lambda`` is a Python keyword).
- Functions take one argument, except ``log(x, base)``. ``max``/``min`` are left out on purpose
  (not differentiable); ``sigmoid(x)`` is ``1/(1 + exp(-x))``; ``sec``, ``csc``, ``cot`` are built
  as ``1/cos``, ``1/sin``, ``1/tan`` (SymPy 1.14's own classes raise AttributeError on some arguments).

Limits, each refused with a one-line ``ParseError`` before SymPy builds anything large:

- ``MAX_LENGTH`` characters (checked first), ``MAX_PAREN_DEPTH`` nested parentheses, names of at
  most ``MAX_NAME_LENGTH`` characters.
- Numeric exponents: at most ``MAX_EXPONENT`` in absolute value when the base is a variable or a
  number, else ``MAX_COMPOUND_EXPONENT``: solving expands ``(x + y + 1)^1000`` into 501501 terms.
- Every constant sub-expression is a finite real number, 0 or within [1e-300, 1e300] in magnitude
  (float64's range), checked bottom-up so that ``exp(exp(exp(exp(e))))`` is refused at its third
  ``exp`` instead of hanging ``str()``; and it expands to at most ``MAX_EXPANDED_TERMS`` terms
  (SymPy expands constants to compare them: ``cos(sin((pi + 1 - e)^100))`` hung).
- A tree depth of ``MAX_TREE_DEPTH`` (SymPy's recursive algorithms hit Python's recursion limit
  near 200) and ``MAX_NODES`` nodes.
- SymPy's assumptions split the argument of ``sinh``, ``cosh``, ``tanh`` and ``abs`` into real and
  imaginary parts whenever something asks for its sign, expanding as they go
  (``exp(tanh((log(x) + acos(x))^20))`` ran for minutes; ``tanh`` nested 8 deep over ``log(x)``
  took 2 s). Their argument may expand to at most ``MAX_EXPANDED_TERMS`` terms and, if SymPy cannot
  prove it real (it holds ``log``, ``sqrt``, ``asin``, a quotient...), it may hold no power above 2
  of such parts and no other of these four functions.

>>> parse("x^2 - 10x + 1")
(x**2 - 10*x + 1, (x,))
>>> parse("x10 + 0.5*x2")
(x10 + x2/2, (x2, x10))
>>> parse("x y")
Traceback (most recent call last):
...
symgd.errors.ParseError: two names side by side (column 3); hint: write x*y
"""

from __future__ import annotations

import difflib
import keyword
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import sympy as sp

from symgd.errors import ParseError

__all__ = ["CONSTANTS", "FUNCTIONS", "natural_key", "parse", "validate_name"]

MAX_LENGTH = 2000
MAX_PAREN_DEPTH = 64
MAX_NAME_LENGTH = 32
MAX_EXPONENT = 1000
MAX_COMPOUND_EXPONENT = 100
MAX_TREE_DEPTH = 100
MAX_NODES = 5000
MAX_EXPANDED_TERMS = 64  # constants, and the argument of sinh, cosh, tanh, abs
_BIG = 10**300  # constants are 0 or within [1e-300, 1e300] in magnitude


def natural_key(name) -> tuple:
    """Sort key putting ``x2`` before ``x10`` (accepts a str or a Symbol)."""
    text = str(name)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p)


def sigmoid(x: sp.Expr) -> sp.Expr:
    """Logistic function :math:`\\sigma(x) = 1/(1 + e^{-x})`, written out in ``exp``."""
    return sp.Pow(sp.Add(1, sp.exp(-x)), -1)


FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "sqrt": sp.sqrt, "abs": sp.Abs, "Abs": sp.Abs,
    "log10": lambda x: sp.log(x, 10), "log2": lambda x: sp.log(x, 2), "sigmoid": sigmoid,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    # sec/csc/cot as quotients: SymPy 1.14's own classes raise AttributeError on some arguments
    "sec": lambda x: 1 / sp.cos(x), "csc": lambda x: 1 / sp.sin(x), "cot": lambda x: 1 / sp.tan(x),
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
    "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh,
}
_ARITY = {"log": (1, 2)}  # every other function takes exactly one argument
CONSTANTS = {"pi": sp.pi, "e": sp.E, "E": sp.E}

_RESERVED = {  # Python builtins that matter; harmless as SymPy symbols, but refused as names
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "hasattr", "globals", "locals",
    "vars", "input", "print", "breakpoint", "help", "exit", "quit", "type", "object", "super", "dir",
    "memoryview", "classmethod", "staticmethod", "property",
}
_NOT_REAL = {"inf": "infinity", "infinity": "infinity", "Infinity": "infinity", "oo": "infinity",
             "zoo": "infinity", "nan": "not a number", "NaN": "not a number", "I": "imaginary"}
_NONFINITE = {sp.zoo, sp.oo, -sp.oo, sp.nan, sp.I}

_CHAR_HINTS = {
    **dict.fromkeys("[]{}", "use round parentheses ( )"),
    "=": "give an expression, not an equation or assignment",
    "!": "factorial is not supported", "|": "write abs(x) for |x|",
    **dict.fromkeys("'\"`", "strings are not expressions"),
    ".": "a dot belongs only inside a number such as 0.5",
    "%": "write 0.05 for 5%; there is no modulo", ";": "give one expression",
    ":": "give one expression", "\\": "LaTeX is not read: write sqrt(x), x^2, pi",
}
_UNICODE_HINTS = {
    **{c: f"^{i}" for i, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}, "⁻": "^-", "√": "sqrt(...)", "∛": "(...)^(1/3)",
    **dict.fromkeys("−–—‐‑", "-"), **dict.fromkeys("×·⋅∙∗", "*"), **dict.fromkeys("÷∕", "/"),
    "π": "pi", "λ": "lam (lambda is a Python keyword)", "µ": "mu", "ℯ": "e", "½": "1/2",
    "\u00a0": "a plain space",
    "∞": "a number: infinity is not accepted", **dict.fromkeys("‘’“”", "nothing: strings are not expressions"),
}

_TOKEN = re.compile(r"(?P<ws>[ \t\r\n]+)|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|[-+*/^(),])")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BINARY = {"+": (1, True), "-": (1, True), "*": (2, True), "/": (2, True), "^": (4, False)}  # prec, left
_WHAT = {"+": "this sum", "-": "this difference", "*": "this product", "/": "this quotient", "^": "this power"}
_NEG_PREC = 3  # looser than ^, tighter than * (as in Python: -x**2 == -(x**2), 2**-x == 2**(-x))


class _Tok(NamedTuple):
    kind: str  # num | name | op
    text: str
    col: int  # 1-based


class _Item(NamedTuple):
    """A postfix item: num (value), sym/const (name), bin (operator), neg, call (name, argc)."""

    kind: str
    col: int
    text: str = ""
    value: object = None


# ---------------------------------------------------------------------------------------------
# names and characters


def _name_problem(name: str) -> tuple[str, str] | None:
    """Why ``name`` cannot name a variable, as (message, hint), or None if it can."""
    short = name if len(name) <= MAX_NAME_LENGTH else name[:MAX_NAME_LENGTH] + "..."
    if len(name) > MAX_NAME_LENGTH:
        return f"name {short} is longer than {MAX_NAME_LENGTH} characters", "use a shorter name"
    if name.startswith("_") or name.endswith("__"):
        return f"name {short} starts with '_' or ends with '__'", "use letters and digits, e.g. x_1"
    if keyword.iskeyword(name):
        return f"{name} is a Python keyword", "use lam" if name == "lambda" else "choose another name"
    if name in _RESERVED:
        return f"{name} is a reserved name", "choose another name"
    if name in _NOT_REAL:
        return f"{name} is not a finite real number ({_NOT_REAL[name]})", "symgd works over the reals"
    return None


def validate_name(name: str) -> str:
    """Return ``name`` if it can name a variable or parameter, else raise ``ParseError``.

    A name is ``[A-Za-z_][A-Za-z0-9_]*``, at most ``MAX_NAME_LENGTH`` characters, not starting
    with ``_`` nor ending with ``__``, and not a Python keyword, a reserved builtin, a function of
    ``FUNCTIONS`` or a constant of ``CONSTANTS``.

    >>> validate_name("theta")
    'theta'
    >>> validate_name("lambda")
    Traceback (most recent call last):
    ...
    symgd.errors.ParseError: lambda is a Python keyword; hint: use lam
    """
    if not isinstance(name, str):
        raise ParseError(f"a name must be a string, got {type(name).__name__!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise ParseError(f"a name is at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    if not name.isascii():
        _refuse_non_ascii(name)
    if not _NAME.fullmatch(name):
        raise ParseError(f"{name[:MAX_NAME_LENGTH]!r} is not a name", hint="use letters, digits and _, e.g. x1")
    problem = _name_problem(name)
    if problem is None and name in FUNCTIONS:
        problem = f"{name} is a function", "choose another name"
    if problem is None and name in CONSTANTS:
        problem = f"{name} is a constant", "choose another name"
    if problem:
        raise ParseError(problem[0], hint=problem[1])
    return name


def _refuse_non_ascii(text: str):
    """Raise a ParseError naming the first non-ASCII character of ``text`` and its ASCII spelling."""
    i, ch = next((i, c) for i, c in enumerate(text) if not c.isascii())
    shown = f"{ch!r} " if ch.isprintable() else ""
    hint = _UNICODE_HINTS.get(ch)
    if hint is None:
        name = unicodedata.name(ch, "")
        folded = unicodedata.normalize("NFKC", ch)
        if name.startswith("GREEK") and " LETTER " in name:
            word = name.split(" LETTER ")[-1].split()[0].lower()
            hint = word.capitalize() if "CAPITAL" in name else word
        elif folded.isascii() and folded.isprintable() and folded.strip():
            hint = folded
    hint = f"write {hint}" if hint else "use ASCII: letters, digits, + - * / ^ ( ) . ,"
    raise ParseError(f"non-ASCII character {shown}(U+{ord(ch):04X})", column=i + 1, hint=hint)


def _tokenize(text: str) -> list[_Tok]:
    """Split ``text`` into number, name and operator tokens (``**`` becomes ``^``)."""
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            if not ch.isprintable():
                raise ParseError(f"control character U+{ord(ch):04X}", column=pos + 1, hint="remove it")
            hint = _CHAR_HINTS.get(ch, "allowed: letters, digits, _ . + - * / ^ ( ) , and spaces")
            raise ParseError(f"character {ch!r} is not allowed", column=pos + 1, hint=hint)
        kind, tok = m.lastgroup, m.group()
        if kind != "ws":
            tokens.append(_Tok(kind, "^" if tok == "**" else tok, pos + 1))
        pos = m.end()
    return tokens


def _number(tok: _Tok) -> sp.Rational:
    """The exact value of a decimal literal (``0.1`` is 1/10), refused if outside [1e-300, 1e300]."""
    mantissa, _, exp = tok.text.lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    if not digits:
        return sp.Integer(0)
    shift = int(exp or 0) - len(frac)  # value = int(digits) * 10**shift
    order = len(digits) - 1 + shift
    if len(digits) > 400 or not -301 <= order <= 300:
        raise ParseError(f"number {tok.text[:30]} is outside float64's range [1e-300, 1e300]",
                         column=tok.col)
    value = sp.Integer(int(digits) * 10**shift) if shift >= 0 else sp.Rational(int(digits), 10**-shift)
    _check_rational(value, tok.col)
    return value


# ---------------------------------------------------------------------------------------------
# grammar: tokens -> postfix (shunting-yard); every error carries its column


class _Postfix:
    """Shunting-yard over the tokens, checking the grammar as it goes (one pass, no recursion)."""

    def __init__(self, tokens: list[_Tok]):
        self.tokens, self.out, self.depth = tokens, [], 0
        self.ops: list[list] = []  # [kind, col, text, argc], kind in bin | neg | ( | call

    def run(self) -> list[_Item]:
        tokens, ops = self.tokens, self.ops
        expect_operand, prev, i = True, None, 0
        while i < len(tokens):
            tok = tokens[i]
            if not expect_operand and (tok.kind != "op" or tok.text == "("):
                _implicit_product(prev, tok)
                self.binary("*", tok.col)  # 10x, 2(x+1), (x+1)(x-1)
                expect_operand = True
            if not expect_operand:
                if tok.text == ")":
                    self.close(tok)
                elif tok.text == ",":
                    self.comma(tok)
                    expect_operand = True
                else:
                    self.binary(tok.text, tok.col)
                    expect_operand = True
            elif tok.kind == "num":
                self.out.append(_Item("num", tok.col, value=_number(tok)))
                expect_operand = False
            elif tok.kind == "name":
                if self.name(i):  # a function call: its "(" is consumed too
                    i += 1
                else:
                    expect_operand = False
            elif tok.text == "(":
                self.open("(", tok, "")
            elif tok.text in "+-":
                if tok.text == "-":
                    ops.append(["neg", tok.col, "-", 0])
            else:
                raise self.missing_operand(prev, tok)
            prev, i = tokens[i], i + 1
        if expect_operand:
            raise self.missing_operand(prev, None)
        while ops:
            if ops[-1][0] in ("(", "call"):
                raise ParseError("unclosed '('", column=ops[-1][1], hint="add ')'")
            self.emit(ops.pop())
        return self.out

    def emit(self, op: list) -> None:
        self.out.append(_Item(op[0], op[1], op[2], op[3]))

    def binary(self, text: str, col: int) -> None:
        prec, left = _BINARY[text]
        while self.ops and self.ops[-1][0] in ("bin", "neg"):
            top = self.ops[-1]
            top_prec = _NEG_PREC if top[0] == "neg" else _BINARY[top[2]][0]
            if top_prec < prec or (top_prec == prec and not left):
                break
            self.emit(self.ops.pop())
        self.ops.append(["bin", col, text, 0])

    def open(self, kind: str, tok: _Tok, fname: str) -> None:
        self.depth += 1
        if self.depth > MAX_PAREN_DEPTH:
            raise ParseError(f"more than {MAX_PAREN_DEPTH} nested parentheses", column=tok.col)
        self.ops.append([kind, tok.col, fname, 1])

    def to_paren(self, tok: _Tok) -> list:
        """Pop operators down to the innermost open parenthesis, which is returned (not popped)."""
        while self.ops and self.ops[-1][0] not in ("(", "call"):
            self.emit(self.ops.pop())
        if not self.ops and tok.text == ")":
            raise ParseError("unmatched ')'", column=tok.col, hint="remove it")
        if not self.ops:
            raise _unexpected_comma(tok)
        return self.ops[-1]

    def close(self, tok: _Tok) -> None:
        top = self.to_paren(tok)
        self.ops.pop()
        self.depth -= 1
        if top[0] == "call":
            self.out.append(_Item("call", top[1], top[2], top[3]))

    def comma(self, tok: _Tok) -> None:
        top = self.to_paren(tok)
        if top[0] != "call" or top[3] >= max(_ARITY.get(top[2], (1,))):
            raise _unexpected_comma(tok)
        top[3] += 1

    def name(self, i: int) -> bool:
        """Handle the name ``tokens[i]`` as an operand; True if it opened a function call (then
        ``tokens[i + 1]`` is its parenthesis)."""
        tok = self.tokens[i]
        nxt = self.tokens[i + 1] if i + 1 < len(self.tokens) else None
        called = nxt is not None and nxt.text == "("
        if tok.text in FUNCTIONS:
            if not called:
                squared = nxt is not None and nxt.text == "^"
                hint = f"write {tok.text}(x)^2" if squared else f"write {tok.text}(...)"
                raise ParseError(f"{tok.text} is a function: it needs parentheses", column=tok.col, hint=hint)
            self.open("call", tok, tok.text)
            return True
        if tok.text in CONSTANTS:
            self.out.append(_Item("const", tok.col, tok.text))
            return False
        problem = _name_problem(tok.text)
        if problem:
            raise ParseError(problem[0], column=tok.col, hint=problem[1])
        if called:
            raise _not_a_function(tok)
        self.out.append(_Item("sym", tok.col, tok.text))
        return False

    def missing_operand(self, prev: _Tok | None, tok: _Tok | None) -> ParseError:
        if tok is None:
            if prev is None:
                return ParseError("empty expression", hint="type an expression such as x^2 - 10x + 1")
            return ParseError(f"the expression ends after '{prev.text}'", column=prev.col, hint="complete it")
        if tok.text == ")" and prev is not None and prev.text == "(":
            call = self.ops and self.ops[-1][0] == "call"
            what = f"{self.ops[-1][2]}() needs an argument" if call else "empty parentheses"
            return ParseError(what, column=tok.col, hint="put an expression inside")
        power = "; a power is ^ or **" if tok.text == "^" else ""
        return ParseError(f"missing operand before '{tok.text}'", column=tok.col,
                          hint="put a number or a name there" + power)


def _unexpected_comma(tok: _Tok) -> ParseError:
    return ParseError("unexpected ','", column=tok.col,
                      hint="only log(x, base) takes two arguments; decimals use a dot: 2.5")


def _implicit_product(prev: _Tok, tok: _Tok) -> None:
    """Allow ``2x``, ``2(x)``, ``)(`` and ``)x``; explain every other pair of adjacent operands."""
    if (prev.kind == "num" or prev.text == ")") and tok.kind != "num":
        return
    a = "(...)" if prev.text == ")" else prev.text
    b = "(...)" if tok.text == "(" else tok.text + ("(...)" if tok.text in FUNCTIONS else "")
    if tok.text == "(":  # only a constant can be here: other names before "(" are caught earlier
        hint = "write exp(...) or e*(...)" if a in ("e", "E") else f"write {a}*(...)"
        raise ParseError(f"{a} is a constant, not a function", column=prev.col, hint=hint)
    what = {"num": "numbers", "name": "names"}[tok.kind] if prev.kind == tok.kind else "operands"
    raise ParseError(f"two {what} side by side", column=tok.col, hint=f"write {a}*{b}")


def _not_a_function(tok: _Tok) -> ParseError:
    """The error for ``name(`` where ``name`` is a variable, with a did-you-mean for typos."""
    close = difflib.get_close_matches(tok.text.lower(), FUNCTIONS, n=1, cutoff=0.6)
    if close:
        return ParseError(f"unknown function {tok.text}", column=tok.col, hint=f"did you mean {close[0]}?")
    return ParseError(f"{tok.text} is not a function", column=tok.col,
                      hint=f"write {tok.text}*(...) to multiply; functions: {', '.join(sorted(FUNCTIONS))}")


# ---------------------------------------------------------------------------------------------
# postfix -> SymPy, with guards before SymPy evaluates anything large


@dataclass(slots=True)
class _Info:
    depth: int
    size: int
    const: bool  # no free symbols
    value: object = None  # for a checked constant: its Rational or Float value


def _check_rational(r: sp.Rational, col: int | None) -> None:
    p, q = abs(r.p), r.q
    if p > _BIG * q:
        raise ParseError("a constant here is larger than 1e300 in magnitude", column=col,
                         hint="symgd computes in float64")
    if p and p * _BIG < q:
        raise ParseError("a constant here is nonzero but smaller than 1e-300 in magnitude", column=col,
                         hint="symgd computes in float64")


def _check_constant(expr: sp.Expr, col: int | None, what: str) -> sp.Expr:
    """The numeric value of a constant whose arguments are already checked, or ParseError.

    Evaluating is cheap here: every argument is known to lie within [1e-300, 1e300] in magnitude.
    A value that is 0 at evalf's working precision counts as 0, as in float64: ``log(cosh(1e-300))``
    is accepted, and ``1/log(cosh(1e-300))`` refused.
    """
    if expr.is_Rational:
        _check_rational(expr, col)
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


_SPLIT_PRONE = (sp.sinh, sp.cosh, sp.tanh, sp.Abs)  # their assumptions call arg.as_real_imag()


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


class _Builder:
    """Build SymPy nodes from postfix items; ``memo`` holds depth, size and constant facts per node."""

    def __init__(self):
        self.memo: dict[sp.Basic, _Info] = {}

    def build(self, items: list[_Item]) -> sp.Expr:
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
                for a in args:
                    if self.checked(a, item.col, f"the argument of {item.text}") is None:
                        _check_real_imag_cost(FUNCTIONS[item.text], a, item.col, item.text)
                node, what = FUNCTIONS[item.text](*args), f"{item.text}(...)"
            self.visit(node, item.col, what)
            stack.append(node)
        (expr,) = stack
        self.checked(expr, None, "the expression")
        return expr

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
            simple = a.is_Symbol or av is not None
            limit = MAX_EXPONENT if simple else MAX_COMPOUND_EXPONENT
            big = abs(b.p) > limit * b.q if b.is_Rational else abs(bv) > limit
            if big:
                why = "" if simple else " unless the base is a variable or a number"
                raise ParseError(f"exponent too large: at most {limit} in absolute value{why}", column=col,
                                 hint=None if simple else "(x+y+1)^1000 would expand to 501501 terms")
        if av is None:
            return sp.Pow(a, b)
        if bv is None and av <= 0:
            raise ParseError("a base <= 0 needs a constant exponent", column=col, hint="(-2)^x is not real")
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
            _check_rational(n, col)
            return _Info(depth, size, True, n)
        if n.is_NumberSymbol:
            return _Info(depth, size, True)
        if not infos:
            raise ParseError(f"{what} gives {type(n).__name__}, which symgd does not accept", column=col)
        info = _Info(depth, size, all(i.const for i in infos))
        if info.const and not (n.is_Add or n.is_Mul):  # a function or power of constants: bound it now
            for a in n.args:
                self.checked(a, col, what)
            info.value = _check_constant(n, col, what)
        return info


# ---------------------------------------------------------------------------------------------
# public entry point


def _variables(found, variables) -> tuple[sp.Symbol, ...]:
    """The variables in natural order, or in the order ``variables`` names them."""
    if variables is None:
        return tuple(sorted(found, key=lambda s: natural_key(s.name)))
    if isinstance(variables, str):
        variables = [v.strip() for v in variables.split(",")]
    if not isinstance(variables, Sequence):
        raise ParseError(f"variables must be a sequence of names, got {type(variables).__name__!r}")
    names = [validate_name(v.name if isinstance(v, sp.Symbol) else v) for v in variables]
    seen = set()
    for name in names:
        if name in seen:
            raise ParseError(f"variable {name} is listed twice")
        seen.add(name)
    return tuple(sp.Symbol(name, real=True) for name in names)


def parse(text: str, variables: Sequence[str] | None = None) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """Read an expression typed by a person; return it as SymPy and its variables.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"x^2 - 10x + 1"`` or ``"exp(x+y) + x^2 - y^2"``.
    variables : sequence of str, optional
        The variables' order. Default: every name of the expression, in natural order (``x2``
        before ``x10``). A listed name absent from the expression is still a variable (its
        gradient entry is 0); a name of the expression left out is a parameter.

    Returns
    -------
    expr : sympy.Expr
        Built from ``Symbol(name, real=True)``, exact numbers and whitelisted functions.
    variables : tuple of sympy.Symbol

    Raises
    ------
    ParseError
        For anything else, as one line with the column at fault and a hint.

    Examples
    --------
    >>> parse("2(x+1) + e^-x")
    (2*x + 2 + exp(-x), (x,))
    >>> parse("a*x^2", variables=["x", "y"])
    (a*x**2, (x, y))
    >>> parse("sinn(x)")
    Traceback (most recent call last):
    ...
    symgd.errors.ParseError: unknown function sinn (column 1); hint: did you mean sin?
    """
    if not isinstance(text, str):
        raise ParseError(f"an expression must be a string, got {type(text).__name__!r}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the expression has {len(text)} characters; the limit is {MAX_LENGTH}")
    text = str.__str__(text)  # a plain str, whatever subclass came in
    if not text.isascii():
        _refuse_non_ascii(text)
    expr = _Builder().build(_Postfix(_tokenize(text)).run())
    return expr, _variables(expr.free_symbols, variables)
