"""Benchmark: symgd.critical_points vs plain ``sympy.solve`` on classical test functions.

For every case: is symgd's answer complete, how many points (and families), how long; and what
``sympy.solve(gradient, variables, dict=True)`` returns under the same budget, run in a worker process
that is killed at the budget (``symgd.budget.run_with_budget``). ``expected`` counts, where given, are
the known numbers of real critical points (literature or hand derivation, noted per case) in the box
when there is one.

Run: ``.venv/bin/python benchmarks/bench_critical.py [--budget 5] [--only NAME]``. Prints a table and
writes ``benchmarks/results/critical.json``. Target: every case complete, median < 1 s, none > 5 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import sympy as sp

import symgd as sg
from symgd.budget import run_with_budget
from symgd.critical import critical_points
from symgd.errors import BudgetError

# (name, expression, box or None, expected number of isolated real critical points or None, source)
CASES = [
    ("C1 slide", "x^2 - 10x + 1", None, 1, "SLIDES.md"),
    ("C2 slide (linear)", "0.5*x1 + 2*x2 + 4*x3 + 10", None, 0, "SLIDES.md"),
    ("C3 slide", "x1^2 + x1 - 4*x1*x2 + x1^3*x2", None, 3, "SLIDES.md"),
    ("C6 slide", "x^4 - 50x^3 - x + 1", None, 1, "SLIDES.md"),
    ("C8 slide", "x2^2 - x1^2", None, 1, "SLIDES.md"),
    ("G1 slide", "exp(x) + x^2", None, 1, "SLIDES.md"),
    ("G2 slide", "exp(x+y) + x^2 - y^2", None, 1, "SLIDES.md"),
    ("L1 slide", "2x^2 + 3x^3 + x^4", None, 3, "SLIDES.md"),
    ("quintic x^6/6-x^2/2-x", "x^6/6 - x^2/2 - x", None, 1, "x^5 - x - 1 has one real root"),
    ("log domain", "x^2/2 - log(x)", None, 1, "x = 1 (x = -1 outside the domain)"),
    ("rational x + 1/x", "x + 1/x", None, 2, "x = +-1"),
    ("double well", "(x^2 - 1)^2 + y^2", None, 3, "(+-1, 0) minima, (0, 0) saddle"),
    ("sphere 3-D", "x^2 + y^2 + z^2", None, 1, "origin"),
    ("monkey saddle", "x^3 - 3x*y^2", None, 1, "origin"),
    ("x^4 + y^4", "x^4 + y^4", None, 1, "origin"),
    ("x^2 y^2 (families)", "x^2*y^2", None, None, "the two axes"),
    ("Motzkin", "x^4*y^2 + x^2*y^4 - 3x^2*y^2 + 1", None, None, "(+-1, +-1) and the axes"),
    ("Himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", None, 9, "Himmelblau 1972"),
    ("six-hump camel", "(4 - 2.1x^2 + x^4/3)x^2 + x*y + (-4 + 4y^2)y^2", None, 15, "Dixon & Szegö 1978"),
    ("three-hump camel", "2x^2 - 1.05x^4 + x^6/6 + x*y + y^2", None, 5, "3 minima, 2 saddles"),
    ("Rosenbrock 2-D", "(1 - x1)^2 + 100(x2 - x1^2)^2", None, 1, "(1, 1)"),
    ("Rosenbrock 3-D", "(1-x1)^2 + 100(x2-x1^2)^2 + (1-x2)^2 + 100(x3-x2^2)^2", None, 1,
     "interval-Newton count in [-3, 3]^3"),
    ("Rosenbrock 4-D", "(1-x1)^2 + 100(x2-x1^2)^2 + (1-x2)^2 + 100(x3-x2^2)^2 + (1-x3)^2 + 100(x4-x3^2)^2",
     None, 3, "2 minima + 1 saddle; interval-Newton certified count in [-3, 3]^4"),
    ("Rosenbrock 5-D", "(1-x1)^2 + 100(x2-x1^2)^2 + (1-x2)^2 + 100(x3-x2^2)^2 + (1-x3)^2 + 100(x4-x3^2)^2"
     " + (1-x4)^2 + 100(x5-x4^2)^2", None, 3, "interval-Newton certified count in [-3, 3]^5"),
    ("Wood (Colville)", "100(x1^2 - x2)^2 + (x1 - 1)^2 + (x3 - 1)^2 + 90(x3^2 - x4)^2"
     " + 10.1((x2 - 1)^2 + (x4 - 1)^2) + 19.8(x2 - 1)(x4 - 1)", None, 3, "interval-Newton count in [-3, 3]^4"),
    ("Goldstein-Price", "(1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6x*y + 3y^2))"
     "(30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36x*y + 27y^2))", None, 9, "interval-Newton count in [-10, 10]^2"),
    ("Beale", "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2", None, 3,
     "interval-Newton count in [-10, 10]^2"),
    ("Booth", "(x + 2y - 7)^2 + (2x + y - 5)^2", None, 1, "(1, 3)"),
    ("Matyas", "0.26(x^2 + y^2) - 0.48x*y", None, 1, "origin"),
    ("Styblinski-Tang 2-D", "(x^4 - 16x^2 + 5x + y^4 - 16y^2 + 5y)/2", None, 9, "3^n"),
    ("Styblinski-Tang 3-D", "(x^4 - 16x^2 + 5x + y^4 - 16y^2 + 5y + z^4 - 16z^2 + 5z)/2", None, 27, "3^n"),
    ("Zakharov 2-D", "x^2 + y^2 + (x/2 + y)^2 + (x/2 + y)^4", None, 1, "origin"),
    ("Zakharov 3-D", "x^2 + y^2 + z^2 + (x/2 + y + 3z/2)^2 + (x/2 + y + 3z/2)^4", None, 1, "origin"),
    ("Dixon-Price 2-D", "(x - 1)^2 + 2(2y^2 - x)^2", None, 3, "(1/3, 0), (1, +-1/sqrt(2)) by hand"),
    ("Trid 3-D", "(x-1)^2 + (y-1)^2 + (z-1)^2 - x*y - y*z", None, 1, "(3, 4, 3)"),
    ("Powell singular", "(x1 + 10x2)^2 + 5(x3 - x4)^2 + (x2 - 2x3)^4 + 10(x1 - x4)^4", None, 1, "origin"),
    ("Freudenstein-Roth", "(-13 + x + ((5 - y)y - 2)y)^2 + (-29 + x + ((y + 1)y - 14)y)^2", None, None, ""),
    ("cube", "100(y - x^3)^2 + (1 - x)^2", None, 1, "(1, 1)"),
    ("McCormick (box)", "sin(x + y) + (x - y)^2 - 1.5x + 2.5y + 1", {"x": (-1.5, 4), "y": (-3, 4)}, None, ""),
    ("Branin (box)", "(y - 5.1/(4pi^2)x^2 + 5x/pi - 6)^2 + 10(1 - 1/(8pi))cos(x) + 10",
     {"x": (-5, 10), "y": (0, 15)}, None, ""),
    ("Bohachevsky (box)", "x^2 + 2y^2 - 0.3cos(3pi*x) - 0.4cos(4pi*y) + 0.7",
     {"x": (-1, 1), "y": (-1, 1)}, None, ""),
    ("sin x + cos y (box)", "sin(x) + cos(y)", {"x": (-4, 4), "y": (-4, 4)}, 6, "x = +-pi/2, y in {-pi, 0, pi}"),
    ("sin x + x^2/10 (box)", "sin(x) + x^2/10", {"x": (-10, 10)}, None, ""),
    ("sin x cos y + r^2/20 (box)", "sin(x)*cos(y) + (x^2 + y^2)/20", {"x": (-4, 4), "y": (-4, 4)}, None, ""),
    ("x exp(-x^2-y^2)", "x*exp(-x^2 - y^2)", None, 2, "(+-1/sqrt(2), 0)"),
    ("exp(x) sin(y) + x^2 (box)", "exp(x)*sin(y) + x^2", {"x": (-3, 3), "y": (-4, 4)}, None, ""),
]


def _real_solutions(sols, xs, box) -> int:
    count = 0
    for s in sols:
        if set(s) != set(xs):
            continue  # a parametric (family) answer
        try:
            vals = [complex(sp.N(s[x], 20)) for x in xs]
        except (TypeError, ValueError):
            continue
        if all(abs(v.imag) < 1e-9 for v in vals) and (box is None or all(
                box[x.name][0] - 1e-9 <= v.real <= box[x.name][1] + 1e-9 for x, v in zip(xs, vals))):
            count += 1
    return count


def _sympy_solve(grad, xs):
    return sp.solve(grad, xs, dict=True)


def run_case(name, text, box, expected, source, budget):
    problem = sg.Problem(text)
    xs = problem.variables
    t0 = time.perf_counter()
    cps = critical_points(problem, box=box, timeout=budget)
    ours = time.perf_counter() - t0
    row = {"name": name, "expr": text, "box": box, "expected": expected, "source": source, "n": len(xs),
           "complete": cps.complete, "exact": cps.exact, "points": len(cps), "families": len(cps.families),
           "method": cps.method, "time": ours}
    t0 = time.perf_counter()
    try:
        sols = run_with_budget(_sympy_solve, list(problem.gradient), list(xs), seconds=budget)
        row["sympy"] = _real_solutions(sols, xs, box)
        row["sympy_note"] = "" if all(set(s) == set(xs) for s in sols) else "parametric"
    except BudgetError:
        row["sympy"], row["sympy_note"] = None, "timeout"
    except Exception as exc:  # noqa: BLE001 - record what sympy does
        row["sympy"], row["sympy_note"] = None, type(exc).__name__.replace("NotImplementedError", "NotImpl")
    row["sympy_time"] = time.perf_counter() - t0
    row["ok"] = row["complete"] and (expected is None or row["points"] == expected)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=5.0, help="seconds per step (symgd) and for sympy.solve")
    ap.add_argument("--only", default=None, help="run the cases whose name contains this text")
    args = ap.parse_args(argv)
    rows = []
    head = (f"{'case':28} {'n':>2} {'ok':>3} {'cmpl':>5} {'pts':>4} {'fam':>3} {'time':>7}   "
            f"{'sympy':>6} {'time':>7}  method")
    print(head)
    print("-" * len(head))
    for case in CASES:
        if args.only and args.only.lower() not in case[0].lower():
            continue
        r = run_case(*case, args.budget)
        rows.append(r)
        sym = str(r["sympy"]) if r["sympy"] is not None else r["sympy_note"]
        if r["sympy"] is not None and r["sympy_note"]:
            sym += "+p"
        print(f"{r['name'][:28]:28} {r['n']:>2} {'yes' if r['ok'] else 'NO':>3} {str(r['complete']):>5} "
              f"{r['points']:>4} {r['families']:>3} {r['time']:7.2f}   {sym:>6} {r['sympy_time']:7.2f}  "
              f"{r['method'][:60]}", flush=True)
    times = [r["time"] for r in rows]
    summary = {"cases": len(rows), "complete": sum(r["complete"] for r in rows), "ok": sum(r["ok"] for r in rows),
               "median_time": statistics.median(times) if times else None, "max_time": max(times, default=None),
               "over_5s": sum(t > 5 for t in times),
               "sympy_fewer_points_or_failed": sum(r["sympy"] is None or r["sympy"] < r["points"] for r in rows)}
    print("-" * len(head))
    print(json.dumps(summary))
    out = Path(__file__).parent / "results" / "critical.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": sys.version.split()[0], "sympy": sp.__version__, "machine": platform.machine(),
            "budget": args.budget, "symgd": sg.__version__}
    out.write_text(json.dumps({"meta": meta, "summary": summary, "rows": rows}, indent=1, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
