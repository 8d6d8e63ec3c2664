"""What every kind of import (register, addresses, staff, units) provides to the pipeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from server.audit.operations import AccessContext
from server.imports.columns import FieldSpec, Mapping
from server.imports.report import ImportReport
from server.imports.tabular import Row
from server.population.identity import IdVault


@dataclass
class Context:
    """What checking and applying need besides the rows: plain values, no request."""

    session: Session
    today: dt.date
    vault: IdVault
    access: AccessContext
    options: dict[str, Any] = field(default_factory=dict)
    district_bbox: tuple[float, float, float, float] | None = None
    near_m: float = 50.0

    @property
    def full(self) -> bool:
        """A full re-import: what the file lacks is flagged for review (never deleted)."""
        return bool(self.options.get("full"))


@dataclass
class Checked:
    """A kind's reading of the file: the plan to apply and what applying would do."""

    plan: Any
    counts: dict[str, int]


class ImportKind(Protocol):
    name: str
    specs: tuple[FieldSpec, ...]

    def check(
        self, ctx: Context, rows: Iterator[Row], mapping: Mapping, report: ImportReport
    ) -> Checked: ...

    def apply(self, ctx: Context, checked: Checked, run_id: Any) -> dict[str, int]: ...
