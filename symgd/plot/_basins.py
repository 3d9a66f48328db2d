"""Basins of attraction: which critical point each start of a grid reaches, per optimizer."""

from __future__ import annotations

import numpy as np

from symgd.errors import InputError
from symgd.minimize import compare
from symgd.plot._draw import (_BASIN_COLORS, DIVERGED_COLOR, ELSEWHERE_COLOR, _axis_label, _cp_floats, _fmt,
                              _mark_critical, _normalize_bounds, _pyplot)
from symgd.problem import Problem

def _grid(bounds, resolution: int, n: int) -> tuple[list, np.ndarray]:
    axes = [np.linspace(lo, hi, resolution) for lo, hi in bounds]
    if n == 1:
        return axes, axes[0][:, None]
    X, Y = np.meshgrid(*axes)
    return axes, np.stack([X.ravel(), Y.ravel()], axis=-1)


def basins(problem, methods, bounds, resolution: int = 200, steps: int = 500, *, critical=None,
           radius: float | None = None, tol: float | None = 1e-8, **hyper) -> dict:
    """Which critical point each start of a grid reaches, per optimizer (one batched run per optimizer).

    Returns ``{label: (codes, categories)}``: ``codes`` is an int array of the grid's shape (resolution,
    or (resolution, resolution) with rows along the second variable) indexing ``categories``, a list of
    ``(name, kind)``: first the critical points (kind "minimum", ...), then ``("diverged", "diverged")``
    and ``("elsewhere", "elsewhere")`` (ended farther than ``radius`` from every critical point: still
    moving, stalled, or at a point the analysis did not find). ``radius`` defaults to 1e-3 of the box
    diagonal. Hyperparameters go to every method that takes them (as ``compare``).
    """
    p = problem if isinstance(problem, Problem) else Problem(problem)
    if p.n not in (1, 2):
        raise InputError(f"a basin map needs 1 or 2 variables, got {p.n}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 2 <= resolution <= 2000:
        raise InputError(f"resolution must be an integer in [2, 2000], got {resolution!r}")
    bounds = _normalize_bounds(bounds, p)
    cps = critical if critical is not None else p.critical_points(box=dict(zip(p.variables, bounds)))
    points = _cp_floats(cps, p)
    diag = float(np.linalg.norm([hi - lo for lo, hi in bounds]))
    radius = 1e-3 * diag if radius is None else float(radius)
    _, starts = _grid(bounds, resolution, p.n)
    comp = compare(p, methods, starts, steps, tol=tol, **hyper)
    categories = [(_point_name(q), kind) for kind, q in points] + [("diverged", "diverged"),
                                                                   ("elsewhere", "elsewhere")]
    K = len(points)
    shape = (resolution,) if p.n == 1 else (resolution, resolution)
    out = {}
    for label, run in comp.items():
        x = np.asarray(run.x, dtype=float)
        code = np.full(len(x), K + 1, dtype=np.int64)
        if K:
            with np.errstate(all="ignore"):
                d = np.linalg.norm(x[:, None, :] - np.array([q for _, q in points])[None], axis=-1)
            d = np.where(np.isfinite(d), d, np.inf)
            near = d.argmin(axis=1)
            code = np.where(d[np.arange(len(x)), near] <= radius, near, code)
        diverged = np.array([s == "diverged" for s in run.status])
        code = np.where(diverged, K, code)
        out[label] = (code.reshape(shape), categories)
    return out


def _point_name(q) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in q) + ")"


def basin_map(problem, methods, bounds, resolution: int = 200, steps: int = 500, *, critical=None,
              radius: float | None = None, tol: float | None = 1e-8, figsize=None, **hyper):
    """A panel per optimizer coloring each start of a grid by the critical point it reaches (see ``basins``).

    Critical points get their kind's colors (minima green/blue, saddles orange, maxima red), diverged
    starts are black and starts that reached no critical point light gray. Returns the Figure.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    p = problem if isinstance(problem, Problem) else Problem(problem)
    bounds = _normalize_bounds(bounds, p)
    cps = critical if critical is not None else p.critical_points(box=dict(zip(p.variables, bounds)))
    maps = basins(p, methods, bounds, resolution, steps, critical=cps, radius=radius, tol=tol, **hyper)
    categories = next(iter(maps.values()))[1]
    colors, counters = [], {}
    for name, kind in categories:
        if kind in _BASIN_COLORS:
            i = counters.get(kind, 0)
            counters[kind] = i + 1
            colors.append(_BASIN_COLORS[kind][i % len(_BASIN_COLORS[kind])])
        else:
            colors.append(DIVERGED_COLOR if kind == "diverged" else ELSEWHERE_COLOR)
    cmap = ListedColormap(colors)
    fig, axes = _pyplot().subplots(1, len(maps), figsize=figsize or (4.4 * len(maps), 4.6), squeeze=False)
    present = set()
    for ax, (label, (code, _)) in zip(axes[0], maps.items()):
        img = code[None, :] if p.n == 1 else code
        (x0, x1) = bounds[0]
        (y0, y1) = bounds[1] if p.n == 2 else (0.0, 1.0)
        ax.imshow(img, origin="lower", extent=(x0, x1, y0, y1), cmap=cmap, vmin=-0.5, vmax=len(colors) - 0.5,
                  interpolation="nearest", aspect="auto", gid="basins")
        present |= set(np.unique(code).tolist())
        if p.n == 2:
            _mark_critical(ax, p, cps, bounds)
        lr = f" (lr={_fmt(hyper['lr'])})" if "lr" in hyper and "lr=" not in label else ""
        ax.set_title((label + lr).replace("$", r"\$"), fontsize=10)
        ax.set_xlabel(_axis_label(p.variables[0]))
        if p.n == 2:
            ax.set_ylabel(_axis_label(p.variables[1]))
        else:
            ax.set_yticks([])
    handles = [Patch(color=colors[i], label=(f"{k} {n}" if k not in ("diverged", "elsewhere") else
                                             ("diverged" if k == "diverged" else "no critical point reached")))
               for i, (n, k) in enumerate(categories) if i in present]
    fig.legend(handles=handles, loc="lower center", ncol=min(4, len(handles)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig
