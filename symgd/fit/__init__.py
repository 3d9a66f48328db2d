r"""Learning from data: a model with parameters, a data set, a loss, and mini-batch training.

>>> import numpy as np
>>> from symgd.fit import ModelProblem, fit
>>> rng = np.random.default_rng(0)
>>> x = rng.uniform(-3, 3, 100)
>>> data = {"x": x, "y": np.exp(-1.2 * x) + 3.4 * x + 5.6}
>>> p = ModelProblem("exp(-a*x) + b*x + c", "a,b,c", data, target="y")
>>> r = fit(p, "adam", x0=[1.0, 3.0, 5.0], epochs=300, batch_size=10, lr=0.05)
>>> r.x.round(2).tolist()
[1.2, 3.4, 5.6]

- ``ModelProblem(model, params, data, target, loss)``: the per-sample loss ℓ(θ; x, y) and its symbolic
  gradient, compiled once; ``kernels`` evaluate the full-data mean loss (a ``Problem``-like oracle),
  ``loss_problem()`` is a ``symgd.Problem`` over the parameters for ``minimize``, plots and critical points.
- ``fit(problem, method, x0, epochs, batch_size, ...)``: any optimizer, mini-batches reshuffled each epoch
  from a seed, per-epoch full-data loss, divergence per start; returns ``FitResult``.
- ``load_csv(path)``: a CSV with a header; bad cells are one-line errors naming row and column.
- ``standardize=True``: train on standardized inputs; parameters map back to the original units exactly
  when the model is a polynomial in its inputs.
"""

from symgd.fit._data import as_columns, column_stats, load_csv
from symgd.fit._options import fit_from_options
from symgd.fit._problem import BatchOracle, DataLoss, ModelProblem
from symgd.fit._train import FitResult, fit

__all__ = ["BatchOracle", "DataLoss", "FitResult", "ModelProblem", "as_columns", "column_stats", "fit",
           "fit_from_options", "load_csv"]
