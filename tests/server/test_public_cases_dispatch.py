"""Cases from Open311 and from residents are dispatched like any other; Open311 then says so."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.cases.coverage import actor_for
from server.cases.models import Case
from server.cases.operations import apply_transition, dispatch_case
from server.enums import CaseStatus
from server.extensions import db
from server.open311.operations import create_partner
from tests.server.backoffice_world import IN_G1, T0


def test_an_open311_case_is_opened_and_dispatched_and_reads_back_with_its_unit(
    client: Any, world: Any
) -> None:
    _, key = create_partner(db.session, "partner", at=T0)
    db.session.commit()
    response = client.post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "A05-01", "lat": IN_G1[1], "long": IN_G1[0]},
    )
    number = response.get_json()[0]["service_request_id"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    actor = actor_for(db.session, world.users["d1"], on=T0.date())
    apply_transition(db.session, case, actor, CaseStatus.OPENED, at=T0)
    dispatch_case(db.session, case, actor, at=T0, unit_id=world.units["U-GD"].id, assignee_id=None)
    db.session.commit()
    [row] = client.get(f"/open311/v2/requests/{number}.json").get_json()
    assert row["status"] == "open" and row["agency_responsible"] == "供电公司驻街服务站"
    assert row["expected_datetime"] is not None  # the deadline clock started at dispatch
