"""symgd.latex: worked-example documents that compile, typeset exactly, match the runner, and resist injection."""

import os
import re
import shutil

import numpy as np
import pytest
import sympy as sp

import symgd as sg
from symgd import latex
from symgd.critical import CriticalPoint, CriticalPoints, Family, Kind
from symgd.errors import InputError
from symgd.optimizers import REGISTRY, get

x = sp.Symbol("x", real=True)
x1, x2 = sp.symbols("x1 x2", real=True)
C4 = "(x1-5)^2 + x2^2"


def need_pdflatex():
    """Skip only when no TeX engine is installed and SYMGD_REQUIRE_LATEX is unset; with it set, fail."""
    if shutil.which("pdflatex") is None:
        if os.environ.get("SYMGD_REQUIRE_LATEX"):
            pytest.fail("SYMGD_REQUIRE_LATEX is set but pdflatex is not installed")
        pytest.skip("pdflatex is not installed (set SYMGD_REQUIRE_LATEX=1 to make this a failure)")


def compiles(tmp_path, text, name="doc"):
    need_pdflatex()
    tex = latex.write(tmp_path / f"{name}.tex", text)
    pdf = latex.compile_pdf(tex)
    assert pdf.read_bytes().startswith(b"%PDF")
    return pdf


_NUM = re.compile(r"-?\d+(?:\.\d+)?(?: \\cdot 10\^\{-?\d+\})?")


def numbers_in(tex: str) -> list[float]:
    """The numbers of a LaTeX fragment written by ``latex.number`` (``a \\cdot 10^{b}`` included)."""
    out = []
    for m in _NUM.findall(tex):
        mant, _, exp = m.partition(r" \cdot 10^{")
        out.append(float(mant) * 10.0 ** int(exp.rstrip("}")) if exp else float(mant))
    return out


def table_rows(doc: str) -> dict:
    """{t: [numbers of x^(t), grad f(x^(t)), f(x^(t))]} parsed back from the iteration table."""
    rows = {}
    for line in doc.splitlines():
        m = re.match(r"^\$(\d+)\$ & (.*) \\\\$", line)
        if m:
            rows[int(m.group(1))] = numbers_in(m.group(2))
    return rows


# hand-made analyses: the typesetting is tested apart from the solvers
def c3_points():
    pts = [((0, sp.Rational(1, 4)), 0), ((-2, sp.Rational(3, 8)), 2), ((2, sp.Rational(-5, 8)), 6)]
    return CriticalPoints(tuple(CriticalPoint({x1: sp.Integer(a), x2: b}, sp.Integer(v), Kind.SADDLE, True,
                                              (-3.1, 5.1), "groebner", "Hessian eigenvalues of both signs")
                                for (a, b), v in pts), (), True, "groebner", ())


def c6_points():
    r = sp.CRootOf(4 * x**3 - 150 * x**2 - 1, 0)
    return CriticalPoints((CriticalPoint({x: r}, r**4 - 50 * r**3 - r + 1, Kind.MINIMUM, True, (5624.9,),
                                         "univariate", "f''(r) > 0"),), (), True, "univariate", ())


# ---------------------------------------------------------------------------------------------
# the slide's C4 step, numbers equal to the runner's


def test_c4_first_step_is_written_as_the_slide_does():
    doc = latex.document(C4, method="gd", x0=[-9, 6], steps=3, hyper={"lr": 0.1})
    assert (r"\mathbf{x}^{(1)} &= \mathbf{x}^{(0)} - \eta\, \nabla f(\mathbf{x}^{(0)}) = \left(-9, 6\right) - 0.1 "
            r"\cdot \left(-28, 12\right) = \left(-6.2, 4.8\right)") in doc
    assert r"\left(-22.4, 9.6\right)" in doc  # the gradient at x^(1)
    assert r"\begin{bmatrix}2 x_{1} - 10\\2 x_{2}\end{bmatrix}" in doc  # the gradient as a column vector
    assert r"\nabla^2 f(\mathbf{x}) = \begin{bmatrix}2 & 0\\0 & 2\end{bmatrix}" in doc


