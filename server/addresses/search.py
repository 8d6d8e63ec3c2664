"""Address search over the standard-address layer: the desk's and the residents' typing.

``places`` answers the intake form's and the report page's suggestions (doors first, then
buildings known only from the register); ``place_of`` turns a typed address that names one
known door into its point, so a matter is placed without anyone picking from a list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from geo.address_text import normalise, parse
from server.addresses.matching import AddressIndex, Door
from server.addresses.models import StandardAddress

SEARCH_SCAN = 200  # rows looked at per query (suggestions show a dozen)


def place_of(session: Session, text: str) -> Door | None:
    """The one door a typed address names (any spelling geo.address_text understands), or
    None: no address layer, not an address, no door, or several."""
    key = parse(text or "")
    if key is None or not key.number:
        return None
    exact = session.execute(
        select(
            StandardAddress.id,
            StandardAddress.code,
            StandardAddress.text,
            StandardAddress.cell_code,
            StandardAddress.lon,
            StandardAddress.lat,
        )
        .where(
            StandardAddress.building_key == key.building_key(), StandardAddress.is_active.is_(True)
        )
        .limit(2)
    ).all()
    if len(exact) == 1:
        return Door(*exact[0])
    if exact or not session.scalar(select(StandardAddress.id).limit(1)):
        return None
    found = AddressIndex.load(session).match(key)  # typos, a missing 路, a sub-lane left out
    return found.door if found.door is not None and found.door.lon is not None else None


def places(session: Session, q: str, *, limit: int) -> list[dict[str, Any]]:
    """Doors whose standard text or alias holds what was typed (normalised), as
    ``{address, cell_code, lon, lat}``; a door the text names exactly comes first."""
    text = normalise(q)
    if len(text) < 2:
        return []
    key = parse(q)
    exact = place_of(session, q) if key is not None and key.number else None
    pattern = f"%{text}%"
    a = StandardAddress
    rows = session.execute(
        select(a.text, a.cell_code, a.lon, a.lat)
        .where(
            a.is_active.is_(True),
            a.lon.is_not(None),
            or_(func.replace(a.text, " ", "").like(pattern), a.alias.like(pattern)),
        )
        .order_by(func.length(a.text), a.text)
        .limit(SEARCH_SCAN)
    ).all()
    found = [{"address": r[0], "cell_code": r[1], "lon": r[2], "lat": r[3]} for r in rows]
    if exact is not None:
        first = {
            "address": exact.text,
            "cell_code": exact.cell_code,
            "lon": exact.lon,
            "lat": exact.lat,
        }
        found = [first, *(f for f in found if f["address"] != exact.text)]
    return found[:limit]
