"""The ``symgd`` command line: flags in, public API calls, text or JSON out. No math lives here.

Exit codes: 0 success (a diverged run is a result), 2 bad input or usage (one line on stderr starting
``symgd: error:``), 1 an internal failure.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import sys
from collections.abc import Sequence

from symgd.budget import DEFAULT_MEMORY_GIB
from symgd.errors import InputError, SymgdError

EXAMPLES = """\
examples:
  symgd analyze "x^2 - 10x + 1"
  symgd analyze "x1^2 + x1 - 4*x1*x2 + x1^3*x2" --json
  symgd analyze "sin(x) + cos(y)" --box x=-4:4,y=-4:4
  symgd run "x^2" --method adam --lr 0.1 --x0 0.5 --steps 30
  symgd run "(1-x)^2 + 100*(y-x^2)^2" --method momentum --lr 1e-3 --x0=-1.5,2 --x0 0,0 --json
  symgd compare "0.1*x1^2 + x2^2" --methods gd,momentum,adagrad,rmsprop,adam --lr 0.1 --x0=-8,5
  symgd demo
"""


FIT_EXAMPLES = """\
examples:
  symgd fit "exp(-a*x) + b*x + c" --data points.csv --target y --params a,b,c --x0 1,2,3 --lr 0.001 --epochs 500
  symgd fit "exp(-a*x) + b*x + c" --data points.csv --target y --params a,b,c --x0 1,3,5 --batch-size 10
  symgd fit "sin(b1*x1*x2 + b2*x2)" --data labels.csv --target y --params b1,b2 --loss bce_logit --method adam
"""


MEMORY_HELP = f"GiB each symbolic step may allocate (default {DEFAULT_MEMORY_GIB:g}; 0: no cap)"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message):  # noqa: D102 - argparse hook
        self.exit(2, f"symgd: error: {message} (see '{self.prog} --help')\n")


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


# ---------------------------------------------------------------------------------------------
# option parsing helpers


def parse_box(text: str | None, variables) -> dict | None:
    """``x=-5:5,y=-pi:pi`` -> {Symbol: (lo, hi)}; bounds may be constant expressions."""
    if not text:
        return None
    from symgd.parse import parse

    by_name = {v.name: v for v in variables}
    box = {}
    for part in text.split(","):
        name, sep, rng = part.partition("=")
        lo_txt, sep2, hi_txt = rng.partition(":")
        name = name.strip()
        if not sep or not sep2:
            raise InputError(f"--box takes NAME=LO:HI pairs separated by commas, got {part.strip()!r}")
        if name not in by_name:
            raise InputError(f"--box names {name!r}, which is not a variable ({', '.join(by_name)})")
        lo, hi = (_constant(parse, t, "--box") for t in (lo_txt, hi_txt))
        if not lo < hi:
            raise InputError(f"--box {name}: need LO < HI, got {lo:g}:{hi:g}")
        box[by_name[name]] = (lo, hi)
    return box


def _constant(parse, text: str, option: str) -> float:
    expr, free = parse(text.strip())
    if free:
        raise InputError(f"{option} bounds must be numbers, got {text.strip()!r}")
    value = float(expr)
    if not math.isfinite(value):
        raise InputError(f"{option} bounds must be finite, got {text.strip()!r}")
    return value


def parse_x0(values: Sequence[str], n: int):
    """Each ``--x0 A,B`` is one start; several give a batch (N, n)."""
    import numpy as np

    rows = []
    for text in values:
        try:
            row = [float(v) for v in text.split(",")]
        except ValueError:
            raise InputError(f"--x0 takes comma-separated numbers, got {text!r}") from None
        if len(row) != n:
            raise InputError(f"--x0 {text} has {len(row)} coordinate(s), the expression has {n} variable(s)")
        if not all(math.isfinite(v) for v in row):
            raise InputError(f"--x0 must be finite, got {text!r}")
        rows.append(row)
    return np.array(rows, dtype=float)


def parse_param(text: str):
    """``NAME=VALUE``: a number, true/false, a comma-separated tuple of numbers, or a word."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise InputError(f"--param takes NAME=VALUE, got {text!r}")
    raw = raw.strip()
    if raw.lower() in ("true", "false"):
        return name, raw.lower() == "true"
    try:
        if "," in raw:
            return name, tuple(float(v) for v in raw.split(","))
        number = float(raw)
    except ValueError:
        if raw.replace("_", "").isalnum():
            return name, raw  # a word: form=slide, inner=adam, damping=armijo
        raise InputError(f"--param {name}: cannot read {raw!r} (a number, true/false, A,B or a word)") from None
    return name, int(number) if raw.lstrip("+-").isdigit() else number


