"""Scope changes come as deletions and upserts, not resets (P10, P11), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select

from server.cases.models import Case
from server.enums import CellLevel, GridStatus
from server.extensions import db
from server.fieldsync.scope import SCOPE_EPOCH, SHANGHAI
from server.grid import operations as grid
from server.grid.models import Cell, Duty, GridVersion
from server.population import operations as population
from server.population.models import Household, Resident
from sync.models import SyncMark, SyncScope
from sync.versions import next_version
from tests.sync.conftest import G1, G2, INSIDE_G1, Phone, _cell, make_case, office_edit

#: Tables every worker's phone holds the same way (rejections are per device).
SHARED = ("cells", "households", "residents", "cases", "visits", "catalogue_items", "conflicts")


def _today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def hand_over(world: Any, cell: str, frm: str, to: str) -> None:
    """End `frm`'s duty on `cell` (as of yesterday) and give the cell to `to` from today."""
    duty_id = db.session.scalar(
        select(Duty.id).where(Duty.user_id == world.users[frm].id, Duty.cell_code == cell)
    )
    grid.end_duty(
        db.session, None, duty_id, last_day=_today() - dt.timedelta(days=1), today=_today()
    )
    grid.assign_duty(
        db.session, None, cell_code=cell, username=to, role="grid_worker", starts_on=_today()
    )
    db.session.commit()


def assert_converged(phone: Phone) -> None:
    """What the phone pulled step by step equals what a new install of the same user pulls."""
    fresh = Phone(phone.client, phone.user)
    fresh.pull()
    for table in SHARED:
        mine = {k: _strip(v) for k, v in phone.table(table).items()}
        theirs = {k: _strip(v) for k, v in fresh.table(table).items()}
        assert mine == theirs, table


def _strip(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "version"}


