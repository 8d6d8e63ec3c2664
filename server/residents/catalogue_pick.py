"""The report page's two-step pick: affairs (事务) first, then services, each by category."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from server.catalogue.models import CatalogueCategory, CatalogueItem
from server.enums import CatalogueKind

#: How the two kinds read to a resident, in the order they are offered.
KIND_LABELS = (
    (CatalogueKind.AFFAIR, _l("Report a problem")),
    (CatalogueKind.SERVICE, _l("Ask for a service")),
)


@dataclass(frozen=True)
class Group:
    kind: CatalogueKind
    label: str
    categories: list[tuple[CatalogueCategory, list[CatalogueItem]]]


def catalogue_groups(categories: Iterable[CatalogueCategory]) -> list[Group]:
    """Active items by category, categories by kind: affairs first, empty ones left out."""
    by_kind: dict[CatalogueKind, list[tuple[CatalogueCategory, list[CatalogueItem]]]] = {}
    for category in categories:
        items = sorted((i for i in category.items if i.is_active), key=lambda i: i.code)
        if items:
            by_kind.setdefault(category.kind, []).append((category, items))
    return [
        Group(kind, str(label), by_kind[kind]) for kind, label in KIND_LABELS if kind in by_kind
    ]
