"""Campaigns, their responsible cells and their targets (issue 18, docs/forms.md §Campaigns).

A campaign asks one form of every target: a building, a household or a resident chosen by
cells, care tags or an uploaded list. Targets are rows of their own so that they reach the
phones of each cell's workers through the normal pull (ordered by `version`, `id`) and leave
it when the campaign closes; answers (`server.forms.models.FormAnswer`) name their target.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sync.db import Base, utcnow

#: What a campaign's targets are.
TARGET_KINDS = ("building", "household", "resident")
#: A campaign's life: edited as a draft, published (targets on the phones), closed.
DRAFT, PUBLISHED, CLOSED = "draft", "published", "closed"


class Campaign(Base):
    """A special action: one form asked of every target between two dates."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_version_id", "version", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The office's short name for it ("fire_2026_winter"), unique.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title_zh: Mapped[str] = mapped_column(String(100))
    description_zh: Mapped[str] = mapped_column(Text, default="")
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    #: building | household | resident (TARGET_KINDS).
    target_kind: Mapped[str] = mapped_column(String(16))
    #: How the targets were chosen, kept for the record and for re-selection of a draft:
    #: {"responsible": [picked codes], "cells": [...], "care_tags": [...],
    #:  "list": "<file name>" | null, "list_households": [hex], "list_residents": [hex]}
    #: (server/campaigns/selection.py, `Selection.to_json`).
    selection: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    #: draft | published | closed.
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    published_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Bumped on every change the phones see (publish, close, dates): the pull carries it.
    version: Mapped[int] = mapped_column(BigInteger, default=0)

    cells: Mapped[list[CampaignCell]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan"
    )

    def past_end(self, today: dt.date) -> bool:
        """Published and its end date behind `today` (the office's date): its targets are
        still on the phones, so the office should move the date or close it."""
        return self.status == PUBLISHED and self.ends_on < today


class CampaignCell(Base):
    """A cell responsible for a campaign: its workers get the campaign's targets there."""

    __tablename__ = "campaign_cells"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    cell_code: Mapped[str] = mapped_column(String(64), primary_key=True)

    campaign: Mapped[Campaign] = relationship(back_populates="cells")


class CampaignTarget(Base):
    """One thing a campaign's form is asked of: a building, a household or a resident."""

    __tablename__ = "campaign_targets"
    __table_args__ = (
        Index("ix_campaign_targets_campaign_cell", "campaign_id", "cell_code"),
        # Pull lists keys in (version, id) order from a cursor (server/fieldsync/pulling.py).
        Index("ix_campaign_targets_version_id", "version", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    #: building | household | resident, as the campaign's.
    kind: Mapped[str] = mapped_column(String(16))
    household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("households.id"))
    resident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("residents.id"))
    #: The building (楼) the target is in or is: road, lane, building, as on the register.
    road: Mapped[str] = mapped_column(String(60), default="")
    lane: Mapped[str] = mapped_column(String(20), default="")
    building: Mapped[str] = mapped_column(String(20), default="")
    #: What the worker reads in the list (an address; a household's holds its room).
    label: Mapped[str] = mapped_column(String(200), default="")
    cell_code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
