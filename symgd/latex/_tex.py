"""Escaping, names, numbers, the printer and optimizer formulas: the pieces every section uses."""

from __future__ import annotations

import inspect
import math
import re
import unicodedata

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter

from symgd.errors import InputError
from symgd.optimizers import Optimizer, get

# ---------------------------------------------------------------------------------------------
# safe text, names and numbers

_TEXT = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
         "^": r"\textasciicircum{}", "_": r"\_", "~": r"\textasciitilde{}", "<": r"\textless{}",
         ">": r"\textgreater{}", "|": r"\textbar{}", '"': "''", "\n": " ", "\r": " ", "\t": " "}
_UNICODE = {"≈": r"\approx", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "∇": r"\nabla", "−": "-", "·": r"\cdot",
            "×": r"\times", "∞": r"\infty", "∈": r"\in", "→": r"\to", "±": r"\pm", "√": r"\surd",
            "∂": r"\partial", "′": "'", "″": "''", "…": r"\ldots", "‖": r"\|",
            "ε": r"\varepsilon", "ϵ": r"\epsilon", "λ": r"\lambda", "–": "-", "—": "-",
            **{c: f"^{i}" for i, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}, **{c: f"_{i}" for i, c in enumerate("₀₁₂₃₄₅₆₇₈₉")}}
SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
# every command SymPy's symbol-name translation can emit that amsmath/amssymb define (\mathscr is mapped away)
_NAME_COMMANDS = set(r"""\alpha \beta \gamma \delta \epsilon \zeta \eta \theta \iota \kappa \lambda \mu \nu \xi
    \pi \rho \sigma \tau \upsilon \phi \chi \psi \omega \Gamma \Delta \Theta \Lambda \Xi \Pi \Sigma \Upsilon \Phi
    \Psi \Omega \mathrm \aleph \beth \daleth \gimel \eth \hbar \hslash \ell \mho \wp \mathring \ddddot \dddot
    \ddot \dot \check \breve \acute \grave \tilde \hat \bar \vec \boldsymbol \mathcal \mathfrak \left \right
    \langle \rangle \| \prime""".split())


def _unicode_char(ch: str) -> str:
    if ch in _UNICODE:
        return rf"\ensuremath{{{_UNICODE[ch]}}}"
    name = unicodedata.name(ch, "")
    if name.startswith("GREEK SMALL LETTER ") or name.startswith("GREEK CAPITAL LETTER "):
        word = name.split(" LETTER ")[1].lower().replace("lamda", "lambda")
        if word.isalpha():
            word = word.capitalize() if "CAPITAL" in name else word
            if rf"\{word}" in _NAME_COMMANDS:
                return rf"\ensuremath{{\{word}}}"
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if c.isascii() and c.isprintable())
    return escape_text(base) if base else "?"


def escape_text(text) -> str:
    """Plain text for a LaTeX document, escaped character by character (nothing typed becomes a command).

    TeX's special characters become their text macros; a few math characters (≈, ≤, ∇, Greek letters)
    become ``\\ensuremath{...}``; other non-ASCII characters lose their accents or become ``?``; control
    characters become spaces.

    >>> print(escape_text(r"\\write18{rm -rf} ^^5c x_1 ≈ 2"))
    \\textbackslash{}write18\\{rm -rf\\} \\textasciicircum{}\\textasciicircum{}5c x\\_1 \\ensuremath{\\approx} 2
    """
    out = []
    for ch in str(text):
        if ch in _TEXT:
            out.append(_TEXT[ch])
        elif ch.isascii():
            out.append(ch if ch.isprintable() else " ")
        else:
            out.append(_unicode_char(ch))
    return "".join(out)


def symbol_latex(symbol) -> str:
    r"""LaTeX for a variable's name: SymPy's rendering when the name is a plain identifier, else escaped text.

    >>> [symbol_latex(n) for n in ("x_1", "x10", "alpha", "theta_hat", "xscr")]
    ['x_{1}', 'x_{10}', '\\alpha', '\\theta_{hat}', '\\mathcal{x}']
    >>> symbol_latex(r"\input{/etc/passwd}")
    '\\text{\\textbackslash{}input\\{/etc/passwd\\}}'
    """
    name = symbol.name if isinstance(symbol, sp.Symbol) else str(symbol)
    if SAFE_NAME.fullmatch(name):
        out = LatexPrinter()._deal_with_super_sub(name).replace(r"\mathscr{", r"\mathcal{")
        if set(re.findall(r"\\[A-Za-z]+|\\\|", out)) <= _NAME_COMMANDS:
            return out
    return r"\text{" + escape_text(name) + "}"


