"""Fully connected networks as one symbolic per-sample expression, with seeded initial weights."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import sympy as sp

from symgd.errors import InputError
from symgd.models._functions import relu, sigmoid
from symgd.parse import validate_name


class MLP(NamedTuple):
    """``mlp``'s result: unpack as ``expr, params, init = mlp(...)``."""

    expr: sp.Expr  # per-sample output, in the inputs and params
    params: tuple  # Symbols w{l}_{j}_{i}, b{l}_{j}, layer by layer
    init: np.ndarray  # (n,) seeded initial values, in params order


ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": sp.tanh}
OUTPUTS = {"sigmoid": sigmoid, "linear": lambda z: z}


def mlp(inputs, hidden: Sequence[int] = (10, 10), activation: str = "relu", output: str = "sigmoid",
        seed: int = 0) -> MLP:
    r"""A fully connected network as one symbolic per-sample expression.

    .. math::

        h^{(0)} = x, \quad h^{(l)}_j = a\Big(\sum_i w^{(l)}_{j,i} h^{(l-1)}_i + b^{(l)}_j\Big), \quad
        \hat y = o\Big(\sum_i w^{(L+1)}_{0,i} h^{(L)}_i + b^{(L+1)}_0\Big)

    Parameters
    ----------
    inputs : sequence of str, or a comma-separated str
        Names of the input data columns, e.g. ``["x1", "x2"]``.
    hidden : sequence of int
        Units per hidden layer (``[]``: no hidden layer, a generalized linear model).
    activation : {"relu", "sigmoid", "tanh"}
        Hidden activation a. ReLU's derivative is 0 at 0 (``unit_step``).
    output : {"sigmoid", "linear"}
        Output o: a probability (use ``loss="bce"``) or a real value (``loss="mse"``).
    seed : int
        Seed of ``numpy.random.default_rng`` for the initial weights.

    Returns
    -------
    MLP
        ``(expr, params, init)``; weights are named ``w{l}_{j}_{i}`` (layer l = 1..L+1, unit j, input i) and
        biases ``b{l}_{j}``, ordered layer by layer, weights row by row, then biases.

    Initialization: weights normal with mean 0 and sd :math:`\sqrt{2/n_{in}}` (He et al. 2015) in
    ReLU layers, :math:`\sqrt{2/(n_{in} + n_{out})}` (Glorot & Bengio 2010, normal form) in sigmoid and
    tanh layers and in the output layer; biases 0.

    Examples
    --------
    >>> expr, params, init = mlp(["x"], hidden=[2], output="linear")
    >>> expr
    b2_0 + w2_0_0*relu(b1_0 + w1_0_0*x) + w2_0_1*relu(b1_1 + w1_1_0*x)
    >>> [p.name for p in params]
    ['w1_0_0', 'w1_1_0', 'b1_0', 'b1_1', 'w2_0_0', 'w2_0_1', 'b2_0']
    >>> init.shape
    (7,)
    """
    names = [v.strip() for v in inputs.split(",")] if isinstance(inputs, str) else list(inputs)
    if not names:
        raise InputError("mlp needs at least one input name")
    xs = [sp.Symbol(validate_name(str(v)), real=True) for v in names]
    sizes = [len(xs), *_units(hidden), 1]
    act = _choice("activation", activation, ACTIVATIONS)
    out = _choice("output", output, OUTPUTS)
    rng = np.random.default_rng(seed)
    h, params, init = xs, [], []
    for layer in range(1, len(sizes)):
        n_in, n_out, last = sizes[layer - 1], sizes[layer], layer == len(sizes) - 1
        sd = np.sqrt(2.0 / n_in) if (activation == "relu" and not last) else np.sqrt(2.0 / (n_in + n_out))
        W = [[sp.Symbol(f"w{layer}_{j}_{i}", real=True) for i in range(n_in)] for j in range(n_out)]
        b = [sp.Symbol(f"b{layer}_{j}", real=True) for j in range(n_out)]
        params += [w for row in W for w in row] + b
        init += list(rng.normal(0.0, sd, n_out * n_in)) + [0.0] * n_out
        z = [sp.Add(*(w * hi for w, hi in zip(W[j], h)), b[j]) for j in range(n_out)]
        h = [(out if last else act)(zj) for zj in z]
    clash = sorted({x.name for x in xs} & {p.name for p in params})
    if clash:
        raise InputError(f"input name {clash[0]} is also a weight's name; rename the input")
    return MLP(h[0], tuple(params), np.array(init, dtype=float))


def _units(hidden) -> list[int]:
    units = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
    for u in units:
        if isinstance(u, bool) or not isinstance(u, (int, np.integer)) or u < 1:
            raise InputError(f"hidden layer sizes must be positive integers, got {hidden!r}")
    return [int(u) for u in units]


def _choice(what: str, value, options: dict):
    if value not in options:
        raise InputError(f"{what} must be one of {', '.join(options)}, got {value!r}")
    return options[value]


