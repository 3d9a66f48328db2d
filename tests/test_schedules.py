"""Learning-rate schedules: torch's lr sequences, the SymPy formula, closed-form facts and the call protocol.

Golden: ``tests/golden/schedules_torch.json`` (torch 2.13.0 ``torch.optim.lr_scheduler``, written by
``tests/golden/make_golden.py``): ``lr[k]`` is the rate of update t = k + 1, so
``schedules.<schedule>(**args)(t) == lr[t - 1]``.
"""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symgd as sg
from symgd import schedules
from symgd.errors import InputError
from symgd.minimize import minimize

GOLDEN = json.loads((pathlib.Path(__file__).parent / "golden" / "schedules_torch.json").read_text())
CASES = GOLDEN["cases"]
T_ALL = np.arange(1, 61)

EXAMPLES = [  # one or two of each, with awkward parameters
    schedules.constant(0.3), schedules.inverse_sqrt(0.1), schedules.step(0.1, 7, 0.3), schedules.exponential(0.2, 0.9),
    schedules.linear_warmup(0.1, 10, 0.25), schedules.linear_warmup(0.1, 4, 0.5, 0.8), schedules.cosine(0.1, 13, 0.01),
    schedules.cosine(0.1, 13, 0.01, clamp=True), schedules.sgdr(0.1, 5, 1, 0.001), schedules.sgdr(0.1, 3, 3),
    schedules.cyclic(0.01, 0.1, 6), schedules.cyclic(0.01, 0.1, 4, 9), schedules.one_cycle(0.1, 40),
    schedules.one_cycle(1.0, 25, 0.2, 10.0, 100.0), schedules.one_cycle_momentum(40),
]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_torch_lr_sequence(case):
    s = getattr(schedules, case["schedule"])(**case["args"])
    ref = np.array(case["lr"])
    t = np.arange(1, len(ref) + 1)
    np.testing.assert_allclose(s(t), ref, rtol=1e-13, atol=0)
    assert [s(int(v)) for v in t] == s(t).tolist()  # int calls and array calls agree bitwise
    if "momentum_schedule" in case:
        spec = case["momentum_schedule"]
        m = getattr(schedules, spec["schedule"])(**spec["args"])
        np.testing.assert_allclose(m(t), case["momentum"], rtol=1e-13, atol=0)


def test_golden_covers_every_schedule():
    covered = {c["schedule"] for c in CASES} | {c["momentum_schedule"]["schedule"] for c in CASES
                                                 if "momentum_schedule" in c}
    public = {n for n in schedules.__all__ if n[0].islower() and n not in ("t", "k", "constant")}
    assert public <= covered


@pytest.mark.parametrize("s", EXAMPLES, ids=repr)
def test_numpy_implementation_equals_the_sympy_expression(s):
    exact = [float(s.expr.subs(schedules.t, v).evalf(30)) for v in range(1, 61)]
    np.testing.assert_allclose(s(T_ALL), exact, rtol=1e-13, atol=1e-17)
    assert s.expr.free_symbols <= {schedules.t}


@pytest.mark.parametrize("s", EXAMPLES, ids=repr)
def test_protocol_repr_latex_json_round_trip(s):
    assert getattr(schedules, s.name)(**s.kwargs) == s
    assert getattr(schedules, s.to_json()["schedule"])(**json.loads(json.dumps(s.to_json()))["args"]) == s
    assert repr(s).startswith(f"{s.name}(")
    tex = s.latex()
    assert tex.startswith(rf"{s.symbol}_t = ") and "k = t - 1" in tex and "$" not in tex
    assert s._repr_latex_() == f"${tex}$"
    assert isinstance(s(1), float) and s(T_ALL).shape == (60,) and s(T_ALL).dtype == np.float64
    assert s(np.array([[1, 2], [3, 4]])).shape == (2, 2)


@pytest.mark.parametrize("bad", [0, -1, 1.0, 2.5, np.array([0, 1]), np.array([1.0, 2.0]), True])
def test_t_is_a_positive_integer(bad):
    with pytest.raises(InputError, match="t"):
        schedules.cosine(0.1, 10)(bad)


# ---------------------------------------------------------------------------------------------------------
# closed-form facts (OPTIMIZERS.md §3)


