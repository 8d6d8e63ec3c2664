"""Read an uploaded grid file (bytes) into WGS-84 cell drafts with a full validation report.

One code path for the back-office page, the API and the CLI: they pass the raw bytes and
the datum the user chose, and get back ``GridImport`` (cells, report, repairs). Nothing is
stored here; an import with errors in its report must not be published.

Datum policy when the file has a legacy 2008 ``crs`` member and the user chose a datum:
the file's ``crs`` wins (GDAL writes it from the real source CRS), and a ``crs_conflict``
warning says so, except when the file claims WGS-84/CRS84 and the user chose GCJ-02 or
BD-09: those datums have no EPSG code, so tools label Chinese web-map data "WGS 84"
anyway (DataV files do); the user's explicit choice is then used, with the same warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry

from geo import file_problems
from geo.cells import CellDraft, Repair
from geo.code_levels import LevelPreview, preview_levels
from geo.datum_choice import resolve_datum
from geo.datums import Datum
from geo.decoding import load_document
from geo.export import CellLike
from geo.feature_properties import LevelChoice, PropertyNames, read_properties, text
from geo.geometry_checks import check_geometry
from geo.hierarchy import DEFAULT_TOLERANCES, Tolerances, check_hierarchy
from geo.levels import Level, parse_level
from geo.measure import distance_to_geometry_m
from geo.problems import Problem, ValidationReport, problem
from geo.structure import PolygonRings, RawFeature, read_features

__all__ = ["GridImport", "PropertyNames", "read_grid_file"]

Progress = Callable[[int, int], None]


@dataclass
class GridImport:
    """The result of reading one file: drafts, the report, what was repaired, the datum used."""

    cells: list[CellDraft]
    report: ValidationReport
    repairs: list[Repair] = field(default_factory=list)
    datum_used: Datum | None = None
    source_crs_note: str | None = None
    level_preview: LevelPreview | None = None  # what the code rule gives (docs/grids.md)


def read_grid_file(
    data: bytes,
    *,
    datum: str | None,
    property_names: PropertyNames | None = None,
    district_bbox: tuple[float, float, float, float] | None = None,
    repair: bool = False,
    progress: Progress | None = None,
    default_level: Level | str | None = None,
    tolerances: Tolerances = DEFAULT_TOLERANCES,
    district_margin_m: float = 5000.0,
    parents: Iterable[CellLike] = (),
    swap_axes: bool = False,
    level_from_code: bool = False,
) -> GridImport:
    """Read, convert to WGS-84 and validate an uploaded grid file; never raises on bad input.

    ``district_bbox`` is (min_lon, min_lat, max_lon, max_lat) in WGS-84; geometry farther
    than ``district_margin_m`` from it is an error. ``default_level`` is used for features
    without a level (or when ``property_names.level`` is None); ``level_from_code`` derives
    their level, and their parent when they name none, from the code
    (``geo.code_levels``). ``swap_axes`` reads every position as [lat, lon] (or
    [northing, easting]). ``parents`` are cells already published (WGS-84) that a file
    holding only lower levels may attach to: a ``parent_code`` found there is not
    ``parent_not_found``, and containment is checked.

    >>> result = read_grid_file(b'{"type": "FeatureCollection", "features": []}', datum="wgs84")
    >>> result.report.has_errors, [p.rule for p in result.report.problems]
    (True, ['no_cells'])
    """
    names = property_names or PropertyNames()
    fallback = parse_level(default_level) if default_level is not None else None
    levels = LevelChoice(fallback, level_from_code)
    document, problems = load_document(data)
    report = ValidationReport(problems)
    if document is None and problems:
        return GridImport([], report)
    file_crs, raws, structural = read_features(document)
    problems += structural
    report.feature_count = len(raws)
    used, note = resolve_datum(file_crs, datum, problems)
    result = GridImport([], report, [], used, note)
    if used is None:
        return result
    place = _Place(used, district_bbox, district_margin_m, swap_axes)
    for done, raw in enumerate(raws, start=1):
        _read_one(raw, names, levels, place, repair, result)
        if progress and (done % 500 == 0 or done == len(raws)):
            progress(done, len(raws) * 2)
    _file_level(raws, names, levels, place, file_crs is not None, result)
    problems = report.problems
    if not result.cells and not report.has_errors:
        problems.append(problem("no_cells"))
    _duplicates(result.cells, problems)

    def half_progress(done: int, total: int) -> None:
        if progress:
            progress(len(raws) + len(raws) * done // total, len(raws) * 2)

    problems += check_hierarchy(
        result.cells,
        tolerances,
        names.parent_code or "parent_code",
        half_progress,
        parents=_as_drafts(parents),
    )
    return result


@dataclass(frozen=True)
class _Place:
    """Where the file's coordinates should land: its datum, axis order and the district."""

    datum: Datum
    bbox: tuple[float, float, float, float] | None
    margin_m: float
    swap_axes: bool


