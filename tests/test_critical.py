"""Critical points: the core (dispatch, domain, classification, budgets) on the slides' cases and more.

Golden values: the slides' cases come from /work/shared/SLIDES.md (checked there independently in
float64) and are re-derived below by hand where noted; classical functions' counts are from the
literature (Himmelblau 1972: 4 minima, 1 maximum, 4 saddles; six-hump camel: 15 critical points,
Dixon & Szegö 1978 / Jamil & Yang 2013) and are cross-checked here against a dense numeric scan.
"""

import json
import math
import pickle
from collections import Counter

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symgd as sg
from symgd.budget import run_with_budget
from symgd.critical import CriticalPoints, Kind, critical_points
from symgd.critical.classify import classify, inertia
from symgd.errors import BudgetError, InputError

T = sp.Symbol("t")
MIN, MAX, SADDLE, DEG = Kind.MINIMUM, Kind.MAXIMUM, Kind.SADDLE, Kind.DEGENERATE


def analyze(text, **kw):
    p = sg.Problem(text)
    return p, critical_points(p, **kw)


def kinds(cps) -> Counter:
    return Counter(p.kind for p in cps)


def same(a, b) -> bool:
    """a == b exactly, for algebraic numbers (radicals, CRootOf): the minimal polynomial of a - b is t."""
    d = sp.nsimplify(a - b) if not (a - b).has(sp.CRootOf) else a - b
    return d == 0 or sp.simplify(d) == 0 or sp.minimal_polynomial(d, T) == T


def zeroes_gradient(problem, cp) -> bool:
    """The gradient vanishes at cp: for numeric points to 1e-12; for exact points exactly (minimal
    polynomial of the residual is t) when the residual has at most one algebraic generator, else
    (two or more CRootOf, where exact arithmetic is slow; or LambertW) to 1e-35 at 50 digits."""
    for g in problem.gradient:
        r = g.xreplace(cp.point)
        if not cp.exact:
            ok = abs(complex(sp.N(r, 30))) <= 1e-12
        elif r == 0:
            ok = True
        elif len(r.atoms(sp.CRootOf)) <= 1 and not r.has(sp.LambertW, sp.exp, sp.log, sp.sin, sp.cos):
            ok = sp.minimal_polynomial(r, T) == T
        else:
            ok = abs(complex(sp.N(r, 50))) <= 1e-35
        if not ok:
            return False
    return True


def by_point(cps):
    return {tuple(p.point[v] for v in p.point): p for p in cps}


# --------------------------------------------------------------------------------------------
# The slides (SLIDES.md)


def test_c1_one_minimum_exact():
    p, cps = analyze("x^2 - 10x + 1")
    (x,) = p.variables
    assert cps.complete and cps.exact and len(cps) == 1
    (cp,) = cps
    assert cp.point == {x: 5} and cp.value == -24 and isinstance(cp.value, sp.Integer)
    assert cp.kind is MIN and cp.exact and cp.reason == "f''(5) = 2 > 0"
    assert cp.eigenvalues == (2.0,) and cp.value_float == -24.0 and cp.point_float == {x: 5.0}


def test_c2_linear_has_no_critical_points():
    p, cps = analyze("0.5*x1 + 2*x2 + 4*x3 + 10")
    assert list(p.gradient) == [sp.Rational(1, 2), 2, 4]  # the slide prints 5 for 0.5: a typo
    assert len(cps) == 0 and not cps.families and cps.complete


def test_c3_three_saddles():
    p, cps = analyze("x1^2 + x1 - 4*x1*x2 + x1^3*x2")
    x1, x2 = p.variables
    R = sp.Rational
    expected = {(0, R(1, 4)): 0, (-2, R(3, 8)): 2, (2, R(-5, 8)): 6}
    got = by_point(cps)
    assert cps.complete and cps.exact and set(got) == set(expected)
    for key, value in expected.items():
        assert got[key].value == value and got[key].kind is SADDLE and got[key].exact
    # The slide prints (-2, 0.125): a typo. At (-2, 1/8), df/dx1 = -2 != 0, so it is not critical;
    # f(-2, x2) = 2 for every x2, which is why the slide's value 2 still looks right.
    assert p.gradient[0].xreplace({x1: -2, x2: R(1, 8)}) == -2
    assert sp.expand(p.expr.xreplace({x1: -2})) == 2


