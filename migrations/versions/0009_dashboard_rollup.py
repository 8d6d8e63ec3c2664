"""Dashboard roll-up: per-day counts by cell, worker and unit, built days and dirty marks

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 09:10:00

"""

from alembic import op
import sqlalchemy as sa

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COUNTS = (
    "reported",
    "received",
    "accepted",
    "due",
    "closed",
    "closed_on_time",
    "postponed",
    "urgent_due",
    "urgent_closed",
    "urgent_on_time",
    "urgent_postponed",
    "dispatch_n",
    "close_n",
    "rework",
    "rework_flagged",
    "ratings",
    "rating_sum",
)


def upgrade():
    op.create_table(
        "dashboard_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("dispatch_seconds", sa.Float(), nullable=False),
        sa.Column("close_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_days")),
    )
    with op.batch_alter_table("dashboard_days", schema=None) as batch_op:
        batch_op.create_index("ix_dashboard_days_dim_day", ["dim", "day"], unique=False)
    op.create_table(
        "dashboard_built_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("built_at", sync.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_closed_at", sync.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_dashboard_built_days")),
    )
    op.create_table(
        "dashboard_dirty_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_dirty_days")),
    )
    with op.batch_alter_table("dashboard_dirty_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_dirty_days_day"), ["day"], unique=False)


def downgrade():
    # Derived data only: dropping loses nothing a rebuild (`flask dashboard rollup`) cannot redo.
    with op.batch_alter_table("dashboard_dirty_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_dirty_days_day"))
    op.drop_table("dashboard_dirty_days")
    op.drop_table("dashboard_built_days")
    with op.batch_alter_table("dashboard_days", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_days_dim_day")
    op.drop_table("dashboard_days")