@pytest.mark.parametrize("method, hyper, steps", [
    ("gd", {"lr": 0.1}, 12),
    ("momentum", {"lr": 0.05, "momentum": 0.9, "form": "heavy_ball"}, 20),
    ("adam", {"lr": 0.3}, 15),
    ("newton", {"lr": 1.0}, 4),
])
def test_iteration_table_numbers_are_the_runners(method, hyper, steps):
    p = sg.Problem("x1^2 + 3*x2^2 + x1*x2 - x1 + x1^4/4")
    x0 = [1.5, -2.0]
    doc = latex.document(p, method=method, x0=x0, steps=steps, hyper=hyper, show=5, critical=CriticalPoints())
    run = sg.minimize(p, method, x0, steps, path=True, **hyper)
    f, g = p.kernels.f_and_grad(run.path)
    rows = table_rows(doc)
    T = len(run.path) - 1
    assert set(rows) == (set(range(T + 1)) if T + 1 <= 8 else {0, 1, 2, 3, 4, T - 1, T})
    for t, values in rows.items():
        np.testing.assert_allclose(values, [*run.path[t], *g[t], f[t]], rtol=1e-9, atol=1e-12)


def test_substituted_scalars_are_parenthesized_when_negative():
    doc = latex.document("x^2 + 3x", method="gd", x0=[-3.0], steps=1, hyper={"lr": 0.25},
                         critical=CriticalPoints())
    # f'(-3) = -3; x1 = -3 - 0.25 * (-3) = -2.25
    assert r"x^{(1)} &= x^{(0)} - \eta\, f'(x^{(0)}) = \left(-3\right) - 0.25 \cdot \left(-3\right) = -2.25" in doc


def test_heavy_ball_substitution_uses_the_previous_two_iterates():
    doc = latex.document("x^2", method="momentum", x0=[1.0], steps=2,
                         hyper={"lr": 0.1, "momentum": 0.5, "form": "heavy_ball", "tol": None},
                         critical=CriticalPoints())
    # x1 = 1 - 0.1*2 + 0.5*(1 - 1) = 0.8; x2 = 0.8 - 0.1*1.6 + 0.5*(0.8 - 1) = 0.54
    assert r"= 0.8 - 0.1 \cdot 1.6 + 0.5 \cdot (0.8 - 1) = 0.54" in doc
    assert r"\mu (x^{(1)} - x^{(0)})" in doc


def test_long_runs_show_the_first_rows_and_the_last_two():
    doc = latex.document("exp(x) + x^2", method="gd", x0=[-3.0], steps=500, hyper={"lr": 0.01}, show=4,
                         critical=CriticalPoints())
    rows = table_rows(doc)
    assert sorted(rows) == [0, 1, 2, 3, 499, 500]
    assert r"$\vdots$" in doc
    assert rows[500][0] == pytest.approx(-0.3517376, abs=1e-7)  # SLIDES.md G1


# ---------------------------------------------------------------------------------------------
# exact values


def test_exact_values_are_typeset_exactly():
    doc = latex.document(sg.Problem("x1^2 + x1 - 4*x1*x2 + x1^3*x2", variables="x1,x2"), critical=c3_points())
    assert r"x_{2} = \frac{3}{8}" in doc and r"x_{2} = - \frac{5}{8}" in doc
    assert "0.375" not in doc  # a rational is not followed by a float
    assert r"\textbf{Complete:} yes" in doc and r"\textbf{Exact:} yes" in doc


def test_crootof_is_named_and_described():
    doc = latex.document("x^4 - 50x^3 - x + 1", critical=c6_points())
    assert r"x = r_{1} \approx 37.50017778" in doc
    assert r"$r_{1} \approx 37.50017778$ is the real root of $4 x^{3} - 150 x^{2} - 1$." in doc
    assert "CRootOf" not in doc


def test_lambertw_prints_as_w():
    cp = CriticalPoint({x: -sp.LambertW(sp.Rational(1, 2))}, sp.exp(-sp.LambertW(sp.Rational(1, 2)))
                       + sp.LambertW(sp.Rational(1, 2))**2, Kind.MINIMUM, True, (2.70,), "lambert", "f'' > 0")
    doc = latex.document("exp(x) + x^2", critical=CriticalPoints((cp,), (), True, "lambert", ()))
    assert r"x = - W\left(\frac{1}{2}\right) \approx -0.3517337112" in doc
    assert "LambertW" not in doc.split(r"\begin{tabular}")[0]


def test_families_and_honest_flags_are_written():
    k = sp.Symbol("k", integer=True)
    fam = Family("x = pi/2 + 2*k*pi (k integer)", {x: sp.pi / 2 + 2 * k * sp.pi}, (k,), "maximum")
    cps = CriticalPoints((), (fam,), False, "interval-newton", ("searched x in [-10, 10]",))
    doc = latex.document("sin(x)", critical=cps)
    assert r"x = 2 \pi k + \frac{\pi}{2},\ k \in \mathbb{Z}" in doc
    assert r"\textbf{Complete:} no" in doc and r"\item searched x in [-10, 10]" in doc


