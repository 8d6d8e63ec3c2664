"""A campaign's progress page for 10,000 targets and 50,000 answers (issue 18: ≤ 300 ms warm).

    python bench/bench_campaign_progress.py            # 10,000 targets, 50,000 answers
    python bench/bench_campaign_progress.py --quick    # 1,000 / 5,000: a smoke run

Runs on SQLite and (if WANGGE_BENCH_POSTGRES_URL or WANGGE_TEST_POSTGRES_URL is set) on a
fresh PostgreSQL database, on the demo district. The campaign's targets are spread over the
demo's building groups; 80 % of them have answers (several answers each, on two form
versions), 2 % of the answers are late and 1 % opened a case. Each page is requested through
the app (test client: routing, the queries, Jinja) as a dispatcher after one warm-up; the
median of the runs is printed next to a baseline measured in the same run: the bare
aggregate query (targets and targets done per cell, one GROUP BY).

The index the progress page needs on SQLite (migration 0021, docs/forms.md §Campaign
progress and reports) is dropped before loading with `--without-index`, to measure without:

    CREATE INDEX ix_form_answers_campaign_progress
        ON form_answers (campaign_id, cell_code, worker_id, target_id, late, case_ids)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.demo_setup import demo_app

NOW = dt.datetime(2026, 11, 26, 4, 0, tzinfo=dt.UTC)
QUESTIONS = [
    {"name": "has_ext", "type": "yes_no", "label": {"zh": "楼内配有灭火器吗？"}},
    {"name": "count", "type": "integer", "label": {"zh": "灭火器数量"}, "min": 0, "max": 50},
    {
        "name": "hazards",
        "type": "select_multiple",
        "label": {"zh": "发现的隐患"},
        "choices": [
            {"value": "storage", "label": {"zh": "楼道堆物"}},
            {"value": "ebike", "label": {"zh": "电动车进楼充电"}},
            {"value": "blocked", "label": {"zh": "消防通道堵塞"}},
        ],
    },
]
DROP_INDEX = "DROP INDEX IF EXISTS ix_form_answers_campaign_progress"
BASELINE = (
    "SELECT t.cell_code, count(*), count(a.target_id) FROM campaign_targets t "
    "LEFT JOIN (SELECT DISTINCT target_id FROM form_answers WHERE campaign_id = :c) a "
    "ON a.target_id = t.id WHERE t.campaign_id = :c GROUP BY t.cell_code"
)


def build(
    url: str, instance: Path, *, targets: int, answers: int, index: bool = True
) -> tuple[Any, int]:
    app = demo_app(url, instance, NOW)
    with app.app_context():
        campaign_id = _fill(targets=targets, answers=answers, index=index)
    return app, campaign_id


def _fill(*, targets: int, answers: int, index: bool) -> int:
    from server.campaigns.models import Campaign, CampaignCell, CampaignTarget
    from server.cases.models import Case
    from server.extensions import db
    from server.forms.models import Form, FormAnswer, FormVersion

    rng = random.Random(18)
    conn = db.session.connection()
    if not index:
        conn.execute(sa.text(DROP_INDEX))
    cells = [
        r[0] for r in conn.execute(sa.text("SELECT code FROM cells WHERE level = 'building_group'"))
    ]
    workers = [r[0] for r in conn.execute(sa.text("SELECT id FROM users WHERE role='worker'"))]
    form = Form(code="bench_fire", title_zh="冬季消防安全检查")
    db.session.add(form)
    db.session.flush()
    v1 = {"format": 1, "title": {"zh": "冬季消防安全检查"}, "questions": QUESTIONS[:2]}
    v2 = {"format": 1, "title": {"zh": "冬季消防安全检查"}, "questions": QUESTIONS}
    versions = [
        FormVersion(form_id=form.id, number=n, definition=d, published_at=NOW)
        for n, d in ((1, v1), (2, v2))
    ]
    db.session.add_all(versions)
    campaign = Campaign(
        code="bench_fire",
        title_zh="冬季消防安全检查",
        form_id=form.id,
        target_kind="building",
        selection={"cells": cells, "care_tags": [], "list": None},
        starts_on=dt.date(2026, 11, 1),
        ends_on=dt.date(2026, 12, 31),
        status="published",
        published_at=NOW,
        version=1,
    )
    db.session.add(campaign)
    db.session.flush()
    db.session.add_all(CampaignCell(campaign_id=campaign.id, cell_code=c) for c in cells)
    rows = [
        {
            "id": uuid.uuid4(),
            "campaign_id": campaign.id,
            "kind": "building",
            "road": "番禺路",
            "lane": f"{i // 20}弄",
            "building": f"{i % 20}",
            "label": f"番禺路{i // 20}弄{i % 20}号",
            "cell_code": rng.choice(cells),
            "version": 1,
        }
        for i in range(targets)
    ]
    conn.execute(CampaignTarget.__table__.insert(), rows)
    answered = rows[: targets * 4 // 5]
    case_rows = [
        {
            "id": uuid.uuid4(),
            "number": f"C-{i:07d}",
            "channel": "patrol",
            "priority": "high",
            "status": "dispatched",
            "title": "灭火器过期",
            "description": "",
            "address": "",
            "lon": 121.42 + rng.uniform(0, 0.02),
            "lat": 31.20 + rng.uniform(0, 0.02),
            "placement": "in",
            "reported_at": NOW,
            "rework_count": 0,
            "postponed": False,
            "version": 1,
            "field_versions": {},
            "paused_seconds": 0,
            "escalation_level": 0,
        }
        for i in range(answers // 100)
    ]
    conn.execute(Case.__table__.insert(), case_rows)
    batch: list[dict[str, Any]] = []
    for i in range(answers):
        target = answered[i % len(answered)] if i < len(answered) else rng.choice(answered)
        version = versions[i % 2]
        values: dict[str, Any] = {"has_ext": rng.choice(("yes", "no")), "count": rng.randint(0, 9)}
        if version.number == 2:
            values["hazards"] = rng.sample(("storage", "ebike", "blocked"), rng.randint(0, 2))
        batch.append(
            {
                "id": uuid.uuid4(),
                "form_version_id": version.id,
                "campaign_id": campaign.id,
                "target_id": target["id"],
                "cell_code": target["cell_code"],
                "worker_id": rng.choice(workers),
                "values": values,
                "answered_at": NOW - dt.timedelta(minutes=rng.randint(0, 30_000)),
                "received_at": NOW,
                "late": rng.random() < 0.02,
                "case_ids": [str(case_rows[i // 100]["id"])] if i % 100 == 0 else [],
                "version": 2,
            }
        )
        if len(batch) == 10_000:
            conn.execute(FormAnswer.__table__.insert(), batch)
            batch.clear()
    if batch:
        conn.execute(FormAnswer.__table__.insert(), batch)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.connection().execute(sa.text("ANALYZE"))
        db.session.commit()
    return campaign.id


def timed(fn: Any, repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def measure(app: Any, campaign_id: int, label: str, repeat: int) -> None:
    from server.extensions import db

    client = app.test_client()
    with app.app_context():
        login = {"username": "zhao.min", "password": "wangge-demo"}
        assert client.post("/login", data=login).status_code == 302
        n_targets = db.session.scalar(sa.text("SELECT count(*) FROM campaign_targets"))
        n_answers = db.session.scalar(sa.text("SELECT count(*) FROM form_answers"))

        def baseline() -> None:
            db.session.execute(sa.text(BASELINE), {"c": campaign_id}).all()
            db.session.rollback()

        def page(path: str) -> Any:
            def run() -> None:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            return run

        base = f"/campaigns/{campaign_id}"
        rows = [
            ("baseline: targets and done per cell (SQL)", timed(baseline, repeat)),
            ("progress page (table, findings)", timed(page(f"{base}/progress"), repeat)),
            (
                "progress map JSON (cells, areas, pins)",
                timed(page(f"{base}/progress.json"), repeat),
            ),
            ("report page, per cell (charts)", timed(page(f"{base}/report"), repeat)),
            ("CSV export, one row per target", timed(page(f"{base}/export.csv"), repeat)),
        ]
    print(f"\n{label}: {n_targets:,} targets, {n_answers:,} answers; median of {repeat} warm runs")
    for name, ms in rows:
        print(f"  {name:<45} {ms:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 targets: a smoke run")
    parser.add_argument(
        "--without-index", action="store_true", help="without ix_form_answers_campaign_progress"
    )
    args = parser.parse_args()
    index = not args.without_index
    print(f"index ix_form_answers_campaign_progress: {'yes' if index else 'no'}")
    targets, answers, repeat = (1_000, 5_000, 3) if args.quick else (10_000, 50_000, 7)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        started = time.perf_counter()
        app, campaign_id = build(
            f"sqlite:///{base / 'bench.db'}",
            base / "sqlite",
            targets=targets,
            answers=answers,
            index=index,
        )
        print(f"SQLite data built in {time.perf_counter() - started:.0f} s")
        measure(app, campaign_id, "SQLite", repeat)
        admin_url = os.environ.get("WANGGE_BENCH_POSTGRES_URL") or os.environ.get(
            "WANGGE_TEST_POSTGRES_URL"
        )
        if not admin_url:
            print("\nPostgreSQL: skipped (set WANGGE_BENCH_POSTGRES_URL)")
            return
        name = f"wangge_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        try:
            started = time.perf_counter()
            app, campaign_id = build(
                url, base / "pg", targets=targets, answers=answers, index=index
            )
            print(f"\nPostgreSQL data built in {time.perf_counter() - started:.0f} s")
            measure(app, campaign_id, "PostgreSQL", repeat)
            with app.app_context():
                from server.extensions import db

                db.session.remove()
                db.engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


if __name__ == "__main__":
    main()
