"""SWATS on the compiled backends: the per-start reduction hook (``Fused.rows``, ``sums``, ``finish``).

SWATS switches from Adam to SGD on a threshold test of per-start sums (pᵀg, pᵀp). The kernel adds the
update's parts over the coordinates left to right, as ``swats.rowsum`` does in the NumPy step, so the
switch happens at the same step: python and numba agree with NumPy to 1e-12 on x and f and exactly on
nit, status, diverged_at and reason, in every configuration and in the three layouts ("tiles" for
2-D, "grid" above, "rows" when forced). The reference is the NumPy step (``backend="numpy"``).
"""

from __future__ import annotations

import numpy as np
import pytest

import symgd as sg
from symgd import fused, schedules
from symgd.fused import _backends, _generate
from symgd.fused._generate import layout, source
from symgd.minimize import minimize
from symgd.optimizers import Fused, get
from symgd.optimizers.swats import rowsum

RTOL = 1e-12
X_ATOL, FUN_ATOL = 1e-15, 1e-18
STEPS = 120
needs_numba = pytest.mark.skipif(not fused.numba_installed(), reason="numba is not installed (symgd[fast])")

ROSEN = sg.Problem("(1 - x)^2 + 100*(y - x^2)^2")  # 2-D: "tiles"
WIDE = sg.Problem("(a^4 - 16a^2 + 5a + b^4 - 16b^2 + 5b + c^4 - 16c^2 + 5c)/2 + a*b + sin(c*d) + exp(h/4) + d^2 + h^2")
HAZ = sg.Problem("exp(x/3) + log(y) + sin(x*z) + sqrt(z + 1)")  # 3-D "grid"; leaves its domain from some starts
RNG = np.random.default_rng(7)
# the minimum (converges at step 0), a far start (diverges with diverge_at=30), random starts
STARTS = {ROSEN: np.vstack([[1.0, 1.0], [25.0, -20.0], RNG.uniform(-2, 2, (14, 2))]),
          WIDE: np.vstack([[40.0, 0.0, 0.0, 0.0, 0.0], RNG.uniform(-3, 3, (11, 5))]),
          HAZ: np.array([[0.5, 0.05, 0.3], [1.0, 2.0, -0.5], [-2.0, 0.5, 1.0], [3.0, 1e-3, -0.9], [0.0, 1.0, 0.0]])}

# (hyperparameters, whether some running start switches to SGD within STEPS on ROSEN and WIDE: checked below)
CONFIGS = [({"lr": 0.05}, False),  # the default ε = 1e-6: no switch on these problems
           ({"lr": 0.05, "eps": 0.1}, True),
           ({"lr": 0.05, "eps": 0.1, "nesterov": True}, True),
           ({"lr": 0.02, "eps": 0.1, "weight_decay": 0.1}, True),
           ({"lr": 0.1, "eps": 0.3, "betas": (0.5, 0.9)}, True),
           ({"lr": schedules.cosine(0.1, STEPS), "eps": 0.05}, True),
           ({"lr": 0.05, "eps": 0.01, "nesterov": True, "weight_decay": 0.05, "betas": (0.8, 0.99)}, True),
           ({"lr": 0.05, "eps": 0.0}, False)]
IDS = [f"c{i}" for i in range(len(CONFIGS))]


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SYMGD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "symgd-cache"))


def switch_steps(problem, X, steps, **kw):
    """The step at which each start switches to SGD in the NumPy step (-1: never), a diverging start included."""
    opt = get("swats", **kw)
    s, x, when = opt.init(X), X.copy(), np.full(len(X), -1)
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            x, s = opt.step(s, x, t, problem.kernels)
            when[(when < 0) & s.sgd[:, 0]] = t
    return when


def same(problem, X, backend, steps=STEPS, **kw):
    ref = minimize(problem, "swats", X, steps, backend="numpy", **kw)
    run = minimize(problem, "swats", X, steps, backend=backend, **kw)
    assert run.backend == backend, run.backend_reason
    for field in ("_nit", "_code", "_diverged_at", "_reason"):
        np.testing.assert_array_equal(getattr(run, field), getattr(ref, field), err_msg=field)
    np.testing.assert_allclose(run._x, ref._x, rtol=RTOL, atol=X_ATOL, equal_nan=True)
    np.testing.assert_allclose(run._fun, ref._fun, rtol=RTOL, atol=FUN_ATOL, equal_nan=True)
    if ref._path is not None:
        np.testing.assert_allclose(run._path, ref._path, rtol=RTOL, atol=X_ATOL, equal_nan=True)
        np.testing.assert_allclose(run._losses, ref._losses, rtol=RTOL, atol=FUN_ATOL, equal_nan=True)
    return run, ref


RUNNING = {ROSEN: slice(2, None), WIDE: slice(1, None)}  # the starts that do not stop at step 0


