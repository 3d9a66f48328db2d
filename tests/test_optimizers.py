"""Contracts every registered optimizer keeps, driven by ``REGISTRY`` (plus the facts in optimizer_meta.py).

Nothing here lists optimizers by hand: a new file in ``symgd/optimizers/`` is tested as soon as it is
registered, and fails until it has a META row. Then: properties (hypothesis) of gd, newton, lookahead
and the momentum family, with exact references (SymPy Rationals, closed forms).
"""

from __future__ import annotations

import inspect
import pathlib
import re

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst
from optimizer_meta import BOWL_MIN, BOWL_TEXT, META, STARTS

import symgd as sg
from symgd import optimizers, schedules
from symgd.errors import InputError
from symgd.minimize import minimize
from symgd.optimizers import REGISTRY

x, y = sp.symbols("x y", real=True)
BOWL = sg.Problem(BOWL_TEXT)
WAVY = sg.Problem("exp(x/3) + sin(y) + x^2 + y^2/2")  # transcendental, not quadratic
NAMES = sorted(REGISTRY)
DETERMINISTIC = [n for n in NAMES if not META[n].stochastic] if set(NAMES) <= set(META) else NAMES


def make(name, **extra):
    return REGISTRY[name](**{**META[name].kwargs, **extra})


def leaves(state):
    """The arrays of an optimizer state (NamedTuples and tuples nest)."""
    if isinstance(state, np.ndarray):
        return [state]
    if isinstance(state, tuple):
        return [a for s in state for a in leaves(s)]
    raise TypeError(f"state holds a {type(state).__name__}: only arrays and tuples of arrays")


# ---------------------------------------------------------------------------------------------------------
# completeness


def test_every_module_is_registered():
    files = {p.stem for p in pathlib.Path(optimizers.__file__).parent.glob("[!_]*.py")}
    assert files == set(REGISTRY)


@pytest.mark.parametrize("name", NAMES)
def test_every_optimizer_has_test_facts(name):
    assert name in META, f"add a META row for {name!r} in tests/optimizer_meta.py"


@pytest.mark.parametrize("name", NAMES)
def test_defaults_follow_the_spec(name):
    params = REGISTRY[name].signature.parameters
    for hyper, default in META[name].defaults.items():
        assert hyper in params, f"{name} lacks the hyperparameter {hyper!r}"
        assert params[hyper].default == default, f"{name}({hyper}=...) defaults to {params[hyper].default!r}"


# ---------------------------------------------------------------------------------------------------------
# generic contracts


@pytest.mark.parametrize("problem", [BOWL, WAVY], ids=["bowl", "wavy"])
@pytest.mark.parametrize("name", DETERMINISTIC)
def test_batched_equals_looped(name, problem):  # torch: test_foreach_matches_forloop
    opt = make(name)
    batched = minimize(problem, opt, STARTS, steps=30, tol=None, path=True).path
    looped = np.stack([minimize(problem, opt, x0, steps=30, tol=None, path=True).path for x0 in STARTS], axis=1)
    np.testing.assert_array_equal(batched, looped)  # bitwise, not allclose


@pytest.mark.parametrize("name", NAMES)
def test_reaches_the_minimum_of_a_bowl(name):
    meta = META[name]
    run = minimize(BOWL, make(name), STARTS, steps=meta.steps, tol=None)
    assert not any(run.status == "diverged")
    np.testing.assert_allclose(run.x, np.broadcast_to(BOWL_MIN, run.x.shape), rtol=0, atol=meta.atol)


@pytest.mark.parametrize("name", NAMES)
def test_docstring_contract(name):  # formula, parameters, convention, example, references
    opt = make(name)
    doc = inspect.cleandoc(opt.doc)
    assert doc.splitlines()[0].strip(), "a one-line summary with the citation comes first"
    assert ".. math::" in doc
    for section in ("Parameters", "Examples", "References"):
        assert re.search(rf"^{section}\n-+$", doc, re.M), f"numpydoc section {section} missing"
    assert re.search(r"^Convention:", doc, re.M), "a line starting 'Convention:' says which reference it matches"
    assert ">>>" in doc
    for hyper in opt.hyper:
        assert re.search(rf"\b{hyper}\b", doc), f"hyperparameter {hyper!r} is not documented"


