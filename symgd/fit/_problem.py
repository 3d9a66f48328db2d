r"""``ModelProblem``: a model with parameters, a data set and a per-sample loss, compiled for mean losses.

The mean loss over samples :math:`L(\theta) = \frac1M \sum_i \ell(\theta; x_i, y_i)` and its gradient come
from one lambdified program of the per-sample loss and its symbolic gradient (``symgd.models.gradient_program``),
called with the parameters as ``(B, 1)`` columns against the data as ``(1, M)`` rows: one call evaluates a
whole mini-batch for a whole batch of parameter vectors.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp

from symgd.errors import InputError
from symgd.fit._checks import _init, _inputs, _loss_label, _params, _standardized, _target
from symgd.fit._data import as_columns, column_stats
from symgd.fit._scaling import _unscaler
from symgd.kernels import Kernels, lambdify_batched
from symgd.models import MLP, Program, dag_size, gradient_program, per_sample_loss, share_subexpressions
from symgd.parse import parse
from symgd.problem import Problem

_CHUNK = 1 << 22  # floats per evaluation block (32 MB): long data sets and big grids go in blocks
_ACCEPTS_CSE = "cse" in inspect.signature(lambdify_batched).parameters
SYMBOLIC_SAMPLES = 1000  # loss_problem() writes the full-data loss out symbolically up to this many samples
SYMBOLIC_NODES = 200_000  # ... and this many expression nodes (samples x per-sample DAG size)
MAX_HESSIAN_PARAMS = 40


def _compile(variables, program: Program, extra):
    """Lambdify a Program; its precomputed temporaries go in as lambdify's cse when ``lambdify_batched`` allows."""
    if _ACCEPTS_CSE:
        assignments = program.assignments
        return lambdify_batched(variables, program.outputs, extra=extra,
                                cse=lambda exprs: (assignments, list(exprs)))
    return lambdify_batched(variables, program.expand(), extra=extra)  # sympy.cse: 16 s on [20, 20] vs 2 s


