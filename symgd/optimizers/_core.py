"""The optimizer contract: an ``(init, step)`` pair of pure functions over ``(B, n)`` arrays.

``init(x0) -> state`` and ``step(state, x, t, oracle) -> (x_next, state)``, where ``t = 1, 2, ...``
is the 1-based update number (the paper's t: bias corrections use ``beta**t`` with t = 1 on the first
update) and ``oracle`` has ``f(x)``, ``grad(x)``, ``hess(x)`` over ``(B, n)`` arrays (a ``Kernels``, or a
mini-batch / noisy oracle fixed for this step). ``x`` lives outside the state.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from symgd.errors import InputError

Array = np.ndarray
Schedule = Callable[[int], float]  # t -> learning rate, t = 1, 2, ...


class Fused(NamedTuple):
    r"""One optimizer update for one coordinate of one start, for the compiled backends (``symgd.fused``).

    ``update(x, g, s, c) -> (x_next, s_next)`` takes scalars: the coordinate ``x``, its gradient entry
    ``g``, the tuple ``s`` of state scalars (named by ``state``) and ``c``, the row of per-update
    coefficients ``coefs(t)`` (learning rate, bias corrections, ... : everything that depends on t or
    on the hyperparameters). It is plain arithmetic, ``math`` functions and ``if`` on scalars, so that
    CPython runs it as it is and numba compiles it. ``init(x0)`` maps the ``(B, n)`` starts to the
    state arrays, one per name of ``state``. The NumPy ``step`` stays the reference: a test checks that
    both give the same iterates to 1e-12 for every optimizer that has this form.

    ``point(x, s, c) -> z`` (optional) is where the update's gradient entry is taken, coordinate by
    coordinate (classical NAG's look-ahead :math:`x + \mu v`): the kernel evaluates ∇f at z and passes
    it to ``update`` as ``g``. None (the default): at x, the gradient the runner already has.

    A per-start reduction (SWATS's switch on pᵀg, pᵀp): ``rows`` names per-start state scalars, ``row_init(x0)``
    maps the starts to one ``(B,)`` array per name. Then ``update(x, g, s, r, c) -> (x_next, s_next, parts)``
    also reads ``r``, the start's row state (fixed during the sweep over its coordinates), and returns
    ``parts``, a tuple of ``sums`` floats that the kernel adds up over the coordinates, left to right from
    0.0; after the sweep ``finish(r, sums, c) -> r_next`` gives the new row state. ``point`` does not see ``r``.
    """

    state: tuple[str, ...]  # names of the per-coordinate state scalars, e.g. ("m", "v")
    init: Callable[[Array], tuple]  # x0 (B, n) -> tuple of (B, n) state arrays, in the order of state
    coefs: Callable[[int], tuple]  # t -> tuple of floats (the same length for every t)
    update: Callable  # (x, g, s, c) -> (x_next, s_next), all scalars; s and s_next tuples
    point: Callable | None = None  # (x, s, c) -> z, the coordinate where g is taken; None: x
    rows: tuple[str, ...] = ()  # names of the per-start state scalars (a per-start reduction); () for none
    row_init: Callable | None = None  # x0 (B, n) -> tuple of (B,) arrays, in the order of rows
    sums: int = 0  # how many per-start sums update's parts feed to finish
    finish: Callable | None = None  # (r, sums, c) -> r_next, once per start and step after the coordinates


class Optimizer(NamedTuple):
    """A configured optimizer: name, the two pure functions, its hyperparameters, its docstring.

    ``fused`` is the optimizer's scalar form for the compiled backends, or None (the run then stays
    on NumPy and says so).
    """

    name: str
    init: Callable[[Array], Any]  # x0 (B, n) -> state
    step: Callable[[Any, Array, int, Any], tuple[Array, Any]]  # (state, x, t, oracle) -> (x_next, state)
    hyper: dict[str, Any]
    doc: str
    fused: Any = None  # a Fused, or another scalar form a compiled backend knows (Newton's), or None

    def __repr__(self) -> str:  # adam(lr=0.1, betas=(0.9, 0.999), eps=1e-08)
        return f"{self.name}(" + ", ".join(f"{k}={v!r}" for k, v in self.hyper.items()) + ")"


REGISTRY: dict[str, Callable[..., Optimizer]] = {}

# One LaTeX symbol per hyperparameter name, shared by latex.py and the CLI's help.
SYMBOLS = {"lr": r"\eta", "momentum": r"\mu", "dampening": r"\tau", "weight_decay": r"\lambda",
           "betas": r"(\beta_1, \beta_2)", "eps": r"\epsilon", "alpha": r"\alpha", "rho": r"\rho",
           "k": "k", "gamma": r"\gamma", "final_lr": r"\eta^*", "momentum_decay": r"\psi",
           "lr_decay": r"\delta", "initial_accumulator_value": "s_0"}


def optimizer(factory):
    """Turn ``factory(**hyper) -> (init, step)`` or ``(init, step, fused)`` into a registered ``Optimizer`` factory."""
    sig = inspect.signature(factory)

    @functools.wraps(factory)
    def make(*args, **kwargs) -> Optimizer:
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            unknown = [k for k in kwargs if k not in sig.parameters]
            if unknown:
                hint = difflib.get_close_matches(unknown[0], list(sig.parameters), n=1)
                more = f"; did you mean {hint[0]!r}?" if hint else ""
                raise InputError(f"{factory.__name__} has no hyperparameter {unknown[0]!r}{more} "
                                 f"(it takes {', '.join(sig.parameters)})") from None
            raise InputError(f"{factory.__name__}: {e}") from None
        bound.apply_defaults()
        init, step, *fused = factory(*bound.args, **bound.kwargs)
        return Optimizer(factory.__name__, init, step, dict(bound.arguments), factory.__doc__ or "",
                         fused[0] if fused else None)

    make.signature = sig
    REGISTRY[factory.__name__] = make
    return make


def get(name: str, **hyper) -> Optimizer:
    """The optimizer registered as ``name``, configured with ``hyper`` (a did-you-mean on typos)."""
    if isinstance(name, Optimizer):
        if hyper:
            raise InputError(f"hyperparameters {sorted(hyper)} given with an already configured {name!r}")
        return name
    key = str(name).strip().lower()
    if key not in REGISTRY:
        hint = difflib.get_close_matches(key, list(REGISTRY), n=3)
        more = (f"; did you mean {' or '.join(map(repr, hint))}?" if hint
                else f"; known: {', '.join(sorted(REGISTRY))}")
        raise InputError(f"unknown optimizer {name!r}{more}")
    factory = REGISTRY[key]
    memo = plain_key(tuple(sorted(hyper.items())))
    if memo is None:
        return factory(**hyper)
    memo = (factory, memo)
    hit = _MADE.get(memo)
    if hit is None:  # an Optimizer is immutable and keeps no state: the same request may share it
        hit = factory(**hyper)
        if len(_MADE) >= 256:
            _MADE.pop(next(iter(_MADE)))
        _MADE[memo] = hit
    return hit


_MADE: dict = {}  # (factory, plain_key of the hyperparameters) -> Optimizer


def plain_key(value):
    """A hashable key for hyperparameters that cannot change behind a cache's back: numbers (1, 1.0 and True
    kept apart), strings, None, frozen ``symgd.schedules`` and tuples of them. None for anything else (a
    Python function as a schedule, an inner Optimizer, arrays, lists, dicts)."""
    if isinstance(value, tuple):
        parts = tuple(plain_key(v) for v in value)
        return None if any(p is None for p in parts) else (tuple, parts)
    if isinstance(value, (bool, int, float, str, type(None), np.number)) or is_formula_schedule(value):
        return (type(value), value)
    return None


def is_formula_schedule(value) -> bool:
    """A ``symgd.schedules.Schedule`` (none exists before that module is imported: SymPy stays unimported)."""
    schedules = sys.modules.get("symgd.schedules")
    return schedules is not None and isinstance(value, schedules.Schedule)


def as_schedule(lr) -> Schedule:
    """A learning rate as a function of t: a number becomes a constant, a callable stays."""
    if callable(lr):
        return lr
    require(isinstance(lr, (int, float)) and not isinstance(lr, bool), f"lr must be a number or a schedule, got {lr!r}")
    require(np.isfinite(lr) and lr > 0, f"lr must be positive and finite, got {lr=}")
    lr = float(lr)
    return lambda t: lr


def require(ok: bool, message: str) -> None:
    """Raise ``InputError(message)`` unless ``ok`` (a ValueError: never a bare assert)."""
    if not ok:
        raise InputError(message)
