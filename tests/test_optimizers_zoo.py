"""The adaptive optimizers (adagrad ... swats): facts checkable by hand, and OPTIMIZERS.md's golden numbers.

Golden values: ``/work/shared/OPTIMIZERS.md`` (§2.4-2.14, §4), computed there in float64 with torch 2.13 /
optax 0.2.8 / pytorch_optimizer 3.9.0 and printed to 10 significant digits; each is checked to all printed
digits (half a unit in the last printed place). Where OPTIMIZERS.md leaves the start and the step count
implicit, x² is started at 0.5 for 30 updates with lr 0.1 (the lecture's setting) and Rosenbrock at
(-1.5, 2): several independent numbers then agree with this implementation to every printed digit.
The registry-wide contracts (batched == looped, docstrings, did-you-mean) live in test_optimizers.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as npst

import symgd as sg
from symgd.errors import InputError
from symgd.minimize import minimize
from symgd.optimizers import REGISTRY, get

x, y = sp.symbols("x y", real=True)
X2 = sg.Problem(x**2)
ROSEN = sg.Problem((1 - x) ** 2 + 100 * (y - x**2) ** 2, variables=(x, y))
BOWL = sg.Problem(x**2 + 10 * y**2 + x * y, variables=(x, y))  # non-separable, curvatures 2 and 20
ZOO = ["adabound", "adadelta", "adagrad", "adam", "adamax", "adamw", "amsgrad", "nadam", "radam", "rmsprop", "swats"]
COUPLED_L2 = [n for n in ZOO if n != "adamw"]  # weight_decay = λ is gradient + λx


def assert_step(step, expected, x0):
    """``x_1 - x_0 == expected`` to 1e-12, up to the rounding of x_1 itself (an ulp of x_0: cancellation)."""
    np.testing.assert_allclose(step, expected, rtol=1e-12, atol=1e-15 * np.abs(x0).max())


def run(problem, method, x0, steps, **hyper):
    """The path x_0, ..., x_T of ``steps`` updates, shape (T + 1, B, n), from the runner (no convergence test)."""
    x0 = np.atleast_2d(np.asarray(x0, dtype=float))
    return minimize(problem, method, x0, steps, tol=None, path=True, **hyper).path


def final_state(problem, method, x0, steps, **hyper):
    """(x_T, state_T) from a plain loop over ``opt.step`` (the runner does not return the optimizer state)."""
    opt = get(method, **hyper)
    xs = np.atleast_2d(np.asarray(x0, dtype=float))
    state = opt.init(xs)
    for t in range(1, steps + 1):
        xs, state = opt.step(state, xs, t, problem.kernels)
    return xs, state


def test_every_zoo_module_is_registered():
    assert set(ZOO) <= set(REGISTRY)


# ---------------------------------------------------------------------------------------------------------
# Golden numbers: (id, problem, x0, updates, hyper, printed value(s), where OPTIMIZERS.md prints it).
# Provenance of every row: OPTIMIZERS.md golden, torch 2.13 / optax 0.2.8 (AdaBound, SWATS: pytorch_optimizer 3.9.0).
GOLDEN = [
    ("adagrad-torch", X2, [0.5], 30, dict(lr=0.1), ["0.01305856693"], "§2.4 torch.optim.Adagrad"),
    ("adagrad-optax-defaults", X2, [0.5], 30,
     dict(lr=0.1, eps=1e-7, eps_inside_sqrt=True, initial_accumulator_value=0.1), ["0.01479633683"],
     "§2.4 optax.adagrad"),
    ("adagrad-lecture-30", X2, [0.5], 30, dict(lr=0.1, eps=1e-8, eps_inside_sqrt=True), ["0.0130585671"],
     "§2.4 lecture"),
    ("adagrad-slide-L5", X2, [0.5], 29, dict(lr=0.1, eps=1e-8, eps_inside_sqrt=True), ["0.01459056705"],
     "§4 L5 (29 updates)"),
    ("rmsprop-torch", X2, [0.5], 30, dict(lr=0.01), ["0.01027"], "§2.5 torch.optim.RMSprop"),
    ("rmsprop-optax-defaults", X2, [0.5], 30, dict(lr=0.01, alpha=0.9, eps_inside_sqrt=True), ["0.1677"],
     "§2.5 optax.rmsprop"),
    ("adam-eps-outside", X2, [0.5], 30, dict(lr=0.1), ["0.02099520534"], "§2.7 torch/optax Adam"),
    ("adam-eps-inside", X2, [0.5], 30, dict(lr=0.1, eps_inside_sqrt=True), ["0.02099520568"], "§2.7, §4 L6 slide form"),
    ("adamw-torch", X2, [0.5], 30, dict(lr=0.1), ["0.01949992415"], "§2.8 torch AdamW = optax adamw"),
    ("amsgrad-torch", X2, [0.5], 30, dict(lr=0.1), ["0.02100870345"], "§2.9 torch Adam(amsgrad=True)"),
    ("amsgrad-optax", X2, [0.5], 30, dict(lr=0.1, form="optax"), ["0.01571244721"], "§2.9 optax.amsgrad"),
    ("adamax", X2, [0.5], 30, dict(lr=0.1), ["0.01819052512"], "§2.10 torch/optax Adamax"),
    ("nadam-torch", X2, [0.5], 30, dict(lr=0.1), ["-0.001197299287"], "§2.11 torch.optim.NAdam"),
    ("nadam-optax", X2, [0.5], 30, dict(lr=0.1, momentum_decay=math.inf), ["-0.002696027265"], "§2.11 optax.nadam"),
    ("radam-torch", X2, [0.5], 30, dict(lr=0.1), ["0.006850679714"], "§2.12 torch.optim.RAdam"),
    ("radam-optax", X2, [0.5], 30, dict(lr=0.1, form="optax"), ["0.006850668638"], "§2.12 optax.radam"),
    ("radam-paper", X2, [0.5], 30, dict(lr=0.1, form="paper"), ["0.03447559736"], "§2.12 threshold rho > 4"),
    # AdaBound's unclipped step is the eps-hat Adam: with the default gamma nothing clips in 30 steps.
    ("adabound-unclipped", X2, [0.5], 30, dict(lr=0.1), ["0.02099528005"], "§2.7 adam_eps_hat = §2.13"),
    ("adabound-clipping", X2, [0.5], 30, dict(lr=0.1, gamma=0.1), ["0.05258438837"], "§2.13 kozistr AdaBound"),
    ("adabound-rosenbrock", ROSEN, [-1.5, 2.0], 30, dict(lr=0.01, gamma=0.1, final_lr=5e-4),
     ["-1.437338589", "2.051453806"], "§2.13 kozistr AdaBound"),
]


def check_printed(got: float, printed: str, where: str = "") -> None:
    """``got`` equals ``printed`` to every digit printed (tolerance: half a unit in the last place)."""
    decimals = len(printed.split(".")[1])
    assert got == pytest.approx(float(printed), rel=0, abs=0.5 * 10.0**-decimals * 1.001), (got, printed, where)


@pytest.mark.parametrize("case", GOLDEN, ids=[c[0] for c in GOLDEN])
def test_golden_final_iterate(case):
    name, problem, x0, steps, hyper, printed, where = case
    method = name.split("-")[0]
    last = run(problem, method, x0, steps, **hyper)[-1, 0]
    for got, want in zip(last, printed, strict=True):
        check_printed(got, want, f"OPTIMIZERS.md {where}")


def test_adam_amsgrad_flag_is_amsgrad_torch_form():
    np.testing.assert_array_equal(run(ROSEN, "adam", [-1.5, 2.0], 30, lr=0.01, amsgrad=True),
                                  run(ROSEN, "amsgrad", [-1.5, 2.0], 30, lr=0.01))


@pytest.mark.parametrize("problem, x0, lr, t_switch, rate", [
    (X2, [0.5], 0.1, 26, "0.01622521047"),
    (ROSEN, [-1.5, 2.0], 0.1, 9, "9.377805189e-4"),
])
def test_swats_switches_where_pytorch_optimizer_does(problem, x0, lr, t_switch, rate):
    """OPTIMIZERS.md §2.14 golden ``swats_switch`` (pytorch_optimizer 3.9.0, eps = 0.1)."""
    _, before = final_state(problem, "swats", x0, t_switch - 1, lr=lr, eps=0.1)
    _, after = final_state(problem, "swats", x0, t_switch, lr=lr, eps=0.1)
    assert not before.sgd.any() and after.sgd.all()
    mantissa, _, exponent = rate.partition("e")
    check_printed(after.rate[0, 0] / 10.0 ** int(exponent or 0), mantissa)


def test_adadelta_ascends_as_optax_without_a_learning_rate():
    """OPTIMIZERS.md trap T3: ``optax.adadelta()`` (no lr) goes 0.5 -> 0.616 on x²; Adadelta's step is odd in g
    with g-even accumulators, so that ascent is exactly symgd's descent on -x²."""
    check_printed(run(sg.Problem(-(x**2)), "adadelta", [0.5], 30)[-1, 0, 0], "0.616")


