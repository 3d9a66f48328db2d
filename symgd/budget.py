"""Run a function under a real time budget (layer 0: imports only ``symgd.errors``).

SymPy calls such as ``groebner`` or ``solve`` cannot be interrupted from inside: a cooperative deadline
check between steps does not help when one step runs for minutes. :func:`run_with_budget` therefore runs
the function in a forked worker process, ships the result back by pickling, and kills the worker when
the budget runs out. A fork is cheap (copy-on-write: SymPy is already imported and its caches are warm).

>>> import math
>>> run_with_budget(math.factorial, 10, seconds=5)
3628800
>>> import time
>>> try:
...     run_with_budget(time.sleep, 10, seconds=0.2)
... except BudgetError as exc:
...     print(exc)
sleep exceeded its budget of 0.2 s
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from symgd.errors import BudgetError

__all__ = ["fork_available", "run_with_budget"]


def fork_available() -> bool:
    """Whether this platform can fork a worker (True on Linux; False on Windows).

    >>> isinstance(fork_available(), bool)
    True
    """
    return ("fork" in multiprocessing.get_all_start_methods() and sys.platform != "win32"
            and not multiprocessing.current_process().daemon)  # daemonic processes cannot have children


def _die_with_parent(parent: int) -> None:
    """Linux: ask the kernel to SIGKILL this worker when its parent dies, so that a worker started
    inside a worker (a nested budget) cannot outlive the kill of its parent."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _worker(conn, parent, fn, args, kwargs) -> None:
    """Child side: call ``fn`` and send ``("ok", result)`` or ``("error", exception)``."""
    _die_with_parent(parent)
    try:
        payload = ("ok", fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - every failure is reported to the parent
        payload = ("error", exc)
    try:
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception
        data = pickle.dumps(("error", RuntimeError(f"worker result could not be pickled: {exc!r}")))
    try:
        conn.send_bytes(data)
    finally:
        conn.close()


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


def run_with_budget(fn: Callable[..., Any], *args, seconds: float, **kwargs) -> Any:
    """Return ``fn(*args, **kwargs)``, computed in a forked worker that is killed after ``seconds``.

    Parameters
    ----------
    fn : callable
        Any function; its result and any exception it raises must be picklable (SymPy objects,
        including ``CRootOf``, ``LambertW`` and assumption-carrying Symbols, are).
    *args, **kwargs
        Passed to ``fn``.
    seconds : float
        Wall-clock budget (> 0).

    Returns
    -------
    object
        What ``fn`` returned. An exception raised by ``fn`` is re-raised in the caller.

    Raises
    ------
    BudgetError
        When ``fn`` did not finish within ``seconds``; the worker is killed (SIGKILL).

    Notes
    -----
    Where ``fork`` is unavailable (Windows), ``fn`` runs in-process, without threads; the budget is
    then only as good as the cooperative deadline checks inside ``fn``: a ``BudgetError`` is raised
    afterwards if it overran.
    """
    if not seconds > 0:
        raise BudgetError(f"{_name(fn)} was given no time (budget {seconds!r} s)")
    if not fork_available():  # pragma: no cover - Linux CI always forks
        start = time.monotonic()
        result = fn(*args, **kwargs)
        if time.monotonic() - start > seconds:
            raise BudgetError(f"{_name(fn)} exceeded its budget of {seconds:g} s")
        return result
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(sender, os.getpid(), fn, args, kwargs), daemon=False)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise BudgetError(f"{_name(fn)} exceeded its budget of {seconds:g} s")
        try:
            status, value = pickle.loads(receiver.recv_bytes())
        except EOFError:
            proc.join(1.0)
            raise RuntimeError(f"the worker running {_name(fn)} died (exit code {proc.exitcode})") from None
    finally:
        receiver.close()
        if proc.is_alive():
            proc.kill()
        proc.join()
        if hasattr(proc, "close"):
            proc.close()
    if status == "error":
        raise value
    return value
