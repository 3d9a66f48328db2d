"""The command line, in process: output shapes, one-line errors with exit code 2, JSON per the contract."""

import json
import subprocess
import sys

import pytest

from symgd.cli import dump_json, main, parse_param


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_prints_the_derivation(capsys):
    code, out, err = run_cli(capsys, "analyze", "x^2 - 10x + 1")
    assert code == 0 and err == ""
    assert "f(x) = x^2 - 10*x + 1" in out and "df/dx = 2*x - 10" in out


def test_analyze_json_matches_the_contract_shape(capsys):
    code, out, _ = run_cli(capsys, "analyze", "x1^2 + x1 - 4*x1*x2 + x1^3*x2", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["expression"] == "x1**3*x2 + x1**2 - 4*x1*x2 + x1"
    assert doc["variables"] == ["x1", "x2"]
    assert doc["gradient"] == ["3*x1**2*x2 + 2*x1 - 4*x2 + 1", "x1**3 - 4*x1"]
    assert doc["hessian"] == [["6*x1*x2 + 2", "3*x1**2 - 4"], ["3*x1**2 - 4", "0"]]


def test_vars_fixes_the_order(capsys):
    code, out, _ = run_cli(capsys, "analyze", "x*y^2", "--vars", "y,x", "--json")
    assert code == 0 and json.loads(out)["variables"] == ["y", "x"]


@pytest.mark.parametrize("argv", [
    ["analyze", "x^^2"],
    ["analyze", "__import__('os')"],
    ["analyze", ""],
    ["analyze", "x^2", "--vars", "x,x"],
    ["analyze", "x^2", "--box", "x=5:-5"],
    ["analyze", "x^2", "--box", "z=0:1"],
    ["frobnicate", "x"],
    ["analyze"],
    ["analyze", "x^2", "--no-such-flag"],
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("symgd: error:") and err.count("\n") == 1


def test_help_shows_examples(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "examples:" in out and "symgd analyze" in out


def test_json_never_writes_nan():
    text = dump_json({"a": float("nan"), "b": [float("inf"), 1.5], "c": {"d": -float("inf")}})
    assert json.loads(text) == {"a": None, "b": [None, 1.5], "c": {"d": None}}


def test_param_values():
    assert parse_param("betas=0.9,0.999") == ("betas", (0.9, 0.999))
    assert parse_param("amsgrad=true") == ("amsgrad", True)
    assert parse_param("form=slide") == ("form", "slide")
    assert parse_param("k=5") == ("k", 5) and isinstance(parse_param("k=5")[1], int)
    assert parse_param("eps=1e-8") == ("eps", 1e-8)


def test_python_dash_m_works():
    proc = subprocess.run([sys.executable, "-m", "symgd", "analyze", "x^2", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["gradient"] == ["2*x"]


def test_run_json_matches_the_contract(capsys):
    # Slide L6 (../shared/SLIDES.md): Adam lr 0.1 on x^2 from 0.5, 30 updates -> 0.02099521.
    code, out, _ = run_cli(capsys, "run", "x^2", "--method", "adam", "--lr", "0.1", "--x0", "0.5",
                           "--steps", "30", "--param", "betas=0.9,0.999", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["method"] == "adam" and doc["hyper"]["lr"] == 0.1 and doc["hyper"]["betas"] == [0.9, 0.999]
    assert doc["x0"] == [[0.5]] and doc["nit"] == [30] and doc["status"] == ["max_steps"]
    assert round(doc["x"][0][0], 8) == 0.02099521
    assert doc["path"] is None


def test_run_negative_start_and_batch(capsys):
    code, out, _ = run_cli(capsys, "run", "(x1-5)^2 + x2^2", "--method", "gd", "--lr", "0.1",
                           "--x0", "-9,6", "--x0", "0,0", "--steps", "1", "--path", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [round(v, 12) for v in doc["x"][0]] == [-6.2, 4.8]  # slide C4
    assert len(doc["path"]) == 2 and len(doc["x"]) == 2


def test_diverged_run_is_a_result_with_null_not_nan(capsys):
    code, out, _ = run_cli(capsys, "run", "x^2", "--method", "gd", "--lr", "5", "--x0", "1",
                           "--steps", "500", "--json")
    assert code == 0 and "NaN" not in out and "Infinity" not in out
    assert json.loads(out)["status"] == ["diverged"]


@pytest.mark.parametrize("argv", [
    ["run", "x^2", "--method", "adma", "--x0", "1"],
    ["run", "x^2", "--method", "adam", "--x0", "1,2"],
    ["run", "x^2", "--method", "adam", "--x0", "1", "--steps", "0"],
    ["run", "x^2", "--method", "adam", "--x0", "1", "--lr", "-1"],
    ["run", "x^2", "--method", "adam", "--x0", "1", "--lr", "0"],
    ["run", "x^2", "--method", "adam", "--x0", "one"],
    ["run", "x^2", "--method", "adam", "--x0", "1", "--param", "beta=0.9"],
    ["run", "x^2", "--method", "adam", "--x0", "1", "--param", "betas=2,0.999"],
    ["run", "x^2", "--method", "adam", "--x0", "nan"],
    ["compare", "x^2", "--methods", "gd,nope", "--x0", "1"],
])
def test_bad_run_options_are_one_line_exit_2(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2, err
    assert err.startswith("symgd: error:") and err.count("\n") == 1


def test_unknown_method_suggests(capsys):
    _, _, err = run_cli(capsys, "run", "x^2", "--method", "adma", "--x0", "1")
    assert "did you mean" in err and "'adam'" in err


def test_compare_json(capsys):
    code, out, _ = run_cli(capsys, "compare", "0.1*x1^2 + x2^2", "--methods", "gd,momentum,adam",
                           "--lr", "0.1", "--x0=-8,5", "--steps", "20", "--json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["gd", "momentum", "adam"] and all(d["nit"] == [20] for d in doc.values())


def _g3_csv(path):
    # Seed 001's data (G3): x ~ U(-3, 3), y = exp(-1.2 x) + 3.4 x + 5.6 + N(0, 0.01^2), on a fixed seed.
    import numpy as np

    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, 100)
    y = np.exp(-1.2 * x) + 3.4 * x + 5.6 + rng.normal(0, 0.01, 100)
    path.write_text("x,y\n" + "\n".join(f"{a!r},{b!r}" for a, b in zip(x.tolist(), y.tolist())) + "\n")
    return str(path)


def test_fit_mini_batch_moves_toward_the_true_parameters(capsys, tmp_path):
    data = _g3_csv(tmp_path / "g3.csv")
    code, out, err = run_cli(capsys, "fit", "exp(-a*x) + b*x + c", "--data", data, "--target", "y",
                             "--params", "a,b,c", "--x0", "1,3,5", "--lr", "0.001", "--batch-size", "10",
                             "--epochs", "100", "--json")
    assert code == 0, err
    doc = json.loads(out)
    a, b, c = doc["x"][0]
    assert doc["losses"][0][-1] < doc["losses"][0][0] / 10
    assert abs(a - 1.2) < 0.05 and abs(b - 3.4) < 0.1 and abs(c - 5.6) < 0.2


@pytest.mark.parametrize("extra", [["--target", "z"], ["--target", "y", "--params", "a,b,q"],
                                   ["--target", "y", "--batch-size", "0"]])
def test_fit_bad_options_exit_2(capsys, tmp_path, extra):
    data = _g3_csv(tmp_path / "g3.csv")
    argv = ["fit", "exp(-a*x) + b*x + c", "--data", data, "--params", "a,b,c", *extra]
    if "--params" in extra:
        argv = ["fit", "exp(-a*x) + b*x + c", "--data", data, *extra]
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and err.startswith("symgd: error:") and err.count("\n") == 1


def test_fit_missing_file_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "fit", "a*x", "--data", str(tmp_path / "none.csv"), "--target", "y",
                           "--params", "a")
    assert code == 2 and err.count("\n") == 1


def test_every_hostile_input_is_one_line_and_exit_2_on_the_command_line(capsys, tmp_path):
    # The parser's corpus (tests/hostile_inputs.py), through `symgd analyze`: exit 2, one line, no marker file.
    from hostile_inputs import CORPUS

    marker = tmp_path / "MARKER"
    for _, text in CORPUS:
        if len(text) > 100_000:
            continue  # the 10 MB inputs are covered by the parser's own tests; argv need not carry them
        code, out, err = run_cli(capsys, "analyze", text.replace("MARKER", str(marker)), "--json")
        assert code == 2, text
        assert out == "" and err.startswith("symgd: error:") and err.count("\n") == 1, (text, err)
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------
# robustness: every bad option is one line on stderr and exit 2 (issue 8)


def _strict(text):
    def refuse(name):
        raise ValueError(f"the JSON contains {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("argv, says", [
    (["--steps", "-5"], "--steps must be at least 1"),
    (["--steps=-5"], "--steps must be at least 1"),
    (["--steps", "0"], "--steps must be at least 1"),
    (["--steps", "1e3"], "invalid int value"),
    (["--lr", "nan"], "lr must be positive and finite"),
    (["--lr", "inf"], "lr must be positive and finite"),
    (["--lr", "-0.1"], "lr must be positive"),
    (["--param", "lr=abc"], "lr must be a number or a schedule"),
    (["--param", "amsgrad=maybe"], "amsgrad must be True or False"),
    (["--param", "eps=-1"], "eps must be in"),
    (["--param", "=3"], "--param takes NAME=VALUE"),
    (["--param", "lr"], "--param takes NAME=VALUE"),
    (["--param", "betas=nan,0.9"], "must be finite"),
    (["--param", "betas=0.9;0.99"], "cannot read"),
    (["--param", "beta=0.9"], "did you mean 'betas'?"),
    (["--param", "lr=0.2"], "the learning rate is given twice"),
    (["--tol", "-1"], "--tol must be >= 0"),
    (["--tol", "nan"], "--tol must be >= 0"),
    (["--x0", "1,2"], "has 2 coordinate(s), the expression has 1 variable(s)"),
    (["--x0", "1,"], "--x0 takes comma-separated numbers"),
    (["--x0", "1e999"], "--x0 must be finite"),
    (["--backend", "numbaa"], "--backend must be one of auto, numpy, python, numba, got 'numbaa'; did you mean 'numba'?"),
    (["--backend", "gpu"], "--backend must be one of"),
    (["--dtype", "float16"], "did you mean 'float64'?"),
    (["--dtype", "double"], "--dtype must be one of float64, float32"),
    (["--frobnicate"], "unrecognized arguments"),
])
def test_bad_run_options_name_the_problem(capsys, argv, says):
    base = ["run", "x^2", "--method", "adam", "--lr", "0.1", "--x0", "1"]
    if "--x0" in argv:
        base = base[:-2]
    if "--lr" in argv or any(a.startswith("lr=") and a != "lr=0.2" for a in argv):
        base = [a for a in base if a not in ("--lr", "0.1")]
    code, out, err = run_cli(capsys, *base, *argv)
    assert code == 2 and out == ""
    assert err.startswith("symgd: error:") and err.count("\n") == 1 and says in err, err


def test_compare_takes_the_same_options_and_suggests(capsys):
    code, _, err = run_cli(capsys, "compare", "x^2", "--methods", "gd,adma", "--x0", "1", "--lr", "0.1")
    assert code == 2 and "did you mean" in err and "'adam'" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "compare", "x^2", "--methods", "adam,nadam", "--x0", "1", "--lr", "0.1",
                           "--param", "beta=0.9")
    assert code == 2 and "no method in the comparison takes 'beta'; did you mean 'betas'?" in err
    code, _, err = run_cli(capsys, "compare", "x^2", "--methods", "gd", "--x0", "1", "--backend", "nump")
    assert code == 2 and "did you mean 'numpy'?" in err


def test_backend_and_dtype_reach_the_runner(capsys):
    code, out, _ = run_cli(capsys, "run", "x^2", "--method", "gd", "--lr", "0.1", "--x0", "1", "--steps", "3",
                           "--backend", "numpy", "--dtype", "float64")
    assert code == 0 and "\nbackend: numpy (" in out
    code, out, _ = run_cli(capsys, "run", "x^2", "--method", "gd", "--lr", "0.1", "--x0", "1", "--steps", "3",
                           "--json")
    doc = _strict(out)
    assert doc["backend"] in ("numpy", "python", "numba") and isinstance(doc["backend_reason"], str)
    code, out, _ = run_cli(capsys, "compare", "x^2", "--methods", "gd,adam", "--lr", "0.1", "--x0", "1",
                           "--steps", "3", "--backend", "auto")
    assert code == 0 and "backend: " in out.splitlines()[-1]


def test_a_backend_that_cannot_run_this_job_is_exit_2_not_a_traceback(capsys, monkeypatch):
    # Until (and wherever) a compiled backend cannot run, minimize raises InputError: exit 2, one line.
    import symgd.fused
    from symgd.errors import InputError

    def refuse(*args, **kwargs):
        raise InputError("the numba backend is not available here (pip install symgd[fast])")

    monkeypatch.setattr(symgd.fused, "choose", refuse)
    code, out, err = run_cli(capsys, "run", "x^2", "--method", "gd", "--lr", "0.1", "--x0", "1",
                             "--backend", "numba")
    assert code == 2 and out == "" and err == "symgd: error: the numba backend is not available here " \
        "(pip install symgd[fast])\n"


@pytest.mark.parametrize("argv, says", [
    (["latex", "x^2", "-o", "OUT", "--x0", "1"], "give --method too"),
    (["latex", "x^2", "-o", "OUT", "--lr", "0.1"], "give --method too"),
    (["latex", "x^2", "-o", "OUT", "--method", "gd"], "--method needs a start"),
    (["latex", "x^2", "-o", "OUT", "--method", "gd", "--x0", "1", "--x0", "2"], "follows one start"),
    (["latex", "x^2", "-o", "OUT", "--method", "gd", "--x0", "1", "--steps", "0"], "--steps must be at least 1"),
    (["latex", "x^2", "-o", "OUT", "--timeout", "0"], "timeout must be a positive number"),
    (["latex", "x^2", "-o", "OUT", "--memory", "-1"], "--memory must be a number of GiB >= 0"),
    (["plot", "x^2", "-o", "OUT", "--x0", "1"], "give --methods too"),
    (["plot", "x^2", "-o", "OUT", "--methods", "gd"], "--methods needs at least one --x0"),
    (["analyze", "x^2", "--timeout", "-1"], "timeout must be a positive number"),
    (["analyze", "x^2", "--timeout", "inf"], "timeout must be a positive number"),
    (["analyze", "x^2", "--memory", "nan"], "--memory must be a number of GiB >= 0"),
    (["fit", "a*x", "--data", "OUT", "--target", "y", "--params", "a", "--lr", "1", "--param", "lr=2"],
     "given twice"),
])
def test_options_that_do_not_fit_together(capsys, tmp_path, argv, says):
    argv = [str(tmp_path / "out.tex") if a == "OUT" else a for a in argv]
    if argv[0] == "plot":
        argv = [str(tmp_path / "out.png") if a.endswith("out.tex") else a for a in argv]
    if argv[0] == "fit":
        (tmp_path / "out.tex").write_text("x,y\n1,2\n2,4\n")
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == "" and err.startswith("symgd: error:") and err.count("\n") == 1 and says in err, err
    assert not (tmp_path / "out.png").exists()


def test_an_expression_starting_with_a_minus_is_not_an_option(capsys):
    code, out, err = run_cli(capsys, "analyze", "-x^2 + 2x", "--json")
    assert code == 0, err
    assert _strict(out)["critical_points"]["points"][0]["kind"] == "maximum"
    code, out, err = run_cli(capsys, "run", "-exp(-x^2)", "--method", "gd", "--lr", "0.5", "--x0", "0.5",
                             "--steps", "5", "--json")
    # x_t = x(1 - exp(-x^2)): 0.5 -> 0.111 -> 0.00136 -> 2.5e-9, where |f'| = 5e-9 <= tol = 1e-8
    assert code == 0 and _strict(out)["status"] == ["converged"] and _strict(out)["nit"] == [3]
    code, out, _ = run_cli(capsys, "analyze", "-h")
    assert code == 0 and "usage: symgd analyze" in out


def test_memory_zero_means_no_cap(capsys):
    code, out, _ = run_cli(capsys, "analyze", "x^2 - 2x", "--memory", "0", "--json")
    assert code == 0 and _strict(out)["critical_points"]["points"][0]["point"] == {"x": "1"}