# ---------------------------------------------------------------------------------------------------------
# First steps by hand: m̂_1 = g, v̂_1 = g², so many methods step by lr·sign(g) when eps = 0.
starts = npst.arrays(float, (3, 2), elements=st.floats(-100, 100).filter(lambda v: abs(v) > 1e-3))


@given(x0=starts)
@pytest.mark.parametrize("method, hyper", [
    ("adam", {}), ("adam", {"eps_inside_sqrt": True}), ("adamw", {"weight_decay": 0.0}), ("amsgrad", {}),
    ("amsgrad", {"form": "optax"}), ("adamax", {}), ("adagrad", {}), ("adagrad", {"eps_inside_sqrt": True}),
])
def test_first_step_is_lr_times_sign_of_g(method, hyper, x0):
    path = run(BOWL, method, x0, 1, lr=0.01, eps=0.0, **hyper)
    assert_step(path[1] - path[0], -0.01 * np.sign(BOWL.kernels.grad(x0)), x0)


@given(x0=starts)
def test_first_steps_without_bias_correction(x0):
    g, lr, b1, b2 = BOWL.kernels.grad(x0), 0.01, 0.9, 0.999
    sign = np.sign(g)
    # RMSprop: v_1 = (1 - α) g², so the step is lr·sign(g)/√(1 - α).
    step = run(BOWL, "rmsprop", x0, 1, lr=lr, alpha=0.99, eps=0.0)[1] - x0
    assert_step(step, -lr * sign / math.sqrt(1 - 0.99), x0)
    # AMSGrad "paper": no bias correction at all, (1 - β1) g / √((1 - β2) g²).
    step = run(BOWL, "amsgrad", x0, 1, lr=lr, eps=0.0, form="paper")[1] - x0
    assert_step(step, -lr * (1 - b1) / math.sqrt(1 - b2) * sign, x0)
    # RAdam: rho_1 = 1, so the first step is the un-adapted lr·m̂_1 = lr·g.
    assert_step(run(BOWL, "radam", x0, 1, lr=lr)[1] - x0, -lr * g, x0)
    # SWATS: ε̂-Adam, lr·√(1 - β2)/(1 - β1)·m_1/√(v_1 + 1e-15) as pytorch_optimizer: lr·sign(g) but for the 1e-15.
    expected = -lr * math.sqrt(1 - b2) * g / np.sqrt((1 - b2) * g * g + 1e-15)
    assert_step(run(BOWL, "swats", x0, 1, lr=lr, eps=0.0)[1] - x0, expected, x0)


