"""Verbs of the grid: import a draft, publish (or roll back to) a version, assign and end duties.

Each takes the session and the acting user explicitly and raises ``server.exceptions``
errors before changing anything; callers commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from geo.datums import parse_datum
from geo.diff import GridDiff, diff_grids
from geo.displacement import DEFAULT_THRESHOLD_M
from geo.errors import GeoError
from geo.levels import parse_level
from geo.locate import GridIndex
from geo.reading import PropertyNames, read_grid_file
from server.accounts.models import User
from server.audit.operations import AccessContext, record
from server.enums import DutyRank, DutyRole, GridStatus
from server.exceptions import Conflict, InvalidInput, NotFound
from server.grid import assignment, displacement, people, uploads
from server.grid.models import Cell, Duty, GridVersion
from server.grid.storage import insert_cells, load_cells, storable
from sync.db import utcnow
from sync.versions import next_version

Progress = Callable[[int, int], None]
MAX_LISTED_PROBLEMS = 200  # a refusal lists this many blocking problems (the report has all)


@dataclass(frozen=True)
class ImportOptions:
    """What the uploader said about the file (and what a re-import changes)."""

    datum: str = "wgs84"
    property_names: PropertyNames = field(default_factory=PropertyNames)
    repair: bool = False
    attach_to_published: bool = False
    name: str | None = None
    filename: str | None = None
    swap_axes: bool = False  # positions are [lat, lon] (or [northing, easting])
    default_level: str | None = None  # for features without a level
    level_from_code: bool = False  # … or their level (and parent) from the code rule

    def to_dict(self) -> dict[str, Any]:
        return {
            "datum": self.datum,
            "property_names": self.property_names.__dict__,
            "repair": self.repair,
            "attach_to_published": self.attach_to_published,
            "name": self.name,
            "filename": self.filename,
            "swap_axes": self.swap_axes,
            "default_level": self.default_level,
            "level_from_code": self.level_from_code,
        }


@dataclass(frozen=True)
class ImportChecks:
    """The deployment's settings every import is checked against (from configuration)."""

    district_bbox: tuple[float, float, float, float] | None = None
    displacement_threshold_m: float = DEFAULT_THRESHOLD_M


def check_import(data: bytes | None, options: ImportOptions) -> None:
    """Refuse what can be refused before reading: no file, an unknown datum, bad names."""
    if not data:
        raise InvalidInput(_l("Choose a non-empty GeoJSON file to upload."), field="file")
    try:
        parse_datum(options.datum)
    except GeoError:
        raise InvalidInput(
            _l(
                "Unknown datum %(datum)s: use wgs84, gcj02, bd09 or EPSG:NNNN.", datum=options.datum
            ),
            field="datum",
        ) from None
    names = options.property_names
    for key in ("code", "name"):
        if not (getattr(names, key) or "").strip():
            raise InvalidInput(_l("A property name may not be empty."), field=f"{key}_property")
    if options.default_level:
        try:
            parse_level(options.default_level)
        except GeoError:
            raise InvalidInput(
                _l("Unknown level %(level)s.", level=options.default_level), field="default_level"
            ) from None


@dataclass
class ImportOutcome:
    """The stored draft (None when nothing in the file could be kept) and the report."""

    version: GridVersion | None
    report: dict[str, Any]
    upload_id: int | None = None  # the stored file (``report["upload_id"]`` too)


def _offers_fixes(report: dict[str, Any]) -> bool:
    return any(p["data"].get("actions") for p in report["problems"])


