"""The scalar ("fused") form of every elementwise optimizer agrees with its NumPy step.

Independent of the kernel generator (``symgd.fused``): a reference driver here feeds the same
gradient oracle to ``opt.step`` over the whole (B, n) batch and to ``fused.update`` one coordinate at
a time (``state = fused.init(X)``; per t: ``c = fused.coefs(t)``; per (i, j):
``X[i, j], s = update(X[i, j], G[i, j], s_ij, c)``), then compares iterates and states. The same
update compiled by ``numba.njit`` must give the same numbers. Configurations are listed below for
every registered optimizer (an optimizer missing from ``CONFIGS`` fails ``test_every_optimizer_is_listed``).
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from symgd import schedules
from symgd.fused import _backends
from symgd.optimizers import REGISTRY, Fused, get

STEPS = 50
TOL = 1e-12
REDUCTION = {"swats"}  # a per-start reduction (Fused.rows: its switch sums pᵀg, pᵀp): tests/test_fused_swats.py
NEWTON = "newton"  # its scalar form (Gaussian elimination per start) belongs to symgd.fused, not to this file
# lookahead has a form when its inner optimizer has one (classical NAG's, with Fused.point: test_fused_forms.py),
# but not around a per-start reduction (SWATS) or Newton
NUMPY_CONFIGS = [("lookahead", {"inner": "swats"}), ("lookahead", {"inner": "newton"})]


def cyc():  # one-cycle lr and momentum over the run: both t-dependent, as torch's OneCycleLR on SGD
    return {"lr": schedules.one_cycle(0.1, STEPS), "momentum": schedules.one_cycle_momentum(STEPS)}


CONFIGS = {
    "gd": [{"lr": 0.1}, {"lr": schedules.cosine(0.3, STEPS)}, {"lr": lambda t: 0.2 / math.sqrt(t)}],
    "sgd": [{"lr": 0.1}, {"lr": 0.1, "weight_decay": 0.2}, {"lr": 0.05, "momentum": 0.9},
            {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05},
            {"lr": 0.05, "momentum": 0.9, "nesterov": True},
            {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1},
            {"lr": schedules.step(0.1, 10, 0.5), "momentum": 0.7, "dampening": 1.0}, cyc()],
    "momentum": [{"lr": 0.05, "form": f} for f in ("torch", "slide", "heavy_ball")]
    + [{**cyc(), "form": f} for f in ("torch", "slide", "heavy_ball")],
    "nag": [{"lr": 0.05, "form": "torch"}, {**cyc(), "form": "torch"}],
    "lookahead": [{"inner": "gd", "lr": 0.1}, {"inner": "momentum", **cyc(), "form": "heavy_ball", "k": 3},
                  {"inner": "nag", "lr": schedules.cosine(0.1, STEPS), "form": "torch", "k": 4, "alpha": 0.8}],
    "adagrad": [{"lr": 0.3}, {"lr": 0.3, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.1},
                {"lr": 0.3, "eps": 1e-8, "eps_inside_sqrt": True}, {"lr": 0.3, "eps": 0.0},
                {"lr": 0.3, "eps": 0.0, "eps_inside_sqrt": True}, {"lr": schedules.step(0.5, 10, 0.5)}],
    "rmsprop": [{"lr": 0.01}, {"lr": 0.01, "centered": True}, {"lr": 0.01, "momentum": 0.9},
                {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "eps_inside_sqrt": True},
                {"lr": 0.01, "eps": 0.0}, {"lr": 0.01, "eps": 0.0, "centered": True},
                {"lr": 0.02, "alpha": 0.9, "eps_inside_sqrt": True}, {"lr": schedules.cosine(0.05, STEPS)}],
    "adadelta": [{}, {"lr": 0.5, "rho": 0.95, "weight_decay": 0.1}, {"eps": 0.0}, {"eps": 1e-3},
                 {"lr": schedules.cosine(3.0, STEPS)}],
    "adam": [{"lr": 0.1}, {"lr": 0.1, "amsgrad": True}, {"lr": 0.1, "eps_inside_sqrt": True},
             {"lr": 0.1, "weight_decay": 0.1}, {"lr": 0.1, "eps": 0.0}, {"lr": 0.1, "eps": 0.0, "eps_inside_sqrt": True},
             {"lr": 0.1, "betas": (0.5, 0.9), "amsgrad": True, "weight_decay": 0.05, "eps_inside_sqrt": True},
             {"lr": schedules.linear_warmup(0.2, 10)}],
    "adamw": [{"lr": 0.1}, {"lr": 0.1, "weight_decay": 0.3, "amsgrad": True}, {"lr": 0.1, "eps": 0.0},
              {"lr": schedules.cosine(0.2, STEPS), "weight_decay": 0.5}],
    "amsgrad": [{"lr": 0.1, "form": f} for f in ("torch", "optax", "paper")]
    + [{"lr": 0.1, "form": "optax", "weight_decay": 0.1, "eps": 0.0}, {"lr": 0.1, "form": "paper", "eps": 0.0},
       {"lr": schedules.step(0.2, 10, 0.5), "form": "torch", "betas": (0.8, 0.9)}],
    "adamax": [{"lr": 0.1}, {"lr": 0.1, "betas": (0.5, 0.9), "weight_decay": 0.1}, {"lr": 0.1, "eps": 0.0},
               {"lr": schedules.cosine(0.2, STEPS)}],
    "nadam": [{"lr": 0.1}, {"lr": 0.1, "form": "dozat"}, {"lr": 0.1, "momentum_decay": float("inf")},
              {"lr": 0.1, "momentum_decay": 0.0, "weight_decay": 0.1}, {"lr": 0.1, "eps": 0.0},
              {"lr": schedules.step(0.2, 10, 0.5), "betas": (0.8, 0.99)}],
    "radam": [{"lr": 0.1, "form": f} for f in ("torch", "optax", "paper")]
    + [{"lr": 0.1, "weight_decay": 0.1, "betas": (0.9, 0.9)}, {"lr": 0.1, "eps": 0.0},
       {"lr": 0.1, "form": "optax", "eps": 0.0}, {"lr": schedules.cosine(0.2, STEPS), "form": "paper"}],
    "adabound": [{"lr": 0.1}, {"lr": 0.1, "gamma": 0.1, "final_lr": 0.05},
                 {"lr": 0.1, "gamma": 0.1, "final_lr": 0.05, "amsbound": True, "weight_decay": 0.1},
                 {"lr": 0.1, "eps": 0.0, "gamma": 0.5}, {"lr": schedules.step(0.2, 10, 0.5), "gamma": 0.1}],
}
CASES = [(name, i) for name, kws in CONFIGS.items() for i in range(len(kws))]


def make(name, i):
    return get(name, **CONFIGS[name][i])


# --- the oracle: the gradient of a fixed smooth, non-separable function (n = 3) -----------------------
# f(x) = Σ_j log cosh(x_j - a_j) + 0.1 |x|² + 0.5 sin(x_0) x_1 + 0.3 x_1 x_2, a = (1, -0.5, 2)
A = np.array([1.0, -0.5, 2.0])


def grad(X):
    G = np.tanh(X - A) + 0.2 * X
    G[:, 0] += 0.5 * np.cos(X[:, 0]) * X[:, 1]
    G[:, 1] += 0.5 * np.sin(X[:, 0]) + 0.3 * X[:, 2]
    G[:, 2] += 0.3 * X[:, 1]
    return G


def hazard_grad(t):
    """The oracle with non-finite, huge and exactly zero entries (row 3 never sees a non-zero gradient)."""
    def g(X):
        G = grad(X)
        G[3] = 0.0
        G[4, 0] = 1e200 if t in (2, 9) else G[4, 0]  # g² overflows to inf
        if t in (3, 7):
            G[0, 0], G[1, 1], G[2, 2] = np.nan, np.inf, -np.inf
        return G
    return g


class Oracle:
    def __init__(self, fn):
        self.fn = fn

    def grad(self, x):
        return self.fn(x)


def starts(B=6):
    return np.random.default_rng(7).normal(scale=2.0, size=(B, 3))


# --- the two drivers -----------------------------------------------------------------------------------
def numpy_run(opt, X, oracle_at):
    state, x, out = opt.init(X), X, []
    for t in range(1, STEPS + 1):
        x, state = opt.step(state, x, t, Oracle(oracle_at(t)))
        out.append((x, state))
    return out


def scalar_run(fused, X, oracle_at, sweep=None):
    """Per t and coordinate, ``update`` on Python floats (``sweep``: the same through a compiled loop)."""
    X, S, out = X.copy(), [np.array(a, dtype=float) for a in fused.init(X)], []
    for t in range(1, STEPS + 1):
        c, G = fused.coefs(t), oracle_at(t)(X)
        if sweep is not None:
            sweep(fused.update, X, G, *S, np.array(c))
        else:
            for i, j in np.ndindex(X.shape):
                X[i, j], s = fused.update(float(X[i, j]), float(G[i, j]), tuple(float(a[i, j]) for a in S), c)
                for a, v in zip(S, s, strict=True):
                    a[i, j] = v
        out.append((X.copy(), [a.copy() for a in S]))
    return out


def rel_diff(a, b) -> float:
    """max |a - b| / max(|a|, |b|) over finite entries; NaN and ±inf must sit in the same places."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), "NaN in different places"
    fin = np.isfinite(a) & np.isfinite(b)
    assert np.array_equal(a[~fin & ~np.isnan(a)], b[~fin & ~np.isnan(b)]), "inf in different places"
    scale = np.maximum(np.abs(a[fin]), np.abs(b[fin]))
    d = np.abs(a[fin] - b[fin]) / np.where(scale > 0, scale, 1.0)
    return float(d.max(initial=0.0))