COMMANDS = ("analyze", "run", "compare", "latex", "plot", "fit")


def _negative_values_attached(argv: list[str]) -> list[str]:
    """Let ``--x0 -1.5,2`` and ``symgd run "-exp(x)" ...`` work: argparse would take ``-1.5,2`` and
    ``-exp(x)`` for options. A value after ``--x0``/``--box`` is attached with ``=``; an expression right
    after the subcommand that starts with a single ``-`` (not ``-h``/``-o``) gets a leading space, which
    the expression parser ignores."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if i == 1 and argv[0] in COMMANDS and a.startswith("-") and not a.startswith("--") \
                and a not in ("-", "-h", "-o"):
            out.append(" " + a)
            i += 1
            continue
        if a in ("--x0", "--box") and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


# ---------------------------------------------------------------------------------------------
# subcommands


def _problem(args):
    from symgd.problem import Problem

    variables = None
    if getattr(args, "vars", None):
        from symgd.parse import validate_name

        variables = tuple(validate_name(v.strip()) for v in args.vars.split(",") if v.strip())
    return Problem(args.expr, variables=variables or ())


def _critical(problem, args):
    try:
        import symgd.critical  # noqa: F401
    except ImportError:
        return None
    return problem.critical_points(box=parse_box(args.box, problem.variables), timeout=args.timeout,
                                   memory=_memory(args))


def _memory(args):
    """``--memory`` (GiB) as the API's ``memory=``: None when 0 was given (no cap)."""
    gib = getattr(args, "memory", None)
    if gib is None:
        return DEFAULT_MEMORY_GIB
    if not (gib >= 0 and math.isfinite(gib)):
        raise InputError(f"--memory must be a number of GiB >= 0 (0: no cap), got {gib}")
    return gib or None


def _sstr(expr) -> str:
    """``sympy.sstr``: the one place the CLI prints SymPy objects (always inside a budgeted worker)."""
    import sympy as sp

    return sp.sstr(expr)


def _human(expr) -> str:
    """A SymPy object as people type it (``^`` for powers)."""
    return _sstr(expr).replace("**", "^")


def _budgeted(fn, *args, args_cli, what: str, notes: list):
    """``fn(*args)`` in a worker under ``--timeout`` and ``--memory``; None (and a note) when it gave up."""
    from symgd.budget import run_with_budget
    from symgd.errors import BudgetError

    try:
        return run_with_budget(fn, *args, seconds=args_cli.timeout, memory=_memory(args_cli))
    except BudgetError as exc:
        why = str(exc).split("gave up", 1)[-1].strip(": ")
        notes.append(f"gave up printing {what}: {why}")
        return None


def _json_sections(problem, cps) -> dict:
    parts = {"expression": lambda: _sstr(problem.expr),
             "gradient": lambda: [_sstr(g) for g in problem.gradient],
             "hessian": lambda: [[_sstr(h) for h in problem.hessian.row(i)] for i in range(problem.n)]}
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


def cmd_analyze(args) -> int:
    problem = _problem(args)
    cps = _critical(problem, args)
    print(dump_json(analyze_json(problem, cps, args)) if args.json else analyze_text(problem, cps, args))
    return 0


DEMO = [
    ("C1", "x^2 - 10x + 1"),
    ("C2", "0.5*x1 + 2*x2 + 4*x3 + 10"),
    ("C3", "x1^2 + x1 - 4*x1*x2 + x1^3*x2"),
    ("C6", "x^4 - 50x^3 - x + 1"),
    ("C8", "x2^2 - x1^2"),
    ("G1", "exp(x) + x^2"),
    ("G2", "exp(x+y) + x^2 - y^2"),
    ("L1", "2x^2 + 3x^3 + x^4"),
]


