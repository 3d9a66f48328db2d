"""The safe parser (STYLE.md §4.1): what people type, what it means, and what is refused.

Expected values are SymPy expressions built directly with SymPy's constructors (never from text),
so each accepted spelling is compared with its exact meaning by structural ``==``.
"""

import ast
import contextlib
import pathlib
import signal

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symgd as sg
import symgd.parse as parse_module
from symgd.parse import CONSTANTS, FUNCTIONS, parse, validate_name
from hostile_inputs import CORPUS

x, y, z, x1, x2, x3, x10 = sp.symbols("x y z x1 x2 x3 x10", real=True)
alpha, beta, gamma, theta, mu, sigma, lam = sp.symbols("alpha beta gamma theta mu sigma lam", real=True)
R = sp.Rational


class Hang(Exception):
    """Raised by the hang detector: a parse that ran for seconds (a hang check, not a speed check)."""


@contextlib.contextmanager
def hang_detector(seconds: float = 5.0):
    if not hasattr(signal, "setitimer"):  # pragma: no cover - not POSIX
        yield
        return

    def on_alarm(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def refused(text, **kwargs) -> sg.ParseError:
    """Parse ``text`` expecting a one-line ParseError; return it."""
    with hang_detector(), pytest.raises(sg.ParseError) as info:
        parse(text, **kwargs)
    message = str(info.value)
    assert len(message.splitlines()) == 1 and "\n" not in message and "\r" not in message, repr(message)
    return info.value


# ---------------------------------------------------------------------------------------------
# what people type

ACCEPTED = [
    ("x^2 - 10x + 1", x**2 - 10 * x + 1),
    ("2(x+1)", 2 * (x + 1)),
    ("(x+1)(x-1)", (x + 1) * (x - 1)),
    ("x1^2 + x1 - 4*x1*x2 + x1^3*x2", x1**2 + x1 - 4 * x1 * x2 + x1**3 * x2),
    ("x**2", x**2),
    ("e^x", sp.exp(x)),
    ("E^x", sp.exp(x)),
    ("exp(x)", sp.exp(x)),
    ("ln(x)", sp.log(x)),
    ("log(x)", sp.log(x)),
    ("sqrt(x)", sp.sqrt(x)),
    ("sin(x)", sp.sin(x)),
    ("cos(x)", sp.cos(x)),
    ("tan(x)", sp.tan(x)),
    ("asin(x)", sp.asin(x)),
    ("acos(x)", sp.acos(x)),
    ("atan(x)", sp.atan(x)),
    ("arctan(x)", sp.atan(x)),
    ("sinh(x)", sp.sinh(x)),
    ("cosh(x)", sp.cosh(x)),
    ("tanh(x)", sp.tanh(x)),
    ("abs(x - 1)", sp.Abs(x - 1)),
    ("Abs(x)", sp.Abs(x)),
    ("pi", sp.pi),
    ("e", sp.E),
    ("E", sp.E),
    ("0.5*x1", R(1, 2) * x1),
    ("0.1", R(1, 10)),
    ("1e-3", R(1, 1000)),
    ("2.5e2", sp.Integer(250)),
    (".5x", x / 2),
    ("0.5x^2 + 2.25", x**2 / 2 + R(9, 4)),
    ("-x^2", -(x**2)),
    ("-2^2", sp.Integer(-4)),
    ("x^-1", 1 / x),
    ("x**-2", x**-2),
    ("2^-x", 2 ** (-x)),
    ("2^3^2", sp.Integer(512)),
    ("x**2**3", x**8),
    ("e^-x^2", sp.exp(-(x**2))),
    ("alpha*x + beta", alpha * x + beta),
    ("gamma + theta + mu + sigma", gamma + theta + mu + sigma),
    ("lam*x^2", lam * x**2),
    ("sigmoid(x)", 1 / (1 + sp.exp(-x))),
    ("log(x, 2)", sp.log(x) / sp.log(2)),
    ("log10(x)", sp.log(x) / sp.log(10)),
    ("sec(x)", 1 / sp.cos(x)),
    ("x1x2", sp.Symbol("x1x2", real=True)),
    ("x_1 + x_2", sp.Symbol("x_1", real=True) + sp.Symbol("x_2", real=True)),
    ("10x", 10 * x),
    ("2pi", 2 * sp.pi),
    ("2 x", 2 * x),
    ("3x^2y", 3 * x**2 * y),
    ("1/2x", x / 2),  # the implicit product binds like *, left to right
    ("e^2x", sp.exp(2) * x),  # ... so this is e^2 times x
    ("x/y/z", x / (y * z)),
    ("sin(x)cos(x)", sp.sin(x) * sp.cos(x)),
    ("(x)(y)(z)", x * y * z),
    ("+x", x),
    ("x - -y", x + y),
    ("exp(x+y) + x^2 - y^2", sp.exp(x + y) + x**2 - y**2),
    ("x^0.5", sp.sqrt(x)),
    ("2^0.5", sp.sqrt(2)),
    ("sqrt(x^2)", sp.Abs(x)),  # real symbols
    ("exp(1)", sp.E),
    ("sin(pi/6)", R(1, 2)),
    ("x +\n y", x + y),
    ("X + x", sp.Symbol("X", real=True) + x),
    ("x10 + x2", x10 + x2),
]


@pytest.mark.parametrize("text, expected", ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_accepted_spelling_means_exactly(text, expected):
    expr, variables = parse(text)
    assert expr == expected, (expr, expected)
    assert set(variables) == expected.free_symbols
    assert all(v.is_real for v in variables)


def test_accepted_spellings_cover_the_brief():
    assert len(ACCEPTED) >= 40


def test_no_symbol_splitting():
    # sympy's implicit_multiplication_application turns this into 5*x (STYLE.md §4.1): keep forever.
    expr, variables = parse("x1^2 + x2^2")
    assert expr == x1**2 + x2**2 and str(expr) == "x1**2 + x2**2"
    assert variables == (x1, x2)


def test_e_and_E_are_both_eulers_number():
    assert parse("e")[0] == parse("E")[0] == sp.E
    assert parse("e^x")[0] == parse("E**x")[0] == sp.exp(x)


def test_decimals_are_the_exact_rationals_typed():
    assert parse("0.1 + 0.2")[0] == R(3, 10)  # not 0.30000000000000004
    assert parse("1.25e-2")[0] == R(1, 80)
    assert not parse("0.5*x")[0].has(sp.Float)


def test_printed_output_parses_back():
    for text in ["x1^2 + x1 - 4*x1*x2 + x1^3*x2", "exp(x+y) + x^2 - y^2", "sigmoid(2x) + abs(y)",
                 "0.1*x1^2 + x2^2", "log(x, 2) + e*x + pi", "x^(1/3) - 2^-x"]:
        expr, _ = parse(text)
        assert parse(sp.sstr(expr))[0] == expr


# ---------------------------------------------------------------------------------------------
# variables


def test_natural_order_puts_x2_before_x10():
    assert parse("x10 + x2 + x1")[1] == (x1, x2, x10)


def test_variables_override_order():
    expr, variables = parse("x*y^2", variables=["y", "x"])
    assert variables == (y, x) and expr == x * y**2


def test_listed_absent_variable_is_still_a_variable():
    expr, variables = parse("a*x^2", variables=("x", "y"))
    assert variables == (x, y)
    assert sp.diff(expr, variables[1]) == 0
    assert sp.Symbol("a", real=True) in expr.free_symbols  # a parameter


def test_variables_accept_symbols_and_a_comma_string():
    assert parse("x + y", variables=(sp.Symbol("y"), sp.Symbol("x")))[1] == (y, x)
    assert parse("x + y", variables="y, x")[1] == (y, x)


@pytest.mark.parametrize("variables", [("x", "x"), ("x", "sin"), ("x", "lambda"), ("e",), ("1x",), 5])
def test_bad_variables_are_refused(variables):
    refused("x + y", variables=variables)


def test_problem_uses_the_parser():
    p = sg.Problem("x1^2 + x10 + x2")
    assert p.variables == (x1, x2, x10)
    with pytest.raises(sg.ParseError):
        sg.Problem("x y")


@pytest.mark.parametrize("name", ["x", "theta", "x_1", "lam", "X10", "alpha2", "a" * 32])
def test_validate_name_accepts(name):
    assert validate_name(name) == name


@pytest.mark.parametrize("name, hint", [("lambda", "lam"), ("import", None), ("__class__", None),
                                        ("x__", None), ("1x", None), ("x-y", None), ("x y", None),
                                        ("", None), ("sin", None), ("e", None), ("pi", None), ("eval", None),
                                        ("inf", None), ("I", None), ("a" * 33, None), ("ｘ", "x"), (None, None)])
def test_validate_name_refuses(name, hint):
    with pytest.raises(sg.ParseError) as info:
        validate_name(name)
    assert len(str(info.value).splitlines()) == 1
    if hint:
        assert hint in info.value.hint


# ---------------------------------------------------------------------------------------------
# errors: columns and hints


@pytest.mark.parametrize("text, column", [
    ("x y", 3),
    ("2 3", 3),
    ("x + sinn(y)", 5),
    ("2*x + 3 $ 4", 9),
    ("x²", 2),
    ("((x)", 1),
    ("x)", 2),
    ("x + (y * )", 10),
    ("sin x", 1),
    ("1e999 + x", 1),
    ("x + 1/0", 6),
    ("a + exp(exp(exp(exp(e))))", 9),  # exp(exp(exp(e))) is 10^(1.6e6): the third exp from inside
    ("x^1001", 2),
    ("f(x) + 1", 1),
    ("x + y,", 6),
    ("x +", 3),
])
def test_error_column_points_at_the_fault(text, column):
    assert refused(text).column == column


@pytest.mark.parametrize("text, hint", [
    ("x y", "write x*y"),
    ("2 3", "write 2*3"),
    ("x sin(y)", "write x*sin(...)"),
    ("sinn(x)", "did you mean sin?"),
    ("Sin(x)", "did you mean sin?"),
    ("lambda*x", "use lam"),
    ("sin + 1", "write sin(...)"),
    ("sin^2(x)", "write sin(x)^2"),
    ("x(x+1)", "write x*(...)"),
    ("e(x)", "exp(...)"),
    ("|x|", "abs(x)"),
    ("x²", "^2"),
    ("√x", "sqrt("),
    ("x − 1", "write -"),
    ("2×x", "write *"),
    ("2·x", "write *"),
    ("π", "write pi"),
    ("ｘ + 1", "write x"),
    ("α", "write alpha"),
    ("λ*x", "lam"),
])
def test_error_hint(text, hint):
    error = refused(text)
    assert hint in error.hint and hint in str(error)


# ---------------------------------------------------------------------------------------------
# hostile inputs


@pytest.mark.parametrize("category, text", CORPUS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CORPUS)])
def test_hostile_input_is_refused(category, text, tmp_path, monkeypatch):
    marker = tmp_path / "MARKER"
    text = text.replace("MARKER", str(marker))

    def string_reached_sympy(*args, **kwargs):
        raise AssertionError("user text reached SymPy's string parser")

    import sympy.parsing.sympy_parser as sympy_parser  # sympify(str) imports parse_expr from here on each call

    monkeypatch.setattr(sympy_parser, "parse_expr", string_reached_sympy)
    monkeypatch.setattr(sympy_parser, "eval_expr", string_reached_sympy)
    error = refused(text)
    assert error.column is None or 1 <= error.column <= len(text)
    assert len(str(error)) < 500
    assert not marker.exists()
    assert list(tmp_path.iterdir()) == []


