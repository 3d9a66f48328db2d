"""The subcommands: each turns its checked options into public API calls and prints or writes the result.
No math lives here."""

from __future__ import annotations

import sys

from symgd.cli._options import check_path_memory, hyper, memory, parse_box, run_options
from symgd.cli._show import analyze_json, analyze_text, backend_line, divergence_lines, dump_json, run_json
from symgd.errors import InputError

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
                                   memory=memory(args))


def _methods(text: str) -> list:
    return [m.strip() for m in text.split(",") if m.strip()]


def cmd_analyze(args) -> int:
    problem = _problem(args)
    cps = _critical(problem, args)
    print(dump_json(analyze_json(problem, cps, args)) if args.json else analyze_text(problem, cps, args))
    return 0


def cmd_demo(args) -> int:
    from symgd.problem import Problem

    for tag, text in DEMO:
        print(f"=== slide example {tag}: symgd analyze \"{text}\"")
        problem = Problem(text)
        args.box = None
        print(analyze_text(problem, _critical(problem, args), args))
        print()
    return 0


def cmd_run(args) -> int:
    from symgd.minimize import minimize

    problem = _problem(args)
    options, x0 = run_options(args, problem)
    if args.path:
        check_path_memory(args, x0)
    run = minimize(problem, args.method, x0, steps=args.steps, tol=args.tol, path=args.path, **options)
    if args.json:
        print(dump_json(run_json(run)))
    else:
        print("\n".join([repr(run), *divergence_lines(run), backend_line({run.method: run})]))
    return 0


def cmd_compare(args) -> int:
    from symgd.minimize import compare

    problem = _problem(args)
    options, x0 = run_options(args, problem)
    methods = _methods(args.methods)
    if not methods:
        raise InputError("--methods needs at least one optimizer name")
    if args.path or args.out:
        check_path_memory(args, x0, len(methods), "--path" if args.path else "-o (the drawing)")
    if args.out:
        from symgd.output import check_target

        check_target(args.out, force=args.force)  # before any slow work
    comparison = compare(problem, methods, x0, steps=args.steps, tol=args.tol, path=args.path or bool(args.out),
                         **options)
    if args.out:
        _write_figure(problem, comparison, args.out, args.force)
    if args.json:
        print(dump_json({name: run_json(run) for name, run in comparison.items()}))
    else:
        lines = [repr(comparison)]
        for name, run in comparison.items():
            lines += divergence_lines(run, name)
        print("\n".join([*lines, backend_line(dict(comparison.items()))]))
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
        options, x0 = run_options(args, problem)
        methods = _methods(args.methods)
        check_path_memory(args, x0, len(methods), "--methods (the drawing)")
        comparison = compare(problem, methods, x0, steps=args.steps, tol=args.tol, path=True, **options)
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
    x0, options = None, {}
    if args.method:
        if not args.x0:
            raise InputError("--method needs a start: --x0 A,B")
        if len(args.x0) > 1:
            raise InputError(f"a worked example follows one start; got {len(args.x0)} --x0 options")
        options, starts = run_options(args, problem)
        check_path_memory(args, starts, why="--method (the step table)")
        x0 = starts[0].tolist()
    elif args.x0 or args.lr is not None or args.param:
        raise InputError("--x0, --lr and --param configure an optimizer: give --method too")
    text = latex.document(problem, method=args.method, x0=x0, steps=args.steps, hyper=options,
                          box=parse_box(args.box, problem.variables), timeout=args.timeout, memory=memory(args))
    path = latex.write(args.out, text, force=args.force)
    print(f"wrote {path}", file=sys.stderr)
    if args.pdf:
        print(f"wrote {latex.compile_pdf(path, force=args.force)}", file=sys.stderr)
    return 0


def cmd_fit(args) -> int:
    from symgd.fit import fit_from_options

    result = fit_from_options(args.model, args.data, args.target, args.params, loss=args.loss,
                              batch_size=args.batch_size, epochs=args.epochs, method=args.method, hyper=hyper(args),
                              seed=args.seed, standardize=args.standardize or False, x0=args.x0,
                              shuffle=not args.no_shuffle, drop_last=args.drop_last,
                              progress=None if not args.json else False)
    print(dump_json(result.to_json()) if args.json else f"{result!r}\n{result.message}")
    return 0
