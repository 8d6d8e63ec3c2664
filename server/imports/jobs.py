"""Large files are checked and applied in a background thread; the run row shows the state.

Like the grid import (server/grid/jobs.py): the thread belongs to the process that took the
upload, with its own app context and session; the page polls the run. A process that dies
mid-job leaves the run ``checking`` or ``applying`` with nothing written (one transaction):
withdraw it and upload the file again.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import update

from server.extensions import db
from server.imports import operations
from server.imports.models import ImportRun
from server.imports.wiring import make_context

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
                else update(ImportRun).where(ImportRun.id == run_id).values(state=on_failure)
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
