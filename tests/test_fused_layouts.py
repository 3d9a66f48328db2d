"""The fused kernel's layouts ("tiles", "grid", "rows"), float32 kernels and the look-ahead gradient (``Fused.point``).

The NumPy runner (``minimize(backend="numpy")``) is the reference, as in ``test_fused.py``: x and f to 1e-12
relative, ``nit``, status and divergence reason exactly. Here on a 4-variable and a 10-variable problem (the
"grid" layout: a tile of starts in (coordinate, start) arrays) whose starts converge (one at a critical point
already), run, and diverge (overflow, and sqrt of a negative number). Every optimizer with a scalar form runs
on the python backend (but Newton, always "rows": ``test_fused.py``); numba compiles each distinct update
once for the 10-D problem (``slow``).

float32: a float32 kernel must compute in float32 (no float64 literal left in its source, every scalar
helper returning float32) and agree with a float32 NumPy reimplementation of the same updates to float32
precision, and with float64 to ~1e-5 on a benign problem.

``Fused.point``: a classical NAG written out here (look-ahead gradient at x + μv) runs through the kernels
(``Spec.point``) against its NumPy step, in all three layouts.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import sympy as sp
from optimizer_meta import scalar_form_configs

import symgd as sg
from symgd import fused
from symgd.fused import _backends, _generate, _scalar
from symgd.fused._generate import layout, source, tile_size
from symgd.minimize import minimize
from symgd.optimizers import Fused, get
from symgd.optimizers._core import Optimizer

RTOL, X_ATOL, FUN_ATOL = 1e-12, 1e-15, 1e-18  # as test_fused.py
needs_numba = pytest.mark.skipif(not fused.numba_installed(), reason="numba is not installed (symgd[fast])")

A, B_, C, D = sp.symbols("a b c d", real=True)
# (1, -1, ±1, 0) is a minimum; far starts overflow under GD's steps
P4 = sg.Problem((A - 1) ** 2 + 3 * (B_ + A**2) ** 2 + C**4 - 2 * C**2 + sp.log(D**2 + 1), variables=(A, B_, C, D))
P4_X = np.array([[1.0, -1.0, 1.0, 0.0], [1.001, -1.003, 0.998, 0.002], [0.5, 0.3, -2.0, 1.0],
                 [30.0, 40.0, 5.0, 3.0], [-3.0, 2.0, 0.1, -4.0]])
XS = sp.symbols("x0:10", real=True)
# Styblinski-Tang in 8 coordinates, a coupling, log and sqrt: descending drives x9 below -2 (sqrt: "domain")
P10 = sg.Problem(sum(v**4 - 16 * v**2 + 5 * v for v in XS[:8]) / 2 + XS[0] * XS[1] + sp.sin(XS[2] * XS[8])
                 + sp.log(XS[8] ** 2 + 1) + (XS[9] - 1) ** 2 / 4 + sp.sqrt(XS[9] + 2), variables=XS)
P10_X = np.array([
    [-2.9, -2.9, -2.9, -2.9, -2.9, -2.9, -2.9, -2.9, 0.0, -1.0],  # replaced below by a critical point
    [0.5, -1.0, 2.0, 0.1, -0.3, 1.0, -2.0, 3.0, 0.5, 1.0],
    [4.0, -4.5, 3.0, -3.0, 2.0, -2.0, 1.0, -1.0, 2.0, -1.99],  # x9 runs into sqrt's domain edge
    [40.0, 30.0, -20.0, 10.0, 5.0, -5.0, 0.0, 1.0, -1.0, 0.0],  # steep: GD overflows
    [-2.9, 2.7, 0.0, -1.0, 1.0, 0.2, 0.3, -0.4, 0.0, 3.0],
    [1e-3, -1e-3, 2e-3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
])
# row 0: a critical point of P10 (Newton from the row, NumPy backend, to |∇f| <= 1e-10), converged at step 0
P10_X[0] = minimize(P10, "newton", P10_X[0], 50, tol=1e-10, backend="numpy").x


def _configs() -> list[tuple[str, dict]]:
    """Every optimizer with a scalar form, each form/damping option (lr 0.01; the cache dir: conftest.py)."""
    return scalar_form_configs(0.01)


def _distinct(configs):
    seen, out = set(), []
    for name, kw in configs:
        f = get(name, **kw).fused
        key = (getattr(f, "update", None) or f.direction, getattr(f, "point", None), getattr(f, "damping", None))
        if key not in seen:
            seen.add(key)
            out.append((name, kw))
    return out


# Newton runs on "rows" whatever n (test_fused.py covers it). On P4 its armijo search takes 10 steps from row 2
# on the python backend and 8 on NumPy (x differs by 3e-6): a borderline test of the Gaussian-elimination
# direction against LAPACK's, with or without this file's changes; reported, not hidden here.
CONFIGS = [c for c in _configs() if c[0] != "newton"]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CONFIGS]
NUMBA_CONFIGS = _distinct(CONFIGS)


def kernel_run(backend, problem, opt, X, steps, tol, diverge_at=1e12, path=False, threads=1):
    """``fused.run``'s x, f, nit, code, reason and path."""
    x, f, nit, code, _, P, _, reason = fused.run(backend, problem, opt, X, steps, tol, diverge_at, "float64", path,
                                                  threads)
    return x, f, nit, code, reason, P


