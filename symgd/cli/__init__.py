"""The ``symgd`` command line: flags in, public API calls, text or JSON out. No math lives here.

Exit codes: 0 success (a diverged run is a result), 2 bad input or usage (one line on stderr starting
``symgd: error:``), 1 an internal failure.

Modules: ``_args`` (argv to a Namespace: the parser and its help), ``_options`` (option values to API
arguments, checked), ``_commands`` (the subcommands), ``_show`` (text and JSON output).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from symgd.cli._args import COMMANDS, EXAMPLES, FIT_EXAMPLES, normalize_argv
from symgd.cli._args import build_parser as _build_parser
from symgd.cli._commands import (DEMO, cmd_analyze, cmd_compare, cmd_demo, cmd_fit, cmd_latex, cmd_plot,
                                 cmd_run)
from symgd.cli._options import parse_box, parse_param, parse_x0, path_bytes
from symgd.cli._show import _sstr, analyze_json, analyze_text, dump_json  # noqa: F401 - tests patch _sstr
from symgd.errors import SymgdError

__all__ = ["COMMANDS", "DEMO", "EXAMPLES", "FIT_EXAMPLES", "analyze_json", "analyze_text", "build_parser",
           "dump_json", "main", "parse_box", "parse_param", "parse_x0", "path_bytes"]

HANDLERS = {"analyze": cmd_analyze, "run": cmd_run, "compare": cmd_compare, "latex": cmd_latex, "plot": cmd_plot,
            "fit": cmd_fit, "demo": cmd_demo}


def build_parser():
    """The ``symgd`` argument parser; ``args.func(args)`` runs the chosen subcommand."""
    return _build_parser(HANDLERS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    argv = normalize_argv(sys.argv[1:] if argv is None else argv, parser)
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
    except BrokenPipeError:  # `symgd demo | head -1`: the reader left; say nothing more, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 141  # 128 + SIGPIPE, the shell's code for a writer whose pipe closed
    except Exception as e:  # an internal failure: still one line, exit 1
        print(f"symgd: internal error: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
