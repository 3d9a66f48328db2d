r"""Pictures of f and of optimizers on it: contours, curves, loss curves, learning-rate panels, basins, GIFs.

Matplotlib is imported inside the functions (``import symgd`` stays fast and headless); nothing here calls
``plt.show()`` or changes global rcParams. A function given ``ax`` draws into it and returns it; without
one it makes a figure with ``pyplot`` (so it shows up in Jupyter). Files are written by :func:`save` and
:func:`animate` through ``symgd.output`` (atomic; an existing file needs ``force=True``).

- ``contour(obj)``: ``obj`` a Problem, Run or Comparison. Two variables: filled contours, critical points
  marked by kind, one trajectory line per optimizer and start (legend "method (lr=...)"); one variable:
  the curve with the iterates as points, numbered like seed 001's figures.
- ``loss_curves(obj)``: f (or a fit's loss) against the update or epoch; log scale when it spans decades.
- ``lr_panel(problem, method, x0, lrs, steps)``: the same run at several learning rates, side by side.
- ``basins(...)`` / ``basin_map(...)``: which critical point each start of a grid reaches, per optimizer,
  from one batched run per optimizer.
- ``animate(comparison, path)``: a GIF of optimizers racing on one surface (pillow writer).

Colors are fixed per optimizer name (``COLORS``), so an optimizer looks the same in every figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from symgd.errors import InputError
from symgd.minimize import minimize
from symgd.output import atomic_path
from symgd.plot._animate import animate
from symgd.plot._basins import basin_map, basins
from symgd.plot._draw import (COLORS, KIND_STYLE, _auto_bounds, _background, _colors, _critical, _fmt, _label,
                              _legend, _mark_critical, _new_axes, _normalize_bounds, _pyplot, _runs,
                              _trajectories, _use_log)
from symgd.problem import Problem

__all__ = ["COLORS", "KIND_STYLE", "animate", "basin_map", "basins", "contour", "loss_curves", "lr_panel",
           "save"]


def _fit_ylim(ax, bounds):
    """One variable: the y-range of what is drawn inside the x-bounds (iterates outside them do not count)."""
    (lo, hi), ys = bounds[0], []
    for line in ax.lines:
        xs, y = (np.asarray(a, dtype=float) for a in line.get_data())
        inside = (xs >= lo) & (xs <= hi) & np.isfinite(y)
        ys.append(y[inside])
    ys = np.concatenate(ys) if ys else np.zeros(0)
    if ys.size and ys.max() > ys.min():
        pad = 0.06 * (ys.max() - ys.min())
        ax.set_ylim(ys.min() - pad, ys.max() + pad)


def contour(obj, ax=None, *, bounds=None, levels: int = 30, log=None, critical=True, every=None,
            colorbar: bool = True, title: str | None = None):
    """f with critical points and trajectories; returns the Axes.

    Parameters
    ----------
    obj : Problem, Run or Comparison (or a dict or list of Runs recorded with ``path=True``)
    ax : matplotlib Axes, optional
    bounds : (lo, hi), one (lo, hi) per variable, or {name: (lo, hi)}; default around the starts,
        the critical points and the paths.
    levels : int
        Number of contour levels.
    log : bool or None
        Log-spaced levels; None decides from the values (skewed, as near an exponential wall, or spanning
        more than three decades above the minimum).
    critical : bool or CriticalPoints
        Mark the critical points (computed in the plotted box when True).
    every : int, optional
        Number every ``every``-th iterate (1, 1 + every, ...); default every tenth of the path for one
        variable, none for two.
    """
    problem, runs = _runs(obj)
    if problem.n not in (1, 2):
        raise InputError(f"contour needs 1 or 2 variables, got {problem.n}; fix the others with Problem(f.subs(...))")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        raise InputError(f"every must be a positive integer, got {every!r}")
    if bounds is None:
        cps = _critical(problem, critical)
        bounds = _auto_bounds(problem, runs, cps)
    else:
        bounds = _normalize_bounds(bounds, problem)
        cps = _critical(problem, critical, box=dict(zip(problem.variables, bounds)))
    ax = _new_axes(ax)
    _background(ax, problem, bounds, levels, log, colorbar)
    _trajectories(ax, problem, runs, every)
    if problem.n == 1:
        _fit_ylim(ax, bounds)
    if cps is not None:
        _mark_critical(ax, problem, cps, bounds)
    _legend(ax)
    if title is not None:
        ax.set_title(title.replace("$", r"\$"))
    return ax


# ---------------------------------------------------------------------------------------------
# losses and learning rates


def _loss_series(obj) -> tuple[list, str]:
    """[(label, color, (T+1, B) values)] and the x-axis name, from runs or fit results."""
    if hasattr(obj, "losses") and hasattr(obj, "epochs"):  # a symgd.fit.FitResult
        obj = {obj.method: obj}
    if isinstance(obj, Mapping) and obj and all(hasattr(r, "epochs") for r in obj.values()):
        items = list(obj.items())
        series = [(str(k), r, np.asarray(r.losses, dtype=float).reshape(len(r.losses), -1)) for k, r in items]
        return [(_label(k, r), c, v) for (k, r, v), c in zip(series, _colors(items))], "epoch"
    _, runs = _runs(obj)
    out = []
    for (label, run), color in zip(runs, _colors(runs)):
        if run.losses is None:
            raise InputError("the run has no losses: run minimize(..., path=True) to plot loss curves")
        v = np.asarray(run.losses, dtype=float)
        out.append((_label(label, run), color, v.reshape(v.shape[0], -1)))
    return out, "update $t$"


def loss_curves(obj, ax=None, log=None):
    """f against the update number (or a fit's loss against the epoch), one line per optimizer and start.

    ``log=None`` picks a log y-axis when the values span more than three decades; when some values are
    not positive a log axis shows ``f - min f`` instead (the minimum over all curves). Returns the Axes.
    """
    series, xname = _loss_series(obj)
    allv = np.concatenate([v.ravel() for _, _, v in series])
    allv = allv[np.isfinite(allv)]
    use_log = _use_log(allv, log) if allv.size else False
    shift = float(allv.min()) if use_log and allv.size and allv.min() <= 0 else None
    ax = _new_axes(ax)
    for label, color, v in series:
        v = np.where(np.isfinite(v), v, np.nan)
        if shift is not None:
            v = v - shift
            v = np.where(v > 0, v, np.nan)
        for b in range(v.shape[1]):
            ax.plot(np.arange(v.shape[0]), v[:, b], color=color, lw=1.3, label=label if b == 0 else None,
                    gid="loss")
    if use_log:
        ax.set_yscale("log")
    ax.set_xlabel(xname)
    ax.set_ylabel("$f - \\min f$" if shift is not None else ("loss" if xname == "epoch" else "$f$"))
    _legend(ax)
    return ax


def lr_panel(problem, method, x0, lrs, steps: int = 100, *, bounds=None, critical=True, every=None,
             levels: int = 30, log=None, figsize=None, **hyper):
    """The same optimizer and start at several learning rates, one panel each (seed 000's lr 0.01 / 0.1 / 1).

    Each panel is a :func:`contour` of its run, titled with the lr and how the run ended. The critical
    points are computed once. Returns the Figure.
    """
    p = problem if isinstance(problem, Problem) else Problem(problem)
    lrs = list(lrs)
    if not lrs:
        raise InputError("lr_panel needs at least one learning rate")
    runs = [minimize(p, method, x0, steps, path=True, lr=lr, **hyper) for lr in lrs]
    cps = _critical(p, critical)
    fig, axes = _pyplot().subplots(1, len(lrs), figsize=figsize or (4.6 * len(lrs), 4.0), squeeze=False)
    for ax, lr, run in zip(axes[0], lrs, runs):
        contour(run, ax=ax, bounds=bounds, critical=cps if cps is not None else False, every=every,
                levels=levels, log=log, colorbar=False)
        end = np.ravel(run.x)
        where = ", ".join(f"{v:.4g}" for v in end[:3])
        ax.set_title(f"lr = {_fmt(lr)}: {run.status.value}, x = ({where})" if not run.batched else
                     f"lr = {_fmt(lr)}", fontsize=9)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# basins of attraction


# ---------------------------------------------------------------------------------------------
# files: figures and animations


def save(fig, path, force: bool = False, **savefig_kw):
    """Save a Figure (or an Axes' figure) to ``path`` atomically; the format comes from the suffix.

    An existing file needs ``force=True``. Returns the path.
    """
    fig = getattr(fig, "figure", fig) if not hasattr(fig, "savefig") else fig
    if not hasattr(fig, "savefig"):
        raise InputError(f"save needs a matplotlib Figure or Axes, got {type(fig).__name__}")
    suffix = Path(str(path)).suffix.lower().lstrip(".")
    if suffix not in fig.canvas.get_supported_filetypes():
        raise InputError(f"cannot save a figure as {path!r}: use .png, .pdf or .svg")
    with atomic_path(path, force=force) as tmp:
        fig.savefig(tmp, **{"dpi": 110, "bbox_inches": "tight", **savefig_kw})
    return Path(str(path))
