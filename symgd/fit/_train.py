r"""``fit``: mini-batch training of a ``ModelProblem`` with any registered optimizer, and ``FitResult``.

Each epoch draws a fresh permutation of the samples from ``numpy.random.default_rng([seed, epoch])``
(so a run is reproducible from its seed), cuts it into batches in order, and makes one optimizer step
per batch with an oracle bound to that batch (an optimizer that calls grad twice in a step, like NAG's
look-ahead, sees the same batch). ``t`` counts every update across epochs. After each epoch the mean
loss over the whole data is recorded.
"""

from __future__ import annotations

import math
import numbers
import sys
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp

from symgd.errors import InputError
from symgd.fit._checks import _loss_label
from symgd.fit._problem import ModelProblem
from symgd.minimize import Status
from symgd.optimizers import Optimizer, get

_BY_CODE = np.array([Status.MAX_STEPS, Status.CONVERGED, Status.DIVERGED], dtype=object)
_MESSAGES = {0: "trained every epoch", 1: "the full-data gradient norm reached tol",
             2: "the parameters or the loss became non-finite, or |theta| exceeded diverge_at"}
PROGRESS_MIN_STEPS = 2000  # runs with fewer updates never show a progress bar unless progress=True


def fit(problem: ModelProblem, method="gd", x0=None, epochs: int = 100, batch_size: int | None = None,
        shuffle: bool = True, drop_last: bool = False, seed: int = 0, *, tol: float | None = None,
        diverge_at: float = 1e12, record_steps: bool = False, progress: bool | None = None, callback=None,
        **hyper) -> FitResult:
    r"""Train ``problem``'s parameters by mini-batch steps of an optimizer.

    Parameters
    ----------
    problem : ModelProblem
    method : str or Optimizer
        Any registered optimizer (``"gd"``, ``"sgd"``, ``"momentum"``, ``"adam"``, ...), configured by
        ``**hyper`` (``lr=0.1``), or a configured ``Optimizer``. Every optimizer takes mini-batches.
    x0 : array_like, shape (n,) or (N, n), or dict of name to value, optional
        Start(s), in the training parametrization (standardized units when the problem standardizes);
        default ``problem.init`` (an MLP's seeded weights) or zeros, which also fill names a dict leaves out.
    epochs : int
        Passes over the data.
    batch_size : int or None
        Samples per step; None (or at least the number of samples) is full-batch gradient descent, one
        step per epoch.
    shuffle : bool
        A new permutation each epoch from ``default_rng([seed, epoch])``; False keeps the data order.
    drop_last : bool
        Skip the last, smaller batch of each epoch.
    seed : int
        Seed of the shuffling.
    tol : float or None
        Also stop a start when the full-data gradient norm is at most tol after an epoch (None: never).
    diverge_at : float
        A start diverges when some :math:`|\theta_i| >` diverge_at, or θ or its loss is not finite.
    record_steps : bool
        Keep every step's batch loss (at the iterate the step started from) in ``step_losses``.
    progress : bool or None
        A rich progress bar on stderr: only when stderr is a terminal; None shows it for runs of at least
        ``PROGRESS_MIN_STEPS`` updates, True for any run, False never.
    callback : callable or None
        ``callback(epoch, x, loss)`` after each epoch with the (B, n) parameters and (B,) full-data loss.

    Returns
    -------
    FitResult

    Examples
    --------
    Least squares through (0, 1), (1, 3), (2, 5), (3, 8): w = 11.5/5 = 2.3, b = 4.25 - 1.5 w = 0.8, and the
    residuals 0.2, -0.1, -0.4, 0.3 give the mean squared error 0.3/4 = 0.075.

    >>> from symgd.fit import ModelProblem
    >>> p = ModelProblem("w*x + b", "w,b", {"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 3.0, 5.0, 8.0]}, "y")
    >>> r = fit(p, "gd", x0=[0.0, 0.0], epochs=2000, lr=0.1)
    >>> r
    FitResult(gd(lr=0.1) on mse of b + w*x, 4 samples, 2000 epochs x 1 batch of 4)
      #  status     nit   loss   w    b
      0  max_steps  2000  0.075  2.3  0.8
    >>> {k: round(v, 10) for k, v in r.params.items()}
    {'w': 2.3, 'b': 0.8}
    """
    if not isinstance(problem, ModelProblem):
        raise InputError(f"fit needs a ModelProblem, got {type(problem).__name__}")
    opt = get(method, **hyper)
    _check(epochs, batch_size, seed, tol, diverge_at, shuffle, drop_last, record_steps)
    M = problem.n_samples
    bs = M if batch_size is None else min(int(batch_size), M)
    per_epoch = M // bs if drop_last else -(-M // bs)
    x0_user, X = _starts(problem, x0)
    plan = (int(epochs), bs, per_epoch, bool(shuffle), int(seed), None if tol is None else float(tol),
            float(diverge_at), bool(record_steps))
    out = _train(problem, opt, X, plan, progress, callback)
    return FitResult(problem, opt, x0_user, *out, batch_size=bs, steps_per_epoch=per_epoch, seed=int(seed),
                     shuffle=bool(shuffle), drop_last=bool(drop_last))


