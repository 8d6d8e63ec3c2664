"""Each role's home page is its to-do list: right counts, links to the list where the work is."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest

from server.accounts.models import Device, User
from server.cases.models import Case
from server.enums import CaseStatus, Channel, GridStatus, Placement
from server.extensions import db
from server.grid.models import GridVersion
from server.imports.models import ImportReview, ImportRun
from server.layers.models import BaseLayer
from server.population.models import CareTag, Household, Resident, ResidentTag, Visit
from sync.models import APPLIED, REJECTED, CaseConflict, MutationRecord
from tests.server.backoffice_world import T0
from tests.server.conftest import PASSWORD, login

_numbers = iter(range(1, 1000))


def case(world: Any, status: CaseStatus, cell: str | None, **extra: Any) -> Case:
    found = Case(
        id=uuid.uuid4(),
        number=f"XH-T-{next(_numbers)}",
        channel=Channel.HOTLINE,
        status=status,
        title="路灯不亮",
        description="—",
        cell_code=cell,
        placement=Placement.IN if cell else Placement.UNPLACED,
        reported_at=T0 - dt.timedelta(days=1),
        **extra,
    )
    db.session.add(found)
    return found


def seed_cases(world: Any) -> dict[str, Case]:
    """Two reports to verify, one due soon, one overdue, one paused past its deadline, one
    unplaced, a handled case in each building group, one closed."""
    w3 = world.users["w3"].id
    due = CaseStatus.DISPATCHED
    made = {
        "report1": case(world, CaseStatus.REPORTED, "G1"),
        "report2": case(world, CaseStatus.REPORTED, "G2"),
        "soon": case(world, due, "G2", due_at=T0 + dt.timedelta(hours=3), assignee_id=w3),
        "later": case(world, due, "G2", due_at=T0 + dt.timedelta(days=3), assignee_id=w3),
        "overdue": case(world, due, "G1", due_at=T0 - dt.timedelta(hours=2)),
        "paused": case(world, due, "G1", due_at=T0 - dt.timedelta(hours=5), paused_since=T0),
        "unplaced": case(world, CaseStatus.OPENED, None),
        "handled1": case(world, CaseStatus.HANDLED, "G1"),
        "handled2": case(world, CaseStatus.HANDLED, "G2"),
        "closed": case(world, CaseStatus.CLOSED, "G2", due_at=T0 - dt.timedelta(days=2)),
    }
    db.session.flush()
    for n, resolved in ((1, None), (2, T0)):
        db.session.add(
            CaseConflict(
                case_id=made["overdue"].id,
                field="address",
                earlier_value="a",
                later_value="b",
                version=n,
                resolved_at=resolved,
            )
        )
    db.session.commit()
    return made


def seed_visits(world: Any) -> None:
    """Key households: G1 overdue (never visited), G2 overdue (20 days), G2 due in 2 days."""
    db.session.add(CareTag(code="alone", name_zh="独居", name_en="alone", visit_every_days=7))
    for name, cell, days_ago in (("H1", "G1", None), ("H2", "G2", 20), ("H3", "G2", 5)):
        home = Household(
            id=uuid.uuid4(), address=f"新华路{name}", road="新华路", building="1", cell_code=cell
        )
        person = Resident(id=uuid.uuid4(), household=home, name=name, gender="F")
        db.session.add_all([home, person])
        db.session.flush()
        db.session.add(ResidentTag(resident_id=person.id, tag_code="alone"))
        if days_ago is not None:
            db.session.add(
                Visit(
                    household_id=home.id,
                    worker_id=world.users["w3"].id,
                    visited_at=T0 - dt.timedelta(days=days_ago),
                    situation="好",
                )
            )
    db.session.commit()


def seed_rejections(world: Any) -> None:
    """w3: two rejected lately, one rejected long ago, one applied; w1: one rejected."""
    device = uuid.uuid4()
    rows = (
        ("w3", REJECTED, "NOT_IN_SCOPE", T0 - dt.timedelta(hours=1)),
        ("w3", REJECTED, "CASE_CLOSED", T0 - dt.timedelta(days=2)),
        ("w3", REJECTED, "NOT_IN_SCOPE", T0 - dt.timedelta(days=40)),
        ("w3", APPLIED, None, T0),
        ("w1", REJECTED, "NOT_IN_SCOPE", T0),
    )
    for seq, (who, status, code, at) in enumerate(rows, 1):
        db.session.add(
            MutationRecord(
                device_id=device,
                user_id=world.users[who].id,
                seq=seq,
                op_id=uuid.uuid4(),
                name="case.set_fields",
                status=status,
                reason_code=code,
                server_version=seq,
                received_at=at,
            )
        )
    db.session.commit()


def tasks(client: Any) -> dict[str, tuple[int, str | None, str]]:
    """key → (count, link of the list, the section's HTML) from the home page."""
    html = client.get("/").get_data(as_text=True)
    found = {}
    for key, body in re.findall(r'data-task="([a-z_]+)">(.*?)</section>', html, re.S):
        count = int(re.search(r'data-count="(\d+)"', body).group(1))
        link = re.search(r'<h2[^>]*><a href="([^"]+)"', body)
        found[key] = (count, link.group(1).replace("&amp;", "&") if link else None, body)
    return found


def listed(client: Any, link: str) -> int:
    """How many the linked list says it holds."""
    html = client.get(link).get_data(as_text=True)
    if link.startswith("/cases/"):
        return int(re.search(r"共 (\d+) 件", html).group(1))
    if link.startswith("/grids/gaps"):
        return int(re.search(r"(\d+) 个网格", html).group(1))
    raise AssertionError(link)


def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    login(client, username)
    return client


def test_the_dispatchers_home_counts_what_waits_and_each_count_is_its_lists(app, world):
    made = seed_cases(world)
    client = signed_in(app, "d1")
    found = tasks(client)
    counts = {k: v[0] for k, v in found.items()}
    assert counts == {"review": 2, "soon": 1, "overdue": 1, "unplaced": 1, "conflicts": 1}
    for key in ("review", "soon", "overdue", "unplaced"):
        assert listed(client, found[key][1]) == counts[key], key
    assert made["soon"].number in found["soon"][2]
    assert made["paused"].number not in found["overdue"][2]  # a paused case is never overdue
    assert found["conflicts"][1] == "/conflicts/"
    assert made["overdue"].number in found["conflicts"][2]
    # The cell is named by its path (many cells are 1号楼组), the code on hover only.
    assert (
        '<span class="cell-path" title="G1">番禺居民区 › 第一块区 › 1号楼组</span>'
        in (found["overdue"][2])
    )


def test_a_workers_home_holds_only_their_cells_and_their_refused_records(app, world):
    made = seed_cases(world)
    seed_visits(world)
    seed_rejections(world)
    client = signed_in(app, "w3")  # principal of G2 only
    found = tasks(client)
    counts = {k: v[0] for k, v in found.items()}
    assert counts == {
        "visits_overdue": 1,  # H2 (G2); H1 is in G1
        "visits_soon": 1,  # H3, visited 5 days ago, every 7 days
        "mine": 2,
        "check": 1,
        "rejected": 2,
    }
    assert listed(client, found["mine"][1]) == 2
    assert listed(client, found["check"][1]) == 1
    assert made["handled2"].number in found["check"][2]
    assert made["handled1"].number not in client.get("/").get_data(as_text=True)
    assert "新华路H2" in found["visits_overdue"][2] and "新华路H1" not in found["visits_overdue"][2]
    assert "不在您负责的范围内。" in found["rejected"][2] and "案件修改" in found["rejected"][2]
    # w1 (G1) sees G1's work, not G2's.
    other = {k: v[0] for k, v in tasks(signed_in(app, "w1")).items()}
    assert (other["visits_overdue"], other["check"], other["rejected"]) == (1, 1, 1)


def test_the_managers_home_shows_the_periods_figures_and_what_slips(app, world):
    seed_cases(world)
    seed_visits(world)
    client = signed_in(app, "mgr")  # on duty for the whole street
    found = tasks(client)
    counts = {k: v[0] for k, v in found.items()}
    assert counts == {
        "overdue": 1,
        "soon": 1,
        "visits_overdue": 2,
        "no_worker": 0,
        "conflicts": 1,
    }
    html = client.get("/").get_data(as_text=True)
    assert "主要指标(2026-10-28 至 2026-11-26)" in html and "按期结案率" in html


def test_the_gis_home_lists_drafts_and_coverage_gaps(app, world, make_user):
    make_user("gis", username="sun.li")
    db.session.add_all(
        [
            GridVersion(name="第二版草稿", status=GridStatus.DRAFT),
            GridVersion(name="旧版", status=GridStatus.RETIRED),
            BaseLayer(kind="roads", name="道路草稿", status=GridStatus.DRAFT),
            BaseLayer(kind="poi", name="兴趣点", status=GridStatus.PUBLISHED),
        ]
    )
    run = ImportRun(kind="register", file_sha256="0" * 64)
    db.session.add(run)
    db.session.flush()
    for reason, resolved in (("address_unmatched", None), ("address_ambiguous", T0)):
        db.session.add(
            ImportReview(
                run_id=run.id,
                reason=reason,
                subject_type="household",
                subject_id=str(uuid.uuid4()),
                resolved_at=resolved,
            )
        )
    db.session.commit()
    client = signed_in(app, "sun.li")
    found = tasks(client)
    counts = {k: v[0] for k, v in found.items()}
    assert counts == {
        "grid_drafts": 1,
        "layer_drafts": 1,
        "no_worker": 0,
        "unplaced_households": 1,
    }
    assert "第二版草稿" in found["grid_drafts"][2] and "道路草稿" in found["layer_drafts"][2]
    # End G2's only grid worker's duty: G2 has nobody of its own (the block covers it).
    from server.grid.models import Duty

    duty = db.session.query(Duty).filter_by(cell_code="G2").one()
    duty.ends_on = dt.date(2026, 1, 31)
    db.session.commit()
    found = tasks(client)
    assert found["no_worker"][0] == 1 == listed(client, found["no_worker"][1])
    assert "番禺居民区 › 第一块区 › 2号楼组" in found["no_worker"][2]


def test_the_admins_home_lists_accounts_phones_and_imports(app, world):
    users = world.users
    users["w3"].last_login_at = T0  # everyone else never signed in
    old = T0 - dt.timedelta(days=45)
    db.session.add_all(
        [
            Device(id=uuid.uuid4(), user_id=users["w1"].id, name="红米", last_seen_at=old),
            Device(id=uuid.uuid4(), user_id=users["w3"].id, name="华为", last_seen_at=T0),
            Device(id=uuid.uuid4(), user_id=users["w2"].id, name="旧机", revoked_at=T0),
            ImportRun(kind="staff", state="refused", filename="staff.xlsx", file_sha256="1" * 64),
            ImportRun(kind="units", state="checked", filename="units.csv", file_sha256="2" * 64),
            ImportRun(kind="units", state="applied", filename="u2.csv", file_sha256="3" * 64),
        ]
    )
    db.session.commit()
    client = signed_in(app, "admin")
    found = tasks(client)
    counts = {k: v[0] for k, v in found.items()}
    active = db.session.query(User).filter_by(is_active=True).count()
    assert counts == {
        "never_signed_in": active - 2,  # w3, and the admin who just signed in
        "workers_without_cell": 0,
        "silent_phones": 1,
        "imports_refused": 1,
        "imports_waiting": 1,
    }
    assert "红米" in found["silent_phones"][2] and "staff.xlsx" in found["imports_refused"][2]


@pytest.mark.parametrize("role", ["dispatcher", "worker", "manager", "gis", "admin"])
def test_every_roles_home_is_a_to_do_list_in_chinese_with_name_and_role_once(
    app, world, make_user, role
):
    user = make_user(role, username=f"x.{role}", display_name="测试者")
    assert user.password_hash and PASSWORD
    html = signed_in(app, f"x.{role}").get("/").get_data(as_text=True)
    assert "我的待办" in html and 'data-task="' in html
    assert html.count("测试者") == 1  # the header, and no welcome message repeating it
    assert "None" not in html
