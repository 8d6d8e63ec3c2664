"""Findings about the whole file: one problem per cause instead of one per feature, with fixes.

A file with its axes swapped, or exported in metres but declared in degrees, is one mistake:
the report says it once (how many features, the first one) and offers the re-import that
fixes it (``geo.crs_guess``). A file whose features carry no level at all gets one
``level_absent`` with a preview of the levels its codes would give (``geo.code_levels``) and
the two ways out: derive the levels from the codes, or choose a default level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geo.code_levels import LevelPreview, preview_levels
from geo.crs_guess import guess_readings
from geo.datums import Datum
from geo.levels import Level
from geo.problems import Problem, file_problem, problem
from geo.rules import MANY
from geo.structure import RawFeature

COORDINATE_RULES = (
    "axes_swapped",
    "metres_as_degrees",
    "coordinates_out_of_range",
    "far_from_district",
)


def collapse(problems: list[Problem], total: int) -> list[Problem]:
    """Replace per-feature problems of a file-level cause by one, where the first one stood.

    >>> many = [problem("axes_swapped", feature_index=i, value="31.2, 121.4") for i in range(4)]
    >>> [(p.rule, p.feature_index, p.data["count"]) for p in collapse(many, 4)]
    [('axes_swapped', None, 4)]
    """
    groups: dict[str, list[Problem]] = {}
    for found in problems:
        if found.rule in MANY and found.feature_index is not None:
            groups.setdefault(found.rule, []).append(found)
    many = {rule: found for rule, found in groups.items() if len(found) > 1}
    if not many:
        return problems
    out: list[Problem] = []
    for found in problems:
        group = many.get(found.rule)
        if group is None or found.feature_index is None:
            out.append(found)
        elif found is group[0]:
            out.append(file_problem(group, total))
    return out


def with_actions(found: Problem, actions: list[dict[str, Any]]) -> Problem:
    """The same problem offering ``actions`` (re-imports with other options)."""
    return Problem(**{**found.__dict__, "data": {**found.data, "actions": actions}})


def offer_readings(
    problems: list[Problem],
    raws: Sequence[RawFeature],
    datum: Datum,
    *,
    swapped: bool,
    file_has_crs: bool,
    district_bbox: tuple[float, float, float, float] | None,
    margin_m: float,
) -> list[Problem]:
    """Attach to the first coordinate problem the readings that would put the file in place.

    Only when most features have one (a stray feature is that feature's problem). With a
    ``crs`` member in the file the chosen datum is not used, so only swaps are offered.
    """
    hit = [p for p in problems if p.rule in COORDINATE_RULES]
    affected = sum(int(str(p.data.get("count", 1))) for p in hit)
    if not hit or affected * 2 < len(raws):
        return problems
    readings = guess_readings(raws, datum, swapped, district_bbox, margin_m)
    if file_has_crs:
        readings = [r for r in readings if r.datum == datum.name]
    if not readings:
        return problems
    actions = []
    for reading in readings:
        label_zh, label_en = reading.labels(datum)
        actions.append({"options": reading.options(), "label_zh": label_zh, "label_en": label_en})
    first = hit[0]
    return [with_actions(p, actions) if p is first else p for p in problems]


_NAMES_EN = {
    Level.STREET: "subdistrict",
    Level.RESIDENTIAL_AREA: "residential area",
    Level.BLOCK: "block area",
    Level.BUILDING_GROUP: "building group",
}


def _count_en(n: int, level: Level) -> str:
    """``3 block areas``, ``1 subdistrict``.

    >>> _count_en(3, Level.BLOCK), _count_en(1, Level.STREET)
    ('3 block areas', '1 subdistrict')
    """
    return f"{n} {_NAMES_EN[level]}{'' if n == 1 else 's'}"


def level_absent(
    problems: list[Problem], raws: Sequence[RawFeature], codes: list[str], field: str | None
) -> tuple[list[Problem], LevelPreview | None]:
    """When no feature has a level: one ``level_absent`` (with the code rule's preview).

    The per-feature ``level_invalid`` of a missing value are dropped; a feature whose level
    is present but wrong keeps its own problem. Returns the problems and the preview.
    """
    if field and any(r.properties.get(field) not in (None, "") for r in raws):
        return problems, None
    if not any(p.rule == "level_invalid" for p in problems):
        return problems, None
    preview = preview_levels(codes)
    actions: list[dict[str, Any]] = []
    if preview.counts and not preview.underivable_count:
        described_zh = "、".join(f"{Level(k).name_zh} {n}" for k, n in preview.counts.items())
        described_en = ", ".join(_count_en(n, Level(k)) for k, n in preview.counts.items())
        actions.append(
            {
                "options": {"level_from_code": True},
                "label_zh": f"按编码推导层级（{described_zh}）",
                "label_en": f"Derive the levels from the codes ({described_en})",
            }
        )
    actions.append(
        {
            "options": {"default_level": None},  # the page asks which level
            "label_zh": "所有要素使用同一默认层级",
            "label_en": "Use one default level for every feature",
        }
    )
    kept = [
        p for p in problems if not (p.rule == "level_invalid" and p.data.get("value") in (None, ""))
    ]
    absent = problem("level_absent", field=field or "level", preview=preview.to_dict())
    return [with_actions(absent, actions), *kept], preview
