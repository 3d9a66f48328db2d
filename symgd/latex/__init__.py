r"""Worked examples as LaTeX: f, ∇f, ∇²f, the critical points and why, an optimizer's steps with numbers.

``document(problem, method="gd", x0=[-9, 6], hyper={"lr": 0.1})`` returns a complete, standalone ``.tex`` (article
class, amsmath and amssymb only) that writes out what the lecture slides do by hand; ``write`` saves it
atomically (refusing to overwrite without ``force``) and ``compile_pdf`` runs ``pdflatex`` on it with
shell escape off and file access restricted.

Everything is built from SymPy objects and printed once, by :class:`TeXPrinter` (SymPy's LaTeX printer
with three changes): symbol and function names go through :func:`symbol_latex`, so no name can inject
TeX; a ``CRootOf`` prints as :math:`r_1` with a sentence saying which root of which polynomial it is;
50-digit floats print with 10 significant digits. Free text (titles, notes, reasons) goes through
:func:`escape_text`, character by character.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> TeXPrinter().doprint(sp.LambertW(sp.Rational(1, 2)) + sp.Rational(3, 8) * x)
'\\frac{3 x}{8} + W\\left(\\frac{1}{2}\\right)'
>>> escape_text(r"50% of \input{x}")
'50\\% of \\textbackslash{}input\\{x\\}'
"""

from __future__ import annotations

import math
import numbers
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import sympy as sp

from symgd.budget import DEFAULT_MEMORY_GIB, run_with_budget
from symgd.errors import BudgetError, InputError, SymgdError
from symgd.latex._sections import (_begin, _critical, _derivation, _display, _end, _hyper_line, _iterations,
                                   _remarks, _section, step_table)
from symgd.latex._tex import (TeXPrinter, escape_text, math_block, number, optimizer_formula, symbol_latex,
                              vector)
from symgd.minimize import minimize
from symgd.output import check_target
from symgd.output import write as _write
from symgd.problem import Problem

__all__ = ["LatexError", "TeXPrinter", "compile_pdf", "document", "escape_text", "fit_document", "math_block",
           "number", "optimizer_formula", "step_table", "symbol_latex", "vector", "write"]


class LatexError(SymgdError):
    """pdflatex is missing, timed out, or failed on a document (the message ends with its log's error)."""


# ---------------------------------------------------------------------------------------------
# public entry points


def _start(x0, problem: Problem) -> np.ndarray:
    try:
        a = None if isinstance(x0, str) else np.asarray(x0, dtype=float)
    except (TypeError, ValueError):
        a = None
    if a is None:
        raise InputError(f"x0 must be numbers, got {x0!r}")
    a = a.reshape(1) if a.ndim == 0 else a
    if a.ndim == 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 1 or a.shape[0] != problem.n:
        raise InputError(f"a worked example follows one start: x0 must have shape ({problem.n},), got {a.shape}")
    return a


def _title(title, p: Problem, P: TeXPrinter) -> str:
    """The user's title escaped, or "Worked example: $f = ...$" when f is short enough for a title line."""
    if title is not None:
        if not isinstance(title, str):
            raise InputError(f"title must be text, got {type(title).__name__}")
        return escape_text(title)
    f = P.doprint(p.expr)
    return f"Worked example: $f = {f}$" if len(f) <= 80 else "Worked example"


def _typeset(build, P: TeXPrinter, timeout: float, memory, what: str, fallback):
    """``build()`` (LaTeX from SymPy objects, with ``P``) in a budgeted worker; ``fallback(sentence)`` if it
    gave up. The roots ``P`` names in the worker are carried back, so their numbering continues."""
    def work():
        return build(), P.roots, P._told

    try:
        out, roots, told = run_with_budget(work, seconds=timeout, memory=memory)
    except BudgetError as exc:
        why = str(exc).split("gave up", 1)[-1].strip(": ")
        return fallback(escape_text(f"(symgd gave up typesetting {what}: {why}.)"))
    P.roots.update(roots)
    P._told |= told
    return out


