"""The runner: shapes, freezing, convergence, divergence, gradient noise, validation, results and compare.

Expected numbers are derived by hand in the comments (GD on quadratics is a linear recursion).
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest
import sympy as sp

import symgd as sg
from symgd import schedules
from symgd.errors import InputError
from symgd.minimize import Comparison, Run, Status, compare, minimize

x = sp.Symbol("x", real=True)
X2 = sg.Problem("x^2")
BOWL = sg.Problem("x^2 + 10y^2")  # GD multiplies x by 1 - 2η, y by 1 - 20η


# ---------------------------------------------------------------------------------------------------------
# shapes


def test_single_start_gives_scalars_and_shaped_arrays():
    run = minimize(BOWL, "gd", [1.0, 1.0], steps=10, tol=None, path=True, lr=0.01)
    assert run.x.shape == (2,) and run.x0.shape == (2,) and not run.batched
    assert isinstance(run.fun, float) and isinstance(run.nit, int) and isinstance(run.success, bool)
    assert run.status is Status.MAX_STEPS and run.diverged_at == -1 and len(run) == 1
    assert run.path.shape == (11, 2) and run.losses.shape == (11,)
    np.testing.assert_allclose(run.x, [0.98**10, 0.8**10], rtol=1e-14)
    assert run.fun == run.losses[-1] and run.method == "gd" and run.hyper == {"lr": 0.01}


def test_batch_gives_arrays_per_start():
    run = minimize(BOWL, "gd", [[1.0, 1.0], [2.0, -1.0], [0.5, 0.0]], steps=10, tol=None, path=True, lr=0.01)
    assert run.x.shape == (3, 2) and run.fun.shape == (3,) and run.nit.tolist() == [10, 10, 10]
    assert run.path.shape == (11, 3, 2) and run.losses.shape == (11, 3) and len(run) == 3
    assert list(run.status) == [Status.MAX_STEPS] * 3 and run.success.tolist() == [False] * 3
    assert run.path is not None and minimize(BOWL, "gd", [1.0, 1.0], steps=2).path is None


def test_x0_is_promoted_to_float64_and_never_mutated():
    x0 = np.array([[1, 2]], dtype=np.int32)
    run = minimize(BOWL, "gd", x0, steps=1, tol=None, lr=0.01)
    assert run.x.dtype == np.float64 and x0.tolist() == [[1, 2]]
    x0 = np.array([1.0, 2.0], dtype=np.float32)
    minimize(BOWL, "gd", x0, steps=1, tol=None, lr=0.01)
    assert x0.tolist() == [1.0, 2.0]
    assert minimize(X2, "gd", 0.5, steps=1, tol=None, lr=0.25).x.tolist() == [0.25]  # a number: n = 1


def test_problem_minimize_and_strings_of_sympy_are_the_same_entry_point():
    a_run = X2.minimize("gd", [0.5], steps=3, lr=0.1, tol=None)
    b_run = minimize(x**2, "gd", [0.5], steps=3, lr=0.1, tol=None)
    assert a_run.x.tolist() == b_run.x.tolist() and math.isclose(a_run.x[0], 0.5 * 0.8**3, rel_tol=1e-15)


# ---------------------------------------------------------------------------------------------------------
# convergence, divergence, freezing


def test_converged_starts_freeze_and_the_run_stops_when_all_are_done():
    # GD lr 0.25 on x²: x ← x/2. From 2^-10 the gradient 2^-9 <= tol = 2^-12 after 3 more halvings... and from 1, 13.
    run = minimize(X2, "gd", [[1.0], [2.0**-10]], steps=100, tol=2.0**-12, path=True, lr=0.25)
    assert run.nit.tolist() == [13, 3] and list(run.status) == ["converged", "converged"]
    assert run.path.shape == (14, 2, 1)  # stopped early: nit_max + 1 rows
    np.testing.assert_array_equal(run.path[3:, 1, 0], 2.0**-13)  # the finished start stays put
    assert run.x[:, 0].tolist() == [2.0**-13, 2.0**-13]


def test_a_start_at_a_critical_point_converges_before_any_update():
    run = minimize(BOWL, "gd", [[0.0, 0.0], [1.0, 0.0]], steps=5, lr=0.01)
    assert run.nit.tolist() == [0, 5] and list(run.status) == ["converged", "max_steps"]


def test_tol_none_never_converges_and_tol_zero_needs_an_exact_zero_gradient():
    assert minimize(BOWL, "gd", [0.0, 0.0], steps=4, tol=None).nit == 4
    run = minimize(X2, "gd", [[1.0], [1e-170]], steps=3, tol=0.0, lr=0.5)  # lr 0.5: x ← 0 in one update
    assert run.nit.tolist() == [1, 1] and all(run.status == "converged")
    tiny = minimize(X2, "gd", [1e-170], steps=3, tol=0.0, lr=0.1)  # g² underflows; g itself is not 0
    assert tiny.status == "max_steps"


def test_divergence_is_detected_at_the_step_it_happens_and_others_go_on():
    # lr 0.2: y ← -3y. |y_t| = 3^t > 1e12 first at t = 26 (3^25 = 8.5e11); x = 0 row converges at once.
    run = minimize(BOWL, "gd", [[1.0, 1.0], [0.5, 0.0]], steps=60, lr=0.2, path=True)
    assert run.diverged_at.tolist() == [26, -1] and run.nit[0] == 26
    assert list(run.status) == ["diverged", "converged"] and run.success.tolist() == [False, True]
    assert math.isclose(abs(run.x[0, 1]), 3.0**26, rel_tol=1e-12)
    np.testing.assert_array_equal(run.path[26:, 0], np.broadcast_to(run.path[26, 0], run.path[26:, 0].shape))
    assert run.nit[1] > 26  # the other start kept going after the first diverged


def test_overflow_to_inf_and_nan_is_divergence_without_warnings():
    # warnings are errors in this suite: the runner's errstate must keep this silent.
    quartic = sg.Problem("x^4")
    # x ← x - 4x³: 10, -3990, 2.5e11, -6.6e34, 1.1e105 (t = 4), where x⁴ overflows: f = inf, x finite
    run = minimize(quartic, "gd", [[10.0], [0.1]], steps=50, lr=1.0, diverge_at=math.inf, path=True)
    assert run.status[0] == "diverged" and np.isfinite(run.x[0]).all() and run.fun[0] == math.inf
    assert run.diverged_at[0] == 4 and math.isclose(run.x[0, 0], 1.129921e105, rel_tol=1e-6)
    assert run.status[1] != "diverged"
    log = sg.Problem("log(x)")  # f(x) = log x: GD with lr 1 from 0.5 jumps to -1.5, where log is nan
    r = minimize(log, "gd", [0.5], steps=5, lr=1.0)
    assert r.status == "diverged" and r.diverged_at == 1 and math.isnan(r.fun)
    assert np.geterr()["over"] == "warn"  # the error state is restored after the run


def test_a_start_beyond_diverge_at_diverges_at_step_zero():
    run = minimize(BOWL, "gd", [[2e12, 0.0], [1.0, 0.0]], steps=3, lr=0.01)
    assert run.diverged_at.tolist() == [0, -1] and run.nit.tolist() == [0, 3]


def test_callback_sees_every_update():
    seen = []
    minimize(X2, "gd", [[1.0], [2.0]], steps=4, tol=None, lr=0.25,
             callback=lambda t, xs, f: seen.append((t, xs[:, 0].tolist())))
    assert seen == [(1, [0.5, 1.0]), (2, [0.25, 0.5]), (3, [0.125, 0.25]), (4, [0.0625, 0.125])]


def test_getitem_is_the_same_as_running_one_start():
    starts = np.array([[1.0, 1.0], [3.0, -2.0], [0.0, 0.0]])
    run = minimize(BOWL, "adam", starts, steps=40, tol=1e-3, path=True, lr=0.1)
    for i in range(3):
        alone = minimize(BOWL, "adam", starts[i], steps=40, tol=1e-3, path=True, lr=0.1)
        part = run[i]
        assert part.x0.shape == (2,) and part.status == alone.status and part.nit == alone.nit
        np.testing.assert_array_equal(part.path, alone.path)
        np.testing.assert_array_equal(part.x, alone.x)
    assert len(run[1:]) == 2 and run[-1].nit == 0 and run[[True, False, True]].nit.tolist() == [40, 0]
    with pytest.raises(IndexError):
        run[5:]


# ---------------------------------------------------------------------------------------------------------
# gradient noise


def test_noise_zero_is_no_noise_bitwise():
    a_run = minimize(BOWL, "momentum", [[1.0, 2.0]], steps=20, tol=None, lr=0.01, path=True)
    b_run = minimize(BOWL, "momentum", [[1.0, 2.0]], steps=20, tol=None, lr=0.01, path=True, noise=0.0, seed=1)
    np.testing.assert_array_equal(a_run.path, b_run.path)


def test_noise_variance_is_eta_over_t_to_the_gamma():  # optax add_noise: σ² = η / t^γ, t = 1 first
    lin = sg.Problem("x + y")  # ∇f = (1, 1): GD with lr 1 steps by -(1 + noise)
    run = minimize(lin, "gd", np.zeros((40000, 2)), steps=10, tol=None, path=True, lr=1.0, noise=0.3,
                   noise_gamma=0.55, seed=7)
    noise = -(run.path[1:] - run.path[:-1]) - 1.0  # (10, B, 2)
    t = np.arange(1, 11)
    np.testing.assert_allclose(noise.var(axis=(1, 2)), 0.3 / t**0.55, rtol=0.03)  # 80000 draws: ~0.5% sd
    assert np.abs(noise.mean(axis=(1, 2))).max() < 0.01


def test_noise_is_reproducible_and_records_the_seed():
    r1 = minimize(BOWL, "gd", [1.0, 1.0], steps=5, tol=None, lr=0.01, noise=0.1)
    assert isinstance(r1.seed, int)
    r2 = minimize(BOWL, "gd", [1.0, 1.0], steps=5, tol=None, lr=0.01, noise=0.1, seed=r1.seed)
    np.testing.assert_array_equal(r1.x, r2.x)
    r3 = minimize(BOWL, "gd", [1.0, 1.0], steps=5, tol=None, lr=0.01, noise=0.1, seed=r1.seed + 1)
    assert not np.array_equal(r1.x, r3.x)


def test_the_convergence_test_uses_the_true_gradient():
    # with noise, the start at the minimum has a zero true gradient: converged at once
    run = minimize(BOWL, "gd", [0.0, 0.0], steps=5, lr=0.01, noise=1.0, seed=0)
    assert run.status == "converged" and run.nit == 0


# ---------------------------------------------------------------------------------------------------------
# validation


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 0}, "steps"), ({"steps": 2.5}, "steps"), ({"steps": True}, "steps"),
    ({"tol": -1.0}, "tol"), ({"tol": float("nan")}, "tol"), ({"diverge_at": 0}, "diverge_at"),
    ({"noise": -0.1}, "noise"), ({"noise_gamma": -1}, "noise_gamma"), ({"seed": -3}, "seed"),
    ({"seed": 1.5}, "seed"), ({"callback": 3}, "callback"),
])
def test_bad_runner_options_are_input_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        minimize(BOWL, "gd", [1.0, 1.0], **{"steps": 3, **kwargs})


@pytest.mark.parametrize("x0, match", [
    ([1.0, 2.0, 3.0], r"shape \(3,\).*2 variable\(s\) \(x, y\)"), ([[1.0], [2.0]], r"\(2, 1\)"),
    ([[[1.0, 2.0]]], "shape"), ([1.0, float("nan")], "finite"), ([1.0, float("inf")], "finite"),
    (["1", "2"], "real numbers"), ([1 + 2j, 0], "real numbers"), (np.zeros((0, 2)), "shape"),
])
def test_bad_starts_are_input_errors_naming_both_dimensions(x0, match):
    with pytest.raises(InputError, match=match):
        minimize(BOWL, "gd", x0, steps=3)


def test_several_starts_of_a_one_variable_problem_need_a_column():
    with pytest.raises(InputError, match=r"column"):
        minimize(X2, "gd", [0.5, -3.0], steps=3)


def test_problems_with_parameters_or_no_variables_are_refused():
    with pytest.raises(InputError, match="symbols a"):
        minimize(sg.Problem("a*x^2", variables=("x",)), "gd", [1.0])
    with pytest.raises(InputError, match="no variables"):
        minimize(sg.Problem("3"), "gd", [1.0])


# ---------------------------------------------------------------------------------------------------------
# results: repr, LaTeX, JSON, plot


def test_repr_is_a_fixed_digit_table_truncated_at_five_starts():
    starts = [[1.0, 1.0], [0.0, 0.0], [2.0, 0.5], [3.0, 0.0], [0.1, -0.1], [5.0, 5.0], [1.0, 3.0]]
    text = repr(minimize(BOWL, "gd", starts, steps=7, lr=0.01))
    lines = text.splitlines()
    assert lines[0] == "Run(gd(lr=0.01) on x**2 + 10*y**2, 7 starts, steps=7)"
    assert lines[1].split() == ["#", "status", "nit", "fun", "x"]
    assert lines[2].split()[:3] == ["0", "max_steps", "7"] and "(0.8681, 0.2097)" in lines[2]  # 0.98^7, 0.8^7
    assert lines[3].split() == ["1", "converged", "0", "0", "(0,", "0)"]
    assert len(lines) == 8 and lines[-1].strip() == "... (2 more starts)"


def test_repr_latex_is_one_mathjax_array():
    run = minimize(BOWL, "gd", [[1.0, 1.0], [2e12, 0.0]], steps=2, lr=0.01)
    tex = run._repr_latex_()
    assert tex.startswith(r"$\begin{array}") and tex.endswith(r"\end{array}$") and "tabular" not in tex
    assert r"\text{max steps}" in tex and r"\text{diverged}" in tex and r"0.9604" in tex  # 0.98² in x


def test_to_json_is_the_contract_document_without_nan():
    run = minimize(BOWL, "adam", [[0.5, 0.5], [2e12, 1.0]], steps=3, tol=None, path=True, lr=0.1, betas=(0.9, 0.999))
    doc = json.loads(json.dumps(run.to_json(), allow_nan=False))
    assert doc["method"] == "adam" and doc["hyper"]["betas"] == [0.9, 0.999] and doc["hyper"]["lr"] == 0.1
    assert doc["x0"] == [[0.5, 0.5], [2e12, 1.0]] and len(doc["x"]) == 2 and doc["nit"] == [3, 0]
    assert doc["status"] == ["max_steps", "diverged"] and doc["diverged_at"] == [-1, 0]
    assert np.array(doc["path"]).shape == (2, 4, 2)  # per start: (starts, T + 1, n)
    single = minimize(X2, "adam", [0.5], steps=30, tol=None, lr=0.1).to_json()
    assert single["x0"] == [[0.5]] and single["path"] is None and round(single["x"][0][0], 8) == 0.02099521
    nan = minimize(sg.Problem("log(x)"), "gd", [0.5], steps=2, lr=1.0).to_json()
    assert nan["fun"] == [None] and json.dumps(nan, allow_nan=False)


def test_to_json_writes_schedules_and_inner_optimizers_as_data():
    run = minimize(X2, "lookahead", [1.0], steps=2, inner=sg.optimizers.get("gd", lr=schedules.cosine(0.1, 10)))
    hyper = json.loads(json.dumps(run.to_json()))["hyper"]
    assert hyper["inner"] == {"method": "gd", "hyper": {"lr": {"schedule": "cosine", "args": {
        "lr": 0.1, "T": 10, "lr_min": 0.0, "clamp": False}}}}
    inf = minimize(X2, "nadam", [1.0], steps=1, momentum_decay=float("inf")).to_json()
    assert inf["hyper"]["momentum_decay"] == "inf"


def test_status_compares_to_its_string_and_explains_itself():
    assert Status.CONVERGED == "converged" and Status("max_steps") is Status.MAX_STEPS
    assert all(s.message for s in Status)
    run = minimize(BOWL, "gd", [[0.0, 0.0], [1.0, 1.0], [2e12, 0.0]], steps=2)
    assert run.message == "1 converged, 1 max_steps, 1 diverged (of 3 starts)"
    assert minimize(BOWL, "gd", [0.0, 0.0]).message == Status.CONVERGED.message


# ---------------------------------------------------------------------------------------------------------
# compare


def test_compare_runs_each_method_with_the_hyperparameters_it_takes():
    cmp = compare(BOWL, ["gd", "adam", "newton"], [[1.0, 1.0], [0.0, 0.0]], steps=30, lr=0.01, betas=(0.8, 0.9))
    assert isinstance(cmp, Comparison) and list(cmp) == ["gd", "adam", "newton"] and len(cmp) == 3
    assert all(isinstance(r, Run) for r in cmp.values())
    assert cmp["gd"].hyper == {"lr": 0.01} and cmp["adam"].hyper["betas"] == (0.8, 0.9)
    np.testing.assert_array_equal(cmp["gd"].x, minimize(BOWL, "gd", [[1.0, 1.0], [0.0, 0.0]], 30, lr=0.01).x)
    assert cmp["newton"].hyper["lr"] == 0.01  # Newton takes lr too: x ← x - 0.01 x on a quadratic
    np.testing.assert_allclose(cmp["newton"].x[0], [0.99**30, 0.99**30], rtol=1e-13)
    text = repr(cmp)
    assert text.splitlines()[0] == "Comparison on x**2 + 10*y**2, 2 starts" and "adam" in text
    assert set(cmp.to_json()) == {"gd", "adam", "newton"}


def test_compare_accepts_labels_and_configured_optimizers():
    cmp = compare(BOWL, {"slow": sg.optimizers.get("gd", lr=0.001), "fast": "gd"}, [1.0, 1.0], steps=5, lr=0.04)
    assert list(cmp) == ["slow", "fast"] and cmp["slow"].hyper == {"lr": 0.001} and cmp["fast"].hyper == {"lr": 0.04}
    assert list(compare(BOWL, "gd, adam", [1.0, 1.0], steps=2)) == ["gd", "adam"]


def test_compare_refuses_a_hyperparameter_no_method_takes():
    with pytest.raises(InputError, match="did you mean 'betas'"):
        compare(BOWL, ["gd", "adam"], [1.0, 1.0], steps=2, betaz=(0.9, 0.9))
    with pytest.raises(InputError, match="did you mean 'adam'"):
        compare(BOWL, ["gd", "adamm"], [1.0, 1.0], steps=2)
    with pytest.raises(InputError, match="at least one"):
        compare(BOWL, [], [1.0, 1.0])


def test_compare_shares_one_noise_seed():
    cmp = compare(BOWL, {"a": "gd", "b": "gd"}, [1.0, 1.0], steps=5, lr=0.01, noise=0.5)
    assert cmp["a"].seed == cmp["b"].seed
    np.testing.assert_array_equal(cmp["a"].x, cmp["b"].x)


def test_comparison_latex_is_one_mathjax_array():
    tex = compare(BOWL, ["gd", "adam"], [1.0, 1.0], steps=3)._repr_latex_()
    assert tex.startswith("$\\begin{array}") and tex.endswith("\\end{array}$") and tex.count("$") == 2
    assert "tabular" not in tex and "\\text{gd}" in tex and "\\text{adam}" in tex


def test_large_batches_run_in_tiles_with_the_same_numbers():
    # The NumPy backend walks a large batch in cache-sized tiles; starts are independent, so a tiled run
    # must equal the untiled loop (here: 5000 starts of 10 variables, two tiles of up to 3276 rows).
    from symgd.minimize import _loop

    p = sg.Problem("x1^2 + 10*x2^2 + x3*x4 - x5^2/100 + x6^4 + x7 + x8^2*x9 + x10^2")
    X = np.random.default_rng(1).uniform(-3, 3, (5000, 10))
    X[7] = 1e13  # one start diverges at once
    run = sg.minimize(p, "adam", X, 40, lr=0.05, backend="numpy")
    x, f, nit, code, div_at, _, _, reason = _loop(run.optimizer, p.kernels, X, 40, 1e-8, 1e12, False, None, None)
    np.testing.assert_array_equal(run.x, x)
    np.testing.assert_array_equal(run.nit, nit)
    np.testing.assert_array_equal(run._code, code)
    np.testing.assert_array_equal(run._reason, reason)
    assert run.reason[7] == "diverge_at" and run.diverged_at[7] == 0