def number(v, digits: int = 10, *, paren: bool = False) -> str:
    r"""A float in LaTeX with ``digits`` significant digits; ``paren`` wraps a negative value in parentheses.

    >>> number(-6.199999999999999), number(1.5e-12, 4), number(-28.0, paren=True), number(float("nan"))
    ('-6.2', '1.5 \\cdot 10^{-12}', '\\left(-28\\right)', '\\text{nan}')
    """
    v = float(v)
    if math.isnan(v):
        return r"\text{nan}"
    if math.isinf(v):
        text = r"\infty" if v > 0 else r"-\infty"
    else:
        s = f"{v:.{digits}g}"
        if s in ("-0", "0"):
            s = "0"
        mant, _, exp = s.partition("e")
        text = mant + (rf" \cdot 10^{{{int(exp)}}}" if exp else "")
    return rf"\left({text}\right)" if paren and v < 0 else text


def vector(values, digits: int = 10, *, paren: bool = False) -> str:
    """``(a, b)`` for a vector, the number alone for one value (in parentheses when negative and ``paren``)."""
    values = np.ravel(np.asarray(values, dtype=float))
    if values.size == 1:
        return number(values[0], digits, paren=paren)
    return r"\left(" + ", ".join(number(v, digits) for v in values) + r"\right)"


_ORDINAL = {1: "smallest", 2: "second smallest", 3: "third smallest"}


class TeXPrinter(LatexPrinter):
    r"""SymPy's LaTeX printer with safe names, named polynomial roots and short floats.

    Each ``CRootOf`` gets a name :math:`r_1, r_2, \ldots` (kept in ``roots``); :meth:`root_sentences`
    says what each one is, e.g. "r_1 ≈ 37.50017777 is the real root of 4x³ − 150x² − 1".
    """

    def __init__(self, **settings):
        super().__init__({"mat_str": "bmatrix", "mat_delim": "", **settings})
        self.roots: dict = {}
        self._told: set = set()

    def _print_Symbol(self, expr, style="plain"):
        return symbol_latex(expr)

    def _hprint_Function(self, func: str) -> str:
        if SAFE_NAME.fullmatch(func) and "__" not in func:
            out = super()._hprint_Function(func)
            if not set(re.findall(r"\\[A-Za-z]+", out)) - _NAME_COMMANDS - {r"\operatorname", rf"\{func}"}:
                return out
        return r"\operatorname{\text{" + escape_text(func) + "}}"

    def _print_Float(self, expr):
        return super()._print_Float(sp.Float(expr, 10)) if expr._prec > 40 else super()._print_Float(expr)

    def _print_ComplexRootOf(self, root):
        if root not in self.roots:
            self.roots[root] = f"r_{{{len(self.roots) + 1}}}"
        return self.roots[root]

    def root_sentences(self) -> list[str]:
        """LaTeX sentences defining the roots named since the last call."""
        out = []
        for root, name in self.roots.items():
            if root in self._told:
                continue
            self._told.add(root)
            poly, idx = root.poly, root.index
            n_real = poly.count_roots()
            if idx < n_real:
                which = "the real root" if n_real == 1 else \
                    f"the {_ORDINAL.get(idx + 1, f'{idx + 1}th smallest')} of the {n_real} real roots"
            else:
                which = f"complex root number {idx + 1 - n_real}"
            gen = poly.gen if isinstance(poly.gen, sp.Symbol) and SAFE_NAME.fullmatch(poly.gen.name) else sp.Symbol("z")
            approx = self.doprint(sp.N(root, 10))
            out.append(rf"${name} \approx {approx}$ is {which} of ${self.doprint(poly.as_expr(gen))}$.")
        return out


# ---------------------------------------------------------------------------------------------
# the optimizer's formula: one source, its docstring's ``.. math::`` block

