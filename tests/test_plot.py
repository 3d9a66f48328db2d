"""symgd.plot: headless figures with the expected artists, basins from batched runs, GIFs with their frames."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import symgd as sg
from symgd import plot
from symgd.critical import CriticalPoint, CriticalPoints, Kind
from symgd.errors import InputError
from symgd.optimizers import get

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def artists(ax, gid):
    return [a for a in (*ax.lines, *ax.collections, *ax.texts, *ax.images) if (a.get_gid() or "") == gid]


def hand_made(problem, *points):
    """CriticalPoints from (kind, coordinates) pairs (the drawing is tested apart from the solver)."""
    cps = tuple(CriticalPoint(dict(zip(problem.variables, map(sp.nsimplify, q))), sp.Integer(0), Kind(kind), True,
                              (), "test", "") for kind, q in points)
    return CriticalPoints(cps, (), True, "test", ())


def test_importing_symgd_plot_does_not_import_matplotlib():
    code = "import sys, symgd, symgd.plot, symgd.latex; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_contour_marks_critical_points_by_kind_and_draws_each_trajectory():
    p = sg.Problem("x^3 - 3x + y^2")  # minimum (1, 0), saddle (-1, 0)
    starts = [[0.5, 1.0], [1.5, -1.0], [2.0, 2.0]]
    comp = sg.compare(p, ["gd", "adam"], starts, steps=40, lr=0.05, path=True)
    ax = plot.contour(comp, critical=hand_made(p, ("minimum", (1, 0)), ("saddle", (-1, 0))))
    lines = artists(ax, "trajectory")
    assert len(lines) == 2 * len(starts)  # one line per optimizer and start
    for line, (label, b) in zip(lines, [(m, b) for m in comp for b in range(3)]):
        np.testing.assert_array_equal(np.column_stack(line.get_data()), comp[label].path[:, b])
    (mins,), (sads,) = artists(ax, "critical:minimum"), artists(ax, "critical:saddle")
    np.testing.assert_array_equal(mins.get_offsets(), [[1, 0]])
    np.testing.assert_array_equal(sads.get_offsets(), [[-1, 0]])
    assert mins.get_paths()[0] != sads.get_paths()[0]  # distinct markers
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["gd (lr=0.05)", "adam (lr=0.05)", "minimum", "saddle"]  # one entry per run and per kind
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x$", "$y$")


def test_contour_with_the_real_solver_marks_the_saddle():
    p = sg.Problem("x2^2 - x1^2")
    run = p.minimize("gd", [[0.0, 2.0], [0.01, 2.0]], steps=30, lr=0.1, path=True)
    ax = plot.contour(run, bounds=[(-3, 3), (-3, 3)])
    (sad,) = artists(ax, "critical:saddle")
    np.testing.assert_allclose(sad.get_offsets(), [[0, 0]], atol=1e-12)
    assert len(artists(ax, "trajectory")) == 2
    assert ax.get_xlim() == (-3, 3)


def test_one_variable_curve_with_numbered_iterates():
    p = sg.Problem("exp(x) + x^2")
    run = p.minimize("gd", [-3.0], steps=120, lr=0.01, path=True, tol=None)
    ax = plot.contour(run, critical=False, every=50)
    (curve,) = artists(ax, "curve")
    (line,) = artists(ax, "trajectory")
    xs, ys = line.get_data()
    np.testing.assert_allclose(xs, run.path[:, 0])
    np.testing.assert_allclose(ys, np.exp(xs) + xs**2)
    numbers = [t for t in ax.texts if t.get_gid() == "number"]
    assert [t.get_text() for t in numbers] == ["1", "51", "101"]  # seed 001 labels i + 1 for i % 50 == 0
    assert numbers[1].xy == pytest.approx((run.path[51, 0], ys[51]))


def test_one_variable_y_range_follows_the_bounds():
    p = sg.Problem("x^4 - 50x^3 - x + 1")
    run = p.minimize("gd", [-10.0], steps=1000, lr=1e-5, path=True)  # starts far left, where f = 60011
    lo, hi = plot.contour(run, bounds=(-2.0, 1.0), critical=False).get_ylim()
    assert -80 < lo < -49 and 419 < hi < 450  # f(1) = -49 and f(-2) = 419, padded by 6 %


def test_contour_refuses_what_it_cannot_draw():
    with pytest.raises(InputError, match="1 or 2 variables"):
        plot.contour(sg.Problem("x + y + z"))
    run = sg.Problem("x^2 + y^2").minimize("gd", [1.0, 1.0], steps=3)
    with pytest.raises(InputError, match="path=True"):
        plot.contour(run, critical=False)
    with pytest.raises(InputError, match="bounds"):
        plot.contour(sg.Problem("x^2 + y^2"), bounds=[(1, 0), (0, 1)], critical=False)


def test_hostile_names_still_plot():
    a, b = sp.Symbol(r"\input{x}", real=True), sp.Symbol("$oops", real=True)
    ax = plot.contour(sg.Problem(a**2 + b**2, variables=[a, b]), bounds=(-1, 1), critical=False)
    ax.figure.canvas.draw()
    assert "input" in ax.get_xlabel()


def test_loss_curves_pick_the_scale():
    p = sg.Problem("0.1*x1^2 + x2^2")
    comp = sg.compare(p, ["gd", "adam"], [[-8.0, 5.0], [3.0, 3.0]], steps=200, lr=0.5, path=True)
    ax = plot.loss_curves(comp)
    assert ax.get_yscale() == "log" and len(artists(ax, "loss")) == 4
    flat = sg.Problem("x^2").minimize("gd", [1.0], steps=3, lr=0.01, path=True)
    assert plot.loss_curves(flat).get_yscale() == "linear"
    saddle = sg.Problem("x2^2 - x1^2").minimize("gd", [0.5, 1.0], steps=40, lr=0.1, path=True)
    assert plot.loss_curves(saddle).get_yscale() == "linear"  # f < 0: no automatic log axis
    ax = plot.loss_curves(saddle, log=True)
    assert ax.get_yscale() == "log" and ax.get_ylabel() == r"$f - \min f$"


def test_loss_curves_of_fits_use_epochs():
    from symgd.fit import ModelProblem, fit

    mp = ModelProblem("w*x + b", "w,b", {"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 3.0, 5.0, 8.0]}, "y")
    r = fit(mp, "gd", x0=[0.0, 0.0], epochs=50, lr=0.05)
    ax = plot.loss_curves({"full batch": r})
    (line,) = artists(ax, "loss")
    np.testing.assert_allclose(line.get_ydata(), r.losses)
    assert ax.get_xlabel() == "epoch"


def test_lr_panel_has_one_panel_per_learning_rate():
    p = sg.Problem("x^2 - 10x + 1")
    fig = plot.lr_panel(p, "gd", [0.0], [0.01, 0.1, 1.0], 30, critical=False)
    axes = fig.axes
    assert len(axes) == 3
    assert [ax.get_title().split(":")[0] for ax in axes] == ["lr = 0.01", "lr = 0.1", "lr = 1"]
    last = artists(axes[2], "trajectory")[0].get_xdata()
    assert set(np.round(last, 12)) == {0.0, 10.0}  # lr 1 flips between x0 and 10 - x0


def test_basins_from_batched_runs():
    p = sg.Problem("2x^2 + 3x^3 + x^4")  # minima at 0 and (-9 - sqrt(17))/8, maximum at (-9 + sqrt(17))/8
    r = [(-9 - np.sqrt(17)) / 8, (-9 + np.sqrt(17)) / 8]
    cps = hand_made(p, ("minimum", (r[0],)), ("maximum", (r[1],)), ("minimum", (0,)))
    maps = plot.basins(p, ["gd"], (-2.5, 1.0), resolution=36, steps=400, critical=cps, lr=0.02, tol=1e-10)
    code, categories = maps["gd"]
    assert [c[1] for c in categories] == ["minimum", "maximum", "minimum", "diverged", "elsewhere"]
    starts = np.linspace(-2.5, 1.0, 36)
    for s, c in zip(starts, code):
        one = p.minimize("gd", [s], steps=400, lr=0.02, tol=1e-10)
        expected = 0 if one.x[0] < r[1] else 2
        assert c == expected, (s, one.x)
    assert set(code) == {0, 2}  # both basins appear, split at the maximum


def test_basin_map_draws_a_panel_per_optimizer_with_diverged_starts():
    p = sg.Problem("x2^2 - x1^2")
    cps = hand_made(p, ("saddle", (0, 0)))
    fig = plot.basin_map(p, ["gd", "adam"], [(-1, 1), (-1, 1)], resolution=21, steps=300, critical=cps, lr=0.1)
    assert len(fig.axes) == 2 and all(artists(ax, "basins") for ax in fig.axes)
    code = plot.basins(p, ["gd"], [(-1, 1), (-1, 1)], resolution=21, steps=300, critical=cps, lr=0.1)["gd"][0]
    assert (code[:, 10] == 0).all()  # starts on x1 = 0 slide into the saddle
    assert (np.delete(code, 10, axis=1) == 1).all()  # every other start diverges (f unbounded below)
    both = plot.basins(p, ["gd", "adam"], [(-1, 1), (-1, 1)], resolution=21, steps=300, critical=cps, lr=0.1)
    present = set().union(*(np.unique(c).tolist() for c, _ in both.values()))
    names = ["saddle (0, 0)", "diverged", "no critical point reached"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [names[i] for i in sorted(present)]


def test_animation_has_the_requested_frames(tmp_path):
    from PIL import Image

    p = sg.Problem("0.1*x1^2 + x2^2")
    race = {"gd": get("gd", lr=0.9), "adam": get("adam", lr=0.5)}
    comp = sg.compare(p, race, [-8.0, 5.0], 30, path=True, tol=None)
    gif = plot.animate(comp, tmp_path / "race.gif", frames=12, fps=8, critical=False, dpi=40)
    with Image.open(gif) as im:
        assert im.n_frames == 12
    with pytest.raises(InputError, match="exists"):
        plot.animate(comp, gif, frames=12, critical=False, dpi=40)
    short = sg.minimize(p, "gd", [-8.0, 5.0], 4, lr=0.5, path=True, tol=None)
    plot.animate(short, gif, frames=50, force=True, critical=False, dpi=40)
    with Image.open(gif) as im:
        assert im.n_frames == 5  # t = 0..4: never more frames than iterates
    assert sorted(q.name for q in tmp_path.iterdir()) == ["race.gif"]


def test_save_is_atomic_and_checks_the_format(tmp_path):
    ax = plot.contour(sg.Problem("x^2 + y^2"), bounds=(-1, 1), critical=False)
    out = plot.save(ax, tmp_path / "f.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(InputError, match="exists"):
        plot.save(ax.figure, out)
    with pytest.raises(InputError, match="cannot save"):
        plot.save(ax, tmp_path / "f.docx")


def test_run_and_comparison_plot_conveniences():
    p = sg.Problem("x^2 + 3y^2")
    run = p.minimize("gd", [1.0, 1.0], steps=10, lr=0.1, path=True)
    ax = run.plot(critical=False)
    assert len(artists(ax, "trajectory")) == 1
    comp = sg.compare(p, ["gd", "momentum"], [1.0, 1.0], steps=10, lr=0.1, path=True)
    assert len(artists(comp.plot(critical=False), "trajectory")) == 2
    one = sg.Problem("x^2").minimize("gd", [1.0], steps=5, lr=0.1, path=True)
    assert len(artists(one.plot(), "loss")) == 1
