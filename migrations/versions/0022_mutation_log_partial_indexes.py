"""The mutation log indexed only where it is read: two partial indexes of its rejected rows

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 05:00:00

Every mutation a phone pushes writes one `sync_mutations` row, and each index of the log is
one more B-tree entry per row. Two full indexes served reads of a few rows:

* `ix_sync_mutations_device_version` (device_id, server_version): the `rejections` pull
  source (a device's rejected rows by version) and a device's highest version (which pull
  page a replica may answer). The first now has a partial index of rejected rows; the second
  reads the row of the device's highest seq through the unique (device_id, seq) key, which
  gives the same version: a device's groups take the version clock in seq order
  (docs/sync-protocol.md §The serial section).
* `ix_sync_mutations_user_id`: the worker's to-do list of recent rejections, now a partial
  index of rejected rows by user and time.

Applied rows (nearly all) enter neither: SQLite writes 1,000 log rows ~25 % faster
(docs/scaling.md §Push throughput on SQLite, "Fourth pass").
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

REJECTED_ONLY = sa.text("status = 'rejected'")


def upgrade():
    with op.batch_alter_table("sync_mutations", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_mutations_device_version")
        batch_op.drop_index("ix_sync_mutations_user_id")
        batch_op.create_index(
            "ix_sync_mutations_rejected_device",
            ["device_id", "server_version", "id"],
            unique=False,
            sqlite_where=REJECTED_ONLY,
            postgresql_where=REJECTED_ONLY,
        )
        batch_op.create_index(
            "ix_sync_mutations_rejected_user",
            ["user_id", "received_at"],
            unique=False,
            sqlite_where=REJECTED_ONLY,
            postgresql_where=REJECTED_ONLY,
        )


def downgrade():
    with op.batch_alter_table("sync_mutations", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_mutations_rejected_user")
        batch_op.drop_index("ix_sync_mutations_rejected_device")
        batch_op.create_index("ix_sync_mutations_user_id", ["user_id"], unique=False)
        batch_op.create_index(
            "ix_sync_mutations_device_version", ["device_id", "server_version"], unique=False
        )
