"""The per-call caches of the runner: coefficient rows, optimizers, parsed texts, loaded kernels.

Each cache must give the answer a fresh computation gives, and must not serve a request that could
differ (a Python function as a schedule, 1 against 1.0, another lr). Speed is in benchmarks/.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from symgd import Problem, fused, minimize, schedules
from symgd.fused import _backends, _run
from symgd.optimizers import get

ROSEN = Problem("(1 - x)^2 + 100*(y - x^2)^2")
STARTS = np.array([[0.5, 0.5], [-1.0, 2.0], [1.5, -0.5]])


def fresh_rows(opt, steps):
    return np.array([tuple(opt.fused.coefs(t)) for t in range(1, steps + 1)], dtype=np.float64)


@pytest.mark.parametrize("method, hyper", [("adam", {"lr": 0.01}), ("nadam", {}), ("radam", {"lr": 0.1}),
                                           ("adam", {"lr": schedules.cosine(0.1, 40)}), ("momentum", {"momentum": 0.5})])
def test_coefficient_rows_are_kept_and_extended_exactly(method, hyper):
    opt = get(method, **hyper)
    key = _run.coef_key(opt)
    assert key is not None
    _run._TABLES.pop(key, None)
    short = _run.coef_table(opt.fused.coefs, len(opt.fused.coefs(1)), 7, key).copy()
    long = _run.coef_table(opt.fused.coefs, len(opt.fused.coefs(1)), 50, key)  # extends the 7 rows
    again = _run.coef_table(opt.fused.coefs, len(opt.fused.coefs(1)), 20, key)  # a prefix of the kept rows
    np.testing.assert_array_equal(short, fresh_rows(opt, 7))
    np.testing.assert_array_equal(long, fresh_rows(opt, 50))
    np.testing.assert_array_equal(again, fresh_rows(opt, 20))
    assert len(_run._TABLES[key]) == 50


def test_rows_of_a_python_function_schedule_are_never_kept():
    calls = []

    def lr(t):
        calls.append(t)
        return 0.01

    opt = get("adam", lr=lr)
    assert _run.coef_key(opt) is None  # the function could change between calls: no key
    assert _run.coef_key(get("lookahead", inner="adam")) is None  # an inner Optimizer: no key either
    minimize(ROSEN, opt, STARTS, steps=5, tol=None, backend="python")
    minimize(ROSEN, opt, STARTS, steps=5, tol=None, backend="python")
    assert calls.count(1) >= 2  # computed on each call


def test_two_requests_for_the_same_optimizer_share_it_but_1_and_1_0_do_not():
    assert get("adam", lr=0.1) is get("adam", lr=0.1)
    assert get("adam", lr=0.1) is not get("adam", lr=0.2)
    assert get("gd", lr=1) is not get("gd", lr=1.0)
    assert repr(get("gd", lr=1)) == "gd(lr=1)" and repr(get("gd", lr=1.0)) == "gd(lr=1.0)"
    assert get("adam", betas=(0.9, 0.99)) is get("adam", betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="lr must be positive"):
        get("adam", lr=-1.0)
    with pytest.raises(ValueError, match="did you mean 'lr'"):
        get("adam", lrr=0.1)


def test_a_cached_run_equals_a_run_with_empty_caches(monkeypatch):
    opt = get("adam", lr=0.01)
    first = minimize(ROSEN, "adam", STARTS, steps=40, lr=0.01, tol=None, backend="python")
    again = minimize(ROSEN, "adam", STARTS, steps=40, lr=0.01, tol=None, backend="python")
    for module, name in ((_run, "_TABLES"), (_backends, "_BY_SPEC"), (_backends, "_KERNELS"),
                         (_backends, "_NCOEF"), (_run, "_TILES"), (_backends, "_PARTS")):
        monkeypatch.setattr(module, name, {})
    cold = minimize(Problem("(1 - x)^2 + 100*(y - x^2)^2"), opt, STARTS, steps=40, tol=None, backend="python")
    for run in (again, cold):
        np.testing.assert_array_equal(run.x, first.x)
        np.testing.assert_array_equal(run.fun, first.fun)
        np.testing.assert_array_equal(run.nit, first.nit)


def test_the_kernel_codes_diverged_and_converged_starts_as_the_numpy_loop_does():
    p = Problem("x^2 + 10*y^2")
    X = np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 2.0], [1e-9, 0.0]])
    ref = minimize(p, "gd", X, steps=50, lr=0.2, backend="numpy")
    got = minimize(p, "gd", X, steps=50, lr=0.2, backend="python")
    assert got.status.tolist() == ref.status.tolist() == ["diverged", "converged", "diverged", "converged"]
    assert got.diverged_at.tolist() == ref.diverged_at.tolist()
    assert got.reason.tolist() == ref.reason.tolist()


def test_a_path_that_would_not_fit_in_memory_is_refused_before_any_work():
    from symgd.errors import InputError

    with pytest.raises(InputError, match=r"path=True would record 1000000001 x 1000 x 2 values \(about 3.03e\+04 GiB\)"):
        minimize(Problem("x^2"), "gd", np.zeros((1000, 1)), steps=10**9, path=True)


def test_runs_of_any_length_may_run_compiled_and_stop_when_every_start_is_done(monkeypatch):
    many = 2**40  # no table of 2**40 rows is made: calls of chunks, rows per chunk
    backend, why = fused.choose(ROSEN, "adam", 10**5, many)
    assert backend == ("numba" if fused.numba_installed() else "numpy"), why
    assert fused.choose(ROSEN, "adam", 1, many, backend="python")[0] == "python"
    calls, real = [], _run._call
    monkeypatch.setattr(_run, "_call", lambda *a: calls.append(a[3:5]) or real(*a))
    run = minimize(Problem("x^2"), "gd", np.zeros((3, 1)), steps=10**9, tol=0, backend="python")  # all at x0
    assert run.backend == "python" and run.nit.tolist() == [0, 0, 0] and run.status.tolist() == ["converged"] * 3
    assert calls == [(0, _run.FIRST_CHUNK)]  # the first call found every start done: no second call


@pytest.mark.skipif(not fused.numba_installed(), reason="numba is not installed (symgd[fast])")
def test_no_thread_outlives_a_threaded_run():
    before = threading.active_count()
    X = np.random.default_rng(3).uniform(-2, 2, (4000, 2))
    one = fused.run("numba", ROSEN, get("adam", lr=0.01), X, 60, 1e-8, 1e12, threads=1)
    two = fused.run("numba", ROSEN, get("adam", lr=0.01), X, 60, 1e-8, 1e12, threads=2)
    assert threading.active_count() == before  # the budget workers fork: no idle pool may be left behind
    for a, b in zip(one, two):
        if a is not None:
            np.testing.assert_array_equal(a, b)