def test_adadelta_first_step_by_hand():
    g, eps, rho = 1.0, 1e-6, 0.9  # x² at 0.5
    expected = 0.5 - math.sqrt(eps) * g / math.sqrt((1 - rho) * g * g + eps)
    assert run(X2, "adadelta", [0.5], 1)[1, 0, 0] == pytest.approx(expected, rel=1e-15)


def test_nadam_first_step_by_hand():
    lr, b1, b2, psi = 0.1, 0.9, 0.999, 4e-3
    mu1, mu2 = (b1 * (1 - 0.5 * 0.96 ** (i * psi)) for i in (1, 2))
    g = 2.0  # x² at 1
    m, v = (1 - b1) * g, (1 - b2) * g * g
    u = (1 - mu1) / (1 - mu1) * g + mu2 / (1 - mu1 * mu2) * m
    den = math.sqrt(v / (1 - b2))
    assert run(X2, "nadam", [1.0], 1, lr=lr, eps=0.0)[1, 0, 0] == pytest.approx(1 - lr * u / den, rel=1e-14)
    # Dozat's form multiplies v̂ by β2: the first step is 1/√β2 times longer.
    dozat = run(X2, "nadam", [1.0], 1, lr=lr, eps=0.0, form="dozat")[1, 0, 0]
    assert 1 - dozat == pytest.approx(lr * u / den / math.sqrt(b2), rel=1e-14)