def fields(state) -> list:
    """A NumPy state's ``(name, array)`` pairs, depth first: lookahead's (slow, inner) gives slow, then the inner
    fields. (A stateless optimizer's state is a plain tuple: no pairs.)"""
    out = []
    for name, value in zip(getattr(state, "_fields", ()), state):
        out += fields(value) if hasattr(value, "_fields") else [(name, value)]
    return out


def compare(fused, ref, got) -> float:
    worst = 0.0
    for (x_ref, s_ref), (x, s) in zip(ref, got, strict=True):
        worst = max(worst, rel_diff(x_ref, x))
        named = fields(s_ref)
        for name, arr in zip(fused.state, s, strict=True):  # the NumPy state names the same field, in order
            k = next(k for k, (ref_name, _) in enumerate(named) if ref_name == name)
            worst = max(worst, rel_diff(named.pop(k)[1], arr))
    return worst


# --- tests -----------------------------------------------------------------------------------------------
def test_every_optimizer_is_listed():
    assert set(REGISTRY) - REDUCTION - {NEWTON} == set(CONFIGS)


def test_registered_optimizers_without_fused():
    """Exactly these have no elementwise scalar form in any configuration: a new optimizer needs one."""
    def fused_somewhere(name):
        return any(isinstance(get(name, **kw).fused, Fused) for kw in [{}, *CONFIGS.get(name, [])])

    newton_pending = {NEWTON} if not isinstance(get(NEWTON).fused, Fused) else set()  # Newton's form is F2's
    assert {name for name in REGISTRY if not fused_somewhere(name)} == newton_pending
    for name in REDUCTION:  # the per-coordinate driver here cannot run these: they must say they need the hook
        assert get(name).fused.rows and get(name).fused.finish is not None


