"""schema_lineage: the revisions this schema has passed through (readiness of older code)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 12:00:00

Expand only: a new table that no released code reads or writes. migrations/env.py fills it
after every step (server/ops/schema.py), so a server released before a later migration can
see that the database moved ahead of it along its own line and stay ready (docs/operations.md,
"Upgrades").
"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "schema_lineage",
        sa.Column("head", sa.String(length=32), primary_key=True),
        sa.Column("revision", sa.String(length=32), primary_key=True),
    )


def downgrade():
    op.drop_table("schema_lineage")
