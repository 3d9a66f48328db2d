r"""Learning-rate schedules: each one a SymPy formula in the update number t, callable like a function.

``t = 1, 2, ...`` is the 1-based update number an optimizer passes to ``lr(t)``; every closed form is
written in ``k = t - 1``, the number of updates already done, which is the counter torch's
``scheduler.step()`` and optax's ``schedule(count)`` use: the first update uses the schedule's value at
k = 0. The formulas and their numbers follow ``torch.optim.lr_scheduler`` (torch 2.13; see each
function's Convention line).

>>> from symgd import schedules
>>> s = schedules.step(0.1, step_size=2, gamma=0.5)
>>> s
step(lr=0.1, step_size=2, gamma=0.5)
>>> [s(t) for t in range(1, 6)]
[0.1, 0.1, 0.05, 0.05, 0.025]
>>> print(schedules.exponential(0.1, 0.5).latex())
\eta_t = \eta_{0} \gamma^{k}, \quad k = t - 1, \quad \eta_{0} = 0.1,\ \gamma = 0.5

A schedule goes wherever a learning rate does: ``minimize(p, "adam", x0, lr=schedules.cosine(0.1, 50))``.
Evaluation uses a direct NumPy implementation of each formula (tested equal to ``expr``), so calling
a schedule is cheap; it also accepts an array of t.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import sympy as sp

from symgd.errors import InputError

t = sp.Symbol("t", integer=True, positive=True)  # 1-based update number
k = sp.Symbol("k", integer=True, nonnegative=True)  # k = t - 1, updates already done

_ETA0, _ETA_MIN, _GAMMA = sp.Symbol("eta_0"), sp.Symbol("eta_min"), sp.Symbol("gamma")

__all__ = ["Schedule", "constant", "cosine", "cyclic", "exponential", "inverse_sqrt", "k",
           "linear_warmup", "one_cycle", "one_cycle_momentum", "sgdr", "step", "t"]


@dataclass(frozen=True)
class Schedule:
    r"""A schedule ``t -> value``: a formula for LaTeX and a NumPy implementation for speed.

    Attributes
    ----------
    name : str
        The constructor's name, e.g. ``"cosine"``.
    args : tuple of (str, value)
        The constructor's arguments, in order (``kwargs`` gives them as a dict).
    formula : sympy.Expr
        The closed form in ``k = t - 1`` and named parameters (e.g. ``eta_0``), as printed.
    where : tuple of (sympy.Symbol, value)
        Values of the parameters of ``formula``, and definitions of auxiliary symbols.
    fn : callable
        The NumPy implementation, ``fn(k: float array) -> array``.
    symbol : str
        LaTeX for the left-hand side: ``\eta`` (learning rates) or ``\mu`` (momentum).
    """

    name: str
    args: tuple
    formula: sp.Expr
    where: tuple
    fn: Callable = field(compare=False, repr=False)
    symbol: str = r"\eta"

    @property
    def kwargs(self) -> dict:
        """The constructor's arguments as a dict: ``getattr(schedules, s.name)(**s.kwargs) == s``."""
        return dict(self.args)

    @property
    def expr(self) -> sp.Expr:
        """The schedule as one SymPy expression in ``t`` with every parameter substituted."""
        e = self.formula
        for sym, value in reversed(self.where):  # definitions may use parameters listed before them
            e = e.subs(sym, value)
        return e.subs(k, t - 1)

    def __call__(self, step):
        """The value at the 1-based update number ``step`` (an int, or an integer array)."""
        if isinstance(step, Integral) and not isinstance(step, bool):
            if step < 1:
                raise InputError(f"a schedule is evaluated at t = 1, 2, ... (the update number), got t={step}")
            return float(self.fn(np.array([step - 1.0]))[0])  # a 1-element array: the same ufunc loop as arrays
        arr = np.asarray(step)
        if arr.dtype.kind not in "iu" or (arr.size and arr.min() < 1):
            raise InputError(f"a schedule is evaluated at integers t >= 1, got {step!r}")
        return np.asarray(self.fn(arr.astype(np.float64) - 1.0), dtype=np.float64)

    def latex(self) -> str:
        r"""``\eta_t = <formula>, k = t - 1, <parameter values>`` (no dollar signs)."""
        parts = [rf"{self.symbol}_t = {sp.latex(self.formula)}", "k = t - 1"]
        if self.where:
            parts.append(r",\ ".join(f"{sp.latex(s)} = {sp.latex(_number(v))}" for s, v in self.where))
        return r", \quad ".join(parts)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def __repr__(self) -> str:
        return f"{self.name}(" + ", ".join(f"{n}={v!r}" for n, v in self.args) + ")"

    def to_json(self) -> dict:
        """``{"schedule": name, "args": {...}}``: rebuilt by ``getattr(schedules, name)(**args)``."""
        return {"schedule": self.name, "args": dict(self.args)}


