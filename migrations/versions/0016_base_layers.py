"""Base layers: roads, building footprints and points of interest drawn under the cells

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 12:30:00

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "base_layers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "retired",
                name="base_layer_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source_datum", sa.String(length=32), nullable=False),
        sa.Column("source_filename", sa.String(length=255), nullable=True),
        sa.Column("attribution", sa.String(length=300), nullable=True),
        sa.Column("report", JSON, nullable=False),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sync.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", sync.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sync.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_base_layers_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_layers")),
    )
    with op.batch_alter_table("base_layers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_base_layers_kind"), ["kind"], unique=False)
    op.create_table(
        "base_layer_features",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("label", sa.String(length=120), nullable=True),
        sa.Column("properties", JSON, nullable=False),
        sa.Column("geometry", JSON, nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["base_layers.id"],
            name=op.f("fk_base_layer_features_layer_id_base_layers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_layer_features")),
    )
    with op.batch_alter_table("base_layer_features", schema=None) as batch_op:
        batch_op.create_index(
            "ix_base_layer_features_bbox",
            ["layer_id", "min_lon", "max_lon", "min_lat", "max_lat"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_base_layer_features_layer_id"), ["layer_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("base_layer_features", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_base_layer_features_layer_id"))
        batch_op.drop_index("ix_base_layer_features_bbox")
    op.drop_table("base_layer_features")
    with op.batch_alter_table("base_layers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_base_layers_kind"))
    op.drop_table("base_layers")
