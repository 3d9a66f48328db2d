"""The compiled backends (``symgd.fused``): one generated kernel, run by CPython or numba, equals the NumPy runner.

The NumPy loop (``symgd.minimize._loop``) is the reference. For every registered optimizer with a scalar
form (discovered from ``REGISTRY``: every default configuration and every ``form``/``damping`` option),
the "python" and "numba" backends must give the same x and f to 1e-12 relative and exactly the same
``nit``, status, ``diverged_at`` and divergence reason, on Rosenbrock 2-D, a 3-variable function with
exp/log/sin/sqrt whose starts run into log and sqrt of negative numbers, a 5-variable function (the
kernel's "grid" layout), a batch of GD starts that diverge, and ``tol`` None / 0. (A coordinate or f that
should be 0 is compared with a tiny absolute tolerance, and saddle-free Newton to 1e-9: see the constants.)
numba kernels take one to three seconds each to compile, so the numba sweep compiles each distinct update
function once (``slow``: it still runs in ``make test``).

Every test writes numba's disk cache under a temporary ``SYMGD_CACHE_DIR``, never under $HOME.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp
from optimizer_meta import scalar_form_configs

import symgd as sg
from symgd import fused
from symgd.errors import InputError
from symgd.fused import _backends, _scalar
from symgd.fused._printer import Unprintable, statements
from symgd.minimize import minimize
from symgd.minimize.results import REASONS
from symgd.optimizers import REGISTRY, get

RTOL = 1e-12
X_ATOL, FUN_ATOL = 1e-15, 1e-18  # a coordinate or f that should be 0 is rounding noise (f ~ 1e-28 at Newton's minimum)
# saddle-free Newton rebuilds |H| from an eigendecomposition (Jacobi rotations vs LAPACK's syevd): on HAZ's
# Hessians (cond ~ 1e7 near log's pole) the two agree to ~1e-12 per step, ~1e-11 after 60 steps
SADDLE_RTOL = 1e-9
NO_SCALAR_FORM: set[str] = set()  # every optimizer has one (SWATS's switch: a per-start reduction, Fused.rows)
needs_numba = pytest.mark.skipif(not fused.numba_installed(), reason="numba is not installed (symgd[fast])")

ROSEN = sg.Problem("(1 - x)^2 + 100*(y - x^2)^2")
ROSEN_X = np.array([[-1.2, 1.0], [1.0, 1.0], [0.5, -0.5], [2.0, 3.0], [-3.0, -3.0], [1.5, 2.25]])
# exp, log, sin and sqrt; descending drives y through 0 (log) and z through -1 (sqrt): "domain" and "pole"
HAZ = sg.Problem("exp(x/3) + log(y) + sin(x*z) + sqrt(z + 1)")
HAZ_X = np.array([[0.5, 0.05, 0.3], [1.0, 2.0, -0.5], [-2.0, 0.5, 1.0], [3.0, 1e-3, -0.9], [0.0, 1.0, 0.0]])
BOWL = sg.Problem("(x - 3)^2 + (y + 1)^2")
# five variables: the "grid" layout of the kernel (tiles of starts in (coordinate, start) arrays)
WIDE = sg.Problem("(a^4 - 16a^2 + 5a + b^4 - 16b^2 + 5b + c^4 - 16c^2 + 5c)/2 + a*b + sin(c*d) + exp(h/4) + d^2 + h^2")
WIDE_X = np.array([[0.5, -1.0, 2.0, 0.1, -0.3], [3.0, 3.0, -3.0, 1.0, 2.0], [-2.9, 2.7, 0.0, -1.0, 1.0]])
X_, Y_ = sp.symbols("x y", real=True)


def _configs() -> list[tuple[str, dict]]:
    """Every optimizer with a scalar form, each form/damping option (lr 0.05; the cache dir: conftest.py)."""
    return scalar_form_configs(0.05)


CONFIGS = _configs()
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CONFIGS]


def _distinct(configs):
    """One configuration per distinct scalar update (the unit numba compiles)."""
    seen, out = set(), []
    for name, kw in configs:
        f = get(name, **kw).fused
        key = (getattr(f, "update", None) or f.direction, getattr(f, "damping", None), len(f.coefs(1)))
        if key not in seen:
            seen.add(key)
            out.append((name, kw))
    return out


NUMBA_CONFIGS = _distinct(CONFIGS)


def assert_same(run, ref, backend):
    assert run.backend == backend, run.backend_reason
    for field in ("_nit", "_code", "_diverged_at", "_reason"):
        np.testing.assert_array_equal(getattr(run, field), getattr(ref, field), err_msg=field)
    rtol = SADDLE_RTOL if run.optimizer.hyper.get("damping") == "saddle_free" else RTOL
    np.testing.assert_allclose(run._x, ref._x, rtol=rtol, atol=X_ATOL, equal_nan=True)
    np.testing.assert_allclose(run._fun, ref._fun, rtol=rtol, atol=FUN_ATOL, equal_nan=True)
    if ref._path is not None:
        assert run._path.shape == ref._path.shape
        np.testing.assert_allclose(run._path, ref._path, rtol=rtol, atol=X_ATOL, equal_nan=True)
        np.testing.assert_allclose(run._losses, ref._losses, rtol=rtol, atol=FUN_ATOL, equal_nan=True)


def both(problem, method, x0, steps, backend, **kw):
    ref = minimize(problem, method, x0, steps, backend="numpy", **kw)
    run = minimize(problem, method, x0, steps, backend=backend, **kw)
    assert_same(run, ref, backend)
    return run, ref


# ---------------------------------------------------------------------------------------------------------
# every optimizer with a scalar form, both backends


def test_every_optimizer_but_the_non_elementwise_ones_has_a_scalar_form():
    assert set(REGISTRY) - {name for name, _ in CONFIGS} == NO_SCALAR_FORM
    assert {"newton", "adam", "gd"} <= {name for name, _ in NUMBA_CONFIGS}


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_python_backend_equals_numpy(name, kw):
    opt = get(name, **kw)
    both(ROSEN, opt, ROSEN_X, 150, "python", tol=1e-6)
    both(HAZ, opt, HAZ_X, 60, "python", tol=None)
    slow = get(name, **{**kw, "lr": 0.01}) if "lr" in kw else opt  # stable: a chaotic run amplifies libm's last bit
    both(WIDE, slow, WIDE_X, 20, "python", tol=1e-4)


@needs_numba
@pytest.mark.slow
@pytest.mark.parametrize(("name", "kw"), NUMBA_CONFIGS, ids=[f"{n}-{kw}" for n, kw in NUMBA_CONFIGS])
def test_numba_backend_equals_numpy(name, kw):
    opt = get(name, **kw)
    both(HAZ, opt, HAZ_X, 60, "numba", tol=None)
    both(HAZ, opt, HAZ_X[::-1] * 0.5 + 0.25, 40, "numba", tol=1e-3)  # the same kernel: no recompilation


def test_the_hazards_are_reached():
    """The comparisons above are not vacuous: HAZ's starts diverge for the reasons they should."""
    run = minimize(HAZ, "gd", HAZ_X, 60, tol=None, lr=0.05, backend="python")
    assert "domain" in set(run.reason)
    run = minimize(HAZ, "adam", HAZ_X, 60, tol=None, backend="python")
    assert "domain" in set(run.reason) and "max_steps" in set(run.status)


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=needs_numba)])
@pytest.mark.parametrize("method", ["adam", "gd", "newton"])
def test_rosenbrock(backend, method):
    run, _ = both(ROSEN, method, ROSEN_X, 300, backend, tol=1e-8, **({} if method == "newton" else {"lr": 1e-3}))
    assert run.status[1] == "converged" and run.nit[1] == 0  # (1, 1) is the minimum


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=needs_numba)])
@pytest.mark.parametrize("method", ["adam", "sgd"])
def test_five_variables_in_a_grid(backend, method):
    from symgd.fused._generate import layout

    assert layout(_backends.make_spec(WIDE, get(method), backend, "float64", False)[0]) == "grid"
    run, _ = both(WIDE, method, WIDE_X, 100, backend, lr=0.01, tol=1e-6, path=True)
    assert run.path.shape[1:] == (3, 5)


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=needs_numba)])
def test_a_diverging_batch_with_its_path(backend):
    starts = np.array([[-1.2, 1.0], [1.0, 1.0], [0.9, 0.8], [3.0, -3.0], [1e3, 1e3], [20.0, 0.0]])
    run, ref = both(ROSEN, "gd", starts, 40, backend, lr=0.002, path=True)
    assert {"diverge_at", "overflow", "nan"} & set(run.reason[run.status == "diverged"])
    assert run.path.shape == (int(ref.nit.max()) + 1, 6, 2) and (run.status == "diverged").sum() >= 2


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=needs_numba)])
def test_tol_none_and_tol_zero(backend):
    starts = np.array([[0.0, 0.0], [3.0, -1.0], [5.0, 2.0]])
    exact, _ = both(BOWL, "gd", starts, 5, backend, lr=0.5, tol=0)  # one GD step of 1/2 lands on (3, -1) exactly
    assert exact.nit.tolist() == [1, 0, 1] and (exact.status == "converged").all()
    never, _ = both(BOWL, "gd", starts, 5, backend, lr=0.5, tol=None)
    assert never.nit.tolist() == [5, 5, 5] and (never.status == "max_steps").all()
    newton, _ = both(BOWL, "newton", starts, 5, backend, tol=0)
    assert newton.nit.tolist() == [1, 0, 1]


