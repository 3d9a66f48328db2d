"""From ``argv`` to an ``argparse.Namespace``: the parser, its help texts, and the two fix-ups argparse needs
(a value or an expression that starts with ``-``, and a ``--`` right after the command)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence

from symgd.budget import DEFAULT_MEMORY_GIB

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
PATH_MEMORY_HELP = (f"GiB the recorded iterates (--path, a drawing) may take, estimated before the run "
                    f"(default {DEFAULT_MEMORY_GIB:g}; 0: no cap)")
BOX_HELP = "search box for periodic or numeric cases: x=-5:5,y=-pi:pi"
TIMEOUT_HELP = "seconds for each symbolic step (default 5)"

COMMANDS = ("analyze", "run", "compare", "latex", "plot", "fit")

# The optimizer options of run/compare, latex and plot: one list, with each command's own words.
_OPTIMIZER_HELP = {
    "run": ("learning rate", "a hyperparameter, e.g. betas=0.9,0.999 or form=slide (repeatable)",
            "a start point (repeat for a batch); write --x0=-1,2 for a leading minus"),
    "latex": ("learning rate for --method", "a hyperparameter for --method", "the start for --method"),
    "plot": ("learning rate", "a hyperparameter (repeatable)", "a start (repeatable)"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2; it remembers its option names."""

    def __init__(self, *args, **kwargs):
        self.option_names: set = set()  # before super().__init__, which adds -h/--help
        self.commands: dict = {}  # subcommand name -> its parser (filled by build_parser)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):  # noqa: D102 - argparse method
        action = super().add_argument(*args, **kwargs)
        self.option_names.update(action.option_strings)
        return action

    def error(self, message):  # noqa: D102 - argparse hook
        self.exit(2, f"symgd: error: {message} (see '{self.prog} --help')\n")


def _add_optimizer_options(p, flavour: str, *, steps: int, steps_help: str, tol: float | None,
                           x0_required: bool = False) -> None:
    """``--lr --param --x0 --steps --tol``, shared by run, compare, latex and plot."""
    lr_help, param_help, x0_help = _OPTIMIZER_HELP[flavour]
    p.add_argument("--lr", type=float, help=lr_help)
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help=param_help)
    p.add_argument("--x0", action="append", required=x0_required, metavar="A,B", help=x0_help)
    p.add_argument("--steps", type=int, default=steps, help=steps_help)
    p.add_argument("--tol", type=float, default=tol,
                   help=argparse.SUPPRESS if tol is None else "stop a start when |grad f| <= tol")


def _add_output_options(p, out_help: str, force_help: str, *, required: bool = True) -> None:
    """``-o/--out FILE`` and ``--force``, shared by compare, latex and plot."""
    p.add_argument("-o", "--out", required=required, help=out_help)
    p.add_argument("--force", action="store_true", help=force_help)


def _add_symbolic_options(p) -> None:
    """``--box --timeout --memory``, shared by analyze and latex."""
    p.add_argument("--box", help=BOX_HELP)
    p.add_argument("--timeout", type=float, default=5.0, help=TIMEOUT_HELP)
    p.add_argument("--memory", type=float, help=MEMORY_HELP)


