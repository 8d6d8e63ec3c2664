"""Reads and changes of personal data leave an attributable trail."""

from __future__ import annotations

import uuid

from server.audit import operations as audit
from server.extensions import db


def test_an_access_is_recorded_with_actor_fields_and_origin(make_user):
    user = make_user("dispatcher")
    household_id = uuid.uuid4()
    context = audit.AccessContext(actor_id=user.id, ip="10.0.0.7", request_id="req-1")
    audit.record(
        db.session,
        context,
        action="read",
        subject_type="household",
        subject_id=household_id,
        fields=["residents.phone"],
    )
    db.session.commit()
    [entry] = audit.entries_for(db.session, subject_type="household", subject_id=household_id)
    assert (entry.actor_id, entry.action, entry.ip, entry.request_id) == (
        user.id,
        "read",
        "10.0.0.7",
        "req-1",
    )
    assert entry.fields == ["residents.phone"] and entry.at.tzinfo is not None


def test_entries_are_newest_first_and_filter_by_actor(make_user):
    first, second = make_user("dispatcher"), make_user("manager")
    for actor in (first, second, first):
        audit.record(
            db.session,
            audit.AccessContext(actor.id),
            action="read",
            subject_type="resident",
            subject_id="r1",
        )
    db.session.commit()
    assert [e.actor_id for e in audit.entries_for(db.session)] == [first.id, second.id, first.id]
    assert len(audit.entries_for(db.session, actor_id=first.id)) == 2