def test_nadam_momentum_schedule_starts_near_half_beta1():
    """μ_t/β1 = 1 - 0.96^(tψ)/2 = 0.5001 at t = 1 (OPTIMIZERS.md §2.11): with ψ = 0 it is 1/2 for ever, so
    ψ = 0 and the default give nearly the same first steps, and ψ = inf (μ = β1) a different one."""
    default, half, full = (run(X2, "nadam", [1.0], 3, lr=0.1, momentum_decay=p)[:, 0, 0] for p in (4e-3, 0.0, math.inf))
    np.testing.assert_allclose(default, half, rtol=1e-3)
    assert abs(default[1] - full[1]) > 1e-3


# ---------------------------------------------------------------------------------------------------------
# RAdam's warm-up: rho_5 = 4.996, rho_6 = 5.994 (β2 = 0.999).
def test_radam_thresholds_by_form():
    paths = {f: run(ROSEN, "radam", [-1.5, 2.0], 7, lr=0.01, form=f) for f in ("torch", "optax", "paper")}
    # t = 1..4: every form takes the un-adapted momentum step η m̂ (bitwise the same arithmetic).
    for f in ("optax", "paper"):
        np.testing.assert_array_equal(paths[f][:5], paths["torch"][:5])
    # t = 5: rho_5 > 4 rectifies only in the paper's form; t = 6: torch and optax rectify (ε placements differ).
    assert not np.allclose(paths["paper"][5], paths["torch"][5])
    np.testing.assert_array_equal(paths["optax"][5], paths["torch"][5])
    assert not np.array_equal(paths["optax"][6], paths["torch"][6])
    np.testing.assert_allclose(paths["optax"][6], paths["torch"][6], rtol=1e-6)


def test_radam_warmup_steps_are_momentum_sgd():
    """Before rectification x_t = x_{t-1} - η m_t/(1 - β1^t): the un-adapted steps throw Rosenbrock's start
    (-1.5, 2) far away (OPTIMIZERS.md §2.12: to about (-0.43, -0.32))."""
    path = run(ROSEN, "radam", [-1.5, 2.0], 5, lr=0.01)
    xs, m = path[0], np.zeros(2)
    for t in range(1, 6):
        m = 0.9 * m + 0.1 * ROSEN.kernels.grad(xs)
        xs = xs - 0.01 * m / (1 - 0.9**t)
        np.testing.assert_allclose(path[t], xs, rtol=1e-13)
    np.testing.assert_allclose(path[5, 0], [-0.44, -0.33], atol=0.02)


# ---------------------------------------------------------------------------------------------------------
def test_amsgrad_forms_keep_a_running_max():
    for form in ("torch", "optax", "paper"):
        _, s = final_state(ROSEN, "amsgrad", [-1.5, 2.0], 40, lr=0.01, form=form)
        bc2 = 1 - 0.999**40
        floor = s.v / bc2 if form == "optax" else s.v
        assert np.all(s.vmax >= floor) and np.any(s.vmax > floor), form