def cmd_demo(args) -> int:
    from symgd.problem import Problem

    for tag, text in DEMO:
        print(f"=== slide example {tag}: symgd analyze \"{text}\"")
        problem = Problem(text)
        args.box = None
        print(analyze_text(problem, _critical(problem, args), args))
        print()
    return 0


def _choice(value: str, options, flag: str) -> str:
    """``value`` if it is one of ``options``, else a one-line InputError with a "did you mean"."""
    if value in options:
        return value
    hint = difflib.get_close_matches(str(value).lower(), options, n=1)
    raise InputError(f"{flag} must be one of {', '.join(options)}, got {value!r}"
                     + (f"; did you mean {hint[0]!r}?" if hint else ""))


def _run_options(args, problem):
    hyper = dict(parse_param(p) for p in args.param or [])
    if args.lr is not None:
        if "lr" in hyper:
            raise InputError("the learning rate is given twice (--lr and --param lr=...): give one")
        hyper["lr"] = args.lr
    x0 = parse_x0(args.x0, problem.n)
    if args.steps < 1:
        raise InputError(f"--steps must be at least 1, got {args.steps}")
    if args.tol is not None and not args.tol >= 0:
        raise InputError(f"--tol must be >= 0, got {args.tol}")
    if getattr(args, "backend", None) is not None:
        try:
            from symgd.fused import BACKENDS, DTYPES
        except ImportError:  # pragma: no cover - the compiled backends are optional
            BACKENDS, DTYPES = ("auto", "numpy"), ("float64",)
        hyper["backend"] = _choice(args.backend, BACKENDS, "--backend")
        hyper["dtype"] = _choice(args.dtype, DTYPES, "--dtype")
    return hyper, x0


def _divergence_lines(run, label: str = "", limit: int = 5) -> list:
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


def _backend_line(runs: dict) -> str:
    """``backend: numpy (the reference backend)``, per method when they differ."""
    used = {(r.backend, r.backend_reason) for r in runs.values()}
    if len(used) == 1:
        b, why = used.pop()
        return f"backend: {b}" + (f" ({why})" if why else "")
    return "backend: " + "; ".join(f"{k} {r.backend}" + (f" ({r.backend_reason})" if r.backend_reason else "")
                                   for k, r in runs.items())


def _run_json(run) -> dict:
    return {**run.to_json(), "backend_reason": run.backend_reason}


def cmd_run(args) -> int:
    from symgd.minimize import minimize

    problem = _problem(args)
    hyper, x0 = _run_options(args, problem)
    run = minimize(problem, args.method, x0, steps=args.steps, tol=args.tol, path=args.path, **hyper)
    if args.json:
        print(dump_json(_run_json(run)))
    else:
        print("\n".join([repr(run), *_divergence_lines(run), _backend_line({run.method: run})]))
    return 0


def cmd_compare(args) -> int:
    from symgd.minimize import compare

    problem = _problem(args)
    hyper, x0 = _run_options(args, problem)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods:
        raise InputError("--methods needs at least one optimizer name")
    if args.out:
        from symgd.output import check_target

        check_target(args.out, force=args.force)  # before any slow work
    comparison = compare(problem, methods, x0, steps=args.steps, tol=args.tol, path=args.path or bool(args.out),
                         **hyper)
    if args.out:
        _write_figure(problem, comparison, args.out, args.force)
    if args.json:
        print(dump_json({name: _run_json(run) for name, run in comparison.items()}))
    else:
        lines = [repr(comparison)]
        for name, run in comparison.items():
            lines += _divergence_lines(run, name)
        print("\n".join([*lines, _backend_line(dict(comparison.items()))]))
    return 0


def _write_figure(problem, comparison, out: str, force: bool) -> None:
    """A contour (n <= 2) or loss-curve PNG, or a GIF race, of ``comparison`` (or of the bare problem)."""
    from symgd import plot

    if out.lower().endswith(".gif"):
        if comparison is None:
            raise InputError("a .gif animates optimizers: give --methods and --x0")
        plot.animate(comparison, out, force=force)
    elif problem.n <= 2 or comparison is not None:
        from matplotlib.figure import Figure

        ax = Figure().add_subplot()  # not a pyplot figure: nothing stays open after the command
        if problem.n <= 2:
            plot.contour(comparison if comparison is not None else problem, ax=ax)
        else:
            plot.loss_curves(comparison, ax=ax)
        plot.save(ax.figure, out, force=force)
    else:
        raise InputError(f"a contour needs 1 or 2 variables, f has {problem.n}: give --methods for loss curves")
    print(f"wrote {out}", file=sys.stderr)


