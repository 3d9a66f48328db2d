"""The scalar forms of lookahead (around any inner form) and classical NAG (``Fused.point``) agree with NumPy.

The driver of ``test_fused_updates.py``, extended: when the form has a ``point``, every coordinate's
``z = point(x, s, c)`` is taken first (with the state before the update) and the oracle is evaluated at
z, as the kernel does. The scalar updates run in CPython and compiled by ``symgd.fused``'s ``_jit``
(the inner update is compiled first as a global callee), with ``c`` a tuple as in the kernel, so tuple
slicing of ``s`` and ``c`` is compiled too; the iterates and states must agree bit for bit.
Also: lookahead's update is one object per inner update (another lr, k or α compiles nothing new),
it pickles by name, and the disk-cache key of a kernel depends on the inner update's source.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from test_fused_updates import STEPS, Oracle, cyc, grad, hazard_grad, rel_diff, starts

from symgd import Problem, fused, schedules
from symgd.fused import _backends
from symgd.minimize import minimize
from symgd.optimizers import Fused, Optimizer, get
from symgd.optimizers import lookahead as lookahead_module

LOOKAHEAD = [  # around every kind of inner form; lr as a number and as schedules
    {"inner": "gd", "lr": 0.1},
    {"inner": "gd", "lr": schedules.cosine(0.3, STEPS), "k": 3, "alpha": 0.8},
    {"inner": "momentum", "lr": 0.05, "form": "torch", "k": 4},
    {"inner": "momentum", "lr": schedules.step(0.05, 10, 0.5), "form": "slide", "k": 6, "alpha": 0.3},
    {"inner": "momentum", "lr": 0.05, "form": "heavy_ball", "k": 2},
    {"inner": "adam", "lr": schedules.linear_warmup(0.2, 10), "k": 5},
    {"inner": "adam", "lr": 0.1, "amsgrad": True, "eps": 0.0, "k": 3},
    {"inner": "adamw", "lr": 0.1, "weight_decay": 0.3, "k": 4, "alpha": 1.0},
    {"inner": "rmsprop", "lr": schedules.cosine(0.05, STEPS), "momentum": 0.9, "centered": True},
    {"inner": "nag", "lr": 0.05, "form": "torch", "k": 3},
    {"inner": "nag", **cyc(), "form": "torch", "k": 7},
    {"inner": "nag", "lr": 0.05, "momentum": 0.8, "form": "classical", "k": 4},
    {"inner": "nag", "lr": schedules.step(0.1, 10, 0.5), "form": "classical", "k": 5, "alpha": 0.7},
]
CONFIGS = [("lookahead", kw) for kw in LOOKAHEAD] + [
    ("nag", {"lr": 0.05, "form": "classical"}),
    ("nag", {**cyc(), "form": "classical"}),
    ("nag", {"lr": schedules.cosine(0.1, STEPS), "momentum": 0.5, "form": "classical"}),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CONFIGS)]


def make(name, kw):
    return get(name, **kw)


def flat(state) -> list:
    """A NumPy state as the scalar form's arrays: NamedTuple fields in order, nested states flattened."""
    if isinstance(state, np.ndarray):
        return [state]
    return [a for part in state for a in flat(part)]


# --- the drivers: NumPy step over the batch, scalar update per coordinate ------------------------------------------
def numpy_run(opt, X, oracle_at):
    state, x, out = opt.init(X), X, []
    for t in range(1, STEPS + 1):
        x, state = opt.step(state, x, t, Oracle(oracle_at(t)))
        out.append((x, flat(state)))
    return out


def python_sweep(fused, X, S, c, oracle):
    """One update of every coordinate on Python floats; the gradient at ``point`` if the form has one."""
    def s_at(i, j):
        return tuple(float(a[i, j]) for a in S)

    Z = X
    if fused.point is not None:
        Z = np.array([[fused.point(float(X[i, j]), s_at(i, j), c) for j in range(X.shape[1])]
                      for i in range(X.shape[0])])
    G = oracle(Z)
    for i, j in np.ndindex(X.shape):
        X[i, j], s = fused.update(float(X[i, j]), float(G[i, j]), s_at(i, j), c)
        for a, v in zip(S, s, strict=True):
            a[i, j] = v


