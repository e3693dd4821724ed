"""The examples in every public docstring run, as doctests, so they cannot rot."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import haliax

for _sub in ("nn", "partitioning", "quantization", "testing"):
    importlib.import_module(f"haliax.{_sub}")

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(haliax.__path__, "haliax.")
    if not name.startswith("haliax.testing.pytest_plugin")
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name: str) -> None:
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, module_name):
        if test.examples and (test.filename or "").endswith(".py"):
            runner.run(test)
    failed, _ = runner.summarize(verbose=False)
    assert failed == 0, f"{failed} docstring example(s) failed in {module_name}"
