"""Benchmark: how long symgd takes to refuse each hostile input (issue 8: "in well under a second").

For every case of ``tests/hostile_inputs.py``'s ``CORPUS`` (all refused), the time of ``symgd.parse.parse``
(the API) and of ``symgd.cli.main(["analyze", TEXT, "--json"])`` (the command line, in process), each with
SymPy's cache cleared first, as in a fresh ``symgd`` process; and, for the accepted look-alike names
(``LAMBDIFY_NAMES``, ``TEX_NAMES``), the time to parse them. Each case runs in a worker that is killed at
the budget (``symgd.budget.run_with_budget``), so a hang shows up as a row over budget instead of a stall;
the fork is outside the timed region.

Run: ``.venv/bin/python benchmarks/bench_hostile.py [--quick] [--budget 10] [--check]``. Prints the
distribution (median, p99, max) per route and per category, and the slowest cases; writes
``benchmarks/results/hostile.json``. Target: max well under 1 s (``--check`` exits 1 if any case takes 1 s
or more). The machine's load matters: the numbers are wall-clock on whatever else is running.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import sympy as sp
from sympy.core.cache import clear_cache

import symgd as sg
from symgd.budget import run_with_budget
from symgd.cli import main as cli_main
from symgd.errors import BudgetError, ParseError
from symgd.parse import parse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from hostile_inputs import CORPUS, LAMBDIFY_NAMES, TEX_NAMES  # noqa: E402

TARGET = 1.0  # seconds per case: the "well under a second"


def api_case(text: str) -> tuple[float, str]:
    """Seconds to parse ``text`` from a cold SymPy cache, and how it ended (refused/parsed)."""
    clear_cache()
    t0 = time.perf_counter()
    try:
        parse(text)
        outcome = "parsed"
    except ParseError:
        outcome = "refused"
    return time.perf_counter() - t0, outcome


def cli_case(text: str) -> tuple[float, str]:
    """Seconds for ``symgd analyze TEXT --json`` in process from a cold SymPy cache, and its exit code."""
    clear_cache()
    out, err = io.StringIO(), io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["analyze", text, "--json"])
    return time.perf_counter() - t0, f"exit {code}"


def timed(fn, text: str, budget: float) -> tuple[float, str]:
    try:
        return run_with_budget(fn, text, seconds=budget)
    except BudgetError:
        return budget, "over budget"


def distribution(times: list[float]) -> dict:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else None
    return {"n": len(ordered), "median": statistics.median(ordered) if ordered else None, "p99": p99,
            "max": ordered[-1] if ordered else None, "over_target": sum(t >= TARGET for t in ordered)}


def show(label: str, d: dict) -> None:
    print(f"{label:24} n={d['n']:4}  median {d['median'] * 1e3:7.1f} ms  p99 {d['p99'] * 1e3:7.1f} ms  "
          f"max {d['max'] * 1e3:7.1f} ms  >= {TARGET:g} s: {d['over_target']}")


def short(text: str) -> str:
    return repr(text[:48] + ("..." if len(text) > 48 else "")) + (f" ({len(text)} chars)" if len(text) > 48 else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="every fourth case only")
    ap.add_argument("--budget", type=float, default=10.0, help="seconds before a case counts as hung")
    ap.add_argument("--check", action="store_true", help=f"exit 1 if any case takes {TARGET:g} s or more")
    args, _ = ap.parse_known_args(argv)  # run_all.py may pass other sections' options
    cases = CORPUS[::4] if args.quick else CORPUS
    rows = []
    for category, text in cases:
        api_t, api_out = timed(api_case, text, args.budget)
        cli_t, cli_out = timed(cli_case, text, args.budget)
        rows.append({"category": category, "text": short(text), "chars": len(text), "api": api_t,
                     "api_outcome": api_out, "cli": cli_t, "cli_outcome": cli_out})
    names = [{"name": n, "api": timed(api_case, n, args.budget)[0]} for n in sorted(set(LAMBDIFY_NAMES + TEX_NAMES))]
    summary = {"api": distribution([r["api"] for r in rows]), "cli": distribution([r["cli"] for r in rows]),
               "accepted_names_api": distribution([r["api"] for r in names]),
               "not_refused": [r["text"] for r in rows
                               if r["api_outcome"] != "refused" or r["cli_outcome"] != "exit 2"]}
    show("parse (API)", summary["api"])
    show("symgd analyze (CLI)", summary["cli"])
    show("accepted names (API)", summary["accepted_names_api"])
    print("\nslowest per category (CLI):")
    by_cat: dict[str, list] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(r)
    for cat, rs in by_cat.items():
        worst = max(rs, key=lambda r: r["cli"])
        print(f"  {cat:13} {len(rs):4} cases  max {worst['cli'] * 1e3:7.1f} ms  {worst['text']}")
    print("\nthe 10 slowest cases (CLI):")
    for r in sorted(rows, key=lambda r: -r["cli"])[:10]:
        print(f"  {r['cli'] * 1e3:7.1f} ms (API {r['api'] * 1e3:6.1f} ms)  {r['category']:13} {r['text']}")
    if summary["not_refused"]:
        print(f"\nNOT REFUSED: {summary['not_refused']}")
    out = Path(__file__).parent / "results" / "hostile.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": sys.version.split()[0], "sympy": sp.__version__, "machine": platform.machine(),
            "symgd": sg.__version__, "budget": args.budget, "quick": args.quick, "target_s": TARGET}
    out.write_text(json.dumps({"meta": meta, "summary": summary, "rows": rows, "names": names}, indent=1))
    print(f"wrote {out}")
    worst = max(summary["api"]["max"], summary["cli"]["max"])
    return 1 if summary["not_refused"] or (args.check and worst >= TARGET) else 0


if __name__ == "__main__":
    raise SystemExit(main())
