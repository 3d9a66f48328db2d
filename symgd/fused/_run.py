"""Running a loaded kernel: the job's arrays, calls in chunks of steps, threads, coefficient rows.

A run is a sequence of kernel calls (``chunks``: 2**10 steps, then twice as many each time, up to ``CHUNK``)
that carry every start's state from one call to the next, so a run has no step limit and the coefficient
rows of only one call exist at a time; no call is made once every start is done. Each call splits the
tiles of starts between the calling thread and threads started for it (numba, nogil; about 0.1 ms, so
only for runs longer than about 1 ms). No thread outlives a call, so the budgeted workers
(``symgd.budget``, which fork) never fork a multi-threaded process because of this module.
"""

from __future__ import annotations

import os
import threading
from typing import Any, NamedTuple

import numpy as np

from symgd.fused import _fpu
from symgd.fused._backends import Loaded, _remember
from symgd.fused._generate import Spec, tile_size
from symgd.optimizers._core import plain_key

_LOCK = threading.Lock()
_TILES: dict = {}  # spec -> tile_size(spec)


def default_threads() -> int:
    """``$SYMGD_THREADS``, else the CPUs this process may use."""
    env = os.environ.get("SYMGD_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Job(NamedTuple):
    """The state of one run, carried from one kernel call to the next (the kernel's arguments but the chunk's)."""

    X: Any  # the starts (read by the first call)
    S: Any  # the optimizer's state: read by the first call, written back by every call
    steps: int  # of the whole run
    D: float
    tol2: float
    zmode: bool
    out: tuple  # x, f, g, nit, code (0 max_steps or still running, 1 converged, 2 diverged)
    R: Any  # (n_rows, B) per-start row state (``Fused.rows``; (0, B) without), written by the kernel
    coefs: Any  # the optimizer's ``coefs(t)``
    key: Any = None  # its ``coef_key``


CHUNK = 2**16  # the most steps of one kernel call: its coefficient rows (2**16 x n_coef) are made before it
FIRST_CHUNK = 2**10  # the first call's steps; each next call takes twice as many, up to CHUNK
_TABLES: dict = {}  # coef_key -> (T, n_coef) rows for t = 1..T; a longer run extends them
TABLE_BYTES = 64 << 20  # the most the kept tables take together (one at most); the oldest go first


def coef_key(opt):
    """The key of ``opt``'s coefficient rows in ``_TABLES``, or None when they must be computed afresh.

    Rows depend only on the factory (its ``coefs`` code) and the hyperparameters, when those are plain
    values: two ``get("adam", lr=0.1)`` share them, a schedule written as a Python function does not.
    """
    hyper = plain_key(tuple(opt.hyper.items()))
    if hyper is None:
        return None
    coefs = opt.fused.coefs
    return opt.name, hyper, getattr(coefs, "__code__", coefs)


def _rows(coefs, first: int, last: int, n_coef: int) -> np.ndarray:
    return np.array([tuple(coefs(t)) for t in range(first, last + 1)], dtype=np.float64).reshape(-1, n_coef)


def coef_table(coefs, n_coef: int, steps: int, key=None, t0: int = 0, upto: int | None = None) -> np.ndarray:
    """``coefs(t)`` for t = t0 + 1 .. t0 + steps as a ``(steps, n_coef)`` float64 array.

    Computing a row is a Python call (about 1 µs): for one start and many steps it was most of the run. With
    ``key``, rows 1 .. T are kept for the next call, T up to TABLE_BYTES of rows; a call past T extends them to
    at least twice T (at most ``upto``, the run's last step), so a run in chunks copies them a few times only.
    """
    end = t0 + steps
    old = _TABLES.get(key) if key is not None else None
    have = 0 if old is None else len(old)
    if old is not None and have >= end:
        return old[t0:end]
    most = TABLE_BYTES // (8 * max(1, n_coef))
    if key is None or end > most:  # rows past the kept ones, afresh
        fresh = _rows(coefs, max(t0, have) + 1, end, n_coef)
        return fresh if t0 >= have else np.concatenate([old[t0:], fresh])
    grow = min(most, max(end, min(2 * have, end if upto is None else upto)))
    rows = _rows(coefs, have + 1, grow, n_coef)
    table = rows if old is None else np.concatenate([old, rows])
    with _LOCK:
        _TABLES.pop(key, None)  # re-inserted as the newest
        _TABLES[key] = table
        while sum(a.nbytes for a in _TABLES.values()) > TABLE_BYTES and len(_TABLES) > 1:
            _TABLES.pop(next(iter(_TABLES)))
    return table[t0:end]


def prepare(loaded: Loaded, fused, X: np.ndarray, steps: int, tol, diverge_at: float, key=None) -> Job:
    """Starts, state and output arrays for ``loaded.fn`` (dtype and container per backend).

    ``fused`` is the optimizer's scalar form (``init`` and ``coefs``; Newton's has no ``init``), ``key``
    its ``coef_key``.
    """
    spec, (B, n) = loaded.spec, X.shape
    dt = np.dtype(spec.dtype)
    if getattr(getattr(fused, "init", None), "zeros", None) == spec.n_state:  # optimizers._scalar.zeros
        S = np.zeros((spec.n_state, B, n), dt)  # pages of zeros: the kernel reads them, then writes the state
    else:
        S = np.empty((spec.n_state, B, n), dt)
        for q, a in enumerate(fused.init(X) if spec.n_state else ()):  # one copy per state array, into place
            S[q] = a
    R = np.empty((spec.rows, B), dt)  # per-start row state: a fresh array the kernel writes
    for q, a in enumerate(fused.row_init(X) if spec.rows else ()):
        R[q] = a
    out = (np.empty((B, n), dt), np.empty(B, dt), np.empty((B, n), dt), np.empty(B, np.int64), np.empty(B, np.int64))
    tol2 = -1.0 if tol is None or tol == 0 else float(tol) * float(tol)
    if spec.backend == "python":
        Xs, Ss, R = X.tolist(), S.tolist(), R.tolist()
    else:
        Xs, Ss = np.ascontiguousarray(X, dtype=dt), np.ascontiguousarray(S, dtype=dt)
    return Job(Xs, Ss, int(steps), float(diverge_at), tol2, tol == 0, out, R, fused.coefs, key)


def chunks(steps: int):
    """``(t0, k)``: the kernel calls of a run, steps t0 + 1 .. t0 + k each: FIRST_CHUNK steps, then twice as many
    per call up to CHUNK (a run that stops early has made rows and path for at most about twice its steps)."""
    t0, k = 0, max(1, min(FIRST_CHUNK, CHUNK))
    while True:
        yield t0, min(k, steps - t0)
        t0 += min(k, steps - t0)
        if t0 >= steps:
            return
        k = min(2 * k, CHUNK)


def execute(loaded: Loaded, job: Job, B: int, threads: int | None = None, flush: bool = False) -> tuple:
    """Run the kernel for all the job's steps: one call per chunk of steps (``chunks``), each over all tiles,
    split between threads (numba, big runs) or in this thread. After a call that leaves no start running,
    the rest are not made. ``flush``: numba kernels run with subnormal numbers flushed to zero (``_fpu``).

    Returns ``(path, losses)`` with path (else ``(None, None)``): ``(T + 1, B, n)`` and ``(T + 1, B)``, T the
    largest nit, each call's rows up to its last step run (a start's rows past its own nit are not written).
    """
    spec = loaded.spec
    dt, n, nit, code = np.dtype(spec.dtype), spec.parts.n, job.out[3], job.out[4]
    tile, bounds = _plan(spec, B, job.steps, threads)
    paths, losses = [], []
    for t0, k in chunks(job.steps):
        coef = coef_table(job.coefs, spec.n_coef, k, job.key, t0, job.steps)
        coef = coef.tolist() if spec.backend == "python" else np.ascontiguousarray(coef, dtype=dt)
        rows, width = (k + 1, B) if spec.path else (1, 1)
        path, loss = np.empty((rows, width, n), dt), np.empty((rows, width), dt)
        _call(loaded, job, coef, t0, k, tile, bounds, path, loss, flush and spec.backend == "numba")
        if spec.path:
            last = int(nit.max()) - t0 if B else 0  # the call's last row written
            paths.append(path[min(t0, 1):last + 1])  # (a later call's row 0 is the call before's last)
            losses.append(loss[min(t0, 1):last + 1])
        if not (code == 0).any():
            break
    return (np.concatenate(paths), np.concatenate(losses)) if spec.path else (None, None)


def _plan(spec: Spec, B: int, steps: int, threads: int | None) -> tuple[int, list[int]]:
    """Starts per tile and the bounds of each thread's tiles (the same for every call of a run)."""
    tile = _TILES.get(spec)
    if tile is None:
        tile = _remember(_TILES, spec, tile_size(spec))
    threads = 1 if spec.backend == "python" else (threads or default_threads())
    if threads > 1 and B * steps * spec.parts.n < 200_000:  # thread start-up costs more than it saves
        threads = 1
    if threads > 1:
        tile = min(tile, max(8, -(-B // threads)))
    ntiles = -(-B // tile)
    threads = max(1, min(threads, ntiles))
    return tile, [ntiles * k // threads for k in range(threads + 1)]


def _call(loaded: Loaded, job: Job, coef, t0: int, k: int, tile: int, bounds: list[int], path, losses,
          flush: bool) -> None:
    """One kernel call: steps t0 + 1 .. t0 + k of every tile, the first share in this thread."""

    def call(k0, k1):
        with _fpu.flushing(flush):
            loaded.fn(job.X, job.S, coef, t0, k, k0, k1, tile, job.D, job.tol2, job.zmode, *job.out, path, losses,
                      job.R)

    if len(bounds) == 2:
        call(bounds[0], bounds[1])
        return
    errors = []

    def work(k0, k1):
        try:
            call(k0, k1)
        except BaseException as e:  # noqa: BLE001 - re-raised in the calling thread below
            errors.append(e)

    helpers = [threading.Thread(target=work, args=(bounds[i], bounds[i + 1]), name="symgd-fused", daemon=True)
               for i in range(1, len(bounds) - 1)]
    for h in helpers:
        h.start()
    try:
        call(bounds[0], bounds[1])  # this thread takes the first share
    finally:
        for h in helpers:
            h.join()
    if errors:
        raise errors[0]
