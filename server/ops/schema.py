"""Which schema revisions a database has passed through, and whether this code can serve it.

Alembic's `alembic_version` holds only the current revision. An old server that meets a
revision written after it was released cannot tell from that name alone whether the schema
only moved ahead of it (expand-then-contract migrations keep old code working: ready) or went
somewhere else (not ready). So every migration run also records, in `schema_lineage`, the
current revision and all its ancestors (migrations/env.py calls `record_lineage` after every
step; migration 0014 created the table). Old code is ready when its own head is in there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

LINEAGE_TABLE = "schema_lineage"


def ancestry(script: Any, heads: Iterable[str]) -> set[str]:
    """Every revision from `heads` down to base, by the migration scripts (`ScriptDirectory`)."""
    found: set[str] = set()
    for head in heads:
        for revision in script.iterate_revisions(head, "base"):
            found.add(revision.revision)
    return found


def record_lineage(connection: Connection, script: Any, heads: Iterable[str]) -> None:
    """Rewrite `schema_lineage`: one row (head, revision) per current head and ancestor.

    Rows name their head, so a revision written into `alembic_version` by hand (or by a tool
    that skips this hook) matches no row and reads as unknown, never as "ahead".
    """
    if not sa.inspect(connection).has_table(LINEAGE_TABLE):
        return  # before migration 0014 (or after stepping below it)
    rows = [
        {"head": head, "revision": revision}
        for head in sorted(set(heads))
        for revision in sorted(ancestry(script, [head]))
    ]
    connection.execute(sa.text(f"DELETE FROM {LINEAGE_TABLE}"))
    if rows:
        connection.execute(
            sa.text(f"INSERT INTO {LINEAGE_TABLE} (head, revision) VALUES (:head, :revision)"),
            rows,
        )


@dataclass(frozen=True)
class CodeRevisions:
    """What this code's migration scripts know: its head and the head's ancestors."""

    head: str
    ancestors: frozenset[str]  # the head included
    known: frozenset[str]  # every revision in the scripts

    @classmethod
    def from_directory(cls, directory: str) -> CodeRevisions:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", directory)
        script = ScriptDirectory.from_config(config)
        head = script.get_current_head()
        if head is None:
            raise ValueError(f"no migrations in {directory}")
        return cls(
            head=head,
            ancestors=frozenset(ancestry(script, [head])),
            known=frozenset(r.revision for r in script.walk_revisions()),
        )


def judge(session: Session, code: CodeRevisions) -> dict[str, Any]:
    """Compare the database's revision with the code's: the `migrations` part of readiness.

    `state` is `at_head` (same revision), `ahead` (the database moved past the code's head
    along the same line: old code during a rolling upgrade, still ready), `behind` (the
    database needs `flask db upgrade`) or `unknown` (a revision on another line, or the
    database was never migrated). Only the first two are ready.
    """
    current = session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    report: dict[str, Any] = {
        "current": current,
        "head": code.head,
        "at_head": current == code.head,
    }
    if current == code.head:
        report["state"] = "at_head"
    elif current in code.ancestors:
        report["state"] = "behind"
    elif current is None or current in code.known:
        report["state"] = "unknown"
    else:
        bind = session.get_bind()
        has_lineage = sa.inspect(bind).has_table(LINEAGE_TABLE)
        passed = (
            has_lineage
            and session.execute(
                sa.text(
                    f"SELECT 1 FROM {LINEAGE_TABLE} WHERE head = :current AND revision = :mine"
                ),
                {"current": current, "mine": code.head},
            ).scalar()
        )
        report["state"] = "ahead" if passed else "unknown"
    report["ready"] = report["state"] in {"at_head", "ahead"}
    return report
