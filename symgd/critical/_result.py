"""What ``critical_points`` returns: :class:`Kind`, :class:`CriticalPoint`, :class:`CriticalPoints`.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> cp = CriticalPoint({x: sp.Integer(5)}, sp.Integer(-24), Kind.MINIMUM, True, (2.0,), "univariate",
...                    "f''(5) = 2 > 0")
>>> cp
CriticalPoint(minimum at x = 5, f = -24, exact)
>>> cp.point_float, cp.value_float
({x: 5.0}, -24.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

import sympy as sp

__all__ = ["CriticalPoint", "CriticalPoints", "Kind"]


class Kind(Enum):
    """The kind of a critical point.

    ``SADDLE`` means the Hessian has eigenvalues of both signs. ``DEGENERATE`` means the Hessian is
    singular and no higher-order argument proved an extremum; the point's ``reason`` then says what is
    known (e.g. "not an extremum: along y = 0, f - f(p) = x^3 changes sign", as for the monkey saddle).
    """

    MINIMUM = "minimum"
    MAXIMUM = "maximum"
    SADDLE = "saddle"
    DEGENERATE = "degenerate"

    def __str__(self) -> str:
        return self.value


def _float(value) -> float:
    """A SymPy number as a float (evaluated at 30 digits first); NaN when not a finite real."""
    try:
        out = complex(sp.N(value, 30))
    except (TypeError, ValueError):
        return math.nan
    return out.real if abs(out.imag) <= 1e-12 * max(1.0, abs(out.real)) else math.nan


def _finite(v: float):
    """JSON-safe float: NaN and infinities become None."""
    return v if isinstance(v, float) and math.isfinite(v) else None


def _short(value, width: int = 24) -> str:
    """``= exact`` when the exact SymPy string is short, else ``≈`` and 10 significant digits."""
    text = sp.sstr(value)
    if len(text) <= width and not value.has(sp.Float):
        return f"= {text}"
    v = _float(value)
    return f"≈ {v:.10g}" if math.isfinite(v) else f"= {text}"


@dataclass(frozen=True)
class CriticalPoint:
    """One isolated critical point p (∇f(p) = 0), with f(p) and its classification.

    Attributes
    ----------
    point : dict
        ``{Symbol: value}``: exact SymPy numbers (Integer, Rational, radicals, ``CRootOf``, ``LambertW``),
        or 50-digit Floats when ``exact`` is False because a numeric route found the point.
    value : sympy.Expr
        f(p), exact when the point is.
    kind : Kind
        Minimum, maximum, saddle or degenerate.
    exact : bool
        False if the coordinates are numeric or a sign in the classification was decided numerically.
    eigenvalues : tuple of float
        Eigenvalues of the Hessian at p, ascending.
    method : str
        The route that found the point (``"groebner"``, ``"solveset"``, ``"interval-newton"``, ...).
    reason : str
        One sentence: why this kind (``"f''(5) = 2 > 0"``, ``"Hessian eigenvalues of both signs"``).
    """

    point: dict
    value: sp.Expr
    kind: Kind
    exact: bool
    eigenvalues: tuple
    method: str
    reason: str

    @cached_property
    def point_float(self) -> dict:
        """``{Symbol: float}``."""
        return {v: _float(c) for v, c in self.point.items()}

    @cached_property
    def value_float(self) -> float:
        """f(p) as a float."""
        return _float(self.value)

    def coordinates(self) -> str:
        """``x = 5, y = 1/2`` (long exact values shortened to ``≈`` floats)."""
        return ", ".join(f"{v} {_short(c)}" for v, c in self.point.items())

    def to_json(self) -> dict:
        """The JSON object of one point (CONTRACT.md, ``analyze --json``)."""
        return {
            "point": {str(v): sp.sstr(c) for v, c in self.point.items()},
            "point_float": {str(v): _finite(f) for v, f in self.point_float.items()},
            "value": sp.sstr(self.value),
            "value_float": _finite(self.value_float),
            "kind": self.kind.value,
            "exact": self.exact,
            "hessian_eigenvalues": [_finite(float(e)) for e in self.eigenvalues],
            "method": self.method,
            "reason": self.reason,
        }

    def __repr__(self) -> str:
        flag = "exact" if self.exact else "numeric"
        return f"CriticalPoint({self.kind.value} at {self.coordinates()}, f {_short(self.value)}, {flag})"


def _family_json(fam) -> dict:
    return {
        "description": fam.description,
        "kind": fam.kind,
        "parametrization": {str(v): sp.sstr(e) for v, e in fam.parametrization.items()},
        "parameters": [str(p) for p in fam.parameters],
    }


@dataclass(frozen=True)
class CriticalPoints(Sequence):
    """All critical points symgd found: a sequence of :class:`CriticalPoint`, plus families.

    Attributes
    ----------
    points : tuple of CriticalPoint
        Isolated points, sorted by coordinates.
    families : tuple of Family
        Infinite sets of critical points (``symgd.critical.Family``), e.g. the axes for f = x²y².
    complete : bool
        True only when it is proven that nothing is missing (within the box, if one was searched).
    method : str
        The route that produced the answer, with any fallback (``"groebner"``,
        ``"interval-newton (after: polynomial route over budget)"``).
    notes : tuple of str
        Human sentences: dropped points, fallbacks, the searched box.
    """

    points: tuple = ()
    families: tuple = ()
    complete: bool = False
    method: str = ""
    notes: tuple = field(default_factory=tuple)

    def __getitem__(self, index):
        return self.points[index]

    def __len__(self) -> int:
        return len(self.points)

    @property
    def exact(self) -> bool:
        """True when every point is exact."""
        return all(p.exact for p in self.points)

    def to_json(self) -> dict:
        """The ``"critical_points"`` object of ``analyze --json`` (CONTRACT.md); never NaN/Infinity."""
        return {
            "complete": self.complete,
            "exact": self.exact,
            "method": self.method,
            "points": [p.to_json() for p in self.points],
            "families": [_family_json(f) for f in self.families],
            "notes": list(self.notes),
        }

    def _header(self) -> str:
        n = len(self.points)
        flags = ["complete" if self.complete else "INCOMPLETE (points may be missing)",
                 "exact" if self.exact else "numeric"]
        count = f"{n} point{'' if n == 1 else 's'}"
        if self.families:
            count += f" and {len(self.families)} famil{'y' if len(self.families) == 1 else 'ies'}"
        return f"CriticalPoints: {count}; {', '.join(flags)} (method: {self.method})"

    def __repr__(self) -> str:
        rows = [(p.kind.value, p.coordinates(), "f " + _short(p.value)) for p in self.points]
        w0 = max((len(r[0]) for r in rows), default=0)
        w1 = max((len(r[1]) for r in rows), default=0)
        lines = [self._header()]
        lines += [f"  {k.ljust(w0)}  {c.ljust(w1)}  {v}" for k, c, v in rows]
        lines += [f"  family ({f.kind or 'kind unknown'}): {f.description}" for f in self.families]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        """A MathJax-safe ``array`` (no ``tabular``, no ``multicolumn``): kind, point, f(point)."""
        rows = [r"\text{kind} & \text{point} & f \\ \hline"]
        for p in self.points:
            coords = ", ".join(f"{sp.latex(v)} {_latex_number(c)}" for v, c in p.point.items())
            rows.append(rf"{_text(p.kind.value)} & {coords} & f {_latex_number(p.value)} \\")
        for f in self.families:
            rows.append(rf"{_text(f.kind or 'kind unknown')} & {_text(f.description)} & \\")
        flags = ("complete" if self.complete else "incomplete") + (", exact" if self.exact else ", numeric")
        rows.append(rf"\hline {_text(flags)} & {_text('method: ' + self.method)} &")
        return r"$\begin{array}{lll}" + " ".join(rows) + r"\end{array}$"


def _latex_number(c) -> str:
    """``= exact`` in LaTeX, or ``\\approx`` and 10 digits for numeric values."""
    if c.has(sp.Float):
        return rf"\approx {sp.latex(sp.N(c, 10))}"
    return f"= {sp.latex(c)}"


def _text(s: str) -> str:
    """Plain words inside LaTeX: characters special to TeX are replaced."""
    for bad, good in (("\\", "/"), ("{", "("), ("}", ")"), ("_", " "), ("$", ""), ("&", "and"), ("#", ""),
                      ("%", " percent"), ("^", "**"), ("~", "-")):
        s = s.replace(bad, good)
    return r"\text{" + s + "}"
