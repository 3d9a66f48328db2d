"""Write the golden reference trajectories ``tests/golden/*.json`` from torch.optim, optax and pytorch_optimizer.

Run by hand, in a separate environment (never by the test suite, which only reads the JSON)::

    python3 -m venv /work/goldenv
    /work/goldenv/bin/pip install torch==2.13.0+cpu optax==0.2.8 jax jaxlib numpy sympy
    /work/goldenv/bin/pip install --no-deps pytorch_optimizer==3.9.0
    /work/goldenv/bin/python tests/golden/make_golden.py [--check]

Every case records the exact library call that produced it: ``library_call`` (and ``scheduler_call``) are the
source strings this script evaluates (fixed strings written below, never user input), with ``p`` the torch
parameter (float64, shape (n,)) and ``opt`` the optimizer. Gradients come from torch autograd / ``jax.grad``
on the same objective written with the library's ops (``Objective.f``); the script checks them against the
SymPy gradient of the symgd string. ``--check`` also reruns every case with the SymPy gradient (a different
float64 rounding of the same numbers) and prints how far the path moves: a case is only a fair rtol-1e-9
golden when that sensitivity is far below 1e-9.

The imports of torch/jax/optax happen inside functions so that ``pytest --doctest-modules`` can import this
module without them.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

HERE = Path(__file__).parent
SCRIPT = "tests/golden/make_golden.py"
GENERATED = "2026-11-21"
STEPS = 30
BETAS = [0.9, 0.999]


@dataclass(frozen=True)
class Objective:
    """One test problem: the symgd string and the same function in library ops (``m`` = torch or jax.numpy)."""

    key: str
    text: str  # symgd syntax
    variables: tuple[str, ...]
    x0: tuple[float, ...]
    f: Callable  # f(v, m) with v of shape (n,)


PROBLEMS = {
    "x2": Objective("x2", "x^2", ("x",), (0.5,), lambda v, m: v[0] ** 2),
    "rosen": Objective("rosen", "(1 - x)^2 + 100*(y - x^2)^2", ("x", "y"), (-1.5, 2.0),
                       lambda v, m: (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2),
    "quartic3": Objective("quartic3", "x^4 + 2*y^2 + z^2 + x*y - x*z + exp(z/2)", ("x", "y", "z"),
                          (1.0, -1.0, 0.5),
                          lambda v, m: v[0] ** 4 + 2 * v[1] ** 2 + v[2] ** 2 + v[0] * v[1] - v[0] * v[2]
                          + m.exp(v[2] / 2)),
}
ALL = tuple(PROBLEMS)

# Learning rates per problem and family, chosen so that no run blows up in 30 updates.
LR = {
    "x2": {"sgd": 0.1, "adam": 0.1, "rms": 0.01, "adagrad": 0.1, "adadelta": 1.0, "radam": 0.1},
    "rosen": {"sgd": 5e-4, "adam": 0.01, "rms": 1e-3, "adagrad": 0.05, "adadelta": 1.0, "radam": 1e-3},
    "quartic3": {"sgd": 0.05, "adam": 0.05, "rms": 0.01, "adagrad": 0.1, "adadelta": 1.0, "radam": 0.05},
}


@dataclass
class Case:
    """One golden trajectory to produce (``{lr}`` in the call strings is filled per problem)."""

    file: str  # tests/golden/<file>.json
    stem: str  # case id = f"{stem}-{problem}"
    method: str
    hyper: dict
    call: str
    family: str = "adam"  # the LR column
    problems: tuple = ALL
    steps: int = STEPS
    sched: str | None = None  # a torch scheduler call on ``opt``
    lr_hyper: dict | None = None  # symgd schedule replacing "lr" in hyper: {"schedule": ..., "args": ...}
    view: str = "plain"  # "lookahead": optax LookaheadParams
    lr: float | None = None  # overrides the LR table
    extra: dict = field(default_factory=dict)


def _cases() -> list[Case]:
    adam = dict(betas=BETAS, eps=1e-8)
    out = [
        # --- torch.optim.SGD and the momentum forms -----------------------------------------------------
        Case("torch_sgd", "torch-sgd", "sgd", {}, "torch.optim.SGD([p], lr={lr})", "sgd"),
        Case("torch_sgd", "torch-sgd-momentum", "sgd", {"momentum": 0.9},
             "torch.optim.SGD([p], lr={lr}, momentum=0.9)", "sgd"),
        Case("torch_sgd", "torch-sgd-dampening", "sgd", {"momentum": 0.9, "dampening": 0.5},
             "torch.optim.SGD([p], lr={lr}, momentum=0.9, dampening=0.5)", "sgd"),
        Case("torch_sgd", "torch-sgd-nesterov", "sgd", {"momentum": 0.9, "nesterov": True},
             "torch.optim.SGD([p], lr={lr}, momentum=0.9, nesterov=True)", "sgd"),
        Case("torch_sgd", "torch-sgd-wd", "sgd", {"momentum": 0.9, "weight_decay": 0.1},
             "torch.optim.SGD([p], lr={lr}, momentum=0.9, weight_decay=0.1)", "sgd"),
        Case("torch_sgd", "torch-momentum-torch", "momentum", {"momentum": 0.9, "form": "torch"},
             "torch.optim.SGD([p], lr={lr}, momentum=0.9)", "sgd"),
        Case("torch_sgd", "torch-nag-torch", "nag", {"momentum": 0.9, "form": "torch"},
             "torch.optim.SGD([p], lr={lr}, momentum=0.9, nesterov=True)", "sgd"),
        # --- Adagrad ----------------------------------------------------------------------------------------
        Case("torch_adagrad", "torch-adagrad", "adagrad", {"eps": 1e-10},
             "torch.optim.Adagrad([p], lr={lr}, eps=1e-10)", "adagrad"),
        Case("torch_adagrad", "torch-adagrad-decay-init", "adagrad",
             {"lr_decay": 0.05, "initial_accumulator_value": 0.2, "weight_decay": 0.01, "eps": 1e-10},
             "torch.optim.Adagrad([p], lr={lr}, lr_decay=0.05, initial_accumulator_value=0.2, weight_decay=0.01, "
             "eps=1e-10)", "adagrad"),
        Case("optax_adagrad", "optax-adagrad", "adagrad",
             {"initial_accumulator_value": 0.1, "eps": 1e-7, "eps_inside_sqrt": True},
             "optax.adagrad({lr}, initial_accumulator_value=0.1, eps=1e-7)", "adagrad"),
        # --- RMSprop ----------------------------------------------------------------------------------------
        Case("torch_rmsprop", "torch-rmsprop", "rmsprop", {"alpha": 0.99, "eps": 1e-8},
             "torch.optim.RMSprop([p], lr={lr}, alpha=0.99, eps=1e-08)", "rms"),
        Case("torch_rmsprop", "torch-rmsprop-centered", "rmsprop", {"alpha": 0.99, "eps": 1e-8, "centered": True},
             "torch.optim.RMSprop([p], lr={lr}, alpha=0.99, eps=1e-08, centered=True)", "rms"),
        Case("torch_rmsprop", "torch-rmsprop-momentum", "rmsprop", {"alpha": 0.99, "eps": 1e-8, "momentum": 0.9},
             "torch.optim.RMSprop([p], lr={lr}, alpha=0.99, eps=1e-08, momentum=0.9)", "rms"),
        Case("torch_rmsprop", "torch-rmsprop-all", "rmsprop",
             {"alpha": 0.9, "eps": 1e-8, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
             "torch.optim.RMSprop([p], lr={lr}, alpha=0.9, eps=1e-08, momentum=0.5, centered=True, weight_decay=0.1)",
             "rms", problems=("x2", "quartic3")),
        Case("optax_rmsprop", "optax-rmsprop", "rmsprop", {"alpha": 0.9, "eps": 1e-8, "eps_inside_sqrt": True},
             "optax.rmsprop({lr}, decay=0.9, eps=1e-08)", "rms"),
        Case("optax_rmsprop", "optax-rmsprop-centered", "rmsprop",
             {"alpha": 0.9, "eps": 1e-8, "eps_inside_sqrt": True, "centered": True},
             "optax.rmsprop({lr}, decay=0.9, eps=1e-08, centered=True)", "rms"),
        Case("optax_rmsprop", "optax-rmsprop-momentum", "rmsprop",
             {"alpha": 0.9, "eps": 1e-8, "eps_inside_sqrt": True, "momentum": 0.9},
             "optax.rmsprop({lr}, decay=0.9, eps=1e-08, momentum=0.9)", "rms"),
        # --- Adadelta -----------------------------------------------------------------------------------------
        Case("torch_adadelta", "torch-adadelta", "adadelta", {"rho": 0.9, "eps": 1e-6},
             "torch.optim.Adadelta([p], lr={lr}, rho=0.9, eps=1e-06)", "adadelta"),
        Case("torch_adadelta", "torch-adadelta-wd", "adadelta", {"rho": 0.95, "eps": 1e-6, "weight_decay": 0.1},
             "torch.optim.Adadelta([p], lr={lr}, rho=0.95, eps=1e-06, weight_decay=0.1)", "adadelta",
             problems=("x2",)),
        Case("optax_adadelta", "optax-adadelta", "adadelta", {"rho": 0.9, "eps": 1e-6},
             "optax.adadelta(learning_rate={lr}, rho=0.9, eps=1e-06)", "adadelta", problems=("rosen", "quartic3")),
        # --- Adam family --------------------------------------------------------------------------------------
        Case("torch_adam", "torch-adam", "adam", dict(adam),
             "torch.optim.Adam([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08)"),
        Case("torch_adam", "torch-adam-amsgrad", "adam", dict(adam, amsgrad=True),
             "torch.optim.Adam([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08, amsgrad=True)"),
        Case("torch_adam", "torch-adam-wd", "adam", dict(adam, weight_decay=0.1),
             "torch.optim.Adam([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.1)"),
        Case("torch_adam", "torch-amsgrad", "amsgrad", dict(adam, form="torch"),
             "torch.optim.Adam([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08, amsgrad=True)"),
        Case("optax_adam", "optax-adam", "adam", dict(adam),
             "optax.adam({lr}, b1=0.9, b2=0.999, eps=1e-08)"),
        Case("optax_adam", "optax-adam-eps-root", "adam", dict(adam, eps_inside_sqrt=True),
             "optax.adam({lr}, b1=0.9, b2=0.999, eps=0.0, eps_root=1e-08)"),
        Case("torch_adamw", "torch-adamw", "adamw", dict(adam, weight_decay=0.1),
             "torch.optim.AdamW([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.1)"),
        Case("torch_adamw", "torch-adamw-amsgrad", "adamw", dict(adam, weight_decay=0.01, amsgrad=True),
             "torch.optim.AdamW([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=True)",
             problems=("x2", "quartic3")),
        Case("optax_adamw", "optax-adamw", "adamw", dict(adam, weight_decay=0.1),
             "optax.adamw({lr}, b1=0.9, b2=0.999, eps=1e-08, weight_decay=0.1)"),
        Case("optax_amsgrad", "optax-amsgrad", "amsgrad", dict(adam, form="optax"),
             "optax.amsgrad({lr}, b1=0.9, b2=0.999, eps=1e-08)"),
        Case("optax_amsgrad", "optax-amsgrad-no-bias-correction", "amsgrad", dict(adam, form="paper"),
             "optax.amsgrad({lr}, b1=0.9, b2=0.999, eps=1e-08, bias_correction_mu=False, bias_correction_nu=False)"),
        Case("torch_adamax", "torch-adamax", "adamax", dict(adam),
             "torch.optim.Adamax([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08)"),
        Case("torch_adamax", "torch-adamax-wd", "adamax", dict(adam, weight_decay=0.1),
             "torch.optim.Adamax([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.1)",
             problems=("x2",)),
        Case("optax_adamax", "optax-adamax", "adamax", dict(adam),
             "optax.adamax({lr}, b1=0.9, b2=0.999, eps=1e-08)", problems=("rosen",)),
        Case("torch_nadam", "torch-nadam", "nadam", dict(adam, momentum_decay=4e-3, form="torch"),
             "torch.optim.NAdam([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08, momentum_decay=0.004)"),
        Case("torch_nadam", "torch-nadam-wd", "nadam", dict(adam, momentum_decay=4e-3, weight_decay=0.1),
             "torch.optim.NAdam([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08, momentum_decay=0.004, "
             "weight_decay=0.1)", problems=("x2",)),
        Case("optax_nadam", "optax-nadam", "nadam", dict(adam, momentum_decay="inf", form="torch"),
             "optax.nadam({lr}, b1=0.9, b2=0.999, eps=1e-08)"),
        Case("torch_radam", "torch-radam", "radam", dict(adam, form="torch"),
             "torch.optim.RAdam([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08)", "radam"),
        Case("torch_radam", "torch-radam-wd", "radam", dict(adam, weight_decay=0.1, form="torch"),
             "torch.optim.RAdam([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.1)", "radam",
             problems=("x2",)),
        Case("optax_radam", "optax-radam", "radam", dict(adam, form="optax"),
             "optax.radam({lr}, b1=0.9, b2=0.999, eps=1e-08, threshold=5.0)", "radam"),
        # --- pytorch_optimizer (kozistr) ------------------------------------------------------------------------
        Case("pytorch_optimizer_adabound", "kozistr-adabound", "adabound",
             dict(adam, final_lr=0.1, gamma=1e-3),
             "pytorch_optimizer.AdaBound([p], lr={lr}, final_lr=0.1, betas=(0.9, 0.999), gamma=0.001, eps=1e-08)"),
        Case("pytorch_optimizer_adabound", "kozistr-adabound-clip", "adabound",
             dict(adam, final_lr=0.1, gamma=0.1),
             "pytorch_optimizer.AdaBound([p], lr={lr}, final_lr=0.1, betas=(0.9, 0.999), gamma=0.1, eps=1e-08)",
             problems=("x2", "quartic3")),
        Case("pytorch_optimizer_adabound", "kozistr-adabound-clip", "adabound",
             dict(adam, final_lr=5e-4, gamma=0.1),
             "pytorch_optimizer.AdaBound([p], lr={lr}, final_lr=0.0005, betas=(0.9, 0.999), gamma=0.1, eps=1e-08)",
             problems=("rosen",)),
        # beta2 = 0.99 lets v fall while |g| shrinks, so the AMSBound max binds (with 0.999 it never does here),
        # and gamma = 0.01 keeps the rate inside the bounds on x^2 (with 0.1 it is clipped, hiding the max)
        Case("pytorch_optimizer_adabound", "kozistr-amsbound", "adabound",
             dict(betas=[0.9, 0.99], eps=1e-8, final_lr=0.1, gamma=0.01, amsbound=True),
             "pytorch_optimizer.AdaBound([p], lr={lr}, final_lr=0.1, betas=(0.9, 0.99), gamma=0.01, eps=1e-08, "
             "ams_bound=True)", problems=("x2", "quartic3")),
        # eps = 0.1 (Adam eps AND switch rtol in kozistr) makes SWATS switch (OPTIMIZERS.md 2.14): at t = 26 on
        # x^2, t = 9 on Rosenbrock (lr 0.1), t = 73 on quartic3 (lr 0.1); the default never switches.
        Case("pytorch_optimizer_swats", "kozistr-swats-switch", "swats", dict(betas=BETAS, eps=0.1),
             "pytorch_optimizer.SWATS([p], lr={lr}, betas=(0.9, 0.999), eps=0.1)", problems=("x2", "rosen"),
             steps=40, lr=0.1),
        Case("pytorch_optimizer_swats", "kozistr-swats-switch", "swats", dict(betas=BETAS, eps=0.1),
             "pytorch_optimizer.SWATS([p], lr={lr}, betas=(0.9, 0.999), eps=0.1)", problems=("quartic3",),
             steps=80, lr=0.1),
        Case("pytorch_optimizer_swats", "kozistr-swats-switch-eps0.05", "swats", dict(betas=BETAS, eps=0.05),
             "pytorch_optimizer.SWATS([p], lr={lr}, betas=(0.9, 0.999), eps=0.05)", problems=("rosen",), steps=40),
        Case("pytorch_optimizer_swats", "kozistr-swats-nesterov", "swats", dict(betas=BETAS, eps=0.1, nesterov=True),
             "pytorch_optimizer.SWATS([p], lr={lr}, betas=(0.9, 0.999), eps=0.1, nesterov=True)",
             problems=("x2", "rosen"), steps=40, lr=0.1),
        Case("pytorch_optimizer_swats", "kozistr-swats-nesterov", "swats", dict(betas=BETAS, eps=0.1, nesterov=True),
             "pytorch_optimizer.SWATS([p], lr={lr}, betas=(0.9, 0.999), eps=0.1, nesterov=True)",
             problems=("quartic3",), steps=30),
        Case("pytorch_optimizer_swats", "kozistr-swats-adam-phase", "swats", dict(betas=BETAS, eps=1e-6),
             "pytorch_optimizer.SWATS([p], lr={lr}, betas=(0.9, 0.999), eps=1e-06)", problems=("x2",)),
        Case("pytorch_optimizer_lookahead", "kozistr-lookahead-gd", "lookahead",
             {"inner": "gd", "k": 5, "alpha": 0.5},
             "pytorch_optimizer.Lookahead(torch.optim.SGD([p], lr={lr}), k=5, alpha=0.5)", "sgd", steps=32),
        Case("pytorch_optimizer_lookahead", "kozistr-lookahead-sgd-momentum", "lookahead",
             {"inner": "sgd", "k": 5, "alpha": 0.5, "momentum": 0.9},
             "pytorch_optimizer.Lookahead(torch.optim.SGD([p], lr={lr}, momentum=0.9), k=5, alpha=0.5)", "sgd",
             steps=32),
        Case("pytorch_optimizer_lookahead", "kozistr-lookahead-adam", "lookahead",
             dict(adam, inner="adam", k=4, alpha=0.6),
             "pytorch_optimizer.Lookahead(torch.optim.Adam([p], lr={lr}, betas=(0.9, 0.999), eps=1e-08), k=4, "
             "alpha=0.6)", steps=32),
        Case("optax_lookahead", "optax-lookahead-gd", "lookahead", {"inner": "gd", "k": 5, "alpha": 0.5},
             "optax.lookahead(optax.sgd({lr}), sync_period=5, slow_step_size=0.5)", "sgd", steps=32,
             problems=("x2", "rosen"), view="lookahead"),
    ]
    return out + _schedule_cases()


def _schedule_cases() -> list[Case]:
    """Optimizers under lr schedules (torch: scheduler.step() after optimizer.step(); optax: schedule(count))."""
    step = {"schedule": "step", "args": {"lr": 0.1, "step_size": 10, "gamma": 0.5}}
    step_r = {"schedule": "step", "args": {"lr": 5e-4, "step_size": 10, "gamma": 0.5}}
    return [
        Case("torch_sgd_schedules", "torch-momentum-torch-steplr", "momentum", {"momentum": 0.9, "form": "torch"},
             "torch.optim.SGD([p], lr=0.1, momentum=0.9)", problems=("x2", "quartic3"),
             sched="torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)", lr_hyper=step),
        Case("torch_sgd_schedules", "torch-momentum-torch-steplr", "momentum", {"momentum": 0.9, "form": "torch"},
             "torch.optim.SGD([p], lr=0.0005, momentum=0.9)", problems=("rosen",),
             sched="torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)", lr_hyper=step_r),
        Case("torch_sgd_schedules", "torch-sgd-nesterov-linearlr", "sgd", {"momentum": 0.9, "nesterov": True},
             "torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)", problems=("x2",),
             sched="torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=10)",
             lr_hyper={"schedule": "linear_warmup", "args": {"lr": 0.1, "warmup": 10, "start_factor": 0.25}}),
        Case("optax_momentum_schedules", "optax-momentum-slide-steplr", "momentum", {"momentum": 0.9, "form": "slide"},
             "optax.chain(optax.scale_by_learning_rate(lambda k: 0.1 * 0.5 ** (k // 10)), optax.trace(decay=0.9))",
             problems=("x2", "quartic3"), lr_hyper=step),
        Case("optax_momentum_schedules", "optax-momentum-heavy-ball-steplr", "momentum",
             {"momentum": 0.9, "form": "heavy_ball"},
             "optax.chain(optax.scale_by_learning_rate(lambda k: 0.1 * 0.5 ** (k // 10)), optax.trace(decay=0.9))",
             problems=("x2",), lr_hyper=step),
        Case("optax_momentum_schedules", "optax-momentum-torch-steplr", "momentum", {"momentum": 0.9, "form": "torch"},
             "optax.sgd(lambda k: 0.1 * 0.5 ** (k // 10), momentum=0.9)", problems=("x2",), lr_hyper=step),
        Case("torch_adam_schedules", "torch-adam-cosine", "adam", {"betas": BETAS, "eps": 1e-8},
             "torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-08)", problems=("x2", "quartic3"),
             sched="torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.001)",
             lr_hyper={"schedule": "cosine", "args": {"lr": 0.1, "T": 20, "lr_min": 0.001}}),
        Case("torch_adam_schedules", "torch-rmsprop-momentum-exponential", "rmsprop",
             {"alpha": 0.99, "eps": 1e-8, "momentum": 0.9},
             "torch.optim.RMSprop([p], lr=0.01, alpha=0.99, eps=1e-08, momentum=0.9)", problems=("x2",),
             sched="torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)",
             lr_hyper={"schedule": "exponential", "args": {"lr": 0.01, "gamma": 0.9}}),
        Case("torch_sgd_schedules", "torch-sgd-one-cycle-momentum", "sgd", {},
             "torch.optim.SGD([p], lr=0.1, momentum=0.9)", problems=("x2", "quartic3"),
             sched="torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=30, pct_start=0.3, "
                   "anneal_strategy='cos', div_factor=25.0, final_div_factor=10000.0, cycle_momentum=True, "
                   "base_momentum=0.85, max_momentum=0.95)",
             lr_hyper={"schedule": "one_cycle", "args": {"max_lr": 0.1, "total_steps": 30, "pct_start": 0.3,
                                                         "div_factor": 25.0, "final_div_factor": 1e4}},
             extra={"momentum": {"schedule": "one_cycle_momentum",
                                 "args": {"total_steps": 30, "pct_start": 0.3, "base_momentum": 0.85,
                                          "max_momentum": 0.95}}}),
        Case("torch_sgd_schedules", "torch-sgd-momentum-cyclic", "sgd", {"momentum": 0.9},
             "torch.optim.SGD([p], lr=0.01, momentum=0.9)", problems=("x2",),
             sched="torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=5, "
                   "mode='triangular', cycle_momentum=False)",
             lr_hyper={"schedule": "cyclic", "args": {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5}}),
        Case("torch_sgd_schedules", "torch-nag-torch-sgdr", "nag", {"momentum": 0.9, "form": "torch"},
             "torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)", problems=("x2",),
             sched="torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2, eta_min=0.001)",
             lr_hyper={"schedule": "sgdr", "args": {"lr": 0.1, "T_0": 10, "T_mult": 2, "lr_min": 0.001}}),
        Case("torch_adam_schedules", "torch-adam-one-cycle", "adam", {"betas": BETAS, "eps": 1e-8},
             "torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-08)", problems=("x2", "quartic3"),
             sched="torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=30, pct_start=0.3, "
                   "anneal_strategy='cos', div_factor=25.0, final_div_factor=10000.0, cycle_momentum=False)",
             lr_hyper={"schedule": "one_cycle", "args": {"max_lr": 0.1, "total_steps": 30, "pct_start": 0.3,
                                                         "div_factor": 25.0, "final_div_factor": 1e4}}),
        Case("torch_adam_schedules", "torch-adagrad-inverse-sqrt", "adagrad", {"lr_decay": 0.01, "eps": 1e-10},
             "torch.optim.Adagrad([p], lr=0.1, lr_decay=0.01, eps=1e-10)", problems=("x2", "quartic3"),
             sched="torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda k: 1 / math.sqrt(k + 1))",
             lr_hyper={"schedule": "inverse_sqrt", "args": {"lr": 0.1}}),
        Case("pytorch_optimizer_adabound", "kozistr-adabound-steplr", "adabound",
             {"betas": BETAS, "eps": 1e-8, "final_lr": 0.1, "gamma": 0.1},
             "pytorch_optimizer.AdaBound([p], lr=0.1, final_lr=0.1, betas=(0.9, 0.999), gamma=0.1, eps=1e-08)",
             problems=("x2", "quartic3"),
             sched="torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)", lr_hyper=step),
    ]


# --- torch lr schedulers -> tests/golden/schedules_torch.json ------------------------------------------------------
SCHEDULE_STEPS = 60
SCHEDULES = [  # (id, symgd schedule name, symgd args, torch scheduler call on ``opt``)
    ("step-s10-g0.5", "step", {"lr": 0.1, "step_size": 10, "gamma": 0.5},
     "torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)"),
    ("step-s7-g0.1", "step", {"lr": 0.1, "step_size": 7, "gamma": 0.1},
     "torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.1)"),
    ("exponential-g0.95", "exponential", {"lr": 0.1, "gamma": 0.95},
     "torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95)"),
    ("linear-warmup-w10-s0.25", "linear_warmup", {"lr": 0.1, "warmup": 10, "start_factor": 0.25},
     "torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=10)"),
    ("linear-warmup-w5-s1/3", "linear_warmup", {"lr": 0.1, "warmup": 5, "start_factor": 1 / 3},
     "torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / 3, end_factor=1.0, total_iters=5)"),
    ("cosine-T20-min0.001-past-Tmax", "cosine", {"lr": 0.1, "T": 20, "lr_min": 0.001},
     "torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.001)"),
    ("cosine-T25-min0-past-Tmax", "cosine", {"lr": 0.1, "T": 25, "lr_min": 0.0},
     "torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=25, eta_min=0.0)"),
    ("sgdr-T10-mult1-min0.001", "sgdr", {"lr": 0.1, "T_0": 10, "T_mult": 1, "lr_min": 0.001},
     "torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=1, eta_min=0.001)"),
    ("sgdr-T5-mult2-min0", "sgdr", {"lr": 0.1, "T_0": 5, "T_mult": 2, "lr_min": 0.0},
     "torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2, eta_min=0.0)"),
    ("cyclic-triangular-0.01-0.1-s10", "cyclic", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 10},
     "torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=10, mode='triangular', "
     "cycle_momentum=False)"),
    ("one-cycle-T60", "one_cycle",
     {"max_lr": 0.1, "total_steps": 60, "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
     "torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=60, pct_start=0.3, anneal_strategy='cos', "
     "div_factor=25.0, final_div_factor=10000.0, cycle_momentum=True, base_momentum=0.85, max_momentum=0.95)"),
    ("inverse-sqrt", "inverse_sqrt", {"lr": 0.1},
     "torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda k: 1 / math.sqrt(k + 1))"),
]
ONE_CYCLE_MOMENTUM = {"schedule": "one_cycle_momentum",
                      "args": {"total_steps": 60, "pct_start": 0.3, "base_momentum": 0.85, "max_momentum": 0.95}}
SCHEDULE_OPTIMIZER = "torch.optim.SGD([p], lr=0.1, momentum=0.9)"

REFERENCES = {  # file -> the library objects its cases call
    "torch_sgd": "torch.optim.SGD", "torch_adagrad": "torch.optim.Adagrad", "optax_adagrad": "optax.adagrad",
    "torch_rmsprop": "torch.optim.RMSprop", "optax_rmsprop": "optax.rmsprop", "torch_adadelta": "torch.optim.Adadelta",
    "optax_adadelta": "optax.adadelta",
    "torch_adam": "torch.optim.Adam", "optax_adam": "optax.adam", "torch_adamw": "torch.optim.AdamW",
    "optax_adamw": "optax.adamw", "optax_amsgrad": "optax.amsgrad", "torch_adamax": "torch.optim.Adamax",
    "optax_adamax": "optax.adamax", "torch_nadam": "torch.optim.NAdam", "optax_nadam": "optax.nadam",
    "torch_radam": "torch.optim.RAdam", "optax_radam": "optax.radam",
    "pytorch_optimizer_adabound": "pytorch_optimizer.AdaBound", "pytorch_optimizer_swats": "pytorch_optimizer.SWATS",
    "pytorch_optimizer_lookahead": "pytorch_optimizer.Lookahead", "optax_lookahead": "optax.lookahead",
    "torch_sgd_schedules": "torch.optim.SGD + torch.optim.lr_scheduler",
    "torch_adam_schedules": "torch.optim.Adam/RMSprop/Adagrad + torch.optim.lr_scheduler",
    "optax_momentum_schedules": "optax.sgd / optax.chain(scale_by_learning_rate(schedule), trace)",
}


class Libs:
    """The libraries, imported on first use (float64 everywhere)."""

    def __init__(self):
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import numpy as np
        import optax
        import pytorch_optimizer
        import sympy
        import torch

        torch.set_default_dtype(torch.float64)
        self.jax, self.jnp, self.np, self.optax, self.po, self.sympy, self.torch = (
            jax, jnp, np, optax, pytorch_optimizer, sympy, torch)
        from importlib.metadata import version

        self.versions = {"torch": torch.__version__.split("+")[0], "optax": optax.__version__,
                         "pytorch_optimizer": version("pytorch_optimizer"), "jax": jax.__version__}

    def sympy_gradient(self, prob: Objective):
        """The gradient of the symgd string, from SymPy (the formula symgd differentiates)."""
        sp = self.sympy
        from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

        syms = [sp.Symbol(v, real=True) for v in prob.variables]
        expr = parse_expr(prob.text, local_dict=dict(zip(prob.variables, syms)),
                          transformations=standard_transformations + (convert_xor,))  # a fixed string above
        fn = sp.lambdify([syms], [sp.diff(expr, s) for s in syms], "numpy")
        return lambda x: self.np.array(fn(self.np.asarray(x, dtype=float)), dtype=float)


def run_torch(L: Libs, case: Case, prob: Objective, call: str, gradfn=None):
    """The torch (or pytorch_optimizer) path x_0..x_T, plus notes (SWATS switch)."""
    torch = L.torch
    p = torch.tensor(prob.x0, dtype=torch.float64, requires_grad=True)
    ns = {"torch": torch, "pytorch_optimizer": L.po, "p": p, "math": math}
    opt = eval(call, ns)  # noqa: S307 -- a fixed call string of this script, recorded verbatim in the JSON
    sched = eval(case.sched, dict(ns, opt=opt)) if case.sched else None  # noqa: S307 -- same
    path, notes = [p.detach().tolist()], {}
    for t in range(1, case.steps + 1):
        opt.zero_grad()
        if gradfn is None:
            prob.f(p, torch).backward()
        else:
            p.grad = torch.tensor(gradfn(p.detach().numpy()))
        opt.step()
        if sched is not None:
            sched.step()
        group = opt.param_groups[0]
        if group.get("phase") == "sgd" and "switched_at" not in notes:
            notes.update(switched_at=t, sgd_lr=group["lr"])
        path.append(p.detach().tolist())
    return path, notes


def run_optax(L: Libs, case: Case, prob: Objective, call: str, gradfn=None):
    """The optax path x_0..x_T (the fast weights for lookahead)."""
    jnp, np, optax = L.jnp, L.np, L.optax
    tx = eval(call, {"optax": optax, "jnp": jnp})  # noqa: S307 -- a fixed call string, recorded verbatim
    x = jnp.asarray(prob.x0, dtype=jnp.float64)
    look = case.view == "lookahead"
    params = optax.LookaheadParams.init_synced(x) if look else x
    state = tx.init(params)
    autograd = L.jax.grad(lambda v: prob.f(v, jnp))
    path = [list(prob.x0)]
    for _ in range(case.steps):
        fast = params.fast if look else params
        g = autograd(fast) if gradfn is None else jnp.asarray(gradfn(np.asarray(fast)))
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
        fast = np.asarray(params.fast if look else params)
        if fast.dtype != np.float64:
            raise RuntimeError(f"{case.stem}: optax returned {fast.dtype}, not float64")
        path.append(fast.tolist())
    return path, {}


def build_case(L: Libs, case: Case, key: str, check: bool):
    """One JSON case (and, with ``check``, its rounding sensitivity)."""
    prob = PROBLEMS[key]
    lr = LR[key][case.family] if case.lr is None else case.lr
    call = case.call.format(lr=lr)
    hyper = dict(case.hyper, lr=case.lr_hyper if case.lr_hyper else lr, **case.extra)
    runner = run_optax if case.file.startswith("optax") else run_torch
    path, notes = runner(L, case, prob, call)
    np = L.np
    arr = np.asarray(path)
    if arr.shape != (case.steps + 1, len(prob.x0)) or not np.all(np.isfinite(arr)) or np.abs(arr).max() > 1e3:
        raise RuntimeError(f"{case.stem}-{key}: bad path {arr[-1]}")
    out = {"id": f"{case.stem}-{key}", "problem": prob.text, "variables": list(prob.variables),
           "x0": list(prob.x0), "steps": case.steps, "method": case.method, "hyper": hyper,
           "library_call": call}
    if case.sched:
        out["scheduler_call"] = case.sched
    out.update(notes)
    out["path"] = path
    if check:
        alt, _ = runner(L, case, prob, call, gradfn=L.sympy_gradient(prob))
        sens = float(np.max(np.abs(np.asarray(alt) - arr) / (np.abs(arr) + 1e-3)))
        print(f"  {out['id']:48s} x_T={arr[-1].round(8).tolist()} sensitivity={sens:.1e} {notes or ''}")
        if sens > 1e-11:
            print(f"  WARNING {out['id']}: sensitive to gradient rounding ({sens:.1e}); unfit for rtol 1e-9")
    return out


def check_gradients(L: Libs) -> None:
    """Torch autograd, jax.grad and the SymPy gradient of the symgd string agree at x0 and nearby."""
    np, torch, jnp = L.np, L.torch, L.jnp
    for prob in PROBLEMS.values():
        sym = L.sympy_gradient(prob)
        for shift in (0.0, 0.3, -0.7):
            x = np.asarray(prob.x0) + shift
            p = torch.tensor(x, requires_grad=True)
            prob.f(p, torch).backward()
            gj = np.asarray(L.jax.grad(lambda v: prob.f(v, jnp))(jnp.asarray(x)))
            for g in (p.grad.numpy(), gj):
                if not np.allclose(g, sym(x), rtol=1e-13, atol=1e-13):
                    raise RuntimeError(f"{prob.key}: gradient mismatch {g} vs {sym(x)}")


def build_schedules(L: Libs) -> dict:
    """lr (and momentum) sequences of the torch schedulers: ``lr[k]`` is the lr used by update t = k + 1."""
    torch = L.torch
    cases = []
    for sid, name, args, call in SCHEDULES:
        p = torch.zeros(1, requires_grad=True)
        opt = eval(SCHEDULE_OPTIMIZER, {"torch": torch, "p": p})  # noqa: S307 -- fixed string
        sched = eval(call, {"torch": torch, "opt": opt, "math": math})  # noqa: S307 -- fixed string
        lrs, moms = [], []
        for k in range(SCHEDULE_STEPS):
            lrs.append(opt.param_groups[0]["lr"])
            moms.append(opt.param_groups[0]["momentum"])
            if k < SCHEDULE_STEPS - 1:
                p.grad = torch.zeros(1)
                opt.step()
                sched.step()
        case = {"id": sid, "schedule": name, "args": args, "library_call": call,
                "optimizer_call": SCHEDULE_OPTIMIZER, "lr": lrs}
        if name == "one_cycle":
            case["momentum_schedule"] = ONE_CYCLE_MOMENTUM
            case["momentum"] = moms
        cases.append(case)
    return {"library": "torch", "version": L.versions["torch"], "reference": "torch.optim.lr_scheduler",
            "script": SCRIPT, "generated": GENERATED, "steps": SCHEDULE_STEPS,
            "convention": "lr[k] is the learning rate of update t = k + 1 (k = t - 1 updates done before it), "
                          "read from opt.param_groups[0] before the step; scheduler.step() follows "
                          "optimizer.step(). symgd: schedules.<schedule>(**args)(t) == lr[t - 1].",
            "cases": cases}


def dump(doc: dict, path: Path) -> None:
    """Strict JSON (no NaN/Infinity), one case per line, floats as float64 repr."""
    head = {k: v for k, v in doc.items() if k != "cases"}
    lines = [json.dumps(c, allow_nan=False) for c in doc["cases"]]
    text = json.dumps(head, allow_nan=False)[:-1] + ', "cases": [\n' + ",\n".join(lines) + "\n]}\n"
    json.loads(text)  # well-formed
    path.write_text(text)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    L = Libs()
    check_gradients(L)
    files: dict[str, list] = {}
    for case in _cases():
        for key in case.problems:
            files.setdefault(case.file, []).append(build_case(L, case, key, check))
    ids = [c["id"] for cs in files.values() for c in cs]
    if len(ids) != len(set(ids)):
        raise RuntimeError("duplicate case ids")
    for name, cases in files.items():
        lib = "pytorch_optimizer" if name.startswith("pytorch_optimizer") else name.split("_")[0]
        doc = {"library": lib, "version": L.versions[lib], "reference": REFERENCES[name], "script": SCRIPT,
               "generated": GENERATED, "float": "float64", "cases": cases}
        if lib == "optax":
            doc["jax"] = L.versions["jax"]
        dump(doc, HERE / f"{name}.json")
    dump(build_schedules(L), HERE / "schedules_torch.json")
    print(f"{len(ids)} cases in {len(files)} files + schedules_torch.json ({len(SCHEDULES)} schedules)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