def test_a_real_analysis_end_to_end(tmp_path):
    """G1 through the real solver: the minimum is -W(1/2), exactly."""
    doc = latex.document("exp(x) + x^2", method="gd", x0=[-3.0], steps=3, hyper={"lr": 0.01})
    assert r"W\left(\frac{1}{2}\right)" in doc
    compiles(tmp_path, doc)


# ---------------------------------------------------------------------------------------------
# names, titles and notes cannot inject TeX

HOSTILE = [r"\input{/etc/passwd}", r"\write18{touch pwned}", r"\catcode`\^^5c=12", r"\immediate\openout1=x",
           r"a^^5cinput{/etc/hostname}", "$\\def\\x{}$", r"\csname input\endcsname{/etc/passwd}", "100% & #1 ~_{}"]
_COMMAND = re.compile(r"\\(input|write|catcode|openout|immediate|def|csname|endcsname|include)\b|\^\^")


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_text_leaves_no_command(text):
    out = latex.escape_text(text)
    assert not _COMMAND.search(out)
    assert "$" not in out.replace(r"\$", "")


def test_hostile_symbols_functions_and_titles_cannot_inject_tex(tmp_path):
    evil = [sp.Symbol(name, real=True) for name in (r"\input{/etc/passwd}", r"x\write18{touch pwned}", "a^^5c")]
    fn = sp.Function(r"\input{/etc/hostname}")
    p = sg.Problem(evil[0] ** 2 + evil[1] ** 2 + fn(evil[2]) + evil[2] ** 2, variables=evil)
    doc = latex.document(p, title=HOSTILE[1] + " " + HOSTILE[2], notes=HOSTILE, critical=CriticalPoints())
    assert not _COMMAND.search(doc)
    compiles(tmp_path, doc)
    assert not (tmp_path / "pwned").exists()


def test_parsed_names_render_sensibly():
    assert [latex.symbol_latex(n) for n in ("x_1", "alpha", "theta_hat", "lam", "x10", "Beta")] == \
        ["x_{1}", r"\alpha", r"\theta_{hat}", "lam", "x_{10}", r"\mathrm{B}"]
    doc = latex.document("x_1^2 + alpha^2 + theta_hat^2", critical=CriticalPoints())
    assert r"f(\alpha, \theta_{hat}, x_{1}) = \alpha^{2} + \theta_{hat}^{2} + x_{1}^{2}" in doc


# ---------------------------------------------------------------------------------------------
# the optimizers' formulas: one source, every optimizer


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_optimizer_has_a_formula(name):
    tex = latex.optimizer_formula(get(name))
    assert tex.startswith(r"\begin{aligned}") and tex.endswith(r"\end{aligned}")
    block = " ".join(latex.math_block(get(name).doc).split())
    rows = tex.removeprefix("\\begin{aligned}\n").removesuffix("\n\\end{aligned}").split(" \\\\\n")
    assert rows and all(r.startswith("& ") and " ".join(r[2:].split()) in block for r in rows)  # one source


def test_formula_variants_follow_the_form():
    torch = latex.optimizer_formula(get("momentum"))
    heavy = latex.optimizer_formula(get("momentum", form="heavy_ball"))
    assert r"b_t = \mu b_{t-1} + g_t" in torch and "x_{t-2}" not in torch
    assert "x_{t-2}" in heavy and "b_t" not in heavy
    assert "armijo" not in latex.optimizer_formula(get("newton")).lower()


