"""symgd: symbolic gradients, exact critical points and vectorized optimizers for typed expressions.

``import symgd`` does not import SymPy: ``Problem`` and ``minimize`` need it only for a text they have not
seen before (``symgd._store``), and the critical points, LaTeX, plots and schedules are imported on first
use (PEP 562).
"""

from __future__ import annotations

import importlib
import importlib.util

from symgd.errors import BudgetError, InputError, ParseError, SymgdError
from symgd.minimize import Comparison, Run, Status, compare, minimize  # binds symgd.minimize to the function
from symgd.problem import Problem

_LAZY = {"critical_points": "symgd.critical", "CriticalPoint": "symgd.critical", "CriticalPoints": "symgd.critical",
         "Family": "symgd.critical", "Kind": "symgd.critical"}
_MODULES = ("latex", "optimizers", "plot", "schedules")

__all__ = ["BudgetError", "Comparison", "CriticalPoint", "CriticalPoints", "Family", "InputError", "Kind",
           "ParseError", "Problem", "Run", "Status", "SymgdError", "__version__", "compare", "critical_points",
           "latex", "minimize", "optimizers", "plot", "schedules"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _MODULES or (not name.startswith("__") and importlib.util.find_spec(f"symgd.{name}") is not None):
        value = importlib.import_module(f"symgd.{name}")  # symgd.critical, symgd.fit, ... as before
    elif name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("symgd")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
            value = "0.0.0"
    else:
        raise AttributeError(f"module 'symgd' has no attribute {name!r}")
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
