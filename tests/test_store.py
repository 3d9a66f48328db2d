"""The store (``symgd._store``): a text seen before is run without SymPy, and gives the same answers."""

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from symgd import Problem, _store, minimize
from symgd.errors import ParseError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(code: str, cache: str) -> dict:
    """Run ``code`` in a fresh interpreter with its own store; it prints one JSON line."""
    env = dict(os.environ, SYMGD_CACHE_DIR=cache, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


RUN = """
    import json, sys
    import numpy as np
    import symgd
    p = symgd.Problem("(1 - x)^2 + 100*(y - x^2)^2")
    runs = [symgd.minimize(p, m, np.array([-1.0, 1.5]), 100, lr=1e-3, backend="python") for m in ("gd", "adam")]
    text = repr(runs[1])
    print(json.dumps({"sympy": "sympy" in sys.modules, "x": [r.x.tolist() for r in runs], "repr": text,
                      "nit": [int(r.nit) for r in runs], "names": list(p.names)}))
"""


def test_a_second_process_runs_a_text_without_importing_sympy(tmp_path):
    first = _child(RUN, str(tmp_path))
    second = _child(RUN, str(tmp_path))
    assert first["sympy"] and not second["sympy"]  # the first derived and printed; the second read the record
    assert second["x"] == first["x"] and second["nit"] == first["nit"]  # bit for bit: the same kernel source
    assert second["repr"] == first["repr"] and "100*(-x**2 + y)**2" in second["repr"]
    assert second["names"] == ["x", "y"]
    third = _child(RUN.replace('repr(runs[1])', 'str(p.gradient.T)'), str(tmp_path))
    assert third["sympy"] and third["repr"] == "Matrix([[-400*x*(-x**2 + y) + 2*x - 2, -200*x**2 + 200*y]])"


def test_import_symgd_alone_does_not_import_sympy(tmp_path):
    out = _child("""
        import json, sys
        import symgd
        symgd.minimize, symgd.Problem, symgd.optimizers.get("adam")
        print(json.dumps({"sympy": "sympy" in sys.modules}))
    """, str(tmp_path))
    assert out == {"sympy": False}


def _light(text, variables=()):
    """A problem made from a text already in the store (and not built: expr waits)."""
    Problem(text, variables=variables)  # writes the record (if this session has not yet)
    p = Problem(text, variables=variables)
    assert "expr" not in p.__dict__ and "variables" not in p.__dict__
    return p


@pytest.mark.parametrize("text, variables", [("a*x^2 + y", ()), ("a*x^2 + y", ["y", "x"]), ("a*x^2 + y", "x, y"),
                                             ("exp(x1) + x10 - x2", ())])
def test_a_problem_from_the_store_equals_the_built_one(text, variables):
    built = Problem(text, variables=variables)
    light = _light(text, variables)
    assert (light.names, light.n, light._constants) == (built.names, built.n, built._constants)
    assert repr(light) == repr(built)
    assert light == built and hash(light) == hash(built)  # builds expr and variables on the way
    assert light.expr == built.expr and light.variables == built.variables
    assert light.gradient == built.gradient and light.hessian == built.hessian


def test_a_problem_from_the_store_pickles_and_builds_on_the_other_side():
    light = _light("x^2 + 3*y^2 - x*y")
    back = pickle.loads(pickle.dumps(light))
    assert back.names == ("x", "y") and back.expr == Problem("x^2 + 3*y^2 - x*y").expr
    run = minimize(back, "gd", [1.0, 1.0], 50, lr=0.1, backend="numpy")
    assert run.x.tolist() == minimize(Problem("x^2 + 3*y^2 - x*y"), "gd", [1.0, 1.0], 50, lr=0.1,
                                      backend="numpy").x.tolist()


def test_other_attributes_are_still_missing():
    light = _light("x^2 + y^2")
    assert not hasattr(light, "loss_problem")
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        light.nope  # noqa: B018


def test_the_record_holds_names_and_the_printed_parts():
    p = Problem("3*x^2 + x*y + 2*y^2 + 1")
    minimize(p, "newton", [1.0, 2.0], 5, backend="python")
    record = _store.load(_store.text_key("3*x^2 + x*y + 2*y^2 + 1", None))
    assert record["names"] == ["x", "y"] and record["constants"] == []
    n, fg, h, cells, f_only = record["parts_hessian"]
    assert n == 2 and fg[0].startswith("f = ") and cells == [[0, 0], [0, 1], [1, 1]]


def test_damaged_or_foreign_records_are_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_store, "_MEMO", {})
    key = _store.text_key("x^4 - 2*x^2", None)
    Problem("x^4 - 2*x^2")
    path = _store._path(key)
    with open(path, "w") as fh:
        fh.write("{not json")
    monkeypatch.setattr(_store, "_MEMO", {})
    assert Problem("x^4 - 2*x^2").__dict__["expr"] is not None  # built again, and the record rewritten
    assert _store.load(key)["names"] == ["x"]
    monkeypatch.setattr(_store, "_MEMO", {})
    with open(path, "w") as fh:  # a record of another text under this name: never trusted
        json.dump({"key": ["x^2", None], "names": ["y"], "constants": []}, fh)
    assert _store.load(key) is None and Problem("x^4 - 2*x^2").names == ("x",)
    monkeypatch.setattr(_store, "_MEMO", {})
    record = {"key": list(key), "names": ["x"], "constants": [], "parts": [1, ["f = x_0"], "oops", None, None]}
    with open(path, "w") as fh:  # parts of the wrong shape: printed again
        json.dump(record, fh)
    run = minimize(Problem("x^4 - 2*x^2"), "gd", [0.5], 200, lr=0.05, backend="python")
    assert run.status == "converged" and abs(run.x[0] - 1) < 1e-6


