"""`flask register|addresses|staff|units|catalogue import FILE`: one pipeline (page, API, CLI).

Without ``--apply`` a command is a dry run: the report is printed and the run recorded (it
can be applied later: ``flask imports apply RUN``). Exit 1 when the file has blocking
problems.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from server.accounts.models import User
from server.exceptions import WanggeError
from server.extensions import db
from server.grid.cli import in_english
from server.imports import operations, templates
from server.imports.wiring import make_context

EXIT_HAS_ERRORS = 1


def print_run(run: Any, show: int) -> None:
    """Counts, then one line per problem: severity, row, column, rule, message (English)."""
    counts = ", ".join(f"{k} {v}" for k, v in run.counts.items())
    source = run.source or {}
    where = ", ".join(f"{k} {source[k]}" for k in ("format", "encoding", "sheet") if source.get(k))
    click.echo(f"import {run.id} ({run.kind}, {run.state}; {where}): {counts}")
    problems = run.report.get("problems", [])
    for p in problems[:show]:
        row = f"row {p['row']}" if p.get("row") else "file"
        column = f" [{p['column']}]" if p.get("column") else ""
        click.echo(f"  {p['severity']:<7} {row}{column} {p['rule']}: {p['message_en']}")
    hidden = len(problems) - show + run.report.get("truncated", 0)
    if hidden > 0:
        click.echo(f"  … and {hidden} more (see --show)")


def _actor(username: str | None) -> int | None:
    if not username:
        return None
    found = db.session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise click.ClickException(f"no user {username}")
    return int(found)


def _mapping(pairs: tuple[str, ...]) -> dict[str, str] | None:
    mapping = {}
    for pair in pairs:
        field, sep, header = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r}: write FIELD=HEADER", param_hint="--map")
        mapping[field.strip()] = header.strip()
    return mapping or None


def run_import(
    kind: str,
    file: Path,
    *,
    apply: bool,
    full: bool,
    mapping: tuple[str, ...],
    sheet: str | None,
    datum: str | None,
    show: int,
    as_user: str | None,
) -> None:
    """Check FILE as ``kind``; apply it too with ``apply`` when nothing blocks."""
    options = {"full": full, "sheet": sheet, "datum": datum}
    ctx = make_context(db.session, _actor(as_user), options=options)
    try:
        run, checked = operations.check_file(
            ctx, kind, file.read_bytes(), filename=file.name, mapping=_mapping(mapping)
        )
        if apply and run.state == "checked":
            operations.apply_run(ctx, run.id, checked)
    except WanggeError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.message} [{error.code}]") from None
    db.session.commit()
    print_run(run, show)
    if run.state == "refused":
        raise SystemExit(EXIT_HAS_ERRORS)


def import_command(kind: str, help_text: str) -> click.Command:
    """The ``import`` command of one kind's group."""

    @click.command("import", help=help_text)
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--apply", is_flag=True, help="Apply it when the check finds no error.")
    @click.option("--full", is_flag=True, help="The file is the whole list: flag what it lacks.")
    @click.option("--map", "mapping", multiple=True, help="FIELD=HEADER for a header we miss.")
    @click.option("--sheet", default=None, help="The worksheet to read (default: first visible).")
    @click.option("--datum", default=None, help="Coordinates' datum: wgs84, gcj02, bd09, EPSG:N.")
    @click.option("--show", default=30, show_default=True, help="Problems to print.")
    @click.option("--as", "as_user", default=None, help="Record the import as this user.")
    @with_appcontext
    @in_english
    def command(file: Path, **options: Any) -> None:
        run_import(kind, file, **options)

    return command


@click.group("register", help="The population register: import, category table.")
def register_cli() -> None:
    """Group of register commands."""


@click.group("addresses", help="The standard-address layer (标准地址).")
def addresses_cli() -> None:
    """Group of address commands."""


@click.group("staff", help="Staff accounts and their cells, from a file.")
def staff_cli() -> None:
    """Group of staff commands."""


@click.group("units", help="Units (职能部门, 驻区单位 …), from a file.")
def units_cli() -> None:
    """Group of unit commands."""


@click.group("imports", help="Import runs of every kind: list, apply, withdraw, templates.")
def imports_cli() -> None:
    """Group of import-run commands."""


