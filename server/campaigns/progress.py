"""A campaign's progress, read-only: per responsible cell, residential area and worker, findings.

A target is *done* when it has at least one answer. Counts are by the target's cell (the cell
the campaign made it responsible for), so an answer counts where its target is. Every query
takes `cells_allowed` (None: every cell; else the cell codes the reader covers) and reads
nothing outside it. The aggregates run in SQL (`GROUP BY` over the campaign's targets and
answers, using `ix_form_answers_campaign_target`); residential areas are summed from cells in
Python with the published grid's cached cell tree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.campaigns.models import Campaign, CampaignTarget
from server.cases import grid_access
from server.cases.models import Case
from server.exceptions import NotFound
from server.forms.models import FormAnswer
from sync.db import among

#: The findings list shows at most this many (newest first); the export has them all.
MAX_FINDINGS = 200
AREA_LEVEL = "residential_area"


@dataclass
class Tally:
    """Targets and answers of one group (a cell, an area, a worker or the whole campaign)."""

    key: str
    name: str
    targets: int = 0
    done: int = 0
    answers: int = 0
    late: int = 0
    findings: int = 0

    @property
    def share(self) -> float | None:
        """Done / targets (None with no targets)."""
        return self.done / self.targets if self.targets else None

    def add(self, other: Tally) -> None:
        for name in ("targets", "done", "answers", "late", "findings"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "targets": self.targets,
            "done": self.done,
            "share": self.share,
            "answers": self.answers,
            "late": self.late,
            "findings": self.findings,
        }


@dataclass(frozen=True)
class Finding:
    """An answer that opened one or more cases."""

    answer_id: uuid.UUID
    target_label: str
    cell_code: str
    cell_name: str
    worker: str
    answered_at: dt.datetime
    late: bool
    #: (case id, number, status) of each case it opened that still exists.
    cases: tuple[tuple[uuid.UUID, str, str], ...]


@dataclass
class Progress:
    total: Tally
    by_cell: list[Tally] = field(default_factory=list)
    by_area: list[Tally] = field(default_factory=list)
    by_worker: list[Tally] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    findings_total: int = 0


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    """The campaign or NotFound."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign")
    return campaign


def has_cases(session: Session, column: Any) -> ColumnElement[bool]:
    """`column` (a JSON list) is not empty: jsonb_array_length on PostgreSQL, SQLite's
    json_array_length elsewhere (both read the stored array without decoding it in Python)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_array_length(column) > 0
    return func.json_array_length(column) > 0


def _in_cells(session: Session, cells_allowed: frozenset[str] | None) -> list[Any]:
    if cells_allowed is None:
        return []
    return [among(session, CampaignTarget.cell_code, sorted(cells_allowed))]


def _count_true(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _answer_cells(session: Session, cells_allowed: frozenset[str] | None) -> list[Any]:
    if cells_allowed is None:
        return []
    return [among(session, FormAnswer.cell_code, sorted(cells_allowed))]


def _answer_groups(
    session: Session, campaign_id: int, cells_allowed: frozenset[str] | None
) -> list[Any]:
    """One pass over the campaign's answers, grouped by (cell, worker): answers, distinct
    targets, late answers, findings. An answer carries its target's cell (the contract of
    `form.answer`), so no join is needed; a target is in one cell, so distinct targets per
    (cell, worker) add up to distinct targets per worker."""
    return session.execute(
        select(
            FormAnswer.cell_code,
            FormAnswer.worker_id,
            func.count(),
            func.count(distinct(FormAnswer.target_id)),
            _count_true(FormAnswer.late),
            _count_true(has_cases(session, FormAnswer.case_ids)),
        )
        .where(FormAnswer.campaign_id == campaign_id, *_answer_cells(session, cells_allowed))
        .group_by(FormAnswer.cell_code, FormAnswer.worker_id)
    ).all()


def cell_tallies(
    session: Session,
    campaign_id: int,
    cells_allowed: frozenset[str] | None,
    groups: list[Any] | None = None,
) -> dict[str, Tally]:
    """Targets, done, answers, late answers and findings per target cell."""
    cells = grid_access.cell_tree(session)
    answered = (
        select(FormAnswer.target_id)
        .where(FormAnswer.campaign_id == campaign_id)
        .distinct()
        .subquery()
    )
    where = [CampaignTarget.campaign_id == campaign_id, *_in_cells(session, cells_allowed)]
    done_rows = session.execute(
        select(CampaignTarget.cell_code, func.count(), func.count(answered.c.target_id))
        .outerjoin(answered, answered.c.target_id == CampaignTarget.id)
        .where(*where)
        .group_by(CampaignTarget.cell_code)
    ).all()
    out = {
        code: Tally(code, grid_access.cell_path(cells, code), targets=n, done=done)
        for code, n, done in done_rows
    }
    if groups is None:
        groups = _answer_groups(session, campaign_id, cells_allowed)
    for code, _worker, answers, _done, late, found in groups:
        tally = out.setdefault(code, Tally(code, grid_access.cell_path(cells, code)))
        tally.answers += answers
        tally.late += int(late or 0)
        tally.findings += int(found or 0)
    return out


def area_of(cells: dict[str, grid_access.CellInfo], code: str) -> str | None:
    """The residential area (居民区) a cell is in (itself if it is one), or None."""
    return grid_access.ancestor_at(cells, code, AREA_LEVEL)


def area_tallies(session: Session, by_cell: Iterable[Tally]) -> list[Tally]:
    """Cells summed into their residential areas; cells outside the grid under "" (no area)."""
    cells = grid_access.cell_tree(session)
    areas: dict[str, Tally] = {}
    for tally in by_cell:
        code = area_of(cells, tally.key) or ""
        name = cells[code].name if code else ""
        areas.setdefault(code, Tally(code, name)).add(tally)
    return sorted(areas.values(), key=lambda t: (t.key == "", t.name, t.key))


def worker_tallies(session: Session, groups: list[Any]) -> list[Tally]:
    """Per worker who answered: targets done (distinct), answers, late answers, findings."""
    names = dict(
        session.execute(
            select(User.id, User.display_name).where(User.id.in_(sorted({g[1] for g in groups})))
        ).all()
    )
    out: dict[int, Tally] = {}
    for _code, worker, answers, done, late, found in groups:
        tally = out.setdefault(worker, Tally(str(worker), names.get(worker, "")))
        tally.done += done
        tally.answers += answers
        tally.late += int(late or 0)
        tally.findings += int(found or 0)
    return sorted(out.values(), key=lambda t: (-t.done, t.name))


def findings(
    session: Session,
    campaign_id: int,
    cells_allowed: frozenset[str] | None,
    *,
    limit: int | None = MAX_FINDINGS,
) -> list[Finding]:
    """Answers that opened cases, newest first, with each case's number and status."""
    cells = grid_access.cell_tree(session)
    targets = _targets_with_findings(session, campaign_id, cells_allowed)
    if not targets:
        return []
    query = (
        select(
            FormAnswer.id,
            FormAnswer.answered_at,
            FormAnswer.late,
            FormAnswer.case_ids,
            CampaignTarget.label,
            CampaignTarget.cell_code,
            User.display_name,
        )
        .join(CampaignTarget, CampaignTarget.id == FormAnswer.target_id)
        .join(User, User.id == FormAnswer.worker_id)
        .where(
            FormAnswer.campaign_id == campaign_id,
            among(session, FormAnswer.target_id, targets),
            has_cases(session, FormAnswer.case_ids),
        )
        .order_by(FormAnswer.answered_at.desc(), FormAnswer.id)
    )
    rows = session.execute(query.limit(limit) if limit else query).all()
    known = case_summaries(session, [c for r in rows for c in r.case_ids])
    return [
        Finding(
            answer_id=r.id,
            target_label=r.label,
            cell_code=r.cell_code,
            cell_name=grid_access.cell_path(cells, r.cell_code),
            worker=r.display_name,
            answered_at=r.answered_at,
            late=r.late,
            cases=tuple(known[cid] for cid in _case_uuids(r.case_ids) if cid in known),
        )
        for r in rows
    ]