def test_no_writable_folder_means_no_records(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("SYMGD_CACHE_DIR", str(blocked / "below"))  # below a file: cannot be made
    p = Problem("x^2 + 7*x")
    assert _store.load(_store.text_key("x^2 + 7*x", None)) is None and p.names == ("x",)
    assert minimize(p, "gd", [0.0], 100, lr=0.1).status == "converged"


def test_bad_text_is_never_recorded():
    with pytest.raises(ParseError):
        Problem("x^^2")
    assert _store.load(_store.text_key("x^^2", None)) is None


def test_records_are_pruned_to_half_past_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_store, "MAX_RECORDS", 6)
    monkeypatch.setattr(_store, "_PRUNE_EVERY", 10**9)  # no pruning while the first six are written
    keys = [_store.text_key(f"x + {k}", None) for k in range(7)]
    for k, key in enumerate(keys[:6]):
        _store.save(key, names=["x"])
        os.utime(_store._path(key), ns=(10**9 * (k + 1),) * 2)  # older to newer
    monkeypatch.setattr(_store, "_PRUNE_EVERY", 1)  # the seventh save checks: 7 > 6, the newest 3 stay
    _store.save(keys[6], names=["x"])
    left = {os.path.join(tmp_path, "problems", name) for name in os.listdir(tmp_path / "problems")}
    assert left == {_store._path(key) for key in keys[4:]}


def test_the_parts_of_a_stored_text_give_the_same_kernel(tmp_path):
    code = """
        import json, sys
        import symgd
        from symgd import fused
        p = symgd.Problem("sin(x) * y^2 + exp(-y)")
        print(json.dumps({"src": fused.kernel_source(p, "adam", backend="python"), "sympy": "sympy" in sys.modules}))
    """
    first, second = _child(code, str(tmp_path)), _child(code, str(tmp_path))
    assert second["src"] == first["src"] and not second["sympy"]
    assert np.isfinite(minimize(Problem("sin(x) * y^2 + exp(-y)"), "adam", [1.0, 1.0], 10).x).all()


def test_submodules_and_public_names_are_attributes_of_the_package():
    import symgd

    assert symgd.critical.critical_points is symgd.critical_points and symgd.Kind.MINIMUM.value == "minimum"
    assert symgd.fit.__name__ == "symgd.fit" and isinstance(symgd.__version__, str)
    assert callable(symgd.minimize) and symgd.Problem is Problem  # the function, not the submodule
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        symgd.nope  # noqa: B018


def test_a_second_process_runs_the_numpy_backend_without_importing_sympy(tmp_path):
    code = """
        import json, sys
        import numpy as np
        import symgd
        p = symgd.Problem("(1 - x)^2 + 100*(y - x^2)^2 + exp(x*y) + Abs(x)")
        X = np.random.default_rng(0).uniform(-1, 1, (64, 2))
        runs = [symgd.minimize(p, "adam", X, 40, lr=1e-2, backend="numpy"),
                symgd.minimize(p, "newton", X, 4, damping="armijo", backend="numpy")]  # Hessian and f alone
        print(json.dumps({"sympy": "sympy" in sys.modules, "x": [r.x.tolist() for r in runs],
                          "f": p.kernels.f(X[:3]).tolist()}))
    """
    first, second = _child(code, str(tmp_path)), _child(code, str(tmp_path))
    assert first["sympy"] and not second["sympy"]
    assert second["x"] == first["x"] and second["f"] == first["f"]  # the same generated code, bit for bit


def test_stored_numpy_kernels_of_the_wrong_shape_are_compiled_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGD_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_store, "_MEMO", {})
    key = _store.text_key("x^2 + 3*y^2", None)
    _store.save(key, names=["x", "y"], constants=[],
                numpy_kernels={"fg": ["import os\\ndef _lambdifygenerated(_x0, _x1): pass", []], "hess": None,
                               "cells": []})
    p = Problem("x^2 + 3*y^2")
    assert "expr" not in p.__dict__  # read from the store, with its (foreign) kernels entry
    g = p.kernels.grad(np.array([[1.0, 1.0]]))  # the entry is refused (not lambdify's source): compiled again
    assert g.tolist() == [[2.0, 6.0]]
