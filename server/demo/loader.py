"""Write the generated demo district into the database: grid, staff, people, cases."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Any

from pyproj import Geod
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts import operations as accounts
from server.accounts.models import User
from server.catalogue import loading as catalogue_loading
from server.demo import files as demo_files
from server.demo.cases import create_demo_cases
from server.demo.district import District, build_district
from server.demo.staff import DEMO_PASSWORD, STAFF
from server.demo.visits import create_demo_visits
from server.grid import operations as grid_operations
from server.grid.models import GridVersion
from server.population.models import Household, Resident
from sync.db import utcnow
from sync.versions import next_version

DEMO_GRID_NAME = "新华路街道 演示网格"
#: The name demo databases loaded before issue 15 carry (an English word on a Chinese page).
_OLD_DEMO_GRID_NAME = "新华路街道 演示网格 (demo)"
_GEOD = Geod(ellps="WGS84")


def geodesic_area_m2(geometry: BaseGeometry) -> float:
    return abs(_GEOD.geometry_area_perimeter(geometry)[0])


@dataclass
class DemoLoadResult:
    loaded: bool
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, name
    counts: dict[str, int] = field(default_factory=dict)


def demo_is_loaded(session: Session) -> bool:
    return (
        session.scalar(
            select(GridVersion.id).where(
                GridVersion.name.in_([DEMO_GRID_NAME, _OLD_DEMO_GRID_NAME])
            )
        )
        is not None
    )


def load_demo(
    session: Session, *, now: dt.datetime | None = None, seed: int = 329
) -> DemoLoadResult:
    """Load the demo district once. A second call finds it and changes nothing."""
    accounts_list = [(s.username, s.role.value, s.display_name) for s in STAFF]
    if demo_is_loaded(session):
        return DemoLoadResult(loaded=False, accounts=accounts_list)
    now = now or utcnow()
    district = build_district(seed)
    version = next_version(session)
    catalogue_loading.load_catalogue(
        session, catalogue_loading.read_toml(catalogue_loading.DATA_FILE)
    )
    catalogue_loading.load_care_tags(
        session, catalogue_loading.read_toml(catalogue_loading.CARE_TAGS_FILE)
    )
    grid = _write_grid(session, district, now, version)
    layers = write_base_layers(session, district)
    # Staff, addresses and the register come in as files, through the office's import path.
    district, users = import_demo_files(session, district, now)
    cases = create_demo_cases(session, district, users, now=now, version=version)
    visits = create_demo_visits(session, district, users, now=now, version=version)
    points = _write_service_points(session, district, now)
    session.flush()
    return DemoLoadResult(
        loaded=True,
        accounts=accounts_list,
        counts={
            "cells": len(grid.cells),
            "users": len(users),
            "households": len(district.households),
            "residents": len(district.residents),
            "cases": cases,
            "visits": visits,
            "service_points": points,
            **{f"layer_{kind}": count for kind, count in layers.items()},
        },
    )


def _write_grid(
    session: Session, district: District, now: dt.datetime, version: int
) -> GridVersion:
    """Upload the generated grid the way GIS staff would: validate, store a draft, publish."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": cell.code,
                "name": cell.name,
                "level": cell.level,
                "parent_code": cell.parent_code,
                "name_en": cell.name_en,
            },
            "geometry": mapping(cell.geometry),
        }
        for cell in district.cells
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    options = grid_operations.ImportOptions(
        name=DEMO_GRID_NAME, filename="server/demo/data/osm_xinhua_boundary_wgs84.geojson"
    )
    outcome = grid_operations.import_grid(session, None, data.encode("utf-8"), options)
    if outcome.version is None or outcome.report["has_errors"]:
        raise RuntimeError(f"the generated demo grid does not validate: {outcome.report}")
    grid_operations.publish_grid(session, None, outcome.version.id, near_m=50.0, today=now.date())
    return outcome.version