def test_models_and_piecewise_functions_print():
    from symgd.models._functions import relu, sigmoid, softplus

    x, y = sp.symbols("x y", real=True)
    nets = sg.Problem(softplus(x) + relu(y - 1) ** 2 + sigmoid(x * y) + sp.Max(x, y) ** 2
                      + sp.Piecewise((x**2, x < 0), (x, True)), variables=(x, y))
    starts = np.array([[0.5, 0.5], [-1.0, 2.0], [2.0, -3.0], [0.0, 0.0], [30.0, -30.0]])  # x == y: Heaviside(0)
    both(nets, "adam", starts, 30, "python", lr=0.1, tol=None)


@pytest.mark.parametrize("names", [("__import__", "lambda"), ("x_0", "u0"), ("print", "kernel"), ("update", "_NAN")])
def test_hostile_variable_names_never_reach_the_source(names):
    a, b = (sp.Symbol(n, real=True) for n in names)
    p = sg.Problem(sp.exp(a / 4) + (a - b) ** 2 + sp.log(b**2 + 1), variables=(a, b))
    both(p, "adam", np.array([[1.0, 2.0], [-1.0, 0.5]]), 20, "python", lr=0.1)
    src = fused.kernel_source(p, "adam")
    compile(src, "<kernel>", "exec")
    assert not {"__import__", "lambda", "print"} & set(re.findall(r"[A-Za-z_]\w*", src))


