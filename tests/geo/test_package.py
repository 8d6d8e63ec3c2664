"""The geo package stays framework-free, documented and small, as STYLE.md asks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

GEO = Path(__file__).resolve().parents[2] / "geo"
MODULES = sorted(GEO.glob("*.py"))


def test_importing_geo_loads_no_flask() -> None:
    code = (
        "import sys, geo.reading, geo.locate, geo.export, geo.diff; "
        "print(any(m.split('.')[0] in ('flask', 'werkzeug', 'flask_sqlalchemy') "
        "for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=GEO.parent, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_module_has_a_one_line_docstring_and_stays_under_300_lines(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring and docstring.splitlines()[0].strip()
    assert len(source.splitlines()) <= 300