def _train(problem, opt, X, plan, progress, callback):
    """The loop over epochs and batches; returns x, fun, nit, codes, diverged_at, losses, step losses."""
    epochs, bs, per_epoch, shuffle, seed, tol, diverge_at, record = plan
    B, M = X.shape[0], problem.n_samples
    with np.errstate(all="ignore"):  # divergence is a result, not a warning
        x, state, t = X, opt.init(X), 0
        f = problem.loss_at(x)
        code, nit, div_at = np.zeros(B, np.int8), np.zeros(B, np.int64), np.full(B, -1, np.int64)
        done = _finish(problem, x, f, tol, diverge_at, code, div_at, nit, np.zeros(B, bool), 0)
        losses, steps = [f], ([] if record else None)
        with _bar(progress, epochs, per_epoch, opt.name) as bar:
            for epoch in range(1, epochs + 1):
                if done.all():
                    break
                order = np.random.default_rng([seed, epoch]).permutation(M) if shuffle else None
                for b in range(per_epoch):
                    lo, hi = b * bs, min((b + 1) * bs, M)
                    oracle = problem.batch_oracle(slice(lo, hi) if order is None else order[lo:hi])
                    t += 1
                    x_new, state = opt.step(state, x, t, oracle)
                    if record:
                        steps.append(oracle.f(x))
                    x = np.where(done[:, None], x, x_new) if done.any() else x_new
                    bad = ~done & ~(np.abs(x).max(axis=1) <= diverge_at)
                    if bad.any():
                        code[bad], div_at[bad], nit[bad] = 2, t, t
                        done = done | bad
                f = problem.loss_at(x)
                done = _finish(problem, x, f, tol, diverge_at, code, div_at, nit, done, t)
                losses.append(f)
                bar.advance(f)
                if callback is not None:
                    callback(epoch, x, f)
        nit[~done] = t
    step_losses = None if steps is None else np.array(steps).reshape(-1, B)
    return x, f, nit, code, div_at, np.stack(losses), step_losses


def _finish(problem, x, f, tol, diverge_at, code, div_at, nit, done, t):
    """Mark starts that diverged (non-finite loss) or converged (full-data gradient norm <= tol) at update t."""
    bad = ~done & ~(np.isfinite(f) & (np.abs(x).max(axis=1) <= diverge_at))
    code[bad], div_at[bad], nit[bad] = 2, t, t
    done = done | bad
    if tol is not None:
        g = problem.kernels.grad(x)
        conv = ~done & (np.sqrt(np.einsum("ij,ij->i", g, g)) <= tol)
        code[conv], nit[conv] = 1, t
        done = done | conv
    return done


def _check(epochs, batch_size, seed, tol, diverge_at, shuffle, drop_last, record_steps):
    def integer(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    if not integer(epochs) or epochs < 1:
        raise InputError(f"epochs must be an integer >= 1, got {epochs=}")
    if batch_size is not None and (not integer(batch_size) or batch_size < 1):
        raise InputError(f"batch_size must be an integer >= 1 or None (the whole data), got {batch_size=}")
    if not integer(seed) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed=}")
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0):
        raise InputError(f"tol must be a number >= 0 or None, got {tol=}")
    if isinstance(diverge_at, bool) or not isinstance(diverge_at, numbers.Real) or not diverge_at > 0:
        raise InputError(f"diverge_at must be a positive number, got {diverge_at=}")
    for name, v in (("shuffle", shuffle), ("drop_last", drop_last), ("record_steps", record_steps)):
        if not isinstance(v, (bool, np.bool_)):
            raise InputError(f"{name} must be True or False, got {v!r}")


