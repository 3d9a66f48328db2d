"""``symgd.minimize.classify``: why a start diverged, and the pole / overflow threshold at a finite x.

f or its gradient infinite at a finite x is ``overflow`` where some |x_j| > ln(largest float) (709.78 in
float64, where exp overflows; 88.72 in float32), else ``pole``. The values f and g below come from the
problem's own kernels, so the rule is checked on what a run sees, and the runs go through every backend.
"""

import json
import math

import numpy as np
import pytest

import symgd as sg
from symgd.cli import main
from symgd.minimize import classify
from symgd.minimize.results import REASONS

BIG64 = math.log(np.finfo(np.float64).max)  # 709.782712893384
BIG32 = math.log(np.finfo(np.float32).max)  # 88.72284


def reason_at(text, point, diverge_at=1e12):
    """The reason ``classify`` gives at ``point`` with f and the gradient from the problem's kernels."""
    k = sg.Problem(text).kernels
    x = np.atleast_2d(np.asarray(point, dtype=float))
    with np.errstate(all="ignore"):  # the point is a hazard on purpose
        f, g = k.f_and_grad(x)
    return REASONS[classify(x, f, g, diverge_at)[0]]


@pytest.mark.parametrize("text, point", [
    ("1/x", [0.0]),  # division by zero
    ("x^2 + 1/x", [0.0]),
    ("log(x)", [0.0]),  # log(0) = -inf
    ("log(x) + y^2", [0.0, 3.0]),
    ("x^2 + 1/y", [500.0, 0.0]),  # every |x_j| below the threshold
    ("atanh(x)", [1.0]),
    ("x^(-2) + exp(y)", [0.0, 700.0]),  # exp(700) = 1.0e304 is still finite: the pole is x = 0
])
def test_an_infinity_at_a_moderate_point_is_a_pole(text, point):
    assert reason_at(text, point) == "pole"


@pytest.mark.parametrize("text, point", [
    ("-exp(x)", [1e10]),  # the case: f = -inf by overflow
    ("-exp(x)", [710.0]),  # exp overflows from ln(max float) = 709.78 on
    ("exp(x)", [np.nextafter(BIG64, np.inf)]),
    ("cosh(x)", [-800.0]),
    ("-exp(x) + y^2", [1000.0, 0.0]),  # one large coordinate is enough
    ("1e300*x^3", [1e3]),  # a polynomial overflows too (here with a huge coefficient)
])
def test_an_infinity_at_a_large_point_is_an_overflow(text, point):
    assert reason_at(text, point) == "overflow"


def test_the_threshold_is_where_exp_overflows():
    # just below ln(max float) exp is finite (nothing to classify); just above it is infinite (overflow)
    below = np.nextafter(BIG64, 0)
    assert np.isfinite(np.exp(below)) and reason_at("exp(x)", [below]) == ""
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(np.nextafter(BIG64, np.inf)))
    # at the threshold itself an infinity would still count as a pole: the rule is |x_j| > ln(max float)
    x = np.array([[BIG64], [np.nextafter(BIG64, np.inf)]])
    assert [REASONS[c] for c in classify(x, np.array([np.inf] * 2), np.full((2, 1), np.inf), 1e12)] == \
        ["pole", "overflow"]


def test_float32_rows_use_the_float32_threshold():
    # float32 exp overflows from ln(3.4e38) = 88.72: x = 100 is an overflow there, a pole in float64
    x, f, g = np.array([[100.0], [50.0]]), np.array([np.inf, np.inf]), np.zeros((2, 1))
    assert [REASONS[c] for c in classify(x.astype(np.float32), f, g, 1e12)] == ["overflow", "pole"]
    assert [REASONS[c] for c in classify(x, f, g, 1e12)] == ["pole", "pole"]
    assert BIG32 < 100 < BIG64


