"""The optimizer zoo: one module per optimizer, each registered by name on import.

>>> from symgd import optimizers
>>> optimizers.get("gd", lr=0.1)
gd(lr=0.1)
"""

from __future__ import annotations

import importlib
import pkgutil

from symgd.optimizers._core import REGISTRY, SYMBOLS, Fused, Optimizer, as_schedule, get, optimizer, require

for _mod in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
    importlib.import_module(f"{__name__}.{_mod}")  # importing a module registers its optimizer

__all__ = ["REGISTRY", "SYMBOLS", "Fused", "Optimizer", "as_schedule", "get", "optimizer", "require"]
