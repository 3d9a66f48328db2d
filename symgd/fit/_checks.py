"""Checks of a model problem's parts: parameters, target, inputs, standardization, start; one-line errors."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symgd.errors import InputError
from symgd.parse import natural_key, validate_name


def _loss_label(loss) -> str:
    key = loss.strip().lower() if isinstance(loss, str) else ""
    return key if key in ("mse", "bce", "bce_logit", "bce_prob") else "loss"


def _by_name(expr: sp.Expr) -> dict:
    return {s.name: s for s in expr.free_symbols if isinstance(s, sp.Symbol)}


def _params(params, expr) -> tuple:
    if params is None:
        raise InputError("params= is required: name the parameters to fit, e.g. params='a,b,c'")
    items = [v.strip() for v in params.split(",") if v.strip()] if isinstance(params, str) else list(params)
    if not items:
        raise InputError("params is empty: name at least one parameter to fit")
    known, out = _by_name(expr), []
    for v in items:
        name = v.name if isinstance(v, sp.Symbol) else v
        if not isinstance(name, str):
            raise InputError(f"a parameter must be a name or a Symbol, got {v!r}")
        validate_name(name)
        if name not in known:
            raise InputError(f"parameter {name!r} does not appear in the model {sp.sstr(expr)}")
        if any(p.name == name for p in out):
            raise InputError(f"parameter {name!r} is listed twice")
        out.append(known[name])
    return tuple(out)


def _target(target, columns, expr, params) -> sp.Symbol:
    if not isinstance(target, str) or not target.strip():
        raise InputError(f"target must be a column name, got {target!r}")
    target = target.strip()
    if target not in columns:
        raise InputError(f"target column {target!r} is not in the data (columns: {', '.join(columns)})")
    if target in _by_name(expr):
        what = "a parameter" if any(p.name == target for p in params) else "an input"
        raise InputError(f"the target column {target!r} is also {what} of the model")
    return sp.Symbol(target, real=True)


def _inputs(expr, params, columns) -> tuple:
    names = sorted(set(_by_name(expr)) - {p.name for p in params}, key=natural_key)
    missing = [n for n in names if n not in columns]
    if missing:
        raise InputError(f"the model uses {missing[0]!r}, which is neither a parameter nor a data column "
                         f"(columns: {', '.join(columns)})")
    known = _by_name(expr)
    return tuple(known[n] for n in names)


def _standardized(standardize, inputs) -> tuple:
    names = [s.name for s in inputs]
    if standardize is True:
        return tuple(names)
    if standardize is False or standardize is None:
        return ()
    chosen = [v.strip() for v in standardize.split(",")] if isinstance(standardize, str) else list(standardize)
    for v in chosen:
        if v not in names:
            raise InputError(f"standardize names {v!r}, which is not an input of the model "
                             f"(inputs: {', '.join(names)})")
    return tuple(n for n in names if n in chosen)


def _init(init, n) -> np.ndarray:
    a = np.asarray(init, dtype=np.float64)
    if a.shape != (n,) or not np.isfinite(a).all():
        raise InputError(f"init must be {n} finite numbers, got shape {a.shape}")
    return a
