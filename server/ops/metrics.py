"""Prometheus metrics: requests, latency, sync outcomes, upload bytes and case queues.

Counters live in a private registry, created on first use (nothing at import time). Under
gunicorn set `PROMETHEUS_MULTIPROC_DIR` (gunicorn.conf.py does) before the app is imported:
prometheus_client then keeps each worker's values in files there and `/metrics` adds them up,
whichever worker answers the scrape. Queue sizes are counted in the database at scrape time.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, abort, current_app, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.ops.logs import route_of_request

#: Seconds; push batches of 100 mutations sit in the 0.05–1 s range.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Metrics:
    requests: Any
    latency: Any
    mutations: Any
    upload_bytes: Any
    pull_source: Any
    registry: Any


_metrics: Metrics | None = None


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def metrics() -> Metrics:
    """The process's metric objects (made once; values shared through files in multiprocess)."""
    global _metrics
    if _metrics is None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        registry = CollectorRegistry(auto_describe=True)
        _metrics = Metrics(
            requests=Counter(
                "wangge_http_requests",
                "HTTP requests answered, by route template, method and status.",
                ["route", "method", "status"],
                registry=registry,
            ),
            latency=Histogram(
                "wangge_http_request_duration_seconds",
                "Time from the first request hook to the response, by route and method.",
                ["route", "method"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            mutations=Counter(
                "wangge_sync_mutations",
                "Pushed mutations by outcome (applied, rejected, duplicate).",
                ["status"],
                registry=registry,
            ),
            upload_bytes=Counter(
                "wangge_upload_bytes",
                "Photo bytes received through tus PATCH requests.",
                registry=registry,
            ),
            pull_source=Counter(
                "wangge_sync_pull_source",
                "Pull pages by the database that answered (replica, primary) and why.",
                ["source", "reason"],
                registry=registry,
            ),
            registry=registry,
        )
    return _metrics


def record_push_results(results: Iterable[dict[str, Any]]) -> None:
    """Count a push's results by status (called by the push view; the wire format is untouched)."""
    counts: dict[str, int] = {}
    for result in results:
        status = str(result.get("status"))
        counts[status] = counts.get(status, 0) + 1
    counter = metrics().mutations
    for status, n in counts.items():
        counter.labels(status=status).inc(n)


def record_upload_bytes(n: int) -> None:
    if n > 0:
        metrics().upload_bytes.inc(n)


def record_pull_source(source: str, reason: str) -> None:
    """Count one pull page answered by `source` (replica or primary) for `reason`."""
    metrics().pull_source.labels(source=source, reason=reason).inc()


def queue_sizes(session: Session, now: Any) -> dict[str, Any]:
    """Open cases by status, unplaced open cases and overdue open cases: three indexed counts."""
    from server.cases.models import Case
    from server.enums import OPEN_STATUSES, Placement

    open_statuses = list(OPEN_STATUSES)
    by_status = dict(
        session.execute(
            select(Case.status, func.count())
            .where(Case.status.in_(open_statuses))
            .group_by(Case.status)
        ).all()
    )
    open_cases = Case.status.in_(open_statuses)
    return {
        "open": {str(s): by_status.get(s, 0) for s in sorted(open_statuses)},
        "unplaced": session.scalar(
            select(func.count()).where(open_cases, Case.placement == Placement.UNPLACED)
        ),
        "overdue": session.scalar(
            select(func.count()).where(open_cases, Case.due_at.is_not(None), Case.due_at < now)
        ),
    }


class _QueueCollector:
    """Gauges computed for this scrape only (not stored, so no multiprocess mode is needed)."""

    def __init__(self, sizes: dict[str, Any]) -> None:
        self.sizes = sizes

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        open_cases = GaugeMetricFamily(
            "wangge_cases_open", "Open cases by status.", labels=["status"]
        )
        for status, n in self.sizes["open"].items():
            open_cases.add_metric([status], n)
        yield open_cases
        yield GaugeMetricFamily(
            "wangge_cases_unplaced", "Open cases in the unplaced queue.", self.sizes["unplaced"]
        )
        yield GaugeMetricFamily(
            "wangge_cases_overdue", "Open cases past their deadline.", self.sizes["overdue"]
        )


def exposition(session: Session, now: Any) -> tuple[bytes, str]:
    """The text a scrape gets: this process's (or every worker's) metrics plus queue sizes."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
        own = b""
    else:
        own = generate_latest(metrics().registry)
    registry.register(_QueueCollector(queue_sizes(session, now)))  # type: ignore[arg-type]
    return own + generate_latest(registry), CONTENT_TYPE_LATEST


def scrape_allowed() -> bool:
    """A `METRICS_TOKEN` bearer, or an address in `METRICS_ALLOW_IPS`; nobody by default."""
    config = current_app.config
    token = config.get("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and header[:7].lower() == "bearer ":
        return hmac.compare_digest(header[7:].strip().encode(), str(token).encode())
    return request.remote_addr in set(config.get("METRICS_ALLOW_IPS") or ())


def init_app(app: Flask) -> None:
    @app.after_request
    def _count(response: Response) -> Response:
        if not app.config.get("METRICS_ENABLED", True):
            return response
        route = route_of_request()
        started = request.environ.get("wangge.started", time.perf_counter())
        duration_s = time.perf_counter() - started
        m = metrics()
        m.requests.labels(route=route, method=request.method, status=response.status_code).inc()
        m.latency.labels(route=route, method=request.method).observe(duration_s)
        return response

    @app.get("/metrics")
    def prometheus_metrics() -> Response:
        from server.extensions import db
        from sync.db import utcnow

        if not scrape_allowed():
            abort(404)
        body, content_type = exposition(db.session, utcnow())
        return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
