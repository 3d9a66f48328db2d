"""Drawing helpers shared by every plot: runs and bounds, colors, the contour/curve background, markers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp

from symgd.errors import InputError
from symgd.latex import symbol_latex
from symgd.minimize import Run
from symgd.problem import Problem
from symgd.schedules import Schedule

COLORS = {"gd": "#1f77b4", "sgd": "#17becf", "momentum": "#ff7f0e", "nag": "#d62728", "adagrad": "#2ca02c",
          "rmsprop": "#9467bd", "adadelta": "#8c564b", "adam": "#e377c2", "adamw": "#7f7f7f", "amsgrad": "#bcbd22",
          "adamax": "#393b79", "nadam": "#637939", "radam": "#8c6d31", "adabound": "#843c39", "swats": "#7b4173",
          "lookahead": "#3182bd", "newton": "#000000"}
_SPARE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
KIND_STYLE = {"minimum": ("*", "#00a651"), "maximum": ("^", "#e41a1c"), "saddle": ("X", "#ff7f00"),
              "degenerate": ("D", "#984ea3")}
_BASIN_COLORS = {"minimum": ["#4daf4a", "#377eb8", "#a6d854", "#80b1d3", "#1b9e77", "#b3de69"],
                 "maximum": ["#e41a1c", "#fb8072", "#fc9272"], "saddle": ["#ff7f00", "#fdb462", "#ffd92f"],
                 "degenerate": ["#984ea3", "#bc80bd", "#cab2d6"]}
DIVERGED_COLOR, ELSEWHERE_COLOR = "#222222", "#d9d9d9"


# ---------------------------------------------------------------------------------------------
# helpers


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _new_axes(ax, figsize=(6.0, 4.8)):
    if ax is not None:
        return ax
    fig, ax = _pyplot().subplots(figsize=figsize)
    return ax


def _runs(obj) -> tuple[Problem, list]:
    """(problem, [(label, Run), ...]) from a Problem, Run, Comparison, dict of Runs or list of Runs."""
    if isinstance(obj, Problem):
        return obj, []
    if isinstance(obj, Run):
        return obj.problem, [(obj.method, obj)]
    if isinstance(obj, Mapping):
        items = list(obj.items())
    elif isinstance(obj, Sequence) and not isinstance(obj, str):
        items = [(getattr(r, "method", str(i)), r) for i, r in enumerate(obj)]
    else:
        raise InputError(f"expected a Problem, Run or Comparison, got {type(obj).__name__}")
    if not items or not all(isinstance(r, Run) for _, r in items):
        raise InputError("expected one or more Runs (from symgd.minimize or symgd.compare)")
    problem = items[0][1].problem
    if any(r.problem is not problem and r.problem.expr != problem.expr for _, r in items):
        raise InputError("the runs are on different problems; plot them separately")
    return problem, [(str(k), r) for k, r in items]


def _fmt(v) -> str:
    if isinstance(v, Schedule):
        return repr(v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _label(label: str, run) -> str:
    """"method (lr=0.1)" (a custom label is kept and gets the lr appended); ``$`` is escaped for mathtext."""
    lr = run.hyper.get("lr")
    text = label if lr is None or "lr=" in label else f"{label} (lr={_fmt(lr)})"
    return text.replace("$", r"\$")


def _colors(runs) -> list[str]:
    """A color per run: the method's fixed color the first time, then spare colors."""
    used, out = set(), []
    spare = iter(_SPARE * 4)
    for _, r in runs:
        c = COLORS.get(r.method)
        if c is None or c in used:
            c = next(spare)
        used.add(c)
        out.append(c)
    return out


def _axis_label(symbol) -> str:
    """``$x_{1}$`` when matplotlib's mathtext can draw it, else the plain name."""
    from matplotlib.mathtext import MathTextParser

    tex = f"${symbol_latex(symbol)}$"
    try:
        MathTextParser("path").parse(tex)
    except ValueError:
        return symbol.name.replace("$", r"\$")
    return tex


def _paths(run) -> np.ndarray:
    """The run's path as (T+1, B, n); an error when it was not recorded."""
    if run.path is None:
        raise InputError("the run has no path: run minimize(..., path=True) to plot trajectories")
    p = np.asarray(run.path, dtype=float)
    return p.reshape(p.shape[0], -1, run.problem.n)