@pytest.mark.parametrize("name", NAMES)
def test_step_is_pure_and_state_is_batched_data(name):
    opt = make(name)
    xs = STARTS.copy()
    state = opt.init(xs)
    for t in (1, 2, 3):
        before_x, before_s = xs.copy(), [a.copy() for a in leaves(state)]
        x_next, new_state = opt.step(state, xs, t, BOWL.kernels)
        np.testing.assert_array_equal(xs, before_x)  # inputs are never mutated in place
        for a, b in zip(leaves(state), before_s):
            np.testing.assert_array_equal(a, b)
        assert x_next.shape == xs.shape and x_next.dtype == np.float64
        assert all(a.shape[0] == len(xs) for a in leaves(new_state)), "state arrays carry the batch axis first"
        xs, state = x_next, new_state


class CountingOracle:
    """The bowl's kernels, counting Hessian evaluations."""

    def __init__(self, kernels):
        self.k, self.n, self.hess_calls = kernels, kernels.n, 0
        self.f, self.grad, self.f_and_grad = kernels.f, kernels.grad, kernels.f_and_grad

    def hess(self, x):
        self.hess_calls += 1
        return self.k.hess(x)


@pytest.mark.parametrize("name", NAMES)
def test_needs_hessian_flag_is_true(name):
    opt, oracle = make(name), CountingOracle(BOWL.kernels)
    opt.step(opt.init(STARTS), STARTS, 1, oracle)
    assert (oracle.hess_calls > 0) == META[name].needs_hessian


@pytest.mark.parametrize("name", [n for n in NAMES if "lr" in REGISTRY[n].signature.parameters])
def test_constant_schedule_equals_float_lr(name):
    lr = META[name].kwargs.get("lr")
    lr = lr if isinstance(lr, float) else 0.01
    a = minimize(BOWL, make(name, lr=lr), STARTS, steps=20, tol=None, path=True).path
    b = minimize(BOWL, make(name, lr=schedules.constant(lr)), STARTS, steps=20, tol=None, path=True).path
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_noise_is_reproducible_for_any_optimizer(name):
    def run(seed):
        return minimize(BOWL, make(name), STARTS, steps=5, tol=None, path=True, noise=0.1, seed=seed).path

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


@pytest.mark.parametrize("name", NAMES)
def test_any_number_of_variables(name):
    p1, p3 = sg.Problem("(x - 1)^2"), sg.Problem("(x - 1)^2 + 2y^2 + (z + 1)^2 + x*z")
    r1 = minimize(p1, make(name), [[0.5], [2.0]], steps=5, tol=None, path=True)
    r3 = minimize(p3, make(name), [[0.5, 1.0, -1.0]], steps=5, tol=None, path=True)
    assert r1.path.shape == (6, 2, 1) and r3.path.shape == (6, 1, 3)
    assert np.isfinite(r1.path).all() and np.isfinite(r3.path).all()


@pytest.mark.parametrize("name", NAMES)
def test_repr_names_the_optimizer_and_its_hyperparameters(name):
    opt = make(name)
    assert repr(opt).startswith(f"{name}(") and all(f"{h}=" in repr(opt) for h in opt.hyper)


# ---------------------------------------------------------------------------------------------------------
# bad hyperparameters: generic ones from the signature, plus META's


GENERIC_BAD = {  # hyperparameter -> values every optimizer taking it must reject
    "lr": [0.0, -0.1, float("nan"), float("inf")],
    "betas": [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.999), (0.9,)],
    "eps": [-1e-8],
    "weight_decay": [-0.1],
    "form": ["no-such-form"],
    "momentum": [-0.5],
    "rho": [1.5],
    "alpha": [1.5],
    "nesterov": ["yes"],
}
ERROR_INPUTS = [(name, {hyper: bad}, re.escape(hyper))
                for name in NAMES for hyper, values in GENERIC_BAD.items()
                if hyper in REGISTRY[name].signature.parameters for bad in values]
