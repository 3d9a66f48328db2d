r"""Compiled backends for the runner: one generated scalar kernel fuses ∇f and the optimizer's update.

The NumPy loop (``symgd.minimize``) makes one array call per operation per step over all starts.
Here the SymPy gradient is printed as straight-line scalar code (``_printer``), joined with the
optimizer's scalar update (``Optimizer.fused``, or Newton's form) into one kernel (``_generate``) that
runs every start for all its steps in place, with no temporaries. The same source runs in two ways:

- ``"python"``: ``exec`` by CPython. No compile time: the fastest way to run a handful of starts
  (100 Adam steps from one start take about 0.3 ms once the code is printed, ~15 ms).
- ``"numba"``: compiled by ``numba.njit(nogil=True, error_model="numpy", fastmath=False)``; the loop
  over a tile of starts vectorizes (n <= 2: "tiles"; more: "grid"; Newton: "rows", see ``_generate``);
  tiles are split between threads.
  Compiling takes one to a few seconds, so it pays for large runs; compiled kernels are cached in this
  process (another ``lr`` is the same kernel: hyperparameters travel in ``coef``) and on disk
  (``$SYMGD_CACHE_DIR``, default ``~/.cache/symgd``).

A run of any length is a sequence of kernel calls, each over a chunk of steps (1,024, then twice as many
per call up to ``_run.CHUNK`` = 65,536) with that chunk's coefficient rows; every start's state carries
over from one call to the next, so the result is the one-call result bit for bit. No call is made once
every start has finished, and ``path`` rows are made per call: a run of 10**6 steps whose starts converge
at step 10 makes 1,025 rows. (Measured: Adam 2-D, 1e4 starts, one thread, 2**17 steps: calls of 2**16
steps run as fast as one call, within noise; calls of 2**8 steps cost 2.5 %, about 0.2 ms a call.)

Results equal the NumPy backend's to about 1e-12 relative (the same operations in the same order;
libm and NumPy's SIMD functions may differ in the last bit, and Newton's solve is Gaussian elimination
and Jacobi rotations instead of LAPACK), with the same statuses, steps and divergence reasons.
``choose`` picks the backend for ``backend="auto"`` and says why.

Measured on the 2-core reference machine, quiet, point-steps per second, Rosenbrock 2-D (numba: two threads;
calls of at most 512 steps, so N = 1 includes a call's overhead of about 50 µs; ``benchmarks/README.md`` has
every cell against the lecture loop, PyTorch and JAX + optax):

======  =======  ======  ======  =======  ============
method  N        numpy   python  numba    numba f32
======  =======  ======  ======  =======  ============
Adam    1        3.7e4   4.9e5   7.0e6    6.6e6
Adam    1e4      4.3e7   8.5e5   5.9e8    1.3e9
Adam    1e6      4.2e7   --      6.4e8    1.4e9
GD      1        4.8e4   8.3e5   8.7e6    8.3e6
GD      1e4      8.5e7   1.6e6   1.3e9    2.2e9
GD      1e6      7.9e7   --      1.4e9    2.5e9
======  =======  ======  ======  =======  ============

float32 kernels flush subnormal numbers to zero while they run, float64 ones only with ``flush=True``
(``_fpu``): runs whose starts sit exactly at a minimum for thousands of steps otherwise slow down up to
20x as their optimizer state decays through the subnormal range.

One thread runs Adam at 3.2-3.6e8: about 90 % of a hand-written kernel without the runner's tests (4.0e8,
bound by each coordinate's square root and division). Loading a kernel: compiling 0.8 s (GD) to 2.1 s (Newton)
for 2-D, 4 s for 50-D Rosenbrock, 14 s for 200-D; from numba's disk cache 0.01-0.2 s; from this
process's cache nothing.

>>> from symgd import Problem
>>> p = Problem("(x - 1)^2 + 10*(y - x^2)^2")
>>> choose(p, "adam", 1, 100)
('python', 'python: 1 start x 100 steps (no compile time)')
>>> choose(p, get("lookahead", inner="swats"), 1, 100)
('numpy', 'numpy: lookahead has no scalar form')
"""

