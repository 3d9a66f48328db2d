"""The scalar ("fused") form of the elementwise optimizers: the rules, and the state initialisers.

Each elementwise optimizer returns, beside its NumPy ``(init, step)``, a ``Fused(state, init, coefs,
update)`` (``symgd.optimizers._core``) that ``symgd.fused`` turns into one scalar kernel per problem.
Its ``update(x, g, s, c) -> (x_next, s_next)`` follows these rules, so that CPython runs it as it
is and ``numba.njit`` compiles it in nopython mode:

- a **module-level** function (never a closure) of float arithmetic, ``math.sqrt``/``math.fabs`` and
  ``if`` on scalars, calling no other Python function: the "python" backend runs it once per coordinate
  and step, where a call costs more than the arithmetic (so nadam and radam repeat Adam's two moment
  lines). Lookahead's updates are the exception: they call the inner update by a global name, which
  ``symgd.fused`` compiles first;
- every hyperparameter and every t-dependent number arrives in ``c = coefs(t)``, a fixed-length row
  of floats, flags as 0.0/1.0 (``bit``; tested as ``if c[k] > 0.0:``): the compiled kernel is cached
  per ``update``, so another lr, β or ε reuses it;
- the same floating-point operations, in the same order, as the NumPy ``step`` (the reference): a
  coefficient computed on the host is computed by the same expression as in ``step``; NumPy's
  ``np.maximum`` propagates NaN, which Python's ``max`` does not, so it is spelled
  ``a if a > b or a != a else b``; ``safe_div`` with ε = 0 is ``num / den if den > 0.0 else type(num)(0.0)``
  (a zero of num's type: a literal 0.0 would turn a float32 kernel's arithmetic into float64).

``tests/test_fused_updates.py`` runs both forms side by side (and the update under numba) for every
configuration and checks they agree to 1e-12 (they agree bit for bit). Classical NAG's gradient is
taken at the look-ahead point x + μv: its ``Fused.point(x, s, c) -> z`` follows the same rules.
Lookahead wraps any inner form (``symgd.optimizers.lookahead``): one module-level update per inner
update, which calls it by a global name (numba compiles such a callee first). SWATS has no scalar
form: its switch to SGD needs per-start sums over all coordinates (pᵀg, pᵀp) between two steps.

>>> import numpy as np
>>> [a.tolist() for a in zeros(2)(np.ones((1, 2)))]
[[[0.0, 0.0]], [[0.0, 0.0]]]
>>> bit(True), bit(False)
(1.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def zeros(k: int) -> Callable[[Array], tuple]:
    """``init`` for ``k`` state scalars per coordinate, all starting at 0 (k separate arrays)."""

    def init(x: Array) -> tuple:
        return tuple(np.zeros_like(x) for _ in range(k))

    init.zeros = k  # the compiled backends allocate zeroed state without calling init (1e6 starts: ~0.5 s less)
    return init


def bit(value) -> float:
    """A static choice as a coefficient: 1.0 or 0.0 (tested by the update as ``c[k] > 0.0``)."""
    return 1.0 if value else 0.0
