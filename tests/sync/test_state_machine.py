"""Random histories of phones and the office, with lost, doubled and reordered deliveries.

After the faults stop and every phone syncs, the oracle of the design notes (§4 items 1–3,
5, 6) must hold: outboxes empty, every op applied exactly once, phones equal to the server
within their scope, and a conflict record exactly where two people changed the same field.
Scopes change too (extra duties given and taken, which bump no version; households moved
between cells), and pulls come in random page sizes: after every pull run to its end, the
phone's cells, households, residents and cases are exactly its current scope's.
SQLite in CI; more examples with WANGGE_HYPOTHESIS_EXAMPLES=500.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from server import create_app
from server.accounts import operations as accounts
from server.accounts.models import User
from server.cases import operations as case_ops
from server.cases.models import Case, CaseEvent
from server.enums import OPEN_STATUSES, CaseStatus
from server.extensions import db
from server.fieldsync.scope import SHANGHAI, scope_for
from server.grid import operations as grid_ops
from server.grid.models import Cell, Duty
from server.population import operations as population
from server.population.models import Household, Resident, Visit
from sync.db import utcnow
from sync.models import CaseConflict, MutationRecord
from sync.versions import next_version
from tests.conftest import IsolatedClient
from tests.sync.conftest import assert_versions_rise_with_seqs, build_world, make_case

EXAMPLES = int(os.environ.get("WANGGE_HYPOTHESIS_EXAMPLES", "25"))
DEVICES = ("wa", "wc", "wb")
FIELDS = ("title", "address", "description")
#: Each device keeps the duty of its home cell (its visits stay in scope); extra duties come
#: and go on the other cells (B1 brings G1 and G2 with it).
HOME = {"wa": "G1", "wc": "G1", "wb": "G2"}
EXTRA_CELLS = ("G1", "G2", "B1")
#: Households that only move between cells (visits use the first two of each cell).
MOVABLE = 2


def _make_template(sqlite_template: Path, where: Path) -> dict[str, Any]:
    path = where / "world.db"
    shutil.copyfile(sqlite_template, path)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "t",
            "INSTANCE_PATH": str(where / "instance"),
        }
    )
    with app.app_context():
        world = build_world(db.session, households_per_cell=MOVABLE + 1)
        case_ids = [make_case(db.session, world, title=f"case {i}") for i in range(2)]
        tokens = {}
        for name in (*DEVICES, "office"):
            token, device = accounts.issue_device_token(
                db.session, world.users[name], device_id=uuid.uuid4(), device_name="p"
            )
            tokens[name] = (token, device.id)
        db.session.commit()
        info = {
            "path": path,
            "tokens": tokens,
            "users": {n: u.id for n, u in world.users.items()},
            "households": {c: list(h) for c, h in world.households.items()},
            "cases": case_ids,
        }
        db.session.remove()
        with db.engine.connect() as conn:  # fold the WAL into the file before copying it
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.engine.dispose()
    return info


class Device:
    def __init__(self, name: str, token: str, device_id: uuid.UUID, user_id: int) -> None:
        self.name, self.token, self.device_id, self.user_id = name, token, device_id, user_id
        self.seq = itertools.count(1)
        self.outbox: list[dict[str, Any]] = []
        self.cursor: str | None = None
        self.replica: dict[tuple[str, str], dict[str, Any]] = {}


class SyncMachine(RuleBasedStateMachine):
    info: dict[str, Any]
    workdir: Path
    counter = itertools.count()

    @initialize()
    def start(self) -> None:
        path = self.workdir / f"run{next(self.counter)}.db"
        shutil.copyfile(self.info["path"], path)
        self.app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                "SECRET_KEY": "t",
                "INSTANCE_PATH": str(self.workdir / "instance"),
                "SYNC_COMMIT_EVERY": 3,
            }
        )
        self.app.test_client_class = IsolatedClient
        self.client = self.app.test_client()
        self.ctx = self.app.app_context()
        self.ctx.push()
        self.devices = {
            n: Device(n, *self.info["tokens"][n], self.info["users"][n]) for n in DEVICES
        }
        self.created: list[dict[str, Any]] = []  # every mutation ever put in an outbox
        self.office_edits: list[tuple[int, str, str, str]] = []  # (version, case, field, value)
        self.values = itertools.count(1)

    def teardown(self) -> None:
        if hasattr(self, "ctx"):
            db.session.remove()
            db.engine.dispose()
            self.ctx.pop()

    # --- what people do -------------------------------------------------------------------

    def _add(
        self, device: Device, name: str, args: dict[str, Any], base: int | None = None
    ) -> None:
        m = {
            "seq": next(device.seq),
            "op_id": str(uuid.uuid4()),
            "name": name,
            "args": args,
            "recorded_at_device": utcnow().isoformat(),
        }
        if base is not None:
            m["base_version"] = base
        device.outbox.append(m)
        self.created.append({**m, "device": device.name, "user_id": device.user_id})

    def _case_id(self, i: int) -> str:
        return str(self.info["cases"][i])

    @rule(who=st.sampled_from(DEVICES), h=st.integers(0, 1))
    def create_visit(self, who: str, h: int) -> None:
        cell = "G2" if who == "wb" else "G1"
        household = self.info["households"][cell][h]
        self._add(
            self.devices[who],
            "visit.create",
            {"id": str(uuid.uuid4()), "household_id": str(household), "situation": "ok"},
        )

    @rule(who=st.sampled_from(DEVICES), case=st.integers(0, 1))
    def add_note(self, who: str, case: int) -> None:
        self._add(
            self.devices[who],
            "case.note",
            {"id": str(uuid.uuid4()), "case_id": self._case_id(case), "text": "note"},
        )

    @rule(who=st.sampled_from(DEVICES), case=st.integers(0, 1), field=st.sampled_from(FIELDS))
    def set_field(self, who: str, case: int, field: str) -> None:
        device = self.devices[who]
        seen = device.replica.get(("cases", self._case_id(case)))
        base = seen["version"] if seen else 0
        value = f"{who}-{next(self.values)}"
        self._add(
            device,
            "case.set_fields",
            {"case_id": self._case_id(case), "changes": {field: value}},
            base,
        )

    @rule(who=st.sampled_from(DEVICES), case=st.integers(0, 1))
    def transition(self, who: str, case: int) -> None:
        step = ("handling", "handled") if who == "wa" else ("handled", "closed")
        self._add(
            self.devices[who],
            "case.transition",
            {"case_id": self._case_id(case), "from": step[0], "to": step[1]},
        )

    @rule(case=st.integers(0, 1), field=st.sampled_from(FIELDS))
    def office_edit(self, case: int, field: str) -> None:
        value = f"office-{next(self.values)}"
        version = next_version(db.session)
        row = db.session.get(Case, uuid.UUID(self._case_id(case)))
        case_ops.edit_fields(
            db.session,
            row,
            {field: value},
            author_id=self.info["users"]["office"],
            version=version,
            base_version=None,
        )
        db.session.commit()
        self.office_edits.append((version, self._case_id(case), field, value))

    @rule(case=st.integers(0, 1))
    def office_close(self, case: int) -> None:
        row = db.session.get(Case, uuid.UUID(self._case_id(case)))
        if row.status in OPEN_STATUSES:
            case_ops.change_status(
                db.session,
                row,
                CaseStatus.CLOSED,
                actor_id=self.info["users"]["office"],
                version=next_version(db.session),
            )
            db.session.commit()
        else:
            db.session.rollback()

    # --- scope changes -------------------------------------------------------------------

    def _extra_duty(self, who: str, cell: str) -> int | None:
        duty_id: int | None = db.session.scalar(
            select(Duty.id).where(
                Duty.user_id == self.info["users"][who],
                Duty.cell_code == cell,
                Duty.ends_on.is_(None),
            )
        )
        return duty_id

    @rule(who=st.sampled_from(DEVICES), cell=st.sampled_from(EXTRA_CELLS))
    def give_duty(self, who: str, cell: str) -> None:
        """An extra duty from today: the scope grows, no version moves."""
        if cell == HOME[who] or self._extra_duty(who, cell) is not None:
            db.session.rollback()
            return
        grid_ops.assign_duty(
            db.session, None, cell_code=cell, username=who, role="grid_worker", starts_on=_today()
        )
        db.session.commit()

    @rule(who=st.sampled_from(DEVICES), cell=st.sampled_from(EXTRA_CELLS))
    def take_duty(self, who: str, cell: str) -> None:
        """An extra duty ended (removed: it began today): the scope shrinks, no version moves."""
        duty_id = self._extra_duty(who, cell)
        if cell == HOME[who] or duty_id is None:
            db.session.rollback()
            return
        grid_ops.end_duty(db.session, None, duty_id, last_day=None, today=_today())
        db.session.commit()

    @rule(
        who=st.sampled_from(DEVICES),
        changes=st.lists(
            st.tuples(st.booleans(), st.sampled_from(EXTRA_CELLS)), min_size=2, max_size=4
        ),
        limit=st.integers(1, 8),
    )
    def rescope_and_pull_in_a_row(
        self, who: str, changes: list[tuple[bool, str]], limit: int
    ) -> None:
        """Scope changes each followed by a full pull, with no version moving in between."""
        for give, cell in changes:
            (self.give_duty if give else self.take_duty)(who, cell)
            self.pull(who, limit)

    @rule(cell=st.sampled_from(("G1", "G2")))
    def move_household(self, cell: str) -> None:
        """The movable household of `cell`'s list goes to the other cell, or comes back."""
        household = db.session.get(Household, self.info["households"][cell][MOVABLE])
        population.move_household(
            db.session, household, "G2" if household.cell_code == "G1" else "G1"
        )
        db.session.commit()

    # --- the network --------------------------------------------------------------------------

    def _send(self, device: Device, mutations: list[dict[str, Any]]) -> dict[str, Any] | None:
        body = {
            "device_id": str(device.device_id),
            "schema_version": 1,
            "device_now": utcnow().isoformat(),
            "mutations": mutations,
        }
        response = self.client.post(
            "/api/v1/sync/push", json=body, headers={"Authorization": f"Bearer {device.token}"}
        )
        assert response.status_code == 200, response.get_json()
        answer: dict[str, Any] = response.get_json()
        return answer

    def _ack(self, device: Device, answer: dict[str, Any] | None) -> None:
        if answer is not None:
            device.outbox = [m for m in device.outbox if m["seq"] > answer["last_seq"]]

    @rule(who=st.sampled_from(DEVICES))
    def push(self, who: str) -> None:
        device = self.devices[who]
        self._ack(device, self._send(device, list(device.outbox)))

    @rule(who=st.sampled_from(DEVICES))
    def drop_request(self, who: str) -> None:
        """The request never reached the server: nothing happens, the outbox stays."""

    @rule(who=st.sampled_from(DEVICES))
    def drop_reply(self, who: str) -> None:
        device = self.devices[who]
        self._send(device, list(device.outbox))  # applied, but the phone never hears of it

    @rule(who=st.sampled_from(DEVICES))
    def duplicate_delivery(self, who: str) -> None:
        device = self.devices[who]
        self._send(device, list(device.outbox))
        self._ack(device, self._send(device, list(device.outbox)))

    @rule(who=st.sampled_from(DEVICES), cut=st.integers(1, 5))
    def reorder_batches(self, who: str, cut: int) -> None:
        device = self.devices[who]
        first, second = device.outbox[:cut], device.outbox[cut:]
        self._ack(device, self._send(device, second))  # arrives first: a gap
        self._ack(device, self._send(device, first))

    @rule(who=st.sampled_from(DEVICES))
    def crash_between_commit_and_reply(self, who: str) -> None:
        device = self.devices[who]
        crashed: list[int] = []

        def fault(point: str, seq: int) -> None:
            if point == "after_commit" and not crashed:
                crashed.append(seq)
                raise ConnectionAbortedError("server died before replying")

        self.app.config["SYNC_FAULT_HOOK"] = fault
        try:
            self._send(device, list(device.outbox))
        except ConnectionAbortedError:
            pass
        finally:
            self.app.config["SYNC_FAULT_HOOK"] = None

    @rule(who=st.sampled_from(DEVICES), limit=st.integers(1, 8))
    def pull(self, who: str, limit: int = 7) -> None:
        device = self.devices[who]
        for _ in range(200):
            if not self._pull_page(device, limit):
                self._check_replica(device)
                return
        raise AssertionError("pull never finished")

    @rule(who=st.sampled_from(DEVICES), limit=st.integers(1, 3))
    def pull_cut_short(self, who: str, limit: int) -> None:
        """One page, then the connection drops: the cursor may stop inside a version."""
        self._pull_page(self.devices[who], limit)

    def _pull_page(self, device: Device, limit: int) -> bool:
        """Pull one page and apply it like the app; True while there is more (or a reset)."""
        query = {"limit": limit, **({"cursor": device.cursor} if device.cursor else {})}
        response = self.client.get(
            "/api/v1/sync/pull",
            query_string=query,
            headers={"Authorization": f"Bearer {device.token}"},
        )
        body = response.get_json()
        assert response.status_code == 200, body
        if body.get("reset"):
            device.cursor, device.replica = None, {}
            return True
        for change in body["changes"]:
            key = (change["table"], change["id"])
            if change["op"] == "delete":
                device.replica.pop(key, None)
            else:
                device.replica[key] = {**change["data"], "version": change["version"]}
        device.cursor = body["cursor"]
        device.outbox = [m for m in device.outbox if m["seq"] > body["last_seq"]]
        return bool(body["has_more"])

    # --- the oracle ----------------------------------------------------------------------

    @invariant()
    def nothing_is_ever_applied_twice(self) -> None:
        if not hasattr(self, "devices"):
            return
        rows = db.session.execute(select(MutationRecord.device_id, MutationRecord.seq)).all()
        assert len(rows) == len(set(rows))
        db.session.rollback()

    @invariant()
    def a_devices_versions_rise_with_its_seqs(self) -> None:
        """What `version_needed` rests on: a device's highest seq has its highest version."""
        if not hasattr(self, "devices"):
            return
        assert_versions_rise_with_seqs(db.session)
        db.session.rollback()

    @rule()
    def quiesce(self) -> None:
        for device in self.devices.values():
            for _ in range(5):
                if not device.outbox:
                    break
                self.push(device.name)
            assert device.outbox == []
        for name in DEVICES:
            self.pull(name)
        self._check_exactly_once()
        self._check_convergence()
        self._check_conflicts()

    def _check_exactly_once(self) -> None:
        db.session.expire_all()
        log = {str(r.op_id): r for r in db.session.scalars(select(MutationRecord))}
        assert set(log) == {m["op_id"] for m in self.created}
        visits = [m for m in self.created if m["name"] == "visit.create"]
        assert {str(v.id) for v in db.session.scalars(select(Visit))} == {
            m["args"]["id"] for m in visits
        }
        notes = [
            m
            for m in self.created
            if m["name"] == "case.note" and log[m["op_id"]].status == "applied"
        ]
        assert {
            str(e.id) for e in db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "note"))
        } == {m["args"]["id"] for m in notes}

    def _check_replica(self, device: Device) -> None:
        """Right after a pull ran to its end: the replica is the scope's rows, as they are."""
        db.session.expire_all()
        scope = scope_for(db.session, db.session.get(User, device.user_id))
        codes = sorted(scope.cell_codes)
        cells = select(Cell.id, Cell.version).where(
            Cell.grid_version_id == scope.grid_version_id, Cell.code.in_(codes)
        )
        households = select(Household.id, Household.version).where(Household.cell_code.in_(codes))
        residents = (
            select(Resident.id, Resident.version)
            .join(Household, Household.id == Resident.household_id)
            .where(Household.cell_code.in_(codes))
        )
        cases = select(Case.id, Case.version).where(
            Case.status.in_(OPEN_STATUSES),
            (Case.assignee_id == device.user_id)
            | (Case.reporter_id == device.user_id)
            | Case.cell_code.in_(codes),
        )
        for table, query in (
            ("cells", cells),
            ("households", households),
            ("residents", residents),
            ("cases", cases),
        ):
            held = {k[1]: v["version"] for k, v in device.replica.items() if k[0] == table}
            assert held == {str(i): v for i, v in db.session.execute(query)}, (device.name, table)
        db.session.rollback()

    def _check_convergence(self) -> None:
        cases = {str(c.id): c for c in db.session.scalars(select(Case))}
        for device in self.devices.values():
            held = {k[1]: v for k, v in device.replica.items() if k[0] == "cases"}
            codes = scope_for(db.session, db.session.get(User, device.user_id)).cell_codes
            in_scope = {
                cid
                for cid, c in cases.items()
                if c.status in OPEN_STATUSES
                and (c.assignee_id == device.user_id or c.cell_code in codes)
            }
            assert set(held) == in_scope
            for cid in in_scope:
                c = cases[cid]
                assert (
                    held[cid]["title"],
                    held[cid]["address"],
                    held[cid]["status"],
                    held[cid]["version"],
                ) == (c.title, c.address, c.status.value, c.version)
            visits = {k[1] for k in device.replica if k[0] == "visits"}
            assert visits == {
                str(v.id)
                for v in db.session.scalars(select(Visit).where(Visit.worker_id == device.user_id))
            }

    def _check_conflicts(self) -> None:
        """Replay every field change in server order; expect a conflict exactly where the
        field's last change came after the editor's base, from someone else, with another value."""
        log = {str(r.op_id): r for r in db.session.scalars(select(MutationRecord))}
        changes = []
        for m in self.created:
            row = log[m["op_id"]]
            if m["name"] == "case.set_fields" and row.status == "applied":
                ((field, value),) = m["args"]["changes"].items()
                changes.append(
                    (
                        row.server_version,
                        row.id,
                        m["args"]["case_id"],
                        field,
                        value,
                        m["user_id"],
                        m["base_version"],
                    )
                )
        for version, case_id, field, value in self.office_edits:
            changes.append((version, 0, case_id, field, value, self.info["users"]["office"], None))
        last: dict[tuple[str, str], tuple[int, int, str]] = {}
        expected = []
        for version, _, case_id, field, value, author, base in sorted(changes):
            before = last.get((case_id, field))
            if (
                base is not None
                and before is not None
                and before[0] > base
                and before[1] != author
                and before[2] != value
            ):
                expected.append((case_id, field, before[2], value))
            last[(case_id, field)] = (version, author, value)
        found = [
            (str(c.case_id), c.field, c.earlier_value, c.later_value)
            for c in db.session.scalars(select(CaseConflict))
        ]
        assert sorted(found) == sorted(expected)
        db.session.rollback()


def _today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


@pytest.mark.slow
def test_random_histories_converge_with_nothing_lost_or_doubled(sqlite_template, tmp_path):
    SyncMachine.info = _make_template(sqlite_template, tmp_path)
    SyncMachine.workdir = tmp_path
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
