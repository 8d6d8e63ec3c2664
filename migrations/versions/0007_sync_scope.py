"""Sync scope: scope fingerprints and their cells (scope changes as deletions), (version, id) keys

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-26 06:40:00

"""

from alembic import op
import sqlalchemy as sa

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Pulled tables whose key listing walks (version, id) from a cursor.
KEYED = ("households", "residents", "cases", "visits", "cells")


def upgrade():
    op.create_table(
        "sync_scopes",
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("grid_version_id", sa.Integer(), nullable=True),
        sa.Column("cell_codes", sync.db.JSONType, nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sync.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_sync_scopes")),
    )
    with op.batch_alter_table("sync_scope_exits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_scope_exits_table_version", ["table_name", "version"], unique=False
        )
    for table in KEYED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_version"))
            batch_op.create_index(f"ix_{table}_version_id", ["version", "id"], unique=False)


def downgrade():
    for table in KEYED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_version_id")
            batch_op.create_index(batch_op.f(f"ix_{table}_version"), ["version"], unique=False)
    with op.batch_alter_table("sync_scope_exits", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_scope_exits_table_version")
    op.drop_table("sync_scopes")
