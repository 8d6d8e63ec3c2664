"""Sync test helpers: a published grid with people in it, simulated phones, blob stores."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import shapely
from flask.testing import FlaskClient
from sqlalchemy import select

from server.accounts import operations as accounts
from server.accounts.models import User
from server.cases import operations as cases
from server.cases.models import Case
from server.enums import CaseStatus, CellLevel, Channel, DutyRole, GridStatus, Placement
from server.extensions import db
from server.fieldsync.pull_routing import version_needed
from server.grid.models import Cell, Duty, GridVersion
from server.population.models import Household, Resident
from sync.blobs import BlobStore, DiskBlobStore
from sync.db import utcnow
from sync.models import MutationRecord
from sync.versions import next_version

PASSWORD = "correct horse battery"
#: Building groups G1 and G2 side by side inside block B1 (lon/lat, WGS-84, near Xinhua Road).
G1 = shapely.box(121.420, 31.200, 121.421, 31.201)
G2 = shapely.box(121.421, 31.200, 121.422, 31.201)
INSIDE_G1 = (121.4205, 31.2005)
INSIDE_G2 = (121.4215, 31.2005)
OUTSIDE = (121.500, 31.300)


@dataclass
class World:
    users: dict[str, User]
    households: dict[str, list[uuid.UUID]]
    cases: dict[str, uuid.UUID] = field(default_factory=dict)


def _cell(grid: GridVersion, code: str, level: CellLevel, parent: str | None, geom: Any) -> Cell:
    minx, miny, maxx, maxy = geom.bounds
    return Cell(
        grid_version=grid,
        code=code,
        name=code,
        level=level,
        parent_code=parent,
        geometry_wkb=shapely.to_wkb(geom),
        min_lon=minx,
        min_lat=miny,
        max_lon=maxx,
        max_lat=maxy,
        area_m2=1.0,
        version=1,
    )


def build_world(session: Any, households_per_cell: int = 3) -> World:
    """Users: worker `wa` (cell G1), `wb` (cell G2), dispatcher `office`; a published grid."""
    version = next_version(session)
    grid = GridVersion(name="test", status=GridStatus.PUBLISHED, published_at=utcnow())
    session.add(grid)
    block = G1.union(G2)
    for code, level, parent, geom in [
        ("S1", CellLevel.STREET, None, block.buffer(0.001)),
        ("R1", CellLevel.RESIDENTIAL_AREA, "S1", block.buffer(0.0005)),
        ("B1", CellLevel.BLOCK, "R1", block),
        ("G1", CellLevel.BUILDING_GROUP, "B1", G1),
        ("G2", CellLevel.BUILDING_GROUP, "B1", G2),
    ]:
        session.add(_cell(grid, code, level, parent, geom))
    users = {}
    for name, role in [
        ("wa", "worker"),
        ("wb", "worker"),
        ("wc", "worker"),
        ("office", "dispatcher"),
    ]:
        users[name] = accounts.create_user(session, username=name, password=PASSWORD, role=role)
    session.flush()
    today = dt.date.today() - dt.timedelta(days=1)
    for name, code in [("wa", "G1"), ("wb", "G2"), ("wc", "G1")]:
        session.add(
            Duty(user_id=users[name].id, cell_code=code, role=DutyRole.GRID_WORKER, starts_on=today)
        )
    households: dict[str, list[uuid.UUID]] = {"G1": [], "G2": []}
    for code in households:
        for i in range(households_per_cell):
            h = Household(
                address=f"{code} room {i}",
                road="新华路",
                building="1",
                room=str(i),
                cell_code=code,
                version=version,
            )
            session.add(h)
            session.flush()
            session.add(Resident(household_id=h.id, name=f"居民{i}", gender="F", version=version))
            households[code].append(h.id)
    session.commit()
    return World(users, households)


def make_case(
    session: Any,
    world: World,
    *,
    cell: str = "G1",
    assignee: str | None = "wa",
    status: CaseStatus = CaseStatus.HANDLING,
    title: str = "exposed cable",
) -> uuid.UUID:
    """An office case already dispatched to `assignee` and in `status`."""
    version = next_version(session)
    case = Case(
        number=f"XH-T-{uuid.uuid4().hex[:8]}",
        channel=Channel.HOTLINE,
        status=status,
        title=title,
        description="lane 329",
        address="新华路329弄",
        cell_code=cell,
        placement=Placement.IN,
        assignee_id=world.users[assignee].id if assignee else None,
        version=version,
        field_versions={},
    )
    session.add(case)
    session.commit()
    return case.id


def office_close(session: Any, world: World, case_id: uuid.UUID) -> None:
    version = next_version(session)
    case = session.get(Case, case_id)
    cases.change_status(
        session, case, CaseStatus.CLOSED, actor_id=world.users["office"].id, version=version
    )
    session.commit()


def office_edit(session: Any, world: World, case_id: uuid.UUID, **changes: Any) -> None:
    version = next_version(session)
    case = session.get(Case, case_id)
    cases.edit_fields(
        session,
        case,
        changes,
        author_id=world.users["office"].id,
        version=version,
        base_version=None,
    )
    session.commit()


def office_assign(session: Any, world: World, case_id: uuid.UUID, to: str) -> None:
    version = next_version(session)
    case = session.get(Case, case_id)
    cases.assign(
        session, case, world.users[to].id, actor_id=world.users["office"].id, version=version
    )
    session.commit()


class Phone:
    """A simulated app install: device id, token, an outbox with seqs, and a pulled replica."""

    def __init__(self, client: FlaskClient, user: User, device_id: uuid.UUID | None = None) -> None:
        self.client = client
        self.user = user
        self.device_id = device_id or uuid.uuid4()
        response = client.post(
            "/api/v1/auth/token",
            json={
                "username": user.username,
                "password": PASSWORD,
                "device_id": str(self.device_id),
                "device_name": "test phone",
            },
        )
        assert response.status_code == 201, response.get_json()
        self.token = response.get_json()["token"]
        self._seq = itertools.count(1)
        self.outbox: list[dict[str, Any]] = []
        self.cursor: str | None = None
        self.replica: dict[tuple[str, str], dict[str, Any]] = {}
        self.last_seq = 0
        self.device_now: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def add(
        self,
        name: str,
        args: dict[str, Any],
        base_version: int | None = None,
        recorded_at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        mutation = {
            "seq": next(self._seq),
            "op_id": str(uuid.uuid4()),
            "name": name,
            "args": args,
            "recorded_at_device": (recorded_at or utcnow()).isoformat(),
        }
        if base_version is not None:
            mutation["base_version"] = base_version
        self.outbox.append(mutation)
        return mutation

    def push_raw(self, mutations: list[dict[str, Any]], **extra: Any) -> Any:
        body = {
            "device_id": str(self.device_id),
            "schema_version": 1,
            "device_now": self.device_now or utcnow().isoformat(),
            "mutations": mutations,
        }
        body.update(extra)
        return self.client.post("/api/v1/sync/push", json=body, headers=self.headers)

    def push(self) -> dict[str, Any]:
        """Send the outbox; drop what the server acknowledged (last_seq), like the app."""
        response = self.push_raw(list(self.outbox))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        self.acknowledge(body["last_seq"])
        return dict(body)

    def acknowledge(self, last_seq: int) -> None:
        self.last_seq = max(self.last_seq, last_seq)
        self.outbox = [m for m in self.outbox if m["seq"] > self.last_seq]

    def pull_page(self, limit: int = 500) -> dict[str, Any]:
        query = {"limit": limit}
        if self.cursor:
            query["cursor"] = self.cursor
        response = self.client.get("/api/v1/sync/pull", query_string=query, headers=self.headers)
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        if body.get("reset"):
            self.cursor, self.replica = None, {}
            return body
        for change in body["changes"]:
            key = (change["table"], change["id"])
            if change["op"] == "delete":
                self.replica.pop(key, None)
            else:
                self.replica[key] = {**change["data"], "version": change["version"]}
        self.cursor = body["cursor"]
        self.acknowledge(body["last_seq"])
        return body

    def pull(self, limit: int = 500) -> list[dict[str, Any]]:
        pages = []
        for _ in range(1000):
            body = self.pull_page(limit)
            pages.append(body)
            if body.get("reset"):
                continue
            if not body["has_more"]:
                return pages
        raise AssertionError("pull did not finish")

    def table(self, name: str) -> dict[str, dict[str, Any]]:
        return {k[1]: v for k, v in self.replica.items() if k[0] == name}


@pytest.fixture
def world(app: Any) -> World:
    return build_world(db.session)


@pytest.fixture
def phone(client: FlaskClient, world: World) -> Callable[..., Phone]:
    def make(user: str = "wa", device_id: uuid.UUID | None = None) -> Phone:
        return Phone(client, world.users[user], device_id)

    return make


def visit_args(household_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "household_id": str(household_id),
        "visited_at": utcnow().isoformat(),
        "situation": "all well",
        **extra,
    }


def assert_versions_rise_with_seqs(session: Any) -> None:
    """Per device, the log's versions never fall as its seqs rise, so the version of its
    highest seq is its highest (what `pull_routing.version_needed` reads)."""
    by_device: dict[uuid.UUID, list[int]] = {}
    for device_id, version in session.execute(
        select(MutationRecord.device_id, MutationRecord.server_version).order_by(
            MutationRecord.device_id, MutationRecord.seq
        )
    ):
        by_device.setdefault(device_id, []).append(version)
    for device_id, versions in by_device.items():
        assert versions == sorted(versions), f"device {device_id}: versions fall as seqs rise"
        assert version_needed(session, device_id, None) == max(versions)


def count(model: Any, *where: Any) -> int:
    return len(db.session.scalars(select(model).where(*where)).all())


# --- blob stores: every backend the contract suite runs against -------------------------


def s3_store(endpoint: str) -> BlobStore:
    from sync.blobs.s3 import S3BlobStore

    bucket = f"wangge-{uuid.uuid4().hex[:12]}"
    store = S3BlobStore(
        bucket,
        prefix="photos-test",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    store.client.create_bucket(Bucket=bucket)
    return store


def s3_app_settings(endpoint: str) -> dict[str, str]:
    """App configuration for BLOB_STORE=s3 on a new, empty bucket of the moto server."""
    import boto3

    bucket = f"wangge-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=bucket)
    return {
        "BLOB_STORE": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "test",
        "S3_SECRET_ACCESS_KEY": "test",
    }


@pytest.fixture(params=["disk", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """Each backend in turn: the same tests must pass on all of them."""
    if request.param == "disk":
        return DiskBlobStore(tmp_path / "blobs")
    return s3_store(request.getfixturevalue("moto_s3_endpoint"))


def answer_facts(outcome: Any) -> list[tuple[Any, ...]]:
    """Each answer of a push outcome without its ids and versions: (seq, status, reason code,
    result keys, existing), to compare two pushes of one batch spelled with other ids."""
    return [
        (
            r["seq"],
            r["status"],
            (r.get("reason") or {}).get("code"),
            sorted((r.get("result") or {}).keys()),
            (r.get("result") or {}).get("existing"),
        )
        for r in outcome.results
    ]