def cmd_plot(args) -> int:
    from symgd.output import check_target

    problem = _problem(args)
    check_target(args.out, force=args.force)
    comparison = None
    if not args.methods and (args.x0 or args.lr is not None or args.param):
        raise InputError("--x0, --lr and --param configure optimizers: give --methods too")
    if args.methods:
        from symgd.minimize import compare

        if not args.x0:
            raise InputError("--methods needs at least one --x0 start")
        hyper, x0 = _run_options(args, problem)
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
        comparison = compare(problem, methods, x0, steps=args.steps, tol=args.tol, path=True, **hyper)
    _write_figure(problem, comparison, args.out, args.force)
    return 0


def cmd_latex(args) -> int:
    from pathlib import Path

    from symgd import latex
    from symgd.output import check_target

    problem = _problem(args)
    check_target(args.out, force=args.force)
    if args.pdf:
        check_target(Path(args.out).with_suffix(".pdf"), force=args.force)  # before any slow work
    x0, hyper = None, {}
    if args.method:
        if not args.x0:
            raise InputError("--method needs a start: --x0 A,B")
        if len(args.x0) > 1:
            raise InputError(f"a worked example follows one start; got {len(args.x0)} --x0 options")
        hyper, starts = _run_options(args, problem)
        x0 = starts[0].tolist()
    elif args.x0 or args.lr is not None or args.param:
        raise InputError("--x0, --lr and --param configure an optimizer: give --method too")
    text = latex.document(problem, method=args.method, x0=x0, steps=args.steps, hyper=hyper,
                          box=parse_box(args.box, problem.variables), timeout=args.timeout, memory=_memory(args))
    path = latex.write(args.out, text, force=args.force)
    print(f"wrote {path}", file=sys.stderr)
    if args.pdf:
        print(f"wrote {latex.compile_pdf(path, force=args.force)}", file=sys.stderr)
    return 0


def cmd_fit(args) -> int:
    from symgd.fit import fit_from_options

    hyper = dict(parse_param(p) for p in args.param or [])
    if args.lr is not None:
        if "lr" in hyper:
            raise InputError("the learning rate is given twice (--lr and --param lr=...): give one")
        hyper["lr"] = args.lr
    result = fit_from_options(args.model, args.data, args.target, args.params, loss=args.loss,
                              batch_size=args.batch_size, epochs=args.epochs, method=args.method, hyper=hyper,
                              seed=args.seed, standardize=args.standardize or False, x0=args.x0,
                              shuffle=not args.no_shuffle, drop_last=args.drop_last,
                              progress=None if not args.json else False)
    print(dump_json(result.to_json()) if args.json else f"{result!r}\n{result.message}")
    return 0


# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symgd", description="Symbolic gradients, exact critical points and optimizers "
                     "for expressions you type.", epilog=EXAMPLES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def expr_command(name, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EXAMPLES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("expr", help='the objective, e.g. "x^2 - 10x + 1"')
        p.add_argument("--vars", help="variables in order, comma-separated (default: natural order)")
        p.add_argument("--json", action="store_true", help="one JSON document on stdout")
        return p

    p = expr_command("analyze", "derive gradient and Hessian; find and classify the critical points")
    p.add_argument("--box", help="search box for periodic or numeric cases: x=-5:5,y=-pi:pi")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds for each symbolic step (default 5)")
    p.add_argument("--memory", type=float, help=MEMORY_HELP)
    p.set_defaults(func=cmd_analyze)

    for name, help_text, func in (("run", "run one optimizer from one or more starts", cmd_run),
                                  ("compare", "run several optimizers from the same starts", cmd_compare)):
        p = expr_command(name, help_text)
        if name == "run":
            p.add_argument("--method", required=True, help="optimizer name, e.g. gd, momentum, adam, newton")
        else:
            p.add_argument("--methods", required=True, help="comma-separated optimizer names")
        p.add_argument("--lr", type=float, help="learning rate")
        p.add_argument("--param", action="append", metavar="NAME=VALUE",
                       help="a hyperparameter, e.g. betas=0.9,0.999 or form=slide (repeatable)")
        p.add_argument("--x0", action="append", required=True, metavar="A,B",
                       help="a start point (repeat for a batch); write --x0=-1,2 for a leading minus")
        p.add_argument("--steps", type=int, default=100, help="number of updates (default 100)")
        p.add_argument("--tol", type=float, default=1e-8, help="stop a start when |grad f| <= tol")
        p.add_argument("--path", action="store_true", help="record and output every iterate")
        p.add_argument("--backend", default="auto", help="auto, numpy, python or numba (default auto)")
        p.add_argument("--dtype", default="float64", help="float64 or float32 (float32 needs numba)")
        if name == "compare":
            p.add_argument("-o", "--out", help="also draw the race: plot.png (contours/loss curves) or anim.gif")
            p.add_argument("--force", action="store_true", help="overwrite an existing output file")
        p.set_defaults(func=func)

    p = expr_command("latex", "write a worked example as a standalone LaTeX document")
    p.add_argument("-o", "--out", required=True, help="the .tex file to write")
    p.add_argument("--method", help="also run this optimizer and tabulate its iterations")
    p.add_argument("--x0", action="append", metavar="A,B", help="the start for --method")
    p.add_argument("--lr", type=float, help="learning rate for --method")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="a hyperparameter for --method")
    p.add_argument("--steps", type=int, default=5, help="updates to tabulate (default 5)")
    p.add_argument("--tol", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--box", help="search box for periodic or numeric cases: x=-5:5,y=-pi:pi")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds for each symbolic step (default 5)")
    p.add_argument("--memory", type=float, help=MEMORY_HELP)
    p.add_argument("--pdf", action="store_true", help="also compile it with pdflatex")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(func=cmd_latex)

    p = expr_command("plot", "draw f (contours or curve) with critical points, and optimizer paths")
    p.add_argument("-o", "--out", required=True, help="plot.png, or anim.gif for a race of --methods")
    p.add_argument("--methods", help="comma-separated optimizers to draw from each --x0")
    p.add_argument("--x0", action="append", metavar="A,B", help="a start (repeatable)")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="a hyperparameter (repeatable)")
    p.add_argument("--steps", type=int, default=100, help="number of updates (default 100)")
    p.add_argument("--tol", type=float, default=1e-8, help="stop a start when |grad f| <= tol")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("fit", help="fit a model's parameters to data by (mini-batch) gradient descent",
                       epilog=FIT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help='the model, e.g. "exp(-a*x) + b*x + c"')
    p.add_argument("--data", required=True, help="CSV file with a header row")
    p.add_argument("--target", required=True, help="the column the model predicts")
    p.add_argument("--params", required=True, help="the parameters to fit, comma-separated: a,b,c")
    p.add_argument("--loss", default="mse", help="mse, bce_logit, bce_prob, bce, or an expression in yhat and y")
    p.add_argument("--method", default="gd", help="optimizer name (default gd)")
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="an optimizer hyperparameter")
    p.add_argument("--x0", action="append", metavar="A,B,C", help="starting parameters (repeat for several)")
    p.add_argument("--batch-size", type=int, help="mini-batch size (default: the whole data set)")
    p.add_argument("--epochs", type=int, default=100, help="passes over the data (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of the per-epoch shuffles (default 0)")
    p.add_argument("--standardize", nargs="?", const=True, metavar="COLUMNS",
                   help="standardize the input columns (all, or the comma-separated names)")
    p.add_argument("--no-shuffle", action="store_true", help="take the batches in file order")
    p.add_argument("--drop-last", action="store_true", help="drop a last, smaller batch")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("demo", help="analyze the lecture slides' examples")
    p.add_argument("--timeout", type=float, default=5.0, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = _negative_values_attached(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error (2, already printed on one line)
        return int(e.code or 0)
    try:
        return args.func(args)
    except SymgdError as e:
        print(f"symgd: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("symgd: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # an internal failure: still one line, exit 1
        print(f"symgd: internal error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
