"""Exact routes for non-polynomial gradients (``symgd.critical.transcendental``).

Independent checks: every exact point is substituted back (exactly, with ``simplify``); numbers
are compared with roots found by float bisection or by the certified numeric route
(``symgd.critical.numeric``), which shares no code with the exact route; family kinds are
compared with ``np.linalg.eigvalsh`` of the Hessian at sample members.
"""

import math
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgd.critical._univariate import lambert_roots
from symgd.critical.numeric import solve_box
from symgd.critical.transcendental import solve_exact
from symgd.errors import BudgetError

x, y, z = sp.symbols("x y z", real=True)
FAR = float("inf")


def gradient(f, xs):
    return [sp.diff(f, v) for v in xs]


def solve(f, xs, box=None):
    return solve_exact(gradient(f, xs), xs, deadline=time.monotonic() + 60, box=box)


def lambert_identity(e):
    """Rewrite exp(c*W(z) + r) as (z/W(z))**c * exp(r) (from W e^W = z), which simplify lacks."""
    def rewrite(t):
        out, rest = sp.S.One, sp.S.Zero
        for term in sp.Add.make_args(sp.expand(t.args[0])):
            c, w = term.as_coeff_Mul()
            if isinstance(w, sp.LambertW) and c.is_Integer:
                out *= (w.args[0] / w) ** c
            else:
                rest += term
        return out * sp.exp(rest)

    return e.replace(lambda t: isinstance(t, sp.exp) and t.args[0].has(sp.LambertW), rewrite)


def assert_exact_zeros(f, xs, points):
    for p in points:
        for g in gradient(f, xs):
            assert sp.simplify(lambert_identity(g.subs(p))) == 0, (g, p)


def bisect(h, a, b, steps=200):
    """Plain float bisection, independent of symgd (h(a), h(b) of opposite signs)."""
    fa = h(a)
    for _ in range(steps):
        m = 0.5 * (a + b)
        if (h(m) > 0) == (fa > 0):
            a, fa = m, h(m)
        else:
            b = m
    return 0.5 * (a + b)


# --------------------------------------------------------------------------- slides G1, G2
def test_g1_exp_plus_square_is_minus_lambertw_half():
    f = sp.exp(x) + x**2
    sol = solve(f, [x])
    assert sol.points == [{x: -sp.LambertW(sp.Rational(1, 2))}]
    assert sol.complete and sol.exact and not sol.families
    assert "lambert" in sol.method
    assert_exact_zeros(f, [x], sol.points)
    # f' = e^x + 2x is increasing, so there is exactly one root; bisection finds it independently
    root = bisect(lambda t: math.exp(t) + 2 * t, -1.0, 0.0)
    assert float(sol.points[0][x]) == pytest.approx(root, abs=1e-14)
    assert round(root, 7) == -0.3517337  # the value printed on the slide


def test_g2_substitution_gives_the_single_saddle():
    f = sp.exp(x + y) + x**2 - y**2
    sol = solve(f, [x, y])
    assert sol.points == [{x: sp.Rational(-1, 2), y: sp.Rational(1, 2)}]
    assert sol.complete and sol.exact and not sol.families
    assert "substitution" in sol.method
    assert_exact_zeros(f, [x, y], sol.points)
    assert f.subs(sol.points[0]) == 1


def test_g2_agrees_with_the_certified_numeric_route():
    f = sp.exp(x + y) + x**2 - y**2
    num = solve_box(gradient(f, [x, y]), [x, y], {x: (-10, 10), y: (-10, 10)}, deadline=time.monotonic() + 30)
    assert num.complete and len(num.points) == 1
    assert abs(num.points[0][x] + sp.Rational(1, 2)) < 1e-45 and abs(num.points[0][y] - sp.Rational(1, 2)) < 1e-45


def test_log_domain_is_left_to_the_core():
    # f = x^2/2 - log(x): f' = x - 1/x = 0 has the real solutions -1 and 1; the core drops -1 (log).
    sol = solve(x**2 / 2 - sp.log(x), [x])
    assert sorted(p[x] for p in sol.points) == [-1, 1]
    assert sol.complete and sol.exact


