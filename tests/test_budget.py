"""Budgets everywhere: a worker process that is really stopped, by its time budget or its memory cap.

No timed assertions: the budget machinery itself decides (its BudgetError says which limit was hit), and a
``guard`` turns a hang into a failing test (SIGALRM) instead of a stalled run.
"""

import json
import time

import pytest
import sympy as sp

import symgd as sg
import symgd.critical as critical
from symgd.budget import DEFAULT_MEMORY_GIB, memory_cap_available, run_with_budget
from symgd.cli import main
from symgd.errors import BudgetError, InputError

from hostile_inputs import hang_detector as guard

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", real=True)

needs_cap = pytest.mark.skipif(not memory_cap_available(), reason="RLIMIT_AS needs Linux")


def _hog():
    """Allocate without bound (1 MB at a time) until something stops it."""
    chunks = []
    while True:
        chunks.append(bytearray(2**20))


def _sleeper(*args, **kwargs):
    time.sleep(600)


# ---------------------------------------------------------------------------------------------
# run_with_budget itself


@needs_cap
def test_unbounded_allocation_is_stopped_by_the_memory_cap():
    with guard(120), pytest.raises(BudgetError, match=r"^_hog gave up: ran out of the 0.25 GiB memory cap$"):
        run_with_budget(_hog, seconds=100, memory=0.25)


@needs_cap
def test_one_huge_allocation_is_refused_at_once():
    with guard(60), pytest.raises(BudgetError, match="ran out of the 0.5 GiB memory cap"):
        run_with_budget(bytearray, 4 * 2**30, seconds=50, memory=0.5)


@needs_cap
def _allocated(size: int) -> int:
    return len(bytearray(size))


def test_the_cap_applies_to_the_worker_only():
    with guard(60):
        with pytest.raises(BudgetError):
            run_with_budget(_allocated, 2**30, seconds=50, memory=0.25)
        assert run_with_budget(_allocated, 2**30, seconds=50, memory=2) == 2**30  # the cap is per call
    assert len(bytearray(2**29)) == 2**29  # this process was never capped


@needs_cap
def test_a_nested_worker_cannot_escape_its_parents_cap():
    def nested():
        return run_with_budget(_allocated, 2**30, seconds=50, memory=8)  # asks for more than the outer cap

    with guard(100), pytest.raises(BudgetError, match="memory cap"):
        run_with_budget(nested, seconds=80, memory=0.25)


def test_a_sleeping_function_is_stopped_by_the_time_budget():
    with guard(60), pytest.raises(BudgetError, match=r"^_sleeper gave up after 0.5 s \(its time budget\)$"):
        run_with_budget(_sleeper, seconds=0.5)


def test_a_spinning_function_is_killed_too():
    def spin():
        while True:
            pass

    with guard(60), pytest.raises(BudgetError, match="gave up after 0.3 s"):
        run_with_budget(spin, seconds=0.3)


def test_results_and_exceptions_come_back():
    with guard(60):
        assert run_with_budget(sp.factor, x**2 - 1, seconds=30) == (x - 1) * (x + 1)
        assert run_with_budget(sorted, [3, 1, 2], seconds=30, memory=None) == [1, 2, 3]
        with pytest.raises(ZeroDivisionError):
            run_with_budget(lambda: 1 / 0, seconds=30)
        with pytest.raises(RuntimeError, match="could not be pickled"):
            run_with_budget(lambda: (lambda: 0), seconds=30)


def test_memory_error_without_a_cap_is_still_a_budget_error():
    def fails():
        raise MemoryError

    with guard(60), pytest.raises(BudgetError, match=r"fails gave up: ran out of memory$"):
        run_with_budget(fails, seconds=30, memory=None)


@pytest.mark.parametrize("seconds, memory", [(0, 1), (-1, 1), (float("nan"), 1), (1, 0), (1, -2),
                                             (1, float("inf")), (1, True)])
def test_bad_budgets_are_refused(seconds, memory):
    with pytest.raises(BudgetError):
        run_with_budget(len, [], seconds=seconds, memory=memory)


