"""Compiled runs in chunks: a run is a sequence of kernel calls, the state carried from one to the next.

The reference is the same run in one call (``CHUNK`` and ``FIRST_CHUNK`` larger than the run); a run in
calls of 1, 2, 3, 3, ... steps (``FIRST_CHUNK = 1``, ``CHUNK = 3``: every start crosses many boundaries,
and finishes inside some call) must give the same x, f, nit, status, reason, diverged_at, path and losses,
bit for bit. Every optimizer with a scalar form on the python backend, in the three layouts; numba for each
layout and each kind of state (none, per coordinate, SWATS's per-start rows, NAG's look-ahead point,
Newton's dampings) in float64 and float32. Then the things chunks are for: runs longer than 2**20 steps
(checked against the closed form of GD on x²), step counts past 2**31, no work and no path rows after
every start has finished.
"""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest
import sympy as sp
from optimizer_meta import scalar_form_configs

from symgd import Problem, fused
from symgd.fused import _backends, _generate, _run
from symgd.minimize import minimize
from symgd.optimizers import get

needs_numba = pytest.mark.skipif(not fused.numba_installed(), reason="numba is not installed (symgd[fast])")
X_, Y_, Z_ = sp.symbols("x y z", real=True)
# minima at (±1, 0); past y = 20/3 the cubic pushes y up to the bound D = 8 (diverged, at some step)
BASE = (X_**2 - 1) ** 2 + Y_**2 - Y_**3 / 10
P2 = Problem(BASE, variables=(X_, Y_))  # "tiles"
P3 = Problem(BASE + (Z_ - X_ / 2) ** 2 + (Z_ - sp.Rational(1, 2)) ** 4 / 4, variables=(X_, Y_, Z_))  # "grid"
D = 8.0
STARTS = np.array([
    [1.0, 0.0, 0.5],  # a critical point (∇f exactly 0): converged at step 0
    [9.0, 0.0, 0.0],  # out of bounds: diverged at step 0
    [0.5, 0.3, -0.2], [-1.5, 2.0, 1.0], [1.2, -0.5, 0.3], [0.98, 0.01, 0.49],  # converge, or run on
    [0.3, 7.9, 0.0], [0.5, 6.8, 0.0], [-0.5, 7.3, 0.2], [0.2, 7.6, -0.3],  # pushed out past D, some late
])
STEPS = 60
FIELDS = ("x", "fun", "nit", "diverged_at", "path", "losses")
CONFIGS = scalar_form_configs(lr=0.05)


def chunked(monkeypatch, problem, method, kw, backend, dtype="float64", steps=STEPS, tol=1e-6, chunk=3, first=1):
    """The run in calls of ``first``, 2 first, ... up to ``chunk`` steps, and the same run in one call."""
    runs = []
    for c, f in ((chunk, first), (10**9, 10**9)):
        monkeypatch.setattr(_run, "CHUNK", c)
        monkeypatch.setattr(_run, "FIRST_CHUNK", f)
        runs.append(minimize(problem, method, STARTS[:, :problem.n], steps=steps, tol=tol, diverge_at=D, path=True,
                             backend=backend, dtype=dtype, **kw))
    return runs


def assert_same(a, b):
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name, strict=True)
    assert a.status.tolist() == b.status.tolist() and a.reason.tolist() == b.reason.tolist()
    assert a.backend == b.backend


@pytest.mark.parametrize("problem", [P2, P3], ids=["tiles", "grid"])
@pytest.mark.parametrize("name, kw", CONFIGS, ids=[f"{m}-{'-'.join(map(str, k.values()))}" for m, k in CONFIGS])
def test_python_runs_in_chunks_equal_one_call(monkeypatch, problem, name, kw):
    many, one = chunked(monkeypatch, problem, name, kw, "python")
    assert_same(many, one)
    assert one.nit[0] == 0 and one.status[1] == "diverged" and one.diverged_at[1] == 0  # finished at step 0
    assert ((one.nit > 1) & (one.nit < STEPS)).any()  # and some in a later call


@pytest.mark.parametrize("name, kw", [("adam", {"lr": 0.05}), ("swats", {"lr": 0.05}), ("nag", {"lr": 0.05}),
                                      ("momentum", {"lr": 0.05})])
def test_python_rows_layout_for_an_elementwise_update_in_chunks(monkeypatch, name, kw):
    monkeypatch.setattr(_generate, "GRID_MAX", 1)  # "rows" for every n
    assert _generate.layout(_backends.make_spec(P2, get(name, **kw), "python", "float64", True)[0]) == "rows"
    assert_same(*chunked(monkeypatch, P2, name, kw, "python"))


