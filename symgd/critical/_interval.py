r"""Interval and high-precision evaluation of SymPy expressions, for the certified numeric route.

A :class:`Program` compiles expressions once into straight-line code (equal subtrees shared);
``run`` executes it with a backend:

- :class:`IntervalBackend`: intervals ``(lo, hi)`` of NumPy arrays, one per box, vectorized over
  all boxes. ``+ - * /`` round outward with ``nextafter`` (IEEE operations are correctly
  rounded); library functions (``exp``, ``sin``, ``**``, ...) are widened by 4 ulps, more than
  their documented error. Ranges of ``sin``/``cos``/``tan`` account for the extrema and poles
  inside the interval. Domain violations (``log`` of x <= 0, ``sqrt`` of x < 0, ``1/0``) are
  recorded per box.
- :class:`MpmathBackend`: point values as ``mpmath.mpf`` at the current precision.

This module uses no ``lambdify``: ``kernels`` stays the only SymPy-to-NumPy compiler of symgd's
user-facing kernels, and the tree walk here is small and auditable.

>>> import numpy as np, sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> prog = Program([x**2 - 2 * x], [x])
>>> B = IntervalBackend(1)
>>> lo, hi = prog.run(B, [(np.array([-1.0]), np.array([2.0]))])[0]
>>> float(lo[0]) <= -4.0 and float(hi[0]) >= 5.0  # x**2 - 2x on [-1, 2] lies in [0, 4] - [-2, 4]
True
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

__all__ = ["IntervalBackend", "MpmathBackend", "Program", "down", "up"]

_FUNCTIONS = {"exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan", "atan": "atan",
              "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "asinh": "asinh", "asin": "asin",
              "acos": "acos", "Abs": "abs_", "Max": "max_", "Min": "min_"}


class Program:
    """Straight-line code for SymPy expressions; equal subtrees are evaluated once.

    Instructions are ``(op, data, argument slots)``; ``run(backend, inputs)`` executes them with a
    backend's ``const/add/mul/powi/powr`` and function methods.
    """

    def __init__(self, exprs, variables):
        self.code, self._slot = [], {}
        for i, v in enumerate(variables):
            self._emit(v, "var", i, ())
        self.outputs = [self._compile(e) for e in exprs]

    def _emit(self, key, op, data, args):
        self._slot[key] = len(self.code)
        self.code.append((op, data, args))
        return self._slot[key]

    def _compile(self, e):
        if e in self._slot:
            return self._slot[e]
        if not e.free_symbols:
            return self._emit(e, "const", _const_enclosure(e), ())
        if e.is_Add or e.is_Mul:
            return self._emit(e, "add" if e.is_Add else "mul", None, tuple(map(self._compile, e.args)))
        if e.is_Pow and not e.exp.free_symbols and e.exp.is_Rational:
            op = "powi" if e.exp.is_Integer else "powr"
            return self._emit(e, op, int(e.exp) if e.exp.is_Integer else e.exp, (self._compile(e.base),))
        if e.is_Pow:  # b**e with a variable or irrational exponent: exp(e*log(b)), defined for b > 0
            self._slot[e] = self._compile(sp.exp(e.exp * sp.log(e.base), evaluate=False))
            return self._slot[e]
        name = _FUNCTIONS.get(type(e).__name__)
        if name is None or (name not in ("max_", "min_") and len(e.args) != 1):
            raise NotImplementedError(f"{type(e).__name__} has no interval form" if e.args
                                      else f"{e} is not one of the variables")
        return self._emit(e, name, None, tuple(map(self._compile, e.args)))

    def run(self, B, inputs, outputs=slice(None)):
        vals = []
        for op, data, args in self.code:
            if op == "var":
                vals.append(inputs[data])
            elif op == "const":
                vals.append(B.const(data))
            elif op in ("add", "mul"):
                f, acc = getattr(B, op), vals[args[0]]
                for a in args[1:]:
                    acc = f(acc, vals[a])
                vals.append(acc)
            elif op in ("powi", "powr"):
                vals.append(getattr(B, op)(vals[args[0]], data))
            else:
                vals.append(getattr(B, op)(*(vals[a] for a in args)))
        return [vals[i] for i in self.outputs[outputs]]


def _const_enclosure(e):
    """``(e, lo, hi)``: floats enclosing the real constant ``e``, exactly when it is a float."""
    v = e.evalf(30)
    if not v.is_real or not v.is_finite:
        raise NotImplementedError(f"the constant {e} is not a finite real number")
    f = float(v)
    if e.is_Rational and sp.Rational(f) == e:
        return e, f, f
    return e, float(np.nextafter(f, -np.inf)), float(np.nextafter(f, np.inf))


def down(v):
    """Next float toward -inf (outward rounding of a lower bound)."""
    return np.nextafter(v, -np.inf)


def up(v):
    """Next float toward +inf (outward rounding of an upper bound)."""
    return np.nextafter(v, np.inf)


def _widen(lo, hi, ulps=4):
    """Outward margin for library functions (exp, sin, pow, ...): a few ulps plus one rounding."""
    eps, big = np.finfo(float).eps, np.finfo(float).max
    with np.errstate(all="ignore"):  # an overflowed bound (lo = +inf) only says "at least the largest float"
        lo = np.where(np.isfinite(lo), down(lo - ulps * eps * np.abs(lo)), np.where(lo > 0, big, -np.inf))
        hi = np.where(np.isfinite(hi), up(hi + ulps * eps * np.abs(hi)), np.where(hi < 0, -big, np.inf))
    return _clean(lo, hi)


def _clean(lo, hi):
    """NaN bounds (from inf - inf) become the widest bounds."""
    return np.where(np.isnan(lo), -np.inf, lo), np.where(np.isnan(hi), np.inf, hi)


class IntervalBackend:
    """Interval values ``(lo, hi)`` of arrays over N boxes; records where the domain is violated.

    ``empty[i]``: some subexpression is undefined on all of box i (no critical point there);
    ``partial[i]``: undefined on part of box i (ranges are then over the defined part; Krawczyk,
    which needs a C^1 function on the whole box, is not attempted).
    """

    def __init__(self, N):
        self.empty, self.partial = np.zeros(N, bool), np.zeros(N, bool)

    @staticmethod
    def const(data):
        return np.float64(data[1]), np.float64(data[2])

    @staticmethod
    def add(a, b):
        with np.errstate(all="ignore"):
            return _clean(down(a[0] + b[0]), up(a[1] + b[1]))

    @staticmethod
    def mul(a, b):
        with np.errstate(all="ignore"):
            p = np.stack(np.broadcast_arrays(a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]))
            p = np.where(np.isnan(p), 0.0, p)  # 0 * inf: the zero factor is exact
            return down(p.min(axis=0)), up(p.max(axis=0))

    def powi(self, a, n):
        if n == 0:
            return np.float64(1.0), np.float64(1.0)
        if n < 0:
            return self._recip(self.powi(a, -n))
        if n == 1:
            return a
        lo, hi = a
        with np.errstate(all="ignore"):
            pl, ph = lo ** n, hi ** n
        if n % 2:
            return _widen(pl, ph)
        zero = (lo <= 0) & (hi >= 0)
        return _widen(np.where(zero, 0.0, np.minimum(pl, ph)), np.maximum(pl, ph))

    def _recip(self, a):  # 1/0 is undefined, so [0, b] -> [1/b, inf) and [a, 0] -> (-inf, 1/a]
        lo, hi = a
        self._domain((lo == 0) & (hi == 0), (lo <= 0) & (hi >= 0))
        with np.errstate(all="ignore"):
            nlo = np.where((lo < 0) & (hi >= 0), -np.inf, down(1 / np.where(hi == 0, -np.inf, hi)))
            nhi = np.where((lo <= 0) & (hi > 0), np.inf, up(1 / np.where(lo == 0, np.inf, lo)))
        return nlo, nhi

    def powr(self, a, r):
        lo, hi = a
        positive = r > 0
        self._domain(hi < 0 if positive else hi <= 0, lo < 0 if positive else lo <= 0)
        with np.errstate(all="ignore"):
            rf, lo = float(r), np.maximum(lo, 0.0)
            pl, ph = lo ** rf, np.maximum(hi, 0.0) ** rf
        return _widen(pl, ph) if positive else _widen(ph, pl)

    def _domain(self, none, part):
        self.empty |= np.broadcast_to(none, self.empty.shape)
        self.partial |= np.broadcast_to(part, self.partial.shape)

    def exp(self, a):
        return self._increasing(np.exp, a)

    def log(self, a):
        lo, hi = a
        self._domain(hi <= 0, lo <= 0)
        with np.errstate(all="ignore"):
            return _widen(np.where(lo > 0, np.log(np.maximum(lo, 0.0)), -np.inf), np.log(np.maximum(hi, 0.0)))

    def cos(self, a):
        lo, hi = a
        with np.errstate(all="ignore"):
            c1, c2 = np.cos(lo), np.cos(hi)
            slack = 1e-12 * (1 + np.abs(lo) + np.abs(hi))
            wide = ~np.isfinite(lo) | ~np.isfinite(hi) | (hi - lo >= 2 * np.pi)
            top = np.ceil((lo - slack) / (2 * np.pi)) * 2 * np.pi <= hi + slack  # some 2k*pi inside
            bottom = np.ceil((lo - slack - np.pi) / (2 * np.pi)) * 2 * np.pi + np.pi <= hi + slack
            nlo, nhi = _widen(np.minimum(c1, c2), np.maximum(c1, c2))
        return (np.where(wide | bottom, -1.0, np.maximum(nlo, -1.0)),
                np.where(wide | top, 1.0, np.minimum(nhi, 1.0)))

    def sin(self, a):  # sin x = cos(x - pi/2), shifting by an enclosure of pi/2
        half_pi = (np.pi / 2, float(up(np.pi / 2)))
        return self.cos((down(a[0] - half_pi[1]), up(a[1] - half_pi[0])))

    def tan(self, a):
        lo, hi = a
        with np.errstate(all="ignore"):
            slack = 1e-12 * (1 + np.abs(lo) + np.abs(hi))
            pole = np.ceil((lo - slack - np.pi / 2) / np.pi) * np.pi + np.pi / 2 <= hi + slack
            pole |= ~np.isfinite(lo) | ~np.isfinite(hi) | (hi - lo >= np.pi)
            self.partial |= np.broadcast_to(pole, self.partial.shape)
            tl, th = _widen(np.tan(lo), np.tan(hi))
        return np.where(pole, -np.inf, tl), np.where(pole, np.inf, th)

    def atan(self, a):
        return self._increasing(np.arctan, a)

    def sinh(self, a):
        return self._increasing(np.sinh, a)

    def tanh(self, a):
        return self._increasing(np.tanh, a)

    def asinh(self, a):
        return self._increasing(np.arcsinh, a)

    def asin(self, a):
        lo, hi = a
        self._domain((hi < -1) | (lo > 1), (lo < -1) | (hi > 1))
        return self._increasing(np.arcsin, (np.clip(lo, -1, 1), np.clip(hi, -1, 1)))

    def acos(self, a):
        lo, hi = a
        self._domain((hi < -1) | (lo > 1), (lo < -1) | (hi > 1))
        with np.errstate(all="ignore"):
            return _widen(np.arccos(np.clip(hi, -1, 1)), np.arccos(np.clip(lo, -1, 1)))

    def cosh(self, a):
        lo, hi = self.abs_(a)
        return self._increasing(np.cosh, (lo, hi))

    @staticmethod
    def abs_(a):
        lo, hi = a
        zero = (lo <= 0) & (hi >= 0)
        m = np.maximum(np.abs(lo), np.abs(hi))
        return np.where(zero, 0.0, np.minimum(np.abs(lo), np.abs(hi))), m

    @staticmethod
    def max_(*vals):
        return np.maximum.reduce([v[0] for v in vals]), np.maximum.reduce([v[1] for v in vals])

    @staticmethod
    def min_(*vals):
        return np.minimum.reduce([v[0] for v in vals]), np.minimum.reduce([v[1] for v in vals])

    @staticmethod
    def _increasing(f, a):
        with np.errstate(all="ignore"):
            return _widen(f(a[0]), f(a[1]))


class MpmathBackend:
    """Point values as ``mpmath.mpf`` at the current ``mpmath.mp.dps``."""

    def __init__(self):
        self._consts = {}

    def const(self, data):
        e = data[0]
        if e not in self._consts:
            self._consts[e] = mpmath.mpf(str(e.evalf(mpmath.mp.dps + 5)))
        return self._consts[e]

    add = staticmethod(lambda a, b: a + b)
    mul = staticmethod(lambda a, b: a * b)
    powi = staticmethod(lambda a, n: a ** n)
    powr = staticmethod(lambda a, r: mpmath.power(a, mpmath.mpf(r.p) / r.q))
    exp, log, sin, cos, tan = (staticmethod(getattr(mpmath, f)) for f in ("exp", "log", "sin", "cos", "tan"))
    atan, sinh, cosh, tanh = (staticmethod(getattr(mpmath, f)) for f in ("atan", "sinh", "cosh", "tanh"))
    asinh, asin, acos, abs_ = (staticmethod(getattr(mpmath, f)) for f in ("asinh", "asin", "acos", "fabs"))
    max_, min_ = staticmethod(max), staticmethod(min)
