"""Background grid imports: a job row any process can poll, the work in a thread.

The thread belongs to the process that took the upload (the bytes are in its memory, and
in ``grid_uploads`` for re-imports); the job row is in the database, so a page served by
another process still sees progress. If that process dies mid-import the job stays
``running``: the page says when it started, and the upload can simply be sent again.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.exceptions import NotFound
from server.extensions import db
from server.grid import operations
from server.grid.models import GridImportJob
from sync.db import utcnow

log = logging.getLogger(__name__)
THREADS_KEY = "wangge.grid_import_threads"


def create_job(
    session: Session,
    actor: User | None,
    size_bytes: int,
    options: operations.ImportOptions,
    upload_id: int | None = None,
) -> GridImportJob:
    job = GridImportJob(
        filename=options.filename,
        size_bytes=size_bytes,
        options=options.to_dict(),
        upload_id=upload_id,
        created_by_id=actor.id if actor else None,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: uuid.UUID) -> GridImportJob:
    job = session.get(GridImportJob, job_id)
    if job is None:
        raise NotFound(_l("No import %(id)s.", id=str(job_id)), field="job_id")
    return job


def run_job(
    session: Session,
    job_id: uuid.UUID,
    data: bytes,
    options: operations.ImportOptions,
    checks: operations.ImportChecks,
) -> None:
    """Do the import of a job, committing its progress as it goes (own session, own thread)."""
    job = get_job(session, job_id)
    actor = session.get(User, job.created_by_id) if job.created_by_id else None
    job.state = "running"
    session.commit()

    def progress(done: int, total: int) -> None:
        session.execute(
            update(GridImportJob).where(GridImportJob.id == job_id).values(done=done, total=total)
        )
        session.commit()

    def storing() -> None:
        # Set before the cells go in: with SQLite the insert holds the write lock until commit.
        progress_stage(session, job_id, "storing")

    outcome = operations.import_grid(
        session,
        actor,
        data,
        options,
        checks=checks,
        upload_id=job.upload_id,
        progress=progress,
        before_store=storing,
    )
    job = get_job(session, job_id)
    job.state, job.stage, job.finished_at = "done", "done", utcnow()
    job.done = job.total = max(job.total, 1)
    job.grid_version_id = outcome.version.id if outcome.version else None
    job.upload_id = outcome.upload_id
    job.report = None if outcome.version else outcome.report
    session.commit()


def progress_stage(session: Session, job_id: uuid.UUID, stage: str) -> None:
    session.execute(update(GridImportJob).where(GridImportJob.id == job_id).values(stage=stage))
    session.commit()


def start_thread(
    app: Flask,
    job_id: uuid.UUID,
    data: bytes,
    options: operations.ImportOptions,
    checks: operations.ImportChecks,
) -> threading.Thread:
    """Run the job in a daemon thread with its own app context and session."""

    def work() -> None:
        with app.app_context():
            try:
                run_job(db.session, job_id, data, options, checks)
            except Exception as error:
                log.exception("grid import %s failed", job_id)
                db.session.rollback()
                db.session.execute(
                    update(GridImportJob)
                    .where(GridImportJob.id == job_id)
                    .values(state="failed", error=f"{type(error).__name__}: {error}"[:500])
                )
                db.session.commit()
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"grid-import-{job_id}", daemon=True)
    app.extensions.setdefault(THREADS_KEY, []).append(thread)
    thread.start()
    return thread


def wait_for_imports(app: Flask, timeout_s: float = 120.0) -> None:
    """Join this app's import threads (tests, and the CLI before it exits)."""
    threads: list[Any] = app.extensions.get(THREADS_KEY, [])
    for thread in list(threads):
        thread.join(timeout_s)
        threads.remove(thread)