def import_grid(
    session: Session,
    actor: User | None,
    data: bytes,
    options: ImportOptions,
    *,
    checks: ImportChecks = ImportChecks(),
    upload_id: int | None = None,
    progress: Progress | None = None,
    before_store: Callable[[], None] | None = None,
) -> ImportOutcome:
    """Read and validate a file (one code path: geo.read_grid_file); keep it as a draft.

    A draft with errors is kept for inspection but cannot be published. A file with no
    usable cell at all (not JSON, not GeoJSON, empty …) stores no draft. The draft's cells
    are measured against the published grid (``report["displacement"]``): a grid moved as a
    whole is a blocking finding that names the likely datum mix-up. The file itself is kept
    (``grid_uploads``) with its draft, or without one when the report offers a fix (swap the
    axes …), so it can be read again with other options; ``upload_id`` says the bytes are
    that stored upload already.
    """
    check_import(data, options)
    published_id = people.published_version_id(session)
    published = load_cells(session, published_id) if published_id else []
    result = read_grid_file(
        data,
        datum=options.datum,
        property_names=options.property_names,
        district_bbox=checks.district_bbox,
        repair=options.repair,
        progress=progress,
        parents=published if options.attach_to_published else [],
        swap_axes=options.swap_axes,
        default_level=options.default_level or None,
        level_from_code=options.level_from_code,
    )
    cells = storable(result.cells)
    measured = None
    if published_id and cells and result.datum_used:
        measured = displacement.measure(
            session,
            list(cells),
            result.datum_used.name,
            checks.displacement_threshold_m,
            published_id,
            list(published),
        )
        result.report.problems[:0] = displacement.report_problems(measured)
    report: dict[str, Any] = result.report.to_dict()
    report["repairs"] = [r.to_dict() for r in result.repairs]
    report["datum_used"] = result.datum_used.name if result.datum_used else None
    report["source_crs_note"] = result.source_crs_note
    report["options"] = options.to_dict()
    report["displacement"] = measured
    report["level_preview"] = result.level_preview.to_dict() if result.level_preview else None
    if upload_id is None and (cells or _offers_fixes(report)):
        upload_id = uploads.store_upload(session, actor, data, options.filename).id
    report["upload_id"] = upload_id
    if not cells:
        return ImportOutcome(None, report, upload_id)
    carried = []
    if options.attach_to_published and published:  # the file replaces cells by code
        mine = {c.code for c in cells}
        carried = [c for c in published if c.code not in mine]
        report["attached_to_version"] = published_id
        report["carried_over"] = len(carried)
    report["stored_cells"] = len(cells) + len(carried)
    if before_store:
        before_store()
    version = GridVersion(
        name=(options.name or options.filename or "grid")[:200],
        status=GridStatus.DRAFT,
        source_datum=report["datum_used"] or options.datum,
        source_filename=(options.filename or "")[:255] or None,
        upload_id=upload_id,
        report=report,
        created_by_id=actor.id if actor else None,
    )
    session.add(version)
    session.flush()
    insert_cells(session, version.id, [*cells, *carried], version=0)
    return ImportOutcome(version, report, upload_id)


def get_version(session: Session, version_id: int) -> GridVersion:
    version = session.get(GridVersion, version_id)
    if version is None:
        raise NotFound(_l("No grid version %(id)s.", id=version_id), field="id")
    return version


def blocking_problems(version: GridVersion) -> list[dict[str, Any]]:
    return [p for p in version.report.get("problems", []) if p.get("severity") == "error"]


@dataclass
class PublishResult:
    version: GridVersion
    retired_id: int | None
    moved_cases: int
    diff: GridDiff | None
    displacement: dict[str, Any] | None = None


def _refuse_displaced(measured: dict[str, Any] | None, acknowledgement: str | None) -> None:
    if not displacement.blocking(measured) or (acknowledgement or "").strip():
        return
    assert measured is not None
    raise InvalidInput(
        _l(
            "The cells moved a median of %(m)d m against the published grid. Re-import the "
            "file with the right datum, or acknowledge the move and say why.",
            m=round(measured["median_shift_m"]),
        ),
        code="grid_displaced",
        field="acknowledge_displacement",
        details={"displacement": measured, "problem": displacement.finding(measured)},
    )


