"""Grid uploads kept for re-import (another datum, swapped axes, levels from codes)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:00:00

"""

from alembic import op
import sqlalchemy as sa

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "grid_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sync.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_grid_uploads_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_uploads")),
    )
    with op.batch_alter_table("grid_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grid_uploads_sha256"), ["sha256"], unique=False)
    for table in ("grid_versions", "grid_import_jobs"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("upload_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_upload_id_grid_uploads"),
                "grid_uploads",
                ["upload_id"],
                ["id"],
            )


def downgrade():
    for table in ("grid_import_jobs", "grid_versions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_upload_id_grid_uploads"), type_="foreignkey"
            )
            batch_op.drop_column("upload_id")
    with op.batch_alter_table("grid_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grid_uploads_sha256"))
    op.drop_table("grid_uploads")
