"""Results of the runner: ``Status``, ``Run`` (one optimizer, one or many starts) and ``Comparison``.

Field names are scipy's (``x``, ``fun``, ``nit``, ``status``, ``success``, ``message``); reprs print a
fixed number of significant digits so they are the same on every NumPy version (doctest-stable), and
``_repr_latex_`` is one MathJax ``array``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from symgd.errors import InputError
from symgd.optimizers import Optimizer
from symgd.optimizers._core import is_formula_schedule
from symgd.problem import Problem

__all__ = ["REASONS", "REASON_TEXT", "Comparison", "Run", "Status"]


class Status(StrEnum):
    """How a start ended; compares equal to its value (``Status.CONVERGED == "converged"``)."""

    CONVERGED = "converged"
    MAX_STEPS = "max_steps"
    DIVERGED = "diverged"

    @property
    def message(self) -> str:
        """A sentence for people."""
        return {"converged": "the gradient norm reached tol",
                "max_steps": "the step budget ran out before the gradient norm reached tol; increase steps=",
                "diverged": "the iterate or f became non-finite, or |x| exceeded diverge_at"}[self.value]


_BY_CODE = np.array([Status.MAX_STEPS, Status.CONVERGED, Status.DIVERGED], dtype=object)

# Why a start diverged, by code (``Run._reason``): 0 for a start that did not. Checked in this order,
# at the step it happened (``diverged_at``); the compiled backends classify the same way.
REASONS = ("", "nan", "overflow", "diverge_at", "domain", "pole")
REASON_TEXT = {
    "nan": "x became NaN",
    "overflow": "x, or f or its gradient at a large x, overflowed to infinity",
    "diverge_at": "|x| exceeded diverge_at",
    "domain": "f or its gradient is NaN at a finite x (outside f's domain: log or sqrt of a negative number, 0/0)",
    "pole": "f or its gradient is infinite at a finite x (a pole: division by zero, log(0))",
}


def _g4(v) -> str:
    """Four significant digits, the same on every numpy version (doctest-stable)."""
    return f"{float(v):.4g}"


def _vec(row, limit: int = 4) -> str:
    items = [_g4(v) for v in row[:limit]] + (["..."] if len(row) > limit else [])
    return "(" + ", ".join(items) + ")"


def _latex_num(v) -> str:
    import sympy as sp

    v = float(v)
    return sp.latex(sp.Float(v, 4)) if math.isfinite(v) else (r"\text{nan}" if math.isnan(v) else
                                                            ("" if v > 0 else "-") + r"\infty")


def _jsonable(v):
    """Hyperparameters as JSON: schedules and inner optimizers as dicts, tuples as lists, inf as "inf"."""
    if is_formula_schedule(v):
        return v.to_json()
    if isinstance(v, Optimizer):
        return {"method": v.name, "hyper": _jsonable(v.hyper)}
    if isinstance(v, dict):
        return {str(k): _jsonable(w) for k, w in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(w) for w in v]
    if isinstance(v, (np.ndarray, np.generic)):
        return _jsonable(v.tolist())
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return repr(v)


def _finite_list(a):
    """A float array as nested lists with None for NaN and infinities (JSON has neither)."""
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, None).tolist() if a.size else a.tolist()


def _short(problem, limit: int = 60) -> str:
    s = problem._printed()
    return s if len(s) <= limit else s[: limit - 3] + "..."


@dataclass(frozen=True, eq=False, repr=False)
class Run:
    """The result of ``minimize``: scipy's field names, one entry per start.

    ``x`` has the shape of ``x0``; for a batch ``fun``, ``nit``, ``status``, ``success`` and
    ``diverged_at`` are arrays over the starts (``status`` an object array of ``Status``), for a single
    start (x0 of shape (d,)) they are scalars. ``path`` is ``(T+1,) + x0.shape`` and ``losses``
    ``(T+1,)`` or ``(T+1, N)`` with T the largest ``nit`` (finished starts repeat their last point),
    or None without ``path=True``. ``run[i]`` is start i alone.
    """

    problem: Problem
    optimizer: Optimizer
    x0: np.ndarray  # as given: (d,) or (N, d)
    _x: np.ndarray  # (B, n)
    _fun: np.ndarray  # (B,)
    _nit: np.ndarray  # (B,)
    _code: np.ndarray  # (B,) int8: 0 max_steps, 1 converged, 2 diverged
    _diverged_at: np.ndarray  # (B,), -1 if not diverged
    _path: np.ndarray | None  # (T+1, B, n)
    _losses: np.ndarray | None  # (T+1, B)
    steps: int = 0
    tol: float | None = None
    noise: float | None = None
    noise_gamma: float = 0.55
    seed: int | None = None
    _reason: np.ndarray | None = None  # (B,) int8 index into REASONS; None: no diverged start
    backend: str = "numpy"  # which backend ran: "numpy", "python" or "numba"
    backend_reason: str = ""  # why that backend (and not another) ran

    @property
    def batched(self) -> bool:
        """True when x0 was a batch (N, d)."""
        return self.x0.ndim == 2

    def _out(self, a):
        return a if self.batched else (a[0].item() if isinstance(a[0], np.generic) else a[0])

    x = property(lambda self: self._x if self.batched else self._x[0], doc="Final iterates, shaped as x0.")
    fun = property(lambda self: self._out(self._fun), doc="f at the final iterates.")
    nit = property(lambda self: self._out(self._nit), doc="Updates taken (the step it finished at).")
    diverged_at = property(lambda self: self._out(self._diverged_at), doc="Step of divergence, or -1.")
    reason = property(lambda self: self._out(self._reasons()), doc="Why a start diverged (see REASONS), or ''.")
    method = property(lambda self: self.optimizer.name, doc="The optimizer's registered name.")
    hyper = property(lambda self: self.optimizer.hyper, doc="The optimizer's hyperparameters.")

    def _reasons(self) -> np.ndarray:
        codes = np.zeros(len(self._code), np.int8) if self._reason is None else self._reason
        return np.array(REASONS, dtype=object)[codes]

    @property
    def status(self):
        """``Status`` per start (an object array for a batch)."""
        s = _BY_CODE[self._code]
        return s if self.batched else s[0]

    @property
    def success(self):
        """True where the start converged."""
        return self._out(self._code == 1)

    @property
    def message(self) -> str:
        """What happened, in words."""
        if not self.batched:
            if self._code[0] == 2 and self._reason is not None and self._reason[0]:
                return f"diverged at step {self._diverged_at[0]}: {REASON_TEXT[REASONS[self._reason[0]]]}"
            return _BY_CODE[self._code[0]].message
        counts = [f"{np.count_nonzero(self._code == c)} {_BY_CODE[c].value}" for c in (1, 0, 2)]
        return ", ".join(counts) + f" (of {len(self._code)} starts)"

    @property
    def path(self):
        """Every iterate, ``(T+1,) + x0.shape``; None unless ``path=True``."""
        return None if self._path is None else (self._path if self.batched else self._path[:, 0])

    @property
    def losses(self):
        """f along the path, ``(T+1,)`` or ``(T+1, N)``; None unless ``path=True``."""
        return None if self._losses is None else (self._losses if self.batched else self._losses[:, 0])

    def __len__(self) -> int:
        return len(self._code)

    def __getitem__(self, i) -> Run:
        """Start i alone (x0 of shape (d,)); a slice or index array keeps a batch."""
        idx = np.arange(len(self._code))[i]
        rows = np.atleast_1d(idx)
        if not rows.size:
            raise IndexError(f"{i!r} selects no start of {len(self)}")
        T = int(self._nit[rows].max())
        x0 = self.x0.reshape(-1, self._x.shape[1])[idx]
        cut = None if self._path is None else self._path[: T + 1, rows]
        cut_f = None if self._losses is None else self._losses[: T + 1, rows]
        return Run(self.problem, self.optimizer, x0, self._x[rows], self._fun[rows], self._nit[rows],
                   self._code[rows], self._diverged_at[rows], cut, cut_f, steps=self.steps, tol=self.tol,
                   noise=self.noise, noise_gamma=self.noise_gamma, seed=self.seed,
                   _reason=None if self._reason is None else self._reason[rows], backend=self.backend,
                   backend_reason=self.backend_reason)

    def _rows(self, limit: int = 5):
        B = len(self._code)
        shown = range(min(B, limit))
        rows = [(str(i), _BY_CODE[self._code[i]].value, str(self._nit[i]), _g4(self._fun[i]), _vec(self._x[i]))
                for i in shown]
        return rows, B - len(shown)

    def __repr__(self) -> str:
        B = len(self._code)
        head = (f"Run({self.optimizer!r} on {_short(self.problem)}, {B} start{'s' * (B != 1)}, "
                f"steps={self.steps})")
        rows, more = self._rows()
        table = [("#", "status", "nit", "fun", "x"), *rows]
        widths = [max(len(r[j]) for r in table) for j in range(5)]
        lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
        if more:
            lines.append(f"  ... ({more} more start{'s' * (more != 1)})")
        return "\n".join([head, *lines])

    def _repr_latex_(self) -> str:
        """A MathJax-safe ``array`` (no ``tabular``): one row per start, five at most."""
        B = len(self._code)
        body = [r"\# & \text{status} & \text{nit} & f & x \\ \hline"]
        for i in range(min(B, 5)):
            xs = ", ".join(_latex_num(v) for v in self._x[i][:4]) + (r", \ldots" if self._x.shape[1] > 4 else "")
            body.append(rf"{i} & \text{{{_BY_CODE[self._code[i]].value.replace('_', ' ')}}} & {self._nit[i]} & "
                        rf"{_latex_num(self._fun[i])} & ({xs}) \\")
        if B > 5:
            body.append(rf"\vdots & \text{{{B - 5} more}} & & & \\")
        return r"$\begin{array}{rlrll}" + " ".join(body) + r"\end{array}$"

    def to_json(self) -> dict:
        """The ``run --json`` document: arrays with the batch axis first, no NaN or Infinity (null)."""
        doc = {"method": self.method, "hyper": _jsonable(self.hyper),
               "x0": _finite_list(self.x0.reshape(len(self), -1)),
               "x": _finite_list(self._x), "fun": _finite_list(self._fun), "nit": self._nit.tolist(),
               "status": [s.value for s in _BY_CODE[self._code]], "diverged_at": self._diverged_at.tolist(),
               "reason": [r or None for r in self._reasons()], "backend": self.backend,
               "path": None if self._path is None else _finite_list(np.swapaxes(self._path, 0, 1))}
        if self._losses is not None:
            doc["losses"] = _finite_list(self._losses.T)
        if self.noise is not None:
            doc["noise"] = {"eta": self.noise, "gamma": self.noise_gamma, "seed": self.seed}
        return doc

    def plot(self, **options):
        """Contour plot with the trajectories (2 variables) or loss curves: ``symgd.plot`` (imported lazily)."""
        plot = _plot_module()
        return plot.contour(self, **options) if self.problem.n == 2 else plot.loss_curves(self, **options)


def _plot_module():
    from symgd import plot  # lazy: layer 6, and matplotlib loads only when a plot is asked for

    return plot


@dataclass(frozen=True, repr=False)
class Comparison(Mapping):
    """Several optimizers from the same starts: an ordered mapping label -> ``Run``."""

    runs: dict

    def __getitem__(self, label: str) -> Run:
        return self.runs[label]

    def __iter__(self):
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    def _rows(self, num):
        """(label, converged/B, diverged, median nit, best f) per run, numbers formatted by ``num``."""
        for label, r in self.runs.items():
            best = np.nanmin(r._fun) if np.isfinite(r._fun).any() else float("nan")
            yield (str(label), f"{np.count_nonzero(r._code == 1)}/{len(r)}", str(np.count_nonzero(r._code == 2)),
                   num(np.median(r._nit)), num(best))

    def __repr__(self) -> str:
        table = [("method", "converged", "diverged", "median nit", "best fun"), *self._rows(_g4)]
        widths = [max(len(row[j]) for row in table) for j in range(5)]
        lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
        first = next(iter(self.runs.values()))
        head = f"Comparison on {_short(first.problem)}, {len(first)} start{'s' * (len(first) != 1)}"
        return "\n".join([head, *lines])

    def _repr_latex_(self) -> str:
        """The same table for Jupyter, MathJax-safe (``array``, no ``tabular``)."""
        body = [r"\text{method} & \text{converged} & \text{diverged} & \text{median nit} & \text{best } f \\ \hline"]
        for label, *cells in self._rows(_latex_num):
            name = "".join(c for c in label if c.isalnum() or c in " -_.").replace("_", r"\_")
            body.append(rf"\text{{{name}}} & " + " & ".join(cells) + r" \\")
        return r"$\begin{array}{lrrrr}" + " ".join(body) + r"\end{array}$"

    def to_json(self) -> dict:
        """``{label: run.to_json()}``."""
        return {label: r.to_json() for label, r in self.runs.items()}

    def plot(self, **options):
        """All runs on one contour plot (2 variables) or their loss curves: ``symgd.plot`` (lazily)."""
        plot = _plot_module()
        return plot.contour(self, **options) if self.problem.n == 2 else plot.loss_curves(self, **options)

    @property
    def problem(self) -> Problem:
        """The objective all runs share."""
        return next(iter(self.runs.values())).problem
