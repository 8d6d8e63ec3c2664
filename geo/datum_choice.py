"""Which datum an uploaded file is read with: its crs member, the uploader's choice, or WGS-84."""

from __future__ import annotations

from geo.datums import WGS84, Datum, parse_datum
from geo.errors import GeoError
from geo.problems import Problem, problem

__all__ = ["resolve_datum"]


def resolve_datum(
    file_crs: str | None, chosen: str | None, problems: list[Problem]
) -> tuple[Datum | None, str]:
    """The datum to read with (None if unusable) and why; conflicts appended to ``problems``.

    >>> found = []
    >>> resolve_datum(None, "gcj02", found)[0].name, found
    ('gcj02', [])
    """
    try:
        chosen_datum = parse_datum(chosen) if chosen else None
    except GeoError:
        problems.append(problem("crs_unknown", file_crs=str(chosen)))
        return None, f"unknown datum {chosen!r}"
    if file_crs is None:
        if chosen_datum is None:
            return WGS84, "no datum given and no crs member: WGS-84 assumed (RFC 7946)"
        return chosen_datum, f"datum {chosen_datum.name} as chosen at upload"
    try:
        file_datum = parse_datum(file_crs)
    except GeoError:
        problems.append(problem("crs_unknown", file_crs=file_crs))
        return None, f"the file's crs {file_crs} is not usable"
    used, why_zh, why_en = file_datum, "文件声明优先。", "The file's crs wins."
    if chosen_datum and file_datum.kind == "wgs84" and chosen_datum.kind in ("gcj02", "bd09"):
        used = chosen_datum
        why_zh = "GCJ-02/BD-09 没有 EPSG 编码，常被标为 WGS 84，故采用所选坐标系。"
        why_en = "GCJ-02/BD-09 have no EPSG code and are often labelled WGS 84."
    if chosen_datum and chosen_datum.name != file_datum.name:
        problems.append(
            problem(
                "crs_conflict",
                file_crs=file_crs,
                chosen=chosen_datum.name,
                used=used.name,
                why_zh=why_zh,
                why_en=why_en,
            )
        )
    if used.note:
        problems.append(problem("crs_note", note=used.note))
    return used, f"crs member {file_crs} in the file; {used.name} used"
