"""symgd.models: activation functions, losses, mlp(), and the reverse-mode gradient program.

The gradient program is checked against ``sympy.diff`` (the definition) at random rational points;
activation derivatives against their textbook formulas; NumPy code of the activations for stability
(warnings are errors in this suite, so an overflow would fail the test).
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from symgd.errors import InputError, ParseError
from symgd.kernels import lambdify_batched
from symgd.models import (LOSSES, Program, as_logit, bce_logit, bce_prob, dag_size, gradient_program, mlp, mse,
                          per_sample_loss, relu, share_subexpressions, sigmoid, softplus, unit_step)
from symgd.parse import parse

a, b, c, x, y, z = sp.symbols("a b c x y z", real=True)


# ---------------------------------------------------------------------------------------------
# activations


def test_relu_derivative_is_zero_at_zero_exactly():
    d = sp.diff(relu(z), z)
    assert d == unit_step(z)
    assert d.subs(z, 0) == 0 and d.subs(z, sp.Rational(1, 10)) == 1 and d.subs(z, -1) == 0
    assert sp.diff(unit_step(z), z) == 0  # no Dirac term: second derivative taken as 0
    fn = lambdify_batched([z], [relu(z), d])
    v, dv = fn(np.array([-1.0, 0.0, 2.0]))
    assert v.tolist() == [0.0, 0.0, 2.0] and dv.tolist() == [0.0, 0.0, 1.0]


def test_sigmoid_softplus_derivatives_match_their_formulas():
    assert sp.simplify(sp.diff(sigmoid(z), z).rewrite(sp.exp) - sp.diff(1 / (1 + sp.exp(-z)), z)) == 0
    assert sp.simplify(sp.diff(softplus(z), z).rewrite(sp.exp) - sp.diff(sp.log(1 + sp.exp(z)), z)) == 0
    assert sigmoid(z).rewrite(sp.exp).subs(z, 2).evalf(30) == pytest.approx(1 / (1 + np.exp(-2.0)), rel=1e-15)
    assert float(sigmoid(sp.Float(2)).evalf()) == pytest.approx(1 / (1 + np.exp(-2.0)), rel=1e-15)
    assert float(softplus(sp.Float(-3)).evalf()) == pytest.approx(np.log1p(np.exp(-3.0)), rel=1e-15)


def test_activation_numpy_code_is_stable_in_the_tails():
    zs = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    s, sp_, ds = lambdify_batched([z], [sigmoid(z), softplus(z), sp.diff(sigmoid(z), z)])(zs)
    np.testing.assert_allclose(s, [0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5, 1 / (1 + np.exp(-40.0)), 1.0],
                               rtol=1e-14, atol=0)
    np.testing.assert_allclose(sp_, [0.0, np.log1p(np.exp(-40.0)), np.log(2), 40.0, 1000.0], rtol=1e-14, atol=0)
    assert np.isfinite(ds).all() and ds[2] == 0.25


def test_activation_values_at_numbers():
    assert [relu(-2), relu(sp.Rational(3, 2)), unit_step(0), unit_step(5), sigmoid(0), softplus(0)] == \
        [0, sp.Rational(3, 2), 0, 1, sp.S.Half, sp.log(2)]
    assert relu(z).is_extended_real and sigmoid(z).is_positive and softplus(z).is_positive


# ---------------------------------------------------------------------------------------------
# losses


def test_bce_prob_of_a_sigmoid_is_the_logit_form():
    assert bce_prob(sigmoid(z), y) == softplus(z) - y * z
    assert bce_prob(parse("sigmoid(a*x + b)")[0], y) == bce_logit(a * x + b, y)
    assert as_logit(1 / (1 + sp.exp(-(a * x)))) == a * x
    assert as_logit(sp.exp(z)) is None


def test_logit_form_equals_the_cross_entropy():
    """softplus(z) - y z = -(y log σ(z) + (1 - y) log(1 - σ(z))) for y in {0, 1} and any z."""
    s = 1 / (1 + sp.exp(-z))
    for yv in (0, 1):
        for zv in (-3, sp.Rational(1, 2), 4):
            left = bce_logit(z, yv).subs(z, zv).evalf(40)
            right = (-(yv * sp.log(s) + (1 - yv) * sp.log(1 - s))).subs(z, zv).evalf(40)
            assert abs(left - right) < 1e-35


def test_bce_prob_of_a_general_probability_is_the_textbook_formula():
    p = sp.exp(-a * x)
    assert bce_prob(p, y) == -(y * sp.log(p) + (1 - y) * sp.log(1 - p))


def test_per_sample_loss_names_and_typed_losses():
    assert per_sample_loss(a * x, y, "mse") == mse(a * x, y) == (a * x - y) ** 2
    assert per_sample_loss(sigmoid(a * x), y, "bce") == softplus(a * x) - y * a * x
    assert per_sample_loss(a * x, y, "abs(yhat - y)") == sp.Abs(a * x - y)
    assert per_sample_loss(a * x, y, "yhat^2") == a**2 * x**2
    assert set(LOSSES) == {"mse", "bce", "bce_logit", "bce_prob"}


@pytest.mark.parametrize("loss, match", [
    ("msee", "did you mean 'mse'"),
    ("(yhat - t)^2", "only yhat and y, got t"),
    ("y^2", "does not use yhat"),
    (3, "must be a name"),
])
def test_bad_losses(loss, match):
    with pytest.raises(InputError, match=match):
        per_sample_loss(a * x, y, loss)


def test_bce_needs_to_know_logit_or_probability():
    with pytest.raises(InputError, match="bce_logit.*bce_prob"):
        per_sample_loss(a * x, y, "bce")


def test_typed_loss_goes_through_the_safe_parser():
    with pytest.raises(ParseError):
        per_sample_loss(a * x, y, "__import__('os')")


# ---------------------------------------------------------------------------------------------
# mlp


def test_mlp_shapes_names_and_order():
    expr, params, init = mlp(["x1", "x2"], hidden=[3, 2], activation="tanh", output="linear", seed=1)
    assert len(params) == (2 * 3 + 3) + (3 * 2 + 2) + (2 + 1) == len(init)
    assert [p.name for p in params[:9]] == ["w1_0_0", "w1_0_1", "w1_1_0", "w1_1_1", "w1_2_0", "w1_2_1",
                                            "b1_0", "b1_1", "b1_2"]
    assert params[-1].name == "b3_0"
    assert {s.name for s in expr.free_symbols} == {p.name for p in params} | {"x1", "x2"}
    assert expr.has(sp.tanh) and not expr.has(sigmoid)


def test_mlp_init_is_seeded_and_scaled():
    _, params, i0 = mlp("x1, x2", hidden=[200], seed=7)
    _, _, i1 = mlp("x1, x2", hidden=[200], seed=7)
    _, _, i2 = mlp("x1, x2", hidden=[200], seed=8)
    assert np.array_equal(i0, i1) and not np.array_equal(i0, i2)
    names = [p.name for p in params]
    w1 = i0[[k for k, n in enumerate(names) if n.startswith("w1_")]]
    w2 = i0[[k for k, n in enumerate(names) if n.startswith("w2_")]]
    b = i0[[k for k, n in enumerate(names) if n.startswith("b")]]
    assert abs(w1.std() - np.sqrt(2 / 2)) < 0.1  # He: sd sqrt(2/fan_in), 400 draws
    assert abs(w2.std() - np.sqrt(2 / 201)) < 0.02  # Glorot output layer: sqrt(2/(fan_in + fan_out))
    assert (b == 0).all()


def test_mlp_without_hidden_layers_is_logistic_regression():
    expr, params, _ = mlp(["u"], hidden=[])
    w, b0, u = sp.symbols("w1_0_0 b1_0 u", real=True)
    assert expr == sigmoid(w * u + b0) and [p.name for p in params] == ["w1_0_0", "b1_0"]


@pytest.mark.parametrize("kwargs, match", [
    ({"activation": "gelu"}, "activation"), ({"output": "softmax"}, "output"),
    ({"hidden": [0]}, "positive integers"), ({"hidden": [2.5]}, "positive integers"),
    ({"inputs": []}, "at least one input"), ({"inputs": ["w1_0_0"]}, "also a weight"),
])
def test_mlp_rejects_bad_options(kwargs, match):
    kw = {"inputs": ["x"], **kwargs}
    with pytest.raises(InputError, match=match):
        mlp(**kw)


def test_mlp_rejects_bad_input_names():
    with pytest.raises(ParseError):
        mlp(["lambda"])


# ---------------------------------------------------------------------------------------------
# the gradient program

t1, t2 = sp.symbols("t1 t2", real=True)
EXPRESSIONS = [
    sp.exp(-a * x) + b * x + c,
    (sp.exp(-a * x) + b * x + c - y) ** 2,
    softplus(sp.sin(a * x * z + b * z)) - y * sp.sin(a * x * z + b * z),
    a ** b + b ** 2 * sp.log(a) + sp.sqrt(a**2 + b**2),
    sp.Abs(a - b) * sp.cos(a * b) + sp.atan(a / b),
    sp.Piecewise((a**2, x > b), (a * b, True)) + sp.Max(a, b),
    relu(a * x + b) * relu(b * x - a) + sigmoid(relu(a) - b),
    (a * b * c + a * b + c) ** 3 / (1 + a**2),
    mlp(["x", "z"], hidden=[2, 2], activation="tanh", output="linear")[0],
    mlp(["x"], hidden=[2], activation="sigmoid")[0],
]


def _point(rng, symbols):
    return {s: sp.Rational(int(rng.integers(-30, 30)), 10) + sp.Rational(1, 7) for s in symbols}


@pytest.mark.parametrize("k", range(len(EXPRESSIONS)))
def test_gradient_program_equals_sympy_diff(k):
    expr = EXPRESSIONS[k]
    wrt = sorted((s for s in expr.free_symbols if s.name not in ("x", "y", "z")), key=lambda s: s.name)
    prog = gradient_program(expr, wrt)
    full = prog.expand()
    rng = np.random.default_rng(k)
    for _ in range(3):
        pt = _point(rng, expr.free_symbols)
        assert abs(full[0].evalf(30, subs=pt) - expr.evalf(30, subs=pt)) < 1e-25
        for g, w in zip(full[1:], wrt):
            want = sp.diff(expr, w).evalf(30, subs=pt)
            assert abs(g.evalf(30, subs=pt) - want) < 1e-20 * (1 + abs(want)), (w, g)


def test_gradient_program_is_straight_line_code():
    """Evaluating the assignments in order (each sees only earlier ones) reproduces the expanded outputs."""
    expr = mlp(["x"], hidden=[3], output="linear")[0]
    prog = gradient_program((expr - y) ** 2, sorted(expr.free_symbols - {x}, key=lambda s: s.name))
    assert prog.assignments, "a network shares subexpressions"
    pt = _point(np.random.default_rng(0), (expr - y).free_symbols)
    env = dict(pt)
    for s, e in prog.assignments:
        assert e.free_symbols <= set(env), "a temporary is used before it is defined"
        env[s] = e.xreplace(env)
    got = [o.xreplace(env) for o in prog.outputs]
    want = [o.xreplace(pt) for o in prog.expand()]
    assert all(abs(sp.N(g - w, 30)) < 1e-25 for g, w in zip(got, want))


def test_gradient_of_a_parameter_absent_from_part_of_the_expression():
    prog = gradient_program(a * x + sp.sin(c), [a, b, c])
    assert prog.expand() == [a * x + sp.sin(c), x, 0, sp.cos(c)]


def test_gradient_program_is_fast_on_a_20_20_network():
    """Reverse accumulation is linear in the DAG: sympy.diff per parameter took 60 s here (measured once)."""
    expr, params, _ = mlp(["x1", "x2"], hidden=[20, 20])
    prog = gradient_program(bce_prob(expr, y), params)
    assert len(prog.outputs) == 1 + len(params) == 502
    assert sum(dag_size(e) for _, e in prog.assignments) + sum(dag_size(o) for o in prog.outputs) < 60_000


@given(st.lists(st.integers(-3, 3), min_size=3, max_size=3))
def test_share_subexpressions_keeps_values(coeffs):
    e1 = sp.sin(a + b) ** 2 + coeffs[0] * sp.sin(a + b)
    e2 = sp.exp(sp.sin(a + b) * c) + coeffs[1] * c + coeffs[2]
    prog = share_subexpressions(Program([], [e1, e2]))
    assert prog.expand() == [e1, e2]
    assert any(e == sp.sin(a + b) for _, e in prog.assignments)


def test_dag_size_counts_shared_nodes_once():
    e = sp.sin(a) * sp.sin(a) ** 2  # sin(a)**3 after evaluation
    assert dag_size(e) == len({a, sp.sin(a), sp.Integer(3), e})
