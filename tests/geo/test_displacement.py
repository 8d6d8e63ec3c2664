"""A grid moved as a whole is caught and its datum mix-up named, on the real Xinhua/Changning
boundaries; legitimate edits pass; one moved cell shows in the diff, not as a moved grid."""

from __future__ import annotations

import json

import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geo.cells import CellDraft
from geo.datums import from_wgs84, geometry_from_wgs84, geometry_to_wgs84, parse_datum, to_wgs84
from geo.diff import diff_grids
from geo.displacement import DEFAULT_THRESHOLD_M, assess_displacement, match_centroids
from geo.export import export_grid_bytes
from geo.levels import Level
from geo.measure import distance_m
from geo.reading import PropertyNames, read_grid_file
from tests.geo.conftest import SHANGHAI_BBOX, data_bytes, xinhua_grid_features

DATAV = PropertyNames(code="adcode", level=None, parent_code=None)
OSM = PropertyNames(code="adcode_12", level=None, parent_code=None)
DATUMS = ("wgs84", "gcj02", "bd09")


def collection(features: list[dict]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@pytest.fixture(scope="module")
def published() -> list[CellDraft]:
    """The real-boundary Xinhua grid (156 cells), read as what it is: WGS-84."""
    result = read_grid_file(collection(xinhua_grid_features()), datum="wgs84")
    assert not result.report.problems
    return result.cells


def read(data: bytes, datum: str, **options: object) -> list[CellDraft]:
    result = read_grid_file(data, datum=datum, district_bbox=SHANGHAI_BBOX, **options)  # type: ignore[arg-type]
    assert not result.report.has_errors, result.report.problems
    return result.cells


def test_the_reproduction_wgs84_declared_as_gcj02_is_blocking_about_490_m_and_named(
    published: list[CellDraft],
) -> None:
    draft = read(export_grid_bytes(published), "gcj02")
    found = assess_displacement(published, draft, "gcj02")
    assert found.blocking and found.matched == 156
    assert 480 < found.median_shift_m < 495
    assert (found.suspect.declared, found.suspect.likely) == ("gcj02", "wgs84")
    assert found.suspect.residual_m < 0.5
    message = found.problem()
    assert message.severity == "blocking"
    assert "看起来是把 WGS-84 坐标声明成了 GCJ-02" in message.message_zh
    assert "WGS-84 declared as GCJ-02" in message.message_en and "488 m" in message.message_en
    assert message.data["actions"][0]["options"] == {"datum": "wgs84"}


def test_the_diff_of_the_reproduction_shows_the_non_overlap_not_only_749_square_metres(
    published: list[CellDraft],
) -> None:
    draft = read(export_grid_bytes(published), "gcj02")
    diff = diff_grids(published, draft)
    street = next(r for r in diff.reshaped if r.code == "310105004")
    assert abs(street.area_change_m2) < 1000  # what the old diff showed: "+749 m²"
    assert street.symmetric_difference_m2 > 1_000_000  # half the street lies elsewhere
    assert 480 < street.centroid_shift_m < 495 and 480 < diff.median_shift_m < 495


@pytest.mark.parametrize(
    ("truth", "declared", "low_m", "high_m"),
    [
        ("bd09", "wgs84", 1100, 1200),
        ("bd09", "gcj02", 880, 980),
        ("wgs84", "bd09", 1100, 1200),
        ("gcj02", "bd09", 880, 980),
        ("gcj02", "wgs84", 480, 495),
    ],
)
def test_every_datum_mix_up_on_the_real_grid_is_blocking_and_names_both_datums(
    published: list[CellDraft], truth: str, declared: str, low_m: float, high_m: float
) -> None:
    draft = read(export_grid_bytes(published, datum=truth), declared)
    found = assess_displacement(published, draft, declared)
    assert found.blocking and low_m < found.median_shift_m < high_m
    assert (found.suspect.declared, found.suspect.likely) == (declared, truth)


def test_a_datav_gcj02_district_declared_as_wgs84_is_named_as_gcj02() -> None:
    """DataV's Changning is GCJ-02 labelled like WGS-84: published right, uploaded wrong."""
    data = data_bytes("real/datav_310105_changning_v3.json")
    right = read(data, "gcj02", property_names=DATAV, default_level="street")
    wrong = read(data, "wgs84", property_names=DATAV, default_level="street")
    found = assess_displacement(right, wrong, "wgs84")
    assert found.blocking and 480 < found.median_shift_m < 500
    assert found.suspect.likely == "gcj02"


def test_the_osm_boundary_moved_into_gcj02_and_declared_so_matches_the_published_one() -> None:
    osm = read(
        data_bytes("real/osm_xinhua_boundary_wgs84.geojson"),
        "wgs84",
        property_names=OSM,
        default_level="street",
    )
    derived = data_bytes("real/derived_xinhua_boundary_gcj02.geojson")
    right = read(derived, "gcj02", property_names=OSM, default_level="street")
    wrong = read(derived, "wgs84", property_names=OSM, default_level="street")
    assert not assess_displacement(osm, right, "gcj02").blocking
    named = assess_displacement(osm, wrong, "wgs84")
    assert named.blocking and named.suspect.likely == "gcj02"


def test_a_legitimate_small_edit_is_no_warning(published: list[CellDraft]) -> None:
    features = xinhua_grid_features()
    group = next(f for f in features if f["properties"]["code"] == "310105004001-01-05")
    ring = group["geometry"]["coordinates"][0]
    east = max(x for x, _ in ring)
    # one building group's east edge moves 10 m (nudging a wall onto the right side of a lane)
    group["geometry"]["coordinates"][0] = [[x + 0.0001 if x == east else x, y] for x, y in ring]
    draft = read_grid_file(collection(features), datum="wgs84").cells
    found = assess_displacement(published, draft, "wgs84")
    assert not found.blocking and found.median_shift_m == 0 and found.problem() is None
    (edited,) = diff_grids(published, draft).reshaped
    assert edited.code == "310105004001-01-05" and 0 < edited.centroid_shift_m < 10


def test_one_genuinely_moved_cell_shows_in_the_diff_but_the_grid_did_not_move(
    published: list[CellDraft],
) -> None:
    moved = {c.code: c for c in published if c.code != "310105004002-01-01"} | {
        "310105004002-01-01": CellDraft(
            "310105004002-01-01",
            "moved",
            Level.BUILDING_GROUP,
            "310105004002-01",
            shapely.affinity.translate(
                next(c for c in published if c.code == "310105004002-01-01").geometry,
                xoff=0.002,
            ),
        )
    }
    found = assess_displacement(published, list(moved.values()), "wgs84")
    assert not found.blocking and found.max_shift_m > 150
    (cell,) = diff_grids(published, list(moved.values())).reshaped
    assert 180 < cell.centroid_shift_m < 200 and cell.symmetric_difference_m2 > 0
    assert abs(cell.area_change_m2) < 1


def test_a_grid_moved_as_a_whole_but_not_by_a_datum_is_blocking_with_no_datum_named(
    published: list[CellDraft],
) -> None:
    shifted = [
        CellDraft(c.code, c.name, c.level, None, shapely.affinity.translate(c.geometry, 0.003))
        for c in published
    ]
    found = assess_displacement(published, shifted, "wgs84")
    assert found.blocking and found.suspect is None and 280 < found.outline_shift_m < 290
    assert "没有哪种坐标系混淆" in found.problem().message_zh


def test_a_re_division_inside_the_same_street_is_named_as_such(published: list[CellDraft]) -> None:
    redivided = read_grid_file(collection(xinhua_grid_features((3, 2, 2))), datum="wgs84").cells
    found = assess_displacement(published, redivided, "wgs84")
    assert found.blocking and found.outline_shift_m < 1
    assert "re-divided" in found.problem().message_en


def test_no_shared_code_means_nothing_measured() -> None:
    cell = CellDraft("A", "a", Level.STREET, None, shapely.box(121.42, 31.2, 121.43, 31.21))
    other = CellDraft("B", "b", Level.STREET, None, cell.geometry)
    found = assess_displacement([cell], [other], "wgs84")
    assert found.matched == 0 and not found.blocking
    assert len(match_centroids([cell], [other]).codes) == 0


china_point = st.tuples(st.floats(98.0, 134.0), st.floats(21.0, 50.0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    origin=china_point,
    size_m=st.floats(50.0, 800.0),
    columns=st.integers(1, 6),
    truth=st.sampled_from(DATUMS),
    declared=st.sampled_from(DATUMS),
    edited=st.integers(0, 2),
)
def test_a_grid_shifted_by_a_known_datum_error_is_always_caught_and_the_cause_named(
    origin: tuple[float, float],
    size_m: float,
    columns: int,
    truth: str,
    declared: str,
    edited: int,
) -> None:
    """Any grid anywhere in China, read with the wrong one of WGS-84/GCJ-02/BD-09: when the
    error exceeds the threshold it is blocking and the true datum is named; when it does not
    (GCJ-02 is 20 m off in places), nothing is blocked. A few honest edits change nothing."""
    assume(truth != declared)
    lon0, lat0 = origin
    step = size_m / 111_320.0
    cells = [
        CellDraft(
            f"G{i}-{j}",
            "g",
            Level.BUILDING_GROUP,
            None,
            shapely.box(x, y, x + step, y + step),
        )
        for i in range(columns)
        for j in range(columns)
        for x, y in [(lon0 + i * step, lat0 + j * step)]
    ]
    raw = [geometry_from_wgs84(c.geometry, truth) for c in cells]  # the file, in its true datum
    draft = [
        CellDraft(c.code, c.name, c.level, None, geometry_to_wgs84(g, declared))
        for c, g in zip(cells, raw, strict=True)
    ]
    for k in range(min(edited, len(draft) // 3)):  # a minority of cells also redrawn a little
        draft[k] = CellDraft(
            draft[k].code, "g", Level.BUILDING_GROUP, None, draft[k].geometry.buffer(step / 20)
        )
    half = columns * step / 2
    true_x, true_y = from_wgs84(lon0 + half, lat0 + half, truth)
    error_m = distance_m(lon0 + half, lat0 + half, *to_wgs84(true_x, true_y, declared))
    assume(abs(error_m - DEFAULT_THRESHOLD_M) > 5)  # not within 5 m of the threshold itself
    found = assess_displacement(cells, draft, parse_datum(declared))
    if error_m > DEFAULT_THRESHOLD_M:
        assert found.blocking, (error_m, found)
        assert found.suspect is not None and found.suspect.likely == truth, found
        assert found.problem().data["actions"][0]["options"] == {"datum": truth}
    else:
        assert not found.blocking, (error_m, found)