def test_the_default_cap_is_sane():
    assert 1 <= DEFAULT_MEMORY_GIB <= 8


# ---------------------------------------------------------------------------------------------
# critical points: each route and the classification under the budget, with honest notes


def _slow_route(real_route, slow, hog=False):
    def route(name, *args):
        if name in slow:
            return _hog() if hog else _sleeper()
        return real_route(name, *args)

    return route


def test_a_route_over_time_falls_back_and_says_so(monkeypatch):
    monkeypatch.setattr(critical, "_route", _slow_route(critical._route, {"polynomial"}))
    with guard(120):
        cps = sg.Problem(x**2 - 2 * x).critical_points(timeout=0.5)
    assert "polynomial route over budget" in cps.method
    assert any("polynomial route gave up after 0.5 s" in n for n in cps.notes)
    assert [(p.point[x], p.kind.value) for p in cps] in ([(1, "minimum")], [(sp.Float(1, 50), "minimum")]) \
        or abs(cps[0].point_float[x] - 1) < 1e-12  # the next route's answer (exact or certified numeric)
    assert len(cps) == 1 and cps[0].kind is sg.Kind.MINIMUM


@needs_cap
def test_a_route_out_of_memory_falls_back_and_says_so(monkeypatch):
    monkeypatch.setattr(critical, "_route", _slow_route(critical._route, {"polynomial"}, hog=True))
    with guard(120):
        cps = sg.Problem(x**2 - 2 * x).critical_points(timeout=30, memory=0.25)
    assert "polynomial route out of memory" in cps.method
    assert any("ran out of the 0.25 GiB memory cap" in n for n in cps.notes)
    assert len(cps) == 1 and abs(cps[0].point_float[x] - 1) < 1e-12


def test_every_route_over_time_is_an_honest_empty_answer(monkeypatch):
    monkeypatch.setattr(critical, "_route", _slow_route(critical._route, set(critical.ROUTES)))
    with guard(120):
        cps = sg.Problem(x**2 - 2 * x).critical_points(timeout=0.3)
    assert len(cps) == 0 and not cps.complete
    assert all(f"{r} route over budget" in cps.method for r in critical.ROUTES)


def test_classification_over_time_falls_back_to_numeric_kinds(monkeypatch):
    real = critical._analyze

    def slow_exact(*args, numeric_only=False):
        if not numeric_only:
            _sleeper()
        return real(*args, numeric_only=numeric_only)

    monkeypatch.setattr(critical, "_analyze", slow_exact)
    with guard(120):
        cps = sg.Problem(x**3 - 3 * x).critical_points(timeout=0.5)
    assert any("exact classification gave up after 0.5 s: kinds decided numerically" in n for n in cps.notes)
    assert [p.kind.value for p in cps] == ["maximum", "minimum"]  # f'' = 6x at x = -1, 1
    assert cps.complete


def test_classification_that_never_finishes_gives_up_honestly(monkeypatch):
    monkeypatch.setattr(critical, "_analyze", _sleeper)
    with guard(120):
        cps = sg.Problem(x**3 - 3 * x).critical_points(timeout=0.3)
    assert len(cps) == 0 and not cps.complete
    assert any("gave up after 0.3 s checking and classifying the 2 point(s)" in n for n in cps.notes)


def test_bad_memory_option_is_an_input_error():
    for bad in (0, -1, "2", float("nan")):
        with pytest.raises(InputError, match="memory"):
            sg.Problem(x**2).critical_points(memory=bad)


# ---------------------------------------------------------------------------------------------
# the three examples of issue 8: back promptly with the best honest answer


