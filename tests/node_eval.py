"""Run a snippet of ES-module JavaScript in node and return what it printed (skip without node)."""

from __future__ import annotations

import subprocess

import pytest


def node_eval(script: str) -> str:
    """stdout of ``node --input-type=module -e script``; the test is skipped without node."""
    try:
        return subprocess.run(
            ["node", "--input-type=module", "-e", script],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout  # fmt: skip
    except FileNotFoundError:
        pytest.skip("node is not installed")
