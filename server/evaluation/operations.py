"""Ratings of closed cases (one-time resident links, or recorded by staff) and 逐级评议 scores."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases.models import Case
from server.cases.operations import apply_transition
from server.cases.workflow import Actor, check_transition
from server.enums import CaseStatus, Role
from server.evaluation.models import CaseRating, RatingRequest, StaffEvaluation
from server.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from server.units.models import Unit
from sync.versions import next_version

#: The levels an evaluator answers for (the form's choices; the column holds 32 characters).
EVALUATION_LEVELS = ("street", "residential_area", "block")
#: An evaluation covers at most a year (a month, a quarter, a year are the usual periods).
MAX_PERIOD = dt.timedelta(days=366)
MAX_COMMENT = 1000


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def issue_rating_link(
    session: Session, case: Case, actor: Actor, *, at: dt.datetime, valid: dt.timedelta
) -> str:
    """Make a one-time code for the resident's rating link; only its hash is kept.

    Returns the code (shown once, e.g. sent by SMS). The case's earlier live codes end now
    (only hashes are kept, so none can be shown again): a case has one working link, the
    latest. Raises if the case cannot be rated.
    """
    check_transition(case, actor, CaseStatus.EVALUATED)
    session.execute(
        update(RatingRequest)
        .where(
            RatingRequest.case_id == case.id,
            RatingRequest.used_at.is_(None),
            RatingRequest.expires_at > at,
        )
        .values(expires_at=at)
        .execution_options(synchronize_session=False)
    )
    code = secrets.token_urlsafe(16)
    session.add(
        RatingRequest(
            case_id=case.id,
            code_sha256=_digest(code),
            created_by_id=actor.user_id,
            created_at=at,
            expires_at=at + valid,
        )
    )
    return code


def find_request(session: Session, code: str, *, at: dt.datetime) -> RatingRequest:
    """The live request for `code`; Conflict `already_rated` for a used code (a second tap
    says the rating is in), NotFound for unknown, voided or expired ones (alike)."""
    request = session.scalar(
        select(RatingRequest).where(RatingRequest.code_sha256 == _digest(code))
    )
    if request is not None and request.used_at is not None:
        raise _used()
    if request is None or request.expires_at <= at:
        raise NotFound(_l("This rating link is not valid any more."), code="rating_link_invalid")
    return request


def _used() -> Conflict:
    return Conflict(_l("This link has been used: the case is rated."), code="already_rated")


def rate_with_code(
    session: Session, code: str, *, score: int, comment: str, at: dt.datetime
) -> CaseRating:
    """The resident rates through the link; the code is then spent.

    The code is claimed first by a conditional UPDATE (a row lock on PostgreSQL, the write
    lock on SQLite), so of several uses at once exactly one goes on; the others get
    Conflict `already_rated`, never a constraint error.
    """
    if not 1 <= score <= 5:
        raise InvalidInput(_l("A rating is 1 to 5."), field="score")
    request = find_request(session, code, at=at)
    claimed = session.execute(
        update(RatingRequest)
        .where(RatingRequest.id == request.id, RatingRequest.used_at.is_(None))
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not claimed:
        raise _used()
    case = session.get(Case, request.case_id)
    if case is None:
        raise NotFound(_l("This rating link is not valid any more."), code="rating_link_invalid")
    return _rate(
        session, case, Actor.resident(), score=score, comment=comment, at=at, source="resident"
    )


def record_rating(
    session: Session, case: Case, actor: Actor, *, score: int, comment: str, at: dt.datetime
) -> CaseRating:
    """Staff (e.g. the grid worker who asked at the door) record the resident's rating."""
    return _rate(session, case, actor, score=score, comment=comment, at=at, source="worker")


def _rate(
    session: Session,
    case: Case,
    actor: Actor,
    *,
    score: int,
    comment: str,
    at: dt.datetime,
    source: str,
) -> CaseRating:
    if not 1 <= score <= 5:
        raise InvalidInput(_l("A rating is 1 to 5."), field="score")
    # The version clock is taken first: it serialises writers, so the check below sees a
    # rating committed by a request that ran at the same moment.
    version = next_version(session)
    if session.scalar(select(CaseRating.id).where(CaseRating.case_id == case.id)) is not None:
        raise Conflict(_l("This case has been rated already."), code="already_rated")
    apply_transition(
        session,
        case,
        actor,
        CaseStatus.EVALUATED,
        at=at,
        version=version,
        note=comment,
        data={"score": score, "source": source},
    )
    case.satisfaction = score
    rating = CaseRating(
        case_id=case.id,
        score=score,
        comment=comment.strip(),
        source=source,
        recorded_by_id=actor.user_id,
        at=at,
    )
    session.add(rating)
    try:
        session.flush()
    except IntegrityError:  # rated meanwhile by another way in (one rating per case)
        raise Conflict(_l("This case has been rated already."), code="already_rated") from None
    return rating


EVALUATORS = frozenset({Role.MANAGER, Role.ADMIN})


def add_staff_evaluation(
    session: Session,
    evaluator: User,
    *,
    subject_user_id: int | None,
    subject_unit_id: int | None,
    period_start: dt.date,
    period_end: dt.date,
    level: str,
    score: float,
    comment: str,
    at: dt.datetime,
) -> StaffEvaluation:
    """逐级评议: a superior scores a person or a unit for a period (0–100)."""
    if evaluator.role not in EVALUATORS:
        raise PermissionDenied(_l("Your role may not take this step."), code="step_not_permitted")
    if (subject_user_id is None) == (subject_unit_id is None):
        raise InvalidInput(_l("Evaluate either a person or a unit."), field="subject")
    if subject_user_id == evaluator.id:
        raise InvalidInput(_l("Nobody evaluates themselves."), field="subject")
    if not 0 <= score <= 100 or period_end < period_start:
        raise InvalidInput(
            _l("A score is 0 to 100 over a period that ends after it starts."), field="score"
        )
    if period_end - period_start > MAX_PERIOD:
        raise InvalidInput(_l("A period is at most one year."), field="period_end")
    if level not in EVALUATION_LEVELS:
        raise InvalidInput(_l("Choose the level you answer for."), field="level")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(
            _l("A comment is at most %(n)s characters.", n=MAX_COMMENT), field="comment"
        )
    subject = (
        session.get(User, subject_user_id)
        if subject_user_id is not None
        else session.get(Unit, subject_unit_id)
    )
    if subject is None:
        raise InvalidInput(_l("Choose who is evaluated."), field="subject")
    evaluation = StaffEvaluation(
        subject_user_id=subject_user_id,
        subject_unit_id=subject_unit_id,
        evaluator_id=evaluator.id,
        period_start=period_start,
        period_end=period_end,
        level=level,
        score=score,
        comment=comment.strip(),
        created_at=at,
    )
    session.add(evaluation)
    return evaluation
