"""A scope change in the pull stream: what left the scope as deletions, what came in as upserts.

A cursor names the fingerprint of the scope it was issued for (server/fieldsync/scope.py);
`sync_scopes` keeps each fingerprint's cell set. When the worker's scope is another one now
(a duty ended or began, a cell went to someone else, a republished grid dropped or renamed a
cell), the pull compares the two cell sets:

* lost cells (in the old set, not the new one): their cell rows, households, residents and
  the open cases only those cells brought come as deletions; so do households, residents and
  cases that left a lost cell *after* the cursor (their scope exits name that cell, which the
  normal exit sources no longer look at), including the exits of the cursor's own version
  that it has not passed yet (a page may end inside them);
* gained cells: their cell rows, households, residents and open cases whose version the
  cursor has already passed come as upserts (later versions arrive in the normal stream);
* a republished grid: every old cell row goes, every new one comes (cell ids are per grid).

Every transition key is (the cursor's version, a rank above END_OF_VERSION, id), so the
transition sits right after the cursor; ids are ordered in Python, the same on both backends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from server.campaigns.models import PUBLISHED, Campaign, CampaignCell, CampaignTarget
from server.cases.models import Case
from server.enums import OPEN_STATUSES
from server.fieldsync.campaign_sources import (
    RANK_CAMPAIGNS,
    RANK_TARGET_EXITS,
    RANK_TARGETS,
    campaign_form_keys,
)
from server.fieldsync.scope import WorkerScope
from server.grid.models import Cell
from server.population.models import ACTIVE, Household, Resident
from sync.models import ScopeExit, SyncScope
from sync.pull import END_OF_VERSION, Change, Key, Source

Keys = list[tuple[int, Any]]
#: The loaders of the normal stream, by table: they load upserts of given keys.
Loaders = dict[str, Callable[[Keys], list[Change]]]
#: (cursor key, rank, version column, id column) → "this row is not after the cursor".
NotAfter = Callable[[Key, int, Any, Any], ColumnElement[bool]]

CELLS_GONE, HOUSEHOLDS_GONE, RESIDENTS_GONE, CASES_GONE = (END_OF_VERSION + n for n in (1, 2, 3, 4))
CELLS_NEW, HOUSEHOLDS_NEW, RESIDENTS_NEW, CASES_NEW = (END_OF_VERSION + n for n in (5, 6, 7, 8))
#: Campaigns and their targets (server/fieldsync/campaign_sources.py).
CAMPAIGNS_GONE, TARGETS_GONE = END_OF_VERSION + 9, END_OF_VERSION + 10
CAMPAIGNS_NEW, TARGETS_NEW, FORM_VERSIONS_NEW = (END_OF_VERSION + n for n in (11, 12, 13))
#: Ranks of the normal stream's upsert sources (server/fieldsync/pulling.py).
RANK_OF = {
    "cells": 1,
    "households": 3,
    "residents": 4,
    "cases": 6,
    "campaigns": RANK_CAMPAIGNS,
    "campaign_targets": RANK_TARGETS,
}
#: Ranks of the normal stream's scope-exit sources; their ids are the rows' UUID hex.
EXIT_RANK_OF = {
    "households": -2,
    "residents": -1,
    "cases": 5,
    "campaign_targets": RANK_TARGET_EXITS,
}


def transition_sources(
    session: Session,
    scope: WorkerScope,
    from_scope: str,
    anchor: Key,
    loaders: Loaders,
    not_after: NotAfter,
) -> Sequence[Source] | None:
    """The sources of the change from scope `from_scope` to `scope`; None → reset.

    None when the old scope is unknown, or the scope epoch moved on (the server asked every
    device to rebuild).
    """
    old = session.get(SyncScope, from_scope)
    if old is None or old.epoch != scope.epoch:
        return None
    old_codes, new_codes = set(old.cell_codes), set(scope.cell_codes)
    lost, gained = sorted(old_codes - new_codes), sorted(new_codes - old_codes)
    regrid = old.grid_version_id != scope.grid_version_id
    v0, uid = anchor.version, scope.user_id

    def ids(
        rank: int, native: Callable[[str], Any], found: Callable[[], Iterable[Any]]
    ) -> Callable[[Key | None, int, int], Keys]:
        """A source's keys: its ids in Python order, after the cursor, at most `limit`."""

        def keys(after: Key | None, top: int, limit: int) -> Keys:
            if after is not None and (after.version, after.rank) > (v0, rank):
                return []
            start = None
            if after is not None and (after.version, after.rank) == (v0, rank):
                start = native(after.id)
            chosen = sorted(i for i in set(found()) if start is None or i > start)
            return [(v0, i) for i in chosen[:limit]]

        return keys

    def exits(table: str, native: Callable[[str], Any]) -> list[Any]:
        """Rows whose exit from a lost cell comes after the cursor in the normal stream.

        Compared by the whole key, not by version alone: a cursor may stop inside its
        version's exits (a small page), and the rest of them still have to go.
        """
        if not lost:
            return []
        rank = EXIT_RANK_OF[table]
        return [
            native(row_id)
            for version, row_id in session.execute(
                select(ScopeExit.version, ScopeExit.row_id).where(
                    ScopeExit.table_name == table,
                    ScopeExit.cell_code.in_(lost),
                    ScopeExit.version >= v0,
                )
            )
            if (version, rank, row_id) > (v0, anchor.rank, anchor.id)
        ]

    def gone(table: str) -> Callable[[Keys], list[Change]]:
        return lambda page: [Change(table, str(i), v, "delete", None, i) for v, i in page]

    def cells_gone() -> list[int]:
        codes = sorted(old_codes) if regrid else lost
        if old.grid_version_id is None or not codes:
            return []
        return list(
            session.scalars(
                select(Cell.id).where(
                    Cell.grid_version_id == old.grid_version_id, Cell.code.in_(codes)
                )
            )
        )

    def households_gone() -> list[uuid.UUID]:
        found = exits("households", uuid.UUID)
        if lost:
            found += session.scalars(select(Household.id).where(Household.cell_code.in_(lost)))
        return found

    def residents_gone() -> list[uuid.UUID]:
        found = exits("residents", uuid.UUID)
        if lost:
            found += session.scalars(
                select(Resident.id)
                .join(Household, Household.id == Resident.household_id)
                .where(Household.cell_code.in_(lost))
            )
        return found

    def cases_gone() -> list[uuid.UUID]:
        found = exits("cases", uuid.UUID)
        if lost:
            found += session.scalars(
                select(Case.id).where(
                    Case.status.in_(OPEN_STATUSES), Case.cell_code.in_(lost), _not_theirs(uid)
                )
            )
        return found

    def cells_new() -> list[int]:
        codes = sorted(new_codes) if regrid else gained
        if scope.grid_version_id is None or not codes:
            return []
        return list(
            session.scalars(
                select(Cell.id).where(
                    Cell.grid_version_id == scope.grid_version_id,
                    Cell.code.in_(codes),
                    not_after(anchor, RANK_OF["cells"], Cell.version, Cell.id),
                )
            )
        )

    def households_new() -> list[uuid.UUID]:
        if not gained:
            return []
        return list(
            session.scalars(
                select(Household.id).where(
                    Household.cell_code.in_(gained),
                    not_after(anchor, RANK_OF["households"], Household.version, Household.id),
                )
            )
        )

    def residents_new() -> list[uuid.UUID]:
        if not gained:
            return []
        return list(
            session.scalars(
                select(Resident.id)
                .join(Household, Household.id == Resident.household_id)
                .where(
                    Household.cell_code.in_(gained),
                    Resident.status == ACTIVE,
                    not_after(anchor, RANK_OF["residents"], Resident.version, Resident.id),
                )
            )
        )

    def cases_new() -> list[uuid.UUID]:
        if not gained:
            return []
        return list(
            session.scalars(
                select(Case.id).where(
                    Case.status.in_(OPEN_STATUSES),
                    Case.cell_code.in_(gained),
                    _not_theirs(uid),
                    not_after(anchor, RANK_OF["cases"], Case.version, Case.id),
                )
            )
        )

    def responsible(codes: Iterable[str]) -> Any:
        return select(CampaignCell.campaign_id).where(CampaignCell.cell_code.in_(list(codes)))

    def campaigns_gone() -> list[int]:
        if not lost:
            return []
        return list(
            session.scalars(
                select(Campaign.id).where(
                    Campaign.status == PUBLISHED,
                    Campaign.id.in_(responsible(lost)),
                    Campaign.id.not_in(responsible(new_codes)),
                )
            )
        )

    def targets_gone() -> list[uuid.UUID]:
        found = exits("campaign_targets", uuid.UUID)
        if lost:
            found += session.scalars(
                select(CampaignTarget.id).where(CampaignTarget.cell_code.in_(lost))
            )
        return found

    def campaigns_new() -> list[int]:
        if not gained:
            return []
        return list(
            session.scalars(
                select(Campaign.id).where(
                    Campaign.status == PUBLISHED,
                    Campaign.id.in_(responsible(gained)),
                    not_after(anchor, RANK_CAMPAIGNS, Campaign.version, Campaign.id),
                )
            )
        )

    def targets_new() -> list[uuid.UUID]:
        if not gained:
            return []
        published = select(Campaign.id).where(Campaign.status == PUBLISHED)
        return list(
            session.scalars(
                select(CampaignTarget.id).where(
                    CampaignTarget.cell_code.in_(gained),
                    CampaignTarget.campaign_id.in_(published),
                    not_after(anchor, RANK_TARGETS, CampaignTarget.version, CampaignTarget.id),
                )
            )
        )

    def form_versions_new() -> list[int]:
        # Those of campaigns the gained cells bring, which the cursor has passed (sent again
        # when the phone holds them already: an upsert of an immutable row).
        return [i for i, v in campaign_form_keys(session, gained).items() if v <= v0]

    return [
        Source(
            "campaigns_gone",
            CAMPAIGNS_GONE,
            ids(CAMPAIGNS_GONE, int, campaigns_gone),
            gone("campaigns"),
        ),
        Source(
            "targets_gone",
            TARGETS_GONE,
            ids(TARGETS_GONE, uuid.UUID, targets_gone),
            gone("campaign_targets"),
        ),
        Source(
            "campaigns_new",
            CAMPAIGNS_NEW,
            ids(CAMPAIGNS_NEW, int, campaigns_new),
            loaders["campaigns"],
        ),
        Source(
            "targets_new",
            TARGETS_NEW,
            ids(TARGETS_NEW, uuid.UUID, targets_new),
            loaders["campaign_targets"],
        ),
        Source(
            "form_versions_new",
            FORM_VERSIONS_NEW,
            ids(FORM_VERSIONS_NEW, int, form_versions_new),
            loaders["form_versions"],
        ),
        Source("cells_gone", CELLS_GONE, ids(CELLS_GONE, int, cells_gone), gone("cells")),
        Source(
            "households_gone",
            HOUSEHOLDS_GONE,
            ids(HOUSEHOLDS_GONE, uuid.UUID, households_gone),
            gone("households"),
        ),
        Source(
            "residents_gone",
            RESIDENTS_GONE,
            ids(RESIDENTS_GONE, uuid.UUID, residents_gone),
            gone("residents"),
        ),
        Source("cases_gone", CASES_GONE, ids(CASES_GONE, uuid.UUID, cases_gone), gone("cases")),
        Source("cells_new", CELLS_NEW, ids(CELLS_NEW, int, cells_new), loaders["cells"]),
        Source(
            "households_new",
            HOUSEHOLDS_NEW,
            ids(HOUSEHOLDS_NEW, uuid.UUID, households_new),
            loaders["households"],
        ),
        Source(
            "residents_new",
            RESIDENTS_NEW,
            ids(RESIDENTS_NEW, uuid.UUID, residents_new),
            loaders["residents"],
        ),
        Source("cases_new", CASES_NEW, ids(CASES_NEW, uuid.UUID, cases_new), loaders["cases"]),
    ]


def _not_theirs(user_id: int) -> ColumnElement[bool]:
    """The case reaches the worker by its cell alone (not as assignee or reporter)."""
    return and_(
        func.coalesce(Case.assignee_id, 0) != user_id,
        func.coalesce(Case.reporter_id, 0) != user_id,
    )
