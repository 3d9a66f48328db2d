"""Text to postfix: the tokenizer and a shunting-yard pass that checks the grammar, every error with its column."""

from __future__ import annotations

import difflib
import re
from typing import NamedTuple

import sympy as sp

from symgd.errors import ParseError
from symgd.parse._limits import BIG, MAX_DIGITS, MAX_PAREN_DEPTH
from symgd.parse._names import ARITY, CONSTANTS, FUNCTIONS, UNSUPPORTED, name_problem

_CHAR_HINTS = {
    **dict.fromkeys("[]{}", "use round parentheses ( )"),
    "=": "give an expression, not an equation or assignment",
    **dict.fromkeys("<>", "give an expression, not an inequality"),
    "!": "factorial is not supported", "|": "write abs(x) for |x|",
    **dict.fromkeys("'\"`", "strings are not expressions"),
    ".": "a dot belongs only inside a number such as 0.5",
    "%": "write 0.05 for 5%; there is no modulo", ";": "give one expression",
    ":": "give one expression", "\\": "LaTeX is not read: write sqrt(x), x^2, pi",
}
_TOKEN = re.compile(r"(?P<ws>[ \t\r\n]+)|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|[-+*/^(),])")
_RADIX = re.compile(r"[xX][0-9A-Fa-f_]+|[oO][0-7_]+|[bB][01_]+")  # after "0": 0x1F, 0o17, 0b101
BINARY = {"+": (1, True), "-": (1, True), "*": (2, True), "/": (2, True), "^": (4, False)}  # prec, left
_NEG_PREC = 3  # looser than ^, tighter than * (as in Python: -x**2 == -(x**2), 2**-x == 2**(-x))


class Tok(NamedTuple):
    kind: str  # num | name | op
    text: str
    col: int  # 1-based


class Item(NamedTuple):
    """A postfix item: num (value), sym/const (name), bin (operator), neg, call (name, argc)."""

    kind: str
    col: int
    text: str = ""
    value: object = None


def tokenize(text: str) -> list[Tok]:
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
            tokens.append(Tok(kind, "^" if tok == "**" else tok, pos + 1))
        pos = m.end()
    return tokens


def check_rational(r: sp.Rational, col: int | None) -> None:
    """Refuse a rational outside float64's range: 0 or within [1e-300, 1e300] in magnitude."""
    p, q = abs(r.p), r.q
    if p > BIG * q:
        raise ParseError("a constant here is larger than 1e300 in magnitude", column=col,
                         hint="symgd computes in float64")
    if p and p * BIG < q:
        raise ParseError("a constant here is nonzero but smaller than 1e-300 in magnitude", column=col,
                         hint="symgd computes in float64")


def number(tok: Tok) -> sp.Rational:
    """The exact value of a decimal literal (``0.1`` is 1/10), refused if outside [1e-300, 1e300]."""
    mantissa, _, exp = tok.text.lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    frac = frac.rstrip("0")  # 1.000 is 1
    digits = (whole + frac).lstrip("0")
    if not digits:
        return sp.Integer(0)
    if len(digits) > MAX_DIGITS:
        raise ParseError(f"number {tok.text[:20]}... has more than {MAX_DIGITS} significant digits",
                         column=tok.col, hint="float64 keeps 17")
    shift = int(exp or 0) - len(frac)
    order = len(digits) - 1 + shift  # value = int(digits) * 10**shift
    if not -301 <= order <= 300:
        raise ParseError(f"number {tok.text[:30]} is outside float64's range [1e-300, 1e300]", column=tok.col)
    value = sp.Integer(int(digits) * 10**shift) if shift >= 0 else sp.Rational(int(digits), 10**-shift)
    check_rational(value, tok.col)
    return value


def implicit_product(prev: Tok, tok: Tok) -> None:
    """Allow ``2x``, ``2(x)``, ``)(`` and ``)x``; explain every other pair of adjacent operands."""
    touching = prev.col + len(prev.text) == tok.col
    if prev.kind == "num" and touching:
        _literal_lookalike(prev, tok)
    if (prev.kind == "num" or prev.text == ")") and tok.kind != "num":
        return
    a = "(...)" if prev.text == ")" else prev.text
    b = "(...)" if tok.text == "(" else tok.text + ("(...)" if tok.text in FUNCTIONS else "")
    if tok.text == "(":  # only a constant can be here: other names before "(" are caught earlier
        hint = "write exp(...) or e*(...)" if a in ("e", "E") else f"write {a}*(...)"
        raise ParseError(f"{a} is a constant, not a function", column=prev.col, hint=hint)
    what = {"num": "numbers", "name": "names"}[tok.kind] if prev.kind == tok.kind else "operands"
    raise ParseError(f"two {what} side by side", column=tok.col, hint=f"write {a}*{b}")