register_cli.add_command(import_command("register", "Check (and --apply) a register file."))
addresses_cli.add_command(import_command("addresses", "Check (and --apply) an address list."))
staff_cli.add_command(import_command("staff", "Check (and --apply) a staff list."))
units_cli.add_command(import_command("units", "Check (and --apply) a list of units."))


@register_cli.command("categories")
@click.argument("text", required=False)
@click.argument("tag", required=False)
@click.option("--defaults", is_flag=True, help="Add the shipped texts the table lacks.")
@with_appcontext
@in_english
def categories_command(text: str | None, tag: str | None, defaults: bool) -> None:
    """List the category table, or map TEXT to TAG ('-' for no tag)."""
    from server.imports import categories
    from server.imports.models import CategoryMapping

    try:
        if defaults:
            click.echo(f"{categories.load_defaults(db.session)} texts added")
        if text:
            categories.set_mapping(
                db.session, text, None if tag in (None, "-") else tag, actor_id=None
            )
    except WanggeError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.message} [{error.code}]") from None
    db.session.commit()
    for row in db.session.scalars(select(CategoryMapping).order_by(CategoryMapping.text)):
        click.echo(f"  {row.text}\t{row.tag_code or '-'}")


@register_cli.command("rekey")
@with_appcontext
def rekey_command() -> None:
    """Re-seal identity numbers with the first of ID_NUMBER_KEYS and recompute their digests
    with ID_NUMBER_HMAC_KEY (run after rotating either; keep the old key listed until done)."""
    from flask import current_app

    from server.population.editing import rekey_identities
    from server.population.identity import app_vault

    changed = rekey_identities(db.session, app_vault(current_app))
    db.session.commit()
    click.echo(f"{changed} identity numbers re-sealed")


@imports_cli.command("list")
@click.option("--kind", default=None)
@with_appcontext
def list_command(kind: str | None) -> None:
    """The latest import runs (a run whose background job died is marked so first)."""
    from flask import current_app

    from server.imports.jobs import fail_stale

    if fail_stale(current_app, db.session):
        db.session.commit()
    for run in operations.list_runs(db.session, kind):
        click.echo(
            f"{run.id}  {run.kind:<9} {run.state:<10} {run.created_at:%Y-%m-%d %H:%M}  "
            f"{run.filename}  {run.counts}"
        )


@imports_cli.command("apply")
@click.argument("run_id", type=click.UUID)
@click.option("--as", "as_user", default=None)
@with_appcontext
@in_english
def apply_command(run_id: uuid.UUID, as_user: str | None) -> None:
    """Apply a checked run (re-checked first against the database as it is now)."""
    ctx = make_context(db.session, _actor(as_user))
    try:
        run = operations.apply_run(ctx, run_id)
    except WanggeError as error:
        db.session.rollback()
        raise click.ClickException(f"{error.message} [{error.code}]") from None
    db.session.commit()
    print_run(run, 30)


@imports_cli.command("prune")
@click.option("--days", default=14, show_default=True, help="Keep files of runs younger than this.")
@with_appcontext
def prune_command(days: int) -> None:
    """Withdraw runs never applied and older than DAYS, dropping their kept files (cron)."""
    import datetime as dt

    from server import clock

    done = operations.prune(db.session, older_than=clock.now() - dt.timedelta(days=days))
    db.session.commit()
    click.echo(f"{done} import runs withdrawn")


@imports_cli.command("template")
@click.argument("kind", type=click.Choice(operations.KIND_NAMES))
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
def template_command(kind: str, dest: Path) -> None:
    """Write the template of KIND (.xlsx or .csv by DEST's suffix), Chinese headers."""
    dest.write_bytes(templates.template(kind, "csv" if dest.suffix == ".csv" else "xlsx"))
    click.echo(f"wrote {dest}")


def _catalogue_import() -> None:
    """``flask catalogue import FILE``: the catalogue group lives with the TOML loader
    (server/catalogue/cli.py); its import command is this pipeline's."""
    from server.catalogue.cli import catalogue_cli

    if "import" not in catalogue_cli.commands:
        catalogue_cli.add_command(
            import_command("catalogue", "Check (and --apply) a catalogue file (XLSX/CSV).")
        )


_catalogue_import()
COMMANDS = (register_cli, addresses_cli, staff_cli, units_cli, imports_cli)
