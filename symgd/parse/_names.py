"""Names, functions and constants; why a name is refused; hints for non-ASCII characters."""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

import sympy as sp

from symgd.errors import ParseError
from symgd.parse._limits import MAX_NAME_LENGTH


def natural_key(name) -> tuple:
    """Sort key putting ``x2`` before ``x10`` (accepts a str or a Symbol).

    >>> sorted(["x10", "x2", "x1"], key=natural_key)
    ['x1', 'x2', 'x10']
    """
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
ARITY = {"log": (1, 2)}  # every other function takes exactly one argument
CONSTANTS = {"pi": sp.pi, "e": sp.E, "E": sp.E}
UNSUPPORTED = {  # functions people reach for, refused with the reason
    **dict.fromkeys(("max", "min", "Max", "Min"), "it is not differentiable; write a smooth expression"),
    **dict.fromkeys(("floor", "ceil", "ceiling", "round", "sign", "sgn", "Heaviside", "mod"),
                    "it is piecewise constant: its gradient is 0 or undefined"),
    **dict.fromkeys(("factorial", "gamma", "Gamma", "erf", "erfc", "binomial"),
                    "symgd knows only elementary functions"),
}

# Every Python builtin (and the names ``site`` adds): harmless as SymPy symbols, since generated code
# never sees a name the user typed (``symgd.kernels`` prints arguments under fresh names ``_x0, _x1, ...``),
# but refused so no name can look like code.
BUILTIN_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("_")) | {
    "exit", "quit", "help", "copyright", "credits", "license"}
NOT_REAL = {"inf": "infinity", "infinity": "infinity", "Infinity": "infinity", "oo": "infinity",
            "zoo": "infinity", "nan": "not a number", "NaN": "not a number", "I": "imaginary"}


def name_problem(name: str) -> tuple[str, str] | None:
    """Why ``name`` cannot name a variable, as (message, hint), or None if it can."""
    short = name if len(name) <= MAX_NAME_LENGTH else name[:MAX_NAME_LENGTH] + "..."
    if len(name) > MAX_NAME_LENGTH:
        return f"name {short} is longer than {MAX_NAME_LENGTH} characters", "use a shorter name"
    if name.startswith("_") or name.endswith("__"):
        return f"name {short} starts with '_' or ends with '__'", "use letters and digits, e.g. x_1"
    if keyword.iskeyword(name):
        return f"{name} is a Python keyword", "use lam" if name == "lambda" else "choose another name"
    if name in NOT_REAL:
        return f"{name} is not a finite real number ({NOT_REAL[name]})", "symgd works over the reals"
    if name in BUILTIN_NAMES:
        return f"{name} is a Python builtin", "choose another name"
    return None


def validate_name(name: str) -> str:
    """Return ``name`` if it can name a variable or parameter, else raise ``ParseError``.

    A name is ``[A-Za-z_][A-Za-z0-9_]*``, at most ``MAX_NAME_LENGTH`` characters, not starting
    with ``_`` nor ending with ``__``, and not a Python keyword or builtin, a function of
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
        refuse_non_ascii(name)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ParseError(f"{name!r} is not a name", hint="use letters, digits and _, e.g. x1")
    problem = name_problem(name)
    if problem is None and name in FUNCTIONS:
        problem = f"{name} is a function", "choose another name"
    if problem is None and name in CONSTANTS:
        problem = f"{name} is a constant", "choose another name"
    if problem:
        raise ParseError(problem[0], hint=problem[1])
    return name


# ---------------------------------------------------------------------------------------------
# non-ASCII characters: what to write instead

_UNICODE_HINTS = {
    **{c: f"^{i}" for i, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}, "⁻": "^-", "√": "sqrt(...)", "∛": "(...)^(1/3)",
    **{c: f"{i} (x₁ is x1 or x_1)" for i, c in enumerate("₀₁₂₃₄₅₆₇₈₉")},
    **dict.fromkeys("−–—‐‑", "-"), **dict.fromkeys("×·⋅∙∗", "*"), **dict.fromkeys("÷∕⁄", "/"),
    "π": "pi", "λ": "lam (lambda is a Python keyword)", "µ": "mu", "ℯ": "e", "½": "1/2",
    "∞": "a number: infinity is not accepted", **dict.fromkeys("‘’“”", "nothing: strings are not expressions"),
    **dict.fromkeys("≤≥≠≈≡", "an expression, not an equation or inequality"),
    **dict.fromkeys("∑∏∫∂∇′″", "f itself: symgd takes derivatives; sums and integrals are not read"),
    "‖": "abs(x), or sqrt(x^2 + y^2) for a norm", **dict.fromkeys("⌊⌋⌈⌉", "nothing: no floor"),
    "°": "radians: multiply degrees by pi/180",
}
# Cyrillic letters that look like Latin ones (a payload may spell "sіn" with a Cyrillic i)
_LOOKALIKE = dict(zip("аеорсухѕіјԁһӏԛԝАВЕКМНОРСТХЅІЈ", "aeopcyxsijdhlqwABEKMHOPCTXSIJ"))
_GREEK = re.compile(r"GREEK (?:SMALL |CAPITAL )?(?:LETTER |)(?:LUNATE |FINAL |)([A-Z]+)")


def _char_hint(ch: str) -> str:
    """What to write instead of the non-ASCII character ``ch``."""
    if ch in _UNICODE_HINTS:
        return f"write {_UNICODE_HINTS[ch]}"
    if ch in _LOOKALIKE:
        return f"retype it: this is a Cyrillic letter that looks like {_LOOKALIKE[ch]}"
    category, name = unicodedata.category(ch), unicodedata.name(ch, "")
    if category == "Cs":
        return "the text holds bytes that are not valid UTF-8: retype it"
    if category in ("Cf", "Cc", "Mn", "Me", "Zl", "Zp"):
        return "remove it: an invisible or combining character"
    if category == "Zs":
        return "write a plain space"
    greek = _GREEK.fullmatch(name.replace(" SYMBOL", ""))
    if greek:
        word = greek.group(1).lower()
        return "write " + (word.capitalize() if "CAPITAL" in name else word)
    folded = unicodedata.normalize("NFKC", ch)
    if folded.isascii() and folded.isprintable() and folded.strip():
        return f"write {folded}"
    return "use ASCII: letters, digits, + - * / ^ ( ) . ,"


def refuse_non_ascii(text: str):
    """Raise a ParseError naming the first non-ASCII character of ``text`` and its ASCII spelling."""
    i, ch = next((i, c) for i, c in enumerate(text) if not c.isascii())
    shown = f"{ch!r} " if ch.isprintable() else ""
    raise ParseError(f"non-ASCII character {shown}(U+{ord(ch):04X})", column=i + 1, hint=_char_hint(ch))
