"""The lecture slides' optimizer results (rows C4-C7, G1, G2, L2-L6 of /work/shared/SLIDES.md), to every printed digit.

"Updates" counts parameter updates: a slide's "30 iterations" that counts the start is 29 updates
(OPTIMIZERS.md trap T1). Printed values are checked to half a unit in their last printed digit; where
OPTIMIZERS.md §4 re-computed a value to 10 digits in float64 (independently of symgd), that is checked
too, at rtol 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symgd as sg
from symgd.minimize import compare, minimize

x = sp.Symbol("x", real=True)
QUARTIC = sg.Problem("2x^2 + 3x^3 + x^4")  # L1: f' = 4x + 9x² + 4x³
SQUARE = sg.Problem("x^2")


def assert_printed(value: float, printed: str) -> None:
    """``value`` agrees with the slide's ``printed`` decimal to every digit shown."""
    decimals = len(printed.split(".")[1])
    assert abs(value - float(printed)) <= 0.5 * 10.0**-decimals, f"{value!r} does not print as {printed}"


# ---------------------------------------------------------------------------------------------------------
# 002: local minima and optimizer variants


def test_L2_gd_finds_the_local_or_the_global_minimum_by_start():
    run = minimize(QUARTIC, "gd", [[0.5], [-3.0]], steps=29, tol=None, lr=0.05)
    assert_printed(run.x[0, 0], "0.000275395")
    assert_printed(run.x[1, 0], "-1.640338")
    np.testing.assert_allclose(run.x[:, 0], [0.0002753949888, -1.640338046], rtol=1e-9)  # OPTIMIZERS.md §4


def test_L3_heavy_ball_carries_past_the_local_minimum():
    run = minimize(QUARTIC, "momentum", [0.5], steps=29, tol=None, lr=0.1, momentum=0.9, form="heavy_ball")
    assert_printed(run.x[0], "-1.602265")
    np.testing.assert_allclose(run.x, [-1.602265436], rtol=1e-9)
    for form in ("torch", "slide"):  # constant lr: the three forms are one algorithm
        other = minimize(QUARTIC, "momentum", [0.5], steps=29, tol=None, lr=0.1, momentum=0.9, form=form)
        np.testing.assert_allclose(other.x, run.x, rtol=1e-12)


def test_L4_momentum_converges_where_gd_diverges():
    run = minimize(SQUARE, "momentum", [0.5], steps=29, tol=None, lr=1.02, momentum=0.9, form="heavy_ball")
    assert_printed(run.x[0], "-0.03117517")
    np.testing.assert_allclose(run.x, [-0.0311751747], rtol=1e-9)
    gd = minimize(SQUARE, "gd", [0.5], steps=29, tol=None, lr=1.02)  # x ← -1.04 x: grows
    assert abs(gd.x[0]) == pytest.approx(0.5 * 1.04**29, rel=1e-12)


def test_L5_adagrad_slide_form():
    run = minimize(SQUARE, "adagrad", [0.5], steps=29, tol=None, lr=0.1, eps=1e-8, eps_inside_sqrt=True)
    assert_printed(run.x[0], "0.01459057")
    np.testing.assert_allclose(run.x, [0.01459056705], rtol=1e-9)


@pytest.mark.parametrize("inside, golden", [(True, 0.02099520568), (False, 0.02099520534)])
def test_L6_adam_30_updates(inside, golden):
    run = minimize(SQUARE, "adam", [0.5], steps=30, tol=None, lr=0.1, betas=(0.9, 0.999), eps=1e-8,
                   eps_inside_sqrt=inside)
    assert_printed(run.x[0], "0.02099521")
    np.testing.assert_allclose(run.x, [golden], rtol=1e-9)


# ---------------------------------------------------------------------------------------------------------
# 000: gradient descent by hand


def test_C4_first_gd_step_by_hand():
    p = sg.Problem("(x1-5)^2 + x2^2")
    run = minimize(p, "gd", [-9.0, 6.0], steps=1, tol=None, path=True, lr=0.1)
    grads = p.kernels.grad(run.path)
    np.testing.assert_allclose(grads, [[-28.0, 12.0], [-22.4, 9.6]], rtol=1e-15)
    np.testing.assert_allclose(run.x, [-6.2, 4.8], rtol=1e-15)


