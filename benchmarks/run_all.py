"""Run the benchmarks, one section after the other (``make bench``; see ``benchmarks/README.md``).

Every ``bench_*.py`` in this folder is a section named by its file (``bench_peers.py`` is ``peers``); each
prints its own tables and writes JSON to ``benchmarks/results/``. This script prints a summary of the
sections (seconds, exit status) and writes ``benchmarks/results/run_all.json``.

Usage: ``python benchmarks/run_all.py [--quick] [--only peers,dask] [--list] [ARGS...]``

- ``--quick``: a smoke run of about a minute: each section in its short mode (``--quick``, or the
  arguments in ``QUICK`` for a script without one);
- ``--only``: the sections to run, comma-separated (default: all);
- any other argument is passed to every section run, e.g. ``--only peers --threads 2``.

A section whose script is not there (yet) is skipped with a note; a section that fails does not stop
the others, and the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ORDER = ("peers", "optimizers", "symbolic", "critical", "mlp", "dask")  # known sections first, others after
QUICK = {"critical": ["--only", "slide"]}  # the short mode of a script that has no --quick


def sections() -> dict[str, pathlib.Path]:
    """Section name -> script, in ``ORDER`` and then by name."""
    found = {p.stem.removeprefix("bench_"): p for p in HERE.glob("bench_*.py")}
    rank = {name: i for i, name in enumerate(ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(ORDER)), kv[0])))


def quick_args(name: str, script: pathlib.Path) -> list[str]:
    if name in QUICK:
        return QUICK[name]
    return ["--quick"] if "--quick" in script.read_text() else []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="every section in its short mode (about a minute)")
    ap.add_argument("--only", default=None, help="comma-separated sections (default: all)")
    ap.add_argument("--list", action="store_true", help="list the sections and exit")
    args, extra = ap.parse_known_args(argv)
    available = sections()
    if args.list:
        for name, script in available.items():
            print(f"{name:12s} {script.name}  (quick: {' '.join(quick_args(name, script)) or 'as is'})")
        return 0
    wanted = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else list(available)
    runs, t_all = [], time.perf_counter()
    for name in wanted:
        script = available.get(name)
        if script is None:
            print(f"\n=== {name}: benchmarks/bench_{name}.py is not there; skipped "
                  f"(sections: {', '.join(available)})", flush=True)
            runs.append({"section": name, "script": None, "status": "missing"})
            continue
        cmd = [sys.executable, str(script), *(quick_args(name, script) if args.quick else []), *extra]
        print(f"\n=== {name}: {script.name} {' '.join(cmd[2:])}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.run(cmd).returncode
        runs.append({"section": name, "script": script.name, "args": cmd[2:], "returncode": code,
                     "seconds": round(time.perf_counter() - t0, 1), "status": "ok" if code == 0 else "FAILED"})
    print(f"\n=== summary ({'quick' if args.quick else 'full'} run, {time.perf_counter() - t_all:.0f} s)")
    for r in runs:
        took = f"{r['seconds']:7.1f} s" if "seconds" in r else " " * 9
        code = f" (exit {r['returncode']})" if r.get("returncode") else ""
        print(f"  {r['section']:12s}{took}  {r['status']}{code}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    doc = {"benchmark": "run_all", "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "quick": args.quick,
           "python": sys.executable, "extra_args": extra, "sections": runs}
    (out / "run_all.json").write_text(json.dumps(doc, indent=1))
    failed = [r["section"] for r in runs if r["status"] == "FAILED"]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