def test_c6_single_crootof_minimum():
    p, cps = analyze("x^4 - 50x^3 - x + 1")
    (x,) = p.variables
    assert cps.complete and len(cps) == 1
    (cp,) = cps
    assert isinstance(cp.point[x], sp.CRootOf) and cp.exact
    assert same(cp.point[x], sp.CRootOf(4 * x**3 - 150 * x**2 - 1, 0))
    assert abs(cp.point_float[x] - 37.50018) < 1e-5  # SLIDES.md: ≈ 37.50018
    assert cp.kind is MIN
    assert math.isclose(cp.value_float, float(p.expr.subs(x, cp.point_float[x])), rel_tol=1e-12)


def test_c8_origin_saddle():
    p, cps = analyze("x2^2 - x1^2")
    (cp,) = cps
    assert cps.complete and cp.point == dict.fromkeys(p.variables, 0) and cp.kind is SADDLE
    assert cp.reason == "Hessian eigenvalues of both signs" and cp.eigenvalues == (-2.0, 2.0)


def test_g1_lambertw_minimum():
    p, cps = analyze("exp(x) + x^2")
    (x,) = p.variables
    (cp,) = cps
    assert cps.complete and cp.exact and cp.kind is MIN
    assert cp.point[x] == -sp.LambertW(sp.Rational(1, 2))
    assert abs(cp.point_float[x] - (-0.3517337)) < 1e-7
    assert zeroes_gradient(p, cp)


def test_g2_saddle_where_sympy_solve_raises():
    p, cps = analyze("exp(x+y) + x^2 - y^2")
    x, y = p.variables
    (cp,) = cps
    assert cps.complete and cp.exact
    assert cp.point == {x: sp.Rational(-1, 2), y: sp.Rational(1, 2)} and cp.value == 1 and cp.kind is SADDLE


def test_l1_two_minima_one_maximum():
    p, cps = analyze("2x^2 + 3x^3 + x^4")
    (x,) = p.variables
    assert cps.complete and len(cps) == 3
    lo, mid, hi = cps  # sorted by coordinate
    assert same(lo.point[x], (-9 - sp.sqrt(17)) / 8) and lo.kind is MIN
    assert same(mid.point[x], (-9 + sp.sqrt(17)) / 8) and mid.kind is MAX
    assert hi.point[x] == 0 and hi.kind is MIN and hi.value == 0
    assert abs(mid.point_float[x] + 0.6096) < 1e-4 and abs(lo.point_float[x] + 1.6404) < 1e-4
    assert lo.value_float < hi.value_float  # the global minimum is the left one


# --------------------------------------------------------------------------------------------
# Classical functions


def _numeric_count(problem, box, n=801):
    """Independent check: sign changes of both gradient components on a dense grid (2-D)."""
    xs = np.linspace(box[0], box[1], n)
    X, Y = np.meshgrid(xs, xs)
    g = problem.kernels.grad(np.stack([X, Y], axis=-1))
    s0, s1 = np.sign(g[..., 0]), np.sign(g[..., 1])
    cells = [(s0[:-1, :-1] * s0[1:, 1:] <= 0) | (s0[1:, :-1] * s0[:-1, 1:] <= 0),
             (s1[:-1, :-1] * s1[1:, 1:] <= 0) | (s1[1:, :-1] * s1[:-1, 1:] <= 0)]
    return cells[0] & cells[1]