def scalar_run(fused, X, oracle_at, sweep=python_sweep):
    X, S, out = X.copy(), [np.array(a, dtype=float) for a in fused.init(X)], []
    for t in range(1, STEPS + 1):
        sweep(fused, X, S, tuple(fused.coefs(t)), oracle_at(t))
        out.append((X.copy(), [a.copy() for a in S]))
    return out


def worst(ref, got) -> float:
    out = 0.0
    for (x_ref, s_ref), (x, s) in zip(ref, got, strict=True):
        assert len(s_ref) == len(s)
        out = max([out, rel_diff(x_ref, x), *(rel_diff(a, b) for a, b in zip(s_ref, s, strict=True))])
    return out


# --- the compiled driver: loops generated per number of state scalars, the update compiled by symgd's _jit ---------
def _sweep_source(k: int) -> str:
    s = "(" + "".join(f"S[{q}, i, j], " for q in range(k)) + ")"
    put = "".join(f"\n            S[{q}, i, j] = s[{q}]" for q in range(k))
    return (f"def points(point, X, S, c, Z):\n    for i in range(X.shape[0]):\n        for j in range(X.shape[1]):\n"
            f"            Z[i, j] = point(X[i, j], {s}, c)\n"
            f"def updates(update, X, G, S, c):\n    for i in range(X.shape[0]):\n        for j in range(X.shape[1]):\n"
            f"            X[i, j], s = update(X[i, j], G[i, j], {s}, c){put}\n")


@pytest.fixture(scope="module")
def numba_sweep():
    numba = pytest.importorskip("numba")  # an import guard only: CI installs numba
    loops = {}

    def sweep(fused, X, S, c, oracle):
        k = len(S)
        if k not in loops:
            ns = {}
            exec(compile(_sweep_source(k), f"<sweep{k}>", "exec"), ns)  # generated above, no user text
            loops[k] = tuple(numba.njit(error_model="numpy")(ns[f]) for f in ("points", "updates"))
        points, updates = loops[k]
        SA = np.array(S).reshape(k, *X.shape)
        Z = X
        if fused.point is not None:
            Z = np.empty_like(X)
            points(_backends._jit(fused.point), X, SA, c, Z)
        updates(_backends._jit(fused.update), X, oracle(Z), SA, c)
        for a, b in zip(S, SA, strict=True):
            a[...] = b

    return sweep


# --- tests ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_scalar_form_matches_numpy_step(name, kw):
    opt, X = make(name, kw), starts()
    assert isinstance(opt.fused, Fused)
    ref = numpy_run(opt, X, lambda t: grad)
    got = scalar_run(opt.fused, X, lambda t: grad)
    assert np.isfinite(ref[-1][0]).all() and not np.allclose(ref[-1][0], X)  # exercised, not blown up
    assert worst(ref, got) == 0.0


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_scalar_form_matches_numpy_on_hazards(name, kw):
    opt, X = make(name, kw), starts()
    with np.errstate(all="ignore"):
        ref = numpy_run(opt, X, hazard_grad)
        got = scalar_run(opt.fused, X, hazard_grad)
    x, state = ref[-1]
    assert not all(np.isfinite(a).all() for a in [x, *state])  # the hazards reached x or the state
    assert worst(ref, got) == 0.0


@pytest.mark.parametrize(("name", "kw"), CONFIGS, ids=IDS)
def test_numba_form_matches_python(name, kw, numba_sweep):
    opt, X = make(name, kw), starts()
    with np.errstate(all="ignore"):
        for oracle_at in (lambda t: grad, hazard_grad):
            python = scalar_run(opt.fused, X, oracle_at)
            compiled = scalar_run(opt.fused, X, oracle_at, sweep=numba_sweep)
            assert worst(python, compiled) == 0.0