def document(problem, *, method=None, x0=None, steps: int = 5, hyper: Mapping | None = None, box=None,
             title: str | None = None, show: int = 8, notes: Sequence[str] = (), timeout: float = 5.0,
             critical=None, memory: float | None = DEFAULT_MEMORY_GIB) -> str:
    r"""A complete, standalone LaTeX document working ``problem`` out as the lecture slides do.

    f; the gradient (column vector) and Hessian (bmatrix); the system ∇f = 0, its solutions, and a table
    of the critical points with f, the Hessian's eigenvalues, the kind and why; infinite families; whether
    the list is complete and exact. With ``method`` and ``x0``: the optimizer's update rule (from its
    docstring), the first updates with the numbers substituted, a table of the iterates and gradients, and
    the result.

    Parameters
    ----------
    problem : Problem or str
        The objective (text goes through the safe parser).
    method : str or Optimizer, optional
        A registered optimizer name (configured by ``hyper``) or a configured ``Optimizer``.
    x0 : array_like, shape (n,), optional
        The start (required with ``method``).
    steps : int
        Most updates to run (the run stops earlier when it converges, ``tol`` in ``hyper``).
    hyper : dict, optional
        Hyperparameters (``{"lr": 0.1}``) and runner options (``tol``, ``diverge_at``).
    box : dict, optional
        Search box for critical points (see ``symgd.critical_points``).
    title : str, optional
        Plain text (escaped); default "Worked example: f = ...".
    show : int
        Rows of the iteration table before it skips to the last two.
    notes : sequence of str
        Paragraphs of plain text (escaped) added as remarks at the end.
    timeout : float
        Seconds for each critical-point route, and for typesetting each symbolic section (a section over
        budget is replaced by a sentence saying so).
    critical : CriticalPoints, optional
        Precomputed critical points (else computed here).
    memory : float or None
        GiB each of those steps may allocate (``symgd.budget.run_with_budget``); None: no cap.

    Returns
    -------
    str
        The ``.tex`` source: deterministic (no dates, no paths).
    """
    p = problem if isinstance(problem, Problem) else Problem(problem)
    if hyper is not None and not isinstance(hyper, Mapping):
        raise InputError(f"hyper must be a dict of hyperparameters, got {type(hyper).__name__}")
    if isinstance(show, bool) or not isinstance(show, int) or show < 1:
        raise InputError(f"show must be a positive integer (table rows), got {show!r}")
    if (method is None) != (x0 is None):
        raise InputError("a worked optimizer example needs both method and x0")
    run = None
    if method is not None:
        start = _start(x0, p)
        run = minimize(p, method, start, steps, path=True, **dict(hyper or {}))
    P = TeXPrinter()
    cps = critical if critical is not None else \
        (p.critical_points(box=box, timeout=timeout, memory=memory) if p.n else None)
    head, derivation = _typeset(lambda: (_title(title, p, P), _derivation(p, P)), P, timeout, memory,
                                "f and its derivatives", lambda why: (_title(title or "Worked example", p, P),
                                                                      _section("The function") + why + "\n"))
    parts = [_begin(head, p.n), derivation]
    if cps is not None:
        parts.append(_typeset(lambda: _critical(p, cps, P), P, timeout, memory, "the critical points",
                              lambda why: _section("Critical points") + why + "\n"))
    if run is not None:
        parts.append(_iterations(run, cps, P, show))
        parts += [f"{s}\n\n" for s in P.root_sentences()]
    parts.append(_remarks(notes))
    parts.append(_end())
    return "".join(parts)


