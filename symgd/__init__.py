"""symgd: symbolic gradients, exact critical points and vectorized optimizers for typed expressions."""

from importlib.metadata import PackageNotFoundError, version

from symgd import latex, optimizers, plot, schedules
from symgd.critical import CriticalPoint, CriticalPoints, Family, Kind, critical_points
from symgd.errors import BudgetError, InputError, ParseError, SymgdError
from symgd.minimize import Comparison, Run, Status, compare, minimize
from symgd.problem import Problem

try:
    __version__ = version("symgd")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["BudgetError", "Comparison", "CriticalPoint", "CriticalPoints", "Family", "InputError", "Kind",
           "ParseError", "Problem", "Run", "Status", "SymgdError", "__version__", "compare", "critical_points",
           "latex", "minimize", "optimizers", "plot", "schedules"]