def publish_grid(
    session: Session,
    actor: User | None,
    version_id: int,
    *,
    near_m: float,
    today: dt.date,
    threshold_m: float = DEFAULT_THRESHOLD_M,
    acknowledgement: str | None = None,
    context: AccessContext | None = None,
) -> PublishResult:
    """Publish a draft (or republish a retired version: rollback), atomically.

    The previous version is retired (kept for rollback); open cases whose cell changes are
    re-placed and reassigned, and their count is reported. Refuses a version with errors,
    and one displaced as a whole against the published grid unless ``acknowledgement``
    (the publisher's reason) is given; every publication is written to the audit log.
    """
    stamp = next_version(session)  # the clock row lock serialises two publishers (sync/versions)
    version = get_version(session, version_id)
    if version.status == GridStatus.PUBLISHED:
        raise Conflict(_l("Grid version %(id)s is already published.", id=version_id), field="id")
    blocking = blocking_problems(version)
    if blocking:
        raise InvalidInput(
            _l("This grid has %(n)d errors; fix the file and upload it again.", n=len(blocking)),
            code="grid_has_errors",
            details={"error_count": len(blocking), "problems": blocking[:MAX_LISTED_PROBLEMS]},
        )
    measured = displacement.current(session, version, threshold_m)
    _refuse_displaced(measured, acknowledgement)
    cells = load_cells(session, version.id)
    if not cells:
        raise InvalidInput(_l("This grid version has no cells."), code="grid_empty", field="id")
    index = GridIndex.build([c.indexed() for c in cells], near_m=near_m)
    previous = session.scalar(select(GridVersion).where(GridVersion.status == GridStatus.PUBLISHED))
    diff = diff_grids(load_cells(session, previous.id), cells) if previous else None
    now = utcnow()
    if previous is not None:
        previous.status, previous.retired_at = GridStatus.RETIRED, now
        session.flush()
    version.status, version.published_at, version.retired_at = GridStatus.PUBLISHED, now, None
    session.execute(
        update(Cell)
        .where(Cell.grid_version_id == version.id)
        .values(version=stamp)
        .execution_options(synchronize_session=False)
    )
    moved = assignment.relocate_open_cases(
        session, index, on=today, version=stamp, actor_id=actor.id if actor else None
    )
    acknowledged = displacement.blocking(measured)
    record(
        session,
        context or AccessContext(actor.id if actor else None),
        action="publish_displaced" if acknowledged else "publish",
        subject_type="grid_version",
        subject_id=version.id,
        detail={
            "retired_id": previous.id if previous else None,
            "moved_cases": moved,
            "displacement": measured,
            "acknowledgement": (acknowledgement or "").strip()[:500] if acknowledged else None,
        },
    )
    session.flush()
    return PublishResult(version, previous.id if previous else None, moved, diff, measured)


def diff_against_published(session: Session, version_id: int) -> GridDiff | None:
    """What publishing ``version_id`` would change (None when nothing is published)."""
    version = get_version(session, version_id)
    published = people.published_version_id(session)
    if published is None or published == version.id:
        return None
    return diff_grids(load_cells(session, published), load_cells(session, version.id))


def parse_duty_role(role: str) -> DutyRole:
    try:
        return DutyRole(role)
    except ValueError:
        choices = ", ".join(r.value for r in DutyRole)
        raise InvalidInput(
            _l("Unknown duty %(role)s; use one of: %(roles)s.", role=role, roles=choices),
            field="role",
        ) from None


def assign_duty(
    session: Session,
    actor: User | None,
    *,
    cell_code: str,
    username: str,
    role: str,
    deputy: bool = False,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
) -> Duty:
    """Give a person a duty for a cell of the published grid, as principal (A) or deputy (B)."""
    duty_role = parse_duty_role(role)
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput(_l("The end date is before the start date."), field="ends_on")
    people.cell_path(session, cell_code)  # NotFound for a cell not in the published grid
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise NotFound(_l("No user named %(name)s.", name=username), field="username")
    rank = DutyRank.DEPUTY if deputy else DutyRank.PRINCIPAL
    for other in session.scalars(
        select(Duty).where(
            Duty.user_id == user.id, Duty.cell_code == cell_code, Duty.role == duty_role
        )
    ):
        if _overlaps(other, starts_on, ends_on):
            raise Conflict(
                _l(
                    "%(name)s already holds this duty for %(code)s in that period.",
                    name=username,
                    code=cell_code,
                ),
                code="duty_exists",
                field="username",
            )
    duty = Duty(
        user_id=user.id,
        cell_code=cell_code,
        role=duty_role,
        rank=rank,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by_id=actor.id if actor else None,
    )
    session.add(duty)
    session.flush()
    return duty


def _overlaps(duty: Duty, starts_on: dt.date, ends_on: dt.date | None) -> bool:
    far = dt.date.max
    return duty.starts_on <= (ends_on or far) and starts_on <= (duty.ends_on or far)


def end_duty(
    session: Session, actor: User | None, duty_id: int, *, last_day: dt.date | None, today: dt.date
) -> Duty | None:
    """End a duty after ``last_day`` (default: yesterday, so it ends now).

    A duty that would end before it starts never took effect and is removed (None returned);
    an explicit ``last_day`` before the start is refused.
    """
    duty = session.get(Duty, duty_id)
    if duty is None:
        raise NotFound(_l("No duty %(id)s.", id=duty_id), field="id")
    if last_day is not None and last_day < duty.starts_on:
        raise InvalidInput(_l("The end date is before the start date."), field="last_day")
    last = last_day or today - dt.timedelta(days=1)
    if last < duty.starts_on:
        session.delete(duty)
        session.flush()
        return None
    duty.ends_on = last
    session.flush()
    return duty