def _number(v):
    if isinstance(v, sp.Basic):
        return v
    if isinstance(v, Integral):
        return sp.Integer(int(v))
    return sp.Float(v, 15) if float(v) != int(float(v)) or abs(v) >= 1e15 else sp.Integer(int(v))


def _positive(name: str, v, *, integer: bool = False, allow_zero: bool = False) -> float:
    kind = Integral if integer else Real
    if isinstance(v, bool) or not isinstance(v, kind) or not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        need = "a positive integer" if integer else ("a finite number >= 0" if allow_zero else "a positive number")
        raise InputError(f"{name} must be {need}, got {name}={v!r}")
    return int(v) if integer else float(v)


def _make(name, args, formula, where, fn, symbol=r"\eta") -> Schedule:
    return Schedule(name, tuple(args.items()), formula, tuple(where), fn, symbol)


# ---------------------------------------------------------------------------------------------


def constant(lr: float) -> Schedule:
    r"""The constant schedule :math:`\eta_t = \eta_0` (the same run as passing the number ``lr``).

    >>> constant(0.1)(7)
    0.1
    """
    lr = _positive("lr", lr)
    return _make("constant", {"lr": lr}, _ETA0, [(_ETA0, lr)], lambda k: np.full(np.shape(k), lr)[()])


def inverse_sqrt(lr: float) -> Schedule:
    r"""Inverse square-root decay :math:`\eta_t = \eta_0 / \sqrt{k + 1} = \eta_0/\sqrt{t}`.

    Convention: ``torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1 / math.sqrt(k + 1))``; the first
    update uses the full ``lr`` (a lecture's "1/√(t+1)" with t starting at 1 would start at lr/√2).

    >>> [round(inverse_sqrt(1.0)(t), 6) for t in (1, 2, 4)]
    [1.0, 0.707107, 0.5]
    """
    lr = _positive("lr", lr)
    return _make("inverse_sqrt", {"lr": lr}, _ETA0 / sp.sqrt(k + 1), [(_ETA0, lr)],
                 lambda k: lr * (1.0 / np.sqrt(k + 1.0)))