def _literal_lookalike(prev: Tok, tok: Tok) -> None:
    """Refuse what Python would read as one literal (``0x1F``, ``1_000``, ``1.2.3``) rather than guess."""
    if tok.kind == "num" and tok.text.startswith("."):
        raise ParseError("a number has at most one decimal point", column=tok.col,
                         hint="an exponent after e is a whole number" if "e" in prev.text.lower()
                         else "write one number such as 1.25, or put * between two")
    if tok.kind != "name":
        return
    if prev.text == "0" and _RADIX.fullmatch(tok.text):
        raise ParseError(f"0{tok.text} looks like a Python integer literal", column=prev.col,
                         hint=f"write the decimal number, or 0*{tok.text} if you mean a product")
    if re.fullmatch(r"_[0-9_]*", tok.text):
        raise ParseError("digits cannot be grouped with '_'", column=tok.col,
                         hint=f"write {prev.text}{tok.text.replace('_', '')}")


def _not_a_function(tok: Tok) -> ParseError:
    """The error for ``name(`` where ``name`` is not one of ``FUNCTIONS``, with a did-you-mean for typos."""
    if tok.text in UNSUPPORTED:
        return ParseError(f"{tok.text}(...) is not supported", column=tok.col, hint=UNSUPPORTED[tok.text])
    problem = name_problem(tok.text)
    if problem:
        return ParseError(problem[0], column=tok.col, hint=problem[1])
    close = difflib.get_close_matches(tok.text.lower(), FUNCTIONS, n=1, cutoff=0.6)
    if close:
        return ParseError(f"unknown function {tok.text}", column=tok.col, hint=f"did you mean {close[0]}?")
    return ParseError(f"{tok.text} is not a function", column=tok.col,
                      hint=f"write {tok.text}*(...) to multiply; functions: {', '.join(sorted(FUNCTIONS))}")


def _unexpected_comma(tok: Tok) -> ParseError:
    return ParseError("unexpected ','", column=tok.col,
                      hint="only log(x, base) takes two arguments; decimals use a dot: 2.5")


class Postfix:
    """Shunting-yard over the tokens, checking the grammar as it goes (one pass, no recursion)."""

    def __init__(self, tokens: list[Tok]):
        self.tokens, self.out, self.depth = tokens, [], 0
        self.ops: list[list] = []  # [kind, col, text, argc], kind in bin | neg | ( | call

    def run(self) -> list[Item]:
        tokens, ops = self.tokens, self.ops
        expect_operand, prev, i = True, None, 0
        while i < len(tokens):
            tok = tokens[i]
            if not expect_operand and (tok.kind != "op" or tok.text == "("):
                implicit_product(prev, tok)
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
                self.out.append(Item("num", tok.col, value=number(tok)))
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
        self.out.append(Item(op[0], op[1], op[2], op[3]))

    def binary(self, text: str, col: int) -> None:
        prec, left = BINARY[text]
        while self.ops and self.ops[-1][0] in ("bin", "neg"):
            top = self.ops[-1]
            top_prec = _NEG_PREC if top[0] == "neg" else BINARY[top[2]][0]
            if top_prec < prec or (top_prec == prec and not left):
                break
            self.emit(self.ops.pop())
        self.ops.append(["bin", col, text, 0])

    def open(self, kind: str, tok: Tok, fname: str) -> None:
        self.depth += 1
        if self.depth > MAX_PAREN_DEPTH:
            raise ParseError(f"more than {MAX_PAREN_DEPTH} nested parentheses", column=tok.col)
        self.ops.append([kind, tok.col, fname, 1])

    def to_paren(self, tok: Tok) -> list:
        """Pop operators down to the innermost open parenthesis, which is returned (not popped)."""
        while self.ops and self.ops[-1][0] not in ("(", "call"):
            self.emit(self.ops.pop())
        if not self.ops and tok.text == ")":
            raise ParseError("unmatched ')'", column=tok.col, hint="remove it")
        if not self.ops:
            raise _unexpected_comma(tok)
        return self.ops[-1]

    def close(self, tok: Tok) -> None:
        top = self.to_paren(tok)
        self.ops.pop()
        self.depth -= 1
        if top[0] == "call":
            self.out.append(Item("call", top[1], top[2], top[3]))

    def comma(self, tok: Tok) -> None:
        top = self.to_paren(tok)
        if top[0] != "call" or top[3] >= max(ARITY.get(top[2], (1,))):
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
            self.out.append(Item("const", tok.col, tok.text))
            return False
        if called:
            raise _not_a_function(tok)
        problem = name_problem(tok.text)
        if problem:
            raise ParseError(problem[0], column=tok.col, hint=problem[1])
        self.out.append(Item("sym", tok.col, tok.text))
        return False

    def missing_operand(self, prev: Tok | None, tok: Tok | None) -> ParseError:
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
