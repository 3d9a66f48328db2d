"""Layers point one way (STYLE.md §3.2): a module imports only its own or lower layers at top level."""

import ast
import pathlib

import pytest

LAYERS = [{"errors", "budget", "output", "_store"}, {"parse"}, {"problem", "_symbolic"}, {"critical", "kernels", "schedules", "models"},
          {"optimizers"}, {"minimize", "fit", "fused"}, {"latex", "plot", "zoo"}, {"cli", "__main__"}]
RANK = {m: i for i, layer in enumerate(LAYERS) for m in layer}
PKG = pathlib.Path(__file__).parents[1] / "symgd"


def top_level_symgd_imports(source: str):
    for node in ast.parse(source).body:  # top level only: lazy imports inside functions are allowed
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, "use absolute imports: from symgd.x import y"
            parts = (node.module or "").split(".")
            if parts[0] == "symgd":
                yield from ([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "symgd" and len(parts) > 1:
                    yield parts[1]


def test_walker_flags_upward_imports():
    assert list(top_level_symgd_imports("from symgd.minimize import minimize\n")) == ["minimize"]
    assert list(top_level_symgd_imports("def f():\n    from symgd import plot\n")) == []


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_imports_point_downward(path):
    me = path.relative_to(PKG).parts[0].removesuffix(".py")  # optimizers/adam.py -> "optimizers"
    if me == "__init__":
        return  # the public facade may import anything
    assert me in RANK, f"{me} has no layer: add it to LAYERS"
    above = [m for m in top_level_symgd_imports(path.read_text()) if RANK.get(m, -1) > RANK[me]]
    assert not above, f"{path.name} imports higher layer(s) {above}"
