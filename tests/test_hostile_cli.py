"""The hostile-input suite through the command line (issue 8): every case of ``hostile_inputs.CORPUS`` gives
exit code 2 and exactly one line on stderr starting ``symgd: error:``, no output, no traceback, no file.

``symgd.cli.main`` runs in process, inside ``hostile_inputs.Guard``'s forked worker, so that a hang fails its
test instead of stalling the run (the guard's seconds are a hang check, not a speed check: the time per case
is measured by ``benchmarks/bench_hostile.py``). A few cases also run as ``python -m symgd`` subprocesses.
"""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symgd.cli import main
from hostile_inputs import CATEGORIES, CORPUS, Guard, Hung

GUARD = 60.0  # seconds before a CLI call counts as hung (a guard, not a timing assertion)


def cli(argv, cwd):
    """``main(argv)`` with stdout and stderr captured, in ``cwd``: ``(exit code, stdout, stderr)``."""
    os.chdir(cwd)  # a payload writing a relative path would write there
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def guard():
    g = Guard(GUARD)
    yield g
    g.close()


def assert_one_line_error(code, out, err, what=""):
    assert code == 2, (what, code, err)
    assert out == "", (what, out[:200])
    assert err.startswith("symgd: error:") and err.endswith("\n") and err.count("\n") == 1, (what, err[:300])
    assert "Traceback" not in err and len(err) < 1000, (what, err[:300])


def mark(text, tmp_path):
    return text.replace("MARKER", str(tmp_path / "MARKER"))


# ---------------------------------------------------------------------------------------------
# the corpus, in process


@pytest.mark.parametrize("category, text", CORPUS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CORPUS)])
def test_hostile_expression_is_one_line_and_exit_2(category, text, tmp_path, guard):
    code, out, err = guard(cli, ["analyze", mark(text, tmp_path), "--json"], str(tmp_path))
    assert_one_line_error(code, out, err, text[:80])
    assert list(tmp_path.iterdir()) == []  # no marker, nor any other file


def test_the_guard_is_a_real_guard():
    # a call that never returns is killed, reported, and the next call gets a fresh worker
    g = Guard(0.5)
    try:
        with pytest.raises(Hung):
            g(time.sleep, 60)
        assert g(abs, -3) == 3
        with pytest.raises(ZeroDivisionError):  # errors come back as themselves
            g(divmod, 1, 0)
    finally:
        g.close()


EXPRESSIONS = ["__import__('os').system('touch MARKER')", "x y", "9^9^9", "x²", "", "zoo", "exp(exp(exp(exp(e))))",
               "sigmoid(1+" * 10 + "1" + ")" * 10, "lambda*x", "\\input{MARKER}"]


def _argv(command, expr, tmp_path):
    out = str(tmp_path / "out")
    return {"analyze": ["analyze", expr],
            "run": ["run", expr, "--method", "gd", "--x0", "1", "--json"],
            "compare": ["compare", expr, "--methods", "gd,adam", "--x0", "1", "-o", out + ".png"],
            "latex": ["latex", expr, "-o", out + ".tex", "--pdf"],
            "plot": ["plot", expr, "-o", out + ".png"],
            "fit": ["fit", expr, "--data", str(tmp_path / "data.csv"), "--target", "y", "--params", "a"]}[command]


@pytest.mark.parametrize("command", ["analyze", "run", "compare", "latex", "plot", "fit"])
def test_every_command_refuses_hostile_expressions_without_writing(command, tmp_path, guard):
    (tmp_path / "data.csv").write_text("x,y\n0,1\n1,3\n2,5\n")
    for expr in EXPRESSIONS:
        code, out, err = guard(cli, _argv(command, mark(expr, tmp_path), tmp_path), str(tmp_path))
        assert_one_line_error(code, out, err, (command, expr[:40]))
        assert [p.name for p in tmp_path.iterdir()] == ["data.csv"], (command, expr)


