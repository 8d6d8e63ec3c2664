"""Problems found in an uploaded grid file, their rule catalogue and the validation report.

Every rule has a stable machine name, a default severity and a message template in
Chinese and English. ``error`` blocks publishing; ``warning`` does not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict

from geo.rules import RULES, Severity


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
            "warning_count": self.warning_count,
            "feature_count": self.feature_count,
            "counts_by_rule": dict(self.rules()),
            "problems": [p.to_dict() for p in self.problems],
        }