def _starts(problem: ModelProblem, x0) -> tuple[np.ndarray, np.ndarray]:
    n = problem.n
    if x0 is None:
        x0 = problem.init if problem.init is not None else np.zeros(n)
    if isinstance(x0, dict):
        names = [p.name for p in problem.params]
        unknown = sorted(set(map(str, x0)) - set(names))
        if unknown:
            raise InputError(f"x0 names {unknown[0]!r}, which is not a parameter ({', '.join(names)})")
        default = problem.init if problem.init is not None else np.zeros(n)
        x0 = [float(x0.get(name, default[i])) for i, name in enumerate(names)]
    a = np.asarray(x0)
    if a.dtype.kind not in "biuf":
        raise InputError(f"x0 must be real numbers, got {x0!r}")
    a = np.array(a, dtype=np.float64)
    if a.ndim == 0 and n == 1:
        a = a.reshape(1)
    if a.ndim not in (1, 2) or a.shape[-1] != n or a.size == 0:
        raise InputError(f"x0 of shape {a.shape} does not fit: the model has {n} parameters, so x0 must have "
                         f"shape ({n},) or (N, {n})")
    if not np.isfinite(a).all():
        raise InputError("x0 must be finite")
    return a, np.ascontiguousarray(a.reshape(-1, n))


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def advance(self, f):
        pass


class _RichBar(_NoBar):
    """One line on stderr: epochs done, best current loss, time left (rich; transient)."""

    def __init__(self, epochs: int, label: str):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
        self.epochs, self.label, self.task = epochs, label, None

    def __enter__(self):
        self.progress.start()
        self.task = self.progress.add_task(f"fit {self.label}", total=self.epochs, loss="")
        return self

    def __exit__(self, *exc):
        self.progress.stop()
        return False

    def advance(self, f):
        finite = f[np.isfinite(f)]
        self.progress.update(self.task, advance=1, loss=f"{finite.min():.4g}" if finite.size else "nan")


def _bar(progress, epochs: int, per_epoch: int, label: str):
    if progress is False or not _is_tty():
        return _NoBar()
    if progress is None and epochs * per_epoch < PROGRESS_MIN_STEPS:
        return _NoBar()
    return _RichBar(epochs, label)


def _is_tty() -> bool:
    stream = sys.stderr
    return bool(getattr(stream, "isatty", None) and stream.isatty())


# ---------------------------------------------------------------------------------------------
# the result


def _g4(v) -> str:
    return f"{float(v):.4g}"


def _finite_list(a):
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, None).tolist() if a.size else a.tolist()


