"""Put markup in every name a map shows, in a loaded demo database (run as a module).

`python -m tests.server.map_markup_seed` with the server's WANGGE_* environment: cell, unit,
worker, catalogue and service-point names, case titles, door and household addresses and a
grid problem spot all start with MARKUP; prints the ids the browser test opens, as JSON.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

#: What an uploaded grid or an import could carry: a script if parsed, two tags if shown.
MARKUP = "<img src=x onerror=window.__pwned=1><b>x</b>"


def seed() -> dict[str, object]:
    """Rename everything a map shows; return {"case": id, "grid": id}."""
    from server import create_app
    from server.accounts.models import User
    from server.addresses.models import StandardAddress
    from server.cases.models import Case
    from server.catalogue.models import CatalogueItem
    from server.enums import GridStatus
    from server.extensions import db
    from server.grid.models import Cell, GridVersion
    from server.imports.models import ImportReview, ImportRun
    from server.lifeservices.models import ServicePoint
    from server.population.models import Household
    from server.units.models import Unit

    app = create_app()
    with app.app_context():
        s = db.session
        for cell in s.scalars(select(Cell)):
            cell.name = MARKUP + cell.name
        for unit in s.scalars(select(Unit)):
            unit.name_zh = unit.name_en = MARKUP + unit.name_zh
        for user in s.scalars(select(User)):
            user.display_name = MARKUP + user.display_name
        for item in s.scalars(select(CatalogueItem)):
            item.name_zh = item.name_en = MARKUP + item.name_zh
        for case in s.scalars(select(Case)):
            case.title = MARKUP + (case.title or "")
        for point in s.scalars(select(ServicePoint)):
            point.name_zh = point.name_en = MARKUP + point.name_zh
        grid = s.scalar(select(GridVersion).where(GridVersion.status == GridStatus.PUBLISHED))
        cell = s.scalar(select(Cell).where(Cell.grid_version_id == grid.id).limit(1))
        lon, lat = (cell.min_lon + cell.max_lon) / 2, (cell.min_lat + cell.max_lat) / 2
        spot = {"rule": MARKUP, "code": cell.code, "name": MARKUP, "severity": "error"}
        spot |= {"feature_index": 0, "data": {}}
        spot |= {"message_zh": MARKUP, "message_en": MARKUP}
        problems = [
            {**spot, "location": [lon, None]},  # a bad spot first: it must not stop the next
            {**spot, "location": [lon, lat]},
        ]
        grid.report = {**(grid.report or {}), "problems": problems}
        # A door and a household waiting for the address check.
        door = StandardAddress(
            code="MARKUP-1",
            text=MARKUP + "新华路1号",
            road="新华路",
            number="1",
            building_key="新华路|1",
            lon=lon,
            lat=lat,
            cell_code=cell.code,
        )
        household = s.scalar(select(Household).limit(1))
        household.address = MARKUP + household.address
        run = ImportRun(kind="register", file_sha256="0" * 64)
        s.add_all([door, run])
        s.flush()
        s.add(
            ImportReview(
                run_id=run.id,
                reason="address_unmatched",
                subject_type="households",
                subject_id=str(household.id),
            )
        )
        case = s.scalar(select(Case).where(Case.lon.is_not(None)).limit(1))
        s.commit()
        return {"case": str(uuid.UUID(str(case.id))), "grid": grid.id}


if __name__ == "__main__":
    print(json.dumps(seed()))
