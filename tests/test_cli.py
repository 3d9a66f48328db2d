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
