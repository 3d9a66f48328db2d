"""Lookahead: slow weights that follow any inner optimizer's fast weights every k steps.

Its scalar form (``Fused``, for ``symgd.fused``) wraps the inner optimizer's: per coordinate the state
is ``(φ, *inner state)`` and the coefficients ``(sync?, α, *inner coefs(t))``. The update is a copy of
the module-level ``lookahead_update`` whose global ``inner`` is the inner update (numba compiles a
function's global callees first), made once per inner update and kept in this module under a name
that says which (``lookahead_update<symgd/optimizers/gd:update>``), so that another lr, k or α reuses
the compiled kernel and a pickle (a Dask worker) finds it by name. Classical NAG's ``point`` is
wrapped the same way (``lookahead_point``).

>>> opt = get("lookahead", inner="adam", lr=0.1, k=3)
>>> opt.fused.update.__name__, opt.fused.state
('lookahead_update<symgd/optimizers/_adaptive:adam_update_plain>', ('slow', 'm', 'v', 'vmax'))
>>> get("lookahead", inner="adam", lr=0.5, k=7).fused.update is opt.fused.update
True
>>> [opt.fused.coefs(t)[:2] for t in (1, 3)]
[(0.0, 0.5), (1.0, 0.5)]
"""

from __future__ import annotations

import importlib
import numbers
import sys
import threading
import types
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from symgd.optimizers._adaptive import real
from symgd.optimizers._core import Fused, get, optimizer, require
from symgd.optimizers._scalar import bit


class LookaheadState(NamedTuple):
    slow: np.ndarray  # (B, n) slow weights phi, phi_0 = x_0
    inner: Any  # the inner optimizer's state, kept across syncs


@optimizer
def lookahead(inner="gd", k=5, alpha=0.5, **inner_hyper):
    r"""Lookahead (Zhang, Lucas, Hinton & Ba, 2019, Algorithm 1) around any ``inner`` optimizer.

    .. math::

        \theta_t = \mathrm{inner}(\theta_{t-1}), \qquad
        \text{if } k \mid t: \quad \phi \leftarrow \phi + \alpha (\theta_t - \phi), \quad \theta_t \leftarrow \phi
        \qquad (\phi_0 = \theta_0 = x_0)

    The reported iterate is :math:`x_t = \theta_t` (equal to the slow weights φ right after a sync).

    Parameters
    ----------
    inner : str or Optimizer
        The fast optimizer: a registered name (configured by ``**inner_hyper``) or a configured ``Optimizer``.
    k : int
        Synchronisation period :math:`k \ge 1` (inner steps per slow step).
    alpha : float
        Slow step size :math:`\alpha \in (0, 1]`.
    **inner_hyper
        Hyperparameters of the inner optimizer by name: ``lookahead(inner="adam", lr=0.1)``.

    Convention: the paper's, optax ``lookahead(reset_state=False)`` and pytorch_optimizer's
    (kozistr, ``pullback_momentum="none"``): the inner state is kept across syncs, and syncs happen
    after inner steps k, 2k, ... (jettify's torch_optimizer syncs after steps 1, k+1, ...: trap T13).
    ``k=1, alpha=1`` is the inner optimizer itself. It runs on the compiled backends (``symgd.fused``)
    whenever the inner optimizer does (not around SWATS or Newton).

    Examples
    --------
    GD with η = 0.25 on f = x² halves x: θ₁ = 0.5, θ₂ = 0.25; with k = 2, α = 0.5 the sync gives
    φ = 1 + 0.5·(0.25 − 1) = 0.625.

    >>> from symgd import Problem
    >>> p = Problem("x^2")
    >>> p.minimize("lookahead", [1.0], steps=3, k=2, lr=0.25, tol=None, path=True).path.ravel().tolist()
    [1.0, 0.5, 0.625, 0.3125]

    References
    ----------
    Zhang, Lucas, Hinton, Ba. Lookahead Optimizer: k steps forward, 1 step back. NeurIPS 2019. arXiv:1907.08610.
    """
    fast = get(inner, **inner_hyper)
    require(isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1,
            f"k must be a positive integer (inner steps per sync), got {k=}")
    alpha = real("alpha", alpha, lo_open=True, hi=1.0, hi_open=False)

    def init(x):
        return LookaheadState(x, fast.init(x))

    def step(s, x, t, oracle):
        theta, inner_state = fast.step(s.inner, x, t, oracle)
        if t % k:  # t is shared by every row: a Python branch on t, never on data
            return theta, LookaheadState(s.slow, inner_state)
        slow = s.slow + alpha * (theta - s.slow)
        return slow, LookaheadState(slow, inner_state)

    return init, step, scalar_form(fast.fused, k, alpha)


