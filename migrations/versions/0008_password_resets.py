"""Password resets: one-time reset links (hashed) and users' e-mail addresses

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 08:29:29

"""

from alembic import op
import sqlalchemy as sa

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # Adding a nullable column is an ALTER on PostgreSQL and a plain ADD COLUMN on SQLite
    # (batch mode only rebuilds `users` when it must).
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))

    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sync.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sync.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", sync.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sync.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name=op.f("fk_password_resets_issued_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_password_resets_token_sha256")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_resets_user_id"), ["user_id"], unique=False)


def downgrade():
    # The table that points at `users` goes first, so SQLite's rebuild of `users` below
    # (DROP COLUMN in batch mode) leaves no dangling foreign keys behind.
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_resets_user_id"))
    op.drop_table("password_resets")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email")
