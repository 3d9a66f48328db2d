"""The command line as a package (``symgd/cli/``): its layout, the shared option lists, a ``--`` before the
expression, and the memory estimate that refuses a huge ``--path`` before any work."""

import importlib.metadata
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import symgd.cli
from symgd.cli import build_parser, main, path_bytes

PKG = pathlib.Path(symgd.cli.__file__).parent


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, out, err):
    return code == 2 and out == "" and err.startswith("symgd: error:") and err.count("\n") == 1


# ---------------------------------------------------------------------------------------------
# the package


def test_cli_is_a_package_of_small_modules():
    files = sorted(p.name for p in PKG.glob("*.py"))
    assert "__init__.py" in files and len(files) >= 4
    assert not (PKG.parent / "cli.py").exists()  # a module next to the package would be shadowed
    for path in PKG.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 300, path.name


def test_the_console_script_still_points_at_main():
    scripts = {e.name: e for e in importlib.metadata.entry_points(group="console_scripts")}
    assert scripts["symgd"].value == "symgd.cli:main" and scripts["symgd"].load() is main


def test_patching_sstr_on_the_package_reaches_the_printers(capsys, monkeypatch):
    # tests/test_budget.py slows printing down through this one name
    monkeypatch.setattr("symgd.cli._sstr", lambda expr: "PRINTED")
    code, out, _ = run_cli(capsys, "analyze", "x^2", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["expression"] == "PRINTED" and doc["gradient"] == ["PRINTED"]
    code, out, _ = run_cli(capsys, "analyze", "x^2")
    assert code == 0 and "f(x) = PRINTED" in out and "df/dx = PRINTED" in out


def _options(parser, command):
    return parser.commands[command].option_names


def test_latex_and_plot_share_the_optimizer_options_of_run():
    parser = build_parser()
    shared = {"--lr", "--param", "--x0", "--steps", "--tol"}
    for command in ("run", "compare", "latex", "plot"):
        assert shared <= _options(parser, command), command
    assert {"-o", "--out", "--force"} <= _options(parser, "latex") & _options(parser, "plot")
    assert {"--box", "--timeout", "--memory"} <= _options(parser, "analyze") & _options(parser, "latex")
    latex = parser.parse_args(["latex", "x^2", "-o", "a.tex"])
    plot = parser.parse_args(["plot", "x^2", "-o", "a.png"])
    assert (latex.steps, latex.tol, plot.steps, plot.tol) == (5, None, 100, 1e-8)  # each keeps its defaults


@pytest.mark.parametrize("command, says", [("latex", "the start for --method"), ("plot", "a start (repeatable)"),
                                           ("run", "write --x0=-1,2 for a leading minus")])
def test_each_command_keeps_its_own_help_words(capsys, command, says):
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == 0 and says in " ".join(out.split())


# ---------------------------------------------------------------------------------------------
# "--" before the expression


def test_dash_dash_then_the_expression_works_like_the_expression_alone(capsys):
    argv = ["--method", "gd", "--lr", "0.1", "--x0", "1", "--steps", "3", "--json"]
    with_dashes = run_cli(capsys, "run", "--", "x^2", *argv)
    without = run_cli(capsys, "run", "x^2", *argv)
    assert with_dashes[0] == 0 and with_dashes == without


@pytest.mark.parametrize("expr", ["-x^2 + 2x", "--x^2 + 2x", "-h + h^2"])
def test_dash_dash_passes_an_expression_that_starts_with_a_minus(capsys, expr):
    # "--x" is -(-x) and "-h" the variable h negated: after "--" neither is an option
    code, out, err = run_cli(capsys, "analyze", "--", expr, "--json")
    assert code == 0, err
    assert json.loads(out)["critical_points"]["points"][0]["kind"] in ("maximum", "minimum")


def test_dash_dash_with_a_negative_start_and_options_after_it(capsys):
    # x_1 = 1 - 0.5 * (-2 * 1) * ... : -x^2 from 1 with lr 0.25: x_t = 1.5^t, three updates -> 3.375
    code, out, err = run_cli(capsys, "run", "--", "-x^2", "--method", "gd", "--lr", "0.25", "--x0", "1",
                             "--steps", "3", "--json")
    assert code == 0, err
    assert json.loads(out)["x"] == [[3.375]]


@pytest.mark.parametrize("argv", [["analyze", "--"], ["run", "--"], ["fit", "--"],
                                  ["run", "--", "--method", "gd", "--x0", "1"],
                                  ["analyze", "--", "--json"], ["latex", "--", "-o", "out.tex"]])
def test_a_lone_dash_dash_is_the_usual_expression_required_error(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert one_line_error(code, out, err), err
    assert "the following arguments are required: " in err and ("expr" in err or "model" in err)


def test_dash_dash_later_in_the_line_keeps_its_argparse_meaning(capsys):
    code, out, _ = run_cli(capsys, "analyze", "--json", "--", "-x^2")
    assert code == 0 and json.loads(out)["expression"] == "-x**2"
    code, out, err = run_cli(capsys, "analyze", "x^2", "--", "--json")  # after "--" nothing is an option
    assert one_line_error(code, out, err) and "unrecognized arguments: --json" in err


def test_python_dash_m_symgd_with_dash_dash():
    proc = subprocess.run([sys.executable, "-m", "symgd", "analyze", "--", "-x^2", "--json"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["gradient"] == ["-2*x"]


# ---------------------------------------------------------------------------------------------
# a huge --path is refused before it is allocated


def test_path_bytes_counts_iterates_starts_values_and_methods():
    one = path_bytes(99, 1, 1)
    assert one == 100 * (2 * 16 + 512)  # 100 iterates, x and f at 16 bytes, 512 bytes of arrays per step
    assert path_bytes(99, 10, 3) == 100 * (10 * 4 * 16 + 512)
    assert path_bytes(99, 10, 3, runs=4) == 4 * path_bytes(99, 10, 3)
    assert path_bytes(99, 1, 1, json=True) > one


def test_path_bytes_is_not_below_the_arrays_a_run_records():
    import symgd as sg

    run = sg.minimize(sg.Problem("x^2 + y^2"), "gd", np.ones((7, 2)), steps=300, lr=1e-4, tol=0, path=True,
                      backend="numpy")
    assert run.path.shape == (301, 7, 2)
    assert run.path.nbytes + run.losses.nbytes <= path_bytes(300, 7, 2) / 2  # the stack copy is the other half


def _never(*args, **kwargs):
    raise AssertionError("the optimizer ran: the estimate should have refused first")


@pytest.mark.parametrize("argv", [
    ["run", "x^2 + y^2", "--method", "gd", "--x0", "1,1", "--steps", "100000000", "--path"],
    ["run", "x^2", "--method", "gd", "--x0", "1", "--x0", "2", "--steps", "10000000", "--path", "--json"],
    ["compare", "x^2", "--methods", "gd,adam", "--x0", "1", "--steps", "100000000", "--path"],
    ["compare", "x^2", "--methods", "gd,adam", "--x0", "1", "--steps", "100000000", "-o", "OUT.png"],
    ["plot", "x^2", "-o", "OUT.png", "--methods", "gd", "--x0", "1", "--steps", "100000000"],
    ["latex", "x^2", "-o", "OUT.tex", "--method", "gd", "--x0", "1", "--steps", "100000000"],
])
def test_a_path_over_the_cap_is_refused_before_running(capsys, monkeypatch, tmp_path, argv):
    import importlib

    runner, latex = importlib.import_module("symgd.minimize"), importlib.import_module("symgd.latex")
    monkeypatch.setattr(runner, "minimize", _never)
    monkeypatch.setattr(runner, "compare", _never)
    monkeypatch.setattr(latex, "minimize", _never)
    argv = [a.replace("OUT", str(tmp_path / "out")) for a in argv]
    code, out, err = run_cli(capsys, *argv)
    assert one_line_error(code, out, err), err
    assert "GiB, over the 2 GiB cap" in err and "lower --steps" in err and "--memory (0: no cap)" in err
    assert list(tmp_path.iterdir()) == []


def test_the_message_says_how_much_and_why(capsys):
    code, _, err = run_cli(capsys, "run", "x^2 + y^2", "--method", "gd", "--x0", "1,1", "--steps", "100000000",
                           "--path")
    # 100000001 iterates x (1 start x 3 values x 16 bytes + 512) = 5.6e10 bytes = 52.2 GiB
    assert code == 2 and "--path records every iterate: 100000001 x 1 start(s) x 3 values would take about " \
        "52.2 GiB" in err


def test_memory_sets_the_cap_and_zero_lifts_it(capsys):
    # 1001 iterates x (2 x 16 + 512) bytes = 545 kB: over a 0.0001 GiB (107 kB) cap, under the default 2 GiB
    argv = ["run", "x^2", "--method", "gd", "--lr", "1e-6", "--x0", "1", "--steps", "1000", "--tol", "0",
            "--path", "--json", "--backend", "numpy"]
    code, out, err = run_cli(capsys, *argv, "--memory", "0.0001")
    assert one_line_error(code, out, err) and "over the 0.0001 GiB cap" in err
    for extra in ([], ["--memory", "0"]):
        code, out, err = run_cli(capsys, *argv, *extra)
        assert code == 0, err
        assert len(json.loads(out)["path"][0]) == 1001


def test_no_path_no_estimate(capsys):
    # the same huge --steps without --path records nothing: gd on x^2 converges (x_t = 0.8^t) and stops early
    code, out, err = run_cli(capsys, "run", "x^2", "--method", "gd", "--lr", "0.1", "--x0", "1", "--steps",
                             "100000000", "--backend", "numpy", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == ["converged"]


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_a_bad_memory_is_refused_on_run_too(capsys, value):
    code, out, err = run_cli(capsys, "run", "x^2", "--method", "gd", "--x0", "1", "--memory", value)
    assert one_line_error(code, out, err) and "--memory must be a number of GiB >= 0" in err


def test_a_closed_pipe_ends_quietly():
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-m", "symgd", "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()  # as `symgd demo | head -1` does
    with p.stderr:
        err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 141
    assert "error" not in err.lower(), err
