"""symgd against its peers: point-steps per second of GD, momentum, Adam and Newton, in one run (issue 7).

A *point-step* is one update of one start, so a rate is ``starts x steps / wall time`` (median of the
repeats: the machine is shared and noisy). Every start does every step (symgd: ``tol=None``). For each
problem (Rosenbrock 2-D, Himmelblau 2-D, Styblinski-Tang 10-D), method and N (1, 1e4, 1e6) the rows are:

- ``lecture loop``: the slides' code, one start at a time, a Python loop over the steps with a
  hand-written gradient (and Hessian for Newton); scalars ``x, y`` in 2-D as in seed 001, a NumPy
  vector per start in 10-D;
- ``symgd numpy`` / ``python`` / ``fused`` / ``fused f32``: ``minimize(..., backend=, dtype=)``; a
  backend that is not available (or falls back) is reported ``n/a: <reason>``;
- ``PyTorch``: ``torch.optim`` (SGD, SGD momentum, Adam; ``fused=True``) on one ``(N, n)`` parameter
  tensor, autograd of the summed loss (the starts are independent); Newton by ``torch.func``
  (``vmap`` of ``grad`` and ``hessian``, then ``torch.linalg.solve``);
- ``JAX + optax`` (x64 enabled, so float64) and ``JAX + optax f32``: one ``jit``'d ``lax.scan`` over a
  chunk of steps of the ``vmap``'d gradient and the optax update; Newton by ``jax.hessian`` + solve.

Each cell is timed in a fresh Python process (``--isolation``: in one process, what ran before changed
rates) and calibrated there: a warm-up call on the timed starts compiles; timed calls set the steps per
call (at most ``--segment`` = 512: see ``SEGMENT``) and the calls per repeat, so that a repeat takes about
``--target`` seconds; every call starts afresh from the same starts. Slow peers at large N (the per-start
loops, the ``python`` backend, and Newton in 10-D where the ``(N, n, n)`` Hessians would not fit) are timed
on a subset of the starts, marked ``*``: their cost per point-step does not depend on N. Every peer runs on
``--threads`` threads (default 1, as issue 7's figures). Also measured: that the peers compute the
same thing (final iterates of one cell per method against ``symgd numpy``), and the time to first
result (fresh process per cell: from ``Problem(text)``, or the peer's own set-up, to the result;
compile, tracing and jit included). The issue's targets are checked in the summary.

Usage: ``python benchmarks/bench_peers.py [--quick] [--threads T] [--only rates,agree,ttfr]
[--problems ...] [--methods ...] [--isolation cell|peer|none] [--segment 512]``; prints tables and writes
``benchmarks/results/bench_peers.json`` (``bench_peers.quick.json`` with ``--quick``). Peers that are not
installed are reported as such.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
METHODS = ("gd", "momentum", "adam", "newton")
METHOD_LABEL = {"gd": "GD", "momentum": "momentum", "adam": "Adam", "newton": "Newton"}
PEERS = {  # key -> (label, dtype)
    "loop": ("lecture loop", "float64"),
    "numpy": ("symgd numpy", "float64"),
    "python": ("symgd python", "float64"),
    "fused": ("symgd fused", "float64"),
    "fused32": ("symgd fused f32", "float32"),
    "torch": ("PyTorch", "float64"),
    "jax": ("JAX + optax", "float64"),
    "jax32": ("JAX + optax f32", "float32"),
}
SYMGD_BACKEND = {"numpy": "numpy", "python": "python", "fused": "numba", "fused32": "numba", "auto": "auto"}
TARGET_RATE, TARGET_VS_JAX, REPL_MS = 4.5e8, 5.0, 50.0  # issue 7
F64_AGREE = 1e-10
# At most SEGMENT steps per timed call (a repeat makes as many calls as its time needs). A start that lands
# exactly on a minimum (the gradient exactly 0 in floating point) keeps running with tol=None, and its momentum
# or Adam state decays by 0.9 per step into subnormal numbers and stays there (0.9 x the least subnormal rounds
# back to it). Arithmetic on subnormals takes a microcode assist: symgd's fused kernels ran 2-20x slower from
# about 1,000 steps on (float32; Himmelblau, Styblinski-Tang) and 8,000 (float64; Rosenbrock Adam: 16,000) on,
# while JAX (XLA flushes subnormals to zero) did not slow down, so a cell's rate depended on how many steps its
# calibration happened to pick. Calls of 512 steps stay before that in every cell (benchmarks/README.md).
SEGMENT = 512
CHILD_TIMEOUT = 900  # seconds for one cell's process (rates) or one time-to-first-result row


class Unavailable(Exception):
    """A cell that cannot run here (peer not installed, backend not built, fallback): reported as n/a."""


# --------------------------------------------------------------------------------------------------------
# The problems. One definition over the last axis serves NumPy, torch and JAX; the lecture loops get
# hand-written derivatives, as the slides do.

def rosenbrock(x):
    a, b = x[..., 0], x[..., 1]
    return (1 - a) ** 2 + 100 * (b - a * a) ** 2


def himmelblau(x):
    a, b = x[..., 0], x[..., 1]
    return (a * a + b - 11) ** 2 + (a + b * b - 7) ** 2


def styblinski_tang(x):
    return 0.5 * (x**4 - 16 * x**2 + 5 * x).sum(-1)


def rosen_g(x, y):
    """Rosenbrock's gradient at one point, by hand."""
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)


def rosen_h(x, y):
    """Rosenbrock's Hessian entries (xx, xy, yy) at one point, by hand."""
    return 2 - 400 * y + 1200 * x**2, -400 * x, 200.0


def himmel_g(x, y):
    u, v = x**2 + y - 11, x + y**2 - 7
    return 4 * x * u + 2 * v, 2 * u + 4 * y * v


def himmel_h(x, y):
    return 12 * x**2 + 4 * y - 42, 4 * x + 4 * y, 4 * x + 12 * y**2 - 26


def st_grad(x):
    return 2 * x**3 - 16 * x + 2.5


def st_hess(x):
    return np.diag(6 * x**2 - 16)


# The lecture loops: one start at a time, each a Python loop over the steps with the update written
# out, as seed 001's ``for i in range(500): x_new = x - lr * df(x)``: scalars x, y in 2-D, a NumPy
# vector per start in 10-D.