@pytest.mark.parametrize("lr", [0.01, 0.1])
def test_C5_closed_form_recursion(lr):
    p = sg.Problem("x^2 - 10x + 1")
    run = minimize(p, "gd", [-3.0], steps=60, tol=None, path=True, lr=lr)
    gamma = sp.Rational(lr).limit_denominator(1000)  # 1/100 and 1/10 exactly
    exact, xt = [], sp.Integer(-3)
    for _ in range(61):
        exact.append(float(xt))
        xt = (1 - 2 * gamma) * xt + 10 * gamma  # x(t+1) = (1 - 2γ) x(t) + 10γ
    np.testing.assert_allclose(run.path[:, 0], exact, rtol=1e-14, atol=1e-14)


def test_C5_learning_rate_1_oscillates_forever():
    run = minimize(sg.Problem("x^2 - 10x + 1"), "gd", [-3.0], steps=100, path=True, lr=1.0)
    assert run.status == "max_steps"
    np.testing.assert_array_equal(run.path[0::2, 0], -3.0)
    np.testing.assert_array_equal(run.path[1::2, 0], 13.0)  # 10 - x0
    fast, slow = (minimize(sg.Problem("x^2 - 10x + 1"), "gd", [-3.0], steps=50, lr=lr).x[0] for lr in (0.1, 0.01))
    assert abs(fast - 5) < 1e-3 < abs(slow - 5)


def test_C6_learning_rate_decides_where_gd_ends():
    p = sg.Problem("x^4 - 50x^3 - x + 1")
    crawl = minimize(p, "gd", [-10.0], steps=1000, tol=None, path=True, lr=1e-5)
    assert_printed(crawl.x[0], "-0.594")  # not a minimum: f'(-0.594) ≈ -54.7, GD is still crawling right
    assert crawl.status == "max_steps" and p.kernels.grad(crawl.x)[0] < -50 and (np.diff(crawl.path[:, 0]) > 0).all()
    cycle = minimize(p, "gd", [-10.0], steps=1000, tol=None, path=True, lr=4e-4)
    assert_printed(cycle.path[-1, 0], "31.53")
    assert_printed(cycle.path[-2, 0], "41.03")
    np.testing.assert_allclose(cycle.path[-3, 0], cycle.path[-1, 0], rtol=1e-12)  # period 2
    good = minimize(p, "gd", [-10.0], steps=1000, lr=3e-4)
    assert_printed(good.x[0], "37.50018")
    assert good.status == "converged"
    root = sp.CRootOf(4 * x**3 - 150 * x**2 - 1, 0)  # the one real critical point
    assert good.x[0] == pytest.approx(float(root), rel=1e-10)


def test_C7_learning_rate_1_flips_x2_forever():
    p = sg.Problem("0.1*x1^2 + x2^2")
    assert float(p.kernels.f(np.array([-8.0, 5.0]))) == pytest.approx(31.4)  # the slide's first loss
    t = np.arange(41)
    flip = minimize(p, "gd", [-8.0, 5.0], steps=40, tol=None, path=True, lr=1.0)
    np.testing.assert_array_equal(flip.path[:, 1], 5.0 * (-1.0) ** t)
    np.testing.assert_allclose(flip.path[:, 0], -8.0 * 0.8**t, rtol=1e-13)
    half = minimize(p, "gd", [-8.0, 5.0], steps=40, tol=None, path=True, lr=0.5)
    np.testing.assert_array_equal(half.path[1:, 1], 0.0)  # 1 - 2·0.5 = 0: x2 solved in one update
    damped = minimize(p, "gd", [-8.0, 5.0], steps=40, tol=None, path=True, lr=0.9)
    np.testing.assert_allclose(damped.path[:, 1], 5.0 * (-0.8) ** t, rtol=1e-13)  # oscillates, shrinking
    zoo = compare(p, ["gd", "momentum", "adagrad", "rmsprop", "adam"], [-8.0, 5.0], steps=200, tol=None, lr=0.5)
    assert all(run.fun < 0.02 for run in zoo.values())  # all five reach the valley from f = 31.4


# ---------------------------------------------------------------------------------------------------------
# 001: gradient descent in code


def test_G1_gd_approaches_minus_lambert_w():
    run = minimize(sg.Problem("exp(x) + x^2"), "gd", [-3.0], steps=500, tol=None, lr=0.01)
    assert_printed(run.x[0], "-0.3517376")
    assert run.x[0] == pytest.approx(float(-sp.LambertW(sp.Rational(1, 2))), abs=1e-5)


def test_G2_gd_on_an_unbounded_function_with_a_saddle():
    p = sg.Problem("exp(x+y) + x^2 - y^2")
    run = minimize(p, "gd", [3.0, 3.0], steps=1000, tol=None, lr=0.001)
    assert_printed(run.x[0], "-0.5788")
    assert_printed(run.x[1], "0.9244")