from __future__ import annotations

import functools
import importlib.util
import math
import sys

import numpy as np

from symgd.errors import InputError, Unprintable
from symgd.fused import _backends, _run
from symgd.fused._backends import STATS, cache_dir, form, load, make_spec
from symgd.fused._run import default_threads
from symgd.optimizers import get
from symgd.problem import Problem

__all__ = ["BACKENDS", "DTYPES", "STATS", "cache_dir", "choose", "default_threads", "flushes", "kernel_source",
           "run"]

BACKENDS = ("auto", "numpy", "python", "numba")
DTYPES = ("float64", "float32")

# The cost model of "auto", in seconds, fitted to one-thread measurements (Adam and GD on Rosenbrock 2-D,
# N = 1 .. 1e6). Per update, NumPy pays NP_STEP plus NP_POINT per start; CPython pays PY_STEP (the host's
# coefficients) plus PY_POINT per start; numba pays the host's COEF_STEP (however long the run: its rows are made
# chunk by chunk) plus NB_POINT per start and thread, after loading the kernel: NB_CALL when this process has it,
# NB_DISK from numba's disk cache (plus NB_IMPORT the first time numba is imported), or a compile of
# NB_COMPILE + NB_COMPILE_PER * (source lines / 100) ** 1.6 seconds (2 s for 2-D, 4 s for 50-D, 14-18 s for 200-D).
# Per-start costs scale with the kernel's size relative to the reference (``_weight``: WEIGHT_REF operations).
NP_STEP, NP_POINT = 45e-6, 1.7e-8
PY_STEP, PY_POINT = 2e-6, 8.5e-7
COEF_STEP, NB_POINT, NB_CALL, NB_DISK, NB_IMPORT = 1e-6, 5e-9, 50e-6, 0.15, 0.5
NB_COMPILE, NB_COMPILE_PER = 1.5, 0.35
WEIGHT_REF = 30
PYTHON_MAX_STARTS = 8  # "python" only for a handful of starts (one per REPL call, a few to compare)
COMPILE_MARGIN = 2.0  # a cold compile must promise twice the speed: its cost varies with the machine's load
MIN_NUMPY_SECONDS = 0.1  # NumPy runs shorter than this (by the model, at weight 1) do not even print the gradient


@functools.cache
def numba_installed() -> bool:
    """True if numba can be imported (``pip install symgd[fast]``)."""
    return importlib.util.find_spec("numba") is not None


def _obstacle(problem, opt, callback, noise) -> str | None:
    """Why no compiled backend can run this job (None: both can)."""
    if callback is not None:
        return "a callback runs only in the NumPy loop"
    if noise is not None:
        return "gradient noise runs only in the NumPy loop"
    cls = type(problem)
    if cls.kernels is not Problem.kernels or cls.gradient is not Problem.gradient:
        return f"{cls.__name__} evaluates f from data, not from its expression"
    if form(opt) is None:
        return f"{opt.name} has no scalar form"
    try:
        make_spec(problem, opt, "python", "float64", False)
    except Unprintable as e:
        return str(e)
    return None


def _weight(spec) -> float:
    """The kernel's size relative to the reference (printed statements and operations per start-step)."""
    hit = _WEIGHTS.get(spec)
    if hit is None:
        hit = _backends._remember(_WEIGHTS, spec, _count(spec))
    return hit


_WEIGHTS: dict = {}


def _count(spec) -> float:
    text = "\n".join(spec.parts.fg) + "\n".join(spec.parts.h or ())
    ops = sum(text.count(c) for c in "+-*/(") + 4 * spec.parts.n * (1 + spec.n_state)
    return max(ops, 1) / WEIGHT_REF