def test_all_formulas_and_a_fit_document_compile(tmp_path):
    from symgd.fit import ModelProblem, fit

    body = "\n".join(r"\[" + latex.optimizer_formula(get(n)) + r"\]" for n in sorted(REGISTRY))
    doc = latex.document("x^2", critical=CriticalPoints()).replace(r"\end{document}", body + "\n\\end{document}")
    compiles(tmp_path, doc, "formulas")
    mp = ModelProblem("w*x + b", "w,b", {"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 3.0, 5.0, 8.0]}, "y")
    runs = {"full batch": fit(mp, "gd", x0=[0.0, 0.0], epochs=30, lr=0.05),
            "mini & batch": fit(mp, "adam", x0=[0.0, 0.0], epochs=30, batch_size=2, lr=0.1)}
    fdoc = latex.fit_document(mp, runs, title="fit #1")
    assert r"\hat{y} = b + w x" in fdoc and r"mini \& batch" in fdoc
    compiles(tmp_path, fdoc, "fit")


# ---------------------------------------------------------------------------------------------
# the document as a file


def test_documents_compile_and_are_deterministic(tmp_path):
    doc = latex.document(C4, method="gd", x0=[-9.0, 6.0], steps=5, hyper={"lr": 0.1}, critical=CriticalPoints())
    assert doc == latex.document(C4, method="gd", x0=[-9.0, 6.0], steps=5, hyper={"lr": 0.1},
                                 critical=CriticalPoints())
    assert r"\today" not in doc and str(tmp_path) not in doc
    assert re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", doc) == ["amsmath", "amssymb"]
    assert "fontenc" not in doc
    compiles(tmp_path, doc)


def test_write_and_compile_refuse_to_overwrite(tmp_path):
    need_pdflatex()
    doc = latex.document("x^2", critical=CriticalPoints())
    tex = latex.write(tmp_path / "a.tex", doc)
    with pytest.raises(InputError, match="exists"):
        latex.write(tmp_path / "a.tex", doc)
    pdf = latex.compile_pdf(tex)
    with pytest.raises(InputError, match="exists"):
        latex.compile_pdf(tex)
    assert latex.compile_pdf(tex, force=True) == pdf
    with pytest.raises(InputError):
        latex.write(tmp_path / "missing" / "a.tex", doc)


def test_compile_errors_are_clear(tmp_path, monkeypatch):
    need_pdflatex()
    bad = latex.write(tmp_path / "bad.tex", "\\documentclass{article}\\begin{document}\\nosuchmacro\\end{document}\n")
    with pytest.raises(latex.LatexError, match="Undefined control sequence"):
        latex.compile_pdf(bad)
    loop = latex.write(tmp_path / "loop.tex", "\\documentclass{article}\\begin{document}\\loop\\iftrue\\repeat"
                                              "\\end{document}\n")
    with pytest.raises(latex.LatexError, match="longer than"):
        latex.compile_pdf(loop, timeout=1.5)
    assert not (tmp_path / "bad.pdf").exists() and not (tmp_path / "loop.pdf").exists()
    monkeypatch.setattr(latex.shutil, "which", lambda name: None)
    with pytest.raises(latex.LatexError, match="pdflatex was not found"):
        latex.compile_pdf(bad)


def test_document_rejects_bad_requests():
    with pytest.raises(InputError, match="both method and x0"):
        latex.document("x^2", method="gd")
    with pytest.raises(InputError, match="one start"):
        latex.document("x^2 + y^2", method="gd", x0=[[1.0, 2.0], [3.0, 4.0]], critical=CriticalPoints())
    with pytest.raises(InputError, match="hyper"):
        latex.document("x^2", method="gd", x0=[1.0], hyper=[("lr", 0.1)])
    with pytest.raises(InputError, match="x0 must be numbers"):
        latex.document("x^2", method="gd", x0=["a"], critical=CriticalPoints())
    with pytest.raises(InputError, match="show"):
        latex.document("x^2", method="gd", x0=[1.0], show=0, critical=CriticalPoints())
    with pytest.raises(InputError, match="title"):
        latex.document("x^2", title=3, critical=CriticalPoints())
    with pytest.raises(InputError):
        latex.document("x^2", method="gd", x0=[1.0], hyper={"lr": -1.0}, critical=CriticalPoints())


# ---------------------------------------------------------------------------------------------
# Jupyter: each _repr_latex_ is one MathJax-safe $...$ block


def _mathjax_safe(tex: str):
    assert re.fullmatch(r"\$[^$]+\$", tex), tex
    assert "tabular" not in tex and "booktabs" not in tex and r"\multicolumn" not in tex
    envs = set(re.findall(r"\\begin\{(\w+)\}", tex))
    assert envs <= {"aligned", "array", "bmatrix", "matrix", "cases"}, envs


def test_repr_latex_is_mathjax_safe():
    p = sg.Problem("x1^2 + x1 - 4*x1*x2 + x1^3*x2")
    _mathjax_safe(p._repr_latex_())
    _mathjax_safe(c3_points()._repr_latex_())
    _mathjax_safe(c6_points()._repr_latex_())
    run = p.minimize("gd", [[0.5, 0.5], [1.0, 1.0]], steps=3, lr=0.01)
    _mathjax_safe(run._repr_latex_())
    _mathjax_safe(run[0]._repr_latex_())