def test_the_sync_coefficient_follows_step():
    """sync is 1.0 exactly on t = k, 2k, ...; the inner coefficients are those of the same t."""
    inner = get("adam", lr=schedules.cosine(0.2, 20))
    f = get("lookahead", inner=inner, k=3, alpha=0.25).fused
    rows = [f.coefs(t) for t in range(1, 13)]
    assert [r[0] for r in rows] == [0.0, 0.0, 1.0] * 4 and {r[1] for r in rows} == {0.25}
    assert [r[2:] for r in rows] == [inner.fused.coefs(t) for t in range(1, 13)]
    assert f.state == ("slow", *inner.fused.state)
    X = starts()
    init = f.init(X)
    np.testing.assert_array_equal(init[0], X)
    assert init[0] is not X and len({id(a) for a in init}) == len(init)


def test_one_update_per_inner_update():
    """Another lr, schedule, k or α: the same update object (the compiled kernel is reused)."""
    base = get("lookahead", inner="adam", lr=0.1).fused
    for kw in ({"lr": 0.01}, {"lr": schedules.cosine(0.5, 7)}, {"k": 2, "alpha": 0.9}, {"betas": (0.5, 0.9)}):
        assert get("lookahead", inner="adam", **{"lr": 0.1, **kw}).fused.update is base.update
    nag = get("lookahead", inner="nag", form="classical").fused
    assert get("lookahead", inner="nag", form="classical", lr=0.3, k=9).fused.point is nag.point
    updates = {get("lookahead", inner=inner, **kw).fused.update
               for inner, kw in [("gd", {}), ("momentum", {}), ("momentum", {"form": "slide"}), ("adam", {}),
                                 ("adamw", {}), ("nag", {}), ("nag", {"form": "torch"})]}
    assert len(updates) == 7 and base.update in updates
    for fn in [*updates, nag.point]:  # reachable by name: the contract of test_fused_updates
        assert getattr(lookahead_module, fn.__name__) is fn and fn.__qualname__ == fn.__name__