NUMBA_CASES = [  # (problem, method, hyperparameters, dtype): each layout, each kind of state, both dtypes
    (P2, "adam", {"lr": 0.05}, "float64"), (P2, "adam", {"lr": 0.05}, "float32"), (P2, "swats", {"lr": 0.05}, "float32"),
    (P2, "nag", {"lr": 0.05}, "float64"), (P3, "gd", {"lr": 0.05}, "float64"), (P3, "adam", {"lr": 0.05}, "float32"),
    (P3, "swats", {"lr": 0.05}, "float64"), (P3, "nag", {"lr": 0.05}, "float32"), (P2, "newton", {}, "float64"),
    (P3, "newton", {"damping": "armijo"}, "float32"), (P3, "newton", {"damping": "saddle_free"}, "float64"),
]


@needs_numba
@pytest.mark.parametrize("problem, name, kw, dtype", NUMBA_CASES,
                         ids=[f"{p.n}-{m}-{'-'.join(map(str, k.values()))}-{d}" for p, m, k, d in NUMBA_CASES])
def test_numba_runs_in_chunks_equal_one_call(monkeypatch, problem, name, kw, dtype):
    many, one = chunked(monkeypatch, problem, name, kw, "numba", dtype)
    assert_same(many, one)
    assert one.backend == "numba" and ((one.nit > 1) & (one.nit < STEPS)).any()


@needs_numba
def test_numba_rows_layout_for_an_elementwise_update_in_chunks(monkeypatch):
    monkeypatch.setattr(_generate, "GRID_MAX", 1)
    assert_same(*chunked(monkeypatch, P3, "adam", {"lr": 0.05}, "numba"))


@needs_numba
def test_numba_threads_in_chunks_equal_one_call(monkeypatch):
    """Two threads (2,000 starts), each call split between them; calls of 1, 2, 4, 7, 7 ... steps."""
    X = np.random.default_rng(5).uniform(-2, 2, (2000, 2)) * [1.0, 4.5]
    opt, out = get("momentum", lr=0.02), []
    for c, f in ((7, 1), (10**9, 10**9)):
        monkeypatch.setattr(_run, "CHUNK", c)
        monkeypatch.setattr(_run, "FIRST_CHUNK", f)
        out.append(fused.run("numba", P2, opt, X, 100, 1e-3, D, path=True, threads=2))
    code = out[1][3]
    assert (code == 0).any() and (code == 1).any() and (code == 2).any()
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b, strict=True)


def test_a_run_past_2_to_the_20_steps_runs_compiled_and_matches_the_closed_form(monkeypatch):
    """GD on x²: x_t = (1 - 2 lr)^t x0 (each step rounds: ~1e-10 relative after 10^6 steps)."""
    backend = "numba" if fused.numba_installed() else "python"
    steps, lr, x0 = 2**20 + 12_345, 1e-7, 3.0
    calls, real = [], _run._call
    monkeypatch.setattr(_run, "_call", lambda *a: calls.append(a[3:5]) or real(*a))
    run = minimize(Problem("x^2"), "gd", [x0], steps=steps, lr=lr, tol=None, backend=backend)
    assert run.backend == backend and run.nit == steps and run.status == "max_steps"
    np.testing.assert_allclose(run.x[0], x0 * (1 - 2 * lr) ** steps, rtol=1e-8)
    assert [t0 for t0, _ in calls] == list(np.cumsum([0] + [k for _, k in calls[:-1]]))  # consecutive steps
    assert sum(k for _, k in calls) == steps and max(k for _, k in calls) == _run.CHUNK


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=needs_numba)])
def test_step_counts_past_2_to_the_31_are_exact(monkeypatch, backend):
    """A call's steps are counted in int32 ("tiles", "grid"); the run's, t0 + t, in int64: a second call from
    t0 = 2**33 + 5 instead of 3 gives the same run with its later steps counted from there (GD's rows are all lr)."""
    t0, opt = 2**33 + 5, get("gd", lr=1e-2)
    for problem, grid_max in ((P2, 10**9), (P3, 10**9), (P3, 1)):  # "tiles", "grid", "rows"
        monkeypatch.setattr(_generate, "GRID_MAX", grid_max)
        X = STARTS[[2, 0, 1, 6], :problem.n]  # runs on; converged, diverged at step 0; diverges at step 4
        out = {}
        for t_second in (3, t0):
            monkeypatch.setattr(_run, "chunks", lambda steps, t=t_second: iter([(0, 3), (t, 4)]))
            out[t_second] = fused.run(backend, problem, opt, X, 7, 1e-6, D)
        (x, f, nit, code, *_), big = out[3], out[t0]
        assert code.tolist() == [0, 1, 2, 2] and nit.tolist() == [7, 0, 0, 4]
        assert big[2].tolist() == [t0 + 4, 0, 0, t0 + 1] and big[3].tolist() == code.tolist()
        np.testing.assert_array_equal(big[0], x)
        np.testing.assert_array_equal(big[1], f)


