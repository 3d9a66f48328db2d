"""Regenerate worked_examples/: one folder per starred row of the slides' table (shared/SLIDES.md).

Each folder ``<ID>/`` holds ``<ID>.tex`` (a worked example written by ``symgd.latex``), its compiled
``<ID>.pdf``, and figures (``<ID>_*.png``, ``<ID>_*.gif``) drawn by ``symgd.plot``. Every result in
them is computed here by symgd (the titles and the quotes of the slides' printed values restate
SLIDES.md). The ``.tex`` files are deterministic (no dates, no paths), so a test regenerates them and
compares (tests/test_worked_examples.py).

Usage::

    python worked_examples/make_examples.py [--out DIR] [--only C1,G2] [--tex-only] [--no-pdf]

``--tex-only`` writes only the ``.tex`` files (fast: what the test compares); ``--no-pdf`` skips pdflatex.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

import symgd as sg
from symgd import latex, plot
from symgd.errors import SymgdError
from symgd.fit import ModelProblem, fit
from symgd.optimizers import get
from symgd.output import write

HERE = Path(__file__).resolve().parent
TIMEOUT = 60.0  # seconds per critical-point route: generous, so that a busy machine gives the same answer


@dataclass
class Ctx:
    """Where one example writes, and what to skip."""

    root: Path
    id: str
    tex_only: bool = False
    pdf: bool = True
    written: list = field(default_factory=list)

    @property
    def dir(self) -> Path:
        d = self.root / self.id
        d.mkdir(parents=True, exist_ok=True)
        return d

    def tex(self, text: str) -> None:
        path = latex.write(self.dir / f"{self.id}.tex", text, force=True)
        self.written.append(path)
        if self.pdf and not self.tex_only:
            self.written.append(latex.compile_pdf(path, force=True))

    def png(self, name: str, make: Callable) -> None:
        if self.tex_only:
            return
        import matplotlib.pyplot as plt

        fig = make()
        fig = fig if hasattr(fig, "savefig") else fig.figure
        self.written.append(plot.save(fig, self.dir / f"{self.id}_{name}.png", force=True, dpi=100))
        plt.close(fig)

    def gif(self, name: str, make_runs: Callable, **options) -> None:
        if self.tex_only:
            return
        self.written.append(plot.animate(make_runs(), self.dir / f"{self.id}_{name}.gif", force=True, **options))


EXAMPLES: dict[str, tuple[str, Callable]] = {}


def example(key: str, title: str):
    def register(fn):
        EXAMPLES[key] = (title, fn)
        return fn
    return register


def g(v: float, digits: int = 7) -> str:
    """A number for a sentence of a remark."""
    return f"{float(v):.{digits}g}"


def lr_runs(p, method, x0, lrs, steps, **hyper) -> dict:
    """{"method lr=..": Run} for a loss-curve comparison at several learning rates."""
    return {f"{method} (lr={lr:g})": sg.minimize(p, method, x0, steps, path=True, lr=lr, **hyper) for lr in lrs}


# ---------------------------------------------------------------------------------------------
# calculus (seed 000)


@example("C1", "x^2 - 10x + 1: derivative, the one minimum, gradient descent at three learning rates")
def c1(ctx: Ctx):
    p = sg.Problem("x^2 - 10x + 1")
    cps = p.critical_points(timeout=TIMEOUT)
    x, eta = p.variables[0], sp.Symbol("eta")
    update = sp.collect(sp.expand(x - eta * p.gradient[0]), x)
    flips = sg.minimize(p, "gd", [3.0], 4, lr=1.0, path=True).path.ravel()
    notes = [f"Gradient descent here is x <- {sp.sstr(update)} with eta the learning rate (seed 000's closed "
             f"form (1 - 2 gamma) x + 10 gamma). With eta = 1 the factor 1 - 2 eta is -1: from x0 = 3 the "
             f"iterates are {', '.join(g(v) for v in flips)}, flipping between x0 and 10 - x0 forever."]
    ctx.tex(latex.document(p, method="gd", x0=[0.0], steps=20, hyper={"lr": 0.1}, critical=cps,
                           title="C1: f(x) = x² − 10x + 1", notes=notes))
    ctx.png("lr_panel", lambda: plot.lr_panel(p, "gd", [0.0], [0.01, 0.1, 1.0], 30, critical=cps, every=5))
    ctx.png("loss", lambda: plot.loss_curves(lr_runs(p, "gd", [0.0], [0.01, 0.1, 1.0], 30)))


@example("C3", "x1^2 + x1 - 4 x1 x2 + x1^3 x2: three saddle points")
def c3(ctx: Ctx):
    p = sg.Problem("x1^2 + x1 - 4*x1*x2 + x1^3*x2")
    cps = p.critical_points(timeout=TIMEOUT)
    x1, x2 = p.variables
    slide = {x1: -2, x2: sp.Rational(1, 8)}
    g1 = p.gradient[0].subs(slide)
    notes = [f"The slide prints the critical point (-2, 0.125). There the first partial derivative is {g1}, "
             f"not 0: the point is (-2, 3/8). Its value still reads 2 because f(-2, x2) = "
             f"{sp.sstr(sp.expand(p.expr.subs(x1, -2)))} for every x2.",
             f"The Hessian determinant is {sp.sstr(sp.factor(p.hessian.det()))}, negative wherever "
             f"3 x1^2 != 4, so every critical point is a saddle."]
    ctx.tex(latex.document(p, critical=cps, title="C3: f = x₁² + x₁ − 4x₁x₂ + x₁³x₂", notes=notes))
    ctx.png("contour", lambda: plot.contour(p, bounds=[(-3, 3), (-1.5, 1.5)], critical=cps, log=False))


@example("C6", "x^4 - 50x^3 - x + 1: one real critical point, and the learning rate decides everything")
def c6(ctx: Ctx):
    p = sg.Problem("x^4 - 50x^3 - x + 1")
    cps = p.critical_points(timeout=TIMEOUT)
    runs = {lr: sg.minimize(p, "gd", [-10.0], 1000, lr=lr, path=True) for lr in (1e-5, 3e-4, 4e-4)}
    slow, cycle = runs[1e-5], runs[4e-4].path.ravel()
    d1 = float(p.kernels.grad(np.array([[slow.x[0]]]))[0, 0])
    notes = [f"With lr = 1e-05, 1000 updates from -10 end at x = {g(slow.x[0])}, where f'(x) = {g(d1, 4)}: the "
             "slide calls this a local minimum, but f' is not 0 there. The curve is nearly flat (f'' is small "
             "near 0), so tiny steps crawl; the only critical point is the minimum above.",
             f"With lr = 4e-04 the iterates settle into a period-2 cycle: the last two are {g(cycle[-2], 6)} and "
             f"{g(cycle[-1], 6)}. With lr = 3e-04 they converge to the minimum ({runs[3e-4].status.value} "
             f"after {runs[3e-4].nit} updates, x = {g(runs[3e-4].x[0])})."]
    ctx.tex(latex.document(p, method="gd", x0=[-10.0], steps=1000, hyper={"lr": 3e-4}, critical=cps,
                           title="C6: f(x) = x⁴ − 50x³ − x + 1", notes=notes))
    ctx.png("lr_panel", lambda: plot.lr_panel(p, "gd", [-10.0], [1e-5, 3e-4, 4e-4], 1000, critical=cps))
    ctx.png("flat_region", lambda: plot.contour(runs[1e-5], bounds=(-2.0, 1.0), critical=cps, every=100))
    ctx.png("loss", lambda: plot.loss_curves({f"gd (lr={lr:g})": r for lr, r in runs.items()}))


@example("C7", "0.1 x1^2 + x2^2 from (-8, 5): learning rates, and an optimizer race")
def c7(ctx: Ctx):
    p = sg.Problem("0.1*x1^2 + x2^2")
    cps = p.critical_points(timeout=TIMEOUT)
    flip = sg.minimize(p, "gd", [-8.0, 5.0], 6, lr=1.0, path=True).path[:, 1]
    notes = [f"With lr = 1 the factor on x2 is 1 - 2 lr = -1: x2 goes {', '.join(g(v) for v in flip)} and never "
             "settles, while x1 shrinks by 1 - 0.2 lr = 0.8 per update."]
    ctx.tex(latex.document(p, method="gd", x0=[-8.0, 5.0], steps=30, hyper={"lr": 0.9}, critical=cps,
                           title="C7: f = 0.1x₁² + x₂²", notes=notes, show=6))
    race = {"gd": get("gd", lr=0.9), "momentum": get("momentum", lr=0.1, momentum=0.9),
            "adagrad": get("adagrad", lr=1.0), "rmsprop": get("rmsprop", lr=0.1), "adam": get("adam", lr=0.5)}

    def comparison():
        return sg.compare(p, race, [-8.0, 5.0], 100, path=True)

    ctx.png("lr_panel", lambda: plot.lr_panel(p, "gd", [-8.0, 5.0], [0.9, 0.5, 1.0], 30, critical=cps))
    ctx.png("race", lambda: plot.contour(comparison(), critical=cps))
    ctx.png("race_loss", lambda: plot.loss_curves(comparison()))
    ctx.gif("race", comparison, critical=cps, frames=50, fps=10, title="C7")


@example("C8", "x2^2 - x1^2: a saddle, where optimizers stall on the x1 = 0 line and escape off it")
def c8(ctx: Ctx):
    p = sg.Problem("x2^2 - x1^2")
    cps = p.critical_points(timeout=TIMEOUT)
    off = sg.minimize(p, "gd", [0.01, 2.0], 30, lr=0.1)
    notes = [f"Started on the line x1 = 0 the gradient has no x1 component, so gradient descent slides into the "
             f"saddle. Started at (0.01, 2) instead, 30 updates reach x = ({g(off.x[0], 4)}, {g(off.x[1], 4)}) with "
             f"f = {g(off.fun, 4)}: x1 grows by a factor 1 + 2 lr = 1.2 per update and f is unbounded below."]
    ctx.tex(latex.document(p, method="gd", x0=[0.0, 2.0], steps=100, hyper={"lr": 0.1}, critical=cps,
                           title="C8: f = x₂² − x₁²", notes=notes, show=6))
    starts = [[0.0, 2.0], [0.01, 2.0], [-0.01, -2.0]]
    ctx.png("contour", lambda: plot.contour(sg.minimize(p, "gd", starts, 40, lr=0.1, path=True), critical=cps,
                                             bounds=[(-3, 3), (-2.5, 2.5)]))
    ctx.png("basins", lambda: plot.basin_map(p, ["gd", "momentum", "adam"], [(-2, 2), (-2, 2)], resolution=101,
                                             steps=200, critical=cps, lr=0.05))
    race = {"gd": get("gd", lr=0.1), "momentum": get("momentum", lr=0.05), "adam": get("adam", lr=0.1)}
    ctx.gif("escape", lambda: sg.compare(p, race, [0.001, 2.0], 60, path=True), critical=cps, frames=40,
            bounds=[(-3, 3), (-2.5, 2.5)], title="C8")


# ---------------------------------------------------------------------------------------------
# gradient descent in code (seed 001)


@example("G1", "exp(x) + x^2: the minimum is -W(1/2), and gradient descent from -3")
def g1(ctx: Ctx):
    p = sg.Problem("exp(x) + x^2")
    cps = p.critical_points(timeout=TIMEOUT)
    ctx.tex(latex.document(p, method="gd", x0=[-3.0], steps=500, hyper={"lr": 0.01}, critical=cps,
                           title="G1: f(x) = exp(x) + x²"))
    run = sg.minimize(p, "gd", [-3.0], 500, lr=0.01, path=True)
    ctx.png("curve", lambda: plot.contour(run, bounds=(-4.0, 4.0), critical=cps, every=50))
    ctx.png("loss", lambda: plot.loss_curves(run))


@example("G2", "exp(x+y) + x^2 - y^2: one saddle at (-1/2, 1/2), unbounded below")
def g2(ctx: Ctx):
    p = sg.Problem("exp(x+y) + x^2 - y^2")
    cps = p.critical_points(timeout=TIMEOUT)
    x, y = p.variables
    along = sp.limit(p.expr.subs(x, 0), y, -sp.oo)
    notes = [f"f is unbounded below: along x = 0, f = {sp.sstr(p.expr.subs(x, 0))}, which tends to {along} as "
             "y tends to -oo. So the saddle is the only critical point and gradient descent has no minimum to "
             "find: from (3, 3) with lr = 0.001 it drifts past the saddle and keeps going."]
    ctx.tex(latex.document(p, method="gd", x0=[3.0, 3.0], steps=1000, hyper={"lr": 0.001}, critical=cps,
                           title="G2: f = exp(x + y) + x² − y²", notes=notes, show=6))
    run = sg.minimize(p, "gd", [3.0, 3.0], 1000, lr=0.001, path=True)
    ctx.png("contour", lambda: plot.contour(run, bounds=[(-3, 3), (-3, 3)], critical=cps, every=50))
    ctx.png("loss", lambda: plot.loss_curves(run))


def g3_data(n: int = 100, seed: int = 0) -> dict:
    """Seed 001's data: x ~ U(-3, 3), y = exp(-1.2 x) + 3.4 x + 5.6 + N(0, 0.01^2), from a fixed seed."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, n)
    return {"x": x, "y": np.exp(-1.2 * x) + 3.4 * x + 5.6 + 0.01 * rng.standard_normal(n)}


