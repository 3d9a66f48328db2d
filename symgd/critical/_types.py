"""Shared data types of the critical-point solver routes.

Every route (``polynomial``, ``transcendental``, ``numeric``) returns a
:class:`RawSolution`; infinite solution sets are :class:`Family` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Family", "RawSolution"]


@dataclass
class Family:
    """An infinite set of critical points.

    Attributes
    ----------
    description : str
        Human text, e.g. ``"x = pi/2 + 2*k*pi, y = 0 (k integer)"`` or
        ``"x = 0, y any real"``.
    parametrization : dict
        ``{variable Symbol: Expr in the parameters}``.
    parameters : tuple
        Symbols: integer parameters (``Symbol('k', integer=True)``) or real ones.
    kind : str or None
        ``"minimum"``, ``"maximum"``, ``"saddle"`` or ``"degenerate"`` when
        known for the whole family, else ``None``.
    """

    description: str
    parametrization: dict
    parameters: tuple
    kind: str | None = None


@dataclass
class RawSolution:
    """What a solver route returns.

    Attributes
    ----------
    points : list
        ``list[dict[Symbol, Expr]]``: exact SymPy numbers, or high-precision
        Floats if not exact.
    families : list
        ``list[Family]``.
    complete : bool
        Proven: points and families are *all* real solutions (within the box
        if one was given).
    exact : bool
        Coordinates are exact SymPy numbers.
    method : str
        ``"groebner"``, ``"triangular"``, ``"resultant"``, ``"solveset"``,
        ``"substitution"``, ``"interval-newton"``, ...
    notes : list
        Human sentences, e.g. ``"dropped x = -1: log undefined"``.
    """

    points: list
    families: list
    complete: bool
    exact: bool
    method: str
    notes: list = field(default_factory=list)