def _targets_with_findings(
    session: Session, campaign_id: int, cells_allowed: frozenset[str] | None
) -> list[uuid.UUID]:
    """Targets (in the allowed cells) with an answer that opened a case. Reads only columns
    of the index proposed for the progress page (docs/forms.md), so it scans no table rows;
    the findings themselves are then read by target through ix_form_answers_campaign_target."""
    return list(
        session.scalars(
            select(FormAnswer.target_id)
            .where(
                FormAnswer.campaign_id == campaign_id,
                has_cases(session, FormAnswer.case_ids),
                *_answer_cells(session, cells_allowed),
            )
            .distinct()
        )
    )


def _case_uuids(values: Iterable[Any]) -> list[uuid.UUID]:
    """The case ids of an answer as UUIDs; anything else stored there is skipped."""
    out = []
    for value in values:
        try:
            out.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return out


def case_summaries(
    session: Session, case_ids: Iterable[Any]
) -> dict[uuid.UUID, tuple[uuid.UUID, str, str]]:
    """Case id → (id, number, status value) for the ids that name a case."""
    ids = sorted(set(_case_uuids(case_ids)))
    if not ids:
        return {}
    rows = session.execute(select(Case.id, Case.number, Case.status).where(Case.id.in_(ids)))
    return {r.id: (r.id, r.number, str(r.status)) for r in rows}


def campaign_progress(
    session: Session, campaign: Campaign, cells_allowed: frozenset[str] | None
) -> Progress:
    """Everything the progress page shows, for the cells the reader may see."""
    groups = _answer_groups(session, campaign.id, cells_allowed)
    by_cell = sorted(
        cell_tallies(session, campaign.id, cells_allowed, groups).values(), key=lambda t: t.name
    )
    total = Tally("", "")
    for tally in by_cell:
        total.add(tally)
    return Progress(
        total=total,
        by_cell=by_cell,
        by_area=area_tallies(session, by_cell),
        by_worker=worker_tallies(session, groups),
        findings=findings(session, campaign.id, cells_allowed) if total.findings else [],
        findings_total=total.findings,
    )


def finding_points(
    session: Session, campaign_id: int, cells_allowed: frozenset[str] | None
) -> list[dict[str, Any]]:
    """The located cases the campaign's answers opened: id, number, status, lon, lat."""
    rows = session.execute(
        select(FormAnswer.case_ids).where(
            FormAnswer.campaign_id == campaign_id,
            has_cases(session, FormAnswer.case_ids),
            *_answer_cells(session, cells_allowed),
        )
    ).scalars()
    ids = sorted({c for values in rows for c in _case_uuids(values)})
    if not ids:
        return []
    cases = session.execute(
        select(Case.id, Case.number, Case.status, Case.lon, Case.lat).where(
            Case.id.in_(ids), Case.lon.is_not(None), Case.lat.is_not(None)
        )
    ).all()
    return [
        {"id": str(c.id), "number": c.number, "status": str(c.status), "lon": c.lon, "lat": c.lat}
        for c in cases
    ]
