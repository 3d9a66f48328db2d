"""minimize(..., client=...) on a two-worker Dask LocalCluster equals the local run, field for field.

The reference is the local runner in this process, from the same starts and options: x, fun, nit,
status, diverged_at, reason (and path/losses) must be bit-for-bit equal (float64), including starts
that diverge, chunks that finish before the others, gradient noise and optimizers built from closures.
"""

import logging
import math
import sys

import numpy as np
import pytest
import sympy as sp

pytest.importorskip("distributed")  # an import guard only: CI installs symgd[dask]

from distributed import Client, LocalCluster  # noqa: E402

from symgd import Problem, schedules  # noqa: E402
from symgd.errors import InputError  # noqa: E402
from symgd.minimize import minimize  # noqa: E402
from symgd.minimize._distributed import run_distributed  # noqa: E402
from symgd.optimizers import Optimizer, get  # noqa: E402

x, y = sp.symbols("x y", real=True)
ROSENBROCK = Problem((1 - x) ** 2 + 100 * (y - x**2) ** 2, variables=(x, y))
FIELDS = ("_x", "_fun", "_nit", "_code", "_diverged_at", "_reason", "_path", "_losses")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # Workers are spawned processes: they inherit the environment at start, so the compiled backend's disk
    # cache points into a tmp dir for them and for this process alike (never $HOME).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYMGD_CACHE_DIR", str(tmp_path_factory.mktemp("symgd_cache")))
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.CRITICAL) as cluster, Client(cluster) as c:
            yield c


def starts(B=3000, seed=0):
    """B starts in [-3, 3]^2: with GD at lr 2e-3 about half of them diverge on Rosenbrock."""
    return np.random.default_rng(seed).uniform(-3.0, 3.0, (B, 2))


def assert_same(dist, local, fields=FIELDS):
    for name in fields:
        a, b = getattr(dist, name), getattr(local, name)
        if b is None:
            assert a is None, name
        else:
            assert a.dtype == b.dtype and a.shape == b.shape, name
            np.testing.assert_array_equal(a, b, err_msg=name)  # NaN == NaN here; otherwise bit for bit
    assert dist.backend == local.backend
    assert np.atleast_1d(dist.status).tolist() == np.atleast_1d(local.status).tolist()
    assert dist._reasons().tolist() == local._reasons().tolist()


@pytest.mark.parametrize("method, hyper, steps", [("gd", {"lr": 2e-3}, 300), ("adam", {"lr": 0.05}, 300),
                                                  ("newton", {}, 60)])
def test_equal_to_local_run(client, method, hyper, steps):
    X = starts()
    local = minimize(ROSENBROCK, method, X, steps, **hyper)
    dist = minimize(ROSENBROCK, method, X, steps, client=client, **hyper)
    assert_same(dist, local)
    assert dist.backend_reason.startswith(local.backend_reason)
    assert "Dask: 6 chunks of 500 starts on 2 workers (2 threads)" in dist.backend_reason


def test_outcomes_are_mixed():
    """The starts of the equality tests exercise every outcome: the comparison is not vacuous."""
    gd = minimize(ROSENBROCK, "gd", starts(), 300, lr=2e-3)
    assert {"diverged", "max_steps"} <= set(gd.status) and set(gd.reason) > {""}
    newton = minimize(ROSENBROCK, "newton", starts(), 60)
    assert "converged" in set(newton.status) and len(set(newton.nit.tolist())) > 3


def test_path_with_chunks_that_finish_early(client):
    """Chunk 0 starts at the minimum (done at t = 0), chunk 1 diverges early: their paths are padded."""
    X = starts(600, seed=1)
    X[:100] = 1.0
    X[100:200] = [[-3.0, 3.0]] * 100
    local = minimize(ROSENBROCK, "gd", X, 80, lr=2e-3, path=True)
    dist = minimize(ROSENBROCK, "gd", X, 80, lr=2e-3, path=True, client=client)
    assert dist._path.shape == (81, 600, 2)
    assert (local.nit[:100] == 0).all() and (local.status[100:200] == "diverged").all()
    assert_same(dist, local)


def test_path_when_every_start_finishes_early(client):
    """Newton converges everywhere long before the step budget: the path is as long as the longest chunk."""
    X = starts(300, seed=2) / 3
    local = minimize(ROSENBROCK, "newton", X, 500, path=True)
    dist = minimize(ROSENBROCK, "newton", X, 500, path=True, client=client)
    assert (local.status == "converged").all() and len(local._path) < 50
    assert_same(dist, local)


def test_gradient_noise(client):
    """Chunk lo:hi sees rows lo:hi of the local (B, n) draw of default_rng([seed, t])."""
    X = starts(1000, seed=3)
    local = minimize(ROSENBROCK, "adam", X, 200, lr=0.05, noise=0.3, seed=11)
    dist = minimize(ROSENBROCK, "adam", X, 200, lr=0.05, noise=0.3, seed=11, client=client)
    assert_same(dist, local)
    quiet = minimize(ROSENBROCK, "adam", X, 200, lr=0.05)
    assert not np.array_equal(quiet.x, dist.x)  # the noise did something


def test_gradient_noise_with_chosen_seed(client):
    dist = minimize(ROSENBROCK, "sgd", starts(400), 50, lr=1e-3, noise=0.5, client=client)
    local = minimize(ROSENBROCK, "sgd", starts(400), 50, lr=1e-3, noise=0.5, seed=dist.seed)
    assert isinstance(dist.seed, int)
    assert_same(dist, local)


