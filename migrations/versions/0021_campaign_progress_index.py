"""An index for a campaign's progress: answers by campaign, cell, worker, target (issue 18)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 06:00:00

The progress page and its map group a campaign's answers by cell and worker and count the
targets done, late answers and findings (server/campaigns/progress.py); with this covering
index SQLite answers the map's JSON about 5× faster (bench/bench_campaign_progress.py).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

COLUMNS = ["campaign_id", "cell_code", "worker_id", "target_id", "late", "case_ids"]


def upgrade():
    with op.batch_alter_table("form_answers", schema=None) as batch_op:
        batch_op.create_index("ix_form_answers_campaign_progress", COLUMNS, unique=False)


def downgrade():
    with op.batch_alter_table("form_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_form_answers_campaign_progress")