def test_adamw_without_decay_is_adam_and_decays_by_lr_times_lambda():
    np.testing.assert_array_equal(run(ROSEN, "adamw", [-1.5, 2.0], 20, lr=0.01, weight_decay=0.0),
                                  run(ROSEN, "adam", [-1.5, 2.0], 20, lr=0.01))
    # Decoupled: one step on f = 0 (no gradient) multiplies x by 1 - lr·λ exactly.
    flat = sg.Problem(sp.Integer(0) * x + 0 * y, variables=(x, y))
    path = run(flat, "adamw", [[3.0, -4.0]], 3, lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(path[:, 0], [[3.0, -4.0]] * np.array([[1.0], [0.95], [0.95**2], [0.95**3]]), rtol=1e-15)


@pytest.mark.parametrize("method", COUPLED_L2)
def test_weight_decay_is_l2_on_the_gradient(method):
    """``weight_decay=λ`` on f runs the same iterates as λ = 0 on f + λ/2·|x|² (torch's coupled decay)."""
    lam = 0.3
    ridge = sg.Problem(BOWL.expr + sp.Rational(3, 20) * (x**2 + y**2), variables=(x, y))
    hyper = {"lr": 0.01} if method != "adadelta" else {}
    np.testing.assert_allclose(run(BOWL, method, [[1.0, -2.0], [0.5, 3.0]], 25, weight_decay=lam, **hyper),
                               run(ridge, method, [[1.0, -2.0], [0.5, 3.0]], 25, **hyper), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("method, hyper", [
    ("adam", {}), ("amsgrad", {}), ("amsgrad", {"form": "optax"}), ("amsgrad", {"form": "paper"}),
    ("adamax", {}), ("adagrad", {}), ("rmsprop", {}), ("rmsprop", {"centered": True, "momentum": 0.5}),
    ("nadam", {}), ("adamw", {"weight_decay": 0.0}),
])
def test_scale_invariance_with_eps_zero(method, hyper):
    """These steps depend on g only through g/√(EMA of g²): f and 1000·f give the same iterates."""
    scaled = sg.Problem(1000 * BOWL.expr, variables=(x, y))
    np.testing.assert_allclose(run(scaled, method, [[1.0, -2.0]], 25, lr=0.05, eps=0.0, **hyper),
                               run(BOWL, method, [[1.0, -2.0]], 25, lr=0.05, eps=0.0, **hyper), rtol=1e-10)


@pytest.mark.parametrize("method", ZOO)
def test_permuting_variables_permutes_the_path(method):
    """Coordinate-wise updates (and SWATS's inner products) commute with renaming the variables."""
    swapped = sg.Problem(ROSEN.expr, variables=(y, x))
    hyper = {} if method == "adadelta" else {"lr": 0.01}
    a = run(ROSEN, method, [-1.5, 2.0], 20, **hyper)
    b = run(swapped, method, [2.0, -1.5], 20, **hyper)
    np.testing.assert_array_equal(a, b[..., ::-1])


@pytest.mark.parametrize("method", ZOO)
def test_zero_gradient_with_eps_zero_stays_put(method):
    """At a critical point with ε = 0 every denominator is 0/0: the step is 0, never NaN (and no warning)."""
    path = run(BOWL, method, [[0.0, 0.0], [1.0, 1.0]], 3, eps=0.0)
    np.testing.assert_array_equal(path[:, 0], 0.0)
    assert np.isfinite(path).all()


# ---------------------------------------------------------------------------------------------------------
def test_adagrad_lr_decay_is_a_schedule():
    """torch's lr_decay δ: η_t = η/(1 + (t - 1)δ), the same as that schedule with δ = 0."""
    a = run(ROSEN, "adagrad", [-1.5, 2.0], 20, lr=0.1, lr_decay=0.5)
    b = run(ROSEN, "adagrad", [-1.5, 2.0], 20, lr=lambda t: 0.1 / (1 + (t - 1) * 0.5))
    np.testing.assert_allclose(a, b, rtol=1e-14)


def test_adadelta_lr_is_a_plain_multiplier():
    """u accumulates the unscaled Δ: with a constant gradient (f = 3x + y) Δ_t does not depend on x, so
    lr = 2.5 moves exactly 2.5 times as far as lr = 1."""
    line = sg.Problem(3 * x + y, variables=(x, y))
    one, more = (run(line, "adadelta", [[1.0, 1.0]], 10, lr=lr)[:, 0] - 1.0 for lr in (1.0, 2.5))
    np.testing.assert_allclose(more, 2.5 * one, rtol=1e-14)


def test_adabound_closes_onto_sgd_with_momentum():
    """With γ huge both bounds equal final_lr from t = 1: x_t = x_{t-1} - final_lr·m_t (m the raw EMA)."""
    path = run(BOWL, "adabound", [[1.0, -2.0]], 15, lr=0.1, final_lr=0.02, gamma=1e12)
    xs, m = path[0], np.zeros((1, 2))
    for t in range(1, 16):
        m = 0.9 * m + 0.1 * BOWL.kernels.grad(xs)
        xs = xs - 0.02 * m
        np.testing.assert_allclose(path[t], xs, rtol=1e-9)


def test_adabound_bounds_follow_the_schedule():
    """η* = final_lr·η_t/η_1: halving lr after the first step halves the clipped rate too."""
    const = run(BOWL, "adabound", [[1.0, -2.0]], 6, lr=0.1, final_lr=0.02, gamma=1e12)
    halved = run(BOWL, "adabound", [[1.0, -2.0]], 6, lr=lambda t: 0.1 if t == 1 else 0.05, final_lr=0.02, gamma=1e12)
    np.testing.assert_array_equal(halved[1], const[1])
    np.testing.assert_allclose(halved[2] - halved[1], 0.5 * (const[2] - const[1]), rtol=1e-9)


def test_amsbound_uses_the_running_max():
    _, s = final_state(X2, "adabound", [0.5], 100, lr=0.1, amsbound=True)  # the raw v peaks early
    assert np.all(s.vmax >= s.v) and np.any(s.vmax > s.v)
    np.testing.assert_array_equal(run(ROSEN, "adabound", [-1.5, 2.0], 3, lr=0.01, amsbound=True),
                                  run(ROSEN, "adabound", [-1.5, 2.0], 3, lr=0.01))  # v still rising: max = v


# ---------------------------------------------------------------------------------------------------------
def test_swats_rows_switch_independently_and_sgd_phase_is_momentum_sgd():
    """Row 0 switches at t = 26 (golden above); row 1, started elsewhere, on its own schedule. After the
    switch: b_k = β1 b_{k-1} + g_k and x_k = x_{k-1} - Λ(1 - β1) b_k, with Adam's moments frozen."""
    starts = [[0.5], [-3.0]]
    path = run(X2, "swats", starts, 40, lr=0.1, eps=0.1)
    for row, x0 in enumerate(starts):
        np.testing.assert_array_equal(path[:, row], run(X2, "swats", [x0], 40, lr=0.1, eps=0.1)[:, 0])
    _, s26 = final_state(X2, "swats", [0.5], 26, lr=0.1, eps=0.1)
    xs, b, rate = path[26, :1], np.zeros((1, 1)), s26.rate
    for t in range(27, 41):
        b = 0.9 * b + X2.kernels.grad(xs)
        xs = xs - rate * 0.1 * b
        np.testing.assert_allclose(path[t, :1], xs, rtol=1e-13)
    _, s40 = final_state(X2, "swats", [0.5], 40, lr=0.1, eps=0.1)
    np.testing.assert_array_equal(s40.m, s26.m)
    np.testing.assert_array_equal(s40.v, s26.v)


def test_swats_nesterov_steps_by_rate_times_buffer():
    """pytorch_optimizer's Nesterov update is (1 - β1) b + β1 b = b."""
    plain = run(X2, "swats", [0.5], 28, lr=0.1, eps=0.1)
    nest = run(X2, "swats", [0.5], 28, lr=0.1, eps=0.1, nesterov=True)
    np.testing.assert_array_equal(nest[:27], plain[:27])  # first SGD step is t = 27: b_27 = g_27
    _, s = final_state(X2, "swats", [0.5], 26, lr=0.1, eps=0.1)
    g = X2.kernels.grad(plain[26])
    np.testing.assert_allclose(nest[27] - plain[26], -s.rate * g, rtol=1e-13)
    np.testing.assert_allclose(plain[27] - plain[26], -s.rate * 0.1 * g, rtol=1e-13)


def test_swats_default_eps_rarely_switches():
    """OPTIMIZERS.md trap T14: with eps = 1e-6 no switch within 300 steps on x² or Rosenbrock."""
    for problem, x0 in ((X2, [0.5]), (ROSEN, [-1.5, 2.0])):
        _, s = final_state(problem, "swats", x0, 300, lr=0.01)
        assert not s.sgd.any()


# ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ZOO)
def test_constant_callable_lr_equals_float_lr(method):
    lr = 0.03 if method != "adadelta" else 1.0
    np.testing.assert_array_equal(run(BOWL, method, [[1.0, -2.0]], 12, lr=lambda t: lr),
                                  run(BOWL, method, [[1.0, -2.0]], 12, lr=lr))


BAD = [
    ("adam", {"betas": (0.9, 1.0)}, r"betas\[1\]"),
    ("adam", {"betas": (-0.1, 0.999)}, r"betas\[0\]"),
    ("adam", {"betas": 0.9}, "betas must be a pair"),
    ("adam", {"eps": -1e-8}, "eps"),
    ("adam", {"amsgrad": "yes"}, "amsgrad must be True or False"),
    ("adam", {"lr": 0.0}, "lr"),
    ("adamw", {"weight_decay": -0.01}, "weight_decay"),
    ("adagrad", {"lr_decay": -1.0}, "lr_decay"),
    ("adagrad", {"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
    ("adagrad", {"eps_inside_sqrt": 1}, "eps_inside_sqrt"),
    ("rmsprop", {"alpha": 1.0}, "alpha"),
    ("rmsprop", {"momentum": -0.9}, "momentum"),
    ("rmsprop", {"centered": None}, "centered"),
    ("adadelta", {"rho": 1.5}, "rho"),
    ("adadelta", {"eps": float("nan")}, "eps"),
    ("amsgrad", {"form": "keras"}, "form must be one of 'torch', 'optax', 'paper'"),
    ("adamax", {"betas": (0.9, 0.999, 0.1)}, "betas must be a pair"),
    ("nadam", {"momentum_decay": -4e-3}, "momentum_decay"),
    ("nadam", {"form": "optax"}, "form"),
    ("radam", {"form": "official"}, "form"),
    ("adabound", {"final_lr": 0.0}, "final_lr"),
    ("adabound", {"gamma": 0.0}, "gamma"),
    ("adabound", {"amsbound": 0}, "amsbound"),
    ("swats", {"nesterov": "false"}, "nesterov"),
    ("swats", {"eps": float("inf")}, "eps"),
]


@pytest.mark.parametrize("method, bad, match", BAD, ids=[f"{m}-{next(iter(b))}" for m, b, _ in BAD])
def test_rejects_bad_hyperparameters(method, bad, match):
    with pytest.raises(InputError, match=match):
        get(method, **bad)


def test_hyperparameters_are_recorded_with_torch_defaults():
    assert get("adam").hyper == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                                 "amsgrad": False, "eps_inside_sqrt": False}
    assert get("adamw").hyper["weight_decay"] == 1e-2
    assert get("adagrad").hyper["eps"] == 1e-10 and get("rmsprop").hyper["alpha"] == 0.99
    assert get("nadam").hyper["lr"] == get("adamax").hyper["lr"] == 2e-3
    assert get("swats").hyper["eps"] == 1e-6 and get("adadelta").hyper["lr"] == 1.0
