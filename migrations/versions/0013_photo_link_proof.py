"""Photo links carry a proof (the linker sent the bytes, or could already read them)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 10:00:00

A link without a proof is pending: it grants nobody reading (server/photos/access.py).
Existing links are judged by what the database shows:

* links made without a device (back-office forms, residents' reports, and merged copies of
  them) came with their bytes: `upload`;
* a phone's link whose author has a finished upload of those bytes that was not the dedupe
  shortcut: `upload`;
* otherwise a link by a dispatcher, manager or admin (who read every photo): `access`;
* anything else stays pending: its device's next pull lists the hash as missing and the app
  sends the bytes again if it still has them.
"""

from alembic import op
import sqlalchemy as sa

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OFFICE_ROLES = ("dispatcher", "manager", "admin")

links = sa.table(
    "photo_links",
    sa.column("photo_sha256", sa.String),
    sa.column("added_by_id", sa.Integer),
    sa.column("device_id", sa.Uuid),
    sa.column("proof", sa.String),
)
uploads = sa.table(
    "uploads",
    sa.column("sha256", sa.String),
    sa.column("user_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("deduplicated", sa.Boolean),
)
users = sa.table("users", sa.column("id", sa.Integer), sa.column("role", sa.String))


def upgrade():
    with op.batch_alter_table("photo_links", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "proof",
                sa.Enum(
                    "upload",
                    "access",
                    name="photo_proof",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=True,
            )
        )
    op.execute(links.update().where(links.c.device_id.is_(None)).values(proof="upload"))
    sent = (
        sa.select(sa.literal(1))
        .select_from(uploads)
        .where(
            uploads.c.sha256 == links.c.photo_sha256,
            uploads.c.user_id == links.c.added_by_id,
            uploads.c.status == "finished",
            uploads.c.deduplicated.is_(sa.false()),
        )
        .exists()
    )
    op.execute(links.update().where(links.c.proof.is_(None), sent).values(proof="upload"))
    office = sa.select(users.c.id).where(users.c.role.in_(OFFICE_ROLES))
    op.execute(
        links.update()
        .where(links.c.proof.is_(None), links.c.added_by_id.in_(office))
        .values(proof="access")
    )


def downgrade():
    # The CHECK goes first: SQLite's batch rebuild would otherwise copy a constraint naming
    # a column that is gone.
    with op.batch_alter_table("photo_links", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_photo_links_photo_proof"), type_="check")
        batch_op.drop_column("proof")
