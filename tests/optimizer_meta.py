"""Test facts per optimizer (torch's ``OptimizerInfo``, minus the hand-kept list of what is tested).

The contract tests in ``test_optimizers.py`` iterate over ``symgd.optimizers.REGISTRY``; an optimizer
without an entry here fails them with a KeyError, which is the point: add a row when you add a file.

``kwargs`` reach the minimum of ``BOWL`` from every start of ``STARTS`` to ``atol`` within ``steps``
updates (tuned by running them; the learning rates are the only tuning). ``defaults`` are the defaults
the spec fixes (/work/notes/optspec.md, i.e. torch.optim 2.13's where torch has the method).
``errors`` are optimizer-specific bad hyperparameters, beyond the generic ones built from the signature
in ``test_optimizers.py`` (lr <= 0, betas outside [0, 1), eps < 0, an unknown ``form``, ...).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from symgd import schedules

# A rotated, shifted quadratic bowl: Hessian [[2, 1], [1, 6]] (eigenvalues 4 ± √5), minimum (13/11, -4/11).
BOWL_TEXT = "x^2 + 3y^2 + x*y - 2x + y"
BOWL_MIN = np.array([13 / 11, -4 / 11])
STARTS = np.array([[1.0, 1.0], [-2.0, 0.5], [3.0, -1.0]])

BETAS = (0.9, 0.999)


class Meta(NamedTuple):
    kwargs: dict  # hyperparameters that converge on BOWL
    steps: int = 300  # updates needed from STARTS
    atol: float = 1e-4  # distance to BOWL_MIN reached (max norm)
    stochastic: bool = False  # True: batched == looped cannot hold bitwise; reproducibility is tested instead
    needs_hessian: bool = False
    defaults: dict = {}  # the spec's defaults, checked against the signature
    errors: tuple = ()  # ((bad kwargs, regex of the InputError message), ...)


META: dict[str, Meta] = {
    "gd": Meta({"lr": 0.1}, 100, defaults={"lr": 0.01}),
    "sgd": Meta({"lr": 0.1, "momentum": 0.5}, 100,
                defaults={"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
                errors=(({"momentum": 1.5}, "momentum"), ({"dampening": 1.5}, "dampening"),
                        ({"nesterov": True}, "nesterov"), ({"nesterov": True, "momentum": 0.9, "dampening": 0.1},
                                                           "nesterov"))),
    "momentum": Meta({"lr": 0.05, "momentum": 0.5}, 100, defaults={"lr": 0.01, "momentum": 0.9, "form": "torch"},
                     errors=(({"momentum": 1.0}, "momentum"),)),
    "nag": Meta({"lr": 0.05, "momentum": 0.5}, 100, defaults={"lr": 0.01, "momentum": 0.9, "form": "classical"},
                errors=(({"momentum": 1.0}, "momentum"),)),
    "newton": Meta({}, 5, needs_hessian=True, defaults={"lr": 1.0, "damping": "none"},
                   errors=(({"damping": "levenberg"}, "damping"), ({"eps": 0.0}, "eps"))),
    "lookahead": Meta({"inner": "gd", "lr": 0.1}, 300, defaults={"inner": "gd", "k": 5, "alpha": 0.5},
                      errors=(({"inner": "adamm"}, "did you mean 'adam'"), ({"k": 0}, "k"), ({"k": 2.5}, "k"),
                              ({"alpha": 0.0}, "alpha"), ({"alpha": 1.5}, "alpha"),
                              ({"inner": "gd", "betas": BETAS}, "betas"))),
    # --- the adaptive zoo (symgd/optimizers/{adagrad,...}.py) ---
    "adagrad": Meta({"lr": 0.5}, 300, defaults={"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                                                  "initial_accumulator_value": 0.0, "eps": 1e-10,
                                                  "eps_inside_sqrt": False},
                    errors=(({"lr_decay": -1.0}, "lr_decay"), ({"initial_accumulator_value": -1.0},
                                                                "initial_accumulator_value"))),
    # RMSProp with a constant lr hovers at a distance ~ lr from the minimum: anneal it.
    "rmsprop": Meta({"lr": schedules.cosine(0.05, 1000)}, 1000,
                    defaults={"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                              "centered": False, "eps_inside_sqrt": False}),
    # Adadelta with a constant lr hovers ~2e-2 from this minimum (and drifts away slowly): anneal it.
    "adadelta": Meta({"lr": schedules.cosine(3.0, 1000)}, 1000,
                     defaults={"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0}),
    "adam": Meta({"lr": 0.05}, 300, atol=1e-5, defaults={"lr": 1e-3, "betas": BETAS, "eps": 1e-8,
                                                          "weight_decay": 0.0, "amsgrad": False,
                                                          "eps_inside_sqrt": False}),
    "adamw": Meta({"lr": 0.05, "weight_decay": 0.0}, 300, atol=1e-5,
                  defaults={"lr": 1e-3, "betas": BETAS, "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False}),
    "amsgrad": Meta({"lr": 0.05}, 300, atol=1e-5, defaults={"lr": 1e-3, "betas": BETAS, "eps": 1e-8,
                                                             "weight_decay": 0.0, "form": "torch"}),
    "adamax": Meta({"lr": 0.05}, 1000, defaults={"lr": 2e-3, "betas": BETAS, "eps": 1e-8, "weight_decay": 0.0}),
    "nadam": Meta({"lr": 0.05}, 300, atol=1e-5, defaults={"lr": 2e-3, "betas": BETAS, "eps": 1e-8,
                                                           "weight_decay": 0.0, "momentum_decay": 4e-3,
                                                           "form": "torch"}),
    "radam": Meta({"lr": 0.05}, 1000, defaults={"lr": 1e-3, "betas": BETAS, "eps": 1e-8, "weight_decay": 0.0,
                                                "form": "torch"}),
    "adabound": Meta({"lr": 0.05}, 300, atol=1e-5,
                     defaults={"lr": 1e-3, "final_lr": 0.1, "betas": BETAS, "gamma": 1e-3, "eps": 1e-8,
                               "weight_decay": 0.0, "amsbound": False},
                     errors=(({"final_lr": 0.0}, "final_lr"), ({"gamma": -1.0}, "gamma"))),
    "swats": Meta({"lr": 0.05}, 300, atol=1e-5, defaults={"lr": 1e-3, "betas": BETAS, "eps": 1e-6,
                                                           "weight_decay": 0.0, "nesterov": False}),
}


def scalar_form_configs(lr: float) -> list[tuple[str, dict]]:
    """Every registered optimizer that has a scalar form (``symgd.fused``): its defaults (``lr`` where it has
    one) and each other choice of its ``form``/``damping``, as ``(name, hyperparameters)``."""
    import pytest

    from symgd.errors import InputError
    from symgd.optimizers import REGISTRY, get

    def options(name: str, param: str) -> list[str]:  # the choices, read from the hyperparameter's own error
        with pytest.raises(InputError) as err:
            get(name, **{param: "?"})
        return re.findall(r"'(\w+)'", str(err.value).split("must be one of")[1].split("got")[0])

    out = []
    for name in sorted(REGISTRY):
        params = REGISTRY[name].signature.parameters
        base = {"lr": lr} if "lr" in params and name not in ("adadelta", "newton") else {}
        out.append((name, base))
        for param in ("form", "damping"):
            if param in params:
                out += [(name, {**base, param: v}) for v in options(name, param) if v != params[param].default]
    return [(name, kw) for name, kw in out if get(name, **kw).fused is not None]
