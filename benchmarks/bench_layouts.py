"""The fused kernel's layouts for many variables ("rows" vs "grid"), float32 vs float64: rates and compile times.

For GD, momentum and Adam on Styblinski-Tang 10-D (starts U(-5, 5)^n, the problem of ``bench_peers.py``)
and the chained Rosenbrock at n = 4, 10, 50 (starts U(-1, 1)^n; n = 200 for compile time only), each
layout is forced through ``symgd.fused._generate`` (``GRID_MAX``: below n, "rows"), compiled in a fresh
temporary ``SYMGD_CACHE_DIR`` (so compile times are real compiles), then timed with
``symgd.fused.run(..., threads=1|2)``: point-steps per second, best of ``--repeat`` runs of about
``--work`` point-steps each (``tol=None``: every start runs every step; a start that diverged would stop
early, so the number of diverged starts is printed and must be 0). ``--only tiles`` sweeps ``GRID_BYTES``
(the grid's tile size), ``--only small`` compares "tiles" and "grid" at n = 2 and 3. ``--float32`` measures Adam and GD on Rosenbrock 2-D and Styblinski-Tang 10-D
in both dtypes.

Run: ``.venv/bin/python benchmarks/bench_layouts.py [--quick]``; writes ``benchmarks/results/layouts.json``
(``layouts.quick.json`` with ``--quick``). The table in ``symgd/fused/_layout_grid.py`` comes from
``--only layouts,small,float32`` and ``--only tiles``.
Timings share the machine with whatever else runs: compare rows measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sympy as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

os.environ.setdefault("SYMGD_CACHE_DIR", tempfile.mkdtemp(prefix="symgd-bench-layouts-"))

import symgd as sg  # noqa: E402
from symgd import fused  # noqa: E402
from symgd.fused import _backends, _generate, _run  # noqa: E402
from symgd.optimizers import get  # noqa: E402

HYPER = {"styblinski": {"gd": {"lr": 1e-2}, "momentum": {"lr": 1e-2, "momentum": 0.9}, "adam": {"lr": 1e-2}},
         "rosenbrock": {"gd": {"lr": 1e-4}, "momentum": {"lr": 1e-4, "momentum": 0.9}, "adam": {"lr": 1e-2}}}
BOX = {"styblinski": 5.0, "rosenbrock": 1.0}


def problem(name: str, n: int) -> sg.Problem:
    x = sp.symbols(f"x0:{n}", real=True)
    if name == "styblinski":
        expr = sp.Rational(1, 2) * sum(v**4 - 16 * v**2 + 5 * v for v in x)
    else:
        expr = sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(n - 1))
    return sg.Problem(expr, variables=x)


TILED_MAX = _generate.TILED_MAX  # the module's own


def force(kind: str, tiled_max: int = TILED_MAX) -> None:
    """Make ``layout`` pick ``kind`` for n > ``tiled_max`` ("tiles" up to it)."""
    _generate.TILED_MAX = tiled_max
    _generate.GRID_MAX = 10**9 if kind == "grid" else tiled_max
    _backends._BY_SPEC.clear()  # per spec: the layout is not part of a spec
    _run._TILES.clear()


def compile_seconds(p, opt, dtype="float64") -> float:
    t0 = time.perf_counter()
    fused.run("numba", p, opt, np.zeros((1, p.n)), 1, None, 1e12, dtype=dtype, threads=1)
    return time.perf_counter() - t0


def rate(p, opt, X, work: float, repeat: int, threads: int, dtype="float64") -> tuple[float, int]:
    steps = max(1, int(work / X.shape[0]))
    best, diverged = np.inf, 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fused.run("numba", p, opt, X, steps, None, 1e12, dtype=dtype, threads=threads)
        best = min(best, time.perf_counter() - t0)
        diverged = int((out[3] == 2).sum())
    return X.shape[0] * steps / best, diverged


def layouts(args) -> list[dict]:
    rows = []
    cases = [("styblinski", 10), ("rosenbrock", 4), ("rosenbrock", 10), ("rosenbrock", 50), ("rosenbrock", 200)]
    if args.quick:
        cases = [("styblinski", 10), ("rosenbrock", 50)]
    for name, n in cases:
        p = problem(name, n)
        X = np.random.default_rng(0).uniform(-BOX[name], BOX[name], (args.starts, n))
        for method in args.methods.split(","):
            opt = get(method, **HYPER[name][method])
            for kind in ("rows", "grid"):
                force(kind)
                spec = _backends.make_spec(p, opt, "numba", "float64", False)[0]
                row = {"problem": name, "n": n, "method": method, "layout": _generate.layout(spec),
                       "tile": _generate.tile_size(spec), "lines": _backends.source(spec).count("\n"),
                       "compile_s": round(compile_seconds(p, opt), 2)}
                if n <= 50:
                    for threads in (1, 2):
                        r, div = rate(p, opt, X, args.work, args.repeat, threads)
                        row[f"rate_t{threads}"], row["diverged"] = float(f"{r:.3g}"), div
                print(json.dumps(row), flush=True)
                rows.append(row)
    force("grid")
    return rows


def small(args) -> list[dict]:
    """n = 2 and 3: "tiles" (unrolled per coordinate) against "grid" (chained Rosenbrock, starts U(-1, 1)^n)."""
    rows = []
    for n in (2, 3):
        p = problem("rosenbrock", n)
        X = np.random.default_rng(0).uniform(-1, 1, (args.starts, n))
        for method in args.methods.split(","):
            opt = get(method, **HYPER["rosenbrock"][method])
            for kind, tiled_max in (("tiles", 3), ("grid", 1)):  # n = 2, 3 forced either way
                force("grid", tiled_max)
                row = {"problem": "rosenbrock", "n": n, "method": method, "layout": kind,
                       "compile_s": round(compile_seconds(p, opt), 2)}
                r, div = rate(p, opt, X, args.work, args.repeat, 1)
                row["rate_t1"], row["diverged"] = float(f"{r:.3g}"), div
                print(json.dumps(row), flush=True)
                rows.append(row)
    force("grid")
    return rows


def tiles(args) -> list[dict]:
    """The grid's tile size: GRID_BYTES from 8 KiB to 256 KiB (Adam, Styblinski-Tang 10-D and Rosenbrock 50-D)."""
    rows, default = [], _generate.GRID_BYTES
    force("grid")
    for name, n in (("styblinski", 10), ("rosenbrock", 50)):
        p = problem(name, n)
        X = np.random.default_rng(0).uniform(-BOX[name], BOX[name], (args.starts, n))
        for method in ("gd", "adam"):
            opt = get(method, **HYPER[name][method])
            compile_seconds(p, opt)
            for kib in (8, 16, 32, 64, 128, 256):
                _generate.GRID_BYTES = kib * 1024
                force("grid")
                spec = _backends.make_spec(p, opt, "numba", "float64", False)[0]
                r, div = rate(p, opt, X, args.work, args.repeat, 1)
                row = {"problem": name, "n": n, "method": method, "grid_kib": kib, "tile": _generate.tile_size(spec),
                       "rate_t1": float(f"{r:.3g}"), "diverged": div}
                print(json.dumps(row), flush=True)
                rows.append(row)
    _generate.GRID_BYTES = default
    force("grid")
    return rows


