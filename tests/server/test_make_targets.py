"""`make run` serves with what serving needs and says where to open each part."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _make(*args: str, tmp_path: Path) -> str:
    done = subprocess.run(
        ["make", "--no-print-directory", f"VENV={tmp_path / 'venv'}", *args],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_run_on_a_fresh_machine_installs_the_package_without_the_test_tools(tmp_path):
    plan = _make("-n", "run", tmp_path=tmp_path)  # dry run: what a fresh checkout would do
    installs = [line for line in plan.splitlines() if "pip install" in line]
    assert any(line.rstrip().endswith("-e .") for line in installs), installs
    assert not any("[dev]" in line for line in installs), installs
    assert "db upgrade" in plan and "demo load" in plan


def test_make_test_adds_the_test_tools(tmp_path):
    plan = _make("-n", "test", tmp_path=tmp_path)
    assert any("pip install" in line and "[dev]" in line for line in plan.splitlines())


def test_make_run_prints_every_entry_point_and_the_lan_addresses_when_asked(tmp_path):
    local = _make("addresses", "PORT=5123", tmp_path=tmp_path)
    for path in ("/", "/app/", "/report/", "/services/"):
        assert f"http://127.0.0.1:5123{path}\n" in local
    everywhere = _make("addresses", "HOST=0.0.0.0", "PORT=5123", tmp_path=tmp_path)
    assert "http://127.0.0.1:5123/app/" in everywhere
    assert "0.0.0.0" not in everywhere  # a browser cannot open it: the real addresses instead