ERROR_INPUTS += [(name, bad, match) for name in NAMES if name in META for bad, match in META[name].errors]


@pytest.mark.parametrize("name, bad, match", ERROR_INPUTS, ids=[f"{n}-{b}" for n, b, _ in ERROR_INPUTS])
def test_rejects_bad_hyperparameters(name, bad, match):  # torch: ErrorOptimizerInput
    with pytest.raises(InputError, match=match):
        REGISTRY[name](**bad)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_hyperparameter_suggests_the_right_one(name):
    typo = {"lr": "lrr"}.get("lr", "lrr")
    with pytest.raises(InputError, match="did you mean 'lr'"):
        REGISTRY[name](**{typo: 0.1})


def test_unknown_optimizer_suggests_the_right_one():
    with pytest.raises(InputError, match="did you mean 'adam'"):
        optimizers.get("adamm")
    with pytest.raises(InputError, match="did you mean 'newton'"):
        minimize(BOWL, "newtn", [0.0, 0.0])


def test_configured_optimizer_refuses_more_hyperparameters():
    with pytest.raises(InputError, match="already configured"):
        minimize(BOWL, make("gd"), [0.0, 0.0], lr=0.5)


# ---------------------------------------------------------------------------------------------------------
# properties


@settings(max_examples=25)
@given(x0=npst.arrays(float, (4, 2), elements=st.floats(-1e3, 1e3)))
def test_adam_first_step_is_lr_times_sign(x0):  # m̂₁ = g, v̂₁ = g²  ⇒  Δx = −η·sign(g) when ε = 0
    run = minimize(BOWL, "adam", x0, steps=1, tol=None, path=True, lr=0.01, eps=0.0)
    g = BOWL.kernels.grad(x0)
    np.testing.assert_allclose(run.path[1] - run.path[0], -0.01 * np.sign(g), rtol=1e-9, atol=1e-12)


class Quadratic:
    """f = ½ xᵀAx − bᵀx as a batched oracle (any optimizer's ``step`` accepts it), A symmetric."""

    def __init__(self, A, b):
        self.A, self.b, self.n = A, b, len(b)

    def f(self, x):
        return 0.5 * np.einsum("bi,ij,bj->b", x, self.A, x) - x @ self.b

    def grad(self, x):
        return x @ self.A - self.b

    def f_and_grad(self, x):
        return self.f(x), self.grad(x)

    def hess(self, x):
        return np.broadcast_to(self.A, (len(x), self.n, self.n))


spd = npst.arrays(float, (3, 3), elements=st.integers(-5, 5).map(float)).map(lambda L: L @ L.T + np.eye(3))
ints = npst.arrays(float, 3, elements=st.integers(-10, 10).map(float))
starts = npst.arrays(float, (4, 3), elements=st.floats(-100, 100))


@given(A=spd, b=ints, x0=starts, damping=st.sampled_from(["none", "armijo", "saddle_free"]))
def test_newton_solves_any_spd_quadratic_in_one_step(A, b, x0, damping):
    q = Quadratic(A, b)
    opt = optimizers.get("newton", damping=damping)
    x1, _ = opt.step(opt.init(x0), x0, 1, q)
    exact = np.array(sp.Matrix(A.astype(int)).LUsolve(sp.Matrix(b.astype(int))), dtype=float).ravel()
    np.testing.assert_allclose(x1, np.broadcast_to(exact, x1.shape), rtol=1e-8, atol=1e-8 * (1 + np.abs(x0).max()))


SADDLE = sg.Problem("x^2 - y^2")