def scalar_form(inner: Any, k: int, alpha: float) -> Fused | None:
    """Lookahead's ``Fused`` around the inner optimizer's, or None if the inner one has none (SWATS, Newton).

    The inner update sees the same t as in ``step``, its state is kept across syncs, and ``sync`` is
    1.0 on the updates t = k, 2k, ... (as ``step``'s ``t % k == 0``).
    """
    if not isinstance(inner, Fused) or inner.rows:  # a per-start reduction (SWATS) is not passed through
        return None
    update = bound("lookahead_update", inner.update)
    point = None if inner.point is None else bound("lookahead_point", inner.point)
    if update is None or (inner.point is not None and point is None):
        return None  # an inner form that is not a module-level function cannot be named: NumPy

    def init(x):
        return (x.copy(), *inner.init(x))  # φ_0 = x_0, a separate array: the kernel writes its state

    def coefs(t):
        return (bit(t % k == 0), alpha, *inner.coefs(t))

    return Fused(("slow", *inner.state), init, coefs, update, point)


# The templates of the scalar form: each copy binds the global ``inner`` to one inner function.
# s = (φ, *inner state), c = (sync?, α, *inner coefs); the same operations as ``step``.
def lookahead_update(x, g, s, c):
    theta, fast = inner(x, g, s[1:], c[2:])  # noqa: F821 (bound in each copy)
    phi = s[0]
    if c[0] > 0.0:  # sync: φ ← φ + α (θ − φ), θ ← φ
        phi = phi + c[1] * (theta - phi)
        theta = phi
    return theta, (phi,) + fast


def lookahead_point(x, s, c):
    return inner(x, s[1:], c[2:])  # noqa: F821 (bound in each copy)


TEMPLATES = {"lookahead_update": lookahead_update, "lookahead_point": lookahead_point}
_LOCK = threading.Lock()


def bound(template: str, fn: Callable) -> Callable | None:
    """The copy of ``TEMPLATES[template]`` calling ``fn`` as ``inner``, the same object for the same ``fn``.

    It is kept in this module as ``template<module/path:qualname>`` (no dots: pickle walks dotted names);
    None if ``fn`` is not reachable by its module and qualname (a closure, a lambda).
    """
    module, qual = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if module is None or "." in qual or getattr(sys.modules.get(module), qual, None) is not fn:
        return None
    name = f"{template}<{module.replace('.', '/')}:{qual}>"
    with _LOCK:
        hit = globals().get(name)
        if hit is None or hit.__globals__["inner"] is not fn:
            code = TEMPLATES[template].__code__
            hit = types.FunctionType(code, {"__name__": __name__, "__builtins__": __builtins__, "inner": fn}, name)
            hit.__qualname__ = name
            globals()[name] = hit
        return hit


def __getattr__(name: str):  # PEP 562: a copy named by a pickle (a Dask worker) is made on first use
    template, sep, rest = name.partition("<")
    if template in TEMPLATES and sep and rest.endswith(">"):
        module, _, qual = rest[:-1].partition(":")
        try:
            fn = getattr(importlib.import_module(module.replace("/", ".")), qual)
        except (ImportError, AttributeError):
            fn = None
        hit = None if fn is None else bound(template, fn)
        if hit is not None:
            return hit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
