"""The import graph of ``moe_lib`` has no arrow back up, and no module is over 400 lines.

Layers, bottom to top: the private kernels (``_validation``, ``_linalg``), the solver layer
(``_solvers``, then ``_regression``), the data types (``params``), the gate, the expert families,
the model, the steps, the driver (``fit``), the estimators. Beside them, ``mirror`` computes the
mirror-descent view *independently of EM*: it may use the data types and the solver layer, but
nothing that computes an EM step (no gate, experts, model, steps, fit or weighted-regression
M-step code). The imports are read from the source with ``ast``, so a lazy import inside a
function counts too; an import under ``if TYPE_CHECKING:`` (for a type hint only, never executed)
does not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import moe_lib

ROOT = Path(moe_lib.__file__).parent

#: Each top-level unit of moe_lib and its rank: a unit may import only units of lower rank.
RANK = {
    "_validation": 0,
    "_linalg": 0,
    "_curvature": 0.9,
    "_problem": 1,
    "solvers": 1.5,
    "_hessians": 1.8,
    "regression": 2,
    "params": 3,
    "gate": 4,
    "experts": 5,
    "model": 6,
    "steps": 7,
    "diagnostics": 7.5,
    "result": 7.7,
    "runoff": 7.8,
    "fit": 8,
    "scaling": 3.5,
    "estimators": 9,
    "datasets": 4,
    "symmetric": 9,
    "plotting": 0,
    "symbolic": 0,
    "explorer": 0.5,
    "figstyle": 0,
    "mirror": 4,
}
#: What mirror may import from moe_lib (nothing that computes an EM step).
MIRROR_ALLOWED = {"_validation", "_linalg", "_curvature", "_problem", "solvers", "params", "mirror"}


def _unit(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0].removesuffix(".py")


def _imported_units(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    units = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "moe_lib" and len(parts) > 1:
                units.add(parts[1])
            elif parts[0] == "moe_lib" and isinstance(node, ast.ImportFrom):
                units.update(alias.name for alias in node.names)
    return units


SOURCES = sorted(p for p in ROOT.rglob("*.py") if p.name != "__init__.py" or p.parent != ROOT)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    unit = _unit(path)
    assert unit in RANK, f"{unit} has no layer in this test: add it to RANK"
    for other in _imported_units(path) - {unit}:
        assert other in RANK, f"{path.name} imports moe_lib.{other}, which has no layer"
        assert RANK[other] < RANK[unit], (
            f"moe_lib/{path.relative_to(ROOT)} (layer {unit}) imports moe_lib.{other}, which is "
            "not below it"
        )


@pytest.mark.parametrize(
    "path", [p for p in SOURCES if _unit(p) == "mirror"], ids=lambda p: p.name
)
def test_mirror_imports_nothing_that_computes_an_em_step(path):
    forbidden = _imported_units(path) - MIRROR_ALLOWED
    assert not forbidden, f"mirror/{path.name} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_400_lines(path):
    n = len(path.read_text().splitlines())
    assert n <= 400, f"moe_lib/{path.relative_to(ROOT)} has {n} lines"


def test_no_reference_to_documents_outside_the_repository():
    for path in ROOT.rglob("*.py"):
        text = path.read_text()
        for needle in ("digest", "design.md"):
            assert needle not in text, f"moe_lib/{path.relative_to(ROOT)} mentions {needle!r}"
