r"""Scalar functions for the generated kernels: NumPy's answer on every input, never a Python exception.

A generated kernel (``symgd.fused``) evaluates f and its gradient one float at a time, where the NumPy
backend evaluates whole arrays. The two must agree on bad input too, because a diverging start is a
result, not an error: NumPy says ``log(-1) = nan``, ``log(0) = -inf``, ``1/0 = inf``, ``0/0 = nan``,
``exp(1000) = inf``, while CPython's ``math`` raises ``ValueError``, ``ZeroDivisionError`` or
``OverflowError`` for the same inputs. So each function here has two forms:

- ``PY[name]``: runs in CPython and returns what NumPy returns (the ``python`` backend);
- ``JIT[name]``: plain ``math`` arithmetic for numba (compiled with ``error_model="numpy"``, where
  the same calls already follow IEEE 754 and raise nothing). Where the CPython form is also valid
  numba code (no ``try``), both are the same function.

The generated source calls them by name (``_f_log(t0)``); the backend binds each name to one form.
Constants are made of the argument's type (``type(x)(1.0)``): numba types a literal as float64, which
would promote a float32 kernel's arithmetic to float64.
``tests/test_fused.py`` checks both forms against the NumPy ufuncs on a grid of hazards (±0, ±inf,
nan, domain edges, overflow).

>>> PY["log"](0.0), PY["log"](-1.0), PY["div"](1.0, -0.0), PY["pow"](-8.0, 1 / 3), PY["exp"](1000.0)
(-inf, nan, -inf, nan, inf)
"""

from __future__ import annotations

import math

INF, NAN = math.inf, math.nan
LOGE2 = math.log(2.0)


def _odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


# ---------------------------------------------------------------------------------------------------------
# forms shared by CPython and numba (no exceptions can occur)


def sel(c, a, b):
    """``a if c else b``: the kernels' branch-free select (LLVM makes it one instruction)."""
    return a if c else b


def sq(x):
    """``x**2`` as NumPy evaluates it (``x * x``: NumPy's ``power`` special-cases the exponent 2)."""
    return x * x


def powi(x, k):
    """``x**k`` for an integer ``k >= 1`` by repeated squaring (JAX's ``integer_pow``): x³ = x·x², x⁴ = x²·x².

    Each product rounds, so this is within an ulp or two of ``numpy.power`` (which is not correctly
    rounded either); it needs no libm call, so a loop over starts vectorizes, and it never raises.
    """
    acc = x
    first = True
    while k > 0:
        if k & 1:
            acc = x if first else acc * x
            first = False
        k >>= 1
        if k > 0:
            x = x * x
    return acc


def fabs(x):
    """``abs(x)``."""
    return abs(x)


def sign(x):
    """``numpy.sign``: -1, 0 or 1, nan for nan."""
    one = type(x)(1.0)  # of x's type: a float32 kernel stays float32 (a literal 1.0 is a float64 in numba)
    if x > 0.0:
        return one
    if x < 0.0:
        return -one
    if x == 0.0:
        return one - one
    return x  # nan


def maximum(a, b):
    """``numpy.maximum``: nan if either is nan."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a >= b else b


def minimum(a, b):
    """``numpy.minimum``: nan if either is nan."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a <= b else b


def heaviside0(x):
    """``numpy.heaviside(x, 0.0)`` (``symgd.models.unit_step``): 0 for x <= 0, 1 for x > 0, nan for nan."""
    one = type(x)(1.0)
    if x > 0.0:
        return one
    if x <= 0.0:
        return one - one
    return x


def relu(x):
    """``numpy.maximum(x, 0.0)`` (``symgd.models.relu``)."""
    return maximum(x, type(x)(0.0))


def logaddexp(x, y):
    r"""``numpy.logaddexp``: :math:`\log(e^x + e^y)` without overflow (NumPy's own formula)."""
    if x == y:
        return x + type(x)(LOGE2)  # also inf + log 2 for x = y = inf
    tmp = x - y
    if tmp > 0.0:
        return x + math.log1p(math.exp(-tmp))
    if tmp <= 0.0:
        return y + math.log1p(math.exp(tmp))
    return tmp  # nan


def softplus(x):
    r""":math:`\log(1 + e^x)` as ``numpy.logaddexp(0.0, x)`` (``symgd.models.softplus``)."""
    return logaddexp(type(x)(0.0), x)


def sigmoid(x):
    r""":math:`1/(1 + e^{-x})` as ``numpy.exp(-numpy.logaddexp(0.0, -x))`` (``symgd.models.sigmoid``)."""
    return math.exp(-logaddexp(type(x)(0.0), -x))


# ---------------------------------------------------------------------------------------------------------
# CPython forms of the functions CPython's math guards with exceptions


