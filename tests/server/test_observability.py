"""JSON request logs, /metrics (protected, multiprocess under gunicorn) and live/ready health."""

from __future__ import annotations

import json
import logging
import re
import shutil
import signal
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from server.extensions import db
from server.ops import logs
from server.ops.logs import RequestContextFilter, json_formatter
from server.ops.metrics import metrics, record_upload_bytes
from tests.live import LiveServer


def metric_value(body: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text; 0 when the series is absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        sample, _, value = line.rpartition(" ")
        series, _, label_text = sample.partition("{")
        got = ",".join(sorted(re.findall(r'\w+="[^"]*"', label_text)))
        if series == name and got == wanted:
            return float(value)
    return 0.0


# --- logs --------------------------------------------------------------------------------


def test_each_request_logs_one_line_with_id_route_status_duration_user_and_device(
    client, make_user, token_for, caplog
):
    user = make_user("worker")
    device_id = uuid.uuid4()
    token = token_for(user, device_id=device_id)
    with caplog.at_level(logging.INFO, logger=logs.REQUEST_LOGGER):
        response = client.get(
            "/api/v1/auth/me",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
        )
    assert response.status_code == 200
    [record] = [r for r in caplog.records if getattr(r, "request_id", "") == "req-42"]
    assert (record.method, record.route, record.status) == ("GET", "/api/v1/auth/me", 200)
    assert record.duration_ms >= 0
    assert record.user_id == user.id
    assert record.device_id == str(device_id)


def test_a_request_refused_by_the_csrf_check_keeps_its_request_id(client, caplog):
    """CSRFProtect's check runs before the app's own hooks: the id must be set ahead of it."""
    with caplog.at_level(logging.INFO, logger=logs.REQUEST_LOGGER):
        page = client.post(
            "/login", data={"username": "a", "password": "b"}, headers={"X-Request-ID": "csrf-7"}
        )
        api = client.post(
            "/login",
            data={"username": "a", "password": "b"},
            headers={"X-Request-ID": "csrf-8", "Accept": "application/json"},
        )
    assert page.status_code == 400 and api.status_code == 400
    assert page.headers["X-Request-ID"] == "csrf-7"
    assert "csrf-7" in page.get_data(as_text=True)
    assert api.headers["X-Request-ID"] == "csrf-8"
    assert api.get_json()["request_id"] == "csrf-8"
    for request_id in ("csrf-7", "csrf-8"):
        [record] = [r for r in caplog.records if getattr(r, "request_id", "") == request_id]
        assert (record.method, record.status) == ("POST", 400)


def test_an_unmatched_path_is_logged_under_one_route_label(client, caplog):
    with caplog.at_level(logging.INFO, logger=logs.REQUEST_LOGGER):
        client.get("/no/such/page/12345")
    [record] = [r for r in caplog.records if r.name == logs.REQUEST_LOGGER]
    assert (record.route, record.status) == ("<unmatched>", 404)


def test_the_json_formatter_writes_one_object_with_the_stack_of_an_error(app):
    formatter = json_formatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("server.errors").makeRecord(
            "server.errors", logging.ERROR, __file__, 1, "unhandled error", (), sys.exc_info()
        )
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "abc"
        RequestContextFilter().filter(record)
    line = formatter.format(record)
    assert "\n" not in line
    body = json.loads(line)
    assert body["level"] == "ERROR" and body["message"] == "unhandled error"
    assert body["request_id"] == "abc"
    assert "ValueError: boom" in body["exc_info"] and "Traceback" in body["exc_info"]


# --- /metrics ----------------------------------------------------------------------------


def test_metrics_are_hidden_from_the_public(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer guess"}).status_code == 404


def test_metrics_answer_a_token_with_requests_latency_and_queues(make_app, make_user):
    app = make_app(METRICS_TOKEN="scrape-me")
    client = app.test_client()
    client.get("/healthz/live")
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    body = response.get_data(as_text=True)
    assert (
        metric_value(
            body, "wangge_http_requests_total", route="/healthz/live", method="GET", status="200"
        )
        >= 1
    )
    assert "wangge_http_request_duration_seconds_bucket" in body
    assert metric_value(body, "wangge_cases_unplaced") == 0
    assert "wangge_cases_open{" in body and "wangge_cases_overdue" in body


def test_metrics_answer_an_allowed_address(make_app):
    app = make_app(METRICS_ALLOW_IPS=["127.0.0.1"])
    assert app.test_client().get("/metrics").status_code == 200
    other = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 404


def test_upload_bytes_are_counted(app):
    before = metrics().upload_bytes._value.get()
    record_upload_bytes(1234)
    assert metrics().upload_bytes._value.get() - before == 1234


# --- health ------------------------------------------------------------------------------


def test_live_answers_without_the_database(client):
    body = client.get("/healthz/live").get_json()
    assert body["status"] == "ok" and "database" not in body


def test_ready_reports_the_database_and_the_migration_head(client):
    for path in ("/healthz", "/healthz/ready"):
        response = client.get(path)
        assert response.status_code == 200
        body = response.get_json()
        assert body["database"]["reachable"] is True
        assert body["migrations"]["at_head"] is True
        assert body["migrations"]["current"] == body["migrations"]["head"]


def test_ready_is_503_while_migrations_are_pending(app, client):
    with db.engine.begin() as conn:
        head = conn.scalar(text("SELECT version_num FROM alembic_version"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        response = client.get("/healthz/ready")
        assert response.status_code == 503
        assert response.get_json()["status"] == "migrations_pending"
        assert client.get("/healthz/live").status_code == 200
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})


# --- gunicorn with several workers --------------------------------------------------------


@pytest.mark.slow
def test_metrics_add_up_every_gunicorn_worker(database_url: str, tmp_path: Path):
    server = LiveServer(database_url, tmp_path / "instance", workers=3, METRICS_TOKEN="t0k")
    server.start()
    try:
        session = requests.Session()
        (prom_dir,) = (server.instance / "prometheus").glob("master-*")
        sent = 0

        def hit(_: int) -> int:
            # A new connection each time, so the kernel can spread them over the workers.
            return requests.get(f"{server.url}/healthz/live", timeout=10).status_code

        pids: set[str] = set()
        # Parallel rounds until two workers have answered (bounded): one worker may take
        # every request of a quiet round.
        with ThreadPoolExecutor(max_workers=12) as pool:
            for _ in range(20):
                assert set(pool.map(hit, range(30))) == {200}
                sent += 30
                pids = {
                    p.name.rsplit("_", 1)[-1].removesuffix(".db") for p in prom_dir.glob("*.db")
                }
                if len(pids) >= 2:
                    break
        assert len(pids) >= 2, "the requests all went to one worker"
        body = session.get(
            f"{server.url}/metrics", headers={"Authorization": "Bearer t0k"}, timeout=5
        ).text
        total = metric_value(
            body, "wangge_http_requests_total", route="/healthz/live", method="GET", status="200"
        )
        assert total == sent
        log = server.log_path.read_text()
        request_lines = [
            json.loads(line)
            for line in log.splitlines()
            if line.startswith("{") and '"message": "request"' in line
        ]
        assert any(r["route"] == "/healthz/live" and r["status"] == 200 for r in request_lines)
    finally:
        server.stop()


@pytest.mark.slow
def test_two_instances_from_one_checkout_keep_their_own_metrics(
    sqlite_template: Path, tmp_path: Path
):
    """The second master must not empty the first one's multiprocess folder."""
    database = tmp_path / "wangge.db"
    shutil.copyfile(sqlite_template, database)
    instance = tmp_path / "instance"  # one instance folder for both, as from one checkout
    first = LiveServer(f"sqlite:///{database}", instance, workers=1, METRICS_TOKEN="t0k")
    second = LiveServer(f"sqlite:///{database}", instance, workers=1, METRICS_TOKEN="t0k")

    def count(server: LiveServer) -> float:
        body = requests.get(
            f"{server.url}/metrics", headers={"Authorization": "Bearer t0k"}, timeout=5
        ).text
        return metric_value(
            body, "wangge_http_requests_total", route="/healthz/live", method="GET", status="200"
        )

    first.start()
    try:
        for _ in range(7):
            assert requests.get(f"{first.url}/healthz/live", timeout=5).status_code == 200
        second.start()
        try:
            assert requests.get(f"{second.url}/healthz/live", timeout=5).status_code == 200
            assert count(first) == 7
            assert count(second) == 1
            assert len(list((instance / "prometheus").glob("master-*"))) == 2
        finally:
            second.stop()
        assert count(first) == 7
        assert len(list((instance / "prometheus").glob("master-*"))) == 1  # the second's removed
    finally:
        first.stop()
    assert not list((instance / "prometheus").glob("master-*"))


@pytest.mark.slow
def test_an_idle_gunicorn_stops_within_two_seconds(sqlite_template: Path, tmp_path: Path):
    """With gunicorn.conf.py's own timeouts (graceful 30 s): nothing to wait for when idle."""
    database = tmp_path / "wangge.db"
    shutil.copyfile(sqlite_template, database)
    server = LiveServer(f"sqlite:///{database}", tmp_path / "instance", workers=2)
    server.graceful_timeout = None  # gunicorn.conf.py's value
    server.start()
    assert requests.get(f"{server.url}/healthz/live", timeout=5).status_code == 200
    process = server.process
    assert process is not None
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    elapsed = time.monotonic() - started
    server.process = None
    assert elapsed < 2.0, f"gunicorn took {elapsed:.1f} s to stop"
