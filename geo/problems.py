"""Problems found in an uploaded grid file, their rule catalogue and the validation report.

Every rule has a stable machine name, a default severity and a message template in
Chinese and English. ``error`` blocks publishing; ``blocking`` allows it only with an explicit
acknowledgement; ``warning`` does not block.

A problem may offer fixes in ``data["actions"]``: a list of ``{"options": {…}, "label_zh",
"label_en"}``, each a re-import of the same stored file with other import options (another
datum, axes swapped, levels derived from codes). The server renders them as one-click buttons.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict

from geo.rules import MANY, RULES, Severity


class FeatureRef(TypedDict):
    """Which feature a problem is about; spread into ``problem(rule, **ref)``."""

    feature_index: int | None
    code: str | None
    name: str | None


@dataclass(frozen=True)
class Problem:
    """One finding: which feature, which rule, how bad, where, and in words (zh/en)."""

    rule: str
    severity: Severity
    message_zh: str
    message_en: str
    feature_index: int | None = None
    code: str | None = None
    name: str | None = None
    location: tuple[float, float] | None = None  # (lon, lat) in WGS-84
    data: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict (location as ``[lon, lat]`` or None).

        >>> problem("empty_file").to_dict()["rule"]
        'empty_file'
        """
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "feature_index": self.feature_index,
            "code": self.code,
            "name": self.name,
            "location": list(self.location) if self.location else None,
            "data": dict(self.data),
        }


def problem(
    rule: str,
    *,
    feature_index: int | None = None,
    code: str | None = None,
    name: str | None = None,
    location: tuple[float, float] | None = None,
    severity: Severity | None = None,
    **data: object,
) -> Problem:
    """Build a Problem from the catalogue; raise KeyError for an unknown rule.

    >>> p = problem("ring_too_short", feature_index=2, count=3)
    >>> p.severity, p.message_en
    ('error', 'A ring has 3 positions; at least 4 are needed (first = last).')
    """
    default_severity, zh, en = RULES[rule]
    if location is not None:
        location = (round(float(location[0]), 7), round(float(location[1]), 7))
    return Problem(
        rule=rule,
        severity=severity or default_severity,
        message_zh=zh.format(code=code, name=name, **data),
        message_en=en.format(code=code, name=name, **data),
        feature_index=feature_index,
        code=code,
        name=name,
        location=location,
        data=data,
    )


def file_problem(found: list[Problem], total: int) -> Problem:
    """One file-level problem standing for ``found`` (same rule, several features).

    >>> many = [problem("axes_swapped", feature_index=i, code=f"G{i}", value="31.2, 121.4")
    ...         for i in range(3)]
    >>> merged = file_problem(many, total=5)
    >>> merged.feature_index, merged.data["count"], merged.message_en[:44]
    (None, 3, 'The coordinates of 3 of 5 features look like')
    """
    first = found[0]
    zh, en = MANY[first.rule]
    label = f"#{first.feature_index}" + (f" {first.code}" if first.code else "")
    fields = {**first.data, "count": len(found), "total": total, "first": label}
    data = {
        **first.data,
        "count": len(found),
        "total": total,
        "feature_indexes": [p.feature_index for p in found[:20]],
        "codes": [p.code for p in found[:20] if p.code],
    }
    return Problem(
        rule=first.rule,
        severity=first.severity,
        message_zh=zh.format(**fields),
        message_en=en.format(**fields),
        location=first.location,
        data=data,
    )


@dataclass
class ValidationReport:
    """All problems of one import; ``has_errors`` decides whether it may be published."""

    problems: list[Problem] = field(default_factory=list)
    feature_count: int = 0

    @property
    def has_errors(self) -> bool:
        """True when any problem blocks publishing.

        >>> ValidationReport([problem("winding")]).has_errors
        False
        """
        return any(p.severity == "error" for p in self.problems)

    @property
    def error_count(self) -> int:
        """Number of blocking problems."""
        return sum(p.severity == "error" for p in self.problems)

    @property
    def blocking_count(self) -> int:
        """Number of problems that need an explicit acknowledgement before publishing."""
        return sum(p.severity == "blocking" for p in self.problems)

    @property
    def warning_count(self) -> int:
        """Number of non-blocking problems."""
        return sum(p.severity == "warning" for p in self.problems)

    def rules(self) -> Counter[str]:
        """Count problems per rule.

        >>> ValidationReport([problem("winding"), problem("winding")]).rules()["winding"]
        2
        """
        return Counter(p.rule for p in self.problems)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict with counts and every problem.

        >>> ValidationReport().to_dict()["has_errors"]
        False
        """
        return {
            "has_errors": self.has_errors,
            "error_count": self.error_count,
            "blocking_count": self.blocking_count,
            "warning_count": self.warning_count,
            "feature_count": self.feature_count,
            "counts_by_rule": dict(self.rules()),
            "problems": [p.to_dict() for p in self.problems],
        }
