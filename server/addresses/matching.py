"""Register addresses → standard addresses, by normalised text (geo.address_text).

An in-memory index of every active door, built once per import run: a file of 35,000
households is matched without a query per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.address_text import AddressKey
from server.addresses.models import StandardAddress


@dataclass(frozen=True)
class Door:
    """What matching needs of a standard address."""

    id: int
    code: str
    text: str
    cell_code: str | None
    lon: float | None
    lat: float | None


@dataclass(frozen=True)
class Match:
    """matched (one door) | ambiguous (several) | unmatched (none)."""

    status: str
    doors: tuple[Door, ...] = ()

    @property
    def door(self) -> Door | None:
        return self.doors[0] if self.status == "matched" else None


class AddressIndex:
    """Doors by building key, by lane, and the known road names (longest first)."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.by_key: dict[str, list[Door]] = defaultdict(list)
        self.by_lane: dict[tuple[str, str, str], list[Door]] = defaultdict(list)
        self.by_number: dict[tuple[str, str, str], list[Door]] = defaultdict(list)
        roads = set()
        for id_, code, text, road, lane, sublane, number, key, cell, lon, lat in rows:
            door = Door(id_, code, text, cell, lon, lat)
            self.by_key[key].append(door)
            self.by_lane[(road, lane, sublane)].append(door)
            self.by_number[(road, lane, number)].append(door)
            roads.add(road)
        self.roads = sorted(roads, key=len, reverse=True)
        self.known = roads

    @classmethod
    def load(cls, session: Session) -> AddressIndex:
        a = StandardAddress
        rows = session.execute(
            select(
                a.id,
                a.code,
                a.text,
                a.road,
                a.lane,
                a.sublane,
                a.number,
                a.building_key,
                a.cell_code,
                a.lon,
                a.lat,
            ).where(a.is_active.is_(True))
        ).all()
        return cls([tuple(r) for r in rows])

    def __len__(self) -> int:
        return sum(len(doors) for doors in self.by_key.values())

    def _road(self, road: str) -> str:
        """The known road a parsed road means: itself; one it ends with (长宁新华路 → 新华路);
        the only one it begins with (新华 → 新华路); the only one a character away
        (番禹路 → 番禺路). Else itself (and nothing matches)."""
        if road in self.known:
            return road
        suffix = next((r for r in self.roads if road.endswith(r)), None)
        if suffix:
            return suffix
        for candidates in (
            [r for r in self.roads if r.startswith(road) and len(r) - len(road) <= 2],
            [r for r in self.roads if len(r) == len(road) and _one_apart(r, road)],
        ):
            if len(candidates) == 1:
                return candidates[0]
        return road

    def match(self, key: AddressKey) -> Match:
        """The door an address names: exact building key, then without the sub-lane, then
        (no number given) the only door of its lane."""
        road = self._road(key.road)
        if key.number:
            exact = self.by_key.get("|".join((road, key.lane, key.sublane, key.number)), [])
            if not exact and not key.sublane:
                exact = self.by_number.get((road, key.lane, key.number), [])
            if not exact and not key.lane and key.room:
                # 泰安路67号3室 for 泰安路67弄3号: a person must confirm, so never "matched".
                guess = self.by_key.get("|".join((road, key.number, "", key.room)), [])
                return Match("ambiguous", tuple(guess)) if guess else Match("unmatched")
            return _result(exact)
        return _result(self.by_lane.get((road, key.lane, key.sublane), []))


def _one_apart(a: str, b: str) -> bool:
    """Same length, one character different (a typo or a homophone: 番禹路 for 番禺路)."""
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _result(doors: list[Door]) -> Match:
    if not doors:
        return Match("unmatched")
    return Match("matched" if len(doors) == 1 else "ambiguous", tuple(doors[:5]))
