"""The doctests of the import pipeline's plain modules run with the suite (pytest collects
doctests only under geo/ and sync/)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "server.exports.cells",
    "server.imports.categories",
    "server.imports.columns",
    "server.imports.report",
    "server.imports.tabular",
    "server.imports.values",
    "server.population.idnumbers",
    "server.population.phones",
]


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_in_the_docstrings_hold(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
