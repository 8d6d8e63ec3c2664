"""Publishing a campaign over 10,000 household targets, next to a raw Core bulk insert.

Run ``python bench/bench_campaign_publish.py [--n 10000] [--repeat 3]``: in-process, on the
sync tests' world (a published grid; cell G1). Households are seeded directly into G1 so the
campaign has exactly ``--n`` targets. Each round, interleaved: (1) ``operations.publish`` of a
fresh draft (selection resolved, one version taken, every target row inserted, committed);
(2) the baseline: a raw Core ``INSERT`` of the same ``--n`` target rows, prepared beforehand,
committed; before (1), the preview alone (the selection resolved, nothing stored); after (1),
the worker of G1 pulls what the publish brought (the campaign and its ``--n`` targets, from the
cursor they held before it, through ``/api/v1/sync/pull`` pages of the default size, gzip), next
to a plain ``SELECT`` of the same target rows; (3) ``operations.close`` of the published
campaign (one scope exit per target), and the pull that takes the targets off the phone.
Prints the median and the range. SQLite, then PostgreSQL when WANGGE_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sync_setup import bench_databases, seeded_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with bench_databases() as backends:
        for backend, url in backends:
            run(backend, url, args.n, args.repeat)


def _seed_households(db: object, n: int) -> None:
    from server.population.models import Household
    from sync.versions import next_version

    session = db.session  # type: ignore[attr-defined]
    have = session.scalar(sa.select(sa.func.count()).where(Household.cell_code == "G1"))
    version = next_version(session)
    session.execute(
        sa.insert(Household),
        [
            {
                "id": uuid.uuid4(),
                "address": f"新华路{i // 20 + 1}号{i % 20 + 101}室",
                "road": "新华路",
                "lane": "",
                "building": str(i // 20 + 1),
                "room": str(i % 20 + 101),
                "cell_code": "G1",
                "notes": "",
                "version": version,
            }
            for i in range(n - have)
        ],
    )
    session.commit()


def _pull(client: object, token: str, cursor: str | None) -> tuple[float, int, int, str]:
    """Every page from `cursor` on: (seconds, campaign_targets changes, pages, new cursor)."""
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    seconds, targets, pages = 0.0, 0, 0
    while True:
        query = {"cursor": cursor} if cursor else {}
        started = time.perf_counter()
        response = client.get("/api/v1/sync/pull", query_string=query, headers=headers)  # type: ignore[attr-defined]
        body = response.get_data()
        if response.headers.get("Content-Encoding") == "gzip":  # small pages go plain
            body = gzip.decompress(body)
        page = json.loads(body)
        seconds += time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        targets += sum(1 for c in page["changes"] if c["table"] == "campaign_targets")
        pages, cursor = pages + 1, page["cursor"]
        if not page["has_more"]:
            assert cursor is not None
            return seconds, targets, pages, cursor


def run(backend: str, url: str | None, n: int, repeat: int) -> None:
    _folder, app, info = seeded_database(households_per_cell=1, url=url)
    from server.campaigns import operations as ops
    from server.campaigns.models import CampaignTarget
    from server.cases.grid_access import cell_tree
    from server.extensions import db
    from server.forms.models import Form
    from server.forms.store import publish as publish_form
    from server.forms.store import save_draft as save_form
    from tests.forms.test_definition import fire_form

    today = dt.date(2026, 12, 1)
    times: dict[str, list[float]] = {
        "preview": [], "publish": [], "baseline": [], "pull": [], "select": [], "close": [],
        "pull_exits": [],
    }  # fmt: skip
    client = app.test_client()
    pages_seen: list[int] = []
    with app.app_context():
        form = Form(code="fire_check", title_zh="消防检查")
        db.session.add(form)
        db.session.flush()
        publish_form(db.session, save_form(db.session, form, fire_form()))
        db.session.commit()
        _seed_households(db, n)
        cells = cell_tree(db.session)
        _s, _t, _p, cursor = _pull(client, info["token"], None)  # the phone is up to date
        for round_ in range(repeat):

            def draft(code: str) -> object:
                fields = ops.CampaignFields(
                    code=code, title_zh="消防检查", form_id=form.id, target_kind="household",
                    responsible=["G1"], starts_on=today, ends_on=today + dt.timedelta(days=30),
                )  # fmt: skip
                made = ops.save_draft(db.session, fields, cells, actor_id=None)
                db.session.commit()
                return made

            campaign = draft(f"bench_{round_}")
            started = time.perf_counter()
            ops.preview(db.session, campaign, cells)  # type: ignore[arg-type]
            times["preview"].append(time.perf_counter() - started)
            db.session.commit()
            started = time.perf_counter()
            count = ops.publish(db.session, campaign, cells, today=today)  # type: ignore[arg-type]
            db.session.commit()
            times["publish"].append(time.perf_counter() - started)
            assert count == n, count
            seconds, pulled, pages, cursor = _pull(client, info["token"], cursor)
            assert pulled == n, pulled
            times["pull"].append(seconds)
            pages_seen.append(pages)
            with db.engine.connect() as conn:
                started = time.perf_counter()
                conn.execute(
                    sa.select(CampaignTarget.__table__).where(
                        CampaignTarget.campaign_id == campaign.id  # type: ignore[attr-defined]
                    )
                ).fetchall()
                times["select"].append(time.perf_counter() - started)

            holder = draft(f"baseline_{round_}")
            rows = [
                {"id": uuid.uuid4(), "campaign_id": holder.id, "kind": "household",  # type: ignore[attr-defined]
                 "household_id": t.household_id, "resident_id": None, "road": t.road,
                 "lane": t.lane, "building": t.building, "label": t.label,
                 "cell_code": t.cell_code, "version": 1}
                for t in db.session.scalars(
                    sa.select(CampaignTarget).where(CampaignTarget.campaign_id == campaign.id)  # type: ignore[attr-defined]
                )
            ]  # fmt: skip
            db.session.commit()
            with db.engine.begin() as conn:
                started = time.perf_counter()
                conn.execute(CampaignTarget.__table__.insert(), rows)
            times["baseline"].append(time.perf_counter() - started)

            started = time.perf_counter()
            ops.close(db.session, campaign)  # type: ignore[arg-type]
            db.session.commit()
            times["close"].append(time.perf_counter() - started)
            seconds, _t, _p, cursor = _pull(client, info["token"], cursor)
            times["pull_exits"].append(seconds)
    print(
        f"{backend}: a campaign over {n} household targets, {repeat} rounds"
        f" (the cell's pull in {max(pages_seen)} pages)"
    )
    for kind, label in (
        ("preview", "preview (selection resolved, nothing stored)"),
        ("publish", "publish (resolve + 1 version + insert, commit)"),
        ("baseline", "baseline: raw Core bulk insert of the same rows"),
        ("pull", "the cell's worker pulls the campaign and targets"),
        ("select", "baseline: plain SELECT of the same target rows"),
        ("close", "close (scope exit per target, commit)"),
        ("pull_exits", "the worker's pull after close (targets leave)"),
    ):
        values = times[kind]
        print(
            f"  {label:50s} median {statistics.median(values) * 1000:8.0f} ms"
            f"  (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"
        )


if __name__ == "__main__":
    main()
