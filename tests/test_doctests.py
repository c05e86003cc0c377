"""Every docstring example of ``moe_lib`` runs, and every public object has one.

The ``Examples`` sections are part of the documentation (the book's API page shows them), so
they are executed here, module by module (private ones too), with :mod:`doctest`. "Public" means:
named in a package's ``__all__``, or defined without a leading underscore in a public module.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import moe_lib

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(moe_lib.__path__, "moe_lib.")
    if not any(part.startswith("_") for part in info.name.split(".")[1:])
)
PRIVATE_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(moe_lib.__path__, "moe_lib.")
    if any(part.startswith("_") for part in info.name.split(".")[1:])
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES + PRIVATE_MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    with np.printoptions(legacy=False):
        result = doctest.testmod(module, optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"


def _public_objects():
    seen = set()
    for name in ["moe_lib", *MODULES]:
        module = importlib.import_module(name)
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n in vars(module) if not n.startswith("_")]
        for attr in names:
            obj = getattr(module, attr)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            # Defined in this module (or re-exported through a package's __all__).
            home = getattr(obj, "__module__", "")
            if home != name and not (hasattr(module, "__all__") and home.startswith(name)):
                continue
            key = f"{obj.__module__}.{obj.__qualname__}"
            if key not in seen:
                seen.add(key)
                yield key, obj


PUBLIC = sorted(_public_objects())


@pytest.mark.parametrize(("name", "obj"), PUBLIC, ids=[n for n, _ in PUBLIC])
def test_public_objects_have_examples(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------" in doc, f"{name} has no Examples section"
    assert ">>> " in doc.split("Examples\n--------", 1)[1], f"{name}'s Examples show no code"
