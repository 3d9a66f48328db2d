"""Run a function under a real time budget and memory cap (layer 0: imports only ``symgd.errors``).

SymPy calls such as ``groebner`` or ``solve`` cannot be interrupted from inside: a cooperative deadline
check between steps does not help when one step runs for minutes, and an expansion can eat all memory
in seconds. :func:`run_with_budget` therefore runs the function in a forked worker process whose address
space is capped (``RLIMIT_AS``, where the platform has it), ships the result back by pickling, and kills
the worker when the time runs out. A fork is cheap (copy-on-write: SymPy is already imported and its
caches are warm; about 4 ms).

>>> import math
>>> run_with_budget(math.factorial, 10, seconds=5)
3628800
>>> import time
>>> try:
...     run_with_budget(time.sleep, 10, seconds=0.2)
... except BudgetError as exc:
...     print(exc)
sleep gave up after 0.2 s (its time budget)
>>> def hog():
...     return len(bytearray(2**50))  # 1 PiB: more than any cap (or machine) allows
>>> try:
...     run_with_budget(hog, seconds=30, memory=0.5)
... except BudgetError as exc:
...     print(exc)
hog gave up: ran out of the 0.5 GiB memory cap
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from symgd.errors import BudgetError

__all__ = ["DEFAULT_MEMORY_GIB", "fork_available", "memory_cap_available", "run_with_budget"]

DEFAULT_MEMORY_GIB = 2.0  # what a worker may allocate beyond the memory it inherits; None: no cap
_GIB = 2**30


def fork_available() -> bool:
    """Whether this platform can fork a worker (True on Linux; False on Windows).

    >>> isinstance(fork_available(), bool)
    True
    """
    return ("fork" in multiprocessing.get_all_start_methods() and sys.platform != "win32"
            and not multiprocessing.current_process().daemon)  # daemonic processes cannot have children


def memory_cap_available() -> bool:
    """Whether a worker's memory can be capped: a fork, ``RLIMIT_AS`` and ``/proc`` (Linux; not macOS).

    >>> isinstance(memory_cap_available(), bool)
    True
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return False
    return fork_available() and hasattr(resource, "RLIMIT_AS") and sys.platform.startswith("linux") \
        and os.path.exists("/proc/self/status")


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux ``/proc``), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cap_memory(gib: float | None) -> None:
    """Child side: let the address space grow by at most ``gib`` GiB (the soft ``RLIMIT_AS``, never above
    the limits already in force, so a nested worker cannot escape its parent's cap)."""
    if gib is None:
        return
    try:
        import resource

        now = _address_space()
        if now is None:
            return
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = now + int(gib * _GIB)
        for ceiling in (soft, hard):  # a nested worker stays inside its parent's cap
            if ceiling != resource.RLIM_INFINITY:
                limit = min(limit, ceiling)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, AttributeError, OSError, ValueError):  # pragma: no cover - no RLIMIT_AS here
        return


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


def _pickled(payload) -> bytes:
    try:
        return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        return pickle.dumps(("memory", None))
    except Exception as exc:  # noqa: BLE001 - an unpicklable result or exception
        return pickle.dumps(("error", RuntimeError(f"worker result could not be pickled: {exc!r}")))


def _worker(conn, parent, memory, fn, args, kwargs) -> None:
    """Child side: call ``fn`` and send ``("ok", result)``, ``("error", exception)`` or ``("memory", None)``."""
    _die_with_parent(parent)
    _cap_memory(memory)
    try:
        payload = ("ok", fn(*args, **kwargs))
    except MemoryError:  # leaving this block frees the frames (and the memory) the traceback held
        payload = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - every failure is reported to the parent
        payload = ("error", exc.with_traceback(None))
    data = _pickled(payload)
    del payload
    try:
        conn.send_bytes(data)
    finally:
        conn.close()


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


def _check(seconds, memory, fn) -> float | None:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0 \
            or math.isnan(seconds):
        raise BudgetError(f"{_name(fn)} was given no time (budget {seconds!r} s)")
    if memory is None:
        return None
    if isinstance(memory, bool) or not isinstance(memory, (int, float)) or not 0 < memory < math.inf:
        raise BudgetError(f"{_name(fn)} was given no memory (cap {memory!r} GiB): give a positive number "
                          "of GiB, or None for no cap")
    return float(memory)


def run_with_budget(fn: Callable[..., Any], *args, seconds: float, memory: float | None = DEFAULT_MEMORY_GIB,
                    **kwargs) -> Any:
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
    memory : float or None
        GiB the worker may allocate beyond what it inherits from this process (its address space is
        capped with ``RLIMIT_AS``); default ``DEFAULT_MEMORY_GIB``; None: no cap.

    Returns
    -------
    object
        What ``fn`` returned. An exception raised by ``fn`` is re-raised in the caller.

    Raises
    ------
    BudgetError
        When ``fn`` did not finish within ``seconds`` (the worker is killed with SIGKILL): "gave up after
        N s"; or ran out of memory under the cap: "gave up: ran out of the N GiB memory cap".

    Notes
    -----
    Where ``fork`` is unavailable (Windows), ``fn`` runs in-process, without threads; the budget is
    then only as good as the cooperative deadline checks inside ``fn``: a ``BudgetError`` is raised
    afterwards if it overran. The memory cap needs Linux (``memory_cap_available()``); elsewhere only
    the time budget applies.
    """
    memory = _check(seconds, memory, fn)
    if not fork_available():  # pragma: no cover - Linux CI always forks
        start = time.monotonic()
        result = fn(*args, **kwargs)
        if time.monotonic() - start > seconds:
            raise BudgetError(f"{_name(fn)} gave up after {seconds:g} s (its time budget)")
        return result
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(sender, os.getpid(), memory, fn, args, kwargs), daemon=False)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise BudgetError(f"{_name(fn)} gave up after {seconds:g} s (its time budget)")
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
    if status == "memory":
        cap = f"the {memory:g} GiB memory cap" if memory is not None else "memory"
        raise BudgetError(f"{_name(fn)} gave up: ran out of {cap}")
    if status == "error":
        raise value
    return value
