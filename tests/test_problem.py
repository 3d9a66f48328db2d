"""Problem: gradients and Hessians of every calculus example of the slides, compared exactly with SymPy.

Source of the expected values: ../shared/SLIDES.md (rows C1-C8, G1, G2, L1), derived by hand.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

import symgd as sg
from symgd.problem import partials

x, y, x1, x2, x3 = sp.symbols("x y x1 x2 x3", real=True)
R = sp.Rational

# (slide row, typed text, variables, gradient, Hessian)
SLIDES = [
    ("C1", "x^2 - 10x + 1", (x,), [2 * x - 10], [[2]]),
    # C2: the slide prints 5 for d/dx1 of 0.5*x1: a typo; 0.5 typed is exactly 1/2.
    ("C2", "0.5*x1 + 2*x2 + 4*x3 + 10", (x1, x2, x3), [R(1, 2), 2, 4], [[0] * 3] * 3),
    ("C3", "x1^2 + x1 - 4*x1*x2 + x1^3*x2", (x1, x2),
     [3 * x1**2 * x2 + 2 * x1 - 4 * x2 + 1, x1**3 - 4 * x1],
     [[6 * x1 * x2 + 2, 3 * x1**2 - 4], [3 * x1**2 - 4, 0]]),
    ("C4", "(x1-5)^2 + x2^2", (x1, x2), [2 * x1 - 10, 2 * x2], [[2, 0], [0, 2]]),
    ("C5", "x^2 - 10x + 1", (x,), [2 * x - 10], [[2]]),
    ("C6", "x^4 - 50x^3 - x + 1", (x,), [4 * x**3 - 150 * x**2 - 1], [[12 * x**2 - 300 * x]]),
    ("C7", "0.1*x1^2 + x2^2", (x1, x2), [x1 / 5, 2 * x2], [[R(1, 5), 0], [0, 2]]),
    ("C8", "x2^2 - x1^2", (x1, x2), [-2 * x1, 2 * x2], [[-2, 0], [0, 2]]),
    ("G1", "exp(x) + x^2", (x,), [sp.exp(x) + 2 * x], [[sp.exp(x) + 2]]),
    ("G2", "exp(x+y) + x^2 - y^2", (x, y), [sp.exp(x + y) + 2 * x, sp.exp(x + y) - 2 * y],
     [[sp.exp(x + y) + 2, sp.exp(x + y)], [sp.exp(x + y), sp.exp(x + y) - 2]]),
    ("L1", "2x^2 + 3x^3 + x^4", (x,), [4 * x + 9 * x**2 + 4 * x**3], [[4 + 18 * x + 12 * x**2]]),
]


@pytest.mark.parametrize("row, text, variables, gradient, hessian", SLIDES, ids=[s[0] for s in SLIDES])
def test_slide_gradient_and_hessian(row, text, variables, gradient, hessian):
    p = sg.Problem(text)
    assert p.variables == variables
    assert (p.gradient - sp.Matrix(gradient)).expand() == sp.zeros(len(variables), 1)
    assert (p.hessian - sp.Matrix(hessian)).expand() == sp.zeros(len(variables), len(variables))


def test_from_sympy_expression_and_explicit_order():
    p = sg.Problem(x * y**2, variables=("y", "x"))
    assert p.variables == (y, x)
    assert p.gradient == sp.Matrix([2 * x * y, y**2])


def test_unlisted_symbols_are_parameters():
    a = sp.Symbol("a", real=True)
    p = sg.Problem(a * x**2, variables=(x,))
    assert p.gradient == sp.Matrix([2 * a * x]) and p.hessian == sp.Matrix([[2 * a]])


def test_natural_order_puts_x2_before_x10():
    assert [v.name for v in sg.Problem("x10 + x2^2 + x1").variables] == ["x1", "x2", "x10"]


def test_hessian_is_symmetric_and_cached():
    p = sg.Problem("x1^3*x2 + sin(x1*x2)")
    assert p.hessian == p.hessian.T
    assert p.hessian is p.hessian


def test_repr_and_latex():
    p = sg.Problem("x^2 - 10x + 1")
    assert repr(p) == "Problem(x**2 - 10*x + 1, variables=(x,))"
    tex = p._repr_latex_()
    assert tex.startswith("$\\begin{aligned}") and "bmatrix" in tex and "tabular" not in tex
    assert "2 x - 10" in tex


def test_bad_variables_are_input_errors():
    with pytest.raises(sg.InputError):
        sg.Problem(x**2, variables=("x", "x"))
    with pytest.raises(sg.InputError):
        sg.Problem([1, 2])


def test_kernels_broadcast_constants_and_mixed_hessians():
    # lambdify returns Python scalars for constant entries and raises on a mixed Matrix (STYLE.md Appendix A).
    X = np.arange(10.0).reshape(5, 2)
    k = sg.Problem("x^2 + 3*y^2 + x*y").kernels
    assert k.hess(X).shape == (5, 2, 2) and k.grad(X).shape == (5, 2) and k.f(X).shape == (5,)
    np.testing.assert_array_equal(k.hess(X)[3], [[2, 1], [1, 6]])
    mixed = sg.Problem("x^3 + y^2").kernels
    np.testing.assert_array_equal(mixed.hess(X)[:, 0, 0], 6 * X[:, 0])
    const = sg.Problem("0.5*x1 + 2*x2").kernels
    np.testing.assert_array_equal(const.grad(X), np.tile([0.5, 2.0], (5, 1)))
    fx, gx = k.f_and_grad(X)
    np.testing.assert_array_equal(fx, k.f(X))
    np.testing.assert_array_equal(gx, k.grad(X))


def test_plain_symbols_as_variables_match_the_parsed_real_ones():
    p = sg.Problem("x^2 + y", variables=(sp.Symbol("x"), sp.Symbol("y")))
    assert p.gradient == sp.Matrix([2 * x, 1]) and p.variables == (x, y)


# --- Derivatives per term (symgd.problem.partials) are the naive SymPy derivatives, as expressions ---------------
# The reference is SymPy itself: [sp.diff(f, v) for v in variables], and H[i, j] = H[j, i] = sp.diff(g_i, x_j)
# for j >= i (what Problem computed before it differentiated per term). Equality is structural (==), not
# "simplifies to zero": the gradient and Hessian print, solve and compile exactly as before.

z = sp.Symbol("z", real=True)
a_plain, p_pos = sp.Symbol("a"), sp.Symbol("p", positive=True)  # other assumptions than real
VARS = (x, y, z, a_plain, p_pos)
NOT_FINITE = (sp.oo, -sp.oo, sp.zoo, sp.nan)


def naive_gradient(f, xs):
    return [sp.diff(f, v) for v in xs]


def naive_hessian(f, xs):
    g, n = naive_gradient(f, xs), len(xs)
    H = sp.zeros(n, n)
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = sp.diff(g[i], xs[j])
    return H


def chained_rosenbrock(n):
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    return sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1)), xs


HAND_PICKED = [
    x**2 * y + sp.exp(y) + 3,
    (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    sp.exp(x + y) + x**2 - y**2,
    sp.sin(x * y) * sp.cos(z) + x ** sp.Rational(3, 2) + 1 / (x**2 + 1),
    sp.sqrt(x**2 + y**2 + 1) - sp.log(1 + sp.exp(-x * z)),
    sp.Float(0.1) * x**2 + sp.Float(2.5) * x * y - sp.Float(1e-3) * y ** sp.Float(2.5),
    a_plain * x**2 + p_pos * sp.log(p_pos * y) + a_plain * p_pos,
    (x * y * z - 1) ** 3 * (x + z) ** -2,
    x**y + y**x + sp.Abs(x - y) + sp.atan(z) * sp.tanh(x),
    (x + y) * (y + z) * (z + x) * (x + 2 * y + 3 * z + sp.pi),
    sp.Integer(7),
    x,
]


@pytest.mark.parametrize("f", HAND_PICKED, ids=range(len(HAND_PICKED)))
def test_partials_are_the_sympy_derivatives(f):
    assert partials(f, VARS) == naive_gradient(f, VARS)


@pytest.mark.parametrize("f", HAND_PICKED[:-2], ids=range(len(HAND_PICKED) - 2))
def test_problem_hessian_is_the_naive_hessian(f):
    p = sg.Problem(f, variables=VARS)
    assert p.gradient == sp.Matrix(naive_gradient(f, VARS))
    assert p.hessian == naive_hessian(f, VARS)


def test_slide_problems_match_naive_derivatives():
    for _, text, *_ in SLIDES:
        p = sg.Problem(text)
        assert p.gradient == sp.Matrix(naive_gradient(p.expr, p.variables))
        assert p.hessian == naive_hessian(p.expr, p.variables)


def test_chained_rosenbrock_derivatives_and_tridiagonal_hessian():
    f, xs = chained_rosenbrock(25)
    p = sg.Problem(f, variables=xs)
    assert p.gradient == sp.Matrix(naive_gradient(f, xs))
    assert p.hessian == naive_hessian(f, xs)
    nonzero = {(i, j) for i in range(25) for j in range(25) if p.hessian[i, j] != 0}
    assert nonzero == {(i, j) for i in range(25) for j in range(25) if abs(i - j) <= 1}


def test_non_finite_expressions_take_sympys_own_path():
    # 0 * oo is nan: a product's zero terms cannot be skipped there, so partials defers to sp.diff whole.
    inf = sp.Symbol("w", infinite=True)
    for f in (sp.oo * x * y + x, sp.zoo * x + y**2, inf * x * y + x**2):
        assert partials(f, (x, y)) == naive_gradient(f, (x, y))
    assert partials(sp.oo * x * y + x, (x,)) == [sp.nan]


def test_partials_keeps_unlisted_symbols_as_parameters():
    b = sp.Symbol("b", real=True)
    assert partials(b * x**2 + sp.exp(b * y), (x, y)) == [2 * b * x, b * sp.exp(b * y)]
    assert partials(b * x, ()) == []


ATOMS = st.sampled_from([x, y, z, a_plain, p_pos, sp.Integer(2), sp.Integer(-1), sp.Rational(1, 3), sp.Float(0.7),
                         sp.pi])
EXPONENTS = st.sampled_from([2, 3, -1, -2, sp.Rational(1, 2), sp.Rational(-3, 2), sp.Float(2.5), y, x + 1])
FUNCTIONS = st.sampled_from([sp.sin, sp.cos, sp.exp, sp.log, sp.sqrt, sp.atan, sp.Abs, sp.tanh])


def _grow(children):
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda a: sp.Add(*a)),
        st.lists(children, min_size=2, max_size=3).map(lambda a: sp.Mul(*a)),
        st.tuples(children, EXPONENTS).map(lambda be: be[0] ** be[1]),
        st.tuples(FUNCTIONS, children).map(lambda fa: fa[0](fa[1])),
    )


TERMS = st.recursive(ATOMS, _grow, max_leaves=8)
SUMS = st.lists(TERMS, min_size=1, max_size=6).map(lambda ts: sp.Add(*ts))


@given(SUMS)
def test_random_sums_have_the_naive_gradient(f):
    assert partials(f, VARS) == naive_gradient(f, VARS)


@given(SUMS)
def test_random_sums_have_the_naive_hessian(f):
    assume(not f.has(*NOT_FINITE))  # Problem refuses a non-finite objective
    xs = (x, y, p_pos)
    assert sg.Problem(f, variables=xs).hessian == naive_hessian(f, xs)