def _file_level(
    raws: list[RawFeature],
    names: PropertyNames,
    levels: LevelChoice,
    place: _Place,
    file_has_crs: bool,
    result: GridImport,
) -> None:
    """One problem per file-level cause, the fixes to offer, and the code rule's preview."""
    found = file_problems.collapse(result.report.problems, len(raws))
    found = file_problems.offer_readings(
        found,
        raws,
        place.datum,
        swapped=place.swap_axes,
        file_has_crs=file_has_crs,
        district_bbox=place.bbox,
        margin_m=place.margin_m,
    )
    codes = [text(r.properties.get(names.code)) for r in raws]
    if not levels.from_code and levels.default is None:
        found, result.level_preview = file_problems.level_absent(found, raws, codes, names.level)
    elif levels.from_code:
        result.level_preview = preview_levels(codes)
    result.report.problems = found


def _swapped(polygons: list[PolygonRings]) -> list[PolygonRings]:
    return [[[(y, x) for x, y in ring] for ring in rings] for rings in polygons]


def _as_drafts(cells: Iterable[CellLike]) -> list[CellDraft]:
    return [
        CellDraft(
            c.code,
            c.name,
            parse_level(str(getattr(c.level, "value", c.level))),
            c.parent_code,
            c.geometry,
            -1,
        )
        for c in cells
    ]


def _read_one(
    raw: RawFeature,
    names: PropertyNames,
    levels: LevelChoice,
    place: _Place,
    repair: bool,
    result: GridImport,
) -> None:
    problems = result.report.problems
    if any(p.rule == "not_geojson" for p in raw.problems):
        problems.extend(raw.problems)  # not even a Feature: its properties mean nothing
        return
    code, name, level, parent = read_properties(raw, names, levels, problems)
    for found in raw.problems:
        problems.append(_named(found, code, name))
    if raw.polygons is None:
        return
    if raw.had_z:
        problems.append(problem("z_dropped", feature_index=raw.index, code=code, name=name))
        result.repairs.append(Repair(raw.index, code, "drop_z", "Z values dropped"))
    polygons = _swapped(raw.polygons) if place.swap_axes else raw.polygons
    checked = check_geometry(polygons, place.datum, raw.index, code, repair=repair)
    problems.extend(_named(p, code, name) for p in checked.problems)
    result.repairs.extend(checked.repairs)
    if checked.geometry is None:
        return
    if place.bbox is not None and checked.geometry.is_valid:
        _far(checked.geometry, place.bbox, place.margin_m, raw.index, code, name, problems)
    extra = {
        k: v
        for k, v in raw.properties.items()
        if k not in (names.code, names.name, names.level, names.parent_code)
    }
    result.cells.append(CellDraft(code, name, level, parent, checked.geometry, raw.index, extra))


def _named(found: Problem, code: str, name: str) -> Problem:
    if found.code is not None or not (code or name):
        return found
    return Problem(**{**found.__dict__, "code": code or None, "name": name or None})


def _far(
    geometry: BaseGeometry,
    bbox: tuple[float, float, float, float],
    margin_m: float,
    index: int,
    code: str,
    name: str,
    problems: list[Problem],
) -> None:
    district = shapely.box(*bbox)
    spot = geometry.representative_point()
    distance = distance_to_geometry_m(spot.x, spot.y, district)
    if distance > margin_m:
        problems.append(
            problem(
                "far_from_district",
                feature_index=index,
                code=code,
                name=name,
                location=(spot.x, spot.y),
                distance_km=round(distance / 1000, 1),
            )
        )


def _duplicates(cells: list[CellDraft], problems: list[Problem]) -> None:
    first_index: dict[str, int] = {}
    for cell in cells:
        if not cell.code:
            continue
        if cell.code in first_index:
            problems.append(
                problem(
                    "code_duplicate",
                    feature_index=cell.index,
                    code=cell.code,
                    name=cell.name,
                    other_index=first_index[cell.code],
                )
            )
        else:
            first_index[cell.code] = cell.index
