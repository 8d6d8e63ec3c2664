"""A resident's status on the register: active, moved out or deceased (kept on record)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 12:00:00

People who leave stay in the table (visits and the register's history name them); the pull
and the visit plans read only the active ones (server/register/operations.py).
"""

from alembic import op
import sqlalchemy as sa

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch_op.add_column(sa.Column("status_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("status_reason", sa.Text(), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.drop_column("status_reason")
        batch_op.drop_column("status_on")
        batch_op.drop_column("status")
