"""The verbs of the import pipeline: check a file (dry run), apply a checked run.

One code path for the page, the API and the CLI. A check reads the file (streaming), maps
its columns, checks every row against the rules and the database, and records a run with
its report and counts; the file is kept with it. Applying re-checks the kept file against
the database as it is now and writes everything in the caller's transaction, or raises
before writing anything when any blocking problem remains: all or nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.audit.operations import record
from server.exceptions import Conflict, InvalidInput, NotFound
from server.imports.columns import build_mapping, missing_required, scorer
from server.imports.geojson_table import looks_like_json, read_geojson
from server.imports.kinds import Checked, Context, ImportKind
from server.imports.models import ImportFile, ImportRun
from server.imports.report import ImportReport, problem
from server.imports.tabular import (
    Row,
    RowCache,
    Table,
    UnreadableTable,
    cached_table,
    read_table,
)
from sync.db import utcnow

MAX_ROWS = 300_000
KIND_NAMES = ("register", "addresses", "staff", "units", "catalogue")


def get_kind(name: str) -> ImportKind:
    """The import of that name; InvalidInput for any other."""
    from server.imports.addresses import AddressImport
    from server.imports.catalogue import CatalogueImport
    from server.imports.register import RegisterImport
    from server.imports.staff import StaffImport
    from server.imports.units import UnitImport

    kinds: dict[str, ImportKind] = {
        "register": RegisterImport(),
        "addresses": AddressImport(),
        "staff": StaffImport(),
        "units": UnitImport(),
        "catalogue": CatalogueImport(),
    }
    if name not in kinds:
        raise InvalidInput(
            _l("Unknown kind of import %(kind)s.", kind=name[:40]),
            code="unknown_kind",
            field="kind",
        )
    return kinds[name]


class _Counted:
    """Rows passed through, counted, kept in a RowCache, and cut at MAX_ROWS with an error."""

    def __init__(self, rows: Iterator[Row], report: ImportReport, cache: RowCache | None) -> None:
        self.rows, self.report, self.cache, self.count = rows, report, cache, 0

    def __iter__(self) -> Iterator[Row]:
        for row in self.rows:
            self.count += 1
            if self.count > MAX_ROWS:  # stop reading: a hostile file may hold millions more
                self.report.add(problem("too_large", rows=f"{MAX_ROWS:,}+", limit=f"{MAX_ROWS:,}"))
                return
            if self.cache is not None:
                self.cache.add(*row)
            yield row


def _table(
    kind: ImportKind,
    data: bytes | None,
    kept: ImportFile | None,
    run: ImportRun,
    sheet: str | None,
    mapping: dict[str, str] | None,
) -> Table:
    """The rows to check: the kept rows of a checked file, else the file read afresh."""
    if kept is not None and kept.rows is not None and run.source.get("headers") is not None:
        return cached_table(kept.rows, list(run.source["headers"]), run.source)
    if data is None:  # not handed in: the kept file's bytes (a deferred column)
        data = kept.data if kept is not None else b""
    if looks_like_json(data):
        if kind.name != "addresses":
            raise UnreadableTable([problem("geojson_not_here")])
        return read_geojson(data)
    return read_table(data, score=scorer(kind.specs, list((mapping or {}).values())), sheet=sheet)


def _check(
    ctx: Context,
    kind: ImportKind,
    data: bytes | None,
    run: ImportRun,
    report: ImportReport,
    mapping: dict[str, str] | None,
    kept: ImportFile | None = None,
) -> tuple[Checked | None, bytes | None]:
    """Read, map and check; return the kind's plan (None when refused early) and the rows
    as a RowCache blob (None when they came from one)."""
    try:
        table = _table(kind, data, kept, run, ctx.options.get("sheet") or None, mapping)
    except UnreadableTable as error:
        report.extend(error.problems)
        return None, None
    report.extend(table.problems)
    columns, found = build_mapping(kind.specs, table.headers, mapping)
    report.extend(found)
    report.extend(missing_required(kind.specs, columns))
    run.source = {**table.source, "headers": table.headers}
    run.mapping = columns.to_dict()
    if report.has_errors:
        return None, None  # columns missing: every row would only repeat it
    cache = RowCache() if kept is None else None
    rows = _Counted(table.rows, report, cache)
    try:
        checked = kind.check(ctx, iter(rows), columns, report)
    except UnreadableTable as error:  # a CSV broken halfway down
        report.extend(error.problems)
        return None, None
    run.source["rows"] = rows.count
    if rows.count == 0:
        report.add(problem("no_rows"))
    return checked, cache.finish() if cache is not None else None


def create_run(
    ctx: Context,
    kind_name: str,
    data: bytes,
    *,
    filename: str = "",
    mapping: dict[str, str] | None = None,
) -> ImportRun:
    """Record a file to check (state ``checking``) and keep its bytes; ``check_run`` reads it.

    The page does this within the request and the reading in the background for large
    files; the CLI and small uploads do both at once (``check_file``).
    """
    kind = get_kind(kind_name)
    if not data:
        raise InvalidInput(_l("Choose a non-empty file to import."), field="file")
    run = ImportRun(
        id=uuid.uuid4(),
        kind=kind.name,
        state="checking",
        filename=(filename or "")[:255],
        file_sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        options={k: v for k, v in ctx.options.items() if v not in (None, "")},
        mapping=dict(mapping or {}),
        created_by_id=ctx.access.actor_id,
    )
    ctx.session.add(run)
    ctx.session.flush()
    ctx.session.add(ImportFile(run_id=run.id, data=data))
    ctx.session.flush()
    return run


def check_run(
    ctx: Context, run_id: uuid.UUID, data: bytes | None = None
) -> tuple[ImportRun, Checked | None]:
    """Dry run of a recorded file: read and check it, keep its rows for applying, and set the
    run's report, counts and state (checked or refused). Nothing in the register changes.
    ``data``: the file's bytes when the caller has them (else they are read from the run)."""
    run = get_run(ctx.session, run_id)
    kept = ctx.session.get(ImportFile, run.id)
    if run.state != "checking" or kept is None:
        raise Conflict(
            _l("This import is %(state)s and cannot be applied.", state=run.state),
            code="import_not_checking",
            field="run_id",
        )
    ctx.options = {**run.options, **ctx.options}
    report = ImportReport()
    if data is None:
        data = kept.data  # deferred: loaded only here
    checked, rows = _check(ctx, get_kind(run.kind), data, run, report, run.mapping or None)
    _finish(run, report, checked)
    kept.rows = rows
    record(
        ctx.session,
        ctx.access,
        action="import_check",
        subject_type="import_run",
        subject_id=run.id,
        detail={
            "kind": run.kind,
            "sha256": run.file_sha256,
            "state": run.state,
            "counts": run.counts,
        },
    )
    ctx.session.flush()
    return run, checked


