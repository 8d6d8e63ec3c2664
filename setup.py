"""The package build compiles the Chinese catalogue and records the release (pyproject.toml
holds everything else). Without this, only `make` built the .mo and a wheel served English."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _load(name: str, path: Path) -> Any:  # a module, loaded without importing server/
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _commit() -> str | None:
    import os

    if os.environ.get("WANGGE_RELEASE"):
        return os.environ["WANGGE_RELEASE"]
    try:
        done = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return f"g{done.stdout.strip()}" if done.returncode == 0 and done.stdout.strip() else None


class BuildWithCatalogue(build_py):
    """build_py, plus server/translations/zh/LC_MESSAGES/messages.mo and server/RELEASE."""

    def run(self) -> None:
        super().run()
        translations = ROOT / "server" / "translations"
        table = _load("wangge_zh_messages", translations / "zh_messages.py").ZH
        mo = _load("wangge_mo", translations / "mo.py")
        # Editable installs import from the source tree; other builds from build_lib.
        base = ROOT if getattr(self, "editable_mode", False) else Path(self.build_lib)
        mo.write_catalogue(table, base / "server" / "translations")
        commit = _commit()
        if commit:  # read when git cannot tell (a wheel; a checkout owned by another user)
            (base / "server" / "RELEASE").write_text(commit + "\n", encoding="utf-8")


setup(cmdclass={"build_py": BuildWithCatalogue})
