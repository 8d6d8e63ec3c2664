"""`flask grid …`: import, list, publish and export grid versions; assign people to cells."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from geo.reading import PropertyNames
from server.enums import DutyRole
from server.exceptions import WanggeError
from server.extensions import db
from server.grid import displacement, operations, queries, uploads

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
    print_fixes(report)


_FLAGS = {"swap_axes": "--swap-axes", "level_from_code": "--level-from-code"}
_PROPERTY_OPTIONS = {
    "code": "--code-property",
    "name": "--name-property",
    "level": "--level-property",
    "parent_code": "--parent-property",
}


def fix_command(upload_id: int, options: dict[str, Any], fix: dict[str, Any]) -> str:
    """The command line that reads the stored upload again with a fix's options."""
    merged = {**options, **fix}
    words = ["flask --app wsgi grid import", f"--upload {upload_id}", f"--datum {merged['datum']}"]
    words += [flag for key, flag in _FLAGS.items() if merged.get(key)]
    if merged.get("default_level") or "default_level" in fix:
        words.append(f"--default-level {merged.get('default_level') or 'LEVEL'}")
    defaults = PropertyNames().__dict__
    for key, option in _PROPERTY_OPTIONS.items():
        value = merged.get("property_names", {}).get(key, defaults[key])
        if value != defaults[key]:
            words.append(f"{option} {value or repr('')}")
    return " ".join(words)


def print_fixes(report: dict[str, Any]) -> None:
    """Each fix the report offers, as the command that applies it to the stored upload."""
    upload_id = report.get("upload_id")
    fixes = [a for p in report["problems"] for a in p.get("data", {}).get("actions", [])]
    if not fixes or upload_id is None:
        return
    click.echo("fixes (the file is kept; no need to upload it again):")
    for fix in fixes:
        command = fix_command(upload_id, report.get("options") or {}, fix["options"])
        click.echo(f"  {fix['label_en']}:\n    {command}")


@click.group("grid", help="Grid versions, locate data and duties.")
def grid_cli() -> None:
    """Group of grid commands."""


@grid_cli.command("import")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--upload", "upload_id", type=int, help="Read a stored upload again (no FILE).")
@click.option("--datum", default="wgs84", show_default=True, help="wgs84, gcj02, bd09 or EPSG:NNNN")
@click.option("--name", default=None, help="Name of the draft version.")
@click.option("--code-property", default="code", show_default=True)
@click.option("--name-property", default="name", show_default=True)
@click.option("--level-property", default="level", show_default=True)
@click.option("--parent-property", default="parent_code", show_default=True)
@click.option("--repair", is_flag=True, help="make_valid and rewind; the report says what changed")
@click.option("--attach", is_flag=True, help="The file holds lower levels of the published grid.")
@click.option("--swap-axes", is_flag=True, help="Positions are [lat, lon] (or [north, east]).")
@click.option(
    "--default-level",
    type=click.Choice(["street", "residential_area", "block", "building_group"]),
    help="Level of features without one.",
)
@click.option("--level-from-code", is_flag=True, help="Derive missing levels from the codes.")
@click.option("--show", default=50, show_default=True, help="Problems to print.")
@with_appcontext
@in_english
def import_file(
    file: Path | None,
    upload_id: int | None,
    datum: str,
    name: str | None,
    code_property: str,
    name_property: str,
    level_property: str,
    parent_property: str,
    repair: bool,
    attach: bool,
    swap_axes: bool,
    default_level: str | None,
    level_from_code: bool,
    show: int,
) -> None:
    """Read FILE (or a stored upload), validate it and keep it as a draft; exit 1 on errors."""
    try:
        data, filename = _source(file, upload_id)
    except WanggeError as error:
        _fail(error)
        return
    options = operations.ImportOptions(
        datum=datum,
        property_names=PropertyNames(
            code_property, name_property, level_property or None, parent_property or None
        ),
        repair=repair,
        attach_to_published=attach,
        name=name,
        filename=filename,
        swap_axes=swap_axes,
        default_level=default_level,
        level_from_code=level_from_code,
    )
    with click.progressbar(length=1, label="validating", show_pos=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            outcome = operations.import_grid(
                db.session,
                None,
                data,
                options,
                checks=_checks(),
                upload_id=upload_id,
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


def _source(file: Path | None, upload_id: int | None) -> tuple[bytes, str | None]:
    if (file is None) == (upload_id is None):
        raise click.UsageError("give a FILE or --upload ID (one of them)")
    if file is not None:
        return file.read_bytes(), file.name
    assert upload_id is not None
    stored = uploads.get_upload(db.session, upload_id)
    return stored.data, stored.filename


def _checks() -> operations.ImportChecks:
    from server.grid.api import import_checks

    return import_checks()


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
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Only show what publishing would move.")
@click.option(
    "--acknowledge-displacement",
    "reason",
    default=None,
    help="Publish a grid that moved as a whole; REASON goes to the audit log.",
)
@with_appcontext
@in_english
def publish(version_id: int, yes: bool, dry_run: bool, reason: str | None) -> None:
    """Publish VERSION_ID (or republish a retired one: rollback), after showing what moves."""
    from server.grid.api import publish_now, publish_preview

    try:
        preview = publish_preview(version_id)
    except WanggeError as error:
        _fail(error)
        return
    print_impact(preview)
    if dry_run:
        return
    if not yes and not click.confirm(f"publish version {version_id}?", default=False):
        raise click.ClickException("not published")
    try:
        result = publish_now(None, version_id, (reason or "").strip() or None, None)
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


def print_impact(preview: dict[str, Any]) -> None:
    """The dry run of a publication, and the displacement that needs an acknowledgement."""
    click.echo(
        f"open cases moving to another cell: {preview['cases_moving']} of "
        f"{preview['open_cases']} ({preview['cases_leaving_grid']} leave the grid); "
        f"{preview['cases_changing_hands']} change grid worker "
        f"({preview['people_of_cases']} people)"
    )
    click.echo(
        f"current duties on removed cells: {preview['duties_orphaned']} "
        f"({preview['people_orphaned']} people); households that would lie outside their "
        f"registered cell: {preview['households_moving']} ({preview['residents_moving']} "
        "residents)"
    )
    found = displacement.finding(preview["displacement"])
    if found:
        click.echo(f"BLOCKING: {found['message_en']}", err=True)
        click.echo("  publish only with --acknowledge-displacement REASON", err=True)


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
