"""The campaign report's charts: inline SVG drawn on the server, as the dashboard's.

Shares of each choice stacked per cell, and a histogram of a number question. The numbers
are in the table beside each chart; the SVG has a <title> for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from server.evaluation.charts import GRID, INK, MUTED, _svg, axis_ticks

#: Distinct enough for up to eight choices, then repeated.
PALETTE = ("#0969da", "#1a7f37", "#bf8700", "#b3261e", "#8250df", "#57606a", "#d4a72c", "#1b7c83")


def _name(text: str, most: int = 22) -> str:
    """A row name that fits the label column: the end of a long cell path, "…" before it."""
    return text if len(text) <= most else "…" + text[-(most - 1) :]


def _legend(legend: Sequence[str], width: int) -> list[str]:
    parts = []
    for j, name in enumerate(legend):
        x, y = 10 + (j % 4) * ((width - 20) // 4), 6 + (j // 4) * 22
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{y + 9}" font-size="11" fill="{INK}">{escape(name[:14])}</text>'
        )
    return parts


def share_bars(
    rows: Sequence[tuple[str, Sequence[float]]],
    legend: Sequence[str],
    *,
    title: str,
    stacked: bool = True,
    width: int = 640,
) -> str:
    """One horizontal bar per row split by each choice's share (0–1), in legend order; with
    `stacked=False` (multiple choice: shares add up to more than 100 %) one thin bar per
    choice under each other instead."""
    per_row = 1 if stacked else max(1, len(legend))
    bar_h, gap, left = (18 if stacked else 7 * per_row), 6, 250
    legend_h = 22 * ((len(legend) + 3) // 4)
    usable = width - left - 40
    height = legend_h + max(1, len(rows)) * (bar_h + gap) + 10
    parts = _legend(legend, width)
    for i, (name, shares) in enumerate(rows):
        top = legend_h + i * (bar_h + gap)
        parts.append(
            f'<text x="{left - 6}" y="{top + bar_h / 2 + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="{INK}">{escape(_name(name))}</text>'
        )
        x = float(left)
        for j, share in enumerate(shares):
            w = usable * max(0.0, min(share, 1.0))
            y, h = (top, bar_h) if stacked else (top + j * 7, 6)
            label = f"{legend[j]} {share * 100:.1f}%"
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{h}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(label)}</title></rect>'
            )
            if stacked and w > 34:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{top + 13}" text-anchor="middle" '
                    f'font-size="10" fill="#fff">{share * 100:.0f}%</text>'
                )
            if stacked:
                x += w
    return _svg(width, height, title, "".join(parts))


def histogram(bins: Sequence[tuple[str, int]], *, title: str, width: int = 640) -> str:
    """Vertical bars of counts over labelled bins, a y axis from 0."""
    left, right, top, bottom, height = 40, 10, 10, 40, 200
    ticks = axis_ticks([n for _, n in bins])
    peak = ticks[-1] or 1
    n = max(1, len(bins))
    slot = (width - left - right) / n
    parts = []
    for value in ticks:
        y = top + (height - top - bottom) * (1 - value / peak)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10" '
            f'fill="{MUTED}">{value:g}</text>'
        )
    for i, (label, count) in enumerate(bins):
        h = (height - top - bottom) * count / peak
        x = left + i * slot
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{height - bottom - h:.1f}" width="{slot - 4:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{escape(label)}: {count}</title></rect>'
            f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f'font-size="10" fill="{MUTED}">{escape(label)}</text>'
        )
    return _svg(width, height, title, "".join(parts))