def test_corpus_is_large_and_varied():
    assert len(CORPUS) >= 100
    assert {c for c, _ in CORPUS} == {"injection", "syntax", "unknown", "huge", "pathological", "nesting",
                                       "unicode"}


@pytest.mark.parametrize("value", [None, 1, 1.5, b"x^2", ["x"], sp.Symbol("x"), bytearray(b"x")])
def test_non_string_input_is_refused(value):
    refused(value)


def test_parser_source_has_no_eval_family():
    """No call of eval/exec/compile/sympify/parse_expr/S/__import__/getattr anywhere in parse.py."""
    tree = ast.parse(pathlib.Path(parse_module.__file__).read_text())
    banned = {"eval", "exec", "compile", "sympify", "parse_expr", "S", "__import__", "getattr", "N", "simplify"}
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
    calls = [f for f in calls if isinstance(f, (ast.Name, ast.Attribute)) and ast.unparse(f) != "re.compile"]
    names = {f.id if isinstance(f, ast.Name) else f.attr for f in calls}  # (compiling a regex is fine)
    assert "Symbol" in names and "Pow" in names  # the walk sees the calls it should
    assert not names & banned


# ---------------------------------------------------------------------------------------------
# the guards, at their limits (behaviour, not speed)


def test_length_limit_is_checked_before_any_work(monkeypatch):
    def boom(text):
        raise AssertionError("tokenized a string over the length limit")

    monkeypatch.setattr(parse_module, "_tokenize", boom)
    monkeypatch.setattr(parse_module, "_refuse_non_ascii", boom)
    assert "limit is 2000" in str(refused("x" * 10_000_000))
    assert "limit is 2000" in str(refused("²" * 10_000_000))
    with pytest.raises(AssertionError):  # the patch is live: a short text does reach the tokenizer
        parse("x")


