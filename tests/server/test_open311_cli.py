"""`flask open311 partner-create / partners / partner-revoke`: the key is printed once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.open311.models import ApiPartner


def test_create_list_and_revoke_a_partner(app: Any) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(args=["open311", "partner-create", "长宁区12345平台"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("w311_") and len(key) > 40
    partner = db.session.scalar(select(ApiPartner))
    assert key not in (partner.key_sha256, partner.key_prefix)
    again = runner.invoke(args=["open311", "partner-create", "长宁区12345平台"])
    assert again.exit_code != 0
    assert "exists" in again.output or "已存在" in again.output
    assert "active" in runner.invoke(args=["open311", "partners"]).output
    revoked = runner.invoke(args=["open311", "partner-revoke", "长宁区12345平台"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert runner.invoke(args=["open311", "partner-revoke", "nobody"]).exit_code != 0
