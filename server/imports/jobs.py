"""Large files are checked and applied in a background thread; the run row shows the state.

Like the grid import (server/grid/jobs.py): the thread belongs to the process that took the
upload, with its own app context and session; the page polls the run. A process that dies
mid-job (killed, restarted) leaves the run ``checking`` or ``applying`` with nothing written
(one transaction). ``fail_stale`` finds such runs when the runs are looked at (pages, API,
``flask imports list``): a run checking for longer than ``IMPORT_JOB_STALE_SECONDS`` (since
it was uploaded) is refused with ``job_interrupted`` (upload it again); one applying for
longer (since its apply began) is ``checked`` again with ``apply_interrupted`` (apply it
again). A job still running in this process is never touched.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.extensions import db
from server.imports import operations
from server.imports.models import ImportRun
from server.imports.report import ImportReport, problem
from server.imports.wiring import make_context
from sync.db import utcnow

log = logging.getLogger(__name__)
THREADS_KEY = "wangge.import_threads"


def _run(
    app: Flask, run_id: uuid.UUID, actor_id: int | None, work: Callable[..., Any], on_failure: str
) -> None:
    with app.app_context():
        try:
            work(make_context(db.session, actor_id), run_id)
            db.session.commit()
        except Exception as error:
            log.exception("import %s failed", run_id)
            db.session.rollback()
            db.session.execute(
                update(ImportRun)
                .where(ImportRun.id == run_id)
                .values(state=on_failure, report={"job_error": f"{type(error).__name__}"[:200]})
                if on_failure == "refused"
                else update(ImportRun)
                .where(ImportRun.id == run_id)
                .values(state=on_failure, applied_at=None)
            )
            db.session.commit()
        finally:
            db.session.remove()


def _start(app: Flask, name: str, target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    app.extensions.setdefault(THREADS_KEY, []).append(thread)
    thread.start()
    return thread


def start_check(app: Flask, run_id: uuid.UUID, actor_id: int | None) -> threading.Thread:
    """Check a run recorded with ``operations.create_run`` (committed) in the background."""
    return _start(
        app,
        f"import-check-{run_id}",
        lambda: _run(app, run_id, actor_id, operations.check_run, "refused"),
    )


def start_apply(app: Flask, run_id: uuid.UUID, actor_id: int | None) -> threading.Thread:
    """Apply a run already claimed (``operations.claim``, committed) in the background; on an
    error the run is ``checked`` again and nothing was written."""

    def work(ctx: Any, run: uuid.UUID) -> None:
        operations.apply_run(ctx, run, claimed=True)

    return _start(
        app, f"import-apply-{run_id}", lambda: _run(app, run_id, actor_id, work, "checked")
    )


def wait_for_imports(app: Flask, timeout_s: float = 300.0) -> None:
    """Join this app's import threads (tests)."""
    threads: list[threading.Thread] = app.extensions.get(THREADS_KEY, [])
    for thread in list(threads):
        thread.join(timeout_s)
        threads.remove(thread)


STALE_SECONDS = 900  # default of IMPORT_JOB_STALE_SECONDS: a 100,000-person check takes ~2 min


def _alive(app: Flask) -> set[str]:
    """The run ids (as text) of this process's import threads still running."""
    threads: list[threading.Thread] = app.extensions.get(THREADS_KEY, [])
    return {t.name.split("-", 2)[-1] for t in threads if t.is_alive()}


def fail_stale(app: Flask, session: Session, *, now: dt.datetime | None = None) -> int:
    """Refuse runs stuck ``checking`` and put runs stuck ``applying`` back to ``checked``,
    each with a message saying what happened; return how many (the caller commits)."""
    seconds = int(app.config.get("IMPORT_JOB_STALE_SECONDS", STALE_SECONDS))
    cutoff = (now or utcnow()) - dt.timedelta(seconds=seconds)
    minutes = max(1, seconds // 60)
    alive = _alive(app)
    stuck = session.scalars(
        select(ImportRun).where(
            ((ImportRun.state == "checking") & (ImportRun.created_at < cutoff))
            | ((ImportRun.state == "applying") & (ImportRun.applied_at < cutoff))
        )
    ).all()
    done = 0
    for run in stuck:
        if str(run.id) in alive:
            continue
        values: dict[str, Any]
        if run.state == "checking":
            report = ImportReport([problem("job_interrupted", minutes=minutes)])
            values = {
                "state": "refused",
                "report": report.to_dict(),
                "counts": {**(run.counts or {}), **report.counts()},
            }
        else:
            found = problem("apply_interrupted", minutes=minutes).to_dict()
            old = dict(run.report or {})
            values = {
                "state": "checked",
                "applied_at": None,
                "report": {
                    **old,
                    "problems": [found, *old.get("problems", [])],
                    "warnings": int(old.get("warnings", 0)) + 1,
                    "counts_by_rule": {**old.get("counts_by_rule", {}), found["rule"]: 1},
                },
            }
        changed = session.execute(  # conditional: a job finishing right now wins
            update(ImportRun)
            .where(ImportRun.id == run.id, ImportRun.state == run.state)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            log.warning(
                "import %s stuck %s past %d s: now %s", run.id, run.state, seconds, values["state"]
            )
            session.expire(run)
            done += 1
    return done