HOSTILE_OPTIONS = [
    ["analyze", "x^2", "--vars", "x);import os;("],
    ["analyze", "x^2", "--vars", "__class__"],
    ["analyze", "x^2", "--vars", "x,lambda"],
    ["analyze", "x^2", "--vars", "x,print"],
    ["analyze", "x^2", "--vars", "sin"],
    ["analyze", "x^2", "--vars", "ｘ"],
    ["analyze", "x^2", "--vars", "_Dummy"],
    ["analyze", "x^2", "--vars", "x\\input{MARKER}"],
    ["analyze", "x^2", "--box", "x=__import__('os').system('touch MARKER'):1"],
    ["analyze", "x^2", "--box", "x=0:1e999"],
    ["analyze", "x^2", "--box", "x=-oo:oo"],
    ["analyze", "x^2", "--box", "x=0:9^9^9"],
    ["analyze", "x^2", "--box", "x=nan:1"],
    ["analyze", "x^2", "--box", "x=0:exp(exp(exp(exp(e))))"],
    ["analyze", "x^2", "--box", "x=0:1;touch MARKER"],
    ["run", "x^2", "--method", "__import__('os').system('touch MARKER')", "--x0", "1"],
    ["run", "x^2", "--method", "gd;touch MARKER", "--x0", "1"],
    ["run", "x^2", "--method", "../../etc/passwd", "--x0", "1"],
    ["run", "x^2", "--method", "gd", "--x0", "__import__('os')"],
    ["run", "x^2", "--method", "gd", "--x0", "1e999"],
    ["run", "x^2", "--method", "gd", "--x0", "inf"],
    ["run", "x^2", "--method", "gd", "--x0", "0x1F"],
    ["run", "x^2", "--method", "gd", "--x0", "1", "--param", "lr=__import__('os').system('touch MARKER')"],
    ["run", "x^2", "--method", "gd", "--x0", "1", "--param", "__class__=1"],
    ["run", "x^2", "--method", "gd", "--x0", "1", "--param", "x=1;import os"],
    ["fit", "a*x", "--data", "DATA", "--target", "y", "--params", "a", "--loss", "__import__('os')"],
    ["fit", "a*x", "--data", "DATA", "--target", "y", "--params", "a", "--loss", "(yhat - y)²"],
    ["fit", "a*x", "--data", "DATA", "--target", "y", "--params", "a,__class__"],
    ["fit", "a*x", "--data", "DATA", "--target", "__import__('os')", "--params", "a"],
]


@pytest.mark.parametrize("argv", HOSTILE_OPTIONS, ids=[" ".join(a[2:])[:40] for a in HOSTILE_OPTIONS])
def test_hostile_option_values_are_one_line_and_exit_2(argv, tmp_path, guard):
    (tmp_path / "data.csv").write_text("x,y\n0,1\n1,3\n2,5\n")
    argv = [a.replace("DATA", str(tmp_path / "data.csv")) for a in argv]
    code, out, err = guard(cli, [mark(a, tmp_path) for a in argv], str(tmp_path))
    assert_one_line_error(code, out, err, argv)
    assert [p.name for p in tmp_path.iterdir()] == ["data.csv"]


# ---------------------------------------------------------------------------------------------
# TeX through names: the document the latex command writes, and (when installed) what pdflatex makes of it

_DANGEROUS = {"input", "write", "catcode", "def", "edef", "gdef", "let", "csname", "immediate", "openout", "openin",
              "read", "include", "special", "jobname", "expandafter", "newcommand"}


def control_words(tex: str) -> list:
    r"""The control words of ``tex`` as TeX reads it: ``\\csname`` is the control symbol ``\\``, then text."""
    return [m[1:] for m in re.findall(r"\\(?:[A-Za-z@]+|.)", tex, flags=re.S) if re.fullmatch(r"[A-Za-z@]+", m[1:])]