def test_length_limit_boundary():
    text = "x+" * 999 + "x"  # 1999 characters
    assert parse(text)[0] == 1000 * x
    refused(text + "+x")


def test_parenthesis_depth_boundary():
    assert parse("(" * 64 + "x" + ")" * 64)[0] == x
    assert refused("(" * 65 + "x" + ")" * 65).column == 65


def test_exponent_limits():
    assert parse("x^1000")[0] == x**1000 and parse("x^-1000")[0] == x**-1000
    refused("x^1001")
    assert parse("(x+1)^100")[0] == (x + 1) ** 100
    assert parse("sin(x)^100")[0] == sp.sin(x) ** 100
    assert "unless the base is a variable or a number" in str(refused("(x+1)^101"))
    refused("sin(x)^-101")
    assert parse("x^(999/1000)")[0] == x ** R(999, 1000)
    assert parse("x^(1/10000)")[0] == x ** R(1, 10000)  # a root: only the exponent's size is bounded
    refused("x^(10001/10)")
    refused("x^(pi*1000)")  # a constant exponent is bounded by its value


def test_constant_magnitude_limits():
    assert parse("1e300")[0] == sp.Integer(10) ** 300
    assert parse("1e-300")[0] == R(1, 10**300)
    assert parse("10^300")[0] == sp.Integer(10) ** 300
    assert parse("2^996")[0] == sp.Integer(2) ** 996
    assert parse("exp(690)")[0] == sp.exp(690)
    for text in ["1e301", "1e-301", "10^301", "2^997", "exp(691)", "exp(-691)", "x*10^300*10", "(2x)^1000"]:
        refused(text)


