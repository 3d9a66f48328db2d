"""Loading the generated kernels: CPython ``exec``, numba ``njit``, the in-process and disk caches.

A kernel is cached in-process under its generated source, backend, dtype and the update function
(hyperparameters travel in ``coef``, so another lr reuses the compiled kernel). For numba the source
is also written to ``$SYMGD_CACHE_DIR`` (default ``~/.cache/symgd``) under a name hashed from the
source, the source of the functions it calls and numba's version, and compiled with ``cache=True`` so
that numba's on-disk cache serves the next process; if that directory cannot be made or written, the
kernel is compiled in memory only. The module a kernel is executed in is registered in
``sys.modules`` under the same name: numba's cache re-imports it by name when it loads.

numba compiles the kernel with ``nogil=True``, so ``_run`` can split the tiles between threads.
(``parallel=True`` with ``prange`` was measured too: the same kernel took 5.8 s to compile instead of
3.1 s, for the same speed.) Running a loaded kernel is ``_run``'s.
"""

from __future__ import annotations

import dis
import hashlib
import inspect
import linecache
import math
import os
import sys
import threading
import time
import types
from typing import Any, NamedTuple

import numpy as np

from symgd import _store
from symgd._store import cache_dir
from symgd.fused import _scalar
from symgd.fused._generate import Parts, Spec, parts, source
from symgd.optimizers._core import Fused
from symgd.optimizers.newton import NewtonForm

STATS = {"generated": 0, "compiled": 0, "disk_hits": 0}  # counters for tests and benchmarks
WARM: set = set()  # (problem._key, update, damping, dtype) of the numba kernels loaded in this process
_PARTS: dict = {}
_KERNELS: dict = {}
_BY_SPEC: dict = {}  # (spec, update) -> the Loaded of _KERNELS
_NCOEF: dict = {}  # an optimizer's coefs function -> the length of its rows
_JIT: dict = {}
_LOCK = threading.RLock()
MAX_CACHED = 256  # problems (printed parts) and kernels kept in-process; the oldest go first


class Loaded(NamedTuple):
    """A ready kernel: the callable, its spec and source, the file on disk (numba, cached) and how it came."""

    fn: Any
    spec: Spec
    source: str
    file: str | None
    origin: str  # "compiled", "disk" (numba's cache), "memory" (this process had it), "exec" (python)
    seconds: float


def form(opt):
    """``(update, n_state, coefs, newton_damping, point)`` of an optimizer's scalar form, or None without one."""
    f = opt.fused
    if isinstance(f, Fused):
        return f.update, len(f.state), f.coefs, None, f.point
    if isinstance(f, NewtonForm):
        return f.direction, 0, f.coefs, f.damping, None
    return None


def _remember(cache: dict, key, value):
    if len(cache) >= MAX_CACHED:
        cache.pop(next(iter(cache)))
    cache[key] = value
    return value


def problem_parts(problem, hessian: bool) -> Parts:
    """The printed f, ∇f (and Hessian) of ``problem``, generated once per expression and variables.

    A problem made from text keeps them in its record of the store (``symgd._store``), so another process
    reads them instead of printing them (and importing SymPy).
    """
    key = (problem._key, hessian)
    with _LOCK:
        hit = _PARTS.get(key)
    if hit is None:
        text_key = problem.__dict__.get("_text_key")
        hit = _stored_parts(text_key, hessian)
        if hit is None:
            hit = parts(problem, hessian)  # raises Unprintable
            STATS["generated"] += 1
            _store.save(text_key, **{_PARTS_FIELD[hessian]: list(hit)})
        with _LOCK:
            _remember(_PARTS, key, hit)
    return hit


_PARTS_FIELD = {False: "parts", True: "parts_hessian"}