@needs_numba
def test_float32_runs_in_float32():
    p = sg.Problem("exp(x/2) + (x - y)^2 + y^2")
    starts = np.array([[1.0, 1.0], [-2.0, 3.0], [0.5, -0.5]])
    ref = minimize(p, "adam", starts, 200, lr=0.05, tol=None, backend="numpy")
    run = minimize(p, "adam", starts, 200, lr=0.05, tol=None, dtype="float32")
    assert run.backend == "numba" and run.x.dtype == np.float32 and run.fun.dtype == np.float32
    np.testing.assert_allclose(run.x, ref.x, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------------------
# caching


@needs_numba
def test_another_lr_reuses_the_compiled_kernel():
    first = minimize(ROSEN, "adam", ROSEN_X, 50, lr=0.01, backend="numba")
    before = dict(fused.STATS)
    again = minimize(ROSEN, "adam", ROSEN_X, 80, lr=0.03, betas=(0.8, 0.99), eps=1e-6, backend="numba")
    assert fused.STATS == before  # neither compiled nor loaded from disk: hyperparameters travel in coef
    assert not np.array_equal(first.x, again.x)


@needs_numba
def test_threads_give_the_same_numbers():
    starts = np.random.default_rng(0).uniform(-2, 2, (3000, 2))
    one = fused.run("numba", ROSEN, get("adam", lr=0.01), starts, 60, 1e-8, 1e12, threads=1)
    two = fused.run("numba", ROSEN, get("adam", lr=0.01), starts, 60, 1e-8, 1e12, threads=2)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


DISK_SCRIPT = textwrap.dedent("""
    import json, numpy as np, symgd as sg
    from symgd import fused
    run = sg.Problem("(x - 1)^2 + 3*(y + 2)^4").minimize("momentum", np.array([[0.5, 0.5], [2.0, -1.0]]),
                                                           steps=30, lr=0.01, backend="numba")
    print(json.dumps({"stats": fused.STATS, "x": run.x.tolist(), "backend": run.backend}))
""")


@needs_numba
@pytest.mark.slow
def test_the_disk_cache_serves_a_new_process(tmp_path):
    env = {"SYMGD_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def child():
        out = subprocess.run([sys.executable, "-c", DISK_SCRIPT], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    first, second = child(), child()
    assert first["stats"]["compiled"] == 1 and first["stats"]["disk_hits"] == 0
    assert second["stats"]["compiled"] == 0 and second["stats"]["disk_hits"] == 1
    assert first["x"] == second["x"] and second["backend"] == "numba"
    assert len(list(tmp_path.glob("symgd_kernel_*.py"))) == 1 and list(tmp_path.glob("__pycache__/*.nbi"))


def test_an_unusable_cache_dir_means_memory_only(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("SYMGD_CACHE_DIR", str(blocker / "cache"))
    assert fused.cache_dir() is None
    spec, update = _backends.make_spec(BOWL, get("gd"), "numba", "float64", False)
    assert _backends.disk_path(_backends.source(spec), update) is None
    run = minimize(BOWL, "gd", [[1.0, 1.0]], 10, lr=0.1, backend="python")
    assert run.backend == "python"
    if fused.numba_installed():  # a kernel no other test compiles: compiled in memory, no error, nothing written
        before = fused.STATS["compiled"]
        run = minimize(sg.Problem("(x - 2)^2 + 4*y^2 + x*y/3"), "gd", [[1.0, 1.0]], 10, lr=0.1, backend="numba")
        assert run.backend == "numba" and fused.STATS["compiled"] == before + 1
    assert list(tmp_path.iterdir()) == [blocker]


# ---------------------------------------------------------------------------------------------------------
# choose: which backend, and why


def test_auto_picks_python_for_a_repl_call_and_says_why():
    fresh = sg.Problem("(1 - x)^2 + 100*(y - x^2)^2 + 1")  # no kernel for it in this process yet
    run = fresh.minimize("adam", [0.5, 0.5], steps=100, lr=0.01)
    assert (run.backend, run.backend_reason) == ("python", "python: 1 start x 100 steps (no compile time)")


@pytest.mark.parametrize(("kw", "reason"), [
    ({"callback": lambda t, x, f: None}, "numpy: a callback runs only in the NumPy loop"),
    ({"noise": 0.1, "seed": 0}, "numpy: gradient noise runs only in the NumPy loop"),
])
def test_auto_stays_on_numpy_with_a_reason(kw, reason):
    run = minimize(ROSEN, "adam", [0.5, 0.5], 5, **kw)
    assert (run.backend, run.backend_reason) == ("numpy", reason)


def test_auto_reasons_for_optimizers_and_functions_without_a_scalar_form():
    assert fused.choose(ROSEN, get("swats"), 1, 100)[0] in ("python", "numba")  # Fused.rows (test_fused_swats.py)
    assert fused.choose(ROSEN, get("lookahead", inner="swats"), 1, 100) == ("numpy", "numpy: lookahead has no scalar form")
    kink = sg.Problem("abs(x) + y^2")  # its Hessian has DiracDelta(x)
    assert fused.choose(kink, get("newton"), 1, 100) == ("numpy", "numpy: DiracDelta has no scalar form")
    assert fused.choose(kink, get("adam"), 1, 100)[0] in ("python", "numba")  # numba if compiled in this process

    class FromData(sg.Problem):
        @property
        def kernels(self):  # noqa: D102
            return ROSEN.kernels

    data = FromData(ROSEN.expr)
    assert fused.choose(data, get("adam"), 1, 100) == ("numpy", "numpy: FromData evaluates f from data, not from its expression")


def test_auto_by_size():
    adam = get("adam")
    assert fused.choose(sg.Problem("x^4 + y^4 + x*y"), adam, 1000, 100)[0] == "numpy"  # too small to compile
    if fused.numba_installed():
        backend, why = fused.choose(sg.Problem("x^4 + (x - y)^2 + 7*y"), adam, 10**6, 1000)
        assert backend == "numba" and why.startswith("numba: 1000000 starts x 1000 steps (")


@needs_numba
def test_auto_prefers_a_kernel_compiled_in_this_process():
    minimize(ROSEN, "adam", ROSEN_X, 20, backend="numba")
    assert fused.choose(ROSEN, get("adam", lr=0.2), 200, 100) == (
        "numba", "numba: 200 starts x 100 steps (compiled in this process)")


@pytest.mark.parametrize(("kw", "match"), [
    ({"backend": "fortran"}, "backend must be one of"),
    ({"dtype": "float16"}, "dtype must be one of"),
    ({"backend": "numpy", "dtype": "float32"}, "float32.*numba"),
    ({"backend": "python", "dtype": "float32"}, "float32.*numba"),
    ({"backend": "python", "callback": print}, "callback"),
    ({"backend": "python", "noise": 0.1}, "noise"),
])
def test_choose_refuses_what_it_cannot_run(kw, match):
    with pytest.raises(InputError, match=match):
        fused.choose(ROSEN, get("adam"), 1, 10, **kw)


def test_an_explicit_compiled_backend_without_a_scalar_form_is_an_error():
    with pytest.raises(InputError, match="backend='python' cannot run this: lookahead has no scalar form"):
        minimize(ROSEN, get("lookahead", inner="swats"), [0.5, 0.5], 5, backend="python")


def test_numba_missing_says_how_to_install(monkeypatch):
    monkeypatch.setattr(fused, "numba_installed", lambda: False)
    with pytest.raises(InputError, match=re.escape("pip install symgd[fast]")):
        fused.choose(ROSEN, get("adam"), 10, 10, backend="numba")
    with pytest.raises(InputError, match=re.escape("pip install symgd[fast]")):
        fused.choose(ROSEN, get("adam"), 10, 10, dtype="float32")
    assert fused.choose(ROSEN, get("adam"), 10**6, 10**4)[0] == "numpy"


# ---------------------------------------------------------------------------------------------------------
# the pieces: scalar functions, printer, run's result


GRID = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 1e-300, 710.0, -710.0, 1e300, -1e300, math.inf, -math.inf,
        math.nan, 1.0 + 1e-12, -1.0 - 1e-12, 0.999999, 3.7, -2.5]


def _jit_forms():
    pytest.importorskip("numba")
    return {name: _backends._jit(fn) for name, fn in _scalar.JIT.items()}


@pytest.mark.parametrize("form", ["python", pytest.param("numba", marks=needs_numba)])
def test_scalar_functions_answer_as_numpy_does(form):
    fns = _scalar.PY if form == "python" else _jit_forms()
    for name, ufunc in _scalar.NUMPY.items():
        np_fn = getattr(np, ufunc)
        binary = np_fn.nin == 2
        args = [(a, b) for a in GRID for b in GRID] if binary else [(a,) for a in GRID]
        with np.errstate(all="ignore"):
            want = np.array([np_fn(*a) for a in args], dtype=float)
        got = np.array([fns[name](*a) for a in args], dtype=float)
        np.testing.assert_allclose(got, want, rtol=4e-16 if name in ("div", "sq", "fabs") else 1e-14, atol=0,
                                   equal_nan=True, err_msg=f"{form} {name}")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)


@pytest.mark.parametrize("form", ["python", pytest.param("numba", marks=needs_numba)])
def test_model_activations_answer_as_numpy_does(form):
    fns = _scalar.PY if form == "python" else _jit_forms()
    z = np.array(GRID)
    with np.errstate(all="ignore"):
        want = {"softplus": np.logaddexp(0.0, z), "sigmoid": np.exp(-np.logaddexp(0.0, -z)),
                "relu": np.maximum(z, 0.0), "heaviside0": np.heaviside(z, 0.0)}
    for name, ref in want.items():
        got = np.array([fns[name](v) for v in GRID])
        np.testing.assert_allclose(got, ref, rtol=1e-15, atol=0, equal_nan=True, err_msg=name)


def test_the_printer_refuses_what_is_not_whitelisted():
    x, y = sp.symbols("x y", real=True)
    for expr, name in ((sp.DiracDelta(x), "DiracDelta"), (sp.Function("mse")(x), "mse"), (sp.floor(x), "floor"),
                       (sp.gamma(x), "gamma"), (x * y, "the symbol 'y' (not a variable)")):
        with pytest.raises(Unprintable, match=re.escape(f"{name} has no scalar form")):
            statements([expr], {x: "x_0"}, ["f"], "u")


@pytest.mark.parametrize(("expr", "line"), [
    (X_**2, "f = _f_sq(a)"),  # NumPy's power(x, 2) is square(x): x*x
    (X_**-2, "f = _f_pow(a, (-2.0))"),  # a negative integer power is a float power, as the NumPy printer makes it
    (3 * X_**-2, "f = _f_div(3.0, _f_sq(a))"),  # in a product it is a division
    (1 / (X_ + Y_), "f = _f_div(1.0, a + b)"),
    (X_ / 3, "f = (0.3333333333333333)*a"),  # (1/3)*x, as the NumPy code computes it
    (sp.sqrt(X_) / sp.sqrt(Y_), "f = _f_div(_f_sqrt(a), _f_sqrt(b))"),
    (sp.Heaviside(X_), "f = (0.0 if (a < 0.0) else (0.5 if (a == 0.0) else (1.0 if True else _NAN)))"),
])
def test_the_printer_prints_what_numpy_evaluates(expr, line):
    assert statements([expr], {X_: "a", Y_: "b"}, ["f"], "u") == [line]


def test_run_returns_the_runner_tuple_with_reasons_as_in_results():
    out = fused.run("python", ROSEN, get("gd", lr=0.01), ROSEN_X * 3, 30, 1e-8, 1e12)
    x, f, nit, code, div_at, path, losses, reason = out
    assert x.shape == (6, 2) and f.shape == nit.shape == code.shape == div_at.shape == reason.shape == (6,)
    assert path is None and losses is None and reason.dtype == code.dtype == np.int8
    assert set(REASONS[r] for r in reason[code == 2]) <= {"nan", "overflow", "diverge_at", "domain", "pole"}
    assert ((code == 2) == (reason > 0)).all() and (div_at[code != 2] == -1).all()


def test_kernel_source_is_readable_python():
    src = fused.kernel_source(ROSEN, "adam", backend="python")
    assert src.count("def kernel(") == 1 and "update(o_0, ga_0[i]" in src and "_f_sq(" in src
    compile(src, "<kernel>", "exec")
    with pytest.raises(InputError, match="lookahead has no scalar form"):
        fused.kernel_source(ROSEN, get("lookahead", inner="swats"))