class _Means:
    """A compiled per-sample program averaged over samples: θ (B, n), sample indices -> (B, k)."""

    def __init__(self, fn, n: int, k: int, cols: np.ndarray):
        self.fn, self.n, self.k, self.cols = fn, n, k, cols  # cols (d, M): the argument columns after θ

    def __call__(self, theta: np.ndarray, idx=None) -> np.ndarray:
        cols = self.cols if idx is None else self.cols[:, idx]
        B, M, k = theta.shape[0], cols.shape[1], self.k
        out = np.empty((B, k))
        rows = max(1, min(B, _CHUNK // k))
        per = max(1, min(M, _CHUNK // (k * rows)))
        for r0 in range(0, B, rows):
            th = theta[r0:r0 + rows]
            args = [th[:, i:i + 1] for i in range(self.n)]
            acc = None
            for s0 in range(0, M, per):
                block = cols[:, s0:s0 + per]
                buf = np.empty((k, th.shape[0], block.shape[1]))
                for i, r in enumerate(self.fn(*args, *block[:, None, :])):
                    buf[i] = r  # broadcasts constants and (B, 1) / (1, m) entries alike
                part = buf.sum(axis=2)
                acc = part if acc is None else acc + part
            out[r0:r0 + rows] = acc.T / M
        return out


class BatchOracle:
    """The mean loss over one mini-batch, fixed for one optimizer step: ``f``, ``grad``, ``f_and_grad``, ``hess``.

    ``f`` and ``grad`` at the same array come from one call (cached by identity), so recording the batch
    loss of a step costs nothing extra.
    """

    __slots__ = ("n", "idx", "_fg", "_f", "_hess", "_x", "_val")

    def __init__(self, n: int, fg: _Means, f: _Means, hess, idx):
        self.n, self.idx, self._fg, self._f, self._hess = n, idx, fg, f, hess
        self._x = self._val = None

    def f_and_grad(self, x):
        if x is not self._x:
            out = self._fg(x, self.idx)
            self._x, self._val = x, (out[:, 0], out[:, 1:])
        return self._val

    def grad(self, x):
        return self.f_and_grad(x)[1]

    def f(self, x):
        return self._val[0] if x is self._x else self._f(x, self.idx)[:, 0]

    def hess(self, x):
        return self._hess(x, self.idx)


def _rows(x, n: int):
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1:] != (n,):
        raise InputError(f"parameters of shape {x.shape} do not fit: the model has {n} parameters")
    return np.ascontiguousarray(x.reshape(-1, n)), x.shape[:-1]


class ModelProblem:
    r"""A model :math:`\hat y = m(\theta; x)` fitted to data by a mean per-sample loss.

    Parameters
    ----------
    model : str, sympy.Expr or symgd.models.MLP
        The model, e.g. ``"exp(-a*x) + b*x + c"``, or ``mlp(...)`` (which also gives params and init).
    params : str or sequence of str / Symbol
        The parameters θ to fit, in order (``"a,b,c"``). Every other name of the model is a data column.
    data : dict of str to array, or a CSV path
        The columns; see ``load_csv``.
    target : str
        The column y the model predicts.
    loss : str
        ``"mse"`` (:math:`(\hat y - y)^2`), ``"bce_logit"`` (the model gives a logit z:
        :math:`\operatorname{softplus}(z) - y z`), ``"bce_prob"`` (the model gives a probability p:
        :math:`-(y \log p + (1 - y) \log(1 - p))`), ``"bce"`` (= bce_prob for a model ``sigmoid(z)``), or an
        expression in ``yhat`` and ``y`` such as ``"abs(yhat - y)"``. The batch loss is the mean.
    standardize : bool or sequence of str
        Standardize the model's input columns (all, or those named): :math:`\tilde x = (x - \mu)/\sigma`.
        The problem then trains in scaled units; see ``to_original`` and ``loss_problem``.
    init : array_like, optional
        Default start for ``fit`` (an MLP's seeded weights); zeros otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> p = ModelProblem("w*x + b", "w,b", {"x": [0.0, 1.0, 2.0], "y": [1.0, 3.0, 5.0]}, "y")
    >>> p
    ModelProblem(mse of b + w*x vs y, params (w, b), 3 samples)
    >>> float(p.kernels.f(np.array([2.0, 1.0]))), p.kernels.grad(np.array([0.0, 0.0])).tolist()
    (0.0, [-8.666666666666666, -6.0])
    """

    def __init__(self, model, params=None, data=None, target: str = "y", loss: str = "mse", *,
                 standardize=False, init=None):
        if isinstance(model, MLP):
            expr, params, init = model.expr, model.params if params is None else params, \
                model.init if init is None else init
        elif isinstance(model, str):
            expr = parse(model)[0]
        elif isinstance(model, sp.Expr):
            expr = model
        else:
            raise InputError(f"the model must be text, a SymPy expression or an mlp(...), got {type(model).__name__}")
        if data is None:
            raise InputError("data= is required: a CSV path or a dict of columns")
        columns = as_columns(data)
        self.model = expr
        self.params = _params(params, expr)
        self.target = _target(target, columns, expr, self.params)
        self.inputs = _inputs(expr, self.params, columns)
        self.loss = loss
        self.loss_expr = per_sample_loss(expr, self.target, loss)
        self.columns = {s.name: columns[s.name] for s in (*self.inputs, self.target)}
        self.n_samples = len(columns[self.target.name])
        self.standardized = _standardized(standardize, self.inputs)
        self.init = None if init is None else _init(init, self.n)

    variables = property(lambda self: self.params, doc="The parameters (Problem's name for them).")
    n = property(lambda self: len(self.params), doc="Number of parameters.")

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.params[:6]) + (", ..." if self.n > 6 else "")
        model = sp.sstr(self.model)
        model = model if len(model) <= 60 else model[:57] + "..."
        scaled = f", standardized {', '.join(self.standardized)}" if self.standardized else ""
        return (f"ModelProblem({_loss_label(self.loss)} of {model} vs {self.target.name}, params ({names}), "
                f"{self.n_samples} samples{scaled})")

    # -- data -----------------------------------------------------------------------------------

    @cached_property
    def stats(self) -> dict[str, tuple[float, float]]:
        """Mean and sd (ddof = 0) of every input column (a constant column is an error only when scaling)."""
        out = {}
        for s in self.inputs:
            a = self.columns[s.name]
            out[s.name] = (float(a.mean()), float(a.std()))
        return out

    def _cols(self, scaled: bool, columns=None) -> np.ndarray:
        """The argument columns (inputs..., target) as (d, M); inputs standardized if ``scaled``."""
        columns = self.columns if columns is None else columns
        which = (self.standardized or tuple(s.name for s in self.inputs)) if scaled else ()
        stats = column_stats(self.columns, which)
        rows = []
        for s in (*self.inputs, self.target):
            a = columns[s.name]
            rows.append((a - stats[s.name][0]) / stats[s.name][1] if s.name in stats else a)
        return np.ascontiguousarray(np.stack(rows))

    # -- compiled programs ----------------------------------------------------------------------

    @cached_property
    def program(self) -> Program:
        """``[ℓ, ∂ℓ/∂θ_1, ...]`` as straight-line code (symbolic backpropagation, shared subexpressions)."""
        return gradient_program(self.loss_expr, self.params)

    @cached_property
    def _fns(self) -> dict:
        extra = (*self.inputs, self.target)
        return {"fg": _compile(self.params, self.program, extra),
                "f": _compile(self.params, share_subexpressions(Program([], [self.loss_expr])), extra)}

    def _hess_fn(self):
        if "hess" not in self._fns:
            if self.n > MAX_HESSIAN_PARAMS:
                raise InputError(f"the Hessian of a model with {self.n} parameters is not compiled "
                                 f"(limit {MAX_HESSIAN_PARAMS}); use a first-order method")
            grads = Program(self.program.assignments, self.program.outputs[1:]).expand()
            entries = [sp.diff(grads[i], self.params[j]) for i in range(self.n) for j in range(i, self.n)]
            self._fns["hess"] = _compile(self.params, share_subexpressions(Program([], entries)),
                                         (*self.inputs, self.target))
        return self._fns["hess"]

    @cached_property
    def _engines(self) -> dict:
        return {}

    def _means(self, kind: str, scaled: bool) -> _Means:
        key = (kind, scaled)
        if key not in self._engines:
            k = {"f": 1, "fg": 1 + self.n, "hess": self.n * (self.n + 1) // 2}[kind]
            fn = self._hess_fn() if kind == "hess" else self._fns[kind]
            self._engines[key] = _Means(fn, self.n, k, self._cols(scaled))
        return self._engines[key]

    def _hess_means(self, scaled: bool):
        n = self.n

        def hess(x, idx=None):
            tri = self._means("hess", scaled)(x, idx)
            iu = np.triu_indices(n)
            H = np.empty((x.shape[0], n, n))
            H[:, iu[0], iu[1]] = tri
            H[:, iu[1], iu[0]] = tri
            return H

        return hess

    def kernels_for(self, scaled: bool) -> Kernels:
        """Full-data mean-loss kernels over the raw (``scaled=False``) or standardized inputs."""
        n, f, fg, hess = self.n, self._means("f", scaled), self._means("fg", scaled), self._hess_means(scaled)

        def f_(x):
            x2, shape = _rows(x, n)
            return f(x2)[:, 0].reshape(shape)

        def f_and_grad(x):
            x2, shape = _rows(x, n)
            out = fg(x2)
            return out[:, 0].reshape(shape), out[:, 1:].reshape(shape + (n,))

        def hess_(x):
            x2, shape = _rows(x, n)
            return hess(x2).reshape(shape + (n, n))

        return Kernels(n, f_, lambda x: f_and_grad(x)[1], hess_, f_and_grad, inspect.getsource(self._fns["fg"]))

    @cached_property
    def kernels(self) -> Kernels:
        """Full-data mean-loss kernels in the training parametrization (standardized inputs if chosen)."""
        return self.kernels_for(bool(self.standardized))

    def batch_oracle(self, idx) -> BatchOracle:
        """The oracle an optimizer sees for one step: the mean loss over the training samples ``idx``."""
        scaled = bool(self.standardized)
        return BatchOracle(self.n, self._means("fg", scaled), self._means("f", scaled), self._hess_means(scaled), idx)

    def loss_at(self, x, idx=None) -> np.ndarray:
        """Mean training loss at parameters x (B, n) over all samples or those of ``idx``: shape (B,)."""
        return self._means("f", bool(self.standardized))(x, idx)[:, 0]

    def predict(self, x, data=None) -> np.ndarray:
        """Model outputs at parameters x ((n,) or (B, n)) for the training data or new ``data`` (raw units).

        Returns shape (M,) or (B, M). A standardized problem scales new data with the training statistics.
        """
        if "model" not in self._fns:
            self._fns["model"] = _compile(self.params, share_subexpressions(Program([], [self.model])), self.inputs)
        x2, shape = _rows(x, self.n)
        if data is None:
            cols = self._cols(bool(self.standardized))[:-1]
        else:
            given = as_columns(data)
            missing = [s.name for s in self.inputs if s.name not in given]
            if missing:
                raise InputError(f"the data has no column {missing[0]!r}, which the model uses")
            given = {**given, self.target.name: np.zeros(len(given[self.inputs[0].name]) if self.inputs else 1)}
            cols = self._cols(bool(self.standardized), given)[:-1]
        m = cols.shape[1] if self.inputs else 1
        out = np.empty((x2.shape[0], m))
        out[:] = self._fns["model"](*(x2[:, i:i + 1] for i in range(self.n)), *cols[:, None, :])[0]
        return out.reshape(shape + (m,))

    # -- parametrizations -----------------------------------------------------------------------

    @cached_property
    def _unscale(self):
        return _unscaler(self.model, self.params, column_stats(self.columns, self.standardized)) \
            if self.standardized else None

    @property
    def maps_back(self) -> bool:
        """True when fitted parameters of a standardized problem map exactly back to the original units."""
        return self._unscale is not None

    def to_original(self, x) -> np.ndarray:
        r"""Parameters fitted on standardized inputs, in the original units (exact; same model function).

        Found by substituting :math:`\tilde x = (x - \mu)/\sigma` and matching coefficients, which works
        when the model is a polynomial in the standardized inputs (possibly inside sigmoid, exp or tanh);
        otherwise an ``InputError`` says the parameters stay in scaled units.
        """
        if not self.standardized:
            return np.array(x, dtype=np.float64)
        if self._unscale is None:
            raise InputError("the model is not a polynomial in its standardized inputs: its parameters stay in "
                             "scaled units")
        x2, shape = _rows(x, self.n)
        out = np.empty_like(x2)
        for i, v in enumerate(self._unscale(*(x2[:, j] for j in range(self.n)))):
            out[:, i] = v
        return out.reshape(shape + (self.n,))

    def loss_problem(self, scaled: bool | None = None, symbolic: bool | None = None) -> DataLoss:
        """The full-data mean loss as a ``symgd.Problem`` over the parameters (for minimize, plots, critical points).

        ``scaled``: over standardized inputs (True), raw inputs (False), or as trained (None). The loss
        surface is elongated on raw inputs of different spreads and round on standardized ones (seed 003).
        ``symbolic``: write the loss out as a SymPy sum over the samples (default: when at most
        ``SYMBOLIC_SAMPLES`` samples and ``SYMBOLIC_NODES`` nodes); otherwise ``expr`` is an opaque
        ``mse(a, b, c)`` and only the kernels evaluate it. The kernels are always the compiled data ones.
        """
        scaled = bool(self.standardized) if scaled is None else bool(scaled)
        M = self.n_samples
        if symbolic is None:
            symbolic = M <= SYMBOLIC_SAMPLES and M * dag_size(self.loss_expr) <= SYMBOLIC_NODES
        if not symbolic:
            name = _loss_label(self.loss) + ("_scaled" if scaled else "")
            return DataLoss(sp.Function(name, real=True)(*self.params), self.params, model_problem=self,
                            scaled=scaled, symbolic=False)
        cols, syms = self._cols(scaled), (*self.inputs, self.target)
        samples = [{s: sp.Float(float(cols[j, i])) for j, s in enumerate(syms)} for i in range(M)]
        per_sample = [self.loss_expr, *Program(self.program.assignments, self.program.outputs[1:]).expand()]
        means = [sp.Add(*(e.xreplace(values) for values in samples)) / M for e in per_sample]
        return DataLoss(means[0], self.params, model_problem=self, scaled=scaled, symbolic=True,
                        sample_gradient=tuple(means[1:]))

    def minimize(self, method, x0=None, steps: int = 100, **options):
        """Full-batch ``symgd.minimize`` on the training loss (x0 defaults to ``init`` or zeros)."""
        from symgd.minimize import minimize

        x0 = (self.init if self.init is not None else np.zeros(self.n)) if x0 is None else x0
        return minimize(self.loss_problem(symbolic=False), method, x0, steps=steps, **options)


@dataclass(frozen=True, repr=False, eq=False)
class DataLoss(Problem):
    """A ``ModelProblem``'s full-data mean loss as a ``Problem``; ``kernels`` evaluate it from the data."""

    model_problem: Any = field(default=None, compare=False)
    scaled: bool = False
    symbolic: bool = True
    sample_gradient: tuple | None = field(default=None, compare=False)  # mean of the per-sample gradients

    @cached_property
    def gradient(self) -> sp.Matrix:
        """The mean of the per-sample gradients (equal to ``diff(expr)``, and much faster to build)."""
        if self.sample_gradient is None:
            return Problem.gradient.func(self)
        return sp.Matrix(list(self.sample_gradient))

    @property
    def kernels(self) -> Kernels:  # noqa: D102 (the compiled data kernels, never the symbolic sum)
        return self.model_problem.kernels_for(self.scaled)

    def critical_points(self, **options):
        """Critical points of the symbolic loss (needs ``symbolic=True``)."""
        if not self.symbolic:
            raise InputError("this loss has no symbolic form (too many samples or nodes); "
                             "use loss_problem(symbolic=True) on a small data set")
        return super().critical_points(**options)

    def __repr__(self) -> str:
        mp = self.model_problem
        names = ", ".join(p.name for p in self.variables[:6]) + (", ..." if self.n > 6 else "")
        return (f"DataLoss({_loss_label(mp.loss)} over {mp.n_samples} samples{' (standardized)' * self.scaled}, "
                f"variables=({names}))")