@pytest.mark.parametrize("backend", ["python", pytest.param("numba", marks=needs_numba)])
def test_no_call_and_no_path_rows_after_every_start_has_finished(monkeypatch, backend):
    calls, real = [], _run._call
    monkeypatch.setattr(_run, "_call", lambda *a: calls.append((a[3], a[4], a[7].shape)) or real(*a))
    run = minimize(Problem("x^2 + y^2"), "gd", [[1.0, 2.0], [0.5, 0.0]], steps=10**6, lr=0.25, tol=1e-12,
                   path=True, backend=backend)
    assert run.status.tolist() == ["converged"] * 2 and run.nit.max() < 60 and run.path.shape == (run.nit.max() + 1, 2, 2)
    assert calls == [(0, _run.FIRST_CHUNK, (_run.FIRST_CHUNK + 1, 2, 2))]  # one call, rows for it only
    early = run.nit.argmin()  # its rows past its last step repeat its last point
    assert (run.path[run.nit[early]:, early] == run.x[early]).all()
    assert (run.losses[run.nit[early]:, early] == run.fun[early]).all()


def test_coefficient_rows_from_any_step(monkeypatch):
    opt = get("adam", lr=0.01)
    coefs, nc = opt.fused.coefs, len(opt.fused.coefs(1))
    fresh = np.array([tuple(coefs(t)) for t in range(1, 301)])
    key = ("test_fused_chunks", 1)
    monkeypatch.setitem(_run._TABLES, key, fresh[:0])
    got = [_run.coef_table(coefs, nc, k, key, t0, upto=300) for t0, k in ((0, 10), (10, 20), (30, 45))]
    np.testing.assert_array_equal(np.concatenate(got), fresh[:75])
    assert len(_run._TABLES[key]) == 75  # each call asked for more than twice the kept rows
    np.testing.assert_array_equal(_run.coef_table(coefs, nc, 5, key, 75, upto=120), fresh[75:80])
    assert len(_run._TABLES[key]) == 120  # twice 75, but the run ends at 120
    np.testing.assert_array_equal(_run.coef_table(coefs, nc, 10, key, 120, upto=1000), fresh[120:130])
    assert len(_run._TABLES[key]) == 240  # twice 120
    np.testing.assert_array_equal(_run.coef_table(coefs, nc, 100, None, 200), fresh[200:])  # no key
    monkeypatch.setattr(_run, "TABLE_BYTES", 8 * nc * 250)  # keep at most 250 rows
    np.testing.assert_array_equal(_run.coef_table(coefs, nc, 40, key, 230), fresh[230:270])  # kept + new
    assert len(_run._TABLES[key]) == 240


def test_chunks_double_up_to_the_chunk_size(monkeypatch):
    monkeypatch.setattr(_run, "FIRST_CHUNK", 2)
    monkeypatch.setattr(_run, "CHUNK", 8)
    assert list(_run.chunks(40)) == [(0, 2), (2, 4), (6, 8), (14, 8), (22, 8), (30, 8), (38, 2)]
    assert list(_run.chunks(0)) == [(0, 0)]  # step 0's tests still run
    _, _, nit, code, _, path, _, _ = fused.run("python", P2, get("adam"), STARTS[:3, :2], 0, 1e-6, D, path=True)
    assert nit.tolist() == [0, 0, 0] and code.tolist() == [1, 2, 0] and path.shape == (1, 3, 2)


def test_only_the_printer_imports_sympy():
    """A process that loads a kernel it has compiled before needs no SymPy for it (the package's ``__init__``
    is another matter: it names the printer's ``Unprintable``)."""
    here = pathlib.Path(fused.__file__).parent
    for path in sorted(here.glob("_*.py")):
        if path.name in ("_printer.py", "__init__.py"):
            continue
        top = [n for n in ast.parse(path.read_text()).body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = [a.name for n in top for a in n.names] + [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
        assert not [m for m in names if m.startswith("sympy") or m.endswith("_printer")], path.name