def test_himmelblau_nine_points():
    p, cps = analyze("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    x, y = p.variables
    assert cps.complete and len(cps) == 9
    assert kinds(cps) == {MIN: 4, MAX: 1, SADDLE: 4}
    assert {x: 3, y: 2} in [cp.point for cp in cps]
    (top,) = [cp for cp in cps if cp.kind is MAX]
    assert abs(top.point_float[x] + 0.270845) < 1e-6 and abs(top.point_float[y] + 0.923039) < 1e-6
    for cp in cps:
        assert zeroes_gradient(p, cp)


@pytest.mark.slow
def test_six_hump_camel_fifteen_points():
    p, cps = analyze("(4 - 2.1x^2 + x^4/3)x^2 + x*y + (-4 + 4y^2)y^2", timeout=20)
    assert cps.complete and len(cps) == 15
    assert kinds(cps) == {MIN: 6, MAX: 2, SADDLE: 7}
    for cp in cps:
        assert cp.exact and zeroes_gradient(p, cp)


def test_x4_plus_y4_proven_minimum():
    p, cps = analyze("x^4 + y^4")
    (cp,) = cps
    assert cp.eigenvalues == (0.0, 0.0)  # degenerate for the Hessian test ...
    assert cp.kind is MIN and cp.exact  # ... then proven by the higher-order argument
    assert cp.reason == "f - f(p) = x^4 + y^4 >= 0 near p"


def test_monkey_saddle_stays_degenerate_but_not_an_extremum():
    # Decision (documented in Kind): SADDLE means "Hessian eigenvalues of both signs"; the monkey
    # saddle's Hessian is 0, so it stays DEGENERATE, and the reason records the proof that it is not
    # an extremum (f = x^3 along y = 0).
    p, cps = analyze("x^3 - 3x*y^2")
    (cp,) = cps
    assert cp.kind is DEG and cp.exact and cp.eigenvalues == (0.0, 0.0)
    assert cp.reason.startswith("not an extremum") and "t^3" in cp.reason


def test_x2y2_families_of_minima():
    p, cps = analyze("x^2 * y^2")
    x, y = p.variables
    assert cps.complete and len(cps.families) >= 2
    for fam in cps.families:
        assert fam.kind == "minimum"
        pt = {v: fam.parametrization.get(v, v) for v in (x, y)}
        assert all(sp.expand(g.xreplace(pt)) == 0 for g in p.gradient)
    covered = {frozenset(v for v in (x, y) if fam.parametrization.get(v) == 0) for fam in cps.families}
    assert frozenset({x}) in covered and frozenset({y}) in covered  # the line x = 0 and the line y = 0
    assert all(cp.kind is MIN for cp in cps)  # the origin, if listed separately


def test_sin_plus_cos_in_a_box():
    p, cps = analyze("sin(x) + cos(y)", box={"x": (-4, 4), "y": (-4, 4)})
    x, y = p.variables
    pi = sp.pi
    expected = {(pi / 2, 0): MAX, (-pi / 2, -pi): MIN, (-pi / 2, pi): MIN,
                (pi / 2, -pi): SADDLE, (pi / 2, pi): SADDLE, (-pi / 2, 0): SADDLE}
    got = {(cp.point[x], cp.point[y]): cp.kind for cp in cps}
    assert got == expected and cps.complete and cps.exact


def test_log_domain_drops_minus_one():
    p, cps = analyze("x^2/2 - log(x)")
    (x,) = p.variables
    (cp,) = cps
    assert cp.point == {x: 1} and cp.kind is MIN and cp.value == sp.Rational(1, 2)
    assert any("x = -1" in n and "log" in n for n in cps.notes)
    assert cps.complete


def test_periodic_family_kinds_are_checked_with_concrete_values():
    # f' = tan(x)^2 - 1: x = pi/4 + k*pi (f'' = 4: minima) and x = 3*pi/4 + k*pi (f'' = -4: maxima).
    # SymPy 1.14 evaluates tan(pi*k + 3*pi/4) to 1 for a symbolic integer k (it is -1), so a kind
    # derived with symbolic k is wrong; the core classifies concrete members instead.
    p, cps = analyze("tan(x) - 2x")
    (x,) = p.variables
    assert cps.complete and len(cps.families) == 2
    by_start = {fam.parametrization[x].xreplace(dict.fromkeys(fam.parameters, 0)): fam.kind for fam in cps.families}
    assert by_start == {sp.pi / 4: "minimum", 3 * sp.pi / 4: "maximum"}


def test_not_twice_differentiable_point():
    p, cps = analyze("abs(x) + x^2")
    (cp,) = cps
    assert cp.point == {p.variables[0]: 0} and cp.kind is MIN and "not twice differentiable" in cp.reason
    assert math.isnan(cp.eigenvalues[0]) and cp.to_json()["hessian_eigenvalues"] == [None]
    json.dumps(cps.to_json(), allow_nan=False)


def test_rational_function():
    # f' = 1 - 1/x^2 = 0 at x = -1 (f'' = -2: maximum) and x = 1 (f'' = 2: minimum); f is undefined at 0
    p, cps = analyze("x + 1/x")
    (x,) = p.variables
    assert sorted(cp.point[x] for cp in cps) == [-1, 1]
    assert [cp.kind for cp in cps] == [MAX, MIN]


# --------------------------------------------------------------------------------------------
# Properties


@st.composite
def separable(draw):
    n = draw(st.integers(1, 2))
    pool = [sp.Rational(k, 2) for k in range(-8, 9)]
    roots = [draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)) for _ in range(n)]
    coeffs = [draw(st.sampled_from([-3, -2, -1, 1, 2, 3])) for _ in range(n)]
    return roots, coeffs