def _ops(pages: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    assert not any(p.get("reset") for p in pages), pages
    return [(c["table"], c["op"], c["id"]) for p in pages for c in p["changes"]]


def test_a_duty_handed_over_leaves_as_deletions_and_arrives_on_the_new_workers_phone(phone, world):
    by_cell = make_case(db.session, world, cell="G1", assignee="wc")  # reaches wa by G1 only
    own = make_case(db.session, world, cell="G1", assignee="wa")
    a, b = phone("wa"), phone("wb")
    a.pull(), b.pull()
    g1_cell = str(db.session.scalar(select(Cell.id).where(Cell.code == "G1")))
    g1_households = {str(h) for h in world.households["G1"]}
    g1_residents = {
        str(r)
        for r in db.session.scalars(
            select(Resident.id).where(Resident.household_id.in_(world.households["G1"]))
        )
    }
    assert g1_cell in a.table("cells") and g1_households <= set(a.table("households"))

    hand_over(world, "G1", "wa", "wb")
    ops = _ops(a.pull())
    deleted = {(t, i) for t, op, i in ops if op == "delete"}
    assert ("cells", g1_cell) in deleted
    assert {("households", h) for h in g1_households} <= deleted
    assert {("residents", r) for r in g1_residents} <= deleted
    assert ("cases", str(by_cell)) in deleted
    assert not a.table("households") and not a.table("residents") and not a.table("cells")
    assert set(a.table("cases")) == {str(own)}  # still theirs as assignee

    ops = _ops(b.pull())
    assert ("cells", "upsert", g1_cell) in ops
    assert g1_households <= set(b.table("households"))
    assert g1_residents <= set(b.table("residents"))
    assert str(by_cell) in b.table("cases")
    assert_converged(a)
    assert_converged(b)


def test_a_household_moved_to_another_cell_leaves_one_worker_and_reaches_the_other(phone, world):
    a, b = phone("wa"), phone("wb")
    a.pull(), b.pull()
    moved = db.session.get(Household, world.households["G1"][0])
    resident = db.session.scalar(select(Resident).where(Resident.household_id == moved.id))
    population.move_household(db.session, moved, "G2")
    db.session.commit()
    ops = _ops(a.pull())
    assert ("households", "delete", str(moved.id)) in ops
    assert ("residents", "delete", str(resident.id)) in ops
    assert str(moved.id) not in a.table("households")
    b.pull()
    assert b.table("households")[str(moved.id)]["cell_code"] == "G2"
    assert str(resident.id) in b.table("residents")
    assert_converged(a)
    assert_converged(b)


def test_residents_and_households_taken_off_the_register_come_as_deletions(phone, world):
    a = phone("wa")
    a.pull()
    gone_household = db.session.get(Household, world.households["G1"][1])
    moving = db.session.scalar(
        select(Resident).where(Resident.household_id == world.households["G1"][0])
    )
    population.remove_household(db.session, gone_household)
    population.move_resident(
        db.session, moving, db.session.get(Household, world.households["G2"][0])
    )
    db.session.commit()
    ops = _ops(a.pull())
    assert ("households", "delete", str(gone_household.id)) in ops
    assert ("residents", "delete", str(moving.id)) in ops
    assert len(a.table("households")) == 2 and len(a.table("residents")) == 1
    assert_converged(a)


def _republish_without_g1() -> None:
    draft = GridVersion(name="v2", status=GridStatus.DRAFT)
    db.session.add(draft)
    block = G1.union(G2)
    for code, level, parent, geom in [
        ("S1", CellLevel.STREET, None, block.buffer(0.001)),
        ("R1", CellLevel.RESIDENTIAL_AREA, "S1", block.buffer(0.0005)),
        ("B1", CellLevel.BLOCK, "R1", block),
        ("G2", CellLevel.BUILDING_GROUP, "B1", block),  # G2 takes over G1's ground
    ]:
        db.session.add(_cell(draft, code, level, parent, geom))
    db.session.flush()
    grid.publish_grid(db.session, None, draft.id, near_m=50, today=_today())
    db.session.commit()


def test_a_republished_grid_that_drops_a_cell_sends_deletions_and_the_new_cells(phone, world):
    grid.assign_duty(
        db.session, None, cell_code="B1", username="office", role="grid_worker", starts_on=_today()
    )
    db.session.commit()
    moving = make_case(db.session, world, cell="G1", assignee="wa")
    db.session.get(Case, moving).lon, db.session.get(Case, moving).lat = INSIDE_G1
    db.session.commit()
    block, a, b = phone("office"), phone("wa"), phone("wb")
    block.pull(), a.pull(), b.pull()
    assert str(moving) in a.table("cases")
    assert len(block.table("cells")) == 3 and len(block.table("households")) == 6
    _republish_without_g1()
    ops = _ops(block.pull())
    assert {t for t, op, _ in ops if op == "delete"} >= {"cells", "households", "residents"}
    new_grid = db.session.scalar(
        select(GridVersion.id).where(GridVersion.status == GridStatus.PUBLISHED)
    )
    cells = block.table("cells")
    assert {c["code"] for c in cells.values()} == {"B1", "G2"}
    assert {int(i) for i in cells} == set(
        db.session.scalars(
            select(Cell.id).where(Cell.grid_version_id == new_grid, Cell.code.in_(["B1", "G2"]))
        )
    )
    assert {h["cell_code"] for h in block.table("households").values()} == {"G2"}
    _ops(a.pull())  # wa's duty names G1, which the new grid lacks: the old cell row goes
    assert not a.table("cells")
    # The case on G1's ground is re-placed in G2 and reassigned: it leaves wa, reaches wb.
    assert db.session.get(Case, moving).cell_code == "G2"
    assert str(moving) not in a.table("cases")
    b.pull()
    assert str(moving) in b.table("cases")
    assert_converged(block)
    assert_converged(a)
    assert_converged(b)


def test_pages_across_a_scope_change_never_skip_or_repeat(phone, world):
    for i in range(6):
        make_case(db.session, world, cell="G2", assignee="wb", title=f"g2 {i}")
    g1_cases = [
        make_case(db.session, world, cell="G1", assignee="wc", title=f"g1 {i}") for i in range(4)
    ]
    a = phone("wa")
    a.pull()
    # wa gives G1 up and takes G2: deletions and arrivals, then changes between pages.
    hand_over(world, "G1", "wa", "wb")
    grid.assign_duty(
        db.session, None, cell_code="G2", username="wa", role="grid_worker", starts_on=_today()
    )
    db.session.commit()
    g2_cases = db.session.scalars(select(Case.id).where(Case.cell_code == "G2")).all()
    seen: set[tuple[str, str, str, int]] = set()
    pages = 0
    while True:
        body = a.pull_page(limit=2)
        assert not body.get("reset")
        pages += 1
        for change in body["changes"]:
            key = (change["table"], change["op"], change["id"], change["version"])
            assert key not in seen
            seen.add(key)
        if pages in (2, 4, 6, 8):
            office_edit(db.session, world, g2_cases[pages // 2], title=f"edited {pages}")
        if pages == 5:
            population.move_household(
                db.session, db.session.get(Household, world.households["G1"][2]), "G2"
            )
            db.session.commit()
        if pages == 7:
            office_edit(db.session, world, g1_cases[0], title="not wa's any more")
        if not body["has_more"]:
            break
    assert pages > 8
    db.session.expire_all()
    assert set(a.table("cases")) == {str(i) for i in g2_cases}
    for case_id in g2_cases:
        assert a.table("cases")[str(case_id)]["title"] == db.session.get(Case, case_id).title
    assert_converged(a)


def test_a_second_scope_change_before_the_first_is_sent_gets_a_reset(phone, world):
    a = phone("wa")
    a.pull()
    hand_over(world, "G1", "wa", "wb")
    assert not a.pull_page(limit=1).get("reset")
    grid.assign_duty(
        db.session, None, cell_code="G2", username="wa", role="grid_worker", starts_on=_today()
    )
    db.session.commit()
    assert a.pull_page(limit=1)["reset"] == "scope_changed"
    a.pull()
    assert_converged(a)


def test_a_cursor_of_a_scope_the_server_no_longer_knows_gets_a_reset(phone, world):
    a = phone("wa")
    a.pull()
    db.session.execute(delete(SyncScope))
    db.session.commit()
    hand_over(world, "G1", "wa", "wb")
    assert a.pull_page()["reset"] == "scope_changed"
    a.pull()
    assert_converged(a)


def test_a_bumped_scope_epoch_still_makes_every_device_rebuild(phone, world):
    a = phone("wa")
    a.pull()
    db.session.add(SyncMark(name=SCOPE_EPOCH, value=1))
    db.session.commit()
    assert a.pull_page()["reset"] == "scope_changed"
    a.pull()
    assert_converged(a)


# --- scope changes with no version bump between them ---------------------------------------


def give(world: Any, cell: str, to: str) -> None:
    """A duty on `cell` for `to` from today (bumps no version)."""
    grid.assign_duty(
        db.session, None, cell_code=cell, username=to, role="grid_worker", starts_on=_today()
    )
    db.session.commit()


def take(world: Any, cell: str, frm: str) -> None:
    """End `frm`'s current duty on `cell` now (bumps no version)."""
    duty_id = db.session.scalar(
        select(Duty.id).where(
            Duty.user_id == world.users[frm].id, Duty.cell_code == cell, Duty.ends_on.is_(None)
        )
    )
    grid.end_duty(db.session, None, duty_id, last_day=None, today=_today())
    db.session.commit()


def _pull_once_each(phone: Phone, limit: int) -> None:
    """Pull to the end: no reset, and no (row, op, version) twice in this one transition."""
    seen: set[tuple[str, str, str, int]] = set()
    for body in phone.pull(limit=limit):
        assert not body.get("reset"), body
        for change in body["changes"]:
            key = (change["table"], change["op"], change["id"], change["version"])
            assert key not in seen, key
            seen.add(key)


def _assert_holds(phone: Phone, world: Any, cells: set[str], cases: dict[str, str]) -> None:
    """The phone holds exactly the households, residents, cell rows and cases of `cells`."""
    households = {str(h) for code in sorted(cells) for h in world.households[code]}
    residents = {
        str(r)
        for r in db.session.scalars(
            select(Resident.id).join(Household).where(Household.cell_code.in_(cells))
        )
    }
    assert set(phone.table("households")) == households
    assert set(phone.table("residents")) == residents
    assert {c["code"] for c in phone.table("cells").values()} == cells
    assert set(phone.table("cases")) == {i for i, code in cases.items() if code in cells}


SEQUENCES = {
    "grow_then_shrink": [("give", "G2"), ("take", "G2")],
    "shrink_then_grow": [("take", "G1"), ("give", "G1")],
    "three_changes": [("give", "G2"), ("take", "G1"), ("give", "G1")],
    "grow_shrink_grow": [("give", "G2"), ("take", "G2"), ("give", "G2")],
}


@pytest.mark.parametrize("limit", [1, 2, 500])
@pytest.mark.parametrize("steps", list(SEQUENCES.values()), ids=list(SEQUENCES))
def test_scope_changes_with_no_version_bump_between_them_are_each_sent(phone, world, steps, limit):
    # Cases that reach wa by their cell alone (assigned to others).
    cases = {
        str(make_case(db.session, world, cell=code, assignee=who)): code
        for code, who in (("G1", "wc"), ("G2", "wb"))
    }
    a = phone("wa")
    _pull_once_each(a, limit)
    cells = {"G1"}
    _assert_holds(a, world, cells, cases)
    for verb, cell in steps:
        if verb == "give":
            give(world, cell, "wa")
            cells.add(cell)
        else:
            take(world, cell, "wa")
            cells.discard(cell)
        _pull_once_each(a, limit)
        _assert_holds(a, world, cells, cases)
        assert_converged(a)


@pytest.mark.parametrize("limit", [1, 2])
def test_a_scope_change_while_a_versions_exits_are_half_sent_still_deletes_the_rest(
    phone, world, limit
):
    give(world, "G2", "wa")
    a = phone("wa")
    a.pull()
    # Two G2 households leave the register at one version: 2 household + 2 resident exits.
    version = next_version(db.session)
    for household_id in world.households["G2"][:2]:
        population.remove_household(
            db.session, db.session.get(Household, household_id), version=version
        )
    db.session.commit()
    a.pull_page(limit=limit)  # the cursor stops inside that version's exits
    take(world, "G2", "wa")
    _pull_once_each(a, limit)
    _assert_holds(a, world, {"G1"}, {})
    assert_converged(a)


def test_the_cell_tree_is_read_once_per_published_version(phone, world):
    """A worker's scope reads the published grid's cell tree once per app and version (the
    back office's cached cells, server/cases/grid_access.py); a newly published version's tree
    is read afresh."""
    from sqlalchemy import event

    from server.accounts.models import User
    from server.fieldsync.scope import scope_for

    grid.assign_duty(
        db.session, None, cell_code="B1", username="office", role="grid_worker", starts_on=_today()
    )
    db.session.commit()
    office = db.session.scalar(select(User).where(User.username == "office"))
    tree_reads: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "parent_code" in statement and "grid_version_id" in statement:
            tree_reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        first = scope_for(db.session, office)
        before = len(tree_reads)
        again = scope_for(db.session, office)
        assert len(tree_reads) == before <= 1
        assert again.cell_codes == first.cell_codes >= {"B1", "G1", "G2"}
        _republish_without_g1()
        tree_reads.clear()
        after = scope_for(db.session, office)
        assert len(tree_reads) == 1
        assert after.cell_codes == {"B1", "G2"} and after.fingerprint != first.fingerprint
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