def _stored_parts(text_key, hessian: bool) -> Parts | None:
    """The ``Parts`` kept in the store for this text, or None (none kept, or not of the expected shape)."""
    fields = _store.get(text_key, _PARTS_FIELD[hessian])
    try:
        n, fg, h, cells, f_only = fields
        out = Parts(int(n), tuple(fg), None if h is None else tuple(h),
                    None if cells is None else tuple((int(i), int(j)) for i, j in cells),
                    None if f_only is None else tuple(f_only))
    except (TypeError, ValueError):
        return None
    lines = out.fg + (out.h or ()) + (out.f_only or ())
    return out if all(type(line) is str for line in lines) and (out.h is None) != hessian else None


def make_spec(problem, opt, backend: str, dtype: str, path: bool) -> tuple[Spec, Any]:
    """The kernel spec and the update (or Newton direction) function for this run."""
    update, n_state, coefs, newton, point = form(opt)
    p = problem_parts(problem, hessian=newton is not None)
    n_coef = _NCOEF.get(coefs)
    if n_coef is None:
        n_coef = _remember(_NCOEF, coefs, len(coefs(1)))
    f = opt.fused
    rows, sums, finish = (len(f.rows), f.sums, f.finish) if isinstance(f, Fused) and f.rows else (0, 0, None)
    return Spec(p, n_state, n_coef, newton, bool(path), backend, dtype, point, rows, sums, finish), update


# ---------------------------------------------------------------------------------------------------------
# loading


def _namespace(spec: Spec, update) -> dict:
    if spec.backend == "python":
        fns = dict(_scalar.PY)
        ns = {"update": update, "_newton_dir": update, "point": spec.point, "finish": spec.finish}
    else:
        fns = {name: _jit(fn) for name, fn in _scalar.JIT.items()}
        ns = {"update": _jit(update), "_newton_dir": _jit(update)}
        ns["point"] = None if spec.point is None else _jit(spec.point)
        ns["finish"] = None if spec.finish is None else _jit(spec.finish)
    ns.update({f"_f_{name}": fn for name, fn in fns.items()})
    ns.update({"np": np, "DT": np.dtype(spec.dtype).type, "_NAN": math.nan, "_sel": fns["sel"]})
    return ns


def _global_calls(fn) -> list[str]:
    """The global names of Python functions that ``fn`` loads (not attributes such as ``math.log``)."""
    names = {i.argval for i in dis.get_instructions(fn) if i.opname == "LOAD_GLOBAL"}
    return sorted(n for n in names if inspect.isfunction(fn.__globals__.get(n)) and fn.__globals__[n] is not fn)


def _jit(fn):
    """``numba.njit(fn)``, with the Python functions ``fn`` calls by global name compiled first (a copy of
    ``fn`` sees the compiled ones: numba resolves globals when it compiles)."""
    with _LOCK:
        hit = _JIT.get(fn)
        if hit is None:
            import numba

            globs = dict(fn.__globals__)
            for name in _global_calls(fn):
                globs[name] = _jit(globs[name])
            clone = types.FunctionType(fn.__code__, globs, fn.__name__, fn.__defaults__, fn.__closure__)
            clone.__qualname__, clone.__module__, clone.__doc__ = fn.__qualname__, fn.__module__, fn.__doc__
            hit = _JIT[fn] = numba.njit(error_model="numpy", fastmath=False)(clone)
        return hit


def _callee_sources(fn, seen=None, depth=3) -> list[str]:
    """The source of ``fn`` and of the Python functions it calls by global name (stale-cache guard)."""
    seen = set() if seen is None else seen
    if fn in seen or depth < 0:
        return []
    seen.add(fn)
    out = [inspect.getsource(fn)]
    for name in _global_calls(fn):
        out += _callee_sources(fn.__globals__[name], seen, depth - 1)
    return out


def disk_path(src: str, update, point=None, finish=None) -> str | None:
    """Where the kernel with this source, update (and point, finish) lives in the disk cache (None: no usable cache)."""
    d = cache_dir()
    if d is None:
        return None
    try:
        import numba

        extra = _callee_sources(update) + (_callee_sources(point) if point is not None else [])
        extra += _callee_sources(finish) if finish is not None else []
        extra += [inspect.getsource(_scalar), numba.__version__, sys.version]
    except (OSError, TypeError):  # no source for the update (defined in a REPL): memory only
        return None
    digest = hashlib.sha256("\n".join([src, *extra]).encode()).hexdigest()[:24]
    return os.path.join(d, f"symgd_kernel_{digest}.py")