def step(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Step decay :math:`\eta_t = \eta_0\,\gamma^{\lfloor k/s \rfloor}` (multiply by γ every ``step_size`` updates).

    Convention: ``torch.optim.lr_scheduler.StepLR(opt, step_size, gamma)``; optax
    ``exponential_decay(lr, step_size, gamma, staircase=True)`` (which computes in float32).
    """
    lr, s, gamma = _positive("lr", lr), _positive("step_size", step_size, integer=True), _positive("gamma", gamma)
    S = sp.Symbol("s")
    return _make("step", {"lr": lr, "step_size": s, "gamma": gamma}, _ETA0 * _GAMMA ** sp.floor(k / S),
                 [(_ETA0, lr), (_GAMMA, gamma), (S, s)], lambda k: lr * gamma ** np.floor(k / s))


def exponential(lr: float, gamma: float) -> Schedule:
    r"""Exponential decay :math:`\eta_t = \eta_0\,\gamma^{k}`.

    Convention: ``torch.optim.lr_scheduler.ExponentialLR(opt, gamma)``.
    """
    lr, gamma = _positive("lr", lr), _positive("gamma", gamma)
    return _make("exponential", {"lr": lr, "gamma": gamma}, _ETA0 * _GAMMA**k, [(_ETA0, lr), (_GAMMA, gamma)],
                 lambda k: lr * gamma**k)


def linear_warmup(lr: float, warmup: int, start_factor: float = 1 / 3, end_factor: float = 1.0) -> Schedule:
    r"""Linear warm-up :math:`\eta_t = \eta_0\,\bigl(s + (e - s)\min(k, W)/W\bigr)`, then constant.

    Convention: ``torch.optim.lr_scheduler.LinearLR(opt, start_factor, end_factor, total_iters=warmup)``
    (torch's defaults: start_factor 1/3, end factor 1). The ramp ``lr (k + 1)/W`` reaching ``lr`` at
    the W-th update is ``linear_warmup(lr, W - 1, start_factor=1/W)``.

    >>> [round(linear_warmup(0.3, 2)(t), 6) for t in (1, 2, 3, 4)]
    [0.1, 0.2, 0.3, 0.3]
    """
    lr, W = _positive("lr", lr), _positive("warmup", warmup, integer=True)
    s, e = _positive("start_factor", start_factor), _positive("end_factor", end_factor)
    if s > 1 or e > 1:
        raise InputError(f"start_factor and end_factor must be in (0, 1], got {start_factor=}, {end_factor=}")
    Ws, Ss, Es = sp.symbols("W s e")
    return _make("linear_warmup", {"lr": lr, "warmup": W, "start_factor": s, "end_factor": e},
                 _ETA0 * (Ss + (Es - Ss) * sp.Min(k, Ws) / Ws), [(_ETA0, lr), (Ss, s), (Es, e), (Ws, W)],
                 lambda k: lr * (s + (e - s) * np.minimum(k, W) / W))


def cosine(lr: float, T: int, lr_min: float = 0.0, clamp: bool = False) -> Schedule:
    r"""Cosine annealing :math:`\eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})(1 + \cos(\pi k/T))`.

    Convention: ``torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T, eta_min=lr_min)``, which
    is **not** clamped: past k = T the rate rises again (period 2T; OPTIMIZERS.md trap T10).
    ``clamp=True`` uses ``min(k, T)`` and stays at ``lr_min`` after T, as optax
    ``cosine_decay_schedule(lr, T, alpha=lr_min/lr)``.

    >>> s = cosine(0.1, 100)
    >>> [round(s(t), 6) for t in (1, 51, 101, 151)]
    [0.1, 0.05, 0.0, 0.05]
    >>> round(cosine(0.1, 100, clamp=True)(151), 6)
    0.0
    """
    lr, T = _positive("lr", lr), _positive("T", T, integer=True)
    lr_min = _positive("lr_min", lr_min, allow_zero=True)
    if lr_min > lr:
        raise InputError(f"need lr_min <= lr, got {lr_min=}, {lr=}")
    Ts = sp.Symbol("T")
    kk = sp.Min(k, Ts) if clamp else k
    formula = _ETA_MIN + (_ETA0 - _ETA_MIN) * (1 + sp.cos(sp.pi * kk / Ts)) / 2

    def fn(k):
        kk = np.minimum(k, T) if clamp else k
        return lr_min + (lr - lr_min) * (1 + np.cos(math.pi * kk / T)) / 2

    return _make("cosine", {"lr": lr, "T": T, "lr_min": lr_min, "clamp": bool(clamp)}, formula,
                 [(_ETA0, lr), (_ETA_MIN, lr_min), (Ts, T)], fn)


def sgdr(lr: float, T_0: int, T_mult: int = 1, lr_min: float = 0.0) -> Schedule:
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    .. math::

        \eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})\bigl(1 + \cos(\pi T_{cur}/T_i)\bigr)

    with :math:`T_i = T_0 T_{mult}^{n}` the length of the current cycle and :math:`T_{cur} \in [0, T_i - 1]`
    the updates since the last restart.

    Convention: ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0, T_mult, eta_min)``:
    ``T_cur`` never reaches ``T_i``, so ``lr_min`` itself is never used (the paper's T_cur does reach T_i).

    >>> s = sgdr(1.0, 2, T_mult=2)
    >>> [round(s(t), 4) for t in range(1, 8)]
    [1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0]
    """
    lr, T0 = _positive("lr", lr), _positive("T_0", T_0, integer=True)
    Tm, lr_min = _positive("T_mult", T_mult, integer=True), _positive("lr_min", lr_min, allow_zero=True)
    T0s, Tms, Tcur, Ti = sp.symbols("T_0 T_mult T_cur T_i")
    if Tm == 1:
        defs = [(Tcur, sp.Mod(k, T0s)), (Ti, T0s)]
    else:
        n = sp.floor(sp.log(k * (Tms - 1) / T0s + 1) / sp.log(Tms))
        defs = [(Tcur, k - T0s * (Tms**n - 1) / (Tms - 1)), (Ti, T0s * Tms**n)]
    formula = _ETA_MIN + (_ETA0 - _ETA_MIN) * (1 + sp.cos(sp.pi * Tcur / Ti)) / 2

    def fn(k):
        cur = np.asarray(k, dtype=np.int64)
        T_i = np.full_like(cur, T0)
        if Tm == 1:
            cur = cur % T0
        else:  # integer arithmetic, no float log: restart boundaries are exact
            while (over := cur >= T_i).any():
                cur, T_i = np.where(over, cur - T_i, cur), np.where(over, T_i * Tm, T_i)
        return lr_min + (lr - lr_min) * (1 + np.cos(math.pi * cur / T_i)) / 2

    return _make("sgdr", {"lr": lr, "T_0": T0, "T_mult": Tm, "lr_min": lr_min}, formula,
                 [(_ETA0, lr), (_ETA_MIN, lr_min), (T0s, T0), (Tms, Tm), *defs], fn)


def cyclic(base_lr: float, max_lr: float, step_size_up: int = 2000, step_size_down: int | None = None) -> Schedule:
    r"""Triangular cyclical learning rate (Smith 2017).

    .. math::

        x = \operatorname{frac}(k/S), \quad
        \eta_t = \eta_b + (\eta_{max} - \eta_b) \cdot \begin{cases} x/r & x \le r \\ (x - 1)/(r - 1) & x > r \end{cases}

    with :math:`S` = step_size_up + step_size_down the cycle length and :math:`r` = step_size_up / S
    (for equal halves: :math:`\eta_b + (\eta_{max} - \eta_b)\max(0, 1 - |k/s - 2\lfloor 1 + k/2s\rfloor + 1|)`).

    Convention: ``torch.optim.lr_scheduler.CyclicLR(opt, base_lr, max_lr, step_size_up, step_size_down,
    mode="triangular", cycle_momentum=False)``. torch's default ``cycle_momentum=True`` also cycles the
    optimizer's momentum (trap T9); symgd never changes momentum behind your back.

    >>> [round(cyclic(0.1, 0.5, 2)(t), 6) for t in range(1, 7)]
    [0.1, 0.3, 0.5, 0.3, 0.1, 0.3]
    """
    base, top = _positive("base_lr", base_lr, allow_zero=True), _positive("max_lr", max_lr)
    up = _positive("step_size_up", step_size_up, integer=True)
    down = up if step_size_down is None else _positive("step_size_down", step_size_down, integer=True)
    if base > top:
        raise InputError(f"need base_lr <= max_lr, got {base_lr=}, {max_lr=}")
    total = float(up + down)
    ratio = float(up) / total
    Ss, rs, eb, em = sp.symbols("S r eta_b eta_max")
    x = k / Ss - sp.floor(k / Ss)
    formula = eb + (em - eb) * sp.Piecewise((x / rs, x <= rs), ((x - 1) / (rs - 1), True))

    def fn(k):  # torch's arithmetic, operation for operation
        cycle = np.floor(1 + k / total)
        x = 1.0 + k / total - cycle
        scale = np.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))
        return base + (top - base) * scale * 1.0

    return _make("cyclic", {"base_lr": base, "max_lr": top, "step_size_up": up, "step_size_down": down}, formula,
                 [(eb, base), (em, top), (Ss, up + down), (rs, sp.Rational(up, up + down))], fn)


