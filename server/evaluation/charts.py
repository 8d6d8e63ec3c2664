"""Charts as inline SVG, rendered on the server: no chart library, no internet, printable.

Each function returns an SVG string with a <title> and <desc> for screen readers; the
numbers are also in the table beside every chart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from html import escape
from math import ceil, cos, radians

from shapely import from_wkb
from shapely.geometry.base import BaseGeometry

INK, MUTED, GRID = "#1f2328", "#57606a", "#d0d7de"
SERIES = ("#0969da", "#1a7f37", "#bf8700", "#b3261e")
#: Sequential palette (light → dark) for the choropleth; grey = no data.
SCALE = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")
NO_DATA = "#eaeef2"


def _svg(width: int, height: int, title: str, body: str) -> str:
    t = escape(title)
    ident = "chart-" + hashlib.md5(title.encode(), usedforsecurity=False).hexdigest()[:8]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{ident}" class="chart">'
        f'<title id="{ident}">{t}</title>{body}</svg>'
    )


def axis_ticks(values: Sequence[float], *, most: int = 4) -> list[float]:
    """Y-axis ticks from 0: whole numbers when every value is whole (counts), at most
    `most` steps, the top tick at or above the largest value.

    >>> axis_ticks([0, 1, 2])
    [0, 1, 2]
    >>> axis_ticks([3, 7])
    [0, 2, 4, 6, 8]
    >>> axis_ticks([])
    [0, 1]
    >>> axis_ticks([0.5, 1.5])
    [0.0, 0.375, 0.75, 1.125, 1.5]
    """
    peak = max([0.0, *values])
    if all(float(v).is_integer() for v in values):
        top = max(1, ceil(peak))
        step = ceil(top / most)
        return list(range(0, step * ceil(top / step) + 1, step))
    return [peak * k / most for k in range(most + 1)]


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
) -> str:
    """Lines over categorical x labels (days), with a y axis from 0 and a legend."""
    left, right, top, bottom = 40, 10, 24, 28
    ticks = axis_ticks([v for _, values in series for v in values])
    top_value = ticks[-1]
    n = max(len(labels), 2)

    def x(i: int) -> float:
        return left + (width - left - right) * i / (n - 1)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - v / top_value)

    parts = []
    for value in ticks:
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y(value) + 4:.1f}" text-anchor="end" '
            f'font-size="10" fill="{MUTED}">{value:g}</text>'
        )
    step = max(1, len(labels) // 8)
    for i in range(0, len(labels), step):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" '
            f'font-size="10" fill="{MUTED}">{escape(labels[i][5:])}</text>'
        )
    for j, (name, values) in enumerate(series):
        colour = SERIES[j % len(SERIES)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(
            f'<rect x="{left + j * 110}" y="6" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + j * 110 + 14}" y="15" font-size="11" '
            f'fill="{INK}">{escape(name)}</text>'
        )
    return _svg(width, height, title, "".join(parts))


def bar_chart(
    rows: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str = "%",
    scale: float = 100.0,
    width: int = 640,
) -> str:
    """Horizontal bars (one per row), values 0–1 shown as percentages by default."""
    bar_h, gap, left = 18, 6, 190
    height = max(40, len(rows) * (bar_h + gap) + 10)
    usable = width - left - 60
    parts = []
    for i, (name, value) in enumerate(rows):
        top = 5 + i * (bar_h + gap)
        parts.append(
            f'<text x="{left - 6}" y="{top + 13}" text-anchor="end" font-size="11" '
            f'fill="{INK}">{escape(name[:18])}</text>'
        )
        if value is None:
            parts.append(
                f'<text x="{left + 4}" y="{top + 13}" font-size="11" fill="{MUTED}">—</text>'
            )
            continue
        w = max(1.0, usable * min(value, 1.0)) if scale == 100.0 else usable * value
        parts.append(
            f'<rect x="{left}" y="{top}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{SERIES[0]}"/>'
            f'<text x="{left + w + 4:.1f}" y="{top + 13}" font-size="11" '
            f'fill="{INK}">{value * scale:.1f}{unit}</text>'
        )
    return _svg(width, height, title, "".join(parts))


def _path(geom: BaseGeometry, project: object) -> str:
    polygons = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    out = []
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            pts = [project(x, y) for x, y in ring.coords]  # type: ignore[operator]
            out.append("M" + "L".join(f"{px:.1f},{py:.1f}" for px, py in pts) + "Z")
    return "".join(out)


def choropleth(
    cells: Sequence[tuple[str, str, bytes, float | None]],
    *,
    title: str,
    width: int = 640,
    legend: str = "",
) -> str:
    """Cells (code, name, WKB, value 0–1 or None) filled by value on a 5-class scale."""
    geoms = [(code, name, from_wkb(wkb), value) for code, name, wkb, value in cells]
    if not geoms:
        return _svg(width, 40, title, "")
    min_x = min(g.bounds[0] for _, _, g, _ in geoms)
    min_y = min(g.bounds[1] for _, _, g, _ in geoms)
    max_x = max(g.bounds[2] for _, _, g, _ in geoms)
    max_y = max(g.bounds[3] for _, _, g, _ in geoms)
    kx = cos(radians((min_y + max_y) / 2))  # equirectangular, true at the middle latitude
    span_x, span_y = (max_x - min_x) * kx or 1e-9, (max_y - min_y) or 1e-9
    scale = (width - 20) / span_x
    height = int(span_y * scale) + 50

    def project(x: float, y: float) -> tuple[float, float]:
        return 10 + (x - min_x) * kx * scale, 10 + (max_y - y) * scale

    parts = []
    for code, name, geom, value in geoms:
        fill = NO_DATA if value is None else SCALE[min(4, int(value * 5))]
        label = f"{name} ({code}): " + ("—" if value is None else f"{value * 100:.1f}%")
        parts.append(
            f'<path d="{_path(geom, project)}" fill="{fill}" stroke="#fff" '
            f'stroke-width="0.8" fill-rule="evenodd"><title>{escape(label)}</title></path>'
        )
    for i, colour in enumerate(SCALE):
        parts.append(
            f'<rect x="{10 + i * 44}" y="{height - 30}" width="44" height="10" '
            f'fill="{colour}"/><text x="{10 + i * 44}" y="{height - 8}" font-size="10" '
            f'fill="{MUTED}">{i * 20}%</text>'
        )
    parts.append(
        f'<text x="{10 + 5 * 44 + 8}" y="{height - 21}" font-size="11" '
        f'fill="{INK}">{escape(legend)}</text>'
    )
    return _svg(width, height, title, "".join(parts))