def test_the_first_update_uses_the_value_at_k_zero():
    assert schedules.inverse_sqrt(0.1)(1) == 0.1 and schedules.inverse_sqrt(0.1)(4) == 0.05
    assert schedules.exponential(0.1, 0.5)(3) == 0.025
    assert [schedules.step(1.0, 3, 0.5)(t) for t in range(1, 8)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    run = minimize(sg.Problem("x^2"), "gd", [1.0], steps=3, tol=None, path=True,
                   lr=schedules.step(0.25, 1, 0.5))  # x_t = x_{t-1}(1 - 2 η_t): η = 0.25, 0.125, 0.0625
    np.testing.assert_array_equal(run.path[:, 0], [1.0, 0.5, 0.375, 0.328125])


def test_cosine_is_not_clamped_as_torch_unless_asked():  # trap T10
    s, c = schedules.cosine(0.1, 10, 0.001), schedules.cosine(0.1, 10, 0.001, clamp=True)
    assert s(11) == 0.001 and s(21) == pytest.approx(0.1, rel=1e-15)  # k = T: lr_min; k = 2T: back to lr
    np.testing.assert_allclose(s(np.arange(1, 41)), s(np.arange(21, 61)), rtol=1e-13)  # period 2T
    assert c(11) == c(12) == c(100) == 0.001 and c(5) == s(5)


def test_sgdr_restarts_and_never_uses_lr_min():  # T_cur in [0, T_i - 1]
    s = schedules.sgdr(0.1, 4, 2, 0.01)
    lrs = s(np.arange(1, 30))
    restarts = (np.flatnonzero(lrs == 0.1) + 1).tolist()
    assert restarts == [1, 5, 13, 29]  # cycles of 4, 8, 16 updates
    assert lrs.min() > 0.01


def test_linear_warmup_reaches_lr_and_stays():
    s = schedules.linear_warmup(0.3, 2)  # torch's default start_factor 1/3
    assert [round(s(t), 15) for t in (1, 2, 3, 4, 50)] == [0.1, 0.2, 0.3, 0.3, 0.3]
    ramp = schedules.linear_warmup(1.0, 3, start_factor=1 / 4)  # the ramp (k + 1)/W with W = 4
    np.testing.assert_allclose(ramp(np.arange(1, 7)), [0.25, 0.5, 0.75, 1, 1, 1], rtol=1e-15)


def test_cyclic_triangle_and_one_cycle_shape():
    c = schedules.cyclic(0.1, 0.5, 2)
    np.testing.assert_allclose(c(np.arange(1, 10)), [0.1, 0.3, 0.5, 0.3, 0.1, 0.3, 0.5, 0.3, 0.1], rtol=1e-15)
    o = schedules.one_cycle(1.0, 20, pct_start=0.25)  # peak at k = 0.25·20 - 1 = 4, minimum at k = 19
    lrs = o(np.arange(1, 25))
    assert lrs[0] == pytest.approx(0.04) and lrs.argmax() == 4 and lrs[4] == 1.0
    assert lrs[19] == pytest.approx(1 / 25 / 1e4) and (lrs[21:] == 1 / 25 / 1e4).all()  # then held
    assert lrs[20] > lrs[19]  # k = T, the one step past the end torch allows, continues the cosine
    m = schedules.one_cycle_momentum(20, pct_start=0.25)
    assert m(1) == 0.95 and m(5) == 0.85 and m(20) == pytest.approx(0.95)


@given(lr=st.floats(1e-6, 10), t=st.integers(1, 10**6))
def test_constant_is_the_number(lr, t):
    assert schedules.constant(lr)(t) == lr


@given(gamma=st.floats(0.01, 1.0), t=st.integers(1, 100))
def test_exponential_ratio_is_gamma(gamma, t):
    s = schedules.exponential(0.1, gamma)
    assert math.isclose(s(t + 1) / s(t), gamma, rel_tol=1e-12)


@given(base=st.floats(0, 1), span=st.floats(1e-3, 1), up=st.integers(1, 50), down=st.integers(1, 50),
       t=st.integers(1, 10**4))
def test_cyclic_stays_between_its_bounds(base, span, up, down, t):
    s = schedules.cyclic(base, base + span, up, down)
    assert base - 1e-12 <= s(t) <= base + span + 1e-12


# ---------------------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize("make, match", [
    (lambda: schedules.constant(0.0), "lr"), (lambda: schedules.constant(-1), "lr"),
    (lambda: schedules.constant(float("nan")), "lr"), (lambda: schedules.step(0.1, 0), "step_size"),
    (lambda: schedules.step(0.1, 2.5), "step_size"), (lambda: schedules.exponential(0.1, 0), "gamma"),
    (lambda: schedules.linear_warmup(0.1, 5, start_factor=1.5), "start_factor"),
    (lambda: schedules.cosine(0.1, 0), "T"), (lambda: schedules.cosine(0.1, 10, lr_min=0.2), "lr_min"),
    (lambda: schedules.sgdr(0.1, 5, T_mult=1.5), "T_mult"), (lambda: schedules.cyclic(0.5, 0.1, 3), "base_lr"),
    (lambda: schedules.one_cycle(0.1, 3, pct_start=0.3), "pct_start"),
    (lambda: schedules.one_cycle(0.1, 100, pct_start=1.0), "pct_start"),
    (lambda: schedules.one_cycle_momentum(100, base_momentum=0.99, max_momentum=0.9), "base_momentum"),
    (lambda: schedules.step(True, 3), "lr"),
])
def test_bad_arguments_are_input_errors(make, match):
    with pytest.raises(InputError, match=match):
        make()


def test_a_momentum_schedule_is_checked_where_it_is_used():
    with pytest.raises(InputError, match="momentum"):
        sg.optimizers.get("sgd", momentum=schedules.constant(1.5))
