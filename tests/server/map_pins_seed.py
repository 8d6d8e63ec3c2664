"""Many cases on the office map, some piled at one building (run as a module, or `add_cases`).

`python -m tests.server.map_pins_seed [N] [PILE] [--open-only]`, with the server's WANGGE_*
environment, adds N cases (default 200) spread over the demo's building groups, PILE of them
(default 40) at one spot, cycling through every state (or only the open ones) so the colours
and the legend show; the piled ones are titled with MARKUP. Prints {"pile": [lon, lat],
"pile_cases": PILE, "added": N} as JSON.
Shared by tests/server/test_map_pins_browser.py and bench/bench_office_map.py.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import uuid
from typing import Any

from sqlalchemy import select

from tests.server.map_markup_seed import MARKUP

#: Every state, open ones first and most often (the map shows open cases unless asked).
STATES = ("reported", "opened", "dispatched", "handling", "handled") * 3 + (
    "closed",
    "evaluated",
    "cancelled",
)


def add_cases(
    total: int = 200, pile: int = 40, seed: int = 14, *, open_only: bool = False
) -> dict[str, Any]:
    """Insert the cases in one transaction; return where the pile is.

    `open_only` keeps to the open states, so the map's default filter shows every case.
    """
    states = (
        [s for s in STATES if s not in ("closed", "evaluated", "cancelled")]
        if open_only
        else STATES
    )
    from server import create_app
    from server.cases.models import Case
    from server.extensions import db
    from server.grid.models import Cell

    rng = random.Random(seed)
    app = create_app()
    with app.app_context():
        s = db.session
        groups = list(s.scalars(select(Cell).where(Cell.level == "building_group")))
        item = s.scalar(select(Case.catalogue_item_id).where(Case.catalogue_item_id.is_not(None)))
        home = groups[0]
        spot = ((home.min_lon + home.max_lon) / 2, (home.min_lat + home.max_lat) / 2)
        now = dt.datetime.now(dt.UTC)
        rows = []
        for i in range(total):
            piled = i < pile
            cell = home if piled else rng.choice(groups)
            if piled:
                lon, lat = spot
            else:  # near the middle of the cell's box: inside it for the demo's Voronoi cells
                lon = cell.min_lon + (cell.max_lon - cell.min_lon) * rng.uniform(0.35, 0.65)
                lat = cell.min_lat + (cell.max_lat - cell.min_lat) * rng.uniform(0.35, 0.65)
            state = states[i % len(states)]
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "number": f"P-{i:06d}",
                    "channel": "hotline",
                    "catalogue_item_id": item,
                    "priority": "normal",
                    "status": state,
                    "title": (MARKUP if piled else "") + f"地图测试案件 {i}",
                    "description": "",
                    "address": "",
                    "lon": lon,
                    "lat": lat,
                    "cell_code": cell.code,
                    "placement": "in",
                    "reported_at": now - dt.timedelta(minutes=i),
                    "rework_count": 0,
                    "postponed": False,
                    "version": 1,
                    "field_versions": {},
                    "paused_seconds": 0,
                    "escalation_level": 0,
                }
            )
        s.execute(Case.__table__.insert(), rows)
        s.commit()
        return {"pile": list(spot), "pile_cases": pile, "added": total}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:] if not a.startswith("--")][:2]
    print(json.dumps(add_cases(*args, open_only="--open-only" in sys.argv)))