@settings(max_examples=12)
@given(separable())
def test_separable_polynomials_recovered_completely(data):
    roots, coeffs = data
    xs = sp.symbols(f"x1:{len(roots) + 1}", real=True)
    s = sp.Symbol("s", real=True)
    f = sum(c * sp.integrate(sp.Mul(*(s - r for r in rs)), (s, 0, x)) for x, rs, c in zip(xs, roots, coeffs))
    cps = critical_points(sg.Problem(f, variables=xs))
    assert cps.complete and cps.exact
    expected = {}
    for combo in __import__("itertools").product(*[range(len(rs)) for rs in roots]):
        point = tuple(rs[j] for rs, j in zip(roots, combo))
        curv = [c * sp.Mul(*(rs[j] - r for r in rs if r != rs[j])) for rs, c, j in zip(roots, coeffs, combo)]
        expected[point] = MIN if all(v > 0 for v in curv) else MAX if all(v < 0 for v in curv) else SADDLE
    assert {tuple(cp.point[x] for x in xs): cp.kind for cp in cps} == expected


@settings(max_examples=12)
@given(st.integers(2, 3).flatmap(lambda n: st.tuples(
    st.lists(st.integers(-3, 3), min_size=n * n, max_size=n * n),
    st.lists(st.fractions(-5, 5, max_denominator=4), min_size=n, max_size=n))))
def test_positive_definite_quadratic_one_minimum(data):
    entries, shift = data
    n = len(shift)
    L = sp.Matrix(n, n, entries)
    A = L * L.T + sp.eye(n)  # positive definite by construction
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    a = sp.Matrix([sp.Rational(q.numerator, q.denominator) for q in shift])
    h = sp.Matrix(xs) - a
    cps = critical_points(sg.Problem(sp.expand((h.T * A * h)[0]), variables=xs))
    (cp,) = cps
    assert cps.complete and cp.kind is MIN and cp.point == dict(zip(xs, a)) and cp.value == 0


@settings(max_examples=15)
@given(st.integers(2, 3).flatmap(lambda n: st.tuples(
    st.lists(st.integers(-2, 2), min_size=n * n, max_size=n * n),
    st.lists(st.sampled_from([-3, -2, -1, 1, 2, 3]), min_size=n, max_size=n),
    st.lists(st.integers(-3, 3), min_size=n, max_size=n))))