@given(x0=npst.arrays(float, (3, 2), elements=st.floats(-10, 10).filter(lambda v: abs(v) > 1e-3)))
def test_pure_newton_lands_on_the_saddle_while_saddle_free_escapes(x0):
    pure = minimize(SADDLE, "newton", x0, steps=5)
    assert all(pure.status == "converged") and (pure.nit == 1).all() and (pure.x == 0).all()
    free = minimize(SADDLE, "newton", x0, steps=5, tol=None, path=True, damping="saddle_free")
    np.testing.assert_array_equal(free.path[1, :, 0], 0.0)  # |H| = 2I: the x-part is solved,
    np.testing.assert_array_equal(free.path[1, :, 1], 2 * x0[:, 1])  # the y-part walks downhill: y doubles
    assert (np.diff(free.losses, axis=0) < 0).all()
    armijo = minimize(SADDLE, "newton", x0, steps=5, tol=None, path=True, damping="armijo")
    assert (np.diff(armijo.losses, axis=0) <= 0).all()  # downhill only, yet from (2, 1) its first step is
    # the full Newton step, which is a descent direction (x² > y²) and lands exactly on the saddle.


def test_newton_survives_a_singular_hessian_in_one_row():
    quartic = sg.Problem("x^4 + y^2")  # H = diag(12x², 2): singular on x = 0
    run = minimize(quartic, "newton", [[0.0, 1.0], [1.0, 1.0]], steps=30, tol=None, path=True)
    np.testing.assert_array_equal(run.path[1, 0], [0.0, 0.0])  # pinv: no move along the flat x, y solved
    np.testing.assert_allclose(run.path[1:, 1, 0], (2 / 3) ** np.arange(1, 31))  # x ← x − 4x³/12x² = 2x/3
    newton = optimizers.get("newton")
    state = newton.step(newton.init(run.path[0]), run.path[0], 1, quartic.kernels)[1]
    assert state.singular.tolist() == [True, False]


@settings(max_examples=15)
@given(L=npst.arrays(int, (2, 2), elements=st.integers(-3, 3)),
       x0=npst.arrays(int, 2, elements=st.integers(-20, 20)), steps=st.integers(1, 40))
def test_gd_on_a_quadratic_is_exactly_the_matrix_power(L, x0, steps):
    A = sp.Matrix(L) * sp.Matrix(L).T + sp.eye(2)  # exact SPD with integer entries
    v = sp.Matrix([x, y])
    p = sg.Problem((v.T * A * v)[0] / 2, variables=(x, y))
    eta = sp.Rational(1, 100)
    exact = ((sp.eye(2) - eta * A) ** steps) * sp.Matrix(x0)
    run = minimize(p, "gd", x0.astype(float), steps=steps, tol=None, lr=0.01)
    np.testing.assert_allclose(run.x, np.array(exact, dtype=float).ravel(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "lookahead"])
def test_lookahead_with_k1_alpha1_is_its_inner_optimizer(name):
    inner = make(name)
    a = minimize(BOWL, inner, STARTS, steps=25, tol=None, path=True).path
    b = minimize(BOWL, "lookahead", STARTS, steps=25, tol=None, path=True, inner=inner, k=1, alpha=1.0).path
    np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-15)


def test_lookahead_syncs_every_k_steps_and_keeps_the_inner_state():
    X2 = sg.Problem("x^2")
    path = minimize(X2, "lookahead", [1.0], steps=6, tol=None, path=True, inner="momentum", k=3, alpha=0.5,
                    lr=0.1, momentum=0.5).path[:, 0]
    inner = minimize(X2, "momentum", [1.0], steps=3, tol=None, path=True, lr=0.1, momentum=0.5).path[:, 0]
    np.testing.assert_array_equal(path[:3], inner[:3])
    assert path[3] == 1.0 + 0.5 * (inner[3] - 1.0)  # φ ← φ + α(θ − φ), reported
    # step 4 continues from φ with the momentum buffer b₃ kept: x = φ − η(μ b₃ + 2φ)
    b3 = 2 * inner[2] + 0.5 * (2 * inner[1] + 0.5 * 2 * inner[0])
    np.testing.assert_allclose(path[4], path[3] - 0.1 * (0.5 * b3 + 2 * path[3]), rtol=1e-15)


# ---------------------------------------------------------------------------------------------------------
# the momentum family: how the forms relate


