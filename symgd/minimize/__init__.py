r"""The batch runner: ``minimize(problem, method, x0, ...) -> Run`` and ``compare(...) -> Comparison``.

One start or a million: ``x0`` of shape ``(d,)`` or ``(N, d)`` is promoted to a ``(B, n)`` float64 batch,
and every optimizer step is one vectorized NumPy call over all starts. The loop here owns what the
optimizers don't: convergence (:math:`\|\nabla f(x_t)\| \le` ``tol``), divergence (a non-finite or huge
iterate, or a non-finite f, detected at the step it happens), freezing finished starts, the
floating-point error policy, gradient noise, and the record of the path.

>>> from symgd import Problem
>>> run = minimize(Problem("x^2 + 10y^2"), "gd", [[1.0, 1.0], [0.0, 0.0], [1.0, 2.0]], steps=50, lr=0.2)
>>> run
Run(gd(lr=0.2) on x**2 + 10*y**2, 3 starts, steps=50)
  #  status     nit  fun        x
  0  diverged   26   6.461e+25  (1.706e-06, 2.542e+12)
  1  converged  0    0          (0, 0)
  2  diverged   25   2.872e+25  (2.843e-06, -1.695e+12)
>>> run.status[1] == "converged", run.diverged_at.tolist()
(True, [26, -1, 25])

GD with lr 0.2 multiplies y by 1 - 0.2·20 = -3 each update: |y| passes ``diverge_at`` = 1e12 at
3^26 (from y = 1) and 2·3^25 (from y = 2); the start at the minimum has converged before any update.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from collections.abc import Callable, Mapping

import numpy as np

from symgd import fused
from symgd.errors import InputError
from symgd.minimize.results import REASONS, Comparison, Run, Status
from symgd.optimizers import REGISTRY, Optimizer, get
from symgd.problem import Problem

__all__ = ["Comparison", "Run", "Status", "compare", "minimize"]

RUNNER_OPTIONS = ("tol", "path", "diverge_at", "noise", "noise_gamma", "seed", "callback", "backend", "dtype",
                  "flush_subnormals", "client")


class _Oracle:
    """What one step sees: the kernels, with f and ∇f cached at the runner's iterate and gradient noise added."""

    __slots__ = ("_k", "_x", "_f", "_g", "noise", "n")

    def __init__(self, kernels):
        self._k, self.n, self.noise = kernels, kernels.n, None
        self._x = self._f = self._g = None

    def remember(self, x, f, g):
        self._x, self._f, self._g = x, f, g

    def f(self, x):
        return self._f if x is self._x else self._k.f(x)

    def grad(self, x):
        g = self._g if x is self._x else self._k.grad(x)
        return g if self.noise is None else g + self.noise

    def f_and_grad(self, x):
        return self.f(x), self.grad(x)

    def hess(self, x):
        return self._k.hess(x)


def _as_problem(problem) -> Problem:
    if hasattr(problem, "loss_problem"):  # a symgd.fit.ModelProblem: its full-data loss over the parameters
        problem = problem.loss_problem(symbolic=False)
    p = problem if isinstance(problem, Problem) else Problem(problem)
    if p.n == 0:
        import sympy as sp

        raise InputError(f"f = {sp.sstr(p.expr)} has no variables: there is nothing to minimize")
    extra = p._constants
    if extra:
        raise InputError(f"f has symbols {', '.join(extra)} that are not variables: substitute values, "
                         f"or list them in variables=")
    return p


def _starts(x0, p: Problem) -> tuple[np.ndarray, np.ndarray]:
    """``x0`` as given (float64 copy) and as a C-contiguous ``(B, n)`` batch."""
    a = np.asarray(x0)
    if a.dtype.kind not in "iuf":
        raise InputError(f"x0 must be real numbers, got {x0!r}")
    a = np.array(a, dtype=np.float64)
    if a.ndim == 0 and p.n == 1:
        a = a.reshape(1)
    if a.ndim not in (1, 2) or a.shape[-1] != p.n or a.size == 0:
        names = ", ".join(p.names)
        hint = " (several starts of a one-variable problem are a column: [[0.5], [-3.0]])" if p.n == 1 else ""
        raise InputError(f"x0 of shape {a.shape} does not fit: the problem has {p.n} variable(s) ({names}), "
                         f"so x0 must have shape ({p.n},) or (N, {p.n}){hint}")
    if not np.isfinite(a).all():
        raise InputError(f"x0 must be finite, got {x0!r}")
    return a, np.ascontiguousarray(a.reshape(-1, p.n))