def test_kind_agrees_with_eigvalsh_on_integer_quadratic_forms(data):
    upper, diag, b = data
    n = len(diag)
    M = sp.Matrix(n, n, lambda i, j: 1 if i == j else (upper[i * n + j] if j > i else 0))  # det 1
    A = M.T * sp.diag(*diag) * M  # nonsingular, integer, symmetric
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    X = sp.Matrix(xs)
    f = sp.expand((X.T * A * X)[0] / 2 + (sp.Matrix(b).T * X)[0])
    cps = critical_points(sg.Problem(f, variables=xs))
    (cp,) = cps
    ev = np.linalg.eigvalsh(np.array(A.tolist(), dtype=float))
    expected = MIN if (ev > 0).all() else MAX if (ev < 0).all() else SADDLE
    assert cps.complete and cp.kind is expected
    assert sp.Matrix([cp.point[x] for x in xs]) == -A.inv() * sp.Matrix(b)
    assert np.allclose(cp.eigenvalues, np.sort(ev))


@pytest.mark.parametrize("text, box", [
    ("x1^2 + x1 - 4*x1*x2 + x1^3*x2", None),
    ("x^4 - 50x^3 - x + 1", None),
    ("(x^2 + y - 11)^2 + (x + y^2 - 7)^2", None),
    ("exp(x) + x^2", None),
    ("sin(x) + x^2/10", {"x": (-10, 10)}),
    ("sin(x)*cos(y) + (x^2 + y^2)/20", {"x": (-4, 4), "y": (-4, 4)}),
])
def test_every_point_zeroes_the_gradient(text, box):
    p, cps = analyze(text, box=box)
    assert len(cps) > 0
    for cp in cps:
        assert zeroes_gradient(p, cp), cp


def test_numeric_route_in_a_box_is_certified():
    p, cps = analyze("sin(x) + x^2/10", box={"x": (-10, 10)})
    (x,) = p.variables
    grid = np.linspace(-10, 10, 200001)
    expected = int(np.sum(np.diff(np.sign(np.cos(grid) + grid / 5)) != 0))  # independent sign-change count
    assert len(cps) == expected and cps.complete and not cps.exact
    assert all(not cp.exact and len(str(cp.point[x])) > 40 for cp in cps)  # 50-digit polished Floats


def test_default_box_is_complete_only_with_a_proof_for_the_outside():
    # No exact route solves cos(x) + x/5 = 0. The numeric route certifies 3 roots in [-10, 10], and interval
    # arithmetic proves cos(x) + x/5 != 0 outside it (|x/5| > 2 > |cos x| + ...), so the set is complete.
    p, cps = analyze("sin(x) + x^2/10")
    assert len(cps) == 3 and cps.complete and not cps.exact
    assert any("outside" in n and "interval proof" in n for n in cps.notes)
    # cos(x) + x/500 = 0 has roots far outside [-10, 10]: the default box must not claim completeness.
    p, cps = analyze("sin(x) + x^2/1000")
    assert not cps.complete and not cps.exact and len(cps) == 6
    assert any("default box" in n and "[-10, 10]" in n for n in cps.notes)


def test_periodic_families_without_a_box():
    p, cps = analyze("sin(x) + cos(y)")
    assert cps.complete and len(cps) == 0
    kinds_ = sorted(f.kind for f in cps.families)
    assert kinds_ == ["maximum", "minimum", "saddle", "saddle"]
    for fam in cps.families:
        assert all(k.is_integer for k in fam.parameters)
        pt = {v: fam.parametrization[v] for v in p.variables}
        assert all(sp.simplify(g.xreplace(pt)) == 0 for g in p.gradient)


# --------------------------------------------------------------------------------------------
# Budgets


def test_budget_fallback_is_recorded():
    # A dense degree-7 polynomial in three variables: 216 complex critical points; no exact route
    # finishes in 0.5 s. The answer must come back and say it fell back (no timed assertion).
    x, y, z = sp.symbols("x y z", real=True)
    f = (x**7 + y**7 + z**7 + 3 * x**5 * y * z - 5 * x**3 * y**3 * z + 7 * x * y**4 * z**2
         - 11 * x**2 * y**2 * z**3 + 2 * x * y * z + 13 * x**4 - 17 * y**3 * z + 19 * z**2 - x)
    cps = critical_points(sg.Problem(f, variables=(x, y, z)), timeout=0.5)
    assert "over budget" in cps.method
    assert any("budget" in n for n in cps.notes)
    assert isinstance(cps, CriticalPoints)