def test_degree_7_polynomial_is_exact_and_complete():
    import numpy as np

    with guard(120):
        cps = sg.Problem(x**7 - 3 * x**5 + x + 1).critical_points()
    # f' = 7x^6 - 15x^4 + 1; numpy's companion-matrix roots (independent of symgd) count its real roots
    real = sorted(r.real for r in np.roots([7, 0, -15, 0, 0, 0, 1]) if abs(r.imag) < 1e-9)
    assert len(cps) == len(real) == 4 and cps.complete and cps.exact and cps.method == "univariate"
    assert [round(p.point_float[x], 9) for p in cps] == [round(r, 9) for r in real]
    assert [p.kind.value for p in cps] == ["maximum", "minimum", "maximum", "minimum"]  # f' changes sign 4 times


def test_power_1000_is_solved_without_expanding():
    with guard(120):
        cps = sg.Problem((x + 1)**1000).critical_points()
    assert cps.complete and cps.exact and len(cps) == 1
    assert cps[0].point == {x: -1} and cps[0].value == 0 and cps[0].kind is sg.Kind.MINIMUM
    with guard(120):  # the same through several variables: one family, not a 501501-term expansion
        fam = sg.Problem((x + y + 1)**100).critical_points()
    assert fam.complete and len(fam) == 0 and len(fam.families) == 1


def test_sin_plus_parabola_is_certified_numerically_and_proved_global():
    import mpmath

    with guard(120):
        cps = sg.Problem(sp.sin(x) + x**2 / 10).critical_points()
    assert cps.complete and not cps.exact and "interval-newton" in cps.method
    assert any("interval proof" in n and "global" in n for n in cps.notes)
    assert len(cps) == 3
    for p in cps:
        v = mpmath.mpf(p.point_float[x])
        assert abs(mpmath.cos(v) + v / 5) < 1e-12  # f'(p) = 0
        assert p.kind.value == ("minimum" if -mpmath.sin(v) + mpmath.mpf(1) / 5 > 0 else "maximum")


def test_a_polynomial_too_big_for_the_budget_falls_back_to_the_numeric_route():
    with guard(120):
        cps = sg.Problem(x**1000 + x).critical_points(timeout=0.5)
    assert "polynomial route over budget" in cps.method and "interval-newton" in cps.method
    assert not cps.exact and len(cps) == 1 and cps[0].kind is sg.Kind.MINIMUM
    assert abs(1000 * cps[0].point_float[x]**999 + 1) < 1e-9  # f'(p) = 0: x^999 = -1/1000


@pytest.mark.parametrize("text, count, method", [("x^7 - 3x^5 + x + 1", 4, "univariate"),
                                                 ("(x+1)^100", 1, "linear"),
                                                 ("sin(x) + x^2/10", 3, "interval-newton")])
