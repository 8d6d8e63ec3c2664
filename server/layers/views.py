"""Back-office pages of the base layers: upload (or only check) a file, read its report, publish."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from server.auth import page_login_required
from server.enums import Role
from server.errors import status_of
from server.exceptions import WanggeError
from server.extensions import db
from server.layers import operations, queries
from server.layers import schemas as s
from server.layers.api import access_context, run_import

bp = Blueprint("layers", __name__, url_prefix="/layers", template_folder="templates")


def _page(**extra: Any) -> str:
    return render_template(
        "layers/index.html",
        layers=queries.list_layers(db.session),
        counts=queries.published_counts(db.session),
        lang=str(get_locale()),
        **extra,
    )


@bp.route("/")
@page_login_required(Role.GIS)
def index() -> str:
    return _page()


@bp.route("/", methods=["POST"])
@page_login_required(Role.GIS)
def upload() -> str | Response:
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if form.get("datum") == "epsg":
        form["datum"] = f"EPSG:{form.pop('epsg', '').strip()}"
    form.pop("epsg", None)
    file = request.files.get("file")
    try:
        parsed = s.LayerImportFormSchema().load(form)
        outcome = run_import(
            current_user, file.read() if file else b"", parsed, file and file.filename
        )
    except ValidationError as error:
        return _page(error=str(error.messages)), 400  # type: ignore[return-value]
    except WanggeError as error:
        db.session.rollback()
        return _page(error=error.message, error_field=error.field), status_of(error)  # type: ignore[return-value]
    if outcome.layer is None:
        return _page(checked=outcome.report)
    db.session.commit()
    return redirect(url_for("layers.layer", layer_id=outcome.layer.id))


@bp.route("/<int:layer_id>")
@page_login_required(Role.GIS)
def layer(layer_id: int) -> str:
    found = operations.get_layer(db.session, layer_id)
    return render_template(
        "layers/layer.html", layer=found, report=found.report, lang=str(get_locale())
    )


@bp.route("/<int:layer_id>/publish", methods=["POST"])
@page_login_required(Role.GIS)
def publish(layer_id: int) -> Response:
    try:
        operations.publish_layer(db.session, current_user, layer_id, context=access_context())
    except WanggeError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("layers.layer", layer_id=layer_id))
    db.session.commit()
    flash(_("The layer is published and drawn under the cells on every map."), "success")
    return redirect(url_for("layers.layer", layer_id=layer_id))


@bp.app_template_filter("layer_kind")
def layer_kind(kind: str) -> str:
    """道路, 建筑轮廓 or 兴趣点 (in the page's language)."""
    names = {
        "roads": _("Roads"),
        "buildings": _("Building footprints"),
        "poi": _("Points of interest"),
    }
    return names.get(kind, kind)
