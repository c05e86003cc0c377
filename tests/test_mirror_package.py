"""Tests of the moe_lib.mirror package as a whole: its public names, its imports (nothing that
computes an EM step), no class tests to tell families apart, and its doctests."""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import moe_lib
from moe_lib import mirror
from moe_lib.mirror.registry import VIEWS

PACKAGE_DIR = Path(mirror.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE_DIR.glob("*.py"))

#: The modules that compute an EM step (directly or through the modules they import).
FORBIDDEN = ("experts", "gate", "model", "steps", "fit", "regression", "estimators")
#: What the package may import.
ALLOWED_ROOTS = {"__future__", "abc", "dataclasses", "typing", "warnings", "numpy", "scipy"}
ALLOWED_MOE = {"moe_lib.params", "moe_lib._linalg", "moe_lib.solvers", "moe_lib._validation"}


def _imports(path: Path) -> list[str]:
    """Every module named by an import statement of ``path`` (relative ones made absolute)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = {0: "", 1: "moe_lib.mirror."}.get(node.level, "moe_lib.")
            module = base + (node.module or "")
            if module.rstrip(".") in ("moe_lib", "moe_lib.mirror"):
                # "from moe_lib import gate": what is imported is the submodule.
                names += [f"{module.rstrip('.')}.{alias.name}" for alias in node.names]
            else:
                names.append(module)
    return names


def _allowed(name: str) -> bool:
    if name.startswith("moe_lib.mirror") or name in ALLOWED_MOE:
        return True
    if name.startswith("moe_lib"):
        return False
    return name.split(".")[0] in ALLOWED_ROOTS or name == "sklearn.exceptions"


@pytest.mark.parametrize("module", MODULES)
def test_package_imports_nothing_that_computes_an_em_step(module):
    names = _imports(PACKAGE_DIR / f"{module}.py")
    assert names, "the parser found no import at all"
    bad = [n for n in names if not _allowed(n)]
    assert not bad, f"moe_lib.mirror.{module} imports {bad}"


def test_the_import_check_catches_forbidden_imports(tmp_path):
    """The check above is not vacuous: each forbidden module, in every import form, is caught."""
    for forbidden in FORBIDDEN:
        for line in (
            f"from moe_lib.{forbidden} import something",
            f"import moe_lib.{forbidden}",
            f"from moe_lib import {forbidden}",
            f"from ... import {forbidden}",
        ):
            path = tmp_path / "probe.py"
            path.write_text(line + "\n")
            assert not all(_allowed(n) for n in _imports(path)), line


def test_no_isinstance_on_families_or_views():
    """Families are told apart by their name (the registry), never by their class."""
    checked = []
    for module in MODULES:
        tree = ast.parse((PACKAGE_DIR / f"{module}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                checked.append((module, ast.unparse(node.args[1])))
    assert checked, "the parser found no isinstance at all (MoEParams is checked that way)"
    bad = [c for c in checked if "Experts" in c[1] or "View" in c[1] or "Family" in c[1]]
    assert not bad, bad


def test_registry_is_keyed_by_the_family_names():
    families = {
        cls().name if cls is not moe_lib.MultinomialExperts else cls(3).name
        for cls in (
            moe_lib.LinearExperts,
            moe_lib.LogisticExperts,
            moe_lib.MultinomialExperts,
            moe_lib.SymmetricLinearExperts,
            moe_lib.SymmetricLogisticExperts,
        )
    }
    assert set(VIEWS) == families == {
        "linear", "logistic", "multinomial", "symmetric-linear", "symmetric-logistic"
    }
    assert all(view.name == name for name, view in VIEWS.items())


def test_public_names_are_kept():
    old_names = {
        "bregman_divergence", "complete_data_kl", "complete_data_log_density",
        "complete_data_posterior", "free_gradient_from_natural", "log_partition",
        "loss_gradient", "md_objective", "md_objective_gradient", "mean_parameters",
        "mirror_descent_step", "mirror_map_gradient", "natural_layout", "natural_parameters",
        "sufficient_statistics",
    }
    assert old_names <= set(mirror.__all__)
    assert all(callable(getattr(mirror, name)) for name in mirror.__all__)
    assert moe_lib.mirror is mirror


def test_every_module_is_listed():
    found = {m.name for m in pkgutil.iter_modules([str(PACKAGE_DIR)])}
    assert found == set(MODULES) - {"__init__"}


@pytest.mark.parametrize("module", MODULES)
def test_doctests(module):
    name = "moe_lib.mirror" if module == "__init__" else f"moe_lib.mirror.{module}"
    result = doctest.testmod(importlib.import_module(name), report=True)
    assert result.attempted > 0, f"{name} has no doctest"
    assert result.failed == 0, f"{result.failed} doctest(s) of {name} failed"


@pytest.mark.parametrize("module", MODULES)
def test_modules_stay_short(module):
    assert len((PACKAGE_DIR / f"{module}.py").read_text().splitlines()) <= 400