def test_the_examples_through_the_command_line(capsys, tmp_path, text, count, method):
    with guard(120):
        assert main(["analyze", text, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out, parse_constant=_no_constant)
    cps = doc["critical_points"]
    assert len(cps["points"]) == count and cps["complete"] and cps["method"] == method and "notes" not in doc
    with guard(120):
        assert main(["analyze", text]) == 0
    out = capsys.readouterr().out
    assert f"CriticalPoints: {count} point" in out and f"complete, {'numeric' if 'interval' in method else 'exact'}" in out
    with guard(120):
        assert main(["latex", text, "-o", str(tmp_path / "a.tex")]) == 0
    tex = (tmp_path / "a.tex").read_text()
    assert r"\textbf{Complete:} yes" in tex and f"Method:}} {method}" in tex and "gave up" not in tex


@pytest.mark.parametrize("expr", [x**7 - 3 * x**5 + x + 1, (x + 1)**1000, sp.sin(x) + x**2 / 10])
def test_the_examples_through_latex(expr):
    with guard(120):
        tex = sg.latex.document(sg.Problem(expr))
    assert r"\textbf{Complete:} yes" in tex and "gave up" not in tex and tex.endswith("\\end{document}\n")


def test_power_1000_through_the_command_line_is_an_honest_answer(capsys):
    # The parser refuses exponents above 100 on compound bases (symgd.parse's policy against expansions):
    # one line, exit 2; the API takes the SymPy expression and answers exactly (above).
    with guard(60):
        code = main(["analyze", "(x+1)^1000"])
    err = capsys.readouterr().err
    assert (code, err.count("\n")) == (2, 1) and "exponent" in err


def _no_constant(name):
    raise ValueError(f"the JSON contains {name}")


# ---------------------------------------------------------------------------------------------
# printing under the budget: analyze and latex replace a part that gave up by a sentence


def _slow_print(monkeypatch):
    monkeypatch.setattr("symgd.cli._sstr", _sleeper)


def test_analyze_json_gives_up_printing_with_null_and_notes(capsys, monkeypatch):
    _slow_print(monkeypatch)
    with guard(120):
        assert main(["analyze", "x^2 - 2x", "--json", "--timeout", "0.5"]) == 0
    doc = json.loads(capsys.readouterr().out, parse_constant=_no_constant)
    assert doc["expression"] is None and doc["gradient"] is None and doc["hessian"] is None
    assert doc["variables"] == ["x"] and doc["critical_points"]["points"][0]["point"] == {"x": "1"}
    assert doc["notes"] == [f"gave up printing the {what}: after 0.5 s (its time budget)"
                            for what in ("expression", "gradient", "hessian")]


def test_analyze_text_gives_up_printing_part_by_part(capsys, monkeypatch):
    _slow_print(monkeypatch)
    with guard(120):
        assert main(["analyze", "x^2 - 2x", "--timeout", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "f(x) = (gave up printing f: after 0.5 s (its time budget))" in out
    assert "(gave up printing the gradient" in out and "(gave up printing the Hessian" in out
    assert "minimum  x = 1" in out  # the critical points still print


@needs_cap
def test_analyze_memory_option_reaches_the_workers(capsys, monkeypatch):
    monkeypatch.setattr("symgd.cli._sstr", lambda e: _hog())
    with guard(120):
        assert main(["analyze", "x^2", "--json", "--memory", "0.25"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["gradient"] is None and "ran out of the 0.25 GiB memory cap" in doc["notes"][1]


def test_latex_gives_up_typesetting_a_section_and_says_so(monkeypatch, tmp_path):
    import symgd.latex

    monkeypatch.setattr(symgd.latex, "_derivation", _sleeper)
    with guard(120):
        tex = symgd.latex.document(sg.Problem(x**2 - 2 * x), timeout=0.5)
    assert "symgd gave up typesetting f and its derivatives: after 0.5 s (its time budget)." in tex
    assert r"\section*{Critical points}" in tex and tex.endswith("\\end{document}\n")
    with guard(120):
        assert main(["latex", "x^2 - 2x", "-o", str(tmp_path / "a.tex"), "--timeout", "0.5"]) == 0
    assert "gave up typesetting" in (tmp_path / "a.tex").read_text()


def test_latex_keeps_naming_roots_across_budgeted_sections():
    with guard(120):
        tex = sg.latex.document(sg.Problem(x**6 / 6 - x**2 / 2 - x), method="gd", x0=[1.0], hyper={"lr": 0.1})
    # f' = x^5 - x - 1 has one real root, a CRootOf: named r_1 in the critical-point worker, defined once
    assert tex.count("is the real root of") == 1 and r"$r_{1} \approx 1.167303978$" in tex and "r_{2}" not in tex


def test_fit_document_gives_up_typesetting_the_model_and_says_so(monkeypatch):
    import symgd.latex
    from symgd.fit import ModelProblem, fit

    mp = ModelProblem("w*x + b", "w,b", {"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 3.0, 5.0, 8.0]}, "y")
    runs = {"gd": fit(mp, "gd", x0=[0.0, 0.0], epochs=5, lr=0.05)}
    monkeypatch.setattr(symgd.latex, "_model_section", _sleeper)
    with guard(120):
        tex = symgd.latex.fit_document(mp, runs, timeout=0.5)
    assert "symgd gave up typesetting the model and its loss: after 0.5 s (its time budget)." in tex
    assert r"\section*{Training}" in tex and "(w, b) =" in tex and tex.endswith("\\end{document}\n")
