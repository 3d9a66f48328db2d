r"""Many starts on a Dask cluster: ``minimize(..., client=client)`` runs chunks of the starts on the workers.

Starts are independent, so the ``(B, n)`` batch is cut into contiguous chunks of rows (about three per
worker thread), each worker runs the LOCAL runner (:func:`symgd.minimize.minimize`, with the backend the
client chose for the whole batch) on its chunk (the NumPy backend in cache-sized tiles), and the client
puts the final states back together in order; paths travel only with ``path=True``. Results equal the
local run bit for bit (the workers must run the same versions of symgd and NumPy as the client):

- the backend is chosen once, on the client, for all B starts (exactly the local choice), and the workers
  run that backend explicitly: a chunk never picks another backend because it is smaller;
- each row's arithmetic does not depend on the other rows, and a finished start stays put, so a chunk
  that finishes early has the path the local run would have (its last point repeated);
- gradient noise: the local runner draws the whole ``(B, n)`` noise of update t from
  ``default_rng([seed, t])``; the chunk of rows ``lo:hi`` draws the first ``hi * n`` numbers of that
  same stream (a Generator fills arrays in C order) and keeps rows ``lo:hi``.

The problem and the configured optimizer (closures, schedules, an inner optimizer) travel once per
worker with ``client.scatter(broadcast=True)`` (Dask pickles closures with cloudpickle), so each worker
compiles its kernels once for all its chunks. A ``SymgdError`` raised on a worker (an unavailable
backend, bad options) comes back to the client as the same exception type with a one-line message.

Needs ``pip install symgd[dask]``; dask is imported only when a client is given. A ``callback`` does not
run on the workers (``run_distributed`` never receives it).
"""

from __future__ import annotations

import math

import numpy as np

from symgd import fused
from symgd.errors import InputError, SymgdError
from symgd.problem import Problem

__all__ = ["run_distributed"]

CHUNKS_PER_THREAD = 3
# The NumPy runner allocates temporaries of B x n floats every step. Dask starts workers with
# MALLOC_TRIM_THRESHOLD_ set, which pins glibc's mmap threshold at 128 KB: bigger arrays are mmap'd and
# page-faulted afresh each time (Adam on Rosenbrock ran 2-3x slower in 333k-row chunks than in 4096-row
# tiles, measured). So a worker runs the NumPy backend on tiles of at most TILE_ELEMENTS floats (64 KB).
TILE_ELEMENTS = 8192


def _client_threads(client) -> dict:
    """``{worker address: threads}`` of a running synchronous ``distributed.Client``; InputError otherwise."""
    try:
        import distributed
    except ImportError:
        raise InputError("client= runs on a Dask cluster, which needs dask.distributed: "
                         "pip install symgd[dask]") from None
    if not isinstance(client, distributed.Client):
        raise InputError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
    if client.asynchronous:
        raise InputError("client must be a synchronous dask.distributed.Client (asynchronous=False)")
    if client.status != "running":
        raise InputError(f"the Dask client is {client.status}, not running")
    threads = client.nthreads()
    if not threads:
        raise InputError("the Dask cluster has no workers yet: call client.wait_for_workers(1) first")
    return threads


