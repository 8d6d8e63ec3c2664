"""Office import: import runs, files and reviews; standard addresses; category mappings;
sealed identity numbers and register keys on residents and households

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:14:57.927609

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('standard_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('road', sa.String(length=60), nullable=False),
    sa.Column('lane', sa.String(length=20), nullable=False),
    sa.Column('sublane', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('building_key', sa.String(length=160), nullable=False),
    sa.Column('alias', sa.String(length=200), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('footprint_wkb', sa.LargeBinary(), nullable=True),
    sa.Column('source_datum', sa.String(length=32), nullable=False),
    sa.Column('cell_code', sa.String(length=64), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sync.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sync.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_addresses')),
    sa.UniqueConstraint('code', name=op.f('uq_standard_addresses_code'))
    )
    with op.batch_alter_table('standard_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_addresses_building_key'), ['building_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_standard_addresses_cell_code'), ['cell_code'], unique=False)
        batch_op.create_index('ix_standard_addresses_road_key', ['road', 'building_key'], unique=False)

    op.create_table('category_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=60), nullable=False),
    sa.Column('tag_code', sa.String(length=40), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sync.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tag_code'], ['care_tags.code'], name=op.f('fk_category_mappings_tag_code_care_tags')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_category_mappings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_mappings')),
    sa.UniqueConstraint('text', name=op.f('uq_category_mappings_text'))
    )
    op.create_table('import_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('source', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('mapping', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('report', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sync.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', sync.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'], name=op.f('fk_import_runs_applied_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_runs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_runs_file_sha256'), ['file_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_runs_kind'), ['kind'], unique=False)

    op.create_table('import_files',
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('rows', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['import_runs.id'], name=op.f('fk_import_files_run_id_import_runs')),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_import_files'))
    )
    op.create_table('import_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sync.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sync.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_import_reviews_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['run_id'], ['import_runs.id'], name=op.f('fk_import_reviews_run_id_import_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_reviews'))
    )
    with op.batch_alter_table('import_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_reviews_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_reviews_subject_id'), ['subject_id'], unique=False)

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.add_column(sa.Column('register_key', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('address_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('address_match', sa.String(length=16), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_households_address_id'), ['address_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_households_register_key'), ['register_key'])
        batch_op.create_foreign_key(batch_op.f('fk_households_address_id_standard_addresses'), 'standard_addresses', ['address_id'], ['id'])

    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_number_sealed', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('id_number_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('id_tail_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('register_key', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_residents_id_number_digest'), ['id_number_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_residents_id_tail_digest'), ['id_tail_digest'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_residents_register_key'), ['register_key'])



def downgrade():
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_residents_register_key'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_residents_id_tail_digest'))
        batch_op.drop_index(batch_op.f('ix_residents_id_number_digest'))
        batch_op.drop_column('register_key')
        batch_op.drop_column('id_tail_digest')
        batch_op.drop_column('id_number_digest')
        batch_op.drop_column('id_number_sealed')

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_households_address_id_standard_addresses'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_households_register_key'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_households_address_id'))
        batch_op.drop_column('address_match')
        batch_op.drop_column('address_id')
        batch_op.drop_column('register_key')

    with op.batch_alter_table('import_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_reviews_subject_id'))
        batch_op.drop_index(batch_op.f('ix_import_reviews_run_id'))

    op.drop_table('import_reviews')
    op.drop_table('import_files')
    with op.batch_alter_table('import_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_runs_kind'))
        batch_op.drop_index(batch_op.f('ix_import_runs_file_sha256'))
        batch_op.drop_index(batch_op.f('ix_import_runs_created_at'))

    op.drop_table('import_runs')
    op.drop_table('category_mappings')
    with op.batch_alter_table('standard_addresses', schema=None) as batch_op:
        batch_op.drop_index('ix_standard_addresses_road_key')
        batch_op.drop_index(batch_op.f('ix_standard_addresses_cell_code'))
        batch_op.drop_index(batch_op.f('ix_standard_addresses_building_key'))

    op.drop_table('standard_addresses')
