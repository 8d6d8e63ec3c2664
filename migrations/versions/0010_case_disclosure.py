"""Case disclosure: what public surfaces may show of a case; existing cases classified

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 09:00:00

Existing rows are classified as server/privacy/declaration.py classes new ones:
cases a household visit named, and cases of the visit channel, become `private` (they leave
Open311 and every public page); cases filed by Open311 partners stay `public`; every other
case becomes `listed` (its kind, state and rough place only: residents were never told their
text would be shown to anyone).
"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

DISCLOSURE = sa.Enum(
    "public",
    "listed",
    "private",
    name="disclosure",
    native_enum=False,
    create_constraint=True,
    length=32,
)


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("disclosure", DISCLOSURE, nullable=False, server_default="listed")
        )
    op.execute("UPDATE cases SET disclosure = 'public' WHERE channel = 'open311'")
    op.execute(
        "UPDATE cases SET disclosure = 'private' WHERE channel = 'visit' OR id IN "
        "(SELECT case_id FROM visits WHERE case_id IS NOT NULL)"
    )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        # SQLite's table copy would keep the CHECK naming a column that is gone.
        batch_op.drop_constraint(op.f("ck_cases_disclosure"), type_="check")
        batch_op.drop_column("disclosure")