def _epochs_shown(E: int, show: int) -> list:
    if E + 1 <= show + 3:
        return list(range(E + 1))
    step = max(1, E // show)
    picks = sorted(set(range(0, E + 1, step)) | {E})
    return picks


def _model_section(mp, P: TeXPrinter, title) -> tuple[str, str, str]:
    """(title, parameters, "Model and loss" section) of a fit document, printed from SymPy objects."""
    theta = ", ".join(P.doprint(q) for q in mp.params)
    data = ", ".join(P.doprint(s) for s in (*mp.inputs, mp.target))
    grad = sp.Matrix([sp.diff(mp.loss_expr, q) for q in mp.params])
    head = escape_text(title) if title is not None else rf"Fitting ${P.doprint(mp.model)}$ to data"
    return head, theta, "".join([
        _section("Model and loss"),
        rf"The model, with parameters ${theta}$ and data columns ${data}$:" + "\n",
        _display(rf"\hat{{{P.doprint(mp.target)}}} = {P.doprint(mp.model)}"),
        f"The per-sample loss ({escape_text(mp.loss)}) and its mean over the $M = {mp.n_samples}$ samples:\n",
        _display(rf"\ell({theta}) = {P.doprint(mp.loss_expr)}, \qquad L({theta}) = \frac{{1}}{{M}} "
                 rf"\sum_{{i=1}}^{{M}} \ell_i({theta})"),
        "Its gradient with respect to the parameters (the mean of these over a batch is the step's gradient):\n",
        _display(rf"\nabla \ell = {P.doprint(grad)}")])


def fit_document(model_problem, results: Mapping, *, title: str | None = None, show: int = 10,
                 notes: Sequence[str] = (), timeout: float = 5.0, memory: float | None = DEFAULT_MEMORY_GIB) -> str:
    r"""A LaTeX document for data fitting: model, per-sample loss and its gradient, and training runs.

    ``results`` maps a label (plain text, escaped) to a ``symgd.fit.FitResult`` of ``model_problem``;
    the table lists the full-data loss after selected epochs for each, then the fitted parameters. The
    symbolic part (model, loss, gradient) is typeset under ``timeout`` seconds and ``memory`` GiB.
    """
    mp = model_problem
    if not isinstance(results, Mapping) or not results:
        raise InputError("results must be a non-empty dict label -> FitResult")
    P = TeXPrinter()
    params = ", ".join(symbol_latex(q) for q in mp.params)
    head, theta, model = _typeset(lambda: _model_section(mp, P, title), P, timeout, memory, "the model and its loss",
                                  lambda why: (escape_text(title or "Fitting a model to data"), params,
                                               _section("Model and loss") + why + "\n"))
    parts = [_begin(head, mp.n), model, _section("Training")]
    labels = list(results)
    for label in labels:
        r = results[label]
        parts.append(rf"\textbf{{{escape_text(label)}}}: \texttt{{{escape_text(r.method)}}} with "
                     rf"${_hyper_line(r.optimizer)}$, batch size {r.batch_size} ({r.steps_per_epoch} "
                     rf"update{'s' * (r.steps_per_epoch != 1)} per epoch), {r.epochs} epochs, from "
                     rf"${vector(np.ravel(r.x0))}$." + "\n\n")
    formulas = {optimizer_formula(r.optimizer): None for r in results.values()}
    parts += [_display(f) for f in formulas]
    E = max(r.epochs for r in results.values())
    rows = [r"\begin{center}\small", r"\begin{tabular}{r" + " r" * len(labels) + "}", r"\hline",
            "epoch & " + " & ".join(escape_text(lb) for lb in labels) + r" \\ \hline"]
    for e in _epochs_shown(E, show):
        cells = [f"${number(results[lb].losses[e], 6)}$" if e < len(results[lb].losses) else "" for lb in labels]
        rows.append(f"{e} & " + " & ".join(cells) + r" \\")
    rows += [r"\hline", r"\end{tabular}", r"\end{center}"]
    parts.append("Full-data loss $L$ after each epoch:\n" + "\n".join(rows) + "\n")
    fits = [rf"\text{{{escape_text(lb)}}}:\ & ({theta}) = {vector(np.ravel(results[lb].x))}" for lb in labels]
    parts.append("The fitted parameters:\n" + _display(r"\begin{aligned}" + r" \\ ".join(fits) + r"\end{aligned}"))
    parts.append(_remarks(notes))
    parts.append(_end())
    return "".join(parts)


def write(path, text: str, *, force: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically; an existing file needs ``force`` (see ``symgd.output.write``)."""
    if not isinstance(text, str):
        raise InputError(f"write needs the document text (str), got {type(text).__name__}")
    return _write(path, text, force=force)


def _log_error(log: str) -> str:
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            where = next((ln.strip() for ln in lines[i + 1:i + 8] if ln.startswith("l.")), "")
            return (line[1:].strip() + (f" ({where[:80]})" if where else "")).strip()
    return "no error message in the log"


def compile_pdf(tex_path, timeout: float = 60, *, out=None, force: bool = False) -> Path:
    """Compile a ``.tex`` file with ``pdflatex`` in a temporary directory; the PDF goes next to it.

    pdflatex runs with ``-halt-on-error -interaction=nonstopmode -no-shell-escape`` (never shell escape),
    ``openin_any=p`` and ``openout_any=p`` (no reading or writing outside its directory) and a fixed
    ``SOURCE_DATE_EPOCH`` (the same PDF bytes every time).

    Parameters
    ----------
    tex_path : str or os.PathLike
    timeout : float
        Seconds before pdflatex is killed.
    out : path, optional
        Where the PDF goes (default: ``tex_path`` with suffix ``.pdf``).
    force : bool
        Replace an existing PDF.

    Raises
    ------
    LatexError
        pdflatex is not installed, timed out, or failed (with the first error of its log).
    """
    src = Path(os.fspath(tex_path))
    if not src.is_file():
        raise InputError(f"no such file: {src}")
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not 0 < timeout < math.inf:
        raise InputError(f"timeout must be a positive number of seconds, got {timeout!r}")
    target = check_target(src.with_suffix(".pdf") if out is None else out, force=force)
    exe = shutil.which("pdflatex")
    if exe is None:
        raise LatexError(f"pdflatex was not found: install TeX Live (e.g. texlive-latex-base) to compile {src}")
    with tempfile.TemporaryDirectory(prefix="symgd-tex-") as tmp:
        shutil.copyfile(src, Path(tmp) / "doc.tex")
        env = {**os.environ, "openin_any": "p", "openout_any": "p", "TEXMFOUTPUT": tmp,
               "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
        cmd = [exe, "-halt-on-error", "-interaction=nonstopmode", "-no-shell-escape", "doc.tex"]
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise LatexError(f"pdflatex took longer than {timeout:g} s on {src}") from None
        pdf, log = Path(tmp) / "doc.pdf", Path(tmp) / "doc.log"
        if proc.returncode != 0 or not pdf.is_file():
            text = log.read_text(errors="replace") if log.is_file() else proc.stdout.decode(errors="replace")
            raise LatexError(f"pdflatex failed on {src}: {_log_error(text)}")
        return _write(target, pdf.read_bytes(), force=force)
