"""Seconds to derive and compile: gradient, Hessian and NumPy kernels of the n-variable chained Rosenbrock function.

    f(x) = sum_{i=1}^{n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2

For each n: symgd (``Problem.gradient``, ``Problem.hessian``, then ``Problem.kernels`` with all three
kernels compiled: ``f`` is compiled on its first call, so "compile" includes one call of ``f`` and
``hess``), against the peer measured in the same run, the plain SymPy way that symgd used until
session 2: ``sp.diff(f, x_i)`` per variable, ``sp.diff(g_i, x_j)`` for j >= i, and four
``lambdify(..., cse=True, dummify=True)`` calls (f, f and gradient, gradient, Hessian). SymPy's global
cache is cleared before every measurement (a repeat would otherwise find the expressions already
built). Both must agree: the gradients and Hessians are compared as SymPy expressions, the kernels'
values at a random point to 1e-12 relative.

Times are medians of 3 runs where one run takes under 3 s, else one run. Targets (issue 7):
n = 50 under 1 s, n = 200 under 10 s in total.

Usage: ``python benchmarks/bench_symbolic.py [--quick] [--sizes 2,10,50] [--no-peer]``; prints a table
and writes ``benchmarks/results/bench_symbolic.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import time

import numpy as np
import sympy as sp
from sympy.core.cache import clear_cache

import symgd as sg

SIZES = (2, 10, 50, 100, 200)
CHEAP_S = 3.0  # repeat a measurement 3 times when one run takes less than this
TARGETS = {50: 1.0, 200: 10.0}


def rosenbrock(n: int):
    """The chained Rosenbrock function of ``n`` real variables ``x1..xn``: ``(expr, variables)``."""
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    return sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1)), xs


def run_symgd(expr, xs, x0):
    """symgd: (seconds for gradient, Hessian, compile; gradient, Hessian, kernel values at x0)."""
    t0 = time.perf_counter()
    p = sg.Problem(expr, variables=xs)
    g = p.gradient
    t1 = time.perf_counter()
    H = p.hessian
    t2 = time.perf_counter()
    k = p.kernels
    values = (k.f(x0), k.f_and_grad(x0)[1], k.hess(x0))  # f compiles on its first call
    t3 = time.perf_counter()
    return (t1 - t0, t2 - t1, t3 - t2), g, H, values


def run_peer(expr, xs, x0):
    """The plain SymPy way (symgd session 1): the same outputs, timed the same way."""
    n = len(xs)
    t0 = time.perf_counter()
    g = sp.Matrix([sp.diff(expr, v) for v in xs])
    t1 = time.perf_counter()
    H = sp.zeros(n, n)
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = sp.diff(g[i], xs[j])
    t2 = time.perf_counter()
    fns = [sp.lambdify(xs, e, modules="numpy", cse=True, dummify=True)
           for e in ([expr], [expr, *g], list(g), list(H))]
    cols = list(x0)
    values = (fns[0](*cols)[0], np.array(fns[1](*cols)[1:], dtype=float),
              np.array(fns[3](*cols), dtype=float).reshape(n, n))
    t3 = time.perf_counter()
    return (t1 - t0, t2 - t1, t3 - t2), g, H, values


def measure(runner, n: int, x0):
    """Median seconds (gradient, Hessian, compile, total) over 1 or 3 runs, and the last run's outputs."""
    times, out = [], None
    while True:
        clear_cache()
        expr, xs = rosenbrock(n)
        parts, *out = runner(expr, xs, x0)
        times.append((*parts, sum(parts)))
        if len(times) == 3 or times[0][3] >= CHEAP_S:
            break
    return [statistics.median(t[k] for t in times) for k in range(4)], len(times), out


def agreement(mine, peer) -> tuple[bool, float]:
    """Exact equality of gradient and Hessian (as expressions); max relative difference of the kernel values."""
    (g, H, vals), (g2, H2, vals2) = mine, peer
    same = g == g2 and H == H2
    rel = max(float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float)) / (1 + np.abs(np.asarray(b, float)))))
              for a, b in zip(vals, vals2))
    return same, rel


def bench(sizes, peer: bool) -> list[dict]:
    rows, rng = [], np.random.default_rng(7)
    print(f"{'n':>4s} | {'symgd: grad':>11s} {'hess':>7s} {'compile':>7s} {'total':>7s} (runs) | "
          f"{'peer: grad':>10s} {'hess':>7s} {'compile':>7s} {'total':>7s} (runs) | speed-up  same  max rel diff")
    for n in sizes:
        x0 = rng.uniform(-2, 2, n)
        (g_s, h_s, c_s, t_s), runs, mine = measure(run_symgd, n, x0)
        row = {"n": n, "symgd": {"grad_s": g_s, "hess_s": h_s, "compile_s": c_s, "total_s": t_s, "runs": runs}}
        line = f"{n:4d} | {g_s:11.3f} {h_s:7.3f} {c_s:7.3f} {t_s:7.3f} ({runs})    |"
        if peer:
            (g_p, h_p, c_p, t_p), runs_p, theirs = measure(run_peer, n, x0)
            same, rel = agreement(mine, theirs)
            row["peer"] = {"grad_s": g_p, "hess_s": h_p, "compile_s": c_p, "total_s": t_p, "runs": runs_p}
            row.update(speedup=t_p / t_s, same_expressions=same, max_rel_diff=rel)
            line += (f" {g_p:10.3f} {h_p:7.3f} {c_p:7.3f} {t_p:7.3f} ({runs_p})    | {t_p / t_s:7.1f}x  "
                     f"{'yes' if same else 'NO':>4s}  {rel:.1e}")
        rows.append(row)
        print(line, flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="n = 2, 10, 50 only (a smoke run)")
    ap.add_argument("--sizes", help="comma-separated n (default 2,10,50,100,200)")
    ap.add_argument("--no-peer", action="store_true", help="skip the plain-SymPy peer (25 s at n = 200)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [s for s in SIZES if not args.quick or s <= 50]
    rows = bench(sizes, peer=not args.no_peer)
    for r in rows:
        if r["n"] in TARGETS:
            ok = r["symgd"]["total_s"] < TARGETS[r["n"]]
            print(f"n = {r['n']}: total {r['symgd']['total_s']:.2f} s (target < {TARGETS[r['n']]:g} s): "
                  f"{'met' if ok else 'MISSED'}")
    bad = [r["n"] for r in rows if "peer" in r and not (r["same_expressions"] and r["max_rel_diff"] <= 1e-12)]
    if bad:
        print(f"symgd and the peer disagree at n = {bad}", file=sys.stderr)
    out = pathlib.Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    doc = {"benchmark": "bench_symbolic", "function": "chained Rosenbrock", "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "python": sys.version.split()[0], "numpy": np.__version__, "sympy": sp.__version__,
           "machine": platform.machine(), "processor": platform.processor(), "cpus": os.cpu_count(),
           "load_average": os.getloadavg(), "quick": args.quick, "targets_total_s": TARGETS, "rows": rows}
    (out / "bench_symbolic.json").write_text(json.dumps(doc, indent=1))
    print(f"wrote {out / 'bench_symbolic.json'}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