def loop2_gd(g, h, P, steps, lr):
    out = []
    for x, y in P.tolist():
        for _ in range(steps):
            gx, gy = g(x, y)
            x, y = x - lr * gx, y - lr * gy
        out.append((x, y))
    return np.array(out)


def loop2_momentum(g, h, P, steps, lr, momentum):
    out = []
    for x, y in P.tolist():
        bx = by = 0.0
        for _ in range(steps):
            gx, gy = g(x, y)
            bx, by = momentum * bx + gx, momentum * by + gy
            x, y = x - lr * bx, y - lr * by
        out.append((x, y))
    return np.array(out)


def loop2_adam(g, h, P, steps, lr, b1=0.9, b2=0.999, eps=1e-8):
    out = []
    for x, y in P.tolist():
        mx = my = vx = vy = 0.0
        for t in range(1, steps + 1):
            gx, gy = g(x, y)
            mx, my = b1 * mx + (1 - b1) * gx, b1 * my + (1 - b1) * gy
            vx, vy = b2 * vx + (1 - b2) * gx * gx, b2 * vy + (1 - b2) * gy * gy
            c1, c2 = 1 - b1**t, 1 - b2**t
            x = x - lr * (mx / c1) / (math.sqrt(vx / c2) + eps)
            y = y - lr * (my / c1) / (math.sqrt(vy / c2) + eps)
        out.append((x, y))
    return np.array(out)


def loop2_newton(g, h, P, steps, lr):
    out = []
    for x, y in P.tolist():
        for _ in range(steps):
            (gx, gy), (hxx, hxy, hyy) = g(x, y), h(x, y)
            det = hxx * hyy - hxy * hxy  # the 2x2 solve by Cramer's rule
            x, y = x - lr * (hyy * gx - hxy * gy) / det, y - lr * (hxx * gy - hxy * gx) / det
        out.append((x, y))
    return np.array(out)


def loopn_gd(g, h, P, steps, lr):
    out = []
    for x in P:
        for _ in range(steps):
            x = x - lr * g(x)
        out.append(x)
    return np.array(out)


def loopn_momentum(g, h, P, steps, lr, momentum):
    out = []
    for x in P:
        b = np.zeros_like(x)
        for _ in range(steps):
            b = momentum * b + g(x)
            x = x - lr * b
        out.append(x)
    return np.array(out)


def loopn_adam(g, h, P, steps, lr, b1=0.9, b2=0.999, eps=1e-8):
    out = []
    for x in P:
        m, v = np.zeros_like(x), np.zeros_like(x)
        for t in range(1, steps + 1):
            gt = g(x)
            m, v = b1 * m + (1 - b1) * gt, b2 * v + (1 - b2) * gt * gt
            x = x - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        out.append(x)
    return np.array(out)


def loopn_newton(g, h, P, steps, lr):
    out = []
    for x in P:
        for _ in range(steps):
            x = x - lr * np.linalg.solve(h(x), g(x))
        out.append(x)
    return np.array(out)


LOOPS = {2: {"gd": loop2_gd, "momentum": loop2_momentum, "adam": loop2_adam, "newton": loop2_newton},
         10: {"gd": loopn_gd, "momentum": loopn_momentum, "adam": loopn_adam, "newton": loopn_newton}}


@dataclass(frozen=True)
class Spec:
    name: str
    label: str
    text: str  # what a user types
    variables: tuple[str, ...]
    box: float  # starts ~ U(-box, box)^n
    fn: object  # f over the last axis (NumPy, torch, JAX)
    derivs: tuple  # hand-written (gradient, Hessian) for the lecture loops
    hyper: dict = field(default_factory=dict)  # method -> hyperparameters (same names in every peer)

    @property
    def n(self) -> int:
        return len(self.variables)


def _st_text(n):
    return "(" + " + ".join(f"x{i}^4 - 16*x{i}^2 + 5*x{i}" for i in range(1, n + 1)) + ")/2"


def _hyper(lr_gd: float) -> dict:
    """Learning rates that keep every start in the box finite for as long as a cell runs (checked: ``div``)."""
    return {"gd": {"lr": lr_gd}, "momentum": {"lr": lr_gd, "momentum": 0.9}, "adam": {"lr": 1e-2},
            "newton": {"lr": 1.0}}


SPECS = {s.name: s for s in (
    Spec("rosenbrock", "Rosenbrock 2-D", "(1 - x)^2 + 100*(y - x^2)^2", ("x", "y"), 2.0, rosenbrock,
         (rosen_g, rosen_h), _hyper(1e-4)),
    Spec("himmelblau", "Himmelblau 2-D", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", ("x", "y"), 5.0, himmelblau,
         (himmel_g, himmel_h), _hyper(1e-3)),
    Spec("styblinski_tang", "Styblinski-Tang 10-D", _st_text(10), tuple(f"x{i}" for i in range(1, 11)), 5.0,
         styblinski_tang, (st_grad, st_hess), _hyper(1e-2)),
)}


def starts(spec: Spec, N: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-spec.box, spec.box, size=(N, spec.n))


# --------------------------------------------------------------------------------------------------------
# The peers. A runner's ``run(starts, steps)`` starts afresh from ``starts`` and returns the final iterates.

@dataclass
class Runner:
    run: object  # (starts (m, n) float64, steps) -> final iterates (m, n)
    unit: int = 1  # steps is a multiple of this (JAX: the length of the jit'd scan)


def cap(peer: str, spec: Spec, method: str) -> int | None:
    """At most this many starts are timed (None: all): per-start loops, and Newton's (N, n, n) Hessians in 10-D."""
    if peer in ("loop", "python"):
        return 50
    if method == "newton" and spec.n > 2 and peer not in ("fused", "fused32"):
        return 10**5
    return None


