"""The certified numeric route (``symgd.critical.numeric``) and its interval arithmetic.

Independent checks: root counts from dense sign-change scans (1-D) and from splitting the box
(2-D: the roots of the parts must be the roots of the whole); residuals evaluated by SymPy's
``evalf`` at 60 digits, not by the route's own evaluator; enclosures checked against mpmath
point values at random points (hypothesis).
"""

import math
import time

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from symgd.critical._interval import IntervalBackend, MpmathBackend, Program
from symgd.critical.numeric import exclude_outside, solve_box
from symgd.errors import InputError

x, y = sp.symbols("x y", real=True)


def gradient(f, xs):
    return [sp.diff(f, v) for v in xs]


def search(f, box, seconds=30.0):
    xs = list(box)
    return solve_box(gradient(f, xs), xs, box, deadline=time.monotonic() + seconds)


def residual(f, xs, point):
    """max |g_i(point)| by SymPy's own arbitrary-precision evaluation."""
    return max(abs(sp.N(g.subs(point), 60)) for g in gradient(f, xs))


def sign_changes(h, lo, hi, n=400_001):
    t = np.linspace(lo, hi, n) + 1e-7 * math.pi  # an irrational offset: no grid point is a root
    positive = h(t) > 0
    return t[1:][positive[1:] != positive[:-1]]


# --------------------------------------------------------------------------- 1-D
def test_sin_plus_quadratic_is_certified_complete_with_the_right_count():
    f = sp.sin(x) + x**2 / 10
    sol = search(f, {x: (-10, 10)})
    assert sol.complete and not sol.exact and sol.method == "interval-newton"
    brackets = sign_changes(lambda t: np.cos(t) + t / 5, -10, 10)
    assert len(sol.points) == len(brackets) == 3
    for p, b in zip(sol.points, brackets):  # sorted; each root sits in its sign-change cell
        assert abs(float(p[x]) - b) < 1e-4
        assert residual(f, [x], p) < 1e-40
        assert isinstance(p[x], sp.Float) and p[x]._prec >= 160  # 50 digits


def test_roots_agree_with_a_third_party_solver_to_45_digits():
    sol = search(sp.sin(x) + x**2 / 10, {x: (-10, 10)})
    for p in sol.points:
        with mpmath.workdps(60):
            ref = mpmath.findroot(lambda t: mpmath.cos(t) + t / 5, mpmath.mpf(str(p[x])))
            assert abs(mpmath.mpf(str(p[x])) - ref) < mpmath.mpf(10) ** -45


def test_a_degenerate_root_is_reported_honestly():
    sol = search(x**4, {x: (-10, 10)})  # f' = 4x^3: Krawczyk never certifies the triple root
    assert not sol.complete
    assert len(sol.points) == 1 and float(sol.points[0][x]) == 0.0
    text = " ".join(sol.notes)
    assert "undecided" in text and "not certified" in text and "checked exactly" in text


def test_a_degenerate_irrational_root_is_found_but_not_certified():
    f = (x - sp.sqrt(2)) ** 4 + x / 10**30  # a near-miss: no exact candidate
    sol = search(f, {x: (-3, 3)}, seconds=10)
    assert not sol.complete
    assert "undecided" in " ".join(sol.notes)


def test_a_singular_gradient_is_undecided_not_a_root():
    sol = search(x**2 / 2 - sp.log(x), {x: (-10, 10)})  # f' = x - 1/x, undefined at 0
    assert sorted(float(p[x]) for p in sol.points) == pytest.approx([-1.0, 1.0], abs=1e-40)
    assert not sol.complete
    assert "undefined or unbounded" in " ".join(sol.notes)


def test_a_root_on_the_box_boundary_is_kept():
    sol = search(sp.cos(x - 1), {x: (1, 4)})  # f' = -sin(x - 1): roots 1 (on the edge) and 1 + pi > 4
    assert sol.complete
    assert [float(p[x]) for p in sol.points] == pytest.approx([1.0], abs=1e-40)


def test_tiny_deadline_gives_an_incomplete_answer_without_raising():
    f = sp.sin(x) + x**2 / 10
    sol = solve_box(gradient(f, [x]), [x], {x: (-10, 10)}, deadline=time.monotonic() - 1)
    assert not sol.complete and sol.points == []
    assert "deadline" in " ".join(sol.notes) and "1 of the box volume is undecided" in " ".join(sol.notes)


