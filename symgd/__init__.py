"""symgd: symbolic gradients, exact critical points and vectorized optimizers for typed expressions."""

from importlib.metadata import PackageNotFoundError, version

from symgd.errors import BudgetError, InputError, ParseError, SymgdError
from symgd.problem import Problem

try:
    __version__ = version("symgd")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["BudgetError", "InputError", "ParseError", "Problem", "SymgdError", "__version__"]
