"""The domain packages stay framework-free (STYLE.md: dependencies point one way)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["geo", "sync", "sync.db", "sync.versions"])
def test_domain_package_imports_without_flask(package: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({package!r}); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'flask_sqlalchemy', 'werkzeug', 'server'}); print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
