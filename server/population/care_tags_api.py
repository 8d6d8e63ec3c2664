"""API of care tags' visit forms (issue 18): managers pick the form a visit to a group asks."""

from __future__ import annotations

from typing import Any

from flask import g, request
from marshmallow import Schema, fields, validate

from server.api.base import Blueprint
from server.audit.operations import AccessContext
from server.auth import api_login_required, current_caller
from server.enums import Role
from server.extensions import db
from server.forms import care_tags as visit_forms

blp = Blueprint("care_tags_api", __name__, url_prefix="/api/v1", description="Care tags")


class VisitFormSchema(Schema):
    visit_form_id = fields.Integer(
        required=True, allow_none=True, strict=True, validate=validate.Range(1, 2**31 - 1)
    )


class CareTagSchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    visit_form_id = fields.Integer(allow_none=True)


@blp.route("/care-tags/<code>", methods=["PATCH"])
@blp.arguments(VisitFormSchema)
@blp.response(200, CareTagSchema)
@api_login_required(Role.MANAGER)
def set_visit_form(args: dict[str, Any], code: str) -> Any:
    """Set or clear the care tag's visit form

    Send a form id to set it, or an empty value to clear it; phones learn it at their next pull.
    """
    caller = current_caller()
    assert caller is not None  # guaranteed by api_login_required
    context = AccessContext(caller.user.id, request.remote_addr, g.get("request_id"))
    tag = visit_forms.set_visit_form(db.session, context, code, args["visit_form_id"])
    db.session.commit()
    return {"code": tag.code, "name_zh": tag.name_zh, "visit_form_id": tag.visit_form_id}