def test_constants_are_real_and_finite():
    assert parse("log(cosh(1e-300))")[0] == sp.log(sp.cosh(R(1, 10**300)))  # 0 in float64, so accepted
    for text in ["1/0", "log(0)", "sqrt(-1)", "(-8)^(1/3)", "asin(2)", "acosh(0)", "tan(pi/2)",
                 "1/log(cosh(1e-300))", "(-2)^x", "log(x, 1)"]:
        message = str(refused(text))
        assert any(w in message for w in ("not a finite real number", "not real", "division by zero")), text
    assert parse("-(8^(1/3))")[0] == -2


def test_tree_depth_boundary():
    assert parse("x" + "^x" * 99)[0].count(sp.Pow) == 99  # depth 100
    assert "deeper than 100" in str(refused("x" + "^x" * 100))


def test_node_limit(monkeypatch):
    text = " + ".join(f"x{i}*y{i}" for i in range(1, 21))  # 20 products: 61 nodes
    assert len(parse(text)[1]) == 40
    monkeypatch.setattr(parse_module, "MAX_NODES", 50)
    assert "more than 50 nodes" in str(refused(text))


def test_expansion_limit_inside_sinh_cosh_tanh_abs():
    # cosh's sign query expands its argument; (x+y+z+w)^5 has comb(8, 5) = 56 terms, ^6 has 84
    assert parse("cosh((x+y+z+w)^5)")[0] == sp.cosh((x + y + z + sp.Symbol("w", real=True)) ** 5)
    assert "more than 64 terms" in str(refused("cosh((x+y+z+w)^6)"))
    assert parse("tanh(tanh(tanh(x)))")[0] == sp.tanh(sp.tanh(sp.tanh(x)))  # provably real: fine
    assert parse("tanh(log(x)^2)")[0] == sp.tanh(sp.log(x) ** 2)
    refused("tanh(log(x)^3)")  # may be complex: (re + i*im)^3 would be expanded at every sign query
    refused("tanh(tanh(log(x)))")
    refused("abs(exp(log(x)^3))")


