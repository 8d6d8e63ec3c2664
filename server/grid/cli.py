"""`flask grid …`: import, list, publish and export grid versions; assign people to cells."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from geo.reading import PropertyNames
from server.enums import DutyRole
from server.exceptions import WanggeError
from server.extensions import db
from server.grid import operations, queries

EXIT_REPORT_HAS_ERRORS = 1


def _fail(error: WanggeError) -> None:
    db.session.rollback()
    field = f" ({error.field})" if error.field else ""
    raise click.ClickException(f"{error.message}{field} [{error.code}]")


def in_english(command: Callable[..., Any]) -> Callable[..., Any]:
    """Messages of domain errors in English: there is no request to choose a language from."""

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with force_locale("en"):
            return command(*args, **kwargs)

    return wrapped


def _today() -> dt.date:
    from server.grid.api import today

    return today()


def print_report(report: dict[str, Any], limit: int) -> None:
    """The report as text: counts, then one line per problem (feature, rule, spot, message)."""
    click.echo(
        f"{report['feature_count']} features: {report['error_count']} errors, "
        f"{report['warning_count']} warnings (datum used: {report.get('datum_used')})"
    )
    for problem in report["problems"][:limit]:
        where = problem.get("location")
        spot = f" at {where[0]:.6f},{where[1]:.6f}" if where else ""
        who = f"#{problem['feature_index']}" if problem.get("feature_index") is not None else "file"
        code = f" {problem['code']}" if problem.get("code") else ""
        click.echo(
            f"  {problem['severity']:<7} {who}{code} {problem['rule']}{spot}: "
            f"{problem['message_en']}"
        )
    if len(report["problems"]) > limit:
        click.echo(f"  … and {len(report['problems']) - limit} more (see --show)")


@click.group("grid", help="Grid versions, locate data and duties.")
def grid_cli() -> None:
    """Group of grid commands."""


@grid_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--datum", default="wgs84", show_default=True, help="wgs84, gcj02, bd09 or EPSG:NNNN")
@click.option("--name", default=None, help="Name of the draft version.")
@click.option("--code-property", default="code", show_default=True)
@click.option("--name-property", default="name", show_default=True)
@click.option("--level-property", default="level", show_default=True)
@click.option("--parent-property", default="parent_code", show_default=True)
@click.option("--repair", is_flag=True, help="make_valid and rewind; the report says what changed")
@click.option("--attach", is_flag=True, help="The file holds lower levels of the published grid.")
@click.option("--show", default=50, show_default=True, help="Problems to print.")
@with_appcontext
@in_english
def import_file(
    file: Path,
    datum: str,
    name: str | None,
    code_property: str,
    name_property: str,
    level_property: str,
    parent_property: str,
    repair: bool,
    attach: bool,
    show: int,
) -> None:
    """Read FILE, validate it and keep it as a draft; exit 1 when the report has errors."""
    options = operations.ImportOptions(
        datum=datum,
        property_names=PropertyNames(
            code_property, name_property, level_property or None, parent_property or None
        ),
        repair=repair,
        attach_to_published=attach,
        name=name,
        filename=file.name,
    )
    bbox = current_app.config.get("GRID_DISTRICT_BBOX")
    with click.progressbar(length=1, label="validating", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            outcome = operations.import_grid(
                db.session,
                None,
                file.read_bytes(),
                options,
                district_bbox=tuple(bbox) if bbox else None,
                progress=progress,
            )
        except WanggeError as error:
            _fail(error)
            return
    db.session.commit()
    print_report(outcome.report, show)
    if outcome.version is None:
        raise click.ClickException("nothing in the file could be kept as a cell; no draft stored")
    click.echo(f"draft {outcome.version.id}: {outcome.report['stored_cells']} cells")
    if outcome.report["has_errors"]:
        click.echo(
            "the draft has errors: it is kept for inspection but cannot be published", err=True
        )
        raise SystemExit(EXIT_REPORT_HAS_ERRORS)


@grid_cli.command("list")
@with_appcontext
@in_english
def list_versions() -> None:
    """Every version: id, status, cells, errors, name."""
    for v in queries.list_versions(db.session):
        errors = v["report"].get("error_count", 0)
        click.echo(
            f"{v['id']:>5} {v['status']:<9} {v['cell_count']:>6} cells "
            f"{errors:>4} errors  {v['name']}"
        )


@grid_cli.command("publish")
@click.argument("version_id", type=int)
@with_appcontext
@in_english
def publish(version_id: int) -> None:
    """Publish VERSION_ID (or republish a retired one: rollback)."""
    try:
        result = operations.publish_grid(
            db.session,
            None,
            version_id,
            near_m=current_app.config["NEAR_DISTANCE_M"],
            today=_today(),
        )
    except WanggeError as error:
        for problem in error.details.get("problems", [])[:20]:
            click.echo(
                f"  {problem['rule']} #{problem['feature_index']} {problem['code']}: "
                f"{problem['message_en']}",
                err=True,
            )
        _fail(error)
        return
    db.session.commit()
    retired = f", retired {result.retired_id}" if result.retired_id else ""
    click.echo(f"published {version_id}{retired}; {result.moved_cases} open cases moved")


@grid_cli.command("export")
@click.argument("version_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--datum", default="wgs84", show_default=True)
@with_appcontext
@in_english
def export(version_id: int, file: Path, datum: str) -> None:
    """Write VERSION_ID as GeoJSON to FILE (re-imports to the identical grid)."""
    try:
        body = queries.export_version(db.session, version_id, datum)
    except WanggeError as error:
        _fail(error)
        return
    file.write_bytes(body)
    click.echo(f"wrote {file} ({len(body)} bytes, {datum})")


@grid_cli.command("assign")
@click.argument("cell_code")
@click.argument("username")
@click.option(
    "--duty",
    "role",
    default="grid_worker",
    show_default=True,
    type=click.Choice([r.value for r in DutyRole]),
)
@click.option("--deputy", is_flag=True, help="B角 (deputy) instead of A角 (principal)")
@click.option("--from", "starts_on", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--until", "ends_on", type=click.DateTime(["%Y-%m-%d"]), default=None)
@with_appcontext
@in_english
def assign(
    cell_code: str,
    username: str,
    role: str,
    deputy: bool,
    starts_on: dt.datetime | None,
    ends_on: dt.datetime | None,
) -> None:
    """Give USERNAME a duty for CELL_CODE of the published grid."""
    try:
        duty = operations.assign_duty(
            db.session,
            None,
            cell_code=cell_code,
            username=username,
            role=role,
            deputy=deputy,
            starts_on=starts_on.date() if starts_on else _today(),
            ends_on=ends_on.date() if ends_on else None,
        )
    except WanggeError as error:
        _fail(error)
        return
    db.session.commit()
    until = f" until {duty.ends_on}" if duty.ends_on else ""
    click.echo(
        f"duty {duty.id}: {username} {role} ({duty.rank}) for {cell_code} "
        f"from {duty.starts_on}{until}"
    )


@grid_cli.command("gaps")
@with_appcontext
@in_english
def gaps() -> None:
    """Cells of the published grid with nobody responsible today."""
    from server.grid import people

    found = people.responsibility_gaps(db.session, on=_today())
    for gap in found:
        click.echo(f"{gap.code:<24} {gap.level:<17} covered by {gap.covered_by or '—'}  {gap.name}")
    click.echo(f"{len(found)} cells with nobody responsible")
