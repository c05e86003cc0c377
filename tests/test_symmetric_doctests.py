"""The Examples of moe_lib.symmetric run as doctests, and every public name has one."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

from moe_lib import symmetric as S

MODULES = [S] + [
    importlib.import_module(f"moe_lib.symmetric.{info.name}")
    for info in pkgutil.iter_modules(S.__path__)
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0
    public = [
        obj for name, obj in vars(module).items()
        if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
        and (inspect.isfunction(obj) or inspect.isclass(obj))
    ]
    # Every public module with functions or classes has examples (_checks is internal).
    if not module.__name__.rsplit(".", 1)[-1].startswith("_"):
        assert (result.attempted > 0) == bool(public)


@pytest.mark.parametrize("name", S.__all__)
def test_every_public_function_and_class_has_examples(name):
    obj = getattr(S, name)
    if inspect.isfunction(obj) or inspect.isclass(obj):
        examples = obj.__doc__.split("Examples\n    --------\n")
        assert len(examples) == 2 and ">>> " in examples[1]