def _numba_time(p, opt, dtype: str, work: float, rival: float) -> tuple[float, str]:
    """Estimated seconds for numba (load + run) and how it would load; inf when it cannot beat ``rival``.

    Checks from cheap to dear: a kernel compiled in this process; then, only if even a disk load could
    win, numba's disk cache (which imports numba); else a compile.
    """
    if work + NB_CALL >= rival:
        return math.inf, "too short to gain"
    spec, update = make_spec(p, opt, "numba", dtype, False)
    if (spec, update) in _backends._BY_SPEC:
        return work + NB_CALL, "compiled in this process"
    base = work + (0.0 if "numba" in sys.modules else NB_IMPORT)
    if base + NB_DISK >= rival:
        return math.inf, "too short to repay loading it"
    src = _backends.source(spec)
    if _backends.kernel_key(spec, src, update) in _backends._KERNELS:
        return work + NB_CALL, "compiled in this process"
    if _backends.on_disk(src, update, spec.point, spec.finish):
        return base + NB_DISK, "from the disk cache"
    compile_s = NB_COMPILE + NB_COMPILE_PER * (src.count("\n") / 100) ** 1.6
    return base + compile_s * COMPILE_MARGIN, "compiling once"


def _plural(k: int, word: str) -> str:
    return f"{k} {word}{'s' * (k != 1)}"


def choose(problem, opt, B: int, steps: int, *, backend: str = "auto", dtype: str = "float64", path: bool = False,
           callback=None, noise=None) -> tuple[str, str]:
    """``(backend, reason)``: which backend runs this job and why (a sentence for ``Run.backend_reason``).

    An explicit "numpy" always runs (float64 only); an explicit "python" or "numba" that cannot run this
    job raises ``InputError`` saying why; "auto" picks the fastest by a cost model measured on the
    reference machine: python for a handful of starts, numba when the run is long enough to repay
    loading the kernel (much shorter once it is compiled in this process or on disk), else numpy.
    """
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if dtype not in DTYPES:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    p = problem if isinstance(problem, Problem) else Problem(problem)
    opt = get(opt)
    size = f"{_plural(B, 'start')} x {_plural(steps, 'step')}"
    if backend == "numpy":
        if dtype != "float64":
            raise InputError("dtype='float32' runs only on the numba backend (backend='numba' or 'auto')")
        return "numpy", "numpy: asked for"
    compiled_ok = backend != "auto" or _worth_a_look(p, opt, B, steps, dtype)
    why = _obstacle(p, opt, callback, noise) if compiled_ok else None
    if backend in ("python", "numba"):
        if why:
            raise InputError(f"backend={backend!r} cannot run this: {why} (backend='numpy' can)")
        if backend == "numba" and not numba_installed():
            raise InputError("backend='numba' needs numba: pip install symgd[fast]")
        if backend == "python" and dtype != "float64":
            raise InputError("dtype='float32' runs only on the numba backend")
        return backend, f"{backend}: asked for ({size})"
    if why:
        if dtype == "float32":
            raise InputError(f"dtype='float32' needs the numba backend, which cannot run this: {why}")
        return "numpy", f"numpy: {why}"
    return _auto(p, opt, B, steps, dtype, size, compiled_ok)


def _worth_a_look(p, opt, B: int, steps: int, dtype: str) -> bool:
    """Could a compiled backend win? (Printing the gradient takes milliseconds: a NumPy run shorter than
    MIN_NUMPY_SECONDS goes straight to NumPy, unless this process has a numba kernel for the job.)"""
    if dtype == "float32" or B <= PYTHON_MAX_STARTS or steps * (NP_STEP + B * NP_POINT) >= MIN_NUMPY_SECONDS:
        return True
    return form(opt) is not None and _backends.warm_key(p, opt, dtype) in _backends.WARM