# --------------------------------------------------------------------------- LambertW branches
@pytest.mark.parametrize("h, expected", [
    (sp.exp(x) - 3 * x, [-sp.LambertW(sp.Rational(-1, 3)), -sp.LambertW(sp.Rational(-1, 3), -1)]),  # -1/e < z < 0
    (sp.exp(x) - sp.E * x, [sp.Integer(1)]),  # z = -1/e: the double root x = 1
    (sp.exp(x) - x, []),  # z = -1 < -1/e: no real root (e^x > x)
    (x * sp.exp(x) - 1, [sp.LambertW(1)]),  # the omega constant
    (x + sp.log(x), [sp.exp(-sp.LambertW(1))]),  # log form: x = e^{-W(1)} = W(1)
])
def test_lambert_forms_and_real_branches(h, expected):
    roots = lambert_roots(h, x)
    assert roots == expected
    for r in roots:
        assert abs(sp.N(h.subs(x, r), 60)) < 1e-50


@given(A=st.sampled_from([-3, -2, -1, 1, 2, 3]), B=st.sampled_from([-2, -1, 1, 2]),
       C=st.sampled_from([-3, -2, -1, 1, 2, 3]), D=st.integers(-5, 5))
def test_lambert_root_count_matches_a_sign_change_scan(A, B, C, D):
    h = A * sp.exp(B * x) + C * x + D
    roots = lambert_roots(h, x)
    assert roots is not None
    for r in roots:
        assert abs(sp.N(h.subs(x, r), 50)) < 1e-40
    simple = [r for r in roots if abs(sp.N(sp.diff(h, x).subs(x, r), 30)) > 1e-20]
    t = np.linspace(-60.0, 60.0, 240_001) + 1e-4 * math.pi  # h is convex or concave: <= 2 roots
    with np.errstate(over="ignore"):
        positive = A * np.exp(B * t) + C * t + D > 0
    assert np.count_nonzero(positive[1:] != positive[:-1]) == len(simple)


# --------------------------------------------------------------------------- periodic families
def sample_hessian_kind(f, xs, point):
    H = sp.hessian(f, xs).subs(point)
    ev = np.linalg.eigvalsh(np.array(H.evalf(), dtype=float))
    return "minimum" if ev.min() > 0 else "maximum" if ev.max() < 0 else "saddle"


def test_sin_x_plus_cos_y_families_with_kinds():
    f = sp.sin(x) + sp.cos(y)
    sol = solve(f, [x, y])
    assert sol.complete and sol.exact and not sol.points
    assert len(sol.families) == 4
    kinds = sorted(fam.kind for fam in sol.families)
    assert kinds == ["maximum", "minimum", "saddle", "saddle"]
    for fam in sol.families:
        assert all(p.is_integer for p in fam.parameters) and len(fam.parameters) == 2
        for g in gradient(f, [x, y]):  # the whole family solves the gradient, for every k, m
            assert sp.simplify(g.subs(fam.parametrization)) == 0
        for values in [(0, 0), (1, -2), (-3, 5)]:
            member = {v: e.subs(dict(zip(fam.parameters, values))) for v, e in fam.parametrization.items()}
            assert sample_hessian_kind(f, [x, y], member) == fam.kind
    top = next(fam for fam in sol.families if fam.kind == "maximum")
    k, m = top.parameters
    assert top.parametrization == {x: sp.pi / 2 + 2 * k * sp.pi, y: 2 * m * sp.pi}
    assert top.description == "x = 2*pi*k + pi/2, y = 2*pi*m (k, m integers)"


def test_sin_x_plus_cos_y_enumerated_in_a_box():
    f = sp.sin(x) + sp.cos(y)
    sol = solve(f, [x, y], box={x: (-4, 4), y: (-4, 4)})
    assert sol.complete and sol.exact and not sol.families
    got = {(p[x], p[y]) for p in sol.points}
    assert got == {(sx * sp.pi / 2, my * sp.pi) for sx in (-1, 1) for my in (-1, 0, 1)}