def default_unit(peer: str, m: int, quick: bool, segment: int = 0) -> int:
    """Steps of the first calibration call (the timed steps are a multiple); JAX: the length of its jit'd scan."""
    if peer.startswith("jax"):  # about 1e6 point-steps per call (1e5 quick), at most a segment
        return int(np.clip((10**5 if quick else 10**6) // m, 10, min(1000, segment or 1000)))
    return 1


_PROBLEMS: dict = {}


def symgd_problem(spec: Spec):
    from symgd import Problem  # lazily: a fresh process times its own import

    if spec.name not in _PROBLEMS:
        _PROBLEMS[spec.name] = Problem(spec.text, variables=spec.variables)
    return _PROBLEMS[spec.name]


def symgd_runner(spec: Spec, method: str, backend: str, dtype: str, problem=None) -> Runner:
    from symgd.errors import SymgdError
    from symgd.minimize import minimize

    p, hyper = problem or symgd_problem(spec), spec.hyper[method]

    def run(X, steps):
        try:
            r = minimize(p, method, X, steps, tol=None, backend=backend, dtype=dtype, **hyper)
        except SymgdError as e:
            raise Unavailable(str(e)) from None
        if backend != "auto" and r.backend != backend:
            raise Unavailable(f"ran on {r.backend}: {r.backend_reason}")
        run.info = r.backend_reason if r.backend_reason.startswith(r.backend) else f"{r.backend}: {r.backend_reason}"
        return np.asarray(r.x, np.float64)

    return Runner(run)


def import_torch(threads: int):
    try:
        import torch
    except ImportError:
        raise Unavailable("not installed (pip install symgd[bench])") from None
    torch.set_num_threads(threads)
    return torch


def torch_runner(spec: Spec, method: str, threads: int) -> Runner:
    torch, f, hyper = import_torch(threads), spec.fn, spec.hyper[method]
    if method == "newton":
        from torch.func import grad, hessian, vmap

        g, H, lr = vmap(grad(f)), vmap(hessian(f)), hyper["lr"]

        def run(X, steps):
            x = torch.tensor(X)
            for _ in range(steps):
                x = x - lr * torch.linalg.solve(H(x), g(x))
            return x.numpy()

        return Runner(run)
    make = {"gd": lambda P: torch.optim.SGD([P], lr=hyper["lr"], fused=True),
            "momentum": lambda P: torch.optim.SGD([P], lr=hyper["lr"], momentum=hyper["momentum"], fused=True),
            "adam": lambda P: torch.optim.Adam([P], lr=hyper["lr"], fused=True)}[method]

    def run(X, steps):
        P = torch.tensor(X, requires_grad=True)
        opt = make(P)
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            f(P).sum().backward()  # the starts are independent: d(sum)/dP is every start's gradient
            opt.step()
        return P.detach().numpy()

    return Runner(run)


def import_jax():
    try:
        import jax
        import optax
    except ImportError as e:
        raise Unavailable(f"not installed ({e.name}; pip install symgd[bench])") from None
    jax.config.update("jax_enable_x64", True)  # float64 unless the starts are float32
    return jax, jax.numpy, optax


def jax_runner(spec: Spec, method: str, dtype: str, unit: int) -> Runner:
    jax, jnp, optax = import_jax()
    f, hyper = spec.fn, spec.hyper[method]
    g = jax.vmap(jax.grad(f))
    if method == "newton":
        H, lr = jax.vmap(jax.hessian(f)), hyper["lr"]

        def body(x, _):
            return x - lr * jnp.linalg.solve(H(x), g(x)[..., None])[..., 0], None

        init, final = (lambda x: x), (lambda c: c)
    else:
        opt = {"gd": lambda: optax.sgd(hyper["lr"]),
               "momentum": lambda: optax.sgd(hyper["lr"], momentum=hyper["momentum"]),
               "adam": lambda: optax.adam(hyper["lr"])}[method]()

        def body(c, _):
            x, s = c
            u, s = opt.update(g(x), s, x)
            return (optax.apply_updates(x, u), s), None

        init, final = (lambda x: (x, opt.init(x))), (lambda c: c[0])
    chunk = jax.jit(lambda c: jax.lax.scan(body, c, None, length=unit)[0])

    def run(X, steps):
        c = init(jnp.asarray(X, dtype))
        for _ in range(steps // unit):
            c = chunk(c)
        return np.asarray(final(c), np.float64)  # waits for the result

    return Runner(run, unit=unit)


def loop_runner(spec: Spec, method: str) -> Runner:
    fn, (g, h), hyper = LOOPS[spec.n][method], spec.derivs, spec.hyper[method]
    return Runner(lambda X, steps: fn(g, h, X, steps, **hyper))


def runner(peer: str, spec: Spec, method: str, unit: int, threads: int) -> Runner:
    """The peer's runner; ``unit``: the steps of its calibration call (JAX: the length of its scan)."""
    if peer.startswith("jax"):
        return jax_runner(spec, method, PEERS[peer][1], unit)
    if peer == "loop":
        r = loop_runner(spec, method)
    elif peer == "torch":
        r = torch_runner(spec, method, threads)
    else:
        r = symgd_runner(spec, method, SYMGD_BACKEND[peer], PEERS[peer][1])
    r.unit = unit
    return r


# --------------------------------------------------------------------------------------------------------
# Measuring.

def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def one_line(e: Exception, kind: str = "") -> str:
    text = " ".join(str(e).split())
    text = f"{kind}: {text}" if kind else text
    return text if len(text) <= 160 else text[:157] + "..."


def n_bad(x: np.ndarray) -> int:
    """Starts that diverged (non-finite, or beyond symgd's diverge_at = 1e12)."""
    return int((~np.isfinite(x).all(-1) | (np.abs(x) > 1e12).any(-1)).sum())


def measure(peer: str, spec: Spec, method: str, X: np.ndarray, target: float, repeats: int, threads: int,
            quick: bool, segment: int = SEGMENT) -> dict:
    """Rate of one cell: warm up, calibrate the steps to ``target`` seconds, median of ``repeats``."""
    N = len(X)
    m = min(N, cap(peer, spec, method) or N)
    try:
        r = runner(peer, spec, method, default_unit(peer, m, quick, segment), threads)
        return {**calibrate_and_time(r, X[:m], target, repeats, segment), "subset": m < N}
    except Unavailable as e:
        return {"rate": None, "na": one_line(e)}
    except Exception as e:  # a peer's failure is reported, the benchmark goes on  # noqa: BLE001
        return {"rate": None, "na": "failed: " + one_line(e, type(e).__name__)}


def calibrate_and_time(r: Runner, X: np.ndarray, target: float, repeats: int, segment: int = SEGMENT) -> dict:
    """Warm up on the timed starts; grow the steps (at most ``segment`` per call) until a call takes ``target / 8``;
    fit ``time = c + a * steps`` from that call and one of 4x the steps (again from a call of the steps so
    chosen, while they are more); a repeat is ``calls`` calls of ``steps`` steps, each from the starts, about
    ``target`` seconds (the call's own overhead c is part of the rate). A cell whose first call already takes
    ``2 target`` is timed as it is.

    Every call starts afresh from ``X``, so the timed steps are the first ``steps`` of each start: no start has
    converged exactly long enough for its optimizer state to decay into subnormal numbers (see ``SEGMENT``)."""
    r.run(X, r.unit)  # compile, fill caches, and touch arrays of the timed sizes
    most = min(10**7, segment or 10**7)
    most = max(r.unit, most // r.unit * r.unit)

    def best(steps):  # the first call of a new length may do one-off work (symgd: coefficient rows): take two
        t1, out = timed(r.run, X, steps)
        return (min(t1, timed(r.run, X, steps)[0]) if t1 < target else t1), out

    s, grow = r.unit, min(10**6, most // 4 // r.unit * r.unit)  # s: a multiple of the unit, up to a quarter of most
    t, x = timed(r.run, X, s)
    while t < target / 8 and s < grow:
        s = min(grow, s * max(2, min(100, math.ceil(target / 8 / max(t, 1e-9)))))
        t, x = timed(r.run, X, s)
    if s == r.unit and t >= 2 * target:  # a slow cell: the calibration call is the first repeat
        steps, calls, times = s, 1, [t]
    else:
        t = min(t, timed(r.run, X, s)[0]) if t < target else t
        s4 = min(4 * s, most)
        for _ in range(4):  # a call may cost far more than its steps (0.1-0.26 s to set up 1e6 starts in 10-D,
            t4, x = best(s4)  # 5 ms a step): fit again from a call of the chosen steps while they are longer
            a = max((t4 - t) / (s4 - s), t4 / s4 / 5) if s4 > s else t / s  # seconds per step, kept from 0
            steps = s * max(1, min(most // s, round(target / a / s)))
            if steps <= s4:
                break
            s4 = steps
        per_call = max(t4 + a * (steps - s4), a * steps)  # c + a * steps, c from the last fit
        calls, times = max(1, round(target / per_call)), []
    cpu0, timed_before = time.process_time(), len(times)
    while len(times) < repeats:
        t0 = time.perf_counter()
        for _ in range(calls):
            x = r.run(X, steps)
        times.append(time.perf_counter() - t0)
    cpu = time.process_time() - cpu0  # every thread of the process: cores busy = cpu / wall
    busy = round(cpu / sum(times[timed_before:]), 2) if len(times) > timed_before else None
    return {"rate": len(X) * steps * calls / statistics.median(times), "starts_timed": len(X), "steps": steps,
            "calls": calls, "seconds": times, "diverged": n_bad(x), "info": getattr(r.run, "info", ""),
            "cpu_per_wall": busy}


def rate_child(peer: str, cells: list[tuple[Spec, str, int]], target: float, repeats: int, threads: int,
               quick: bool, segment: int) -> list[dict]:
    """In a fresh process: ``measure`` these cells of one peer, each with the CPU time, page faults and load."""
    out = []
    for spec, method, N in cells:
        before, load = resource.getrusage(resource.RUSAGE_SELF), os.getloadavg()[0]
        got = measure(peer, spec, method, starts(spec, N), target, repeats, threads, quick, segment)
        after = resource.getrusage(resource.RUSAGE_SELF)
        out.append({**got, "load": round(load, 2), "child": {
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3),
            "minflt": after.ru_minflt - before.ru_minflt, "majflt": after.ru_majflt - before.ru_majflt,
            "maxrss_mb": round(after.ru_maxrss / 1024), "nivcsw": after.ru_nivcsw - before.ru_nivcsw}})
    return out


def rate_cells(peer: str, cells: list[tuple[Spec, str, int]], target: float, repeats: int, threads: int,
               quick: bool, segment: int) -> list[dict]:
    """These cells of one peer timed in a fresh Python process (``--rate-child``): what ran before in the
    benchmark plays no part. The caches on disk (numba's and symgd's: the run's temporary folder) are shared, so
    a kernel is compiled once per run (compile time is never part of a rate: the warm-up call loads it)."""
    cmd = [sys.executable, __file__, "--rate-child", peer, ",".join(sp.name for sp, _, _ in cells),
           ",".join(m for _, m, _ in cells), ",".join(str(N) for _, _, N in cells), "--target", repr(target),
           "--repeat", str(repeats), "--threads", str(threads), "--segment", str(segment)] + ["--quick"] * quick
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=CHILD_TIMEOUT * len(cells))
    except subprocess.TimeoutExpired:
        return [{"rate": None, "na": f"failed: the process took more than {CHILD_TIMEOUT * len(cells)} s"}] * len(cells)
    wall = time.perf_counter() - t0
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines:
        err = (p.stderr.strip().splitlines() or [f"exit status {p.returncode}"])[-1]
        return [{"rate": None, "na": "failed: " + one_line(RuntimeError(err))}] * len(cells)
    out = json.loads(lines[-1])
    for c in out:
        c["child"]["process_s"] = round(wall / len(cells), 2)  # the process's wall time, imports included
    return out


ISOLATION = {"cell": "in a fresh process each", "peer": "in a fresh process per peer", "none": "in this process"}


def rates(specs, methods, sizes, peers, target, repeats, threads, quick, isolation="cell",
          segment=SEGMENT) -> list[dict]:
    """Every cell, each in a fresh process (``isolation="cell"``), or one process per peer, or in this one."""
    got = {}
    if isolation == "peer":  # one process per peer times all its cells
        todo = [(spec, method, N) for spec in specs for method in methods for N in sizes]
        for peer in peers:
            t0 = time.perf_counter()
            got.update(zip(((peer, sp.name, m, N) for sp, m, N in todo),
                           rate_cells(peer, todo, target, repeats, threads, quick, segment)))
            print(f"  {PEERS[peer][0]}: {len(todo)} cells in {time.perf_counter() - t0:.0f} s", flush=True)
    cells = []
    for spec in specs:
        for method in methods:
            for N in sizes:
                X = starts(spec, N) if isolation == "none" else None
                line = []
                for peer in peers:
                    key = (peer, spec.name, method, N)
                    if key not in got and isolation == "none":
                        got[key] = measure(peer, spec, method, X, target, repeats, threads, quick, segment)
                    elif key not in got:
                        got[key] = rate_cells(peer, [(spec, method, N)], target, repeats, threads, quick, segment)[0]
                    c = {"problem": spec.name, "method": method, "N": N, "peer": peer, "dtype": PEERS[peer][1],
                         "hyper": spec.hyper[method], **got[key]}
                    cells.append(c)
                    line.append(f"{peer} {fmt_rate(c)}")
                print(f"  {spec.name} {method} N={fmt_n(N)}: " + ", ".join(line), flush=True)
    fused = {(d["problem"], d["method"], d["N"]): d["rate"] for d in cells if d["peer"] == "fused"}
    for c in cells:  # the ratio to symgd fused (float64) of the same cell
        ref = fused.get((c["problem"], c["method"], c["N"]))
        c["vs_fused"] = c["rate"] / ref if c["rate"] and ref else None
    return cells


def fmt_rate(c: dict) -> str:
    if c["rate"] is None:
        return "n/a"
    return f"{c['rate']:.2g}" + ("*" if c.get("subset") else "") + (f" ({c['diverged']} div)" if c["diverged"] else "")


def print_rate_tables(cells, specs, methods, sizes, peers):
    head = "".join(f"{'N=' + fmt_n(N):>24s}" for N in sizes)
    for spec in specs:
        for method in methods:
            hyper = ", ".join(f"{k}={v:g}" for k, v in spec.hyper[method].items())
            print(f"\n{METHOD_LABEL[method]} on {spec.label} ({hyper}): point-steps/s (x ratio to symgd fused)")
            print(f"  {'peer':18s}{head}")
            for peer in peers:
                row = ""
                for N in sizes:
                    c = next(d for d in cells if (d["problem"], d["method"], d["N"], d["peer"]) ==
                             (spec.name, method, N, peer))
                    ratio = f" (x{c['vs_fused']:.3g})" if c.get("vs_fused") else ""
                    row += f"{fmt_rate(c) + ratio:>24s}"
                print(f"  {PEERS[peer][0]:18s}{row}")
    na = sorted({(PEERS[c["peer"]][0], c["na"]) for c in cells if c["rate"] is None})
    if na:
        print("\nn/a cells:")
        for label, why in na:
            print(f"  {label}: {why}")
    print("  * timed on a subset of the starts (per-start loops: 50; Newton 10-D: 1e5): the rate per point-step\n"
          "    of these peers does not depend on N")


def fmt_n(N: int) -> str:
    return str(N) if N < 1000 else f"1e{round(math.log10(N))}"


# --------------------------------------------------------------------------------------------------------
# Do the peers compute the same thing? One cell per method: final iterates against symgd numpy.

AGREE_STEPS = {"gd": 100, "momentum": 100, "adam": 100, "newton": 4}  # Newton: before it lands on (1, 1)


def agreement(methods, peers, N, threads) -> list[dict]:
    spec, rows = SPECS["rosenbrock"], []
    X = starts(spec, N, seed=1)
    print(f"\nagreement: Rosenbrock 2-D, {N} starts (per-start peers: the first 50), 100 steps (Newton 4); "
          f"max |x - x_symgd_numpy| / (1 + |x_symgd_numpy|)")
    for method in methods:
        steps = AGREE_STEPS[method]
        ref = symgd_runner(spec, method, "numpy", "float64").run(X, steps)
        for peer in (p for p in peers if p != "numpy"):
            m = min(N, cap(peer, spec, method) or N)
            try:
                x = runner(peer, spec, method, steps, threads).run(X[:m], steps)
            except Unavailable as e:
                rows.append({"method": method, "peer": peer, "diff": None, "verdict": f"n/a: {one_line(e)}"})
                continue
            except Exception as e:  # noqa: BLE001
                rows.append({"method": method, "peer": peer, "diff": None,
                             "verdict": "failed: " + one_line(e, type(e).__name__)})
                continue
            d = float(np.max(np.abs(x - ref[:m]) / (1 + np.abs(ref[:m]))))
            f32 = PEERS[peer][1] == "float32"
            verdict = "float32 (no verdict)" if f32 else ("agree" if d <= F64_AGREE else "DISAGREE: a benchmark bug")
            rows.append({"method": method, "peer": peer, "starts": m, "steps": steps, "diff": d, "verdict": verdict})
        for r in (r for r in rows if r["method"] == method):
            diff = "" if r["diff"] is None else f"{r['diff']:.1e}  "
            print(f"  {METHOD_LABEL[method]:9s}{PEERS[r['peer']][0]:18s}{diff}{r['verdict']}", flush=True)
    return rows


# --------------------------------------------------------------------------------------------------------
# Time to first result: a fresh process per cell, from Problem(text) (or the peer's set-up) to the result.

TTFR_PEERS = {"loop": "lecture loop", "auto": "symgd (auto)", "numpy": "symgd numpy", "fused": "symgd fused",
              "torch": "PyTorch", "jax": "JAX + optax"}
TTFR_STEPS = 100


def ttfr_child(peer: str, method: str, N: int, threads: int) -> dict:
    """In the fresh process: import, first result (Rosenbrock 2-D, 100 steps), and the same call again."""
    spec = SPECS["rosenbrock"]
    X = starts(spec, N, seed=2)
    t0 = time.perf_counter()
    if peer == "loop":  # nothing to import or compile: the user wrote the gradient by hand
        make = lambda: loop_runner(spec, method)  # noqa: E731
    elif peer in SYMGD_BACKEND:
        import symgd
        import symgd.minimize  # noqa: F401

        make = lambda: symgd_runner(spec, method, SYMGD_BACKEND[peer], "float64",  # noqa: E731
                                    symgd.Problem(spec.text, variables=spec.variables))
    elif peer == "torch":
        import_torch(threads)
        make = lambda: torch_runner(spec, method, threads)  # noqa: E731
    else:
        import_jax()
        make = lambda: jax_runner(spec, method, "float64", TTFR_STEPS)  # noqa: E731
    t1 = time.perf_counter()
    r = make()
    x = r.run(X, TTFR_STEPS)
    t2 = time.perf_counter()
    r.run(X, TTFR_STEPS)
    t3 = time.perf_counter()
    out = {"import_s": t1 - t0, "first_s": t2 - t1, "again_s": t3 - t2, "info": getattr(r.run, "info", ""),
           "diverged": n_bad(x)}
    if peer in SYMGD_BACKEND:  # a REPL's next call: another expression, in a session that has used symgd
        p2 = symgd.Problem(spec.text.replace("(1 - x)", "(2 - x)"), variables=spec.variables)
        symgd_runner(spec, method, SYMGD_BACKEND[peer], "float64", p2).run(X, TTFR_STEPS)
        out["next_s"] = time.perf_counter() - t3
    return out


def ttfr_cell(peer, method, N, threads, cache_dir) -> dict:
    cmd = [sys.executable, __file__, "--ttfr-child", peer, method, str(N), "--threads", str(threads)]
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, SYMGD_CACHE_DIR=cache_dir)  # symgd's store and kernels too
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=CHILD_TIMEOUT)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        err = (p.stderr.strip().splitlines() or ["?"])[-1]
        return {"first_s": None, "na": err if "Unavailable" not in err else err.split(":", 1)[1].strip()}
    return {**json.loads(p.stdout.strip().splitlines()[-1]), "process_s": wall}


def ttfr(methods, sizes, peers, threads) -> list[dict]:
    rows = []
    print(f"\ntime to first result, Rosenbrock 2-D, {TTFR_STEPS} steps, a fresh process per cell. first: from "
          f"Problem(text) (or the peer's set-up) to the result, compile included; again: the same call once more; "
          f"next (symgd): Problem(another text) + minimize in the same session; process: everything "
          f"(interpreter start, imports, the calls)")
    for method in methods:
        for peer in peers:
            for N in sizes:
                with tempfile.TemporaryDirectory() as cache:  # cold caches, then the same caches again
                    runs = [("", ttfr_cell(peer, method, N, threads, cache))]
                    if peer in ("fused", "auto") and runs[0][1].get("first_s") is not None:
                        runs.append((" (disk cache)", ttfr_cell(peer, method, N, threads, cache)))
                for suffix, r in runs:
                    rows.append({"method": method, "peer": peer + suffix.replace(" (disk cache)", "_cached"),
                                 "label": TTFR_PEERS[peer] + suffix, "N": N, **r})
                    print(f"  {METHOD_LABEL[method]:9s}{TTFR_PEERS[peer] + suffix:26s}N={fmt_n(N):4s} "
                          + (f"first {r['first_s'] * 1e3:8.1f} ms  again {r['again_s'] * 1e3:8.1f} ms  "
                             + (f"next {r['next_s'] * 1e3:6.1f} ms  " if "next_s" in r else " " * 17) + "import "
                             f"{r['import_s']:5.2f} s  process {r['process_s']:5.2f} s  {r['info']}"
                             if r.get("first_s") is not None
                             else f"n/a: {r['na']}"), flush=True)
    return rows


# --------------------------------------------------------------------------------------------------------
# The targets, and the run.

def targets(cells, first) -> list[dict]:
    def find(rows, **kw):
        return next((r for r in rows if all(r.get(k) == v for k, v in kw.items())), None)

    out = []

    def check(name, value, ok, detail):
        out.append({"target": name, "value": value, "met": None if value is None else bool(ok), "detail": detail})

    for N in (10**4, 10**6):
        f, j = find(cells, problem="rosenbrock", method="adam", N=N, peer="fused"), \
            find(cells, problem="rosenbrock", method="adam", N=N, peer="jax")
        if f is None:
            continue
        rate = f["rate"]
        check(f"Adam, Rosenbrock 2-D, N={fmt_n(N)}: symgd fused >= {TARGET_RATE:.2g} point-steps/s "
              f"(50% of 9e8)", rate, rate and rate >= TARGET_RATE,
              f"{rate:.3g} point-steps/s" if rate else f"n/a: {f.get('na')}")
        ratio = rate / j["rate"] if rate and j and j["rate"] else None
        check(f"Adam, Rosenbrock 2-D, N={fmt_n(N)}: symgd fused >= {TARGET_VS_JAX:g}x JAX + optax", ratio,
              ratio and ratio >= TARGET_VS_JAX, f"x{ratio:.3g}" if ratio else
              f"n/a (fused: {f.get('na', 'ok')}; JAX: {(j or {}).get('na', 'ok')})")
    pairs = [(c, find(cells, problem=c["problem"], method=c["method"], N=c["N"], peer="jax"))
             for c in cells if c["peer"] == "fused" and c["N"] >= 10**4 and c["rate"]]
    pairs = [(c["rate"] / j["rate"], c) for c, j in pairs if j and j["rate"]]
    if pairs:
        worst, c = min(pairs, key=lambda p: p[0])
        where = f"{METHOD_LABEL[c['method']]} on {SPECS[c['problem']].label}, N={fmt_n(c['N'])}"
        check(f"every cell at N >= 1e4: symgd fused >= {TARGET_VS_JAX:g}x JAX + optax (least ratio)", worst,
              worst >= TARGET_VS_JAX, f"x{worst:.3g} ({where})")
    for method in METHODS:
        loop, auto = find(first, method=method, peer="loop", N=1), find(first, method=method, peer="auto", N=1)
        if not (loop and auto and loop.get("first_s") is not None and auto.get("first_s") is not None):
            continue
        check(f"{METHOD_LABEL[method]}, N=1, {TTFR_STEPS} steps: symgd (Problem(text) + minimize) no slower than "
              f"the lecture loop", auto["first_s"] / loop["first_s"], auto["first_s"] <= loop["first_s"],
              f"symgd {auto['first_s'] * 1e3:.1f} ms vs loop {loop['first_s'] * 1e3:.2f} ms "
              f"(x{auto['first_s'] / loop['first_s']:.3g})")
        check(f"{METHOD_LABEL[method]}, N=1, {TTFR_STEPS} steps, the same call again (a REPL re-running a cell): "
              f"symgd no slower than the lecture loop", auto["again_s"] / loop["again_s"],
              auto["again_s"] <= loop["again_s"], f"symgd {auto['again_s'] * 1e6:.0f} us vs loop "
              f"{loop['again_s'] * 1e6:.0f} us ({auto['info']})")
        check(f"{METHOD_LABEL[method]}, N=1, {TTFR_STEPS} steps, whole process (start, imports, result): symgd no "
              f"slower than the lecture loop", auto["process_s"] / loop["process_s"],
              auto["process_s"] <= loop["process_s"], f"symgd {auto['process_s']:.2f} s vs loop "
              f"{loop['process_s']:.2f} s (imports: {auto['import_s']:.2f} s vs {loop['import_s']:.2f} s)")
        seen = find(first, method=method, peer="auto_cached", N=1)
        if seen and seen.get("first_s") is not None:
            check(f"{METHOD_LABEL[method]}, N=1, {TTFR_STEPS} steps, whole process, a text run before (symgd's "
                  f"store): symgd no slower than the lecture loop", seen["process_s"] / loop["process_s"],
                  seen["process_s"] <= loop["process_s"], f"symgd {seen['process_s']:.3f} s vs loop "
                  f"{loop['process_s']:.3f} s (first result {seen['first_s'] * 1e3:.1f} ms, {seen['info']})")
    auto = find(first, method="adam", peer="auto", N=1)
    if auto and auto.get("first_s") is not None:
        ms = auto["next_s"] * 1e3
        check(f"REPL call, Adam, one start, {TTFR_STEPS} steps (Problem(text) + minimize; not the session's first) "
              f"< {REPL_MS:g} ms", ms, ms < REPL_MS,
              f"{ms:.1f} ms; the session's first call {auto['first_s'] * 1e3:.0f} ms ({auto['info']})")
    print("\ntargets (issue 7):")
    for t in out:
        verdict = "not measured" if t["met"] is None else ("met" if t["met"] else "NOT met")
        print(f"  [{verdict:^12s}] {t['target']}: {t['detail']}")
    return out


def markdown(doc: dict) -> str:
    """The tables of a run's JSON as Markdown (for benchmarks/README.md)."""
    lines, cells = [], doc["cells"]
    sizes = sorted({c["N"] for c in cells})
    for name, prob in doc["problems"].items():
        label = SPECS[name].label if name in SPECS else name
        lines += [f"\n**{label}** (`{prob['text'] if prob['n'] <= 2 else name}`, starts ~ U(-{prob['box']:g}, "
                  f"{prob['box']:g})^{prob['n']}): point-steps/s (x ratio to symgd fused)\n",
                  "| method | peer | " + " | ".join(f"N = {fmt_n(N)}" for N in sizes) + " |",
                  "|---|---|" + "---:|" * len(sizes)]
        for method in METHODS:
            for peer in PEERS:
                row = [c for N in sizes for c in cells if (c["problem"], c["method"], c["peer"], c["N"]) ==
                       (name, method, peer, N)]
                if row:
                    vals = [fmt_rate(c) + (f" (x{c['vs_fused']:.2g})" if c.get("vs_fused") else "") for c in row]
                    lines.append(f"| {METHOD_LABEL[method]} | {PEERS[peer][0]} | " + " | ".join(vals) + " |")
    na = sorted({(PEERS[c["peer"]][0], c["na"]) for c in cells if c["rate"] is None})
    if cells:
        lines += ["\n`*`: timed on a subset of the starts (per-start loops: 50; Newton 10-D: 1e5); `div`: starts that "
                  "diverged (non-finite or beyond 1e12) in the timed run."]
        lines += [f"n/a, {label}: {why}" + ("" if i == len(na) - 1 else "<br>") for i, (label, why) in enumerate(na)]
    if doc["agreement"]:
        lines += ["\n**Agreement** (Rosenbrock 2-D, final iterates against symgd numpy, max |dx| / (1 + |x|))\n",
                  "| method | peer | starts x steps | difference | verdict |", "|---|---|---:|---:|---|"]
        for r in doc["agreement"]:
            d = "" if r["diff"] is None else f"{r['diff']:.1e}"
            size = f"{r['starts']} x {r['steps']}" if "starts" in r else ""
            lines.append(f"| {METHOD_LABEL[r['method']]} | {PEERS[r['peer']][0]} | {size} | {d} | {r['verdict']} |")
    if doc["time_to_first_result"]:
        lines += ["\n**Time to first result** (Rosenbrock 2-D, 100 steps, a fresh process per row)\n",
                  "| method | peer | N | first | again | next | imports | whole process |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in doc["time_to_first_result"]:
            if r.get("first_s") is None:
                lines.append(f"| {METHOD_LABEL[r['method']]} | {r['label']} | {fmt_n(r['N'])} | n/a: {r['na']} "
                             "| | | | |")
                continue
            nxt = f"{r['next_s'] * 1e3:.1f} ms" if "next_s" in r else ""
            lines.append(f"| {METHOD_LABEL[r['method']]} | {r['label']} | {fmt_n(r['N'])} | "
                         f"{r['first_s'] * 1e3:.1f} ms | {r['again_s'] * 1e3:.1f} ms | {nxt} | "
                         f"{r['import_s']:.2f} s | {r['process_s']:.2f} s |")
    if doc["targets"]:
        lines += ["\n**Targets** (issue 7)\n", "| target | verdict | measured |", "|---|---|---|"]
        for t in doc["targets"]:
            verdict = "not measured" if t["met"] is None else ("met" if t["met"] else "**not met**")
            lines.append(f"| {t['target']} | {verdict} | {t['detail']} |")
    return "\n".join(lines).strip() + "\n"


def set_threads(k: int) -> None:
    """Every peer on k threads (symgd's fused kernels too: SYMGD_THREADS, else they split over every CPU); set
    before torch, JAX (XLA) and numba are imported (they read it once)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS", "SYMGD_THREADS"):
        os.environ[var] = str(k)
    flags = f"--xla_cpu_multi_thread_eigen={'true' if k > 1 else 'false'} intra_op_parallelism_threads={k}"
    if flags not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()


def versions() -> dict:
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for name in ("symgd", "numpy", "sympy", "numba", "torch", "jax", "jaxlib", "optax"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 1, 1e4; short cells, one repeat (a smoke run)")
    ap.add_argument("--threads", type=int, default=1, help="threads for every peer (default 1)")
    ap.add_argument("--sizes", default=None, help="comma-separated N (default 1,1e4,1e6; quick 1,1e4); the JSON "
                    "then goes to results/bench_peers.sizes.json")
    ap.add_argument("--only", default="rates,agree,ttfr", help="sections: rates, agree, ttfr (comma-separated)")
    ap.add_argument("--problems", default=None, help="comma-separated: " + ", ".join(SPECS) + " (default: all; "
                    "quick: rosenbrock)")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated: " + ", ".join(METHODS))
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated: " + ", ".join(PEERS))
    ap.add_argument("--target", type=float, default=None, help="seconds per timed repeat (default 0.5; quick 0.03)")
    ap.add_argument("--repeat", type=int, default=None, help="timed repeats per cell, median (default 3; quick 1)")
    ap.add_argument("--markdown", metavar="JSON", help="print the tables of a run's JSON as Markdown and exit")
    ap.add_argument("--isolation", choices=ISOLATION, default=None, help="rate cells: a fresh process per cell "
                    "(default), per peer (quick's default: all the peer's cells in one process), or none (this "
                    "process)")
    ap.add_argument("--in-process", action="store_true", help="the same as --isolation none: every rate cell in "
                    "this process, one after the other (what ran before a cell may then change its rate)")
    ap.add_argument("--segment", type=int, default=SEGMENT, help=f"at most this many steps per timed call "
                    f"(default {SEGMENT}; 0: no limit, as before: long calls time the subnormal numbers of starts "
                    f"that converged exactly)")
    ap.add_argument("--ttfr-child", nargs=3, metavar=("PEER", "METHOD", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--rate-child", nargs=4, metavar=("PEER", "PROBLEMS", "METHODS", "SIZES"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(pathlib.Path(args.markdown).read_text())))
        return 0
    set_threads(args.threads)
    if args.ttfr_child:
        peer, method, N = args.ttfr_child
        try:
            res = ttfr_child(peer, method, int(N), args.threads)
        except Unavailable as e:
            res = {"first_s": None, "na": str(e)}
        print(json.dumps(res))
        return 0
    if args.rate_child:
        peer, (names, methods, sizes) = args.rate_child[0], (v.split(",") for v in args.rate_child[1:])
        todo = [(SPECS[name], method, int(N)) for name, method, N in zip(names, methods, sizes, strict=True)]
        print(json.dumps(rate_child(peer, todo, args.target, args.repeat, args.threads, args.quick, args.segment)))
        return 0
    sections = set(args.only.split(","))
    names = args.problems or ("rosenbrock" if args.quick else ",".join(SPECS))
    if set(names.split(",")) - set(SPECS):
        ap.error(f"unknown problem in {names}; known: {', '.join(SPECS)}")
    specs = [SPECS[s] for s in names.split(",")]
    methods = [m for m in args.methods.split(",") if m]
    peers = [p for p in args.peers.split(",") if p]
    unknown = sections - {"rates", "agree", "ttfr"} | set(methods) - set(METHODS) | set(peers) - set(PEERS)
    if unknown:
        ap.error(f"unknown: {', '.join(sorted(unknown))}")
    if "NUMBA_CACHE_DIR" in os.environ:
        return run(args, sections, specs, methods, peers)
    with tempfile.TemporaryDirectory(prefix="bench_peers_numba_") as cache:  # what earlier runs cached plays no part
        os.environ["NUMBA_CACHE_DIR"] = cache  # the cells' processes share it: a kernel is compiled once per run
        os.environ.setdefault("SYMGD_CACHE_DIR", cache)
        return run(args, sections, specs, methods, peers)


def run(args, sections, specs, methods, peers) -> int:
    """The run: the sections asked for, the targets, the JSON."""
    quick = args.quick
    sizes = tuple(int(float(v)) for v in args.sizes.split(",")) if args.sizes else (1, 10**4) if quick else (1, 10**4, 10**6)
    target, repeats = args.target or (0.03 if quick else 0.5), args.repeat or (1 if quick else 3)
    isolation = "none" if args.in_process else args.isolation or ("peer" if quick else "cell")
    vers, t_start = versions(), time.perf_counter()
    print(f"bench_peers: {'quick' if quick else 'full'} run, {args.threads} thread(s) per peer, median of {repeats}, "
          f"~{target:g} s per repeat, at most {args.segment or 'any number of'} steps per call, rate cells timed "
          f"{ISOLATION[isolation]}; "
          f"load average {os.getloadavg()[0]:.2f}\n  "
          + ", ".join(f"{k} {v or 'not installed'}" for k, v in vers.items())
          + "\n  JAX runs with x64 enabled (float64; 'f32' rows: float32 starts)", flush=True)
    cells, agree, first = [], [], []
    if "rates" in sections:
        cells = rates(specs, methods, sizes, peers, target, repeats, args.threads, quick, isolation, args.segment)
        print_rate_tables(cells, specs, methods, sizes, peers)
    if "agree" in sections:
        agree = agreement(methods, peers, 200 if quick else 1000, args.threads)
    if "ttfr" in sections:
        tp = [p for p in TTFR_PEERS if (p in peers or p == "auto") and not (quick and p == "fused")]
        first = ttfr(["adam"] if quick else methods, (1,) if quick else (1, 10**4), tp, args.threads)
    goals = targets(cells, first)
    doc = {"benchmark": "bench_peers", "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "quick": quick,
           "threads": args.threads, "target_s": target, "repeats": repeats, "versions": vers,
           "isolation": isolation, "segment": args.segment,
           "machine": platform.machine(), "processor": platform.processor(), "cpus": os.cpu_count(),
           "load_average_end": os.getloadavg(), "seconds": time.perf_counter() - t_start,
           "problems": {s.name: {"text": s.text, "n": s.n, "box": s.box, "hyper": s.hyper} for s in specs},
           "point_step": "one update of one start; rate = starts x steps / median wall time",
           "cells": cells, "agreement": agree, "time_to_first_result": first, "targets": goals}
    out = HERE / "results" / ("bench_peers.quick.json" if quick else "bench_peers.sizes.json" if args.sizes
                              else "bench_peers.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(doc, indent=1))
    print(f"\n{time.perf_counter() - t_start:.0f} s; wrote {out}")
    return 1 if any(r["verdict"].startswith("DISAGREE") for r in agree) else 0


if __name__ == "__main__":
    raise SystemExit(main())
