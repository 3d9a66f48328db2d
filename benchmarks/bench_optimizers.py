"""Point-steps per second of the batch runner against the lecture's per-start Python loop, in the same run.

A "point-step" is one update of one start. The baseline is what the slides do: a plain Python ``for``
loop over the starts, each running its own loop of updates with a hand-written per-start gradient
(NumPy on a length-2 array). symgd runs all starts at once: ``minimize(problem, method, X, steps)``
with X of shape (N, 2), ``tol=None`` so every start does every step. Kernels are compiled before
timing (the compile time is reported separately). Speed is reported only as ratios measured here,
on this machine, in this run: the baseline's rate does not depend on N, so it is measured on a
subset of the starts.

Usage: ``python benchmarks/bench_optimizers.py [--quick]``; prints a table and writes
``benchmarks/results/bench_optimizers.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import platform
import sys
import time

import numpy as np
import sympy as sp

import symgd as sg
from symgd.minimize import minimize

PROBLEMS = {
    "rosenbrock": (sg.Problem("(1 - x)^2 + 100*(y - x^2)^2"), {"gd": 1e-4, "adam": 1e-2}),
    "himmelblau": (sg.Problem("(x^2 + y - 11)^2 + (x + y^2 - 7)^2"), {"gd": 1e-3, "adam": 1e-2}),
}


def grad_rosenbrock(p):
    """The lecture's style: a hand-written gradient of one point."""
    a, b = p
    return np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])


def grad_himmelblau(p):
    a, b = p
    u, v = a * a + b - 11, a + b * b - 7
    return np.array([4 * a * u + 2 * v, 2 * u + 4 * b * v])


GRADS = {"rosenbrock": grad_rosenbrock, "himmelblau": grad_himmelblau}


def loop_gd(grad, starts, steps, lr):
    out = []
    for x0 in starts:  # one start at a time, as the slides
        p = x0.copy()
        for _ in range(steps):
            p = p - lr * grad(p)
        out.append(p)
    return np.array(out)


def loop_adam(grad, starts, steps, lr, b1=0.9, b2=0.999, eps=1e-8):
    out = []
    for x0 in starts:
        p, m, v = x0.copy(), np.zeros(2), np.zeros(2)
        for t in range(1, steps + 1):
            g = grad(p)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        out.append(p)
    return np.array(out)


LOOPS = {"gd": loop_gd, "adam": loop_adam}


def best_time(fn, repeat):
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def bench(sizes, repeat, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for pname, (problem, lrs) in PROBLEMS.items():
        t0 = time.perf_counter()
        problem.kernels  # compile once, outside the timings
        compile_s = time.perf_counter() - t0
        for method in ("gd", "adam"):
            lr = lrs[method]
            for N, steps in sizes:
                X = rng.uniform(-2, 2, size=(N, 2))
                sym_s, run = best_time(lambda: minimize(problem, method, X, steps, tol=None, lr=lr), repeat)
                n_loop = min(N, 200)  # the loop's rate does not depend on N
                loop_s, loop_x = best_time(lambda: LOOPS[method](GRADS[pname], X[:n_loop], steps, lr), repeat)
                agree = float(np.nanmax(np.abs(run.x[:n_loop] - loop_x) / (1 + np.abs(loop_x))))
                sym_rate, loop_rate = N * steps / sym_s, n_loop * steps / loop_s
                rows.append({"problem": pname, "method": method, "lr": lr, "N": N, "steps": steps,
                             "symgd_s": sym_s, "symgd_point_steps_per_s": sym_rate,
                             "loop_starts_timed": n_loop, "loop_s": loop_s, "loop_point_steps_per_s": loop_rate,
                             "speedup": sym_rate / loop_rate, "max_rel_diff_vs_loop": agree,
                             "compile_s": compile_s})
                print(f"{pname:11s} {method:5s} N={N:>8d} steps={steps:>4d}  symgd {sym_rate:10.3g} pt-steps/s  "
                      f"loop {loop_rate:10.3g}  x{sym_rate / loop_rate:8.1f}  (agree {agree:.1e})", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat (a smoke run)")
    args = ap.parse_args(argv)
    sizes = [(1, 200), (10**4, 50), (10**6, 5)] if args.quick else [(1, 2000), (10**4, 200), (10**6, 20)]
    rows = bench(sizes, repeat=1 if args.quick else 3)
    target = [r["speedup"] for r in rows if r["N"] == 10**4]
    print(f"\nN = 1e4: speed-up over the per-start loop {min(target):.0f}x to {max(target):.0f}x (target >= 50x)")
    out = pathlib.Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    doc = {"benchmark": "bench_optimizers", "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "python": sys.version.split()[0], "numpy": np.__version__, "sympy": sp.__version__,
           "machine": platform.machine(), "processor": platform.processor(), "cpus": os.cpu_count(),
           "quick": args.quick, "rows": rows}
    (out / "bench_optimizers.json").write_text(json.dumps(doc, indent=1))
    print(f"wrote {out / 'bench_optimizers.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