def on_disk(src: str, update, point=None, finish=None) -> bool:
    """True if numba's cache holds a compiled kernel for this source and update (index file present)."""
    path = disk_path(src, update, point, finish)
    if path is None or not os.path.exists(path):
        return False
    stem = os.path.basename(path)[:-3]
    pycache = os.path.join(os.path.dirname(path), "__pycache__")
    return os.path.isdir(pycache) and any(f.startswith(stem) and f.endswith(".nbi") for f in os.listdir(pycache))


def _disk_file(src: str, update, point=None, finish=None) -> str | None:
    path = disk_path(src, update, point, finish)
    if path is not None and not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(src)
            os.replace(tmp, path)
        except OSError:
            return None
    return path


def kernel_key(spec: Spec, src: str, update) -> tuple:
    """The key of ``_KERNELS``: what makes two kernels the same compiled function."""
    return spec.backend, spec.dtype, src, update, spec.point, spec.finish


def load(spec: Spec, update) -> Loaded:
    """The kernel for ``spec``: from this process's cache, or generated and compiled now."""
    with _LOCK:
        hit = _BY_SPEC.get((spec, update))  # no need to print the source again (a REPL call's overhead)
    if hit is not None:
        return hit._replace(origin="memory", seconds=0.0)
    src = source(spec)
    key = kernel_key(spec, src, update)
    with _LOCK:
        hit = _KERNELS.get(key)
        if hit is not None:
            _remember(_BY_SPEC, (spec, update), hit)
            return hit._replace(origin="memory", seconds=0.0)
        start = time.perf_counter()
        file = _disk_file(src, update, spec.point, spec.finish) if spec.backend == "numba" else None
        who = (f"{update.__module__}.{update.__qualname__}{getattr(spec.point, '__qualname__', '')}"
               f"{getattr(spec.finish, '__qualname__', '')}")
        digest = hashlib.sha256(f"{src}{who}".encode()).hexdigest()[:24]
        name = os.path.basename(file)[:-3] if file else f"symgd_kernel_{digest}_{spec.backend}_{id(update):x}"
        module = types.ModuleType(name)  # numba's disk cache re-imports a cached function's module by name
        module.__dict__.update(_namespace(spec, update))
        filename = file or f"<{name}>"
        module.__file__ = filename
        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)  # inspect.getsource works
        # src is printed from the SymPy tree (here, or by an earlier process: _store), never user text
        exec(compile(src, filename, "exec"), module.__dict__)
        sys.modules[name] = module
        fn, origin = module.kernel, "exec"
        if spec.backend == "numba":
            fn, origin = _compile(module.kernel, spec, cached=file is not None)
        loaded = Loaded(fn, spec, src, file, origin, time.perf_counter() - start)
        _remember(_BY_SPEC, (spec, update), loaded)
        return _remember(_KERNELS, key, loaded)


def warm_key(problem, opt, dtype: str):
    """The key of ``WARM`` for a job (cheap: no printing)."""
    f = form(opt)
    return problem._key, f[0], f[3], dtype


def _compile(py_fn, spec: Spec, cached: bool):
    import numba
    from numba import types

    dt = types.float32 if spec.dtype == "float32" else types.float64
    a1, a2, a3, i1 = dt[::1], dt[:, ::1], dt[:, :, ::1], types.int64[::1]
    sig = (a2, a3, a2, types.int64, types.int64, types.int64, types.int64, types.int64, types.float64,
           types.float64, types.boolean, a2, a1, a2, i1, i1, a3, a2, a2)
    disp = numba.njit(nogil=True, error_model="numpy", fastmath=False, cache=cached)(py_fn)
    disp.compile(sig)
    hits = sum(disp.stats.cache_hits.values()) if cached else 0
    STATS["disk_hits" if hits else "compiled"] += 1
    return disp, "disk" if hits else "compiled"