@pytest.mark.parametrize("f, box", [
    (sp.sin(x) + sp.cos(y), {x: (-4, 4), y: (-4, 4)}),
    (sp.cos(x) * sp.cos(y), {x: (-4, 4), y: (-4, 4)}),  # factor cases: sin x cos y = cos x sin y = 0
    (sp.sin(x**2), {x: (-3, 3)}),  # sqrt families, real for k >= 0 only
    (sp.sin(x + y) + x**2, {x: (-3, 3), y: (-7, 7)}),  # substitution C = cos(x + y)
    (sp.exp(x) + x**2 + y**4 - y**2 + sp.cos(z), {x: (-2, 2), y: (-2, 2), z: (-4, 4)}),
    (sp.exp(x) * sp.sin(y) + x**2, {x: (-3, 3), y: (-8, 8)}),  # cos y = 0 first, then LambertW in x
    (sp.log(1 + x**2 + y**2) + x**3 / 3 - x, {x: (-3, 3), y: (-3, 3)}),  # y = 0, then CRootOf
])
def test_box_enumeration_matches_the_certified_numeric_route(f, box):
    xs = list(box)
    exact = solve(f, xs, box=box)
    assert exact is not None and exact.complete and exact.exact
    assert_exact_zeros(f, xs, exact.points)
    num = solve_box(gradient(f, xs), xs, box, deadline=time.monotonic() + 60)
    assert num.complete
    as_float = sorted(tuple(round(float(p[v]), 9) + 0.0 for v in xs) for p in exact.points)
    numeric = sorted(tuple(round(float(p[v]), 9) + 0.0 for v in xs) for p in num.points)
    assert len(as_float) == len(numeric)
    np.testing.assert_allclose(as_float, numeric, atol=1e-12)


@settings(max_examples=15)
@given(a=st.integers(1, 3), b=st.integers(1, 3), c=st.sampled_from([-2, -1, 1, 2]), d=st.integers(1, 2))
def test_random_trig_sums_match_the_numeric_route_in_a_box(a, b, c, d):
    f = a * sp.sin(b * x) + c * sp.cos(d * y)
    box = {x: (-2.5, 2.5), y: (-3.5, 3.5)}  # no critical point sits on this box's edges
    exact = solve(f, [x, y], box=box)
    num = solve_box(gradient(f, [x, y]), [x, y], box, deadline=time.monotonic() + 60)
    assert exact.complete and num.complete
    as_float = sorted((round(float(p[x]), 9) + 0.0, round(float(p[y]), 9) + 0.0) for p in exact.points)
    numeric = sorted((round(float(p[x]), 9) + 0.0, round(float(p[y]), 9) + 0.0) for p in num.points)
    assert as_float == numeric


def test_root_families_are_reindexed_to_their_real_members():
    sol = solve(sp.sin(x**2), [x])  # f' = 2x cos(x^2): x = 0 and x = +-sqrt(pi/2 + k*pi), k >= 0
    assert sol.points == [{x: 0}]
    assert len(sol.families) == 4
    for fam in sol.families:
        (k,) = fam.parameters
        assert k.is_integer and k.is_nonnegative
        assert "k = 0, 1, 2, ..." in fam.description
        assert fam.parametrization[x].subs(k, 0).is_real
        member = {x: fam.parametrization[x].subs(k, 3)}
        assert sample_hessian_kind(sp.sin(x**2), [x], member) == fam.kind


def test_a_free_variable_is_a_real_parameter():
    sol = solve(sp.sin(x), [x, y])  # f does not depend on y
    assert sol.complete and len(sol.families) == 2
    for fam in sol.families:
        assert "y any real" in fam.description
        assert fam.kind is None  # the Hessian is singular (no claim is made)


