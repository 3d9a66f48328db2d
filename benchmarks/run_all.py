"""Run every benchmark script in this folder, one after the other (``make bench``).

Each script prints its own table and writes JSON to ``benchmarks/results/``. Extra arguments
(for example ``--quick``) are passed to the scripts that accept them.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).parent


def main(argv: list[str]) -> int:
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} {' '.join(argv)}", flush=True)
        takes = [a for a in argv if a in script.read_text()]
        if subprocess.run([sys.executable, str(script), *takes]).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
