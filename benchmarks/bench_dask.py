"""Many starts on a Dask cluster: point-steps per second of ``minimize(..., client=...)`` with 1 and 2 workers.

Adam on Rosenbrock 2-D, N starts x S steps (``tol=None``: every start does every step), run three ways in
the same process and the same run: the local runner (``minimize`` without a client, its default threads),
and a ``LocalCluster`` of 1 and of 2 worker processes with one thread each (``minimize(..., client=)``).
The backend is the one ``backend="auto"`` picks for the whole batch (``--backend`` overrides it); kernels
are compiled on every worker by a warm-up run before timing, and the cluster's start-up time is reported
apart. Times are medians of ``--repeat`` runs (the machine is shared and noisy). The distributed results
are checked equal to the local ones (bit for bit). The "scaling" is rate(2 workers) / rate(1 worker):
2.0 is perfect on two cores.

Usage: ``python benchmarks/bench_dask.py [--quick] [--n N] [--steps S] [--repeat R] [--backend B]``;
prints a table and writes ``benchmarks/results/bench_dask.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import platform
import statistics
import sys
import time

import numpy as np

import symgd as sg
from symgd.minimize import minimize

PROBLEM = "(1 - x)^2 + 100*(y - x^2)^2"
FIELDS = ("_x", "_fun", "_nit", "_code", "_diverged_at")


def timed(fn, repeat):
    """Median wall time of ``repeat`` calls, and the last result."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def same(a, b) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k), equal_nan=True) for k in FIELDS)


def bench(N, steps, repeat, backend, lr=1e-2, seed=0):
    from distributed import Client, LocalCluster

    problem = sg.Problem(PROBLEM)
    X = np.random.default_rng(seed).uniform(-2.0, 2.0, size=(N, 2))
    run = lambda **kw: minimize(problem, "adam", X, steps, tol=None, lr=lr, backend=backend, **kw)  # noqa: E731
    minimize(problem, "adam", X[:64], 2, tol=None, lr=lr, backend=backend)  # compile NumPy kernels
    local_s, local = timed(run, repeat)
    rows = [{"setup": "local", "workers": 0, "seconds": local_s, "point_steps_per_s": N * steps / local_s,
             "backend": local.backend, "backend_reason": local.backend_reason, "equal_to_local": True}]
    print(f"  local      {N * steps / local_s:10.3g} point-steps/s  ({local_s:.2f} s; {local.backend_reason})",
          flush=True)
    for workers in (1, 2):
        t0 = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
            start_s = time.perf_counter() - t0
            warm = time.perf_counter()  # every worker compiles the backend the big run uses
            minimize(problem, "adam", X[:64 * workers], 2, tol=None, lr=lr, backend=local.backend, client=client)
            warm_s = time.perf_counter() - warm
            secs, dist = timed(lambda: run(client=client), repeat)
        ok = same(dist, local) and dist.backend == local.backend
        rows.append({"setup": f"dask {workers} worker{'s' * (workers > 1)}", "workers": workers, "seconds": secs,
                     "point_steps_per_s": N * steps / secs, "cluster_start_s": start_s, "warmup_s": warm_s,
                     "backend": dist.backend, "backend_reason": dist.backend_reason, "equal_to_local": ok})
        print(f"  dask x{workers}    {N * steps / secs:10.3g} point-steps/s  ({secs:.2f} s; cluster start "
              f"{start_s:.1f} s, warm-up {warm_s:.1f} s; equal to local: {ok}; {dist.backend_reason})", flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1e5 starts x 50 steps, one repeat (a smoke run)")
    ap.add_argument("--n", type=int, default=None, help="number of starts (default 1e6; --quick 1e5)")
    ap.add_argument("--steps", type=int, default=None, help="steps per start (default 200; --quick 50)")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per setup, median (default 3)")
    ap.add_argument("--backend", default="auto", help="the runner's backend (default auto)")
    args = ap.parse_args(argv)
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("bench_dask: dask.distributed is not installed (pip install symgd[dask]); skipped")
        return 0
    N = args.n or (10**5 if args.quick else 10**6)
    steps = args.steps or (50 if args.quick else 200)
    repeat = args.repeat or (1 if args.quick else 3)
    print(f"Adam on Rosenbrock 2-D, {N} starts x {steps} steps, median of {repeat}", flush=True)
    rows = bench(N, steps, repeat, args.backend)
    rate = {r["workers"]: r["point_steps_per_s"] for r in rows}
    scaling = rate[2] / rate[1]
    print(f"\nscaling 1 -> 2 workers: x{scaling:.2f} (2.0 is perfect); 2 workers / local: x{rate[2] / rate[0]:.2f}")
    out = pathlib.Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    doc = {"benchmark": "bench_dask", "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
           "python": sys.version.split()[0], "numpy": np.__version__, "dask": distributed.__version__,
           "machine": platform.machine(), "cpus": os.cpu_count(), "load_average": os.getloadavg(),
           "problem": PROBLEM, "method": "adam", "N": N, "steps": steps, "repeat": repeat, "quick": args.quick,
           "scaling_1_to_2_workers": scaling, "rows": rows}
    (out / "bench_dask.json").write_text(json.dumps(doc, indent=1))
    print(f"wrote {out / 'bench_dask.json'}")
    return 0 if all(r["equal_to_local"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