def _one_cycle_fn(start: float, peak: float, end: float, total_steps: int, pct_start: float):
    """torch OneCycleLR's two cosine phases, as a function of k (held at ``end`` past total_steps)."""
    e1, e2 = float(pct_start * total_steps) - 1, float(total_steps - 1)

    def anneal(a, b, pct):  # torch: _annealing_cos
        return b + (a - b) / 2.0 * (np.cos(math.pi * pct) + 1)

    def fn(k):
        first = anneal(start, peak, k / e1)
        second = anneal(peak, end, (k - e1) / (e2 - e1))
        return np.where(k <= e1, first, np.where(k <= total_steps, second, end))

    return fn, e1


def _one_cycle_checks(total_steps, pct_start):
    T = _positive("total_steps", total_steps, integer=True)
    p = _positive("pct_start", pct_start)
    if not (p < 1 and p * T > 1):
        raise InputError(f"one_cycle needs 0 < pct_start < 1 and pct_start * total_steps > 1 "
                         f"(torch divides by pct_start * total_steps - 1), got {pct_start=}, {total_steps=}")
    return T, p


def _one_cycle_formula(a, b, c, e1, T):
    def anneal(x, y, pct):
        return y + (x - y) * (1 + sp.cos(sp.pi * pct)) / 2

    return sp.Piecewise((anneal(a, b, k / e1), k <= e1), (anneal(b, c, (k - e1) / (T - 1 - e1)), k <= T), (c, True))