def _json_value(v):
    """Hyperparameters as JSON: schedules and optimizers as dicts, tuples as lists, non-finite floats as strings."""
    if hasattr(v, "to_json") and callable(v.to_json):
        return v.to_json()
    if isinstance(v, Optimizer):
        return {"method": v.name, "hyper": _json_value(v.hyper)}
    if isinstance(v, dict):
        return {str(k): _json_value(w) for k, w in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(w) for w in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v if v is None or isinstance(v, (bool, int, float, str)) else repr(v)


@dataclass(frozen=True, eq=False, repr=False)
class FitResult:
    """The result of ``fit``, with scipy's names; one entry per start.

    ``x`` has the shape of x0; for several starts (x0 of shape (N, n)) ``fun``, ``nit``, ``status``,
    ``success`` and ``diverged_at`` are arrays, for one start scalars. ``losses[e]`` is the full-data
    mean loss after epoch e (``losses[0]`` at x0). With standardized inputs ``x`` is in the original
    units when the model allows an exact mapping (``units == "original"``), and ``x_scaled`` holds the
    trained values.
    """

    problem: ModelProblem
    optimizer: Optimizer
    x0: np.ndarray  # as given: (n,) or (N, n), training units
    _x_train: np.ndarray  # (B, n)
    _fun: np.ndarray  # (B,)
    _nit: np.ndarray  # (B,)
    _code: np.ndarray  # (B,) int8: 0 finished the epochs, 1 converged, 2 diverged
    _diverged_at: np.ndarray  # (B,) update number, or -1
    _losses: np.ndarray  # (E+1, B)
    _step_losses: np.ndarray | None  # (T, B)
    batch_size: int = 0
    steps_per_epoch: int = 0
    seed: int = 0
    shuffle: bool = True
    drop_last: bool = False

    batched = property(lambda self: self.x0.ndim == 2, doc="True when x0 was a batch (N, n).")
    method = property(lambda self: self.optimizer.name, doc="The optimizer's registered name.")
    hyper = property(lambda self: self.optimizer.hyper, doc="The optimizer's hyperparameters.")
    epochs = property(lambda self: len(self._losses) - 1, doc="Epochs trained.")

    def _out(self, a):
        return a if self.batched else (a[0].item() if a.ndim == 1 else a[0])

    @property
    def units(self) -> str:
        """``"original"`` or ``"scaled"``: the units of ``x``."""
        return "scaled" if self.problem.standardized and not self.problem.maps_back else "original"

    @cached_property
    def _x(self) -> np.ndarray:
        if self.problem.standardized and self.problem.maps_back:
            with np.errstate(all="ignore"):
                return self.problem.to_original(self._x_train)
        return self._x_train

    x = property(lambda self: self._x if self.batched else self._x[0], doc="Fitted parameters, shaped as x0.")
    fun = property(lambda self: self._out(self._fun), doc="Full-data mean loss at x.")
    nit = property(lambda self: self._out(self._nit), doc="Updates made (the update a start stopped at).")
    diverged_at = property(lambda self: self._out(self._diverged_at), doc="Update of divergence, or -1.")
    success = property(lambda self: self._out(self._code != 2), doc="True where the start did not diverge.")

    @property
    def x_scaled(self):
        """The trained parameters in standardized units (None without standardization)."""
        if not self.problem.standardized:
            return None
        return self._x_train if self.batched else self._x_train[0]

    @property
    def status(self):
        """``Status`` per start: MAX_STEPS (trained every epoch), CONVERGED (tol) or DIVERGED."""
        s = _BY_CODE[self._code]
        return s if self.batched else s[0]

    @property
    def message(self) -> str:
        """What happened, in words."""
        if self.batched:
            counts = [f"{np.count_nonzero(self._code == c)} {_BY_CODE[c].value}" for c in (0, 1, 2)]
            text = ", ".join(counts) + f" (of {len(self._code)} starts)"
        else:
            text = _MESSAGES[int(self._code[0])]
        if self.problem.standardized:
            text += ("; parameters mapped back to the original units" if self.units == "original" else
                     "; parameters are in standardized units (the model is not a polynomial in its inputs)")
        return text

    @property
    def params(self) -> dict:
        """``{name: value}`` (one start) or ``{name: array over starts}``."""
        return {p.name: self._out(self._x[:, i]) for i, p in enumerate(self.problem.params)}

    @property
    def losses(self) -> np.ndarray:
        """Full-data loss per epoch, ``(epochs+1,)`` or ``(epochs+1, N)``."""
        return self._losses if self.batched else self._losses[:, 0]

    @property
    def step_losses(self):
        """Batch loss of every update, ``(T,)`` or ``(T, N)``; None unless ``record_steps=True``."""
        if self._step_losses is None:
            return None
        return self._step_losses if self.batched else self._step_losses[:, 0]

    def __len__(self) -> int:
        return len(self._code)

    def __repr__(self) -> str:
        p, B = self.problem, len(self._code)
        model = sp.sstr(p.model)
        model = model if len(model) <= 50 else model[:47] + "..."
        batches = f"{self.steps_per_epoch} batch{'es' * (self.steps_per_epoch != 1)} of {self.batch_size}"
        head = (f"FitResult({self.optimizer!r} on {_loss_label(p.loss)} of {model}, {p.n_samples} samples, "
                f"{self.epochs} epochs x {batches})")
        names = [q.name for q in p.params[:4]] + (["..."] if p.n > 4 else [])
        table = [("#", "status", "nit", "loss", *names)]
        for i in range(min(B, 5)):
            vals = [_g4(v) for v in self._x[i, :4]] + (["..."] if p.n > 4 else [])
            table.append((str(i), _BY_CODE[self._code[i]].value, str(self._nit[i]), _g4(self._fun[i]), *vals))
        widths = [max(len(r[j]) for r in table) for j in range(len(table[0]))]
        lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
        if B > 5:
            lines.append(f"  ... ({B - 5} more starts)")
        if p.standardized:
            lines.append(f"  (parameters in {self.units} units)")
        return "\n".join([head, *lines])

    def to_json(self) -> dict:
        """The ``fit --json`` document: arrays with the batch axis first, no NaN or Infinity (null)."""
        p, B = self.problem, len(self._code)
        return {
            "model": sp.sstr(p.model), "params": [q.name for q in p.params], "target": p.target.name,
            "loss": p.loss, "n_samples": p.n_samples, "method": self.method, "hyper": _json_value(self.hyper),
            "epochs": self.epochs, "batch_size": self.batch_size, "steps_per_epoch": self.steps_per_epoch,
            "shuffle": self.shuffle, "drop_last": self.drop_last, "seed": self.seed,
            "standardized": list(p.standardized), "units": self.units,
            "x0": _finite_list(self.x0.reshape(B, -1)), "x": _finite_list(self._x),
            "x_scaled": _finite_list(self._x_train) if p.standardized else None,
            "fun": _finite_list(self._fun), "nit": self._nit.tolist(),
            "status": [s.value for s in _BY_CODE[self._code]], "diverged_at": self._diverged_at.tolist(),
            "losses": _finite_list(self._losses.T),
            "step_losses": None if self._step_losses is None else _finite_list(self._step_losses.T),
            "message": self.message,
        }