def _check_options(steps, tol, diverge_at, noise, noise_gamma, seed, callback):
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise InputError(f"steps must be an integer >= 1 (the number of updates), got {steps=}")
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0):
        raise InputError(f"tol must be a number >= 0 or None (no convergence test), got {tol=}")
    if isinstance(diverge_at, bool) or not isinstance(diverge_at, numbers.Real) or not diverge_at > 0:
        raise InputError(f"diverge_at must be a positive number (inf: only non-finite), got {diverge_at=}")
    if noise is not None and (isinstance(noise, bool) or not isinstance(noise, numbers.Real)
                              or not 0 <= noise < math.inf):
        raise InputError(f"noise (the variance eta of the gradient noise) must be >= 0 or None, got {noise=}")
    if isinstance(noise_gamma, bool) or not isinstance(noise_gamma, numbers.Real) or not 0 <= noise_gamma < math.inf:
        raise InputError(f"noise_gamma must be a finite number >= 0, got {noise_gamma=}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise InputError(f"seed must be a non-negative integer or None, got {seed=}")
    if callback is not None and not callable(callback):
        raise InputError(f"callback must be callable as callback(t, x, f), got {callback!r}")


PATH_MEMORY_FRACTION = 0.5  # path=True may take at most this share of the machine's memory
# What recording the path costs at its peak, per recorded value (a coordinate of x, or f) and per recorded step.
# Measured with `symgd run "x^2+y^2" --method gd --tol 0 --path --backend numpy` (peak RSS, numpy 2.4, Python
# 3.11), 2 starts x 10^6 steps and 200 starts x 10^4 steps: 16 bytes per value (the per-step arrays, then
# np.stack's copy; the compiled backends preallocate, then copy the rows they keep) and ~500 bytes per step.
PATH_BYTES_PER_VALUE = 16
PATH_BYTES_PER_STEP = 512


def path_bytes(steps: int, B: int, n: int, per_value: int = PATH_BYTES_PER_VALUE) -> int:
    r"""Peak bytes of recording ``run.path`` and ``run.losses``: :math:`(T + 1)(B (n + 1) c + 512)` for T steps
    of B starts in n variables at c bytes per value.

    >>> round(path_bytes(10**8, 1, 2) / 2**30, 1)  # one start of x^2 + y^2, 10^8 steps
    52.2
    """
    return (steps + 1) * (B * (n + 1) * per_value + PATH_BYTES_PER_STEP)


def _check_path_memory(steps: int, B: int, n: int) -> None:
    """Refuse a ``path=True`` run whose record would not fit (rather than fail, or swap, after the work)."""
    need = path_bytes(steps, B, n)
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # no sysconf: assume the reference machine's 24 GiB
        total = 24 << 30
    if need > PATH_MEMORY_FRACTION * total:
        raise InputError(f"path=True would record {steps + 1} x {B} x {n + 1} values (about {need / 2**30:.3g} GiB), more than "
                         f"{PATH_MEMORY_FRACTION:.0%} of this machine's {total / 2**30:.3g} GiB: ask for fewer steps "
                         f"or starts, or run without path")


def minimize(problem, method, x0, steps: int = 100, *, tol: float | None = 1e-8, path: bool = False,
             diverge_at: float = 1e12, noise: float | None = None, noise_gamma: float = 0.55,
             seed: int | None = None, callback: Callable | None = None, backend: str = "auto",
             dtype: str = "float64", flush_subnormals: bool | None = None, client=None, **hyper) -> Run:
    r"""Run an optimizer from one start or a batch of starts.

    Parameters
    ----------
    problem : Problem (or anything ``Problem`` accepts)
        The objective.
    method : str or Optimizer
        A registered name (``"adam"``; configured by ``**hyper``) or a configured ``Optimizer``.
    x0 : array_like, shape (d,) or (N, d)
        One start, or N starts run together (a number is accepted for a one-variable problem).
    steps : int
        The most updates per start (t = 1, ..., steps).
    tol : float or None
        A start converges when :math:`\|\nabla f(x_t)\| \le` tol (checked at x0 too); None: never.
    path : bool
        Record every iterate in ``run.path`` and f in ``run.losses``.
    diverge_at : float
        A start diverges when some :math:`|x_i| >` diverge_at, or x or f is not finite.
    noise, noise_gamma : float
        Gradient noise (Neelakantan et al. 2015): the optimizer sees :math:`g_t + \sigma_t z_t`,
        :math:`z_t \sim N(0, I)`, :math:`\sigma_t^2 = \text{noise} / t^{\gamma}` with t = 1 on the first
        update, as optax ``add_noise(eta, gamma)``; any optimizer can be made stochastic this way.
    seed : int or None
        Seed of the gradient noise: the draw for update t is ``default_rng([seed, t])``, so a run is
        reproducible (``run.seed`` records the seed chosen when None was given).
    callback : callable or None
        ``callback(t, x, f)`` after each update, with the ``(B, n)`` iterates and ``(B,)`` values.
    backend : {"auto", "numpy", "python", "numba"}
        Who runs the loop: NumPy over the whole batch (the reference), or one generated scalar kernel
        per start that fuses gradient and update, run by CPython (few starts: no compile time) or
        compiled by numba (many starts; ``pip install symgd[fast]``). "auto" picks by the size of the
        run; ``run.backend`` and ``run.backend_reason`` say which ran and why.
    dtype : {"float64", "float32"}
        Precision of the compiled kernel (float32 needs numba).
    flush_subnormals : bool or None
        numba kernels only: treat numbers below the smallest normal float (2.2e-308; float32: 1.2e-38) as
        zero while running (x86 FTZ/DAZ, as JAX does). Much faster when values decay through that range
        (long runs whose starts have converged: 4x for Adam in float64); a value or step that small is then
        0, so results can differ from NumPy's there. None: flush in float32 only.
    client : dask.distributed.Client or None
        Run chunks of the starts on a Dask cluster (``pip install symgd[dask]``); results are the same.
    **hyper
        Hyperparameters of ``method`` by name (``lr=0.1, betas=(0.9, 0.999)``).

    Returns
    -------
    Run
        ``x`` (shaped as x0), ``fun``, ``nit``, ``status``, ``path``, ... per start.
    """
    p = _as_problem(problem)
    opt = get(method, **hyper)
    x0_user, X = _starts(x0, p)
    _check_options(steps, tol, diverge_at, noise, noise_gamma, seed, callback)
    if flush_subnormals is not None and not isinstance(flush_subnormals, bool):
        raise InputError(f"flush_subnormals must be True, False or None (flush in float32 only), got {flush_subnormals!r}")
    if path:
        _check_path_memory(int(steps), *X.shape)
    if noise is not None and seed is None:
        seed = int(np.random.SeedSequence().entropy)
    tol_, noise_ = None if tol is None else float(tol), None if noise is None else (float(noise), float(noise_gamma), seed)
    if client is not None and callback is not None:
        raise InputError("callback= runs in this process and cannot watch a run on a Dask cluster: "
                         "drop client= or callback=")
    if client is not None:
        from symgd.minimize._distributed import run_distributed

        *out, reason, used, why = run_distributed(client, p, opt, X, int(steps), tol=tol_, diverge_at=float(diverge_at),
                                                  path=bool(path), noise=noise_, backend=backend, dtype=dtype,
                                                  flush=flush_subnormals)
    else:
        used, why = fused.choose(p, opt, X.shape[0], int(steps), backend=backend, dtype=dtype, path=bool(path),
                                 callback=callback, noise=noise_)
        out, reason = _run_local(used, opt, p, X, int(steps), tol_, float(diverge_at), bool(path), noise_, callback,
                                 dtype, flush_subnormals)
    if used == "numba" and fused.flushes(dtype, flush_subnormals):
        why += "; subnormal numbers flushed to zero"
    return Run(p, opt, x0_user, *out, steps=int(steps), tol=tol, noise=noise, noise_gamma=noise_gamma, seed=seed,
               _reason=reason, backend=used, backend_reason=why)


def _run_local(backend, opt, p, X, steps, tol, diverge_at, path, noise, callback, dtype, flush=None):
    """One machine: ``(x, f, nit, code, diverged_at, path, losses), reason`` from the chosen backend."""
    if backend == "numpy":
        rows = max(1024, 32768 // X.shape[1])  # a tile's arrays stay in cache: about 2x on large batches
        if len(X) <= rows or path or noise is not None or callback is not None:
            *out, reason = _loop(opt, p.kernels, X, steps, tol, diverge_at, path, noise, callback)
            return out, reason
        tiles = [_loop(opt, p.kernels, X[a:a + rows], steps, tol, diverge_at, False, None, None)
                 for a in range(0, len(X), rows)]  # starts are independent: the same numbers, tile by tile
        x, f, nit, code, div_at, _, _, reason = (np.concatenate(parts) if parts[0] is not None else None
                                                 for parts in zip(*tiles))
        return (x, f, nit, code, div_at, None, None), reason
    *out, reason = fused.run(backend, p, opt, X, steps, tol, diverge_at, dtype, path=path, flush=flush)
    return out, reason


def classify(x, f, g, diverge_at: float) -> np.ndarray:
    r"""Why each row of a diverged batch diverged: an int8 index into ``REASONS`` (0 where nothing is wrong).

    The first rule that holds wins: x is NaN (``nan``); x is infinite (``overflow``); some
    :math:`|x_j| >` ``diverge_at`` (``diverge_at``); f or :math:`\nabla f` is NaN at a finite x
    (``domain``); f or :math:`\nabla f` is infinite at a finite x: ``overflow`` where some
    :math:`|x_j| > \ln(\text{largest float})` (709.78 in float64, 88.72 in float32), else ``pole``.

    That threshold is where ``exp``, ``sinh`` and ``cosh``, the fastest-growing functions the parser
    accepts, overflow: past it ``-exp(x)`` is ``-inf`` by overflow, not at a pole. Below it the functions
    symgd parses are infinite only at their poles (``1/x`` at 0, ``log(0)``, ``atanh(1)``; ``tan`` never
    reaches a float pole), and a polynomial with moderate coefficients overflows only for
    :math:`|x| \gtrsim 10^{308/k}`. Known misses, both rare: a composition that overflows sooner
    (``exp(x^2)`` at :math:`|x| > 26.6`, ``exp(1000 x)``) is reported as a pole, and a pole at a large
    point (``1/(x - 1000)`` at 1000) as an overflow. "Some" coordinate, not every: ``-exp(x) + y^2`` at
    (1000, 0) overflows through x alone.

    >>> import numpy as np
    >>> x = np.array([[np.nan, 0.0], [np.inf, 0.0], [2e12, 0.0], [-1.0, 0.0], [0.0, 0.0], [1.0, 1.0],
    ...               [1e3, 0.0]])
    >>> f = np.array([0.0, 0.0, 0.0, np.nan, 0.0, 2.0, -np.inf])
    >>> g = np.array([[0.0, 0.0]] * 4 + [[np.inf, 0.0], [2.0, 2.0], [-np.inf, 0.0]])
    >>> [REASONS[c] for c in classify(x, f, g, 1e12)]
    ['nan', 'overflow', 'diverge_at', 'domain', 'pole', '', 'overflow']
    """
    x = np.asarray(x)
    fg = np.column_stack([f, g])
    tests = (np.isnan(x).any(axis=-1), np.isinf(x).any(axis=-1), (np.abs(x) > diverge_at).any(axis=-1),
             np.isnan(fg).any(axis=-1), np.isinf(fg).any(axis=-1))
    code = np.zeros(len(x), np.int8)
    for c, hit in zip(range(len(tests), 0, -1), reversed(tests)):  # the first test that holds wins
        code[hit] = c
    big = math.log(np.finfo(x.dtype if x.dtype.kind == "f" else np.float64).max)  # exp overflows past it
    code[(code == REASONS.index("pole")) & (np.abs(x) > big).any(axis=-1)] = REASONS.index("overflow")
    return code


def _loop(opt, kernels, X, steps, tol, diverge_at, keep_path, noise, callback):
    """The NumPy loop over t. Returns batch-form x, f, nit, status codes, diverged_at, path, losses, reasons."""
    B, n = X.shape
    oracle = _Oracle(kernels)

    def finished(x, f, g):
        """Masks (bad, converged) of the rows that diverged / converged; None stands for no row (fast path)."""
        ax, bad, small = np.abs(x), None, None
        limit = min(diverge_at, np.finfo(float).max)  # an infinite x diverges even with diverge_at = inf
        if not (ax.max() <= limit and np.isfinite(f).all() and np.isfinite(g).all()):  # fast in the common case
            bad = classify(x, f, g, diverge_at) > 0
        if tol is not None:
            small = ~(g != 0).any(axis=-1) if tol == 0 else np.einsum("ij,ij->i", g, g) <= tol * tol
            if bad is not None:
                small &= ~bad
        return bad, small

    with np.errstate(all="ignore"):  # divergence is an outcome, not a warning: the only place this is silenced
        f, g = kernels.f_and_grad(X)
        code, nit, div_at = np.zeros(B, np.int8), np.zeros(B, np.int64), np.full(B, -1, np.int64)
        reason = np.zeros(B, np.int8)
        done, n_done = np.zeros(B, bool), 0

        def mark(t, bad, conv):  # record the rows that finish at step t
            nonlocal done, n_done
            for mask, c in ((conv, 1), (bad, 2)):
                if mask is not None and (mask := mask & ~done).any():
                    code[mask], nit[mask] = c, t
                    if c == 2:
                        div_at[mask] = t
                        reason[mask] = classify(x_seen[mask], f_seen[mask], g_seen[mask], diverge_at)
                    done = done | mask
            n_done = int(np.count_nonzero(done))

        x_seen, f_seen, g_seen = X, f, g
        mark(0, *finished(X, f, g))
        x, state, t_last = X, opt.init(X), 0
        path, losses = ([X], [f]) if keep_path else (None, None)
        for t in range(1, steps + 1):
            if n_done == B:
                break
            oracle.remember(x, f, g)
            if noise is not None:
                eta, gamma, seed = noise
                z = np.random.default_rng([seed, t]).standard_normal((B, n))
                oracle.noise = math.sqrt(eta / t**gamma) * z
            x_new, state = opt.step(state, x, t, oracle)
            if n_done:
                x_new = np.where(done[:, None], x, x_new)  # finished starts stay put
            x, t_last = x_new, t
            f, g = kernels.f_and_grad(x)
            x_seen, f_seen, g_seen = x, f, g
            bad, conv = finished(x, f, g)
            if bad is not None or conv is not None:
                mark(t, bad, conv)
            if keep_path:
                path.append(x)
                losses.append(f)
            if callback is not None:
                callback(t, x, f)
        nit[~done] = t_last
    if keep_path:
        path, losses = np.stack(path), np.stack(losses)
    return x, f, nit, code, div_at, path, losses, reason


def _accepts(factory) -> tuple[set, bool]:
    params = factory.signature.parameters.values()
    return {p.name for p in params if p.kind is not p.VAR_KEYWORD}, any(p.kind is p.VAR_KEYWORD for p in params)


def compare(problem, methods, x0, steps: int = 100, **common) -> Comparison:
    """Run several optimizers from the same starts.

    ``methods`` is a list of registered names (or one comma-separated string), or a dict label -> name
    or configured ``Optimizer``. ``**common`` holds runner options (``tol``, ``path``, ``noise``, ...) and
    hyperparameters; each named method gets the hyperparameters its signature accepts (``lr`` goes to
    all, ``betas`` only to the Adam family), and one that no method accepts is an error. With noise, all
    methods share one seed.
    """
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    items = list(methods.items()) if isinstance(methods, Mapping) else [(str(m), m) for m in methods]
    if not items:
        raise InputError("compare needs at least one method")
    options = {k: common.pop(k) for k in RUNNER_OPTIONS if k in common}
    if options.get("noise") is not None and options.get("seed") is None:
        options["seed"] = int(np.random.SeedSequence().entropy)
    plan, used, known = [], set(), set()
    for label, method in items:
        hyper = {}
        if not isinstance(method, Optimizer):
            key = str(method).strip().lower()
            if key not in REGISTRY:
                get(key)  # raises the did-you-mean error
            names, takes_any = _accepts(REGISTRY[key])
            hyper = {k: v for k, v in common.items() if takes_any or k in names}
            used, known = used | set(hyper), known | names
        plan.append((label, method, hyper))
    unused = sorted(set(common) - used)
    if unused:
        hint = difflib.get_close_matches(unused[0], sorted(known), n=1)
        raise InputError(f"no method in the comparison takes {unused[0]!r}"
                         + (f"; did you mean {hint[0]!r}?" if hint else ""))
    runs = {label: minimize(problem, method, x0, steps, **options, **hyper) for label, method, hyper in plan}
    return Comparison(runs)