def float32(args) -> list[dict]:
    rows = []
    force("grid")
    cases = [("rosenbrock", 2), ("styblinski", 10)]
    for name, n in cases:
        p = problem(name, n) if n > 2 else sg.Problem("(1 - x)^2 + 100*(y - x^2)^2")
        X = np.random.default_rng(0).uniform(-BOX[name], BOX[name], (args.starts, n))
        for method in ("gd", "adam"):
            opt = get(method, **HYPER[name][method])
            for dtype in ("float64", "float32"):
                row = {"problem": name, "n": n, "method": method, "dtype": dtype,
                       "compile_s": round(compile_seconds(p, opt, dtype), 2)}
                r, div = rate(p, opt, X, args.work, args.repeat, 1, dtype)
                row["rate_t1"], row["diverged"] = float(f"{r:.3g}"), div
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="Styblinski-Tang 10-D and Rosenbrock 50-D, Adam only")
    ap.add_argument("--methods", default="gd,momentum,adam")
    ap.add_argument("--starts", type=int, default=10_000)
    ap.add_argument("--work", type=float, default=2e7, help="point-steps per timed run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="layouts,float32", help="comma list of: layouts, small, tiles, float32")
    args = ap.parse_args(argv)
    if args.quick:
        args.methods, args.work, args.repeat = "adam", 5e6, 2
    out = {"machine": os.uname().machine, "cpus": len(os.sched_getaffinity(0)), "starts": args.starts,
           "work": args.work}
    for part in args.only.split(","):
        out[part] = {"layouts": layouts, "small": small, "tiles": tiles, "float32": float32}[part](args)
    dest = HERE / "results" / ("layouts.quick.json" if args.quick else "layouts.json")
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