def _critical(problem: Problem, critical, box=None):
    """The critical points to mark: computed (True), given (a CriticalPoints), or none (False/None)."""
    if critical is False or critical is None:
        return None
    if critical is True:
        return problem.critical_points(box=box) if box is not None else problem.critical_points()
    return critical


def _cp_floats(cps, problem: Problem) -> list:
    """[(kind, coordinates array)] of the isolated critical points with finite coordinates."""
    out = []
    for cp in (cps.points if cps is not None else ()):
        q = np.array([cp.point_float[v] for v in problem.variables], dtype=float)
        if np.isfinite(q).all():
            out.append((cp.kind.value, q))
    return out


def _normalize_bounds(bounds, problem: Problem):
    """((lo, hi), ...) per variable from a pair, a list of pairs, or a dict {name or Symbol: pair}."""
    n = problem.n
    if isinstance(bounds, Mapping):
        names = {v.name: i for i, v in enumerate(problem.variables)}
        out = [None] * n
        for k, pair in bounds.items():
            key = k.name if isinstance(k, sp.Symbol) else str(k)
            if key not in names:
                raise InputError(f"bounds name {key!r}, which is not a variable")
            out[names[key]] = pair
        if any(b is None for b in out):
            raise InputError("bounds must give every variable a (lo, hi) pair")
        pairs = out
    else:
        arr = np.asarray(bounds, dtype=float)
        if arr.shape == (2,):
            pairs = [tuple(arr)] * n
        elif arr.shape == (n, 2):
            pairs = [tuple(a) for a in arr]
        else:
            raise InputError(f"bounds must be (lo, hi) or one (lo, hi) per variable, got shape {arr.shape}")
    pairs = [(float(lo), float(hi)) for lo, hi in pairs]
    if not all(math.isfinite(lo) and math.isfinite(hi) and lo < hi for lo, hi in pairs):
        raise InputError(f"bounds need finite lo < hi, got {pairs}")
    return tuple(pairs)


def _auto_bounds(problem: Problem, runs, cps):
    """Bounds around the starts, the critical points and the paths (a diverging path only near the rest)."""
    base = [q for _, q in _cp_floats(cps, problem)]
    base += [row for _, r in runs for row in _paths(r)[0]]
    base = [b for b in base if np.all(np.abs(b) < 1e6)]
    base = np.array(base) if base else np.array([[-5.0] * problem.n, [5.0] * problem.n])
    lo, hi = base.min(axis=0), base.max(axis=0)
    width = np.maximum(hi - lo, 2.0)
    near_lo, near_hi = lo - 2 * width, hi + 2 * width
    for _, r in runs:
        P = _paths(r)
        diverged = np.ravel(np.asarray(r.status == "diverged" if r.batched else [r.status == "diverged"]))
        for b in range(P.shape[1]):
            pts = P[:, b]
            ok = np.isfinite(pts).all(axis=1) & np.all(np.abs(pts) < 1e6, axis=1)
            if diverged[b]:
                ok &= np.all((pts >= near_lo) & (pts <= near_hi), axis=1)
            if ok.any():
                lo, hi = np.minimum(lo, pts[ok].min(axis=0)), np.maximum(hi, pts[ok].max(axis=0))
    pad = np.maximum(0.08 * (hi - lo), 0.5)
    return tuple((float(a - d), float(b + d)) for a, b, d in zip(lo, hi, pad))


