r"""Parameters fitted on standardized inputs, mapped back to the original units where the model allows.

For :math:`\tilde x = (x - \mu)/\sigma` we look for θ with :math:`m(\theta; x) = m(\tilde\theta; \tilde x)` for
every x: substitute, expand as a polynomial in the inputs and match coefficients (``sympy.solve``). This is
exact for any model polynomial in its inputs, also under an outer one-to-one function (sigmoid, exp, tanh,
atan), e.g. ``w1*x1 + w2*x2 + b`` or ``sigmoid(w*x + b)``.
"""

from __future__ import annotations

import sympy as sp

from symgd.kernels import lambdify_batched
from symgd.models import as_logit, sigmoid


def _strip_injective(expr: sp.Expr) -> sp.Expr:
    """The argument under outer one-to-one functions (sigmoid, exp, tanh, atan): equal outputs iff equal arguments."""
    while True:
        z = as_logit(expr)
        if z is not None:
            expr = z
        elif isinstance(expr, (sigmoid, sp.exp, sp.tanh, sp.atan)):
            expr = expr.args[0]
        else:
            return expr


def _unscaler(model, params, stats):
    """Map θ̃ (fitted on standardized inputs) to θ with m(θ; x) = m(θ̃; (x - μ)/σ), or None if not exact."""
    core = _strip_injective(model)
    xs = [s for s in core.free_symbols if s.name in stats]
    if not xs:
        return None
    tilde = [sp.Dummy(p.name) for p in params]
    scaled = core.xreplace(dict(zip(params, tilde)))
    scaled = scaled.xreplace({x: (x - sp.Float(stats[x.name][0])) / sp.Float(stats[x.name][1]) for x in xs})
    try:
        P, Q = sp.Poly(core, *xs), sp.Poly(sp.expand(scaled), *xs)
    except sp.PolynomialError:
        return None
    if any(c.has(*xs) for c in (*P.coeffs(), *Q.coeffs())):
        return None
    monomials = set(P.monoms()) | set(Q.monoms())
    eqs = [P.coeff_monomial(m) - Q.coeff_monomial(m) for m in monomials]
    try:
        sols = sp.solve(eqs, list(params), dict=True)
    except (NotImplementedError, ValueError):
        return None
    if len(sols) != 1 or set(sols[0]) != set(params) or any(v.has(*params) for v in sols[0].values()):
        return None
    return lambdify_batched(tilde, [sols[0][p] for p in params])
