"""From option values to API arguments: each reader checks its option and raises a one-line ``InputError``
that names it (exit code 2)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence

from symgd.budget import DEFAULT_MEMORY_GIB
from symgd.errors import InputError

# Recording the path: symgd.minimize.path_bytes (measured); --json adds Python floats, lists and the text,
# 152 bytes per value (peak RSS of 200 starts x 10^4 steps).
PATH_JSON_BYTES_PER_VALUE = 152


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


def choice(value: str, options, flag: str) -> str:
    """``value`` if it is one of ``options``, else a one-line InputError with a "did you mean"."""
    if value in options:
        return value
    hint = difflib.get_close_matches(str(value).lower(), options, n=1)
    raise InputError(f"{flag} must be one of {', '.join(options)}, got {value!r}"
                     + (f"; did you mean {hint[0]!r}?" if hint else ""))


def memory(args):
    """``--memory`` (GiB) as the API's ``memory=``: None when 0 was given (no cap)."""
    gib = getattr(args, "memory", None)
    if gib is None:
        return DEFAULT_MEMORY_GIB
    if not (gib >= 0 and math.isfinite(gib)):
        raise InputError(f"--memory must be a number of GiB >= 0 (0: no cap), got {gib}")
    return gib or None


def hyper(args) -> dict:
    """The optimizer's hyperparameters from ``--param NAME=VALUE ...`` and ``--lr``."""
    out = dict(parse_param(p) for p in args.param or [])
    if args.lr is not None:
        if "lr" in out:
            raise InputError("the learning rate is given twice (--lr and --param lr=...): give one")
        out["lr"] = args.lr
    return out


def run_options(args, problem):
    """``(hyper, x0)`` of run, compare, plot and latex, with ``--steps``, ``--tol``, ``--backend``, ``--dtype``."""
    options = hyper(args)
    x0 = parse_x0(args.x0, problem.n)
    if args.steps < 1:
        raise InputError(f"--steps must be at least 1, got {args.steps}")
    if args.tol is not None and not args.tol >= 0:
        raise InputError(f"--tol must be >= 0, got {args.tol}")
    memory(args)  # --memory is checked even when no path is recorded
    if getattr(args, "backend", None) is not None:
        try:
            from symgd.fused import BACKENDS, DTYPES
        except ImportError:  # pragma: no cover - the compiled backends are optional
            BACKENDS, DTYPES = ("auto", "numpy"), ("float64",)
        options["backend"] = choice(args.backend, BACKENDS, "--backend")
        options["dtype"] = choice(args.dtype, DTYPES, "--dtype")
    if getattr(args, "flush_subnormals", None) is not None:
        options["flush_subnormals"] = args.flush_subnormals == "yes"
    return options, x0


def path_bytes(steps: int, starts: int, n: int, runs: int = 1, json: bool = False) -> int:
    r"""Estimated peak bytes of recording ``runs`` paths of ``steps`` updates from ``starts`` starts in n variables.

    Per run, :math:`(T + 1)\,(B\,(n + 1)\,c + 512)`: T + 1 iterates of B starts, each n coordinates and f,
    at c = 16 bytes per value (168 with ``json``, which also holds the document).

    >>> round(path_bytes(10**8, 1, 2) / 2**30, 1)  # symgd run "x^2 + y^2" --x0 1,1 --steps 100000000 --path
    52.2
    """
    from symgd.minimize import PATH_BYTES_PER_VALUE, path_bytes as one_run

    return runs * one_run(steps, starts, n, PATH_BYTES_PER_VALUE + (PATH_JSON_BYTES_PER_VALUE if json else 0))


def check_path_memory(args, x0, runs: int = 1, why: str = "--path") -> None:
    """Refuse, before running, a path record that would take more than ``--memory`` GiB (0: no cap)."""
    cap = memory(args)
    starts, n = x0.shape
    need = path_bytes(args.steps, starts, n, runs, json=bool(getattr(args, "json", False)))
    if cap is None or need <= cap * 2**30:
        return
    raise InputError(f"{why} records every iterate: {args.steps + 1} x {starts} start(s) x {n + 1} values"
                     f"{f' x {runs} methods' if runs > 1 else ''} would take about {_gib(need)} GiB, over the "
                     f"{cap:g} GiB cap; lower --steps, give fewer --x0 starts, or raise --memory (0: no cap)")


def _gib(nbytes: int) -> str:
    gib = nbytes / 2**30
    return f"{gib:.3g}" if gib < 1e6 else f"{gib:.2e}"
