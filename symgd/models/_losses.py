"""Per-sample losses: mse, cross-entropy from a logit or a probability, or a loss typed in yhat and y."""

from __future__ import annotations

import difflib

import sympy as sp

from symgd.errors import InputError
from symgd.models._functions import sigmoid, softplus
from symgd.parse import parse


def as_logit(p: sp.Expr) -> sp.Expr | None:
    """z if ``p`` is visibly the logistic function of z (``sigmoid(z)`` or ``1/(1 + exp(-z))``), else None.

    >>> z = sp.Symbol("z")
    >>> as_logit(1 / (1 + sp.exp(-z))), as_logit(sigmoid(2 * z)), as_logit(z)
    (z, 2*z, None)
    """
    if isinstance(p, sigmoid):
        return p.args[0]
    if p.is_Pow and p.exp == -1 and p.base.is_Add and len(p.base.args) == 2 and sp.S.One in p.base.args:
        other = p.base.args[0] if p.base.args[1] == 1 else p.base.args[1]
        if isinstance(other, sp.exp):
            return -other.args[0]
    return None


def mse(yhat: sp.Expr, y: sp.Expr) -> sp.Expr:
    r"""Squared error :math:`(\hat y - y)^2` (its mean over samples is the MSE)."""
    return (yhat - y) ** 2


def bce_logit(z: sp.Expr, y: sp.Expr) -> sp.Expr:
    r"""Cross-entropy of :math:`p = \sigma(z)` from the logit z: :math:`\operatorname{softplus}(z) - y z`.

    Equal to :math:`-(y \log \sigma(z) + (1 - y) \log(1 - \sigma(z)))`; its gradient in z is
    :math:`\sigma(z) - y`.
    """
    return softplus(z) - y * z


def bce_prob(p: sp.Expr, y: sp.Expr) -> sp.Expr:
    r"""Cross-entropy :math:`-(y \log p + (1 - y) \log(1 - p))` of a probability p.

    When p is visibly :math:`\sigma(z)` this is ``bce_logit(z, y)`` (the same function, computed stably).
    """
    z = as_logit(p)
    if z is not None:
        return bce_logit(z, y)
    return -(y * sp.log(p) + (1 - y) * sp.log(1 - p))


def _bce(model: sp.Expr, y: sp.Expr) -> sp.Expr:
    z = as_logit(model)
    if z is None:
        raise InputError("loss 'bce' needs to know what the model gives: use 'bce_logit' (the model is a logit z, "
                         "p = sigmoid(z)) or 'bce_prob' (the model is a probability in (0, 1))")
    return bce_logit(z, y)


LOSSES = {"mse": mse, "bce": _bce, "bce_logit": bce_logit, "bce_prob": bce_prob}


def per_sample_loss(model: sp.Expr, y: sp.Symbol, loss: str = "mse") -> sp.Expr:
    """The per-sample loss ℓ of ``model`` against the target symbol ``y``.

    ``loss`` is a name of ``LOSSES`` ("bce" means "bce_prob" and needs a model of the form sigmoid(z)),
    or an expression typed in ``yhat`` (the model's output) and ``y`` (the target).

    >>> x, a, t = sp.symbols("x a t", real=True)
    >>> per_sample_loss(a * x, t, "abs(yhat - y)")
    Abs(a*x - t)
    """
    if not isinstance(loss, str):
        raise InputError(f"loss must be a name ({', '.join(LOSSES)}) or an expression in yhat and y, got {loss!r}")
    key = loss.strip()
    if key.lower() in LOSSES:
        return LOSSES[key.lower()](model, y)
    expr, symbols = parse(key)
    names = {s.name: s for s in symbols}
    extra = sorted(set(names) - {"yhat", "y"})
    if extra:
        hint = difflib.get_close_matches(key.lower(), list(LOSSES), n=1)
        more = f"; did you mean {hint[0]!r}?" if hint else f"; known losses: {', '.join(LOSSES)}"
        raise InputError(f"a typed loss may use only yhat and y, got {', '.join(extra)}{more}")
    if "yhat" not in names:
        raise InputError(f"the loss {key!r} does not use yhat (the model's output)")
    return expr.xreplace({names["yhat"]: model, **({names["y"]: y} if "y" in names else {})})


