"""Pruning the kept history (P9): old cursors get a clean reset, newer ones carry on."""

from __future__ import annotations

from server.extensions import db
from sync.models import ScopeExit, SyncMark
from tests.sync.conftest import count, make_case, office_assign


def test_pruning_moves_the_horizon_so_an_older_cursor_is_told_to_rebuild(app, phone, world):
    case_id = make_case(db.session, world, cell=None, assignee="wa")
    a = phone("wa")
    a.pull()
    old_cursor = a.cursor
    office_assign(db.session, world, case_id, "wb")  # writes a scope exit for wa
    assert count(ScopeExit) == 1

    result = app.test_cli_runner().invoke(args=["sync", "prune", "--keep-days", "0"])

    assert result.exit_code == 0, result.output
    assert "scope exits deleted: 1" in result.output
    assert count(ScopeExit) == 0
    db.session.expire_all()
    assert db.session.get(SyncMark, "history_horizon").value > 0
    a.cursor = old_cursor
    assert a.pull_page()["reset"] == "cursor_too_old"
    a.pull()  # the rebuild converges without the pruned exit
    assert str(case_id) not in a.table("cases")
    assert a.pull_page()["changes"] == []  # the new cursor is above the horizon


def test_pruning_keeps_exits_younger_than_the_kept_days(app, phone, world):
    case_id = make_case(db.session, world, cell=None, assignee="wa")
    a = phone("wa")
    a.pull()
    office_assign(db.session, world, case_id, "wb")
    result = app.test_cli_runner().invoke(args=["sync", "prune", "--keep-days", "90"])
    assert "scope exits deleted: 0" in result.output
    assert count(ScopeExit) == 1
    body = a.pull()[-1]
    assert [c["op"] for c in body["changes"]] == ["delete"]