@pytest.mark.parametrize("x, f, g, reason", [
    ([np.nan, 0.0], np.inf, [np.inf, 0.0], "nan"),  # a NaN x stays nan, whatever f is
    ([np.nan, 1e300], 0.0, [0.0, 0.0], "nan"),
    ([-np.inf, 0.0], np.nan, [0.0, 0.0], "overflow"),
    ([1e3, 0.0], np.nan, [np.inf, 0.0], "domain"),  # NaN beats infinite, at any size
    ([1e3, 0.0], -np.inf, [np.nan, 0.0], "domain"),
    ([2e12, 0.0], -np.inf, [0.0, 0.0], "diverge_at"),  # past diverge_at, as before
    ([5.0, 5.0], 1.0, [1.0, 1.0], ""),
])
def test_the_other_reasons_are_unchanged(x, f, g, reason):
    code = classify(np.array([x]), np.array([f]), np.array([g]), 1e12)
    assert REASONS[code[0]] == reason


def test_a_batch_is_classified_row_by_row():
    x = np.array([[0.0], [1e3], [np.nan], [1.0]])
    f = np.array([np.inf, -np.inf, 0.0, 1.0])
    g = np.array([[-np.inf], [-np.inf], [0.0], [2.0]])
    assert [REASONS[c] for c in classify(x, f, g, 1e12)] == ["pole", "overflow", "nan", ""]
    assert classify(x[:0], f[:0], g[:0], 1e12).shape == (0,)


def _backends():
    from symgd.fused import BACKENDS

    return [b for b in BACKENDS if b != "auto"]


RUNS = [
    # -exp(x) from 6, lr 1, diverge_at inf: x_1 = 6 + e^6 = 409.43, x_2 = 409.43 + e^409.43 = 1.6e177 (finite),
    # where f = -exp(1.6e177) = -inf: an overflow at step 2 (a "pole" before the threshold rule)
    ("-exp(x)", 6.0, 1.0, math.inf, 2, "overflow"),
    # -exp(x^2) from 1, lr 0.1: x_1 = 1 + 0.2e = 1.54, x_2 = 1.54 + 0.31 e^2.37 = 4.69,
    # x_3 = 4.69 + 0.94 e^22 = 3.4e9 < diverge_at = 1e12, where exp(x^2) = inf: an overflow at step 3
    ("-exp(x^2)", 1.0, 0.1, 1e12, 3, "overflow"),
    # x^2 + 1/x from 1, lr 1: x_1 = 1 - (2 - 1) = 0 exactly: a pole at step 1
    ("x^2 + 1/x", 1.0, 1.0, 1e12, 1, "pole"),
    # log(x) + x from 0.5, lr 0.5: x_1 = 0.5 - 0.5 (2 + 1) = -1: log(-1) is NaN, a domain error at step 1
    ("log(x) + x", 0.5, 0.5, 1e12, 1, "domain"),
]


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("text, x0, lr, diverge_at, step, reason", RUNS)
def test_runs_report_the_same_reason_on_every_backend(text, x0, lr, diverge_at, step, reason, backend):
    from symgd.errors import InputError

    try:
        run = sg.minimize(sg.Problem(text), "gd", [x0], steps=50, lr=lr, diverge_at=diverge_at, backend=backend)
    except InputError as exc:  # a compiled backend this machine cannot run (numba not installed)
        pytest.skip(str(exc))
    assert run.backend == backend
    assert (run.status, run.reason, run.diverged_at) == ("diverged", reason, step)
    assert np.isfinite(run.x).all()  # a finite x in every case: the rule under test, not an infinite x
    assert (abs(run.x[0]) > BIG64) == (reason == "overflow")


def test_the_command_line_reports_overflow(capsys):
    code = main(["run", "-exp(x^2)", "--method", "gd", "--lr", "0.1", "--x0", "1", "--x0", "0.5", "--json"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == 0 and err == ""
    assert doc["reason"][0] == "overflow" and doc["diverged_at"][0] == 3
    code = main(["run", "-exp(x^2)", "--method", "gd", "--lr", "0.1", "--x0", "1"])
    assert "start 0 diverged at step 3: overflow" in capsys.readouterr().out
