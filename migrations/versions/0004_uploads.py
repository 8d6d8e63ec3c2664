"""uploads: the state of resumable photo uploads (tus), so offsets survive restarts

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-26 05:22:07.099205

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql  # noqa: F401  (JSONB variants)

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('uploads',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('mime', sa.String(length=32), nullable=False),
    sa.Column('upload_length', sa.BigInteger(), nullable=False),
    sa.Column('upload_offset', sa.BigInteger(), nullable=False),
    sa.Column('bytes_written', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('open', 'finished', 'failed', 'terminated', 'expired', name='upload_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('deduplicated', sa.Boolean(), nullable=False),
    sa.Column('failure', sa.String(length=40), nullable=True),
    sa.Column('metadata_values', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sync.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sync.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sync.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sync.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_uploads_device_id_devices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_uploads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uploads_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_user_id'))
        batch_op.drop_index(batch_op.f('ix_uploads_sha256'))
        batch_op.drop_index(batch_op.f('ix_uploads_device_id'))

    op.drop_table('uploads')