def build_parser(handlers: Mapping[str, Callable]) -> argparse.ArgumentParser:
    """The ``symgd`` parser; ``handlers`` maps each subcommand to the function stored as ``args.func``."""
    parser = _Parser(prog="symgd", description="Symbolic gradients, exact critical points and optimizers "
                     "for expressions you type.", epilog=EXAMPLES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name, help_text, epilog=EXAMPLES, expr=True, **kwargs):
        p = sub.add_parser(name, help=help_text, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter,
                           **kwargs)
        parser.commands[name] = p
        p.set_defaults(func=handlers[name])
        if expr:
            p.add_argument("expr", help='the objective, e.g. "x^2 - 10x + 1"')
            p.add_argument("--vars", help="variables in order, comma-separated (default: natural order)")
            p.add_argument("--json", action="store_true", help="one JSON document on stdout")
        return p

    text = "derive gradient and Hessian; find and classify the critical points"
    _add_symbolic_options(command("analyze", text, description=text))
    for name, text in (("run", "run one optimizer from one or more starts"),
                       ("compare", "run several optimizers from the same starts")):
        p = command(name, text, description=text)
        if name == "run":
            p.add_argument("--method", required=True, help="optimizer name, e.g. gd, momentum, adam, newton")
        else:
            p.add_argument("--methods", required=True, help="comma-separated optimizer names")
        _add_optimizer_options(p, "run", steps=100, steps_help="number of updates (default 100)", tol=1e-8,
                               x0_required=True)
        p.add_argument("--path", action="store_true", help="record and output every iterate")
        p.add_argument("--backend", default="auto", help="auto, numpy, python or numba (default auto)")
        p.add_argument("--dtype", default="float64", help="float64 or float32 (float32 needs numba)")
        p.add_argument("--flush-subnormals", choices=("yes", "no"),
                       help="numba: numbers below the smallest normal float are 0 while running (faster long runs; "
                            "default: yes for float32, no for float64)")
        p.add_argument("--memory", type=float, help=PATH_MEMORY_HELP)
        if name == "compare":
            _add_output_options(p, "also draw the race: plot.png (contours/loss curves) or anim.gif",
                                "overwrite an existing output file", required=False)

    text = "write a worked example as a standalone LaTeX document"
    p = command("latex", text, description=text)
    _add_output_options(p, "the .tex file to write", "overwrite existing files")
    p.add_argument("--method", help="also run this optimizer and tabulate its iterations")
    _add_optimizer_options(p, "latex", steps=5, steps_help="updates to tabulate (default 5)", tol=None)
    _add_symbolic_options(p)
    p.add_argument("--pdf", action="store_true", help="also compile it with pdflatex")

    text = "draw f (contours or curve) with critical points, and optimizer paths"
    p = command("plot", text, description=text)
    _add_output_options(p, "plot.png, or anim.gif for a race of --methods", "overwrite an existing output file")
    p.add_argument("--methods", help="comma-separated optimizers to draw from each --x0")
    _add_optimizer_options(p, "plot", steps=100, steps_help="number of updates (default 100)", tol=1e-8)
    p.add_argument("--memory", type=float, help=PATH_MEMORY_HELP)

    _add_fit_options(command("fit", "fit a model's parameters to data by (mini-batch) gradient descent",
                             epilog=FIT_EXAMPLES, expr=False))
    p = command("demo", "analyze the lecture slides' examples", epilog=None, expr=False)
    p.add_argument("--timeout", type=float, default=5.0, help=argparse.SUPPRESS)
    return parser


def _add_fit_options(p) -> None:
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


def _as_positional(arg: str) -> str:
    """A leading space keeps argparse from reading ``-exp(x)`` as an option; the expression parser ignores it."""
    return " " + arg if arg.startswith("-") else arg


def normalize_argv(argv: Sequence[str], parser) -> list[str]:
    """``argv`` as argparse can read it.

    - ``symgd run -- EXPR ...``: a ``--`` right after the command makes the next argument the expression,
      whatever it starts with; options may follow it (argparse alone would take every later argument for a
      positional). A lone ``--`` (nothing after it, or an option of the command) is dropped, and argparse
      reports the missing expression as usual. A ``--`` later in the line keeps argparse's meaning.
    - ``symgd run "-exp(x)" ...``: an expression right after the command that starts with a single ``-``
      (not ``-h``/``-o``) is not an option.
    - ``--x0 -1.5,2``, ``--box -1:1``: a value that starts with ``-`` is attached with ``=``.
    """
    argv = list(argv)
    if len(argv) >= 2 and argv[0] in COMMANDS and argv[1] == "--":
        rest = argv[2:]
        if rest and rest[0].partition("=")[0] not in parser.commands[argv[0]].option_names:
            return [argv[0], _as_positional(rest[0]), *_negative_values_attached(rest[1:])]
        argv = [argv[0], *rest]
    if len(argv) >= 2 and argv[0] in COMMANDS and argv[1].startswith("-") and not argv[1].startswith("--") \
            and argv[1] not in ("-", "-h", "-o"):
        argv[1] = _as_positional(argv[1])
    return _negative_values_attached(argv)


def _negative_values_attached(argv: list[str]) -> list[str]:
    """``--x0 -1,2`` -> ``--x0=-1,2`` (and ``--box``): argparse would take ``-1,2`` for an option."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a in ("--x0", "--box") and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out