def test_triangular_solving_gives_a_lambert_family():
    f = sp.exp(x) * sp.sin(y) + x**2  # e^x cos y = 0 forces cos y = 0; then e^x sin y = -2x
    sol = solve(f, [x, y])
    assert sol.complete and not sol.points and len(sol.families) == 1
    (fam,) = sol.families
    (k,) = fam.parameters
    assert fam.parametrization == {x: -sp.LambertW(sp.Rational(1, 2)), y: sp.pi / 2 + 2 * k * sp.pi}
    assert fam.kind == "saddle"  # H = diag(e^x + 2, -e^x) on the family
    for g in gradient(f, [x, y]):
        assert sp.simplify(lambert_identity(g.subs(fam.parametrization))) == 0


def test_a_monotone_single_equation_gives_a_curve_family():
    f = sp.exp(x + y) - (x + y)  # both partials equal e^(x+y) - 1: the line x + y = 0
    sol = solve(f, [x, y])
    assert sol.complete and not sol.points and len(sol.families) == 1
    (fam,) = sol.families
    (t,) = fam.parameters
    assert not t.is_integer and fam.parametrization == {x: -t, y: t}
    assert fam.description == "x = -t, y = t (t real)"


def test_rational_equations_give_crootof_not_cardano_radicals():
    f = sp.log(1 + x**2 + y**2) + x**3 / 3 - x  # y = 0 and 2x/(1 + x^2) + x^2 - 1 = 0
    sol = solve(f, [x, y])
    assert sol.complete and sol.exact
    assert sorted(p[x] for p in sol.points) == [sp.CRootOf(x**4 + 2 * x - 1, i) for i in range(2)]
    assert all(p[y] == 0 for p in sol.points)


def test_factor_cases_of_a_gaussian_bump():
    f = sp.exp(-x**2 - y**2) * (x**2 + 2 * y**2)  # the exp factor never vanishes
    sol = solve(f, [x, y])
    assert sol.complete
    assert sorted((p[x], p[y]) for p in sol.points) == [(-1, 0), (0, -1), (0, 0), (0, 1), (1, 0)]
    num = solve_box(gradient(f, [x, y]), [x, y], {x: (-3, 3), y: (-3, 3)}, deadline=time.monotonic() + 30)
    assert num.complete and len(num.points) == 5


def test_separable_block_with_a_polynomial_part():
    f = sp.exp(x) + x**2 + y**4 - y**2
    sol = solve(f, [x, y])
    assert sol.complete and len(sol.points) == 3
    assert {p[y] for p in sol.points} == {0, sp.sqrt(2) / 2, -sp.sqrt(2) / 2}
    assert_exact_zeros(f, [x, y], sol.points)


# --------------------------------------------------------------------------- declining honestly
@pytest.mark.parametrize("f, xs", [
    (sp.sin(x) + x**2 / 10, [x]),  # cos x + x/5 = 0 has no closed form
    (sp.sin(x) * sp.cos(y) + (x**2 + y**2) / 20, [x, y]),
    (sp.exp(x) * sp.cos(y) + y**2 / 2, [x, y]),  # e^x = +-y on y = pi/2 + k*pi: k-dependent sets
    (x**4 - 3 * x * y, [x, y]),  # polynomial: the polynomial route's job
])
def test_returns_none_when_no_exact_route_applies(f, xs):
    assert solve(f, xs) is None


def test_a_passed_deadline_raises_budget_error():
    with pytest.raises(BudgetError):
        solve_exact(gradient(sp.exp(x) + x**2, [x]), [x], deadline=time.monotonic() - 1)


def test_box_bounds_are_exact_decimals():
    # 0.1 means 1/10: sin has its critical point pi/2 ~ 1.5708 outside [0.1, 1.5707]
    sol = solve(sp.sin(x), [x], box={"x": (0.1, 1.5707)})
    assert sol.points == [] and sol.complete
    sol = solve(sp.sin(x), [x], box={"x": (0.1, 1.5708)})
    assert sol.points == [{x: sp.pi / 2}]
