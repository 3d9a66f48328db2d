"""Animations: optimizers racing on one surface, as a GIF (matplotlib's pillow writer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from symgd.errors import InputError
from symgd.output import atomic_path, check_target
from symgd.plot._draw import (_auto_bounds, _background, _colors, _critical, _f, _label, _legend, _mark_critical,
                              _normalize_bounds, _paths, _runs)

def _frame_steps(T: int, frames: int) -> list[int]:
    """``frames`` distinct update numbers from 0 to T (all of them when T + 1 <= frames)."""
    if T + 1 <= frames:
        return list(range(T + 1))
    return [int(round(v)) for v in np.linspace(0, T, frames)]


def animate(comparison_or_runs, path, fps: int = 12, frames: int = 60, *, force: bool = False, bounds=None,
            levels: int = 30, log=None, critical=True, dpi: int = 80, figsize=(6.4, 5.0), title=None):
    """A GIF of optimizers racing on one surface (or curve), written with matplotlib's pillow writer.

    Frame i shows every trajectory up to update t_i, with ``frames`` values of t_i spread evenly from 0
    to the longest path (fewer when the paths are shorter); each frame's title says its t, so no two
    frames are alike (the GIF keeps all of them). Returns the path.
    """
    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    problem, runs = _runs(comparison_or_runs)
    if not runs:
        raise InputError("animate needs runs (minimize or compare with path=True)")
    if problem.n not in (1, 2):
        raise InputError(f"animate needs 1 or 2 variables, got {problem.n}")
    for name, v in (("fps", fps), ("frames", frames), ("dpi", dpi)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError(f"{name} must be a positive integer, got {v!r}")
    check_target(path, force=force)  # before any work (and before an Animation exists: it warns if never saved)
    paths = [_paths(r) for _, r in runs]
    if bounds is None:
        cps = _critical(problem, critical)
        bounds = _auto_bounds(problem, runs, cps)
    else:
        bounds = _normalize_bounds(bounds, problem)
        cps = _critical(problem, critical, box=dict(zip(problem.variables, bounds)))
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _background(ax, problem, bounds, levels, log, colorbar=False)
    if cps is not None:
        _mark_critical(ax, problem, cps, bounds)
    lines = []
    for (label, run), color, P in zip(runs, _colors(runs), paths):
        for b in range(P.shape[1]):
            line, = ax.plot([], [], "-", color=color, lw=1.6, label=_label(label, run) if b == 0 else None,
                            gid="trajectory")
            head, = ax.plot([], [], "o", color=color, ms=7, mec="white", gid="head")
            ys = P[:, b, 1] if problem.n == 2 else _f(problem, P[:, b, :])
            lines.append((line, head, P[:, b, 0], ys))
    _legend(ax)
    T = max(P.shape[0] for P in paths) - 1
    steps = _frame_steps(T, frames)
    heading = (title.replace("$", r"\$") + ": ") if title else ""
    text = ax.set_title("")

    def draw(t):
        for line, head, xs, ys in lines:
            k = min(t, len(xs) - 1)
            line.set_data(xs[:k + 1], ys[:k + 1])
            head.set_data(xs[k:k + 1], ys[k:k + 1])
        text.set_text(f"{heading}update t = {t}")
        return [a for ln in lines for a in ln[:2]] + [text]

    with atomic_path(path, force=force) as tmp:  # the temporary file first: an Animation never saved warns
        anim = FuncAnimation(fig, draw, frames=steps, blit=False, repeat=False)
        anim.save(tmp, writer=PillowWriter(fps=fps))
    return Path(str(path))
