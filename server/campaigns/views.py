"""Campaign pages of the office: list, draft form (with an uploaded list), detail, publish, close.

Progress, the map, exports and reports are further routes of this blueprint (another module
adds them). Managers and administrators edit; dispatchers read; grid workers see campaigns
only on their phones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.wrappers import Response

from server import clock
from server.audit.operations import AccessContext, record
from server.auth import page_login_required
from server.campaigns import operations as ops
from server.campaigns.errors import CampaignInvalid
from server.campaigns.listfile import ListMatch, read_list
from server.campaigns.models import TARGET_KINDS, Campaign
from server.campaigns.selection import Selection
from server.cases.grid_access import cell_tree
from server.enums import Role
from server.errors import status_of
from server.exceptions import WanggeError
from server.extensions import db
from server.forms.models import Form
from server.population.identity import app_vault
from server.population.models import CareTag

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns", template_folder="templates")
READERS = (Role.DISPATCHER, Role.MANAGER)
EDITORS = (Role.MANAGER,)
Page = str | Response | tuple[str, int]


@bp.route("/")
@page_login_required(*READERS)
def index() -> str:
    campaigns = db.session.query(Campaign).order_by(Campaign.id.desc()).all()
    return render_template(
        "campaigns/index.html", campaigns=campaigns, may_edit=_may_edit(), today=clock.today()
    )


@bp.route("/new", methods=["GET", "POST"])
@page_login_required(*EDITORS)
def new() -> Page:
    return _edit(None)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@page_login_required(*EDITORS)
def edit(campaign_id: int) -> Page:
    return _edit(ops.get(db.session, campaign_id))


@bp.route("/<int:campaign_id>")
@page_login_required(*READERS)
def detail(campaign_id: int) -> str:
    campaign = ops.get(db.session, campaign_id)
    cells = cell_tree(db.session)
    preview = ops.preview(db.session, campaign, cells) if campaign.status == "draft" else None
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        selection=Selection.from_json(campaign.selection),
        preview=preview,
        counts=ops.target_counts(db.session, campaign),
        form=db.session.get(Form, campaign.form_id),
        tags=_tags(),
        may_edit=_may_edit(),
        today=clock.today(),
    )


@bp.route("/<int:campaign_id>/publish", methods=["POST"])
@page_login_required(*EDITORS)
def publish(campaign_id: int) -> Response:
    campaign = ops.get(db.session, campaign_id)
    try:
        count = ops.publish(db.session, campaign, cell_tree(db.session), today=clock.today())
    except WanggeError as error:
        return _refused(campaign_id, error)
    _audit("publish", campaign, {"targets": count, "version": campaign.version})
    db.session.commit()
    flash(_("Published with %(n)d targets.", n=count), "info")
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))


@bp.route("/<int:campaign_id>/close", methods=["POST"])
@page_login_required(*EDITORS)
def close(campaign_id: int) -> Response:
    campaign = ops.get(db.session, campaign_id)
    try:
        count = ops.close(db.session, campaign)
    except WanggeError as error:
        return _refused(campaign_id, error)
    _audit("close", campaign, {"targets": count, "version": campaign.version})
    db.session.commit()
    flash(_("Closed: its targets leave the phones at their next sync."), "info")
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))


@bp.route("/<int:campaign_id>/end-date", methods=["POST"])
@page_login_required(*EDITORS)
def change_end(campaign_id: int) -> Response:
    campaign = ops.get(db.session, campaign_id)
    try:
        ends_on = _date(request.form.get("ends_on"), "ends_on")
        old = ops.change_end(db.session, campaign, ends_on, today=clock.today())
    except WanggeError as error:
        return _refused(campaign_id, error)
    if old != campaign.ends_on:
        _audit(
            "update",
            campaign,
            {
                "ends_on": [old.isoformat(), campaign.ends_on.isoformat()],
                "version": campaign.version,
            },
        )
        db.session.commit()
        flash(
            _(
                "The end date is now %(day)s; phones learn it at their next sync.",
                day=campaign.ends_on.isoformat(),
            ),
            "info",
        )
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))


def _audit(action: str, campaign: Campaign, detail: dict[str, Any]) -> None:
    """One audit entry for an office action on a campaign, committed with the change."""
    context = AccessContext(current_user.id, request.remote_addr, g.get("request_id"))
    record(
        db.session, context, action=action, subject_type="campaign", subject_id=campaign.id,
        detail=detail,
    )  # fmt: skip


def _refused(campaign_id: int, error: WanggeError) -> Response:
    """A refused publish or close: nothing kept, back on the detail page with the reason."""
    db.session.rollback()
    flash(str(error.message), "error")
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))


def _may_edit() -> bool:
    return current_user.role in (*EDITORS, Role.ADMIN)


def _tags() -> dict[str, CareTag]:
    return {t.code: t for t in db.session.query(CareTag).order_by(CareTag.priority, CareTag.code)}


def _edit(campaign: Campaign | None) -> Page:
    errors: dict[str, str] = {}
    unmatched: list[dict[str, Any]] = []
    status = 200
    cells = cell_tree(db.session)
    if request.method == "POST":
        try:
            fields = _fields(request.form, request.files)
            saved = ops.save_draft(
                db.session, fields, cells, actor_id=current_user.id, campaign=campaign
            )
        except WanggeError as error:
            db.session.rollback()
            status, errors = status_of(error), {error.field or "form": str(error.message)}
            unmatched = list(error.details.get("unmatched", []))
            campaign = db.session.get(Campaign, campaign.id) if campaign is not None else None
        else:
            action = "create" if campaign is None else "update"
            _audit(action, saved, {"code": saved.code, "status": saved.status})
            db.session.commit()
            flash(_("Saved."), "info")
            return redirect(url_for("campaigns.detail", campaign_id=saved.id))
    page = render_template(
        "campaigns/edit.html",
        campaign=campaign,
        selection=Selection.from_json(campaign.selection) if campaign else Selection(),
        values=request.form if request.method == "POST" else None,
        errors=errors,
        unmatched=unmatched,
        forms=ops.published_forms(db.session),
        kinds=TARGET_KINDS,
        cells=sorted(cells.values(), key=lambda c: c.code),
        tags=_tags(),
    )
    return (page, status) if status != 200 else page


def _fields(form: ImmutableMultiDict[str, str], files: Any) -> ops.CampaignFields:
    """The draft's fields from the page's form (the uploaded list is read and matched)."""
    form_id = form.get("form_id", "")
    upload = files.get("list")
    found: ListMatch | None = None
    if upload is not None and upload.filename:
        digest = app_vault(current_app).digest
        found = read_list(db.session, upload.read(), upload.filename, digest=digest)
    return ops.CampaignFields(
        code=form.get("code", "")[:200],
        title_zh=form.get("title_zh", "")[:200],
        description_zh=form.get("description_zh", "")[: ops.MAX_DESCRIPTION + 1],
        form_id=int(form_id) if form_id.isdigit() and len(form_id) < 10 else None,
        target_kind=form.get("target_kind", ""),
        responsible=form.getlist("responsible")[:1000],
        cells=form.getlist("cells")[:1000],
        care_tags=form.getlist("care_tags")[:100],
        starts_on=_date(form.get("starts_on"), "starts_on"),
        ends_on=_date(form.get("ends_on"), "ends_on"),
        upload=found,
        drop_list=form.get("drop_list") == "1",
    )


def _date(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CampaignInvalid(
            _("Dates are written YYYY-MM-DD."), code="campaign_dates", field=field
        ) from None