def test_a_short_deadline_stops_a_search_that_cannot_finish():
    f = sp.sin(x + y)  # a whole line of degenerate critical points: never certified
    start = time.monotonic()
    sol = search(f, {x: (-3, 3), y: (-3, 3)}, seconds=0.3)
    assert not sol.complete
    assert time.monotonic() - start < 30  # generous: only checks that it stopped (no timing claim)


def test_unsupported_functions_are_reported_not_raised():
    sol = search(sp.gamma(x) + x**2, {x: (1, 3)})
    assert not sol.complete and sol.points == []
    assert "no interval form" in sol.notes[0]


@pytest.mark.parametrize("box, match", [({x: (1, 1)}, "lo < hi"), ({}, "no range"),
                                        ({x: (0, float("inf"))}, "finite")])
def test_bad_boxes_are_input_errors(box, match):
    with pytest.raises(InputError, match=match):
        solve_box([sp.cos(x)], [x], box, deadline=time.monotonic() + 1)


# --------------------------------------------------------------------------- 2-D
def test_egg_crate_bowl_roots_are_those_of_its_parts():
    f = sp.sin(x) * sp.cos(y) + (x**2 + y**2) / 20
    whole = search(f, {x: (-10, 10), y: (-10, 10)})
    assert whole.complete
    assert all(residual(f, [x, y], p) < 1e-40 for p in whole.points)
    cut = 0.1234567  # irrational-looking cut so no root lies on it
    parts = [search(f, {x: bx, y: by}) for bx in [(-10, cut), (cut, 10)] for by in [(-10, -cut), (-cut, 10)]]
    assert all(p.complete for p in parts)
    key = lambda p: (round(float(p[x]), 12) + 0.0, round(float(p[y]), 12) + 0.0)  # noqa: E731
    assert sorted(key(p) for part in parts for p in part.points) == sorted(key(p) for p in whole.points)
    assert len(whole.points) == 49  # the count this test pins: 49 = sum over the four quarters


def test_newton_from_a_grid_finds_nothing_the_route_missed():
    f = sp.exp(x) * sp.sin(y) + x**2
    sol = search(f, {x: (-3, 3), y: (-3, 3)})
    assert sol.complete and len(sol.points) >= 1
    g = sp.lambdify((x, y), gradient(f, [x, y]))
    H = sp.lambdify((x, y), sp.hessian(f, [x, y]))
    found = np.array([[float(p[x]), float(p[y])] for p in sol.points])
    for start in np.stack(np.meshgrid(np.linspace(-3, 3, 13), np.linspace(-3, 3, 13)), -1).reshape(-1, 2):
        z = start.copy()
        for _ in range(50):
            try:
                z = z - np.linalg.solve(np.array(H(*z), float), np.array(g(*z), float))
            except np.linalg.LinAlgError:
                break
        if np.all(np.abs(z) <= 3) and np.max(np.abs(g(*z))) < 1e-12:
            assert np.min(np.max(np.abs(found - z), axis=1)) < 1e-8, z


def test_g2_numeric_equals_the_exact_answer():
    f = sp.exp(x + y) + x**2 - y**2
    sol = search(f, {x: (-10, 10), y: (-10, 10)})
    assert sol.complete and len(sol.points) == 1
    assert abs(sol.points[0][x] + sp.Rational(1, 2)) < 1e-45 and abs(sol.points[0][y] - sp.Rational(1, 2)) < 1e-45


def test_ackley_in_a_small_box_is_honest_about_its_kink():
    r = sp.sqrt((x**2 + y**2) / 2)
    f = -20 * sp.exp(-r / 5) - sp.exp((sp.cos(2 * sp.pi * x) + sp.cos(2 * sp.pi * y)) / 2) + sp.E + 20
    sol = search(f, {x: (-0.7, 1.3), y: (-0.7, 1.3)})
    assert not sol.complete  # the gradient is undefined at the origin (the global minimum)
    assert "undefined or unbounded" in " ".join(sol.notes)
    assert len(sol.points) >= 4 and all(residual(f, [x, y], p) < 1e-40 for p in sol.points)


