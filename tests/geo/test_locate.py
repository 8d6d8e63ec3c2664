"""GridIndex: deepest cell and its ancestors, shared edges, holes, near, bulk = single."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import InvalidGridError
from geo.levels import Level
from geo.locate import STATUS_IN, GridIndex, IndexedCell

LON, LAT, D = 121.42, 31.20, 0.001  # D ≈ 95 m east-west, 111 m north-south


def tiled(rows: int = 3, cols: int = 4) -> list[IndexedCell]:
    """One street, one residential area, one block, rows×cols building groups tiling it."""
    whole = shapely.box(LON, LAT, LON + cols * D, LAT + rows * D)
    cells = [
        IndexedCell(0, "S", "街道", Level.STREET, None, whole),
        IndexedCell(1, "R", "居民区", Level.RESIDENTIAL_AREA, "S", whole),
        IndexedCell(2, "B", "块区", Level.BLOCK, "R", whole),
    ]
    for r in range(rows):
        for c in range(cols):
            box = shapely.box(LON + c * D, LAT + r * D, LON + (c + 1) * D, LAT + (r + 1) * D)
            cells.append(
                IndexedCell(len(cells), f"G{r}{c}", f"楼组{r}{c}", Level.BUILDING_GROUP, "B", box)
            )
    return cells


def test_the_path_runs_from_building_group_up_to_street() -> None:
    placement = GridIndex.build(tiled()).locate(LON + 0.5 * D, LAT + 0.5 * D)
    assert placement.status == "in" and placement.distance_m == 0
    assert [ref.code for ref in placement.path] == ["G00", "B", "R", "S"]


@pytest.mark.parametrize(
    "point",
    [
        (LON + D, LAT + 0.5 * D),  # edge between G00 and G01
        (LON + D, LAT + D),  # vertex shared by four cells
    ],
)
def test_a_point_on_a_shared_edge_gets_the_smallest_code_whatever_the_order(point) -> None:
    cells = tiled()
    answers = {
        GridIndex.build(order).locate(*point).cell.code
        for order in (cells, cells[::-1], cells[3:] + cells[:3])
    }
    assert answers == {"G00"}


def test_a_point_in_a_hole_is_not_in_the_cell_nor_near_it() -> None:
    shell = shapely.box(LON, LAT, LON + 3 * D, LAT + 3 * D)
    holed = shell.difference(shapely.box(LON + D, LAT + D, LON + 2 * D, LAT + 2 * D))
    index = GridIndex.build([IndexedCell(1, "S", "s", Level.STREET, None, holed)])
    assert index.locate(LON + 1.5 * D, LAT + 1.5 * D).status == "none"
    assert index.locate(LON + 0.5 * D, LAT + 0.5 * D).status == "in"


@pytest.mark.parametrize(("metres_out", "status"), [(10, "near"), (45, "near"), (60, "none")])
def test_a_point_outside_gets_the_nearest_cell_within_50_m(metres_out, status) -> None:
    placement = GridIndex.build(tiled()).locate(LON + 0.5 * D, LAT - metres_out / 110_900)
    assert placement.status == status
    if status == "near":
        assert placement.cell.code == "G00" and placement.cell.level == Level.BUILDING_GROUP
        assert placement.distance_m == pytest.approx(metres_out, rel=0.02)


def test_near_distance_is_configurable() -> None:
    index = GridIndex.build(tiled(), near_m=100)
    assert index.locate(LON + 0.5 * D, LAT - 60 / 110_900).status == "near"
    assert index.locate(LON + 0.5 * D, LAT - 60 / 110_900, near_m=0).status == "none"


def test_duplicate_codes_cannot_be_indexed() -> None:
    cell = tiled()[3]
    with pytest.raises(InvalidGridError):
        GridIndex.build([cell, cell])


def test_nan_points_are_placed_nowhere() -> None:
    bulk = GridIndex.build(tiled()).locate_many([np.nan], [LAT])
    assert bulk.status.tolist() == [0] and np.isnan(bulk.distance_m[0])


POINTS = st.lists(
    st.tuples(st.floats(LON - 2 * D, LON + 6 * D), st.floats(LAT - 2 * D, LAT + 5 * D)),
    min_size=1,
    max_size=50,
)


@settings(max_examples=60, deadline=None)
@given(POINTS)
def test_a_point_is_in_exactly_one_building_group_or_none(points) -> None:
    cells = tiled()
    index = GridIndex.build(cells)
    lons, lats = np.array(points).T
    bulk = index.locate_many(lons, lats, near_m=0)
    groups = [c for c in cells if c.level == Level.BUILDING_GROUP]
    for i, (lon, lat) in enumerate(points):
        covering = sorted(c.code for c in groups if c.geometry.covers(shapely.Point(lon, lat)))
        if covering:
            assert bulk.status[i] == STATUS_IN
            assert cells[bulk.cell_index[i]].code == covering[0]
        else:
            assert bulk.status[i] == 0


@settings(max_examples=40, deadline=None)
@given(POINTS)
def test_bulk_locate_answers_like_single_locate(points) -> None:
    index = GridIndex.build(tiled())
    lons, lats = np.array(points).T
    bulk = index.locate_many(lons, lats)
    for i, (lon, lat) in enumerate(points):
        assert index.placement(bulk, i) == index.locate(lon, lat)