def _edges(B: int, threads: int, chunk: int | None) -> list[int]:
    """Row boundaries ``0 = e_0 < e_1 < ... < e_k = B`` of k contiguous chunks of near-equal size.

    >>> _edges(10, 2, None), _edges(3, 4, None), _edges(10, 2, 4)
    ([0, 1, 3, 5, 6, 8, 10], [0, 1, 2, 3], [0, 3, 6, 10])
    """
    if chunk is not None:
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise InputError(f"chunk must be a positive integer (starts per task), got {chunk=}")
        k = math.ceil(B / chunk)
    else:
        k = CHUNKS_PER_THREAD * threads
    k = max(1, min(B, k))
    return [B * i // k for i in range(k + 1)]


def _tile(B: int, n: int, backend: str, noise, tile: int | None) -> int:
    """Rows per call of the local runner on a worker: small NumPy tiles; one call per chunk otherwise.

    With gradient noise a tile of rows lo:hi draws the first hi * n normals of each update: tiling the
    chunk would multiply that work, so a noisy chunk runs whole.

    >>> _tile(10**6, 2, "numpy", None, None), _tile(10**6, 2, "numba", None, None), _tile(10, 2, "numpy", None, 3)
    (4096, 1000000, 3)
    """
    if tile is not None:
        if isinstance(tile, bool) or not isinstance(tile, int) or tile < 1:
            raise InputError(f"tile must be a positive integer (starts per local run), got {tile=}")
        return tile
    if backend != "numpy" or noise is not None:
        return max(B, 1)
    return max(64, TILE_ELEMENTS // n)


def _portable(p: Problem) -> Problem:
    """A copy of ``p`` to ship: the derived gradient and Hessian travel, the NumPy kernels do not."""
    q = Problem(p.expr, variables=p.variables)
    q.__dict__.update({k: p.__dict__[k] for k in ("gradient", "hessian") if k in p.__dict__})
    return q


def _noisy(opt, noise, lo: int):
    """``opt`` whose step sees rows ``lo:lo+b`` of the local run's ``(B, n)`` gradient noise of update t."""
    eta, gamma, seed = noise
    inner = opt.step

    def step(state, x, t, oracle):
        b, n = x.shape
        z = np.random.default_rng([seed, t]).standard_normal((lo + b) * n)[lo * n:].reshape(b, n)
        oracle.noise = math.sqrt(eta / t**gamma) * z  # the local runner's formula, row for row
        return inner(state, x, t, oracle)

    return opt._replace(step=step, fused=None)


def _limit_numba_threads(backend: str) -> None:
    """Let a numba kernel use as many threads as this Dask worker has, not every core of the machine."""
    if backend != "numba":
        return
    import numba
    from distributed import get_worker

    try:
        nthreads = get_worker().state.nthreads
    except (ValueError, AttributeError):  # not inside a worker
        return
    numba.set_num_threads(max(1, min(int(nthreads), numba.config.NUMBA_NUM_THREADS)))


def _run_chunk(payload, X, lo, tile, steps, tol, diverge_at, path, noise, backend, dtype, flush=None):
    """On a worker: the local runner on rows ``lo:lo+len(X)``, ``tile`` rows at a time.

    Returns the batch-form results and the backend that ran, or ``(error type, first line)`` of a SymgdError.
    """
    from symgd.minimize import minimize

    problem, opt = payload
    parts = []
    try:
        _limit_numba_threads(backend)
        for a in range(0, len(X), tile):
            step_opt = opt if noise is None else _noisy(opt, noise, lo + a)
            run = minimize(problem, step_opt, X[a:a + tile], steps, tol=tol, diverge_at=diverge_at, path=path,
                           backend=backend, dtype=dtype, flush_subnormals=flush)
            parts.append((run._x, run._fun, run._nit, run._code, run._diverged_at, run._path, run._losses,
                          run._reason))
    except SymgdError as e:  # returned, not raised: the client re-raises it without a remote traceback
        return type(e), str(e).splitlines()[0] if str(e) else type(e).__name__
    return (*_concat(parts, path), run.backend)


def _pad(a: np.ndarray, length: int) -> np.ndarray:
    """A chunk's path (T_c + 1, b, ...) padded to ``length`` points by repeating its last point."""
    if len(a) == length:
        return a
    return np.concatenate([a, np.repeat(a[-1:], length - len(a), axis=0)])


def _concat(parts: list[tuple], keep_path: bool) -> tuple:
    """Put the chunks' batch-form results back together in row order."""
    x, f, nit, code, div_at = (np.concatenate([r[i] for r in parts]) for i in range(5))
    path = losses = None
    if keep_path:
        T = max(len(r[5]) for r in parts)
        path = np.concatenate([_pad(r[5], T) for r in parts], axis=1)
        losses = np.concatenate([_pad(r[6], T) for r in parts], axis=1)
    reasons = [r[7] for r in parts]
    if all(r is None for r in reasons):
        reason = None
    else:
        reason = np.concatenate([np.zeros(len(r[0]), np.int8) if s is None else s for r, s in zip(parts, reasons)])
    return x, f, nit, code, div_at, path, losses, reason


def run_distributed(client, problem: Problem, opt, X: np.ndarray, steps: int, *, tol, diverge_at, path, noise,
                    backend, dtype, flush=None, chunk: int | None = None, tile: int | None = None):
    """Run ``opt`` from the ``(B, n)`` starts ``X`` in chunks on the workers of a Dask ``client``.

    Parameters
    ----------
    client : distributed.Client
        A running, synchronous client.
    problem, opt, X, steps, tol, diverge_at, path, noise, backend, dtype, flush
        As prepared by :func:`symgd.minimize.minimize` (``noise`` is ``(eta, gamma, seed)`` or None).
    chunk : int or None
        Starts per task; None: about three tasks per worker thread.
    tile : int or None
        Starts per call of the local runner inside a task; None: 8192 / n for NumPy, the whole chunk else.

    Returns
    -------
    tuple
        ``(x, f, nit, code, diverged_at, path, losses, reason, backend_used, backend_reason)`` in batch
        form, equal to what the local run returns.
    """
    threads = _client_threads(client)
    B = X.shape[0]
    used, why = fused.choose(problem, opt, B, steps, backend=backend, dtype=dtype, path=path, callback=None,
                             noise=noise)
    if noise is not None and used != "numpy":
        raise InputError(f"gradient noise on a Dask cluster needs the numpy backend, not {used}")
    edges = _edges(B, sum(threads.values()), chunk)
    rows = _tile(B, X.shape[1], used, noise, tile)
    [payload] = client.scatter([(_portable(problem), opt)], broadcast=True, hash=False)
    futures = [client.submit(_run_chunk, payload, X[lo:hi], lo, rows, steps, tol, diverge_at, path, noise, used,
                             dtype, flush, pure=False) for lo, hi in zip(edges, edges[1:])]
    parts = client.gather(futures)
    del futures, payload
    for r in parts:
        if isinstance(r[0], type) and issubclass(r[0], SymgdError):
            raise r[0](r[1])
    sizes = np.diff(edges)
    where = (f"Dask: {len(sizes)} chunks of {sizes.min()}" + (f"-{sizes.max()}" if sizes.max() > sizes.min() else "")
             + f" starts on {len(threads)} workers ({sum(threads.values())} threads)"
             + (f", run in tiles of {rows}" if rows < sizes.max() else ""))
    return (*_concat(parts, path), used, f"{why}; {where}")
