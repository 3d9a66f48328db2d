"""symgd's optimizers against trajectories recorded from torch.optim 2.13, optax 0.2.8 and pytorch_optimizer 3.9.0.

The reference files ``tests/golden/*.json`` are written by ``tests/golden/make_golden.py``, run by hand in an
environment with torch/optax (see ``tests/golden/README.md``). This test only reads them: it needs neither
torch nor jax. Each case records the library call that produced it, and symgd must reproduce the whole path
x_0..x_T of the library (float64) to rtol 1e-9, atol 1e-12.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symgd import Problem, schedules
from symgd.minimize import minimize
from symgd.optimizers import REGISTRY

GOLDEN = Path(__file__).parent / "golden"
RTOL, ATOL = 1e-9, 1e-12
VERSIONS = {"torch": "2.13.0", "optax": "0.2.8", "pytorch_optimizer": "3.9.0"}
# Every optimizer the libraries have (OPTIMIZERS.md §1), so a file that goes missing cannot pass silently.
COVERED = {"sgd", "momentum", "nag", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "amsgrad", "adamax",
           "nadam", "radam", "adabound", "swats", "lookahead"}


def _documents() -> list[tuple[str, dict]]:
    return [(p.name, json.loads(p.read_text())) for p in sorted(GOLDEN.glob("*.json"))
            if not p.name.startswith("schedules")]


DOCS = _documents()
CASES = [pytest.param(case, id=case["id"]) for _, doc in DOCS for case in doc["cases"]]


def decode(value):
    """A JSON hyperparameter as symgd takes it: lists are tuples (betas), schedules are built, "inf" is inf."""
    if isinstance(value, dict) and "schedule" in value:
        return getattr(schedules, value["schedule"])(**value["args"])
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, str) and value in ("inf", "-inf"):
        return float(value)
    return value


@pytest.mark.parametrize("case", CASES)
def test_path_matches_library(case):
    problem = Problem(case["problem"], variables=case["variables"])
    hyper = {name: decode(v) for name, v in case["hyper"].items()}
    run = minimize(problem, case["method"], case["x0"], steps=case["steps"], tol=None, path=True, **hyper)
    expected = np.asarray(case["path"], dtype=float)
    assert run.path.shape == expected.shape
    np.testing.assert_allclose(run.path, expected, rtol=RTOL, atol=ATOL,
                               err_msg=f"{case['id']}: {case['library_call']} {case.get('scheduler_call', '')}")


@pytest.mark.parametrize("name, doc", DOCS, ids=[n for n, _ in DOCS])
def test_golden_file_records_its_provenance(name, doc):
    assert doc["version"] == VERSIONS[doc["library"]]
    assert doc["script"] == "tests/golden/make_golden.py" and (GOLDEN / "make_golden.py").is_file()
    assert doc["reference"] and doc["generated"] and doc["float"] == "float64"
    assert name.startswith(doc["library"] + "_")
    for case in doc["cases"]:
        path = np.asarray(case["path"], dtype=float)
        assert path.shape == (case["steps"] + 1, len(case["variables"])) and case["steps"] >= 30
        assert path[0].tolist() == case["x0"] and np.all(np.isfinite(path))
        assert not np.allclose(path[-1], path[0], rtol=1e-6, atol=1e-9)  # the optimizer moved: a real check
        assert case["library_call"].startswith(doc["library"] + ".")


def test_golden_cases_cover_every_library_optimizer_on_three_problems():
    cases = [c for _, doc in DOCS for c in doc["cases"]]
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert {c["method"] for c in cases} == COVERED <= set(REGISTRY)
    problems = {c["problem"] for c in cases}
    assert len(problems) >= 3 and any(len(c["variables"]) == 3 for c in cases)
    for method in COVERED:
        assert len({c["problem"] for c in cases if c["method"] == method}) >= (1 if method == "adadelta" else 2)
    assert {c["hyper"]["lr"]["schedule"] for c in cases if isinstance(c["hyper"]["lr"], dict)} >= {"step", "cosine"}


def test_decode():
    assert decode([0.9, 0.999]) == (0.9, 0.999)
    assert decode("inf") == float("inf") and decode("torch") == "torch" and decode(0.1) == 0.1
    lr = decode({"schedule": "step", "args": {"lr": 0.1, "step_size": 10, "gamma": 0.5}})
    assert [lr(t) for t in (1, 10, 11, 21)] == pytest.approx([0.1, 0.1, 0.05, 0.025], rel=1e-15)