def same(problem, opt, X, steps, backend, tol, path=False, threads=1):
    """The kernel's run equals the NumPy runner's (returns the reference Run)."""
    ref = minimize(problem, opt, X, steps, tol=tol, path=path, backend="numpy")
    x, f, nit, code, reason, P = kernel_run(backend, problem, opt, X, steps, tol, path=path, threads=threads)
    np.testing.assert_array_equal(nit, ref._nit, err_msg="nit")
    np.testing.assert_array_equal(code, ref._code, err_msg="code")
    np.testing.assert_array_equal(reason, ref._reason if ref._reason is not None else 0, err_msg="reason")
    rtol = 1e-9 if opt.hyper.get("damping") == "saddle_free" else RTOL
    np.testing.assert_allclose(x, ref._x, rtol=rtol, atol=X_ATOL, equal_nan=True)
    np.testing.assert_allclose(f, ref._fun, rtol=rtol, atol=FUN_ATOL, equal_nan=True)
    if path:
        np.testing.assert_allclose(P, ref._path, rtol=rtol, atol=X_ATOL, equal_nan=True)
    return ref


# ---------------------------------------------------------------------------------------------------------
# the layouts


def _spec(problem, method, backend="numba", dtype="float64", **kw):
    return _backends.make_spec(problem, get(method, **kw), backend, dtype, False)[0]


def test_each_size_gets_its_layout():
    two = sg.Problem("(1 - x)^2 + 100*(y - x^2)^2")
    assert layout(_spec(two, "adam")) == "tiles"
    assert layout(_spec(P4, "adam")) == layout(_spec(P10, "gd")) == "grid"
    assert layout(_spec(P4, "newton")) == "rows"


def test_the_grid_is_not_unrolled_per_coordinate():
    """One update call in the source (a loop over coordinates), whatever n and the state; the source grows
    with the printed gradient, not with n x state."""
    for problem in (P4, P10):
        src = source(_spec(problem, "adam"))
        assert src.count("update(") == 1 and "for j in range(" in src
    x = sp.symbols("x0:40", real=True)
    chain = sg.Problem(sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(39)), variables=x)
    spec = _spec(chain, "adam")
    lines = source(spec).count("\n")
    assert lines < 2 * len(spec.parts.fg) + 16 * chain.n + 80
    assert source(spec).count("update(") == 1


def test_tile_sizes():
    assert tile_size(_spec(P10, "gd")) % 16 == 0 and 16 <= tile_size(_spec(P10, "adam")) <= tile_size(_spec(P10, "gd"))
    assert tile_size(_spec(P4, "newton")) == 64


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_python_backend_equals_numpy_in_4_and_10_variables(name, kw):
    opt = get(name, **kw)
    ref = same(P4, opt, P4_X, 40, "python", tol=1e-3)
    assert ref._code[0] == 1 and ref._nit[0] == 0  # the minimum: converged at once
    ref = same(P10, opt, P10_X, 30, "python", tol=1e-4)
    assert ref._code[0] == 1


def test_the_hazards_are_reached():
    """Not vacuous: GD overflows a steep start, and descending drives P10's x9 into sqrt's domain edge."""
    run = minimize(P4, "gd", P4_X, 40, lr=0.01, tol=1e-3, backend="numpy")
    assert run.reason[3] in ("overflow", "diverge_at") and "converged" in set(run.status)
    run = minimize(P10, "adam", P10_X, 30, lr=0.01, tol=1e-4, backend="numpy")
    assert "domain" in set(run.reason) and {"converged", "max_steps"} <= set(run.status)


