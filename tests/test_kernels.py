"""Kernels: the compiled f, gradient and Hessian agree with SymPy, keep the batch-shape contract, and
``lambdify_batched`` keeps its contract (fresh argument names, cse=True/False/callable).

The reference values come from SymPy itself: each entry lambdified alone with ``sympy.lambdify``
(``modules="math"``, no cse), evaluated point by point.
"""

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symgd as sg
from symgd.kernels import Kernels, lambdify_batched

x, y, z = sp.symbols("x y z", real=True)
RNG = np.random.default_rng(20261121)


def reference(p: sg.Problem, X: np.ndarray):
    """f, gradient, Hessian at each row of X from per-entry ``sympy.lambdify`` (math module, no cse)."""
    xs = p.variables

    def values(entries):
        fns = [sp.lambdify(xs, e, modules="math") for e in entries]
        return np.array([[float(fn(*row)) for fn in fns] for row in X])

    n = p.n
    return values([p.expr])[:, 0], values(list(p.gradient)), values(list(p.hessian)).reshape(-1, n, n)


def chained_rosenbrock(n):
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    return sg.Problem(sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(n - 1)), xs)


PROBLEMS = [
    sg.Problem("x^2 + 3*y^2 + x*y"),  # constant Hessian
    sg.Problem("x^3 + y^2"),  # mixed constant and varying entries
    sg.Problem("0.5*x1 + 2*x2 + 4*x3 + 10"),  # constant gradient, zero Hessian
    sg.Problem("exp(x+y) + x^2 - y^2"),
    sg.Problem("sin(x*y) + log(1 + x^2) + sqrt(1 + y^2 + z^2) + atan(z)"),
    sg.Problem("(1 - x)^2 + 100(y - x^2)^2"),
    sg.Problem("x^4 - 50x^3 - x + 1"),  # one variable
    chained_rosenbrock(12),
]


