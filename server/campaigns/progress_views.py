"""A campaign's progress page (table and map), its report with charts and its exports.

Read-only pages for the office: managers, dispatchers and administrators; a grid worker gets
403 (workers see campaigns only on the phone). A manager on duty for some cells sees those
cells only (`covered_cells`), as on the other office pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, g, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from shapely import from_wkb
from shapely.geometry import mapping

from server import clock
from server.audit.operations import AccessContext, record
from server.auth import page_login_required
from server.backoffice import localtime
from server.campaigns import charts, export, progress, reports
from server.cases import grid_access
from server.cases.coverage import covered_cells
from server.enums import Role
from server.exceptions import InvalidInput
from server.exports.cells import csv_bytes, xlsx_bytes
from server.extensions import db
from server.privacy import Audience, export_audience
from server.privacy.classes import PERSONAL_EXPORT_ROLES

bp = Blueprint("campaign_progress", __name__, url_prefix="/campaigns", template_folder="templates")
READERS = (Role.MANAGER, Role.DISPATCHER)
PER = ("cell", progress.AREA_LEVEL)


def _cells() -> frozenset[str] | None:
    return covered_cells(db.session, current_user, on=clock.today())


def _locale() -> str:
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


@bp.route("/<int:campaign_id>/progress")
@page_login_required(*READERS)
def progress_page(campaign_id: int) -> str:
    campaign = progress.get_campaign(db.session, campaign_id)
    shown = progress.campaign_progress(db.session, campaign, _cells())
    return render_template(
        "campaigns/progress.html", campaign=campaign, p=shown, **_export_choice()
    )


@bp.route("/<int:campaign_id>/progress.json")
@page_login_required(*READERS)
def progress_json(campaign_id: int) -> Response:
    """Tallies per cell and area with their polygons, and the located findings (the map)."""
    campaign = progress.get_campaign(db.session, campaign_id)
    allowed = _cells()
    by_cell = progress.cell_tallies(db.session, campaign.id, allowed)
    geoms = grid_access.cell_geometries(db.session)

    def features(tallies: list[progress.Tally]) -> dict[str, Any]:
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": t.key,
                    "geometry": mapping(from_wkb(geoms[t.key])),
                    "properties": t.as_json(),
                }
                for t in tallies
                if t.key in geoms
            ],
        }

    return jsonify(
        {
            "cells": features(list(by_cell.values())),
            "areas": features(progress.area_tallies(db.session, by_cell.values())),
            "findings": progress.finding_points(db.session, campaign.id, allowed),
        }
    )


@bp.route("/<int:campaign_id>/report")
@page_login_required(*READERS)
def report_page(campaign_id: int) -> str:
    campaign = progress.get_campaign(db.session, campaign_id)
    per = request.args.get("per") or "cell"
    if per not in PER:
        raise InvalidInput(_("Choose cells or residential areas."), field="per")
    report = reports.campaign_report(db.session, campaign, _cells(), per=per, locale=_locale())
    svgs = [_chart(q) for q in report.questions]
    return render_template(
        "campaigns/report.html",
        campaign=campaign,
        report=report,
        svgs=svgs,
        per=per,
        pers=PER,
        **_export_choice(),
    )


def _export_choice() -> dict[str, Any]:
    """Whether the page offers the export's "personal data" box (roles allowed to tick it)."""
    return {"may_export_personal": current_user.role in PERSONAL_EXPORT_ROLES}


def _chart(q: reports.QuestionReport) -> str:
    if q.question.type in reports.CHOICE_REPORT_TYPES:
        legend = [label for _v, label in q.question.choices]
        rows = [
            (r.name or _("Outside the grid"), [r.share(v) or 0.0 for v, _l in q.question.choices])
            for r in q.rows
            if isinstance(r, reports.ChoiceRow)
        ]
        return charts.share_bars(
            rows, legend, title=q.question.label, stacked=q.question.type != "select_multiple"
        )
    return charts.histogram(q.bins, title=q.question.label)


def _table(campaign_id: int, kind: str) -> list[list[Any]]:
    """The export's rows, read as the declared audience: answers and personal labels only for
    a role allowed to take personal data out, with the box ticked; that export is audited."""
    campaign = progress.get_campaign(db.session, campaign_id)
    personal = request.args.get("include_personal") == "1"
    audience = export_audience(current_user.role, personal=personal)
    headers = {
        "area": _("Residential area"),
        "cell": _("Cell"),
        "target": _("Target"),
        "done": _("Done"),
        "worker": _("Worker"),
        "answered_at": _("Answered at"),
        "late": _("Late"),
        "cases": _("Cases"),
        "form_version": _("Form version"),
    }
    words = {"yes": _("Yes"), "no": _("No"), "list_sep": ", " if _locale() == "en" else "、"}
    rows = export.export_rows(
        db.session,
        campaign,
        _cells(),
        headers=headers,
        words=words,
        localtime=localtime,
        locale=_locale(),
        audience=audience,
    )
    if audience is Audience.OFFICE:
        record(
            db.session,
            AccessContext(current_user.id, request.remote_addr, g.get("request_id")),
            action="export",
            subject_type="campaign",
            subject_id=campaign.id,
            fields=["target_labels", "answered_at", "answers"],
            detail={"code": campaign.code, "format": kind, "rows": len(rows) - 1},
        )
        db.session.commit()
    return rows


def _attachment(name: str) -> dict[str, str]:
    day = clock.now().astimezone(dt.UTC).strftime("%Y%m%d")
    return {"Content-Disposition": f"attachment; filename={name}-{day}"}


@bp.route("/<int:campaign_id>/export.csv")
@page_login_required(*READERS)
def export_csv(campaign_id: int) -> Response:
    headers = _attachment(f"campaign-{campaign_id}")
    headers["Content-Disposition"] += ".csv"
    return Response(csv_bytes(_table(campaign_id, "csv")), mimetype="text/csv", headers=headers)


@bp.route("/<int:campaign_id>/export.xlsx")
@page_login_required(*READERS)
def export_xlsx(campaign_id: int) -> Response:
    headers = _attachment(f"campaign-{campaign_id}")
    headers["Content-Disposition"] += ".xlsx"
    return Response(
        xlsx_bytes(_table(campaign_id, "xlsx"), sheet=_("Results"), freeze="D2"),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=headers,
    )