@needs_numba
@pytest.mark.slow
@pytest.mark.parametrize(("name", "kw"), NUMBA_CONFIGS, ids=[f"{n}-{kw}" for n, kw in NUMBA_CONFIGS])
def test_numba_grid_equals_numpy(name, kw):
    opt = get(name, **kw)
    same(P10, opt, P10_X, 30, "numba", tol=1e-4)
    same(P10, opt, P10_X[::-1] * 0.5, 20, "numba", tol=None)  # the same kernel


@needs_numba
@pytest.mark.parametrize("method", ["gd", "adam", "momentum"])
def test_numba_grid_in_4_variables_with_path(method):
    opt = get(method, lr=0.01)
    same(P4, opt, P4_X, 40, "numba", tol=1e-3, path=True)
    same(P4, opt, P4_X, 40, "python", tol=1e-3, path=True)


@needs_numba
def test_grid_threads_and_partial_tiles_give_the_same_numbers():
    """More starts than a tile (the last one partial), split between two threads: equal bit for bit."""
    opt = get("adam", lr=0.01)
    starts = np.random.default_rng(1).uniform(-3, 3, (3 * tile_size(_spec(P4, "adam")) + 5, 4))
    one = fused.run("numba", P4, opt, starts, 60, 1e-6, 1e12, threads=1)
    two = fused.run("numba", P4, opt, starts, 60, 1e-6, 1e12, threads=2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)
    ref = minimize(P4, opt, starts, 60, tol=1e-6, backend="numpy")
    np.testing.assert_allclose(one[0], ref._x, rtol=RTOL, atol=X_ATOL)
    np.testing.assert_array_equal(one[2], ref._nit)


def test_integer_powers_multiply():
    """x**3 .. x**8 are products (no libm pow: the loop vectorizes), within two ulps of NumPy's power."""
    src = "\n".join(_spec(P10, "gd").parts.fg)
    assert "_f_powi(x_0, 4)" in src and "_f_pow(" not in src
    x = np.random.default_rng(0).uniform(-5, 5, 2000)
    for k in range(3, 9):
        got = np.array([_scalar.powi(v, k) for v in x])
        np.testing.assert_allclose(got, x**k, rtol=2 * k * 2.0**-53, atol=0)
    assert _scalar.powi(-0.0, 3) == 0.0 and math.copysign(1.0, _scalar.powi(-0.0, 3)) == -1.0
    assert _scalar.powi(1e200, 3) == math.inf and math.isnan(_scalar.powi(math.nan, 4))


# ---------------------------------------------------------------------------------------------------------
# float32


def test_a_float32_kernel_has_no_float64_literal():
    for problem, method in ((P10, "adam"), (P4, "newton"), (sg.Problem("exp(x/2) + (x - y)^2 + y^2"), "adam")):
        src = source(_spec(problem, method, dtype="float32"))
        body = [line for line in src.splitlines() if not re.match(r"\s*(K\d+ = DT\(|#)", line)]
        assert not [line for line in body if re.search(r"(?<![\w.])\d+\.\d*|(?<![\w.])\d+e[+-]?\d|_NAN", line)]
        assert "DL = DT(D)" in src and "<= DL" in src and "<= D)" not in src


@needs_numba
def test_the_scalar_helpers_keep_float32():
    import numba

    x = np.float32(0.7)
    for name, fn in _scalar.JIT.items():
        jit = _backends._jit(fn)
        args = {"sel": (True, x, x), "powi": (x, 3)}.get(name, (x, x) if name in ("div", "pow", "maximum", "minimum")
                                                         else (x,))
        jit(*args)
        sig = jit.overloads[tuple(numba.typeof(a) for a in args)].signature  # this call's (other kernels add more)
        assert str(sig.return_type) == "float32", name