# ---------------------------------------------------------------------------------------------
# properties: parse returns an expression or raises ParseError, nothing else


def check_outcome(text):
    with hang_detector():
        try:
            expr, variables = parse(text)
        except sg.ParseError as e:
            assert len(str(e).splitlines()) == 1
            return None
    assert isinstance(expr, sp.Expr) and not expr.has(sp.Float, sp.I, sp.zoo, sp.nan, sp.oo)
    assert set(variables) == expr.free_symbols and all(v.is_real for v in variables)
    return expr


EXPRESSION_ALPHABET = st.sampled_from(list("xy12e.^*/+-() ,") + ["sin", "exp", "log", "pi", "x1", "**",
                                                                  "sqrt", "tanh", "abs", "0", "9", "E"])


@given(st.lists(EXPRESSION_ALPHABET, max_size=30).map("".join))
def test_expression_like_text_parses_or_raises_parse_error(text):
    check_outcome(text)


@given(st.one_of(st.text(max_size=40), st.binary(max_size=40).map(lambda b: b.decode("latin-1"))))
def test_any_text_parses_or_raises_parse_error(text):
    check_outcome(text)


LEAVES = st.sampled_from(["x", "y", "x1", "2", "0.5", "e", "pi", "3", "1e-2"])
FUNCS = st.sampled_from(sorted(FUNCTIONS))


OUR_CLASSES = {type(f(x)) for f in FUNCTIONS.values()}


@st.composite
def expressions(draw, depth=3):
    """Text from a small grammar: leaves, f(a), (a) op (b), -a."""
    kind = draw(st.integers(0, 3)) if depth else 0
    if kind == 0:
        return draw(LEAVES)
    if kind == 1:
        return f"{draw(FUNCS)}({draw(expressions(depth - 1))})"
    if kind == 2:
        op = draw(st.sampled_from(["+", "-", "*", "/", "^"]))
        return f"({draw(expressions(depth - 1))}){op}({draw(expressions(depth - 1))})"
    return f"-{draw(expressions(depth - 1))}"


@given(expressions())
def test_generated_expressions_round_trip_through_sympy_printing(text):
    expr = check_outcome(text)
    if expr is not None and all(type(f) in OUR_CLASSES for f in expr.atoms(sp.Function)):  # Abs(2^y) is 2^re(y)
        # equal up to SymPy's re-evaluation: "-(x + y)*z" distributes the minus,
        back = parse(sp.sstr(expr))[0]  # Abs(Abs(2*x)) gives 2*Abs(Abs(x)) but Abs(Abs(x)) gives Abs(x)
        assert back == expr or sp.expand(back - expr) == 0 or sp.simplify(back - expr) == 0


def test_exports():
    assert set(CONSTANTS) == {"pi", "e", "E"}
    assert {"sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log", "ln", "sqrt",
            "abs", "sigmoid"} <= set(FUNCTIONS)
