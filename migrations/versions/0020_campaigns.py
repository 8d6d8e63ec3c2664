"""Campaigns, their cells and targets; form answers; a visit form per care tag (issue 18)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 05:05:37.017416

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import sync.db  # noqa: F401  (custom column types)

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title_zh", sa.String(length=100), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("selection", JSON, nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_at", sync.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sync.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sync.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_campaigns_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"], name=op.f("fk_campaigns_form_id_forms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("code", name=op.f("uq_campaigns_code")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaigns_form_id"), ["form_id"], unique=False)
        batch_op.create_index("ix_campaigns_version_id", ["version", "id"], unique=False)

    op.create_table(
        "campaign_cells",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("cell_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_cells_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "cell_code", name=op.f("pk_campaign_cells")),
    )
    op.create_table(
        "campaign_targets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("resident_id", sa.Uuid(), nullable=True),
        sa.Column("road", sa.String(length=60), nullable=False),
        sa.Column("lane", sa.String(length=20), nullable=False),
        sa.Column("building", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("cell_code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_targets_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_campaign_targets_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_campaign_targets_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_targets")),
    )
    with op.batch_alter_table("campaign_targets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_targets_campaign_cell", ["campaign_id", "cell_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_campaign_targets_cell_code"), ["cell_code"], unique=False
        )
        batch_op.create_index("ix_campaign_targets_version_id", ["version", "id"], unique=False)

    op.create_table(
        "form_answers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("form_version_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("resident_id", sa.Uuid(), nullable=True),
        sa.Column("cell_code", sa.String(length=64), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("values", JSON, nullable=False),
        sa.Column("answered_at", sync.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", sync.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("case_ids", JSON, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_form_answers_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["form_version_id"],
            ["form_versions.id"],
            name=op.f("fk_form_answers_form_version_id_form_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_form_answers_household_id_households"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_form_answers_resident_id_residents")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["campaign_targets.id"],
            name=op.f("fk_form_answers_target_id_campaign_targets"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_form_answers_visit_id_visits")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["users.id"], name=op.f("fk_form_answers_worker_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_answers")),
    )
    with op.batch_alter_table("form_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_form_answers_campaign_target", ["campaign_id", "target_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_form_answers_cell_code"), ["cell_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_form_answers_form_version_id"), ["form_version_id"], unique=False
        )
        batch_op.create_index("ix_form_answers_version_id", ["version", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_form_answers_visit_id"), ["visit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_form_answers_worker_id"), ["worker_id"], unique=False)

    with op.batch_alter_table("care_tags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visit_form_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_care_tags_visit_form_id_forms"), "forms", ["visit_form_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("care_tags", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_care_tags_visit_form_id_forms"), type_="foreignkey")
        batch_op.drop_column("visit_form_id")

    with op.batch_alter_table("form_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_answers_worker_id"))
        batch_op.drop_index(batch_op.f("ix_form_answers_visit_id"))
        batch_op.drop_index("ix_form_answers_version_id")
        batch_op.drop_index(batch_op.f("ix_form_answers_form_version_id"))
        batch_op.drop_index(batch_op.f("ix_form_answers_cell_code"))
        batch_op.drop_index("ix_form_answers_campaign_target")

    op.drop_table("form_answers")
    with op.batch_alter_table("campaign_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_targets_version_id")
        batch_op.drop_index(batch_op.f("ix_campaign_targets_cell_code"))
        batch_op.drop_index("ix_campaign_targets_campaign_cell")

    op.drop_table("campaign_targets")
    op.drop_table("campaign_cells")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_version_id")
        batch_op.drop_index(batch_op.f("ix_campaigns_form_id"))

    op.drop_table("campaigns")