@example("G3", "fitting exp(-a x) + b x + c: full-batch and mini-batch gradient descent")
def g3(ctx: Ctx):
    mp = ModelProblem("exp(-a*x) + b*x + c", "a,b,c", g3_data(), target="y")
    full = fit(mp, "gd", x0=[1.0, 2.0, 3.0], epochs=500, lr=0.001)
    mini = fit(mp, "gd", x0=[1.0, 3.0, 5.0], epochs=500, batch_size=10, shuffle=True, seed=0, lr=0.001)
    results = {"full batch": full, "mini-batch (10)": mini}
    notes = ["The data are 100 points x ~ U(-3, 3) with y = exp(-1.2 x) + 3.4 x + 5.6 plus noise of sd 0.01, "
             "drawn by numpy.random.default_rng(0). Both runs move toward (a, b, c) = (1.2, 3.4, 5.6) and the loss "
             f"falls: full batch from {g(full.losses[0], 4)} to {g(full.losses[-1], 4)}, mini-batches from "
             f"{g(mini.losses[0], 4)} to {g(mini.losses[-1], 4)} (10 updates per epoch, reshuffled each epoch)."]
    ctx.tex(latex.fit_document(mp, results, title="G3: fitting exp(−ax) + bx + c by gradient descent",
                               notes=notes))

    def data_plot():
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.plot(mp.columns["x"], mp.columns["y"], ".", color="0.4", label="data")
        xs = np.linspace(-3, 3, 400)
        for label, r in results.items():
            a, b, c = np.ravel(r.x)
            ax.plot(xs, np.exp(-a * xs) + b * xs + c, label=f"{label}: a={a:.3f}, b={b:.3f}, c={c:.3f}")
        ax.set_xlabel("$x$")
        ax.set_ylabel("$y$")
        ax.legend(fontsize=8)
        return fig

    ctx.png("fit", data_plot)
    ctx.png("loss", lambda: plot.loss_curves(results))