def _f(problem: Problem, X: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        Z = np.asarray(problem.kernels.f(np.ascontiguousarray(X, dtype=float)), dtype=float)
    return np.where(np.isfinite(Z), Z, np.nan)


def _use_log(values: np.ndarray, log) -> bool:
    """Auto (None): log scale when the values above their minimum are skewed (median below 3% of the
    maximum, as around an exponential wall) or span more than three decades."""
    if log is not None:
        return bool(log)
    v = values[np.isfinite(values)]
    if v.size < 3:
        return False
    s = v - v.min()
    pos = s[s > 0]
    if not pos.size:
        return False
    return bool(np.median(s) < 0.03 * s.max() or pos.max() / np.median(pos) > 1e3)


def _background(ax, problem: Problem, bounds, levels: int, log, colorbar: bool):
    """Filled contours of f (2 variables) or its curve (1 variable) over ``bounds``."""
    from matplotlib.colors import BoundaryNorm

    if problem.n == 1:
        (lo, hi), = bounds
        xs = np.linspace(lo, hi, 600)
        ax.plot(xs, _f(problem, xs[:, None]), color="0.15", lw=1.5, gid="curve", zorder=1)
        ax.set_xlim(lo, hi)
        ax.set_xlabel(_axis_label(problem.variables[0]))
        ax.set_ylabel("$f$")
        return
    (x0, x1), (y0, y1) = bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, 220), np.linspace(y0, y1, 220))
    Z = _f(problem, np.stack([X, Y], axis=-1))
    finite = Z[np.isfinite(Z)]
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel(_axis_label(problem.variables[0]))
    ax.set_ylabel(_axis_label(problem.variables[1]))
    if finite.size < 2 or finite.max() - finite.min() <= 1e-300:
        return
    zmin, span = float(finite.min()), float(finite.max() - finite.min())
    if _use_log(finite, log):
        lv = zmin + np.concatenate([[0.0], np.geomspace(span * 1e-5, span, max(levels, 2))])
        norm = BoundaryNorm(lv, ncolors=256)
    else:
        lv, norm = np.linspace(zmin, zmin + span, max(levels, 2) + 1), None
    cs = ax.contourf(X, Y, Z, levels=lv, cmap="viridis", norm=norm, alpha=0.9, zorder=0)
    ax.contour(X, Y, Z, levels=lv, colors="k", linewidths=0.25, alpha=0.35, zorder=0)
    if colorbar:
        from matplotlib.ticker import MaxNLocator

        ticks = None if norm is not None else MaxNLocator(7)
        ax.figure.colorbar(cs, ax=ax, ticks=ticks, label="$f$" + (" (log-spaced levels)" if norm is not None else ""))


def _mark_critical(ax, problem: Problem, cps, bounds):
    """One scatter per kind at the critical points inside ``bounds`` (gid ``critical:<kind>``)."""
    by_kind: dict = {}
    for kind, q in _cp_floats(cps, problem):
        if all(lo <= c <= hi for c, (lo, hi) in zip(q, bounds)):
            by_kind.setdefault(kind, []).append(q)
    for kind, qs in by_kind.items():
        marker, color = KIND_STYLE[kind]
        qs = np.array(qs)
        y = qs[:, 1] if problem.n == 2 else _f(problem, qs)
        ax.scatter(qs[:, 0], y, marker=marker, s=170, c=color, edgecolors="white", linewidths=1.2, zorder=6,
                   label=kind, gid=f"critical:{kind}")


def _numbers(ax, xs, ys, every: int, color):
    """Number the iterates t = 1, 1 + every, 1 + 2 every, ... as seed 001 does (``f'{i+1}'``)."""
    for t in range(1, len(xs), every):
        if np.isfinite(xs[t]) and np.isfinite(ys[t]):
            ax.annotate(str(t), (xs[t], ys[t]), textcoords="offset points", xytext=(3, 3), fontsize=7,
                        color=color, gid="number")


def _trajectories(ax, problem: Problem, runs, every):
    colors = _colors(runs)
    for (label, run), color in zip(runs, colors):
        P = _paths(run)
        T = P.shape[0] - 1
        for b in range(P.shape[1]):
            xs = P[:, b, 0]
            ys = P[:, b, 1] if problem.n == 2 else _f(problem, P[:, b, :])
            style = dict(marker="o", ms=3 if T <= 200 else 0, lw=1.2 if problem.n == 2 else 0.6)
            ax.plot(xs, ys, color=color, label=_label(label, run) if b == 0 else None, gid="trajectory",
                    alpha=0.95 if problem.n == 2 else 0.7, zorder=4, **style)
            ax.plot(xs[:1], ys[:1], "o", ms=6, mfc="white", mec=color, gid="start", zorder=5)
            step = every if every is not None else (max(1, math.ceil(T / 10)) if problem.n == 1 else None)
            if step:
                _numbers(ax, xs, ys, int(step), color)


def _legend(ax):
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8, framealpha=0.85)