def write_base_layers(session: Session, district: District) -> dict[str, int]:
    """Upload the demo's base layers the way GIS staff would (check, draft, publish): the
    real OSM roads (credited, ODbL), generated footprints and the real OSM landmarks."""
    from server.demo import footprints
    from server.demo.district import FRAME
    from server.layers import operations as layers

    files = (
        ("roads", footprints.roads_file(), "osm_xinhua_named_roads_wgs84.geojson", OSM_NAME),
        ("buildings", footprints.footprints_file(district, FRAME), "demo_footprints.geojson", None),
        ("poi", footprints.poi_file(district), "osm_xinhua_landmarks.geojson", OSM_NAME),
    )
    counts = {}
    for kind, data, filename, credit in files:
        options = layers.LayerOptions(
            kind=kind,
            name=_LAYER_NAMES[kind],
            filename=filename,
            attribution=footprints.OSM_CREDIT if credit else footprints.GENERATED_CREDIT,
        )
        outcome = layers.import_layer(session, None, data, options)
        if outcome.layer is None or outcome.report["has_errors"]:
            raise RuntimeError(f"the demo {kind} layer does not validate: {outcome.report}")
        layers.publish_layer(session, None, outcome.layer.id)
        counts[kind] = outcome.layer.feature_count
    return counts


OSM_NAME = "OpenStreetMap"
_LAYER_NAMES = {
    "roads": "新华路街道 道路 (OpenStreetMap)",
    "buildings": "演示建筑轮廓(程序生成)",
    "poi": "新华路街道 地标 (OpenStreetMap)",
}


def _write_service_points(session: Session, district: District, now: dt.datetime) -> int:
    """The life-service directory (issue 7): points at demo buildings, named by their area."""
    from server.lifeservices.demo import load_service_points

    cells = {c.code: c for c in district.cells}

    def area_of(code: str) -> str:
        cell = cells.get(code)
        while cell is not None and cell.level != "residential_area":
            cell = cells.get(cell.parent_code or "")
        return cell.name if cell else "新华"

    names = {h.building_group_code: area_of(h.building_group_code) for h in district.households}
    return load_service_points(session, district.households, names, now=now)


def import_demo_files(
    session: Session, district: District, now: dt.datetime
) -> tuple[District, dict[str, User]]:
    """Write the demo's staff, address and register files and import them like an office
    would (check, then apply); return the district with the ids the register got."""
    from server.imports import categories, operations
    from server.imports.wiring import make_context

    categories.load_defaults(session)
    written = demo_files.files(district, now.date())
    for kind, name, options in (
        ("staff", "staff-sample.csv", {}),
        ("addresses", "addresses-sample.csv", {"datum": "gcj02"}),
        ("register", "register-sample.xlsx", {}),
    ):
        ctx = make_context(session, None, options=options)
        ctx.today = now.date()
        run, checked = operations.check_file(ctx, kind, written[name], filename=name)
        if run.state != "checked":
            raise RuntimeError(f"the demo {kind} file does not check: {run.report['problems'][:5]}")
        operations.apply_run(ctx, run.id, checked)
    users = {u.username: u for u in session.scalars(select(User))}
    for member in STAFF:
        accounts.set_password(session, member.username, DEMO_PASSWORD)
    return _with_stored_ids(session, district, ctx.vault), users


def _with_stored_ids(session: Session, district: District, vault: Any) -> District:
    """The district with household and resident ids (and cells) as the import stored them."""
    stored = {
        key: (hid, cell)
        for key, hid, cell in session.execute(
            select(Household.register_key, Household.id, Household.cell_code)
        )
    }
    people = dict(session.execute(select(Resident.id_number_digest, Resident.id)).all())
    households, ids = [], {}
    for index, h in enumerate(district.households):
        hid, cell = stored[f"no:{demo_files.household_no(index)}"]
        ids[h.id] = str(hid)
        households.append(
            replace(h, id=str(hid), building_group_code=cell or h.building_group_code)
        )
    numbers = [row[4] for row in demo_files.register_rows(district)[1:]]
    residents = [
        replace(r, id=str(people[vault.digest(number)]), household_id=ids[r.household_id])
        for r, number in zip(district.residents, numbers, strict=True)
    ]
    return replace(district, households=households, residents=residents)
