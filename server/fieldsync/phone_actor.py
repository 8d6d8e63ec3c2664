"""The person behind a push as the mutation handlers see them: who, their scope, their clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases.models import Case
from server.fieldsync.scope import WorkerScope, scope_for
from sync.errors import Rejected
from sync.handlers import MutationContext


@dataclass
class PhoneActor:
    """The user behind a push, with their scope computed once per push."""

    user: User
    _scope: WorkerScope | None = field(default=None, repr=False)
    #: Read once: handlers ask for it per mutation, and after a group's commit the user
    #: object is expired (reading its id again would reload it).
    user_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.user_id = self.user.id

    def scope(self, session: Session) -> WorkerScope:
        if self._scope is None:
            self._scope = scope_for(session, self.user)
        return self._scope


def actor_of(ctx: MutationContext) -> PhoneActor:
    actor: PhoneActor = ctx.device.actor
    return actor


def clock_facts(ctx: MutationContext) -> dict[str, Any]:
    """Clock facts kept beside device times (display only; order comes from the server)."""
    data: dict[str, Any] = {"clock_offset_ms": ctx.clock_offset_ms}
    if ctx.clock_suspect:
        data["clock_suspect"] = True
    return data


def case_in_reach(ctx: MutationContext, case_id: uuid.UUID) -> Case:
    case = ctx.session.get(Case, case_id)
    if case is None:
        raise Rejected("UNKNOWN_CASE", "no such case")
    if not actor_of(ctx).scope(ctx.session).covers_case(case):
        raise Rejected("NOT_IN_SCOPE", "this case is not assigned to you nor in your cells")
    return case
