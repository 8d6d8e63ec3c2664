"""`flask grid …`: import with a progress bar and report, publish, list, export, assign."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from server.grid.models import Duty, GridVersion
from tests.server.grid_files import grid_bytes, grid_features


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_import_publish_list_export_from_the_command_line(app, tmp_path):
    source = tmp_path / "grid.geojson"
    source.write_bytes(grid_bytes())
    imported = run(app, "grid", "import", str(source), "--datum", "wgs84")
    assert imported.exit_code == 0, imported.output
    assert "validating" in imported.output and "draft 1: 15 cells" in imported.output
    published = run(app, "grid", "publish", "1", input="y\n")
    assert published.exit_code == 0 and "published 1" in published.output
    assert "open cases moving to another cell: 0 of 0" in published.output
    listed = run(app, "grid", "list")
    assert "published" in listed.output and "15 cells" in listed.output
    target = tmp_path / "out.geojson"
    exported = run(app, "grid", "export", "1", str(target), "--datum", "bd09")
    assert exported.exit_code == 0 and json.loads(target.read_bytes())["datum"] == "bd09"


def test_a_file_with_errors_exits_1_keeps_the_draft_and_cannot_be_published(
    app, tmp_path, db_session
):
    features = grid_features()
    features[2]["properties"]["parent_code"] = "NOPE"
    source = tmp_path / "bad.geojson"
    source.write_bytes(grid_bytes(features))
    imported = run(app, "grid", "import", str(source))
    assert imported.exit_code == 1 and "parent_not_found" in imported.output
    assert db_session.scalar(select(func.count()).select_from(GridVersion)) == 1
    refused = run(app, "grid", "publish", "1", "--yes")
    assert refused.exit_code == 1 and "grid_has_errors" in refused.output


def test_bad_command_line_input_is_refused_with_a_message(app, tmp_path, db_session):
    source = tmp_path / "grid.geojson"
    source.write_bytes(grid_bytes())
    assert "datum" in run(app, "grid", "import", str(source), "--datum", "mars").output
    assert run(app, "grid", "import", str(tmp_path / "missing.geojson")).exit_code == 2
    not_json = tmp_path / "x.geojson"
    not_json.write_bytes(b"hello")
    refused = run(app, "grid", "import", str(not_json))
    assert refused.exit_code == 1 and "no draft stored" in refused.output
    assert run(app, "grid", "publish", "42").exit_code == 1
    assert db_session.scalar(select(func.count()).select_from(GridVersion)) == 0


def test_assign_from_the_command_line_with_deputy_and_dates(app, tmp_path, make_user, db_session):
    source = tmp_path / "grid.geojson"
    source.write_bytes(grid_bytes())
    run(app, "grid", "import", str(source))
    run(app, "grid", "publish", "1", "--yes")
    make_user("worker", "zhou.jie")
    done = run(
        app,
        "grid",
        "assign",
        "R1",
        "zhou.jie",
        "--duty",
        "grid_worker",
        "--deputy",
        "--from",
        "2026-01-01",
        "--until",
        "2026-12-31",
    )
    assert done.exit_code == 0 and "deputy" in done.output
    bad_dates = run(
        app, "grid", "assign", "R1", "zhou.jie", "--from", "2026-05-02", "--until", "2026-05-01"
    )
    assert bad_dates.exit_code == 1 and "ends_on" in bad_dates.output
    assert run(app, "grid", "assign", "ZZ", "zhou.jie").exit_code == 1
    assert run(app, "grid", "assign", "R1", "ghost").exit_code == 1
    assert run(app, "grid", "assign", "R1", "zhou.jie", "--duty", "mayor").exit_code == 2
    assert db_session.scalar(select(func.count()).select_from(Duty)) == 1
    gaps = run(app, "grid", "gaps")
    assert "cells with nobody responsible" in gaps.output