# --------------------------------------------------------------------------- interval arithmetic
def expressions():
    leaves = st.sampled_from([x, y, sp.Integer(2), sp.Rational(1, 3), sp.pi])
    unary = [sp.sin, sp.cos, sp.tan, sp.exp, sp.atan, sp.tanh, sp.cosh, lambda e: e**2, lambda e: e**3,
             lambda e: 1 / e, lambda e: e**-2, lambda e: 1 / (1 + e**2), lambda e: sp.sqrt(1 + e**2),
             lambda e: sp.log(1 + e**2), sp.Abs]
    return st.recursive(leaves, lambda sub: st.one_of(
        st.builds(lambda f, e: f(e), st.sampled_from(unary), sub),
        st.builds(lambda a, b: a + b, sub, sub), st.builds(lambda a, b: a * b, sub, sub),
        st.builds(lambda a, b: a - b, sub, sub)), max_leaves=6)


@given(e=expressions(), lo=st.floats(-8, 8), w=st.floats(1e-6, 10), lo2=st.floats(-8, 8), w2=st.floats(1e-6, 10),
       u=st.lists(st.floats(0, 1), min_size=6, max_size=6))
def test_interval_enclosure_contains_point_values(e, lo, w, lo2, w2, u):
    assume(not e.has(sp.zoo, sp.nan, sp.oo, -sp.oo))  # e.g. 1/(x - x)
    prog = Program([e], [x, y])
    B = IntervalBackend(1)
    (elo, ehi), = prog.run(B, [(np.array([lo]), np.array([lo + w])), (np.array([lo2]), np.array([lo2 + w2]))])
    elo, ehi = np.atleast_1d(elo), np.atleast_1d(ehi)  # a constant expression gives scalars
    points = [(lo, lo2), (lo + w, lo2 + w2)] + [(lo + a * w, lo2 + b * w2) for a, b in zip(u[::2], u[1::2])]
    with mpmath.workdps(30):
        for px, py in points:
            try:
                value = prog.run(MpmathBackend(), [mpmath.mpf(px), mpmath.mpf(py)])[0]
            except ZeroDivisionError:  # a point where e is undefined: nothing to enclose
                continue
            assert float(elo[0]) <= value <= float(ehi[0]) or not mpmath.isfinite(value)


def test_cos_range_includes_interior_extrema():
    prog = Program([sp.cos(x), sp.sin(x)], [x])
    (clo, chi), (slo, shi) = prog.run(IntervalBackend(1), [(np.array([-0.5]), np.array([4.0]))])
    assert clo[0] == -1.0 and chi[0] == 1.0  # 0 and pi lie inside [-0.5, 4]
    assert shi[0] == 1.0 and slo[0] == pytest.approx(math.sin(4.0), abs=1e-14)  # pi/2 inside, 3pi/2 not
    assert slo[0] <= math.sin(4.0)


# --------------------------------------------------------------------------- outside the box
@pytest.mark.parametrize("f, xs, proven", [
    (sp.sin(x) + x**2 / 10, [x], True),  # |cos x| <= 1 < |x|/5 outside [-10, 10]
    (sp.sin(x) * sp.cos(y) + (x**2 + y**2) / 20, [x, y], True),
    (x**2 / 2 - sp.log(x), [x], True),  # x < -10: outside log's domain
    (sp.sin(x) + sp.cos(y), [x, y], False),  # periodic: critical points everywhere
    (sp.exp(x) * sp.sin(y) + x**2, [x, y], False),  # roots (-W(1/2), pi/2 + 2k*pi) for every k
])
def test_exclude_outside_proves_a_box_search_global(f, xs, proven):
    box = {v: (-10, 10) for v in xs}
    assert exclude_outside(gradient(f, xs), xs, box, deadline=time.monotonic() + 30) is proven


def test_exclude_outside_is_never_wrong_about_a_root_outside():
    f = sp.sin(x) + x**2 / 10
    sol = search(f, {x: (-10, 10)})
    inner = {x: (-1.0, 1.0)}  # the roots -1.31, 1.98 and 3.84 lie outside this box
    assert not exclude_outside(gradient(f, [x]), [x], inner, deadline=time.monotonic() + 30)
    assert sol.complete and any(abs(float(p[x])) > 1 for p in sol.points)
