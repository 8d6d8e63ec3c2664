"""API of identity numbers: masked for staff covering the household, revealed (with a reason,
audited) only for the roles of ``ID_NUMBER_REVEAL_ROLES``. A resident outside the caller's
cells is "not found": an id alone opens nothing."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from server import clock
from server.api.base import Blueprint
from server.audit.operations import AccessContext
from server.auth import api_login_required, current_caller
from server.cases.coverage import covered_cells
from server.enums import Role
from server.exceptions import NotFound, PermissionDenied
from server.extensions import db
from server.population import editing
from server.population.identity import app_vault
from server.population.models import Household, Resident

blp = Blueprint("identity_api", __name__, url_prefix="/api/v1", description="Identity numbers")
STAFF = (Role.WORKER, Role.DISPATCHER, Role.MANAGER)


class RevealSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=200))


class IdentitySchema(Schema):
    resident_id = fields.String()
    masked = fields.String(metadata={"description": "'' when no number is on record"})
    number = fields.String(allow_none=True, metadata={"description": "only when revealed"})


def _resident(resident_id: uuid.UUID) -> Resident:
    """The resident, if the caller covers their household's cell; else NotFound."""
    caller = current_caller()
    assert caller is not None  # guaranteed by api_login_required
    resident = db.session.get(Resident, resident_id)
    household = db.session.get(Household, resident.household_id) if resident else None
    cells = covered_cells(db.session, caller.user, on=clock.today())
    if household is None or (cells is not None and household.cell_code not in cells):
        raise NotFound(_l("No such resident."), field="resident_id")
    return resident  # type: ignore[return-value]


@blp.route("/residents/<uuid:resident_id>/id-number", methods=["GET"])
@blp.response(200, IdentitySchema)
@api_login_required(*STAFF)
def masked(resident_id: uuid.UUID) -> Any:
    """The identity number masked (1*************002X)."""
    resident = _resident(resident_id)
    vault = app_vault(current_app)
    return {"resident_id": str(resident.id), "masked": editing.masked_id_number(vault, resident)}


@blp.route("/residents/<uuid:resident_id>/id-number/reveal", methods=["POST"])
@blp.arguments(RevealSchema)
@blp.response(200, IdentitySchema)
@api_login_required(*STAFF)
def reveal(args: dict[str, Any], resident_id: uuid.UUID) -> Any:
    """The identity number in clear, with a reason; every reveal is in the audit log."""
    caller = current_caller()
    assert caller is not None
    resident = _resident(resident_id)  # 404 first: outside one's cells nothing is said
    allowed = {str(r) for r in current_app.config["ID_NUMBER_REVEAL_ROLES"]} | {"admin"}
    if str(caller.user.role) not in allowed:
        raise PermissionDenied(_l("Your role may not see identity numbers in full."))
    vault = app_vault(current_app)
    context = AccessContext(caller.user.id, request.remote_addr, g.get("request_id"))
    number = editing.reveal_id_number(db.session, context, vault, resident, reason=args["reason"])
    db.session.commit()
    return {
        "resident_id": str(resident.id),
        "masked": editing.masked_id_number(vault, resident),
        "number": number,
    }