def test_latex_command_with_tex_like_names_writes_an_inert_document(tmp_path, guard):
    expr = "write18^2 + catcode^2 + def_^2 + input_ - immediate + xhat*csname + x__1__2^2 + openout"
    tex = tmp_path / "names.tex"
    argv = ["latex", expr, "-o", str(tex)] + (["--pdf"] if shutil.which("pdflatex") else [])
    code, out, err = guard(cli, argv, str(tmp_path))
    assert code == 0, err
    doc = tex.read_text()
    assert not set(control_words(doc)) & _DANGEROUS and "^^" not in doc
    assert "write_{18}" in doc and "\\hat{x}" in doc  # the names are there, as SymPy renders identifiers
    if shutil.which("pdflatex"):
        assert (tmp_path / "names.pdf").read_bytes().startswith(b"%PDF")
    assert {p.suffix for p in tmp_path.iterdir()} <= {".tex", ".pdf"}  # pdflatex's aux and log are cleaned up


# ---------------------------------------------------------------------------------------------
# a few cases as a user runs them: a separate process, with a timeout as the hang guard

SUBPROCESS_CASES = [
    ["analyze", "__import__('os').system('touch MARKER')"],
    ["analyze", "9^9^9", "--json"],
    ["analyze", "x²"],
    ["analyze", "", "--json"],
    ["analyze", "(" * 100_000],  # near the kernel's 128 KiB limit for one argument
    ["run", "x y", "--method", "gd", "--x0", "1"],
]


@pytest.mark.parametrize("argv", SUBPROCESS_CASES, ids=["injection", "huge", "unicode", "empty", "100k", "run"])
def test_python_dash_m_symgd_refuses_in_one_line(argv, tmp_path):
    argv = [mark(a, tmp_path) for a in argv]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-m", "symgd", *argv], capture_output=True, cwd=tmp_path, env=env,
                          timeout=GUARD * 2)
    assert_one_line_error(proc.returncode, proc.stdout.decode(), proc.stderr.decode("utf-8", "replace"), argv[:2])
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# fuzzer over random bytes, as a shell would pass them: exit 0 with valid JSON, or exit 2 with one line

PIECES = [b"x", b"y", b"x1", b"2", b"0.5", b"e", b"pi", b"^", b"**", b"*", b"/", b"+", b"-", b"(", b")", b",",
          b"sin", b"exp", b"log", b" ", b"\xff", b"\xc3\xa9", b"\xe2\x88\x92", b"\x00", b"'", b"__", b"9^9^9"]


def _no_nan(token):
    raise ValueError(f"{token} in the JSON")


def analyze_bytes(raw: bytes, cwd):
    text = os.fsdecode(raw)  # undecodable bytes become lone surrogates, as in sys.argv
    if text == "-h" or text.startswith("--"):
        # argparse reads these as options whatever follows ("--" ends the options, "--h" is --help): a
        # script passes such text after "--"; the CLI itself lets "-x^2" through as an expression
        return cli(["analyze", "--json", "--", text], cwd)
    return cli(["analyze", text, "--json"], cwd)


@given(st.one_of(st.binary(max_size=48), st.lists(st.sampled_from(PIECES), max_size=12).map(b"".join)))
def test_random_bytes_through_the_cli(guard, tmp_path_factory, raw):
    cwd = tmp_path_factory.getbasetemp()
    code, out, err = guard(analyze_bytes, raw, str(cwd))
    if code == 0:
        doc = json.loads(out, parse_constant=_no_nan)  # one JSON document, never NaN or Infinity
        assert isinstance(doc, dict) and "gradient" in doc and err == ""
    else:
        assert_one_line_error(code, out, err, raw)


def test_categories_reach_the_cli():
    # the in-process test above runs every category, 10 MB inputs included (argv carries them in process)
    assert sum(len(texts) for texts in CATEGORIES.values()) == len(CORPUS) >= 300
