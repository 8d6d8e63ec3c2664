"""Every stored location is a whole point: lon and lat both set (in range) or both null

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:00:00

A half point (`lat` null beside a `lon`) was accepted by some entries and broke the office
map; the entries now refuse one (server/locations.py) and this CHECK holds the rule in the
database. Rows that break it already are cleared to "no point" first: half a point, NaN or a
value out of range places nothing, and a case or household without a point is one the
pages already handle (unplaced, placed by its address).
"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLES = ("cases", "photos", "photo_links", "households", "visits", "standard_addresses")
WHOLE_POINT_SQL = (
    "(lon IS NULL AND lat IS NULL) OR (lon IS NOT NULL AND lat IS NOT NULL"
    " AND lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90)"
)


def upgrade():
    for name in TABLES:
        table = sa.table(name, sa.column("lon", sa.Float), sa.column("lat", sa.Float))
        # NOT (...) is NULL, not true, when a comparison meets a NULL: ask for each case.
        broken = sa.or_(
            sa.and_(table.c.lon.is_(None), table.c.lat.is_not(None)),
            sa.and_(table.c.lon.is_not(None), table.c.lat.is_(None)),
            sa.not_(table.c.lon.between(-180, 180)),
            sa.not_(table.c.lat.between(-90, 90)),
        )
        op.execute(table.update().where(broken).values(lon=None, lat=None))
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_check_constraint(op.f(f"ck_{name}_whole_point"), WHOLE_POINT_SQL)


def downgrade():
    for name in reversed(TABLES):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{name}_whole_point"), type_="check")