def _auto(p, opt, B, steps, dtype, size, compiled_ok) -> tuple[str, str]:
    if dtype == "float32":
        if not numba_installed():
            raise InputError("dtype='float32' needs numba: pip install symgd[fast]")
        return "numba", f"numba: float32 ({size})"
    if not compiled_ok:
        return "numpy", f"numpy: {size} (too small for a compiled kernel to repay loading, too many for python)"
    w = _weight(make_spec(p, opt, "python", "float64", False)[0])
    t_np = steps * (NP_STEP + B * NP_POINT * w)
    t_py = steps * (PY_STEP + B * PY_POINT * w) if B <= PYTHON_MAX_STARTS else math.inf
    t_nb, how = math.inf, "numba is not installed"
    if numba_installed():
        threads = max(1, min(default_threads(), -(-B // 64)))
        work = steps * (COEF_STEP + B * NB_POINT * w / threads)
        t_nb, how = _numba_time(p, opt, dtype, work, min(t_np, t_py))
    if t_nb < min(t_np, t_py):
        return "numba", f"numba: {size} ({how})"
    if t_py < t_np:
        return "python", f"python: {size} (no compile time)"
    why = "compiling would not pay" if numba_installed() else how
    return "numpy", f"numpy: {size} ({why})"


def run(backend: str, problem, opt, X, steps: int, tol, diverge_at: float, dtype: str = "float64",
        path: bool = False, threads: int | None = None, flush: bool | None = None):
    """Run the generated kernel: ``(x, f, nit, code, diverged_at, path, losses, reason)`` in batch form.

    ``X`` is the ``(B, n)`` float64 batch of starts; ``tol`` None never converges, 0 needs every
    gradient entry exactly 0; ``path`` records iterates and f (``(T+1, B, n)`` and ``(T+1, B)`` with T
    the largest ``nit``, finished starts repeating their last point) as the NumPy loop does. ``code``
    is 0 max_steps, 1 converged, 2 diverged; ``reason`` indexes ``symgd.minimize.results.REASONS``.
    ``threads`` (numba): None for ``default_threads()``. ``flush`` (numba): subnormal numbers are zero while
    the kernel runs (``_fpu``); None flushes in float32 only.
    """
    from symgd.minimize import classify  # lazy: symgd.minimize imports this package

    X = np.ascontiguousarray(X, dtype=np.float64)
    spec, update = make_spec(problem, opt, backend, dtype, path)
    loaded = load(spec, update)
    if backend == "numba":
        _backends.WARM.add(_backends.warm_key(problem, opt, dtype))
    job = _run.prepare(loaded, opt.fused, X, int(steps), tol, diverge_at, _run.coef_key(opt))
    B = X.shape[0]
    P, L = _run.execute(loaded, job, B, threads, flushes(dtype, flush))
    x, f, g, nit, code = job.out
    code = code.astype(np.int8)
    bad = np.flatnonzero(code == 2)  # the kernel tells diverged from converged; classify says why (few rows)
    reason = np.zeros(B, np.int8)
    if len(bad):
        reason[bad] = classify(x[bad], f[bad], g[bad], diverge_at)
    div_at = np.full(B, -1, np.int64)
    div_at[bad] = nit[bad]
    if path:  # finished starts repeat their last point (the kernel did not write those rows)
        late = np.arange(len(P))[:, None] > nit[None, :]
        np.copyto(P, P[nit, np.arange(B)][None], where=late[..., None])
        np.copyto(L, L[nit, np.arange(B)][None], where=late)
    return x, f, nit, code, div_at, P, L, reason


def flushes(dtype: str, flush: bool | None) -> bool:
    """Whether a numba run flushes subnormal numbers to zero (``_fpu``): as asked, else in float32 only."""
    return dtype == "float32" if flush is None else bool(flush)


def kernel_source(problem, opt, backend: str = "numba", dtype: str = "float64", path: bool = False) -> str:
    """The generated kernel's source for ``problem`` and ``opt`` (teaching material, like ``Kernels.source``)."""
    p = problem if isinstance(problem, Problem) else Problem(problem)
    opt = get(opt)
    if form(opt) is None:
        raise InputError(f"{opt.name} has no scalar form")
    return _backends.source(make_spec(p, opt, backend, dtype, path)[0])