@pytest.mark.parametrize("problem", [ROSEN, WIDE], ids=["2d", "5d"])
@pytest.mark.parametrize(("kw", "switches"), CONFIGS, ids=IDS)
def test_the_configurations_switch_as_listed(problem, kw, switches):
    when = switch_steps(problem, STARTS[problem][RUNNING[problem]], STEPS, **kw)
    assert (when > 0).any() == switches


@pytest.mark.parametrize("problem", [ROSEN, WIDE], ids=["2d", "5d"])
def test_starts_switch_at_different_steps(problem):
    """Not only at t = 2 (the first step the test may pass): later, on starts of their own."""
    when = switch_steps(problem, STARTS[problem][RUNNING[problem]], STEPS, **CONFIGS[6][0])
    assert (when > 2).any() and (when == 2).any()
    if problem is ROSEN:  # some start never switches in this batch, another one does after step 30
        assert (when == -1).any() and (when > 30).any()


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=needs_numba)])
@pytest.mark.parametrize("problem", [ROSEN, WIDE, HAZ], ids=["2d-tiles", "5d-grid", "3d-haz"])
@pytest.mark.parametrize(("kw", "switches"), CONFIGS, ids=IDS)
def test_compiled_equals_numpy(backend, problem, kw, switches):
    run, ref = same(problem, STARTS[problem], backend, diverge_at=30.0, **kw)
    if problem is not HAZ:  # the minimum converges at step 0 (ROSEN), the far start stops out of bounds (WIDE)
        assert ref._code[0] == (1 if problem is ROSEN else 2) and ref._nit[0] == 0
    assert layout(_backends.make_spec(problem, run.optimizer, backend, "float64", False)[0]) == (
        "tiles" if problem is ROSEN else "grid")


def test_haz_leaves_the_domain_and_stops_early():
    _, ref = same(HAZ, STARTS[HAZ], "python", **CONFIGS[1][0])
    assert (ref._code == 2).any() and set(ref._reason[ref._code == 2].tolist()) - {0}


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=needs_numba)])
def test_path_and_a_tolerance(backend):
    same(ROSEN, STARTS[ROSEN], backend, steps=60, tol=1e-2, path=True, **CONFIGS[2][0])
    same(WIDE, STARTS[WIDE], backend, steps=60, tol=0.5, path=True, **CONFIGS[1][0])


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=needs_numba)])
def test_rows_layout(monkeypatch, backend):
    monkeypatch.setattr(_generate, "GRID_MAX", 1)  # the rows layout for an elementwise update
    for cache in ("_BY_SPEC", "_TILES"):  # kept per spec, and the layout is not part of a spec
        monkeypatch.setattr(_backends, cache, {}, raising=False)
    spec = _backends.make_spec(WIDE, get("swats", **CONFIGS[3][0]), backend, "float64", False)[0]
    assert layout(spec) == "rows"
    for problem in (ROSEN, WIDE):
        same(problem, STARTS[problem], backend, steps=80, diverge_at=30.0, **CONFIGS[3][0])
        same(problem, STARTS[problem], backend, steps=40, path=True, **CONFIGS[4][0])


@needs_numba
def test_float32_runs_close_to_float64():
    run = minimize(WIDE, "swats", STARTS[WIDE][1:], 40, backend="numba", dtype="float32", **CONFIGS[1][0])
    ref = minimize(WIDE, "swats", STARTS[WIDE][1:], 40, backend="numba", **CONFIGS[1][0])
    assert run._x.dtype == np.float32
    np.testing.assert_allclose(run._x, ref._x, rtol=1e-3, atol=1e-3)


def test_the_hook_in_the_source():
    opt = get("swats", eps=0.1)
    assert isinstance(opt.fused, Fused) and opt.fused.rows == ("avg", "rate", "sgd") and opt.fused.sums == 2
    for problem, calls in ((ROSEN, 2), (WIDE, 1)):  # "tiles" unrolls the coordinates, "grid" loops
        src = fused.kernel_source(problem, opt, backend="python")
        assert src.count("update(") == calls and src.count("finish(") == 1 and "r, c)" in src
        assert "def kernel(" in src and src.split("def kernel(")[1].split(")")[0].endswith("losses, R")
    plain = fused.kernel_source(ROSEN, "adam", backend="python")
    assert "finish(" not in plain and "r, c)" not in plain


def test_lookahead_around_swats_stays_on_numpy():
    opt = get("lookahead", inner="swats", eps=0.1)
    assert opt.fused is None
    assert fused.choose(ROSEN, opt, 1, 100) == ("numpy", "numpy: lookahead has no scalar form")


def test_rowsum_adds_left_to_right():
    a = np.array([[1e16, 1.0, 1.0, -1e16], [0.1, 0.2, 0.3, 0.4]])
    expect = [((1e16 + 1.0) + 1.0) - 1e16, ((0.1 + 0.2) + 0.3) + 0.4]  # 0.0 (pairwise would give 2.0)
    assert rowsum(a)[:, 0].tolist() == expect
    assert rowsum(a).shape == (2, 1)