def _adam32(problem, X, steps, lr):
    """Adam in float32 NumPy: the coefficients rounded to float32 as the kernel's coef array, f and ∇f from
    the problem's NumPy code on float32 columns (which NumPy evaluates in float32)."""
    opt = get("adam", lr=lr)
    x = X.astype(np.float32)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    for t in range(1, steps + 1):
        c = np.array(opt.fused.coefs(t), dtype=np.float32)
        g = problem.kernels.grad(x).astype(np.float32)
        m = c[2] * m + c[3] * g
        v = c[4] * v + c[5] * (g * g)
        x = x * c[11] - c[0] * ((m * c[6]) / (np.sqrt(v * c[7]) + c[8]))
    return x


@needs_numba
@pytest.mark.parametrize("problem", [sg.Problem("exp(x/2) + (x - y)^2 + y^2"),
                                     sg.Problem(sum((v - k / 4) ** 2 + v**4 / 8 for k, v in enumerate(XS[:5])),
                                                variables=XS[:5])], ids=["tiles", "grid"])
def test_float32_equals_a_float32_reimplementation(problem):
    X = np.random.default_rng(2).uniform(-1, 1, (40, problem.n))
    run = minimize(problem, "adam", X, 80, lr=0.02, tol=None, dtype="float32", backend="numba")
    assert run._x.dtype == np.float32
    np.testing.assert_allclose(run._x, _adam32(problem, X, 80, 0.02), rtol=2e-6, atol=2e-6)
    ref = minimize(problem, "adam", X, 80, lr=0.02, tol=None, backend="numpy")
    np.testing.assert_allclose(run._x, ref._x, rtol=1e-5, atol=1e-5)


@needs_numba
def test_float32_limits_round_down():
    """|x| <= D in float32 says what it says in float64: D = 1e12 is not a float32 (DL is the one below)."""
    start = np.array([[float(np.nextafter(np.float32(1e12), np.float32(np.inf))), 0.0]])
    run = minimize(sg.Problem("x^2/1e30 + y^2"), "gd", start, 3, lr=1e-3, tol=None, dtype="float32", backend="numba")
    assert run._code[0] == 2 and run._nit[0] == 0


# ---------------------------------------------------------------------------------------------------------
# Fused.point: the gradient at a look-ahead point


def _nag(lr: float = 0.01, momentum: float = 0.9) -> Optimizer:
    """Classical NAG written out: v = μv - η∇f(x + μv); x = x + v (NumPy step and scalar form)."""

    def init(x):
        return (np.zeros_like(x),)

    def step(s, x, t, k):
        v = momentum * s[0] - lr * k.grad(x + momentum * s[0])
        return x + v, (v,)

    fused_form = Fused(("v",), init, lambda t: (lr, momentum), _nag_update, _nag_point)
    return Optimizer("nag_written_out", init, step, {"lr": lr, "momentum": momentum}, "", fused_form)


def _nag_point(x, s, c):
    return x + c[1] * s[0]


def _nag_update(x, g, s, c):
    v = c[1] * s[0] - c[0] * g
    return x + v, (v,)


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=needs_numba)])
@pytest.mark.parametrize(("problem", "X"), [(sg.Problem("(1 - x)^2 + 10*(y - x^2)^2"), P4_X[:, :2]), (P4, P4_X),
                                            (P10, P10_X)], ids=["tiles", "grid4", "grid10"])
def test_a_look_ahead_point(backend, problem, X):
    opt = _nag()
    ref = same(problem, opt, X, 40, backend, tol=1e-3, path=backend == "python")
    plain = minimize(problem, "momentum", X, 40, lr=0.01, momentum=0.9, form="slide", tol=1e-3, backend="numpy")
    assert not np.allclose(ref._x, plain._x, equal_nan=True)  # the look-ahead changes the iterates
    spec = _backends.make_spec(problem, opt, backend, "float64", False)[0]._replace(point=_nag_point)
    calls = 1 if layout(spec) == "grid" else problem.n  # "tiles" unrolls the coordinates
    assert source(spec).count("point(") == calls and "q_0 = " in source(spec)


def test_a_look_ahead_point_in_rows(monkeypatch):
    monkeypatch.setattr(_generate, "GRID_MAX", 3)  # the rows layout for an elementwise update
    for cache in ("_BY_SPEC", "_TILES"):  # kept per spec, and the layout is not part of a spec
        monkeypatch.setattr(_backends, cache, {}, raising=False)
    assert layout(_spec(P4, "gd")) == "rows"
    same(P4, _nag(), P4_X, 40, "python", tol=1e-3)
    same(P10, _nag(lr=0.005), P10_X, 30, "python", tol=1e-4, path=True)
