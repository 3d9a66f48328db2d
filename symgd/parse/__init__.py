"""The safe parser: the text a student types becomes ``(sympy.Expr, variables)``, never through ``eval``.

On SymPy 1.14, ``sympify``/``parse_expr`` ran injected code in every form tried (STYLE.md §4.1),
so user text only ever meets this package's own code (``_names``, ``_grammar``, ``_build``):

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
  Python keywords and builtins (``print``, ``sum``, ``max``), ``inf``, ``nan``, ``I`` and names that start
  with ``_`` or end with ``__`` are refused; and no name ever reaches generated code as an identifier
  (``symgd.kernels`` renames every argument) nor LaTeX unescaped (``symgd.latex.symbol_latex``).
- What Python would read as one literal is refused rather than guessed: ``0x1F``, ``1_000``, ``1.2.3``.
- Functions take one argument, except ``log(x, base)``. ``max``/``min`` are left out on purpose
  (not differentiable), as are ``floor``, ``factorial`` and the like (the error says why);
  ``sigmoid(x)`` is ``1/(1 + exp(-x))``; ``sec``, ``csc``, ``cot`` are built as ``1/cos``, ``1/sin``,
  ``1/tan`` (SymPy 1.14's own classes raise AttributeError on some arguments).

Limits, each refused with a one-line ``ParseError`` before SymPy builds anything large:

- ``MAX_LENGTH`` characters (checked first), ``MAX_PAREN_DEPTH`` nested parentheses, names of at
  most ``MAX_NAME_LENGTH`` characters.
- Numeric exponents: at most ``MAX_EXPONENT`` in absolute value when the base is a variable or a
  number, else ``MAX_COMPOUND_EXPONENT``: solving expands ``(x + y + 1)^1000`` into 501501 terms.
- Every constant sub-expression is a finite real number, 0 or within [1e-300, 1e300] in magnitude
  (float64's range), checked bottom-up so that ``exp(exp(exp(exp(e))))`` is refused at its third
  ``exp`` instead of hanging ``str()``; and it expands to at most ``MAX_EXPANDED_TERMS`` terms
  (SymPy expands constants to compare them: ``cos(sin((pi + 1 - e)^100))`` hung).
- A tree depth of ``MAX_TREE_DEPTH`` and ``MAX_NODES`` nodes. SymPy's constructors re-inspect their
  whole argument (``Abs`` sorts every sub-sum of it), so 50 nested ``abs(x + ...)`` took 2 s at depth
  100; at 64 the worst nesting measured takes about 0.5 s, and recursion stays far from Python's limit.
- Every power SymPy builds, also by merging (``((x+1)^100)^100`` is ``(x+1)^10000``, ``x^600*x^600``
  is ``x^1200``), keeps its exponent within the limits above.
- Functions nest at most ``MAX_CONSTANT_DEPTH`` deep inside a constant: SymPy evaluates a function of a
  constant as it builds it, in a time exponential in that depth (``sigmoid(1 + sigmoid(1 + ...))``
  10 deep took 26 s).
- ``log(x, b)`` needs a base that is positive and not 1 (SymPy makes ``log(x, 0)`` the number 0).
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

from collections.abc import Sequence

import sympy as sp

from symgd._store import text_key
from symgd.errors import ParseError
from symgd.parse._build import Builder
from symgd.parse._grammar import Postfix, tokenize
from symgd.parse._limits import (MAX_COMPOUND_EXPONENT, MAX_CONSTANT_DEPTH, MAX_EXPANDED_TERMS,  # noqa: F401
                                 MAX_EXPONENT, MAX_LENGTH, MAX_NAME_LENGTH, MAX_NODES, MAX_PAREN_DEPTH,
                                 MAX_TREE_DEPTH)
from symgd.parse._names import CONSTANTS, FUNCTIONS, natural_key, refuse_non_ascii, validate_name

__all__ = ["CONSTANTS", "FUNCTIONS", "natural_key", "parse", "validate_name"]


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
    key = text_key(text, variables)
    if key in _SEEN:
        return _SEEN[key]  # SymPy trees are immutable: a REPL that types the same text again shares them
    if not text.isascii():
        refuse_non_ascii(text)
    expr = Builder().build(Postfix(tokenize(text)).run())
    out = expr, _variables(expr.free_symbols, variables)
    if key is not None:
        if len(_SEEN) >= SEEN_MAX:
            _SEEN.pop(next(iter(_SEEN)))
        _SEEN[key] = out
    return out


_SEEN: dict = {}  # (text, variables) -> parse's answer, for texts that parsed (the limits are constants)
SEEN_MAX = 256