@pytest.mark.parametrize(("name", "kw"), NUMPY_CONFIGS)
def test_configurations_without_fused(name, kw):
    assert get(name, **kw).fused is None


@pytest.mark.parametrize(("name", "i"), CASES)
def test_fused_contract(name, i):
    fused = make(name, i).fused
    assert isinstance(fused, Fused)
    upd = fused.update
    assert "<locals>" not in upd.__qualname__ and getattr(sys.modules[upd.__module__], upd.__name__) is upd
    X = starts()
    init = fused.init(X)
    assert isinstance(init, tuple) and len(init) == len(fused.state)
    assert all(a.shape == X.shape and a.dtype == X.dtype for a in init)
    assert len({id(a) for a in init} | {id(X)}) == len(init) + 1  # separate arrays: a kernel may write them
    rows = [fused.coefs(t) for t in range(1, STEPS + 1)]
    assert {len(r) for r in rows} == {len(rows[0])}
    assert all(type(v) is float for r in rows for v in r)


@pytest.mark.parametrize(("name", "i"), CASES)
def test_scalar_update_matches_numpy_step(name, i):
    opt, X = make(name, i), starts()
    ref = numpy_run(opt, X, lambda t: grad)
    got = scalar_run(opt.fused, X, lambda t: grad)
    assert np.isfinite(ref[-1][0]).all()  # the configuration is exercised, not blown up
    assert compare(opt.fused, ref, got) <= TOL