# ---------------------------------------------------------------------------------------------
# local minima and momentum (seed 002)


@example("L1", "2x^2 + 3x^3 + x^4: a local minimum, a local maximum and the global minimum")
def l1(ctx: Ctx):
    p = sg.Problem("2x^2 + 3x^3 + x^4")
    cps = p.critical_points(timeout=TIMEOUT)
    both = sg.minimize(p, "gd", [[0.5], [-3.0]], 29, lr=0.05, path=True, tol=None)
    notes = [f"Gradient descent with lr = 0.05 for 29 updates ends at {g(both.x[0, 0])} from 0.5 (the local "
             f"minimum at 0) and at {g(both.x[1, 0])} from -3 (the global minimum): where it ends depends on "
             "where it starts."]
    ctx.tex(latex.document(p, method="gd", x0=[0.5], steps=29, hyper={"lr": 0.05, "tol": None}, critical=cps,
                           title="L1: f(x) = 2x² + 3x³ + x⁴", notes=notes))
    ctx.png("curve", lambda: plot.contour(both, bounds=(-3.2, 1.0), critical=cps, every=4))


@example("L3", "heavy-ball momentum carries past the local minimum into the global one")
def l3(ctx: Ctx):
    p = sg.Problem("2x^2 + 3x^3 + x^4")
    cps = p.critical_points(timeout=TIMEOUT)
    hyper = {"lr": 0.1, "momentum": 0.9, "form": "heavy_ball", "tol": None}
    runs = {"gd": sg.minimize(p, "gd", [0.5], 29, lr=0.1, tol=None, path=True),
            "momentum": sg.minimize(p, "momentum", [0.5], 29, path=True, **hyper)}
    notes = [f"From 0.5 with lr = 0.1, plain gradient descent ends at {g(runs['gd'].x[0])} (the local minimum), "
             f"while heavy-ball momentum (rho = 0.9) ends at {g(runs['momentum'].x[0])}, in the basin of the "
             "global minimum (slide L3 prints -1.602265)."]
    ctx.tex(latex.document(p, method="momentum", x0=[0.5], steps=29, hyper=hyper, critical=cps,
                           title="L3: heavy-ball momentum on 2x² + 3x³ + x⁴", notes=notes))
    ctx.png("curve", lambda: plot.contour(runs, bounds=(-2.2, 1.0), critical=cps, every=3))
    ctx.png("loss", lambda: plot.loss_curves(runs))