def test_noise_rows_are_a_prefix_of_the_full_draw():
    """The fact the chunked noise relies on: a Generator fills (B, n) in C order from one stream."""
    full = np.random.default_rng([5, 7]).standard_normal((300, 3))
    head = np.random.default_rng([5, 7]).standard_normal(200 * 3).reshape(200, 3)
    np.testing.assert_array_equal(full[:200], head)


def test_lookahead_around_adam_with_a_schedule(client):
    """Closures, a Schedule object and a plain lambda as lr, an inner Optimizer: all shipped to the workers."""
    X = starts(1200, seed=4)
    for lr in (schedules.cosine(0.05, 150), lambda t: 0.05 / math.sqrt(t)):
        opt = get("lookahead", inner=get("adam", lr=lr), k=4, alpha=0.6)
        local = minimize(ROSENBROCK, opt, X, 150, path=True)
        dist = minimize(ROSENBROCK, opt, X, 150, path=True, client=client)
        assert_same(dist, local)


def test_chunk_option(client):
    X = starts(1000, seed=5)
    local = minimize(ROSENBROCK, "momentum", X, 100, lr=1e-3)
    opt = get("momentum", lr=1e-3)
    *out, used, why = run_distributed(client, ROSENBROCK, opt, X, 100, tol=1e-8, diverge_at=1e12, path=False,
                                      noise=None, backend="numpy", dtype="float64", chunk=300)
    assert "4 chunks of 250 starts" in why and used == "numpy"
    for name, a in zip(("_x", "_fun", "_nit", "_code", "_diverged_at", "_path", "_losses", "_reason"), out):
        if name in ("_path", "_losses"):
            assert a is None, name
        else:
            np.testing.assert_array_equal(a, getattr(local, name), err_msg=name)
    with pytest.raises(InputError, match="chunk must be a positive integer"):
        run_distributed(client, ROSENBROCK, opt, X, 100, tol=1e-8, diverge_at=1e12, path=False, noise=None,
                        backend="numpy", dtype="float64", chunk=0)


def test_tiles_inside_chunks(client):
    """Each task runs its chunk in tiles of 128 rows; some tiles finish at t = 0, some diverge: padded paths."""
    X = starts(1000, seed=6)
    X[:300] = 1.0
    for noise, seed in ((None, None), (0.2, 9)):
        local = minimize(ROSENBROCK, "gd", X, 60, lr=2e-3, path=True, noise=noise, seed=seed)
        opt = get("gd", lr=2e-3)
        *out, used, why = run_distributed(client, ROSENBROCK, opt, X, 60, tol=1e-8, diverge_at=1e12, path=True,
                                          noise=None if noise is None else (noise, 0.55, seed), backend="numpy",
                                          dtype="float64", chunk=500, tile=128)
        assert why.endswith("2 chunks of 500 starts on 2 workers (2 threads), run in tiles of 128")
        for name, a in zip(("_x", "_fun", "_nit", "_code", "_diverged_at", "_path", "_losses", "_reason"), out):
            np.testing.assert_array_equal(a, getattr(local, name), err_msg=name)
    assert set(local.status) == {"converged", "diverged", "max_steps"}


def test_one_start(client):
    local = minimize(ROSENBROCK, "adam", [-1.0, 2.0], 100, lr=0.1)
    dist = minimize(ROSENBROCK, "adam", [-1.0, 2.0], 100, lr=0.1, client=client)
    assert dist.x.shape == (2,) and "1 chunks of 1 starts" in dist.backend_reason
    assert_same(dist, local)


def test_numba_kernels_use_the_threads_of_their_worker(client):
    """A worker with one thread runs numba's parallel loops on one thread, not on every core of the machine."""
    pytest.importorskip("numba")

    def threads_in_a_task():
        import numba

        from symgd.minimize._distributed import _limit_numba_threads

        _limit_numba_threads("numba")
        return numba.get_num_threads()

    assert client.submit(threads_in_a_task, pure=False).result() == 1


def test_error_on_a_worker_comes_back_as_the_same_one_line_error(client):
    def step(state, x, t, oracle):
        if t == 3:
            raise InputError("this optimizer refuses step 3\n(a second line that stays on the worker)")
        return x - 1e-3 * oracle.grad(x), state

    broken = Optimizer("broken", lambda x: None, step, {}, "")
    with pytest.raises(InputError) as err:
        minimize(ROSENBROCK, broken, starts(100), 10, client=client)
    assert str(err.value) == "this optimizer refuses step 3"


def test_options_are_checked_on_the_client(client):
    with pytest.raises(InputError, match="backend must be one of"):
        minimize(ROSENBROCK, "gd", starts(10), 10, backend="gpu", client=client)
    with pytest.raises(InputError, match="steps must be"):
        minimize(ROSENBROCK, "gd", starts(10), 0, client=client)


@pytest.mark.parametrize("bad", ["tcp://127.0.0.1:8786", object(), 3])
def test_client_must_be_a_dask_client(bad):
    with pytest.raises(InputError, match="client must be a dask.distributed.Client"):
        minimize(ROSENBROCK, "gd", starts(10), 10, client=bad)


def test_closed_client(client):
    other = Client(client.scheduler.address)
    other.close()
    with pytest.raises(InputError, match="the Dask client is closed, not running"):
        minimize(ROSENBROCK, "gd", starts(10), 10, client=other)


def test_without_dask_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now raises ImportError
    with pytest.raises(InputError, match=r"pip install symgd\[dask\]"):
        minimize(ROSENBROCK, "gd", starts(10), 10, client=object())