@pytest.mark.parametrize(("name", "i"), CASES)
def test_scalar_update_matches_numpy_on_hazards(name, i):
    """NaN, ±inf, g² overflow and an all-zero gradient (ε = 0: a zero step, not 0/0) as NumPy has them."""
    opt, X = make(name, i), starts()
    with np.errstate(all="ignore"):
        ref = numpy_run(opt, X, hazard_grad)
        got = scalar_run(opt.fused, X, hazard_grad)
    x, state = ref[-1]
    assert not all(np.isfinite(a).all() for a in [x, *state])  # the hazards reached x or the state
    assert compare(opt.fused, ref, got) <= TOL


@pytest.mark.parametrize(("name", "i"), CASES)
def test_update_does_not_depend_on_hyperparameters(name, i):
    """Another lr (a number or a schedule), β or ε reuses the update: a compiled kernel is not rebuilt."""
    kw, sig = CONFIGS[name][i], REGISTRY[name].signature.parameters
    upd = make(name, i).fused.update
    variants = [{"lr": 0.0123}, {"lr": schedules.cosine(0.5, 7)}]
    variants += [{"betas": (0.6, 0.95)}] if "betas" in sig else []
    variants += [{"eps": 1e-3}, {"eps": 0.0}] if "eps" in sig else []
    for v in variants:
        assert get(name, **{**kw, **v}).fused.update is upd


# --- numba: the same updates compiled -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def sweeps():
    """``sweep(update, X, G, *S, c)``: one compiled pass over all (i, j), for k = len(S) state scalars."""
    numba = pytest.importorskip("numba")  # an import guard only: CI installs numba
    jit = numba.njit(error_model="numpy")

    @jit
    def sweep0(update, X, G, c):
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                X[i, j], _ = update(X[i, j], G[i, j], (), c)

    @jit
    def sweep1(update, X, G, S0, c):
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                X[i, j], s = update(X[i, j], G[i, j], (S0[i, j],), c)
                S0[i, j] = s[0]

    @jit
    def sweep2(update, X, G, S0, S1, c):
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                X[i, j], s = update(X[i, j], G[i, j], (S0[i, j], S1[i, j]), c)
                S0[i, j], S1[i, j] = s

    @jit
    def sweep3(update, X, G, S0, S1, S2, c):
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                X[i, j], s = update(X[i, j], G[i, j], (S0[i, j], S1[i, j], S2[i, j]), c)
                S0[i, j], S1[i, j], S2[i, j] = s

    def sweep(update, X, G, *rest):  # symgd's _jit: an update's global callees (lookahead's inner) compile first
        (sweep0, sweep1, sweep2, sweep3)[len(rest) - 1](_backends._jit(update), X, G, *rest)

    return sweep


@pytest.mark.parametrize(("name", "i"), CASES)
def test_numba_update_matches_python(name, i, sweeps):
    """Every configuration; one compile per update function (adam, adamw and amsgrad share theirs)."""
    opt, X = make(name, i), starts()
    with np.errstate(all="ignore"):
        for oracle_at in (lambda t: grad, hazard_grad):
            python = scalar_run(opt.fused, X, oracle_at)
            compiled = scalar_run(opt.fused, X, oracle_at, sweep=sweeps)
            worst = max(max(rel_diff(a, b) for a, b in zip([x, *s], [y, *r], strict=True))
                        for (x, s), (y, r) in zip(python, compiled, strict=True))
            assert worst <= TOL
