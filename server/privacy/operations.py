"""Change how much of a case the public sees: the centre's choice, or a household visit's link."""

from __future__ import annotations

import datetime as dt
import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.audit.operations import AccessContext, record
from server.cases.models import Case
from server.cases.operations import VISIT_TEXT_STAYS_INSIDE, add_event
from server.enums import Channel, Disclosure, Role
from server.exceptions import InvalidInput, PermissionDenied
from server.population.models import Visit
from server.privacy.declaration import disclosure_allowed
from sync.versions import next_version

#: Who decides what the public sees of a case (the centre, as at intake).
DECIDERS = frozenset({Role.DISPATCHER, Role.ADMIN})


def set_disclosure(
    session: Session,
    case: Case,
    user: User,
    disclosure: Disclosure,
    *,
    at: dt.datetime,
    context: AccessContext,
) -> bool:
    """Set the case's disclosure (e.g. withdraw a resident's text from public view).

    Writes a timeline event and an audit entry; returns False when nothing changed.
    Raises PermissionDenied for anyone but the centre, InvalidInput for making a visit's
    text public.
    """
    if Role(user.role) not in DECIDERS:
        raise PermissionDenied(_l("Only the centre decides what the public sees of a case."))
    before = Disclosure(case.disclosure)
    if before == disclosure:
        return False
    if not disclosure_allowed(disclosure, from_visit=from_visit(session, case)):
        raise InvalidInput(VISIT_TEXT_STAYS_INSIDE, field="disclosure")
    case.disclosure = disclosure
    data = {"from": before.value, "to": disclosure.value}
    version = next_version(session)
    add_event(session, case, kind="disclosure", actor_id=user.id, version=version, at=at, data=data)
    record(
        session,
        context,
        action="disclosure",
        subject_type="case",
        subject_id=case.id,
        fields=["disclosure"],
        detail=data,
    )
    return True


def from_visit(session: Session, case: Case) -> bool:
    """The case came out of a household visit, or a visit names it."""
    if case.channel == Channel.VISIT:
        return True
    return session.scalar(select(Visit.id).where(Visit.case_id == case.id).limit(1)) is not None


def found_on_visit(
    session: Session, case_id: uuid.UUID, visit_id: uuid.UUID, actor_id: int | None, *, version: int
) -> None:
    """A household visit names the case: whatever it came in as, it is about a household now
    and leaves every public surface (also when an older app filed it as a patrol report).
    The timeline says which visit did it."""
    case = session.get(Case, case_id)
    if case is None or case.disclosure == Disclosure.PRIVATE:
        return
    data = {"from": Disclosure(case.disclosure).value, "to": Disclosure.PRIVATE.value}
    case.disclosure = Disclosure.PRIVATE
    add_event(
        session,
        case,
        kind="disclosure",
        actor_id=actor_id,
        version=version,
        data={**data, "visit_id": str(visit_id)},
    )