def test_run_with_budget_round_trips_sympy_objects():
    x = sp.Symbol("x", real=True)
    k = sp.Symbol("k", integer=True)
    objs = [sp.CRootOf(x**5 - x - 1, 0), -sp.LambertW(sp.Rational(1, 2)), k, {x: sp.pi / 2 + 2 * k * sp.pi}]
    for obj in objs:
        back = run_with_budget(lambda o: o, obj, seconds=10)
        assert back == obj and pickle.loads(pickle.dumps(obj)) == obj
    assert run_with_budget(lambda o: o, k, seconds=10).is_integer


def _spin():
    while True:
        pass


def test_run_with_budget_kills_and_reraises():
    with pytest.raises(BudgetError, match="budget"):
        run_with_budget(_spin, seconds=0.3)
    with pytest.raises(ZeroDivisionError):
        run_with_budget(lambda: 1 / 0, seconds=10)
    with pytest.raises(BudgetError):
        run_with_budget(_spin, seconds=0)


# --------------------------------------------------------------------------------------------
# Classification units, output formats, input checks


@pytest.mark.parametrize("text, kind, words", [
    ("x^4", MIN, "order 4 and positive"),
    ("-x^6", MAX, "order 6 and negative"),
    ("x^3", DEG, "order 3 (odd)"),
    ("x^2 + y^4", MIN, "x^2 + y^4"),
    ("x^2 - y^4", DEG, "not an extremum"),
    ("(x - y)^2 + x^4 + y^4", MIN, "positive definite"),
    ("x^2 + 2x*y^2 + 2y^4", MIN, ""),  # = (x + y^2)^2 + y^4: weighted part, Sturm test
    ("x^2 + 2x*y^2 + y^4", MIN, "product of squares"),  # = (x + y^2)^2 >= 0, not strict
    ("-(x^2 + y^2 + z^2)^2", MAX, ""),
])
def test_higher_order_tests(text, kind, words):
    p = sg.Problem(text)
    c = classify(p.expr, p.variables, p.hessian, dict.fromkeys(p.variables, sp.Integer(0)))
    assert c.kind is kind and c.exact and words in c.reason


def test_inertia_is_exact_with_crootof_entries():
    x = sp.Symbol("x")
    r = sp.CRootOf(x**5 - x - 1, 0)  # ≈ 1.1673
    H = sp.Matrix([[r, 1], [1, r**5 - r - 1]])  # second diagonal entry is exactly 0
    assert inertia(H) == (1, 1, 0, True)


def test_json_repr_latex():
    p, cps = analyze("x1^2 + x1 - 4*x1*x2 + x1^3*x2")
    doc = cps.to_json()
    json.dumps(doc, allow_nan=False)
    assert doc["complete"] is True and len(doc["points"]) == 3
    pt = next(q for q in doc["points"] if q["point"] == {"x1": "-2", "x2": "3/8"})
    assert pt["point_float"] == {"x1": -2.0, "x2": 0.375} and pt["value"] == "2" and pt["kind"] == "saddle"
    assert pt["exact"] is True and len(pt["hessian_eigenvalues"]) == 2
    text = repr(cps)
    assert "complete" in text and text.count("saddle") == 3 and "x2 = 3/8" in text
    latex = cps._repr_latex_()
    assert latex.startswith("$\\begin{array}") and "tabular" not in latex and "multicolumn" not in latex


def test_input_errors():
    p = sg.Problem("x^2 + y^2")
    with pytest.raises(InputError):
        critical_points(p, timeout=0)
    with pytest.raises(InputError):
        critical_points(p, box={"z": (0, 1)})
    with pytest.raises(InputError):
        critical_points(p, box={"x": (1, 0)})


def test_parameters_are_reported_not_solved():
    a, x = sp.symbols("a x", real=True)
    cps = critical_points(sg.Problem(a * x**2, variables=(x,)))
    assert len(cps) == 0 and not cps.complete and "a" in cps.notes[0]