_MATH_TOKEN = re.compile(r"\\begin\{[^}]*\}|\\end\{[^}]*\}|\\left\b|\\right\b|\\\\|\\qquad\b|\\[A-Za-z]+|\\.|[{}]"
                         r"|[^\\{}]+")
_LABEL = re.compile(r"^\s*\\text\{([^}]*):\}\s*(\\quad)?\s*")


def _split_top(tex: str, sep: str) -> list[str]:
    """Split ``tex`` at ``sep`` (``\\\\`` or ``\\qquad``) outside braces, \\left..\\right and environments."""
    parts, cur, depth = [], [], 0
    for tok in _MATH_TOKEN.findall(tex):
        if tok in ("{", r"\left") or tok.startswith(r"\begin{"):
            depth += 1
        elif tok in ("}", r"\right") or tok.startswith(r"\end{"):
            depth -= 1
        if tok == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(tok)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


def math_block(doc: str) -> str:
    """The first ``.. math::`` block of a docstring (dedented), or ``""``."""
    m = re.search(r"^\.\. math::[ \t]*\n((?:[ \t]*\n|[ \t]+\S.*\n?)+)", inspect.cleandoc(doc or ""), re.M)
    return inspect.cleandoc(m.group(1)) if m else ""


def optimizer_formula(opt, *, form: str | None = None) -> str:
    r"""The update rule of an optimizer, from its docstring's ``.. math::`` block, as an ``aligned`` block.

    When the block has one line per variant (``\text{torch:} ...``), only the variant named by the
    optimizer's ``form`` (or ``damping``) hyperparameter is shown. Long lines are split at ``\qquad``.

    >>> print(optimizer_formula(get("gd")))
    \begin{aligned}
    & x_t = x_{t-1} - \eta_t \, g_t, \qquad g_t = \nabla f(x_{t-1})
    \end{aligned}
    >>> print(optimizer_formula(get("momentum", form="heavy_ball")))
    \begin{aligned}
    & x_t = x_{t-1} - \eta_t g_t + \mu (x_{t-1} - x_{t-2}), \quad x_{-1} = x_0
    \end{aligned}
    """
    opt = opt if isinstance(opt, Optimizer) else get(opt)
    block = math_block(opt.doc)
    if not block:
        raise InputError(f"optimizer {opt.name} has no '.. math::' block in its docstring")
    lines = _split_top(block, r"\\")
    if form is None:
        form = opt.hyper.get("form", opt.hyper.get("damping"))
    labelled = [(m.group(1).replace("\\", ""), ln[m.end():]) for ln in lines if (m := _LABEL.match(ln))]
    if form is not None and len(labelled) == len(lines):
        chosen = [body for label, body in labelled if label == str(form)]
        lines = chosen or lines
    if len(lines) > 1 or "qquad" in lines[0] and len(lines[0]) > 70:
        rows = [frag for ln in lines for frag in _split_top(ln, r"\qquad")]
    else:
        rows = lines
    return "\\begin{aligned}\n" + " \\\\\n".join(f"& {r}" for r in rows) + "\n\\end{aligned}"


def _first_sentence(doc: str) -> str:
    first = inspect.cleandoc(doc or "").split("\n\n")[0].replace("\n", " ").strip()
    return first.rstrip(".")


def _rst_to_tex(text: str) -> str:
    """A docstring paragraph (ours, trusted) in LaTeX: ``code`` as \\texttt, :math:`x` as $x$, the rest escaped."""
    out = []
    for part in re.split(r"(``[^`]+``|:math:`[^`]+`)", text):
        if part.startswith("``"):
            out.append(r"\texttt{" + escape_text(part[2:-2]) + "}")
        elif part.startswith(":math:`"):
            out.append("$" + part[7:-1] + "$")
        else:
            out.append(escape_text(part))
    return "".join(out)


def _convention(doc: str) -> str:
    """The docstring's paragraph beginning ``Convention:`` (or "")."""
    for para in inspect.cleandoc(doc or "").split("\n\n"):
        if para.lstrip().startswith("Convention:"):
            return " ".join(line.strip() for line in para.splitlines())
    return ""
