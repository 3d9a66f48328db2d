"""``fit_from_options``: the ``symgd fit`` command's entry point, with every option checked first."""

from __future__ import annotations

import math
import numbers
import os

from symgd.errors import InputError
from symgd.fit._problem import ModelProblem
from symgd.fit._train import FitResult, fit


def fit_from_options(model_text, data_path, target, params, loss="mse", batch_size=None, epochs=100,
                     method="gd", hyper=None, seed=0, standardize=False, x0=None, *, shuffle=True,
                     drop_last=False, tol=None, progress=None) -> FitResult:
    """Validate command-line style options, build the ``ModelProblem`` and ``fit`` it.

    Parameters
    ----------
    model_text : str
        The model, e.g. ``"exp(-a*x) + b*x + c"``.
    data_path : str or os.PathLike
        A CSV file with a header row.
    target : str
        The column the model predicts.
    params : str or sequence of str
        The parameters, ``"a,b,c"``.
    loss, batch_size, epochs, method, seed, shuffle, drop_last, tol, progress
        As ``ModelProblem`` and ``fit``.
    hyper : dict or None
        The optimizer's hyperparameters (``{"lr": 0.01}``).
    standardize : bool or str
        Standardize all inputs (True) or the comma-separated names given.
    x0 : None, str, sequence of str, or array_like
        ``"1,2,3"`` (one start), several such strings (several starts), or numbers.

    Raises
    ------
    InputError, ParseError
        One line naming the option, row or column at fault.
    """
    if not isinstance(model_text, str) or not model_text.strip():
        raise InputError("the model is empty: give an expression such as 'exp(-a*x) + b*x + c'")
    if not isinstance(data_path, (str, os.PathLike)):
        raise InputError(f"--data must be a CSV file path, got {data_path!r}")
    if not isinstance(target, str) or not target.strip():
        raise InputError("--target must name the column to predict")
    names_ok = isinstance(params, (list, tuple)) and all(isinstance(p, str) for p in params)
    if not isinstance(params, str) and not names_ok:
        raise InputError(f"--params must be comma-separated names, got {params!r}")
    if not isinstance(loss, str):
        raise InputError(f"--loss must be mse, bce, bce_logit, bce_prob or an expression in yhat and y, got {loss!r}")
    if not isinstance(method, str):
        raise InputError(f"--method must be an optimizer name, got {method!r}")
    if hyper is None:
        hyper = {}
    if not isinstance(hyper, dict) or not all(isinstance(k, str) for k in hyper):
        raise InputError(f"hyperparameters must be NAME=VALUE pairs, got {hyper!r}")
    problem = ModelProblem(model_text, params, data_path, target, loss, standardize=_standardize(standardize))
    return fit(problem, method, x0=_x0(x0), epochs=_integer("epochs", epochs), batch_size=_batch(batch_size),
               shuffle=shuffle, drop_last=drop_last, seed=_integer("seed", seed), tol=tol, progress=progress,
               **hyper)


def _integer(name: str, v):
    if isinstance(v, str) and v.strip().isdigit():
        return int(v)
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise InputError(f"--{name.replace('_', '-')} must be a whole number, got {v!r}")
    return int(v)


def _batch(v):
    return None if v is None or (isinstance(v, str) and v.strip().lower() in ("", "full", "none")) \
        else _integer("batch_size", v)


def _standardize(v):
    if isinstance(v, str):
        low = v.strip().lower()
        if low in ("true", "yes", "all"):
            return True
        if low in ("false", "no", "none", ""):
            return False
        return [s.strip() for s in v.split(",") if s.strip()]
    if isinstance(v, (bool, list, tuple)) or v is None:
        return bool(v) if v is None else v
    raise InputError(f"--standardize must be true/false or column names, got {v!r}")


def _x0(v):
    if v is None:
        return None
    if isinstance(v, str):
        return _numbers(v)
    if isinstance(v, (list, tuple)) and v and all(isinstance(s, str) for s in v):
        rows = [_numbers(s) for s in v]
        if len({len(r) for r in rows}) != 1:
            raise InputError("every --x0 must have the same number of values")
        return rows
    return v


def _numbers(text: str) -> list[float]:
    out = []
    for cell in text.split(","):
        try:
            value = float(cell)
        except ValueError:
            raise InputError(f"x0 value {cell.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise InputError(f"x0 value {cell.strip()!r} is not finite")
        out.append(value)
    return out