def test_torch_momentum_forms_are_the_same_algorithm_bitwise():
    runs = {
        "sgd": minimize(WAVY, "sgd", STARTS, 30, tol=None, path=True, lr=0.05, momentum=0.8).path,
        "momentum": minimize(WAVY, "momentum", STARTS, 30, tol=None, path=True, lr=0.05, momentum=0.8).path,
    }
    np.testing.assert_array_equal(runs["sgd"], runs["momentum"])
    nesterov = minimize(WAVY, "sgd", STARTS, 30, tol=None, path=True, lr=0.05, momentum=0.8, nesterov=True).path
    nag_torch = minimize(WAVY, "nag", STARTS, 30, tol=None, path=True, lr=0.05, momentum=0.8, form="torch").path
    np.testing.assert_array_equal(nesterov, nag_torch)
    gd = minimize(WAVY, "gd", STARTS, 30, tol=None, path=True, lr=0.05).path
    np.testing.assert_array_equal(gd, minimize(WAVY, "sgd", STARTS, 30, tol=None, path=True, lr=0.05).path)


@pytest.mark.parametrize("lr, same", [(0.05, True), (schedules.step(0.05, 5, 0.5), False)], ids=["constant", "step"])
def test_momentum_forms_agree_for_a_constant_lr_only(lr, same):  # OPTIMIZERS.md §2.2
    paths = [minimize(WAVY, "momentum", STARTS, 30, tol=None, path=True, lr=lr, momentum=0.9, form=f).path
             for f in ("torch", "slide", "heavy_ball")]
    np.testing.assert_allclose(paths[2], paths[1], rtol=1e-12, atol=1e-14)  # slide = heavy ball always
    assert np.allclose(paths[0], paths[1], rtol=1e-12, atol=1e-14) is same


def test_torch_nesterov_reports_the_classical_look_ahead_point():  # OPTIMIZERS.md §2.3, trap T5
    mu = 0.8
    classical = minimize(WAVY, "nag", STARTS, 30, tol=None, path=True, lr=0.05, momentum=mu).path
    torch_form = minimize(WAVY, "nag", STARTS, 30, tol=None, path=True, lr=0.05, momentum=mu, form="torch").path
    look_ahead = classical[1:] + mu * (classical[1:] - classical[:-1])  # x_t + μ v_t with v_t = x_t − x_{t−1}
    np.testing.assert_allclose(torch_form[1:], look_ahead, rtol=1e-10, atol=1e-12)


def test_sgd_dampening_is_skipped_on_the_first_update():
    X2 = sg.Problem("x^2")
    path = minimize(X2, "sgd", [1.0], 2, tol=None, path=True, lr=0.1, momentum=0.5, dampening=0.5).path[:, 0]
    assert path[1] == 1 - 0.1 * 2  # b₁ = g₁ = 2
    np.testing.assert_allclose(path[2], path[1] - 0.1 * (0.5 * 2 + 0.5 * 2 * path[1]), rtol=1e-15)


def test_sgd_weight_decay_is_l2_on_the_gradient():
    X2 = sg.Problem("x^2")
    a = minimize(X2, "sgd", [1.0], 10, tol=None, lr=0.1, momentum=0.5, weight_decay=0.2).x
    b = minimize(sg.Problem("1.1*x^2"), "sgd", [1.0], 10, tol=None, lr=0.1, momentum=0.5).x
    np.testing.assert_allclose(a, b, rtol=1e-14)


def test_one_cycle_momentum_schedule_drives_sgd_momentum():
    X2 = sg.Problem("x^2")
    lr, mu = schedules.one_cycle(0.1, 20), schedules.one_cycle_momentum(20)
    path = minimize(X2, "sgd", [1.0], 2, tol=None, path=True, lr=lr, momentum=mu).path[:, 0]
    b1 = 2 * path[0]
    b2 = mu(2) * b1 + 2 * path[1]
    np.testing.assert_allclose(path[1:], [path[0] - lr(1) * b1, path[1] - lr(2) * b2], rtol=1e-15)