def check_file(
    ctx: Context,
    kind_name: str,
    data: bytes,
    *,
    filename: str = "",
    mapping: dict[str, str] | None = None,
) -> tuple[ImportRun, Checked | None]:
    """Record and check a file in one go (the CLI, the API, small uploads)."""
    run = create_run(ctx, kind_name, data, filename=filename, mapping=mapping)
    return check_run(ctx, run.id, data)


def _finish(run: ImportRun, report: ImportReport, checked: Checked | None) -> None:
    run.report = report.to_dict()
    run.counts = {
        "rows": int((run.source or {}).get("rows", 0)),
        **report.counts(),
        **(checked.counts if checked else {}),
    }
    run.state = "refused" if report.has_errors or checked is None else "checked"


def get_run(session: Session, run_id: uuid.UUID) -> ImportRun:
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(_l("No import %(id)s.", id=str(run_id)), field="run_id")
    return run


def claim(session: Session, run_id: uuid.UUID) -> ImportRun:
    """Mark a checked run as being applied, or raise Conflict: of two requests applying the
    same run (two clicks, two servers) exactly one goes on (a conditional UPDATE)."""
    run = get_run(session, run_id)
    claimed = session.execute(
        update(ImportRun)
        .where(ImportRun.id == run_id, ImportRun.state == "checked")
        .values(state="applying", applied_at=utcnow())  # when applying began (stale check)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(run)
        raise Conflict(
            _l("This import is %(state)s and cannot be applied.", state=run.state),
            code="import_not_checked",
            field="run_id",
        )
    session.refresh(run)
    return run


def apply_run(
    ctx: Context, run_id: uuid.UUID, checked: Checked | None = None, *, claimed: bool = False
) -> ImportRun:
    """Apply a checked run: re-check its file against the database as it is now (unless the
    caller has just checked it in this transaction), then write all of it. ``claimed``: a
    background job already moved it to ``applying`` (and committed that).

    Raises Conflict for a run already applied or refused, InvalidInput (with the new
    report) when the re-check finds blocking problems; nothing is written then.
    """
    run = claim(ctx.session, run_id) if not claimed else get_run(ctx.session, run_id)
    kind = get_kind(run.kind)
    if checked is None:
        kept = ctx.session.get(ImportFile, run.id)
        if kept is None:
            raise Conflict(_l("The file of this import is no longer kept."), field="run_id")
        ctx.options = {**run.options, **ctx.options}
        report = ImportReport()
        checked, _rows = _check(ctx, kind, None, run, report, run.mapping, kept)
        if checked is None or report.has_errors:
            raise InvalidInput(
                _l(
                    "The file has %(n)d blocking problems now; nothing was applied.",
                    n=report.counts()["errors"],
                ),
                code="import_has_errors",
                details={"report": report.to_dict()},
            )
    done = kind.apply(ctx, checked, run.id)
    run.state, run.applied_at, run.applied_by_id = "applied", utcnow(), ctx.access.actor_id
    run.counts = {**run.counts, **done}
    ctx.session.execute(delete(ImportFile).where(ImportFile.run_id == run.id))
    record(
        ctx.session,
        ctx.access,
        action="import_apply",
        subject_type="import_run",
        subject_id=run.id,
        detail={"kind": run.kind, "sha256": run.file_sha256, "counts": done},
    )
    ctx.session.flush()
    return run


def withdraw_run(ctx: Context, run_id: uuid.UUID) -> ImportRun:
    """Drop a checked or refused run's file; the run stays on record as superseded."""
    run = get_run(ctx.session, run_id)
    if run.state == "applied":
        raise Conflict(_l("An applied import cannot be withdrawn."), field="run_id")
    run.state = "superseded"
    ctx.session.execute(delete(ImportFile).where(ImportFile.run_id == run.id))
    ctx.session.flush()
    return run


def prune(session: Session, *, older_than: dt.datetime) -> int:
    """Withdraw runs never applied that were checked before ``older_than`` and drop their
    kept files (uploads of 20 MB add up); return how many. Applied runs keep their record."""
    stale = list(
        session.scalars(
            select(ImportRun.id).where(
                ImportRun.state.in_(("checked", "refused", "checking")),
                ImportRun.created_at < older_than,
            )
        )
    )
    for start in range(0, len(stale), 500):
        chunk = stale[start : start + 500]
        session.execute(delete(ImportFile).where(ImportFile.run_id.in_(chunk)))
        session.execute(
            update(ImportRun)
            .where(ImportRun.id.in_(chunk))
            .values(state="superseded")
            .execution_options(synchronize_session=False)
        )
    return len(stale)


def list_runs(session: Session, kind: str | None = None, limit: int = 50) -> list[ImportRun]:
    query = select(ImportRun).order_by(ImportRun.created_at.desc()).limit(limit)
    if kind:
        query = query.where(ImportRun.kind == kind)
    return list(session.scalars(query))


def run_file(session: Session, run: ImportRun) -> bytes | None:
    kept = session.get(ImportFile, run.id)
    return kept.data if kept else None


def summary(run: ImportRun) -> dict[str, Any]:
    """A run as the API returns it."""
    return {
        "id": str(run.id),
        "kind": run.kind,
        "state": run.state,
        "filename": run.filename,
        "file_sha256": run.file_sha256,
        "size_bytes": run.size_bytes,
        "source": run.source,
        "mapping": run.mapping,
        "options": run.options,
        "counts": run.counts,
        "report": run.report,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "applied_at": run.applied_at.isoformat() if run.applied_at else None,
    }
