"""Problem: gradients and Hessians of every calculus example of the slides, compared exactly with SymPy.

Source of the expected values: ../shared/SLIDES.md (rows C1-C8, G1, G2, L1), derived by hand.
"""

import numpy as np
import pytest
import sympy as sp

import symgd as sg

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
