"""What the commands print: JSON without NaN, the ``analyze`` derivation as text or JSON (each part printed
under the ``--timeout``/``--memory`` budget), and the lines under a run (divergences, backend)."""

from __future__ import annotations

import json
import math

import symgd.cli as _cli  # the printers call ``_cli._sstr``: patching ``symgd.cli._sstr`` patches them all


def _json_safe(obj):
    """Replace NaN and infinities by None, recursively, so the JSON is standard."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return _json_safe(obj.tolist())
    return obj


def dump_json(doc) -> str:
    """One JSON document, never NaN or Infinity (null instead)."""
    return json.dumps(_json_safe(doc), allow_nan=False)


def _sstr(expr) -> str:
    """``sympy.sstr``: the one place the CLI prints SymPy objects (always inside a budgeted worker)."""
    import sympy as sp

    return sp.sstr(expr)


def _human(expr) -> str:
    """A SymPy object as people type it (``^`` for powers)."""
    return _cli._sstr(expr).replace("**", "^")


def _budgeted(fn, *args, args_cli, what: str, notes: list):
    """``fn(*args)`` in a worker under ``--timeout`` and ``--memory``; None (and a note) when it gave up."""
    from symgd.budget import run_with_budget
    from symgd.cli._options import memory
    from symgd.errors import BudgetError

    try:
        return run_with_budget(fn, *args, seconds=args_cli.timeout, memory=memory(args_cli))
    except BudgetError as exc:
        why = str(exc).split("gave up", 1)[-1].strip(": ")
        notes.append(f"gave up printing {what}: {why}")
        return None


def _json_sections(problem, cps) -> dict:
    parts = {"expression": lambda: _cli._sstr(problem.expr),
             "gradient": lambda: [_cli._sstr(g) for g in problem.gradient],
             "hessian": lambda: [[_cli._sstr(h) for h in problem.hessian.row(i)] for i in range(problem.n)]}
    if cps is not None:
        parts["critical_points"] = cps.to_json
    return parts


def analyze_json(problem, cps, args) -> dict:
    """The ``analyze --json`` document of CONTRACT.md; a part that could not be printed in time is null
    (with a sentence in ``"notes"``)."""
    notes: list = []
    doc = {}
    for key, build in _json_sections(problem, cps).items():
        doc[key] = _budgeted(build, args_cli=args, what=f"the {key.replace('_', ' ')}", notes=notes)
        if key == "expression":
            doc["variables"] = [v.name for v in problem.variables]
    if notes:
        doc["notes"] = notes
    return doc


def _text_gradient(problem) -> list:
    return [f"  df/d{v.name} = {_human(g)}" for v, g in zip(problem.variables, problem.gradient)]


def _text_hessian(problem) -> list:
    cells = [[_human(h) for h in problem.hessian.row(i)] for i in range(problem.n)]
    widths = [max((len(r[j]) for r in cells), default=0) for j in range(problem.n)]
    return ["  [ " + "  ".join(c.rjust(w) for c, w in zip(r, widths)) + " ]" for r in cells]


def analyze_text(problem, cps, args) -> str:
    """f, the gradient, the Hessian and the critical points, as a person reads them (each part printed
    under the budget; one that gave up says so in its place)."""
    notes: list = []
    names = ", ".join(v.name for v in problem.variables)

    def part(fn, what):
        out = _budgeted(fn, problem, args_cli=args, what=what, notes=notes)
        return out if out is not None else [f"  ({notes[-1]})"]

    f = _budgeted(_human, problem.expr, args_cli=args, what="f", notes=notes)
    lines = [f"f({names}) = {f if f is not None else '(' + notes[-1] + ')'}", "", "gradient:"]
    lines += part(_text_gradient, "the gradient") + ["", "Hessian:"] + part(_text_hessian, "the Hessian")
    if cps is not None:
        text = _budgeted(str, cps, args_cli=args, what="the critical points", notes=notes)
        lines += ["", text if text is not None else f"critical points: ({notes[-1]})"]
    return "\n".join(lines)


def divergence_lines(run, label: str = "", limit: int = 5) -> list:
    """One line per diverged start (the first ``limit``): the step and the reason, then a count by reason."""
    import numpy as np

    from symgd.minimize.results import REASON_TEXT

    status = np.atleast_1d(run.status)
    bad = [i for i, s in enumerate(status) if s == "diverged"]
    if not bad:
        return []
    at, why = np.atleast_1d(run.diverged_at), np.atleast_1d(run.reason)
    head = f"{label}: " if label else ""
    lines = [f"  {head}start {i} diverged at step {at[i]}: {why[i] or 'diverged'}"
             + (f" ({REASON_TEXT[why[i]]})" if why[i] in REASON_TEXT else "") for i in bad[:limit]]
    if len(bad) > limit:
        counts = {}
        for i in bad:
            counts[why[i] or "diverged"] = counts.get(why[i] or "diverged", 0) + 1
        lines.append(f"  {head}{len(bad)} starts diverged in all: "
                     + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return lines


def backend_line(runs: dict) -> str:
    """``backend: numpy (the reference backend)``, per method when they differ."""
    used = {(r.backend, r.backend_reason) for r in runs.values()}
    if len(used) == 1:
        b, why = used.pop()
        return f"backend: {b}" + (f" ({why})" if why else "")
    return "backend: " + "; ".join(f"{k} {r.backend}" + (f" ({r.backend_reason})" if r.backend_reason else "")
                                   for k, r in runs.items())


def run_json(run) -> dict:
    """The ``run --json`` document: ``Run.to_json()`` and why this backend ran."""
    return {**run.to_json(), "backend_reason": run.backend_reason}
