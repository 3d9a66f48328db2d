"""Compiled backends for the runner: one generated scalar kernel per (problem, optimizer).

Placeholder until the generator lands: every run stays on NumPy and says so.
"""

from __future__ import annotations

from symgd.errors import InputError

BACKENDS = ("auto", "numpy", "python", "numba")
DTYPES = ("float64", "float32")


def choose(problem, opt, B: int, steps: int, *, backend: str = "auto", dtype: str = "float64", path: bool = False,
           callback=None, noise=None) -> tuple[str, str]:
    """``(backend, reason)``: which backend runs this job and why."""
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if dtype not in DTYPES:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if backend not in ("auto", "numpy") or dtype != "float64":
        raise InputError(f"the {backend} backend is not built yet")
    return "numpy", "the reference backend"


def run(backend, problem, opt, X, steps, tol, diverge_at, dtype):
    """Run the compiled kernel: ``(x, f, nit, code, diverged_at, reason)`` in batch form."""
    raise InputError(f"the {backend} backend is not built yet")