# ---------------------------------------------------------------------------------------------


def index(keys) -> str:
    lines = ["# Worked examples", "", "Generated by `python worked_examples/make_examples.py` (`make examples`): "
             "do not edit by hand. One folder per starred row of the slides' table.", "",
             "| id | what | files |", "|---|---|---|"]
    for key in keys:
        title, _ = EXAMPLES[key]
        lines.append(f"| {key} | {title} | [{key}.pdf]({key}/{key}.pdf), [{key}.tex]({key}/{key}.tex) |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="directory of the example folders (default: here)")
    ap.add_argument("--only", default="", help="comma-separated ids, e.g. C1,G2 (default: all)")
    ap.add_argument("--tex-only", action="store_true", help="write only the .tex files")
    ap.add_argument("--no-pdf", action="store_true", help="do not run pdflatex")
    args = ap.parse_args(argv)
    keys = [k.strip().upper() for k in args.only.split(",") if k.strip()] or list(EXAMPLES)
    unknown = [k for k in keys if k not in EXAMPLES]
    if unknown:
        print(f"make_examples: unknown example {unknown[0]}; known: {', '.join(EXAMPLES)}", file=sys.stderr)
        return 2
    if not args.out.is_dir():
        print(f"make_examples: {args.out} is not a directory", file=sys.stderr)
        return 2
    try:
        for key in keys:
            ctx = Ctx(args.out, key, tex_only=args.tex_only, pdf=not args.no_pdf)
            EXAMPLES[key][1](ctx)
            for path in ctx.written:
                print(path)
        if not args.only:
            print(write(args.out / "README.md", index(keys), force=True))
    except SymgdError as exc:
        print(f"make_examples: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