def test_updates_compile_with_their_inner_update_and_key_the_disk_cache(tmp_path, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setenv("SYMGD_CACHE_DIR", str(tmp_path))
    gd_form, adam_form = (get("lookahead", inner=i).fused for i in ("gd", "adam"))
    assert _backends._global_calls(gd_form.update) == ["inner"]
    for f in (gd_form, adam_form):
        assert _backends._jit(f.update) is _backends._jit(f.update)  # compiled once per update
        assert hasattr(_backends._jit(f.update), "py_func")  # a numba dispatcher
    sources = [_backends._callee_sources(f.update) for f in (gd_form, adam_form)]
    assert sources[0][0] == sources[1][0] and sources[0][1:] != sources[1][1:]  # same template, other callee
    assert _backends.disk_path("src", gd_form.update) != _backends.disk_path("src", adam_form.update)


def test_updates_pickle_by_name_also_where_they_were_never_made(monkeypatch):
    """A Dask worker unpickles ``lookahead_update<...>`` before any lookahead ran there: PEP 562 makes it."""
    f = get("lookahead", inner="nag", form="classical").fused
    blobs = [pickle.dumps(fn) for fn in (f.update, f.point)]
    assert [pickle.loads(b) for b in blobs] == [f.update, f.point]
    for fn in (f.update, f.point):
        monkeypatch.delitem(vars(lookahead_module), fn.__name__)
    fresh = [pickle.loads(b) for b in blobs]
    assert fresh[0].__name__ == f.update.__name__ and fresh[0] is not f.update
    assert fresh[0].__globals__["inner"] is f.update.__globals__["inner"]
    nested = get("lookahead", inner=get("lookahead", inner="adam", k=2), k=3).fused.update
    assert pickle.loads(pickle.dumps(nested)) is nested
    with pytest.raises(AttributeError):
        lookahead_module.__getattr__("lookahead_update<symgd/optimizers/gd:no_such_function>")


def test_inner_without_a_scalar_form_keeps_lookahead_on_numpy():
    assert get("lookahead", inner="swats").fused is None
    assert get("lookahead", inner="newton").fused is None  # Newton's form is not elementwise
    gd = get("gd")
    closure = Fused((), gd.fused.init, gd.fused.coefs, lambda x, g, s, c: (x - c[0] * g, s))
    inner = Optimizer("gd", gd.init, gd.step, gd.hyper, gd.doc, closure)  # an update numba cannot name
    assert get("lookahead", inner=inner).fused is None


def test_nested_lookahead_has_a_scalar_form():
    opt, X = get("lookahead", inner=get("lookahead", inner="momentum", lr=0.05, k=2), k=3, alpha=0.6), starts()
    assert opt.fused.state == ("slow", "slow", "b")
    assert worst(numpy_run(opt, X, lambda t: grad), scalar_run(opt.fused, X, lambda t: grad)) == 0.0


# --- the whole runner: the generated kernel (CPython and numba) against the NumPy loop ------------------------------
ROSEN = Problem("(1 - x)^2 + 100*(y - x^2)^2")
ROSEN_X = np.array([[-1.2, 1.0], [1.0, 1.0], [0.5, -0.5], [2.0, 3.0], [-3.0, -3.0], [1.5, 2.25]])
# five variables: the kernel's other layouts (a gradient at z printed for more coordinates)
WIDE = Problem("(a^4 - 16a^2 + 5a + b^4 - 16b^2 + 5b + c^4 - 16c^2 + 5c)/2 + a*b + sin(c*d) + exp(h/4) + d^2 + h^2")
WIDE_X = np.random.default_rng(1).uniform(-3.0, 3.0, (12, 5))
CLASSICAL = {"lr": 1e-3, "momentum": 0.9, "form": "classical"}
RUNS = [(ROSEN, "lookahead", {"inner": "adam", "lr": schedules.cosine(0.05, 60), "k": 4, "alpha": 0.6}),
        (ROSEN, "lookahead", {"inner": "momentum", "lr": 1e-3, "form": "slide", "k": 3}),
        (ROSEN, "nag", CLASSICAL), (ROSEN, "lookahead", {"inner": "nag", **CLASSICAL, "k": 3}),
        (WIDE, "nag", {**CLASSICAL, "lr": schedules.cosine(0.02, 60)})]


@pytest.mark.parametrize("backend", ["python", "numba"])
@pytest.mark.parametrize(("problem", "name", "kw"), RUNS, ids=["adam", "momentum", "nag", "nag-inner", "nag-5d"])
def test_runner_matches_numpy(problem, name, kw, backend, tmp_path, monkeypatch):
    """The generated kernel (with ``point`` for classical NAG) runs these forms as the NumPy loop does."""
    if backend == "numba":
        pytest.importorskip("numba")
    monkeypatch.setenv("SYMGD_CACHE_DIR", str(tmp_path))
    X = ROSEN_X if problem is ROSEN else WIDE_X
    opt = get(name, **kw)
    if opt.fused.point is not None:  # the kernel takes the gradient at point(x, s, c), not at x
        assert "point(" in fused.kernel_source(problem, opt, backend=backend)
    ref = minimize(problem, opt, X, 60, backend="numpy", path=True)
    run = minimize(problem, opt, X, 60, backend=backend, path=True)
    assert run.backend == backend, run.backend_reason
    for field in ("_nit", "_code"):
        np.testing.assert_array_equal(getattr(run, field), getattr(ref, field))
    np.testing.assert_allclose(run._path, ref._path, rtol=1e-12, atol=0.0, equal_nan=True)  # the runner's contract