def one_cycle(max_lr: float, total_steps: int, pct_start: float = 0.3, div_factor: float = 25.0,
              final_div_factor: float = 1e4) -> Schedule:
    r"""One-cycle policy (Smith & Topin 2019): cosine warm-up to ``max_lr``, then cosine annealing.

    .. math::

        \eta_t = \begin{cases} c(\eta_{max}/d,\ \eta_{max},\ k/k_1) & k \le k_1 \\
                 c(\eta_{max},\ \eta_{max}/(d f),\ (k - k_1)/(T - 1 - k_1)) & k_1 < k \le T \\
                 \eta_{max}/(d f) & k > T \end{cases}
        \qquad c(a, b, p) = b + \tfrac12 (a - b)(1 + \cos \pi p)

    with :math:`k_1` = pct_start·T − 1, d = div_factor, f = final_div_factor.

    Convention: ``torch.optim.lr_scheduler.OneCycleLR(opt, max_lr, total_steps, pct_start,
    anneal_strategy="cos", div_factor, final_div_factor, three_phase=False)``: the peak is at
    k = pct_start·T − 1 and the minimum at k = T − 1 (optax ``cosine_onecycle_schedule`` peaks at
    int(pct_start·T) and reaches its minimum at k = T). torch raises past T updates; symgd holds
    the final rate there. torch's ``cycle_momentum=True`` (its default) also cycles momentum: to
    reproduce it, pass :func:`one_cycle_momentum` as ``momentum=`` of ``sgd``, ``momentum`` or ``nag``.

    >>> s = one_cycle(1.0, 10)
    >>> [round(s(t), 6) for t in (1, 3, 10)]
    [0.04, 1.0, 4e-06]
    """
    top = _positive("max_lr", max_lr)
    T, p = _one_cycle_checks(total_steps, pct_start)
    d, f = _positive("div_factor", div_factor), _positive("final_div_factor", final_div_factor)
    start, end = top / d, top / d / f
    fn, e1 = _one_cycle_fn(start, top, end, T, p)
    em, ds, fs, k1, Ts = sp.symbols("eta_max d f k_1 T")
    formula = _one_cycle_formula(em / ds, em, em / (ds * fs), k1, Ts)
    return _make("one_cycle", {"max_lr": top, "total_steps": T, "pct_start": p, "div_factor": d,
                               "final_div_factor": f}, formula,
                 [(em, top), (ds, d), (fs, f), (k1, e1), (Ts, T)], fn)


def one_cycle_momentum(total_steps: int, pct_start: float = 0.3, base_momentum: float = 0.85,
                       max_momentum: float = 0.95) -> Schedule:
    r"""The momentum half of the one-cycle policy: cosine from ``max_momentum`` down to ``base_momentum``, and back.

    .. math::

        \mu_t = \begin{cases} c(\mu_{max},\ \mu_{b},\ k/k_1) & k \le k_1 \\
                c(\mu_{b},\ \mu_{max},\ (k - k_1)/(T - 1 - k_1)) & k_1 < k \le T \\
                \mu_{max} & k > T \end{cases}

    Use it as ``momentum=`` of ``sgd``, ``momentum`` or ``nag`` next to ``lr=one_cycle(...)`` with the
    same ``total_steps`` and ``pct_start``: that is torch's ``OneCycleLR(cycle_momentum=True)`` on SGD.
    (torch also cycles Adam's β1 this way; symgd's Adam keeps fixed ``betas``.)

    >>> m = one_cycle_momentum(10)
    >>> [round(m(t), 6) for t in (1, 3, 10)]
    [0.95, 0.85, 0.95]
    """
    T, p = _one_cycle_checks(total_steps, pct_start)
    lo, hi = _positive("base_momentum", base_momentum, allow_zero=True), _positive("max_momentum", max_momentum)
    if not lo <= hi < 1:
        raise InputError(f"need 0 <= base_momentum <= max_momentum < 1, got {base_momentum=}, {max_momentum=}")
    fn, e1 = _one_cycle_fn(hi, lo, hi, T, p)
    mb, mm, k1, Ts = sp.symbols("mu_b mu_max k_1 T")
    formula = _one_cycle_formula(mm, mb, mm, k1, Ts)
    return _make("one_cycle_momentum", {"total_steps": T, "pct_start": p, "base_momentum": lo,
                                        "max_momentum": hi}, formula, [(mb, lo), (mm, hi), (k1, e1), (Ts, T)],
                 fn, symbol=r"\mu")