@pytest.mark.parametrize("p", PROBLEMS, ids=[repr(p)[:40] for p in PROBLEMS])
def test_kernels_match_sympy_entry_by_entry(p):
    X = RNG.uniform(-1.5, 1.5, (7, p.n))
    f, g, H = reference(p, X)
    k = p.kernels
    np.testing.assert_allclose(k.f(X), f, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(k.grad(X), g, rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(k.hess(X), H, rtol=1e-13, atol=1e-12)
    fx, gx = k.f_and_grad(X)
    np.testing.assert_array_equal(gx, k.grad(X))
    np.testing.assert_allclose(fx, k.f(X), rtol=1e-15)
    assert isinstance(k, Kernels) and k.n == p.n


@pytest.mark.parametrize("batch", [(), (1,), (5,), (3, 4)])
def test_batch_shapes(batch):
    for p in (PROBLEMS[0], PROBLEMS[2], PROBLEMS[4]):
        n, k = p.n, p.kernels
        X = RNG.uniform(-1, 1, batch + (n,))
        fx, gx = k.f_and_grad(X)
        assert k.f(X).shape == fx.shape == batch
        assert k.grad(X).shape == gx.shape == batch + (n,)
        assert k.hess(X).shape == batch + (n, n)
        if batch:  # row by row equals the batch (no cross-talk between starts)
            flat = X.reshape(-1, n)
            np.testing.assert_array_equal(k.hess(X).reshape(-1, n, n), np.stack([k.hess(r) for r in flat]))
            np.testing.assert_array_equal(k.f(X).reshape(-1), np.array([k.f(r) for r in flat]))


def test_outputs_are_fresh_float_arrays_from_integer_input():
    k = PROBLEMS[2].kernels  # every output is a constant: lambdify returns Python scalars
    X = np.array([[1, 2, 3], [4, 5, 6]])
    f, g = k.f_and_grad(X)
    assert f.dtype == g.dtype == k.hess(X).dtype == float
    np.testing.assert_array_equal(f, [0.5 + 4 + 12 + 10, 2 + 10 + 24 + 10])
    f[0] = g[0, 0] = -1.0  # the caller owns its arrays: nothing cached inside changes
    np.testing.assert_array_equal(k.f_and_grad(X)[1][0], [0.5, 2, 4])
    assert not k.hess(X).any()


def test_sparse_hessian_is_symmetric_with_exact_zeros():
    p = chained_rosenbrock(40)
    H = p.kernels.hess(RNG.uniform(-2, 2, (3, 40)))
    np.testing.assert_array_equal(H, np.swapaxes(H, -1, -2))
    band = np.abs(np.subtract.outer(np.arange(40), np.arange(40))) <= 1
    assert (H[:, ~band] == 0).all() and (H[:, band] != 0).all()


def test_f_is_compiled_on_first_use_only():
    p = sg.Problem("x^2*y + cos(y)")
    k = p.kernels
    assert k.f._fn is None  # the runners call f_and_grad; f alone waits for its first call
    assert k.f(np.array([2.0, 0.0])) == 1.0
    assert k.f._fn is not None


def test_source_is_the_f_and_grad_function_without_user_names():
    p = sg.Problem("(1 - alpha)^2 + 100(beta - alpha^2)^2")
    src = p.kernels.source
    assert src.startswith("def ") and "return [" in src
    assert "alpha" not in src and "beta" not in src
    assert src == inspect.getsource(lambdify_batched(p.variables, [p.expr, *p.gradient]))


def test_arguments_never_carry_the_names_the_user_typed():
    # Symbols built in Python may have any name; the generated code only ever sees fresh identifiers.
    odd = [sp.Symbol(s, real=True) for s in ("lambda", "import os", "x[0]", "_x0", "_t0")]
    exprs = [odd[0] * odd[1] + sp.sin(odd[2] * odd[3]) ** 2 + sp.sin(odd[2] * odd[3]) + odd[4] ** 2, odd[0]]
    fn = lambdify_batched(odd, exprs)
    src = inspect.getsource(fn)
    assert "lambda" not in src and "import" not in src and "x[0]" not in src
    vals = np.array([1.5, -2.0, 0.3, 0.7, 2.0])
    want = [float(e.subs(dict(zip(odd, vals)))) for e in exprs]
    np.testing.assert_allclose([float(v) for v in fn(*vals)], want, rtol=1e-14)


def test_fresh_names_avoid_free_symbols_that_are_not_arguments():
    # A symbol that is no argument keeps its name in the code (a NameError when called, as before); the
    # arguments and temporaries must not take that name.
    clash = sp.Symbol("_x0")
    fn = lambdify_batched((x,), [x**2 + clash])
    params = list(inspect.signature(fn).parameters)
    assert params != ["_x0"] and params[0].endswith("_x0")
    with pytest.raises(NameError):
        fn(1.0)


def test_cse_false_and_callable_cse():
    exprs = [sp.exp(x * y) + x, sp.exp(x * y) * y]
    X, Y = np.array([0.5, 1.0]), np.array([2.0, -1.0])
    want = [np.exp(X * Y) + X, np.exp(X * Y) * Y]
    plain = lambdify_batched((x, y), exprs, cse=False)
    assert inspect.getsource(plain).count("exp(") == 2 and len(inspect.getsource(plain).splitlines()) == 2
    t, u = sp.Symbol("x"), sp.Symbol("t0")  # temporaries named like the user's symbols: renamed too
    given_temps = lambda es: ([(t, x * y), (u, sp.exp(t)), (t, None)], [u + x, u * y])  # noqa: E731
    via = lambdify_batched((x, y), exprs, cse=given_temps)
    assert "del " in inspect.getsource(via)
    for fn in (plain, via, lambdify_batched((x, y), exprs)):
        for got, w in zip(fn(X, Y), want):
            np.testing.assert_allclose(got, w, rtol=1e-15)


def test_extra_arguments_follow_the_variables():
    c = sp.Symbol("c", real=True)
    fn = lambdify_batched((x,), [c * x**2, 3], extra=(c,))
    out = fn(np.array([1.0, 2.0]), np.array([[10.0], [20.0]]))
    np.testing.assert_array_equal(out[0], [[10.0, 40.0], [20.0, 80.0]])
    assert out[1] == 3


def test_non_symbol_arguments_still_work():
    f = sp.Function("f")(x)
    fn = lambdify_batched((f,), [f**2 + 1])
    assert fn(3.0) == [10.0]


def test_constant_objective_of_no_variables():
    k = sg.Problem(sp.Integer(3), variables=()).kernels
    assert k.f(np.zeros((4, 0))).tolist() == [3.0] * 4
    assert k.grad(np.zeros((4, 0))).shape == (4, 0) and k.hess(np.zeros((4, 0))).shape == (4, 0, 0)


@pytest.mark.slow
def test_generated_code_is_the_same_in_every_process():
    # cse in canonical order: workers (Dask) compile the same code, so their runs round identically.
    code = ("import sympy as sp, symgd as sg; xs = sp.symbols('x1:9', real=True); "
            "f = sum(100*(xs[i+1] - xs[i]**2)**2 + (1 - xs[i])**2 + sp.sin(xs[i]*xs[i+1]) for i in range(7)); "
            "p = sg.Problem(f, variables=xs); import inspect; from symgd.kernels import lambdify_batched; "
            "print(p.kernels.source); print(inspect.getsource(lambdify_batched(xs, list(p.hessian))))")
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert outs[0] == outs[1] and "_t0" in outs[0]


POLY_TERMS = st.tuples(st.integers(-5, 5), st.integers(0, 3), st.integers(0, 3), st.integers(0, 2)).map(
    lambda t: t[0] * x ** t[1] * y ** t[2] * z ** t[3])


@given(st.lists(POLY_TERMS, min_size=1, max_size=8), st.sampled_from([sp.sin, sp.exp, sp.cos, lambda e: e]))
def test_random_objectives_match_sympy(terms, outer):
    p = sg.Problem(sp.Add(*terms) + outer(x * y - z), variables=(x, y, z))
    X = RNG.uniform(-1, 1, (4, 3))
    f, g, H = reference(p, X)
    k = p.kernels
    np.testing.assert_allclose(k.f(X), f, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(k.grad(X), g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(k.hess(X), H, rtol=1e-12, atol=1e-12)


def test_the_hessian_of_a_kink_is_zero_beside_it_and_undefined_on_it():
    # d²|x|/dx² is 2·DiracDelta(x)/2 in SymPy, which NumPy cannot evaluate: it was a NameError inside Newton's run
    from symgd import Problem, minimize

    p = Problem("x^2 + Abs(x)")
    H = p.kernels.hess(np.array([[0.0], [2.0], [-1.0]]))
    assert np.isnan(H[0, 0, 0]) and H[1:, 0, 0].tolist() == [2.0, 2.0]
    run = minimize(p, "newton", [[0.0], [1.0]], 5, tol=None, backend="numpy")
    assert list(run.status) == ["diverged", "max_steps"] and run.reason[0] == "nan"
    assert run.x[1, 0] == -0.5  # x - (2x + sign x) / 2 from 1: -0.5, then it swaps sides of the kink
