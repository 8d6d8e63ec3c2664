"""What the office map's case pins and their legend need from the server: states, names, words."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from server.enums import CaseStatus
from server.labels import label

#: The legend lists the states in the order a case goes through them (cancelled last).
LEGEND_ORDER = (
    CaseStatus.REPORTED,
    CaseStatus.OPENED,
    CaseStatus.DISPATCHED,
    CaseStatus.HANDLING,
    CaseStatus.HANDLED,
    CaseStatus.CLOSED,
    CaseStatus.EVALUATED,
    CaseStatus.CANCELLED,
)


def pin_settings() -> dict[str, Any]:
    """The JSON the map's script reads (#case-pins): states with their names, and the words."""
    return {
        "states": [{"value": s.value, "label": str(label(s.value))} for s in LEGEND_ORDER],
        "words": {
            "legend": _("Case states"),
            "cases": _("cases"),
        },
    }
