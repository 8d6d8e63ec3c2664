"""Device tokens that expire and renew without a password (rotation with reuse detection)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 23:00:00

Tokens issued before this step never expired: they get a full lifetime from now and count
as signed in now, so nobody is signed out by the upgrade (docs/security.md, "Device tokens").
"""

from alembic import op
import sqlalchemy as sa

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

#: The default TOKEN_HOURS (server/config.py) at the time of this step.
FIRST_LIFETIME_HOURS = 24


def upgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sync.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("signed_in_at", sync.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("renewed_at", sync.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("successor_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_tokens_successor_id_api_tokens"), "api_tokens", ["successor_id"], ["id"]
        )
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    tokens = sa.table(
        "api_tokens",
        sa.column("expires_at", sync.db.UTCDateTime(timezone=True)),
        sa.column("signed_in_at", sync.db.UTCDateTime(timezone=True)),
        sa.column("session_epoch", sa.Integer()),
        sa.column("device_id", sa.Uuid()),
    )
    users = sa.table("users", sa.column("id", sa.Integer()), sa.column("session_epoch", sa.Integer()))
    devices = sa.table("devices", sa.column("id", sa.Uuid()), sa.column("user_id", sa.Integer()))
    epoch = (
        sa.select(users.c.session_epoch)
        .select_from(users.join(devices, devices.c.user_id == users.c.id))
        .where(devices.c.id == tokens.c.device_id)
        .scalar_subquery()
    )
    op.execute(
        tokens.update().values(
            expires_at=now + dt.timedelta(hours=FIRST_LIFETIME_HOURS),
            signed_in_at=now,
            session_epoch=sa.func.coalesce(epoch, 0),
        )
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=sync.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.alter_column("signed_in_at", existing_type=sync.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.alter_column("session_epoch", existing_type=sa.Integer(), nullable=False)


def downgrade():
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_tokens_successor_id_api_tokens"), type_="foreignkey")
        batch_op.drop_column("successor_id")
        batch_op.drop_column("renewed_at")
        batch_op.drop_column("session_epoch")
        batch_op.drop_column("signed_in_at")
        batch_op.drop_column("expires_at")