def div(a, b):
    """``a / b`` with IEEE results for a zero divisor: ±inf, or nan for 0/0 and nan/0."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)


def power(x, y):
    """``numpy.power`` for floats: nan for a negative base and a non-integer exponent, ±inf on overflow."""
    if y == 0.5:  # NumPy's power takes the square root here (so -inf ** 0.5 is nan, not C's inf)
        return sqrt(x)
    try:
        return math.pow(x, y)
    except OverflowError:
        return -INF if x < 0.0 and _odd_integer(y) else INF
    except ValueError:  # 0 ** negative, or negative ** non-integer
        if x == 0.0 and y < 0.0:
            return math.copysign(INF, x) if _odd_integer(y) else INF
        return NAN


def exp(x):
    """``numpy.exp``: inf on overflow."""
    try:
        return math.exp(x)
    except OverflowError:
        return INF


def log(x):
    """``numpy.log``: -inf at 0, nan below."""
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -INF
    return NAN


def sqrt(x):
    """``numpy.sqrt``: nan below 0 (and -0.0 at -0.0)."""
    if x >= 0.0:
        return math.sqrt(x)
    return NAN


def _guarded(fn, overflow=None):
    """``fn`` with nan for a domain error (and ±inf by the sign of x on overflow)."""

    def call(x):
        try:
            return fn(x)
        except ValueError:
            return NAN
        except OverflowError:
            return overflow(x)

    call.__name__ = call.__qualname__ = fn.__name__
    call.__doc__ = f"``numpy`` semantics of ``math.{fn.__name__}``: nan outside the domain."
    return call


def _signed_inf(x):
    return math.copysign(INF, x)


def _plus_inf(x):
    return INF


def atanh(x):
    """``numpy.arctanh``: ±inf at ±1, nan beyond."""
    if x == 1.0 or x == -1.0:
        return math.copysign(INF, x)
    if -1.0 < x < 1.0:
        return math.atanh(x)
    return NAN


# ---------------------------------------------------------------------------------------------------------
# numba forms: under error_model="numpy" these math calls already give IEEE results


def div_jit(a, b):
    """``a / b`` (numba, error_model="numpy")."""
    return a / b


def power_jit(x, y):
    """``x ** y`` for floats (numba); the square root for y = 0.5, as NumPy's power."""
    if y == 0.5:
        return math.sqrt(x)
    return math.pow(x, y)


def exp_jit(x):
    """``exp`` (numba)."""
    return math.exp(x)


def log_jit(x):
    """``log`` (numba)."""
    return math.log(x)


def sqrt_jit(x):
    """``sqrt`` (numba)."""
    return math.sqrt(x)


def sin_jit(x):
    """``sin`` (numba)."""
    return math.sin(x)


def cos_jit(x):
    """``cos`` (numba)."""
    return math.cos(x)


def tan_jit(x):
    """``tan`` (numba)."""
    return math.tan(x)


def asin_jit(x):
    """``asin`` (numba)."""
    return math.asin(x)


def acos_jit(x):
    """``acos`` (numba)."""
    return math.acos(x)


def sinh_jit(x):
    """``sinh`` (numba)."""
    return math.sinh(x)


def cosh_jit(x):
    """``cosh`` (numba)."""
    return math.cosh(x)


def acosh_jit(x):
    """``acosh`` (numba)."""
    return math.acosh(x)


def atanh_jit(x):
    """``atanh`` (numba)."""
    return math.atanh(x)


def atan(x):
    """``atan`` (never raises)."""
    return math.atan(x)


def tanh(x):
    """``tanh`` (never raises)."""
    return math.tanh(x)


def asinh(x):
    """``asinh`` (never raises)."""
    return math.asinh(x)


_SAME = {"sel": sel, "sq": sq, "powi": powi, "fabs": fabs, "sign": sign, "maximum": maximum, "minimum": minimum, "heaviside0": heaviside0,
         "relu": relu, "softplus": softplus, "sigmoid": sigmoid, "atan": atan, "tanh": tanh, "asinh": asinh}

PY = {**_SAME, "div": div, "pow": power, "exp": exp, "log": log, "sqrt": sqrt, "atanh": atanh,
      "sin": _guarded(math.sin), "cos": _guarded(math.cos), "tan": _guarded(math.tan),
      "asin": _guarded(math.asin), "acos": _guarded(math.acos), "acosh": _guarded(math.acosh),
      "sinh": _guarded(math.sinh, _signed_inf), "cosh": _guarded(math.cosh, _plus_inf)}

JIT = {**_SAME, "div": div_jit, "pow": power_jit, "exp": exp_jit, "log": log_jit, "sqrt": sqrt_jit,
       "atanh": atanh_jit, "sin": sin_jit, "cos": cos_jit, "tan": tan_jit, "asin": asin_jit, "acos": acos_jit,
       "acosh": acosh_jit, "sinh": sinh_jit, "cosh": cosh_jit}

# the NumPy ufunc each name stands for (the reference of tests/test_fused.py)
NUMPY = {"sq": "square", "fabs": "fabs", "sign": "sign", "maximum": "maximum", "minimum": "minimum",
         "div": "true_divide", "pow": "power", "exp": "exp", "log": "log", "sqrt": "sqrt", "atanh": "arctanh",
         "sin": "sin", "cos": "cos", "tan": "tan", "asin": "arcsin", "acos": "arccos", "acosh": "arccosh",
         "sinh": "sinh", "cosh": "cosh", "atan": "arctan", "tanh": "tanh", "asinh": "arcsinh"}
