"""Back-office case pages: queue, review, intake, one case and its steps; small JSON lookups."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from server import clock
from server.audit.operations import AccessContext, record
from server.auth import page_login_required
from server.cases import lookups, operations, queries
from server.cases import schemas as s
from server.cases.coverage import actor_for, covered_cells
from server.cases.escalation import escalate_overdue
from server.cases.models import Case
from server.cases.photo_links import store_upload
from server.cases.workflow import Actor, steps_for
from server.enums import CaseStatus, Channel, Priority, Role
from server.evaluation import operations as evaluation
from server.exceptions import InvalidInput, NotFound, WanggeError
from server.extensions import db
from server.labels import label
from server.locations import point_from_text
from server.privacy.operations import set_disclosure
from server.units.models import Unit
from server.validation_text import translate_messages

bp = Blueprint("cases", __name__, url_prefix="/cases", template_folder="templates")
STAFF = (Role.DISPATCHER, Role.MANAGER, Role.WORKER)
DESK = (Role.DISPATCHER,)


def _actor() -> Actor:
    return actor_for(db.session, current_user, on=clock.today())


def _context() -> AccessContext:
    return AccessContext(current_user.id, request.remote_addr, g.get("request_id"))


def _case_or_404(case_id: uuid.UUID, actor: Actor) -> Case:
    case = queries.case_detail(db.session, case_id)
    if case is None or not (
        actor.cell_codes is None
        or actor.covers(case.cell_code)
        or case.assignee_id == actor.user_id
    ):
        raise NotFound(_("Nothing was found at this address."))
    return case


def _photos_from_request() -> list[str]:
    """Store the photos of a multipart form; return their SHA-256s."""
    shas = []
    for upload in request.files.getlist("photos"):
        data = upload.read()
        if data:
            shas.append(store_upload(db.session, data).sha256)
    return shas


def _escalation_interval() -> dt.timedelta:
    return dt.timedelta(hours=float(current_app.config["ESCALATION_INTERVAL_HOURS"]))


@bp.route("/")
@page_login_required(*STAFF)
def queue() -> str:
    args = s.QueueArgs().load(request.args)
    now = clock.now()
    if escalate_overdue(db.session, now=now, interval=_escalation_interval()):
        db.session.commit()  # also checked on queue load, not only by cron
    cells = covered_cells(db.session, current_user, on=clock.today())
    f = queries.QueueFilter(
        args["view"], args["status"], args["q"], cells, current_user.id, args["page"]
    )
    rows, total = queries.queue(db.session, f, now=now)
    counts = queries.counts_by_view(db.session, cells, now=now, user_id=current_user.id)
    review = {}
    if f.view == "review":
        cases = [r.case for r in rows]
        review = queries.review_extras(db.session, cases, **_duplicate_rule())
    return render_template(
        "cases/queue.html",
        rows=rows,
        total=total,
        f=f,
        counts=counts,
        statuses=list(CaseStatus),
        now=now,
        review=review,
        clock_suspect_s=float(current_app.config["CLOCK_SUSPECT_SECONDS"]),
    )


def _duplicate_rule() -> dict[str, Any]:
    """The likely-duplicate rule: same category within this distance and time."""
    return {
        "radius_m": float(current_app.config["DUPLICATE_RADIUS_M"]),
        "window": dt.timedelta(hours=float(current_app.config["DUPLICATE_WINDOW_HOURS"])),
    }


def _intake_page(form: Any, errors: dict[str, Any]) -> str:
    return render_template(
        "cases/intake.html",
        form=form,
        channels=list(Channel),
        priorities=list(Priority),
        errors=errors,
        units=lookups.active_units(db.session),
        people=lookups.staff(db.session),
    )


@bp.route("/new", methods=["GET", "POST"])
@page_login_required(*DESK)
def intake() -> str | Response | tuple[str, int]:
    """Take a matter in; with `then`, also 立案 and 派遣 it in the same transaction."""
    if request.method == "GET":
        return _intake_page({}, {})
    done: list[str] = []
    try:
        data = s.IntakeForm().load(request.form)
        then = s.IntakeNextForm().load(request.form)
        photos = _photos_from_request()
        now = clock.now()
        case = operations.create_case(
            db.session,
            current_user,
            operations.Intake(**data),
            at=now,
            context=_context(),
            prefix=current_app.config["CASE_NUMBER_PREFIX"],
            photos=photos,
        )
        who = case.assignee.display_name if case.assignee else _("nobody (unplaced)")
        done.append(
            _("Case %(number)s registered; assigned to %(who)s.", number=case.number, who=who)
        )
        if then["then"] in ("open", "dispatch"):
            actor = _actor()
            operations.apply_transition(db.session, case, actor, CaseStatus.OPENED, at=now)
            done.append(_("Case %(number)s opened (立案).", number=case.number))
        if then["then"] == "dispatch":
            operations.dispatch_case(
                db.session,
                case,
                actor,
                at=now,
                unit_id=then["unit_id"],
                assignee_id=then["assignee_id"],
                note=then["dispatch_note"],
            )
            done.append(_dispatched_message(case))
    except (ValidationError, WanggeError) as error:
        db.session.rollback()
        errors = (
            translate_messages(error.messages)
            if isinstance(error, ValidationError)
            else {error.field or "form": [str(error.message)]}
        )
        return _intake_page(request.form, errors), 422
    db.session.commit()
    for message in done:
        flash(message, "info")
    return redirect(url_for("cases.detail", case_id=case.id))


def _dispatched_message(case: Case) -> str:
    to = " · ".join(
        name
        for name in (
            case.unit.name_zh if case.unit else None,
            case.assignee.display_name if case.assignee else None,
        )
        if name
    )
    return _("Case %(number)s dispatched (派遣) to %(to)s.", number=case.number, to=to)


@bp.route("/<uuid:case_id>")
@page_login_required(*STAFF)
def detail(case_id: uuid.UUID) -> str:
    actor = _actor()
    case = _case_or_404(case_id, actor)
    reveal = request.args.get("reveal") == "caller" and current_user.role != Role.WORKER
    if reveal and (case.caller_name or case.caller_phone):
        record(
            db.session,
            _context(),
            action="read",
            subject_type="case_caller",
            subject_id=case.id,
            fields=["caller_name", "caller_phone"],
        )
        db.session.commit()
    merged = queries.merged_reports(db.session, case)
    now = clock.now()
    return render_template(
        "cases/detail.html",
        case=case,
        events=queries.timeline(db.session, case),
        photos=queries.photos_of(db.session, [case.id]),
        merged=merged,
        steps=list(steps_for(case, actor)),
        reveal=reveal,
        now=now,
        duplicates=queries.likely_duplicates(db.session, case, **_duplicate_rule()),
        units=lookups.active_units(db.session),
        people=lookups.staff(db.session),
        offset=queries.clock_offset(case),
        clock_suspect_s=float(current_app.config["CLOCK_SUSPECT_SECONDS"]),
        left=queries.time_left(case, now),
        due=queries.effective_due(case, now),
        rating_link=request.args.get("rating_link"),
        actor=actor,
    )


def _do(case_id: uuid.UUID, action: Any) -> Response | tuple[str, int]:
    """Run a step on a case and commit; a refusal re-renders the case with the reason.

    Refusals answer 403 (role may not), 409 (the case's state does not allow it) or 422.
    """
    actor = _actor()
    case = _case_or_404(case_id, actor)
    try:
        action(case, actor)
    except (ValidationError, WanggeError) as error:
        db.session.rollback()
        if isinstance(error, WanggeError):
            message, status = str(error.message), _status_of(error)
        else:
            message, status = _("Some fields are not valid; see the errors."), 422
        flash(message, "error")
        return detail(case_id), status
    db.session.commit()
    if request.form.get("back") == "review":  # a step taken on a 待核实 card
        return redirect(url_for("cases.queue", view="review"), 303)
    return redirect(url_for("cases.detail", case_id=case.id), 303)


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _status_of(error: WanggeError) -> int:
    from server.errors import status_of

    return status_of(error)


@bp.route("/<uuid:case_id>/step", methods=["POST"])
@page_login_required(*STAFF)
def step(case_id: uuid.UUID) -> Response | tuple[str, int]:
    def run(case: Case, actor: Actor) -> None:
        form = s.StepForm().load(request.form)
        to, now = form["to_status"], clock.now()
        if to == CaseStatus.DISPATCHED and case.status == CaseStatus.OPENED:
            operations.dispatch_case(
                db.session,
                case,
                actor,
                at=now,
                unit_id=form["unit_id"],
                assignee_id=form["assignee_id"],
                note=form["note"],
            )
            flash(_dispatched_message(case), "info")
            return
        elif to == CaseStatus.HANDLED:
            operations.record_feedback(
                db.session, case, actor, at=now, note=form["note"], photos=_photos_from_request()
            )
        elif to == CaseStatus.CANCELLED:
            operations.cancel_case(db.session, case, actor, at=now, reason=form["note"])
        else:
            operations.apply_transition(db.session, case, actor, to, at=now, note=form["note"])
        flash(_("Case %(number)s: %(status)s.", number=case.number, status=label(to)), "info")

    return _do(case_id, run)


@bp.route("/<uuid:case_id>/postpone", methods=["POST"])
@page_login_required(*STAFF)
def postpone(case_id: uuid.UUID) -> Response | tuple[str, int]:
    def run(case: Case, actor: Actor) -> None:
        decision, now = request.form.get("decision", ""), clock.now()
        if decision in ("approve", "refuse"):
            operations.decide_postponement(
                db.session,
                case,
                actor,
                at=now,
                approve=decision == "approve",
                note=request.form.get("note", ""),
            )
        elif decision == "resume":
            operations.resume_case(db.session, case, actor, at=now)
        else:
            operations.request_postponement(
                db.session, case, actor, at=now, reason=request.form.get("note", "")
            )

    return _do(case_id, run)


@bp.route("/<uuid:case_id>/merge", methods=["POST"])
@page_login_required(*DESK)
def merge(case_id: uuid.UUID) -> Response | tuple[str, int]:
    def run(case: Case, actor: Actor) -> None:
        into_id = _uuid_or_none(request.form.get("into", ""))
        into = db.session.get(Case, into_id) if into_id is not None else None
        if into is None:
            raise NotFound(_("Nothing was found at this address."))
        operations.merge_duplicate(db.session, case, into, actor, at=clock.now())
        flash(
            _("Case %(number)s merged into %(into)s.", number=case.number, into=into.number), "info"
        )

    return _do(case_id, run)


@bp.route("/<uuid:case_id>/disclosure", methods=["POST"])
@page_login_required(*DESK)
def disclosure(case_id: uuid.UUID) -> Response | tuple[str, int]:
    """What the public sees of the case (server/privacy/): the centre's decision, audited."""

    def run(case: Case, _actor: Actor) -> None:
        form = s.DisclosureForm().load(request.form)
        set_disclosure(
            db.session, case, current_user, form["disclosure"], at=clock.now(), context=_context()
        )

    return _do(case_id, run)


@bp.route("/<uuid:case_id>/locate", methods=["POST"])
@page_login_required(*DESK)
def relocate(case_id: uuid.UUID) -> Response | tuple[str, int]:
    def run(case: Case, actor: Actor) -> None:
        point = point_from_text(request.form.get("lon"), request.form.get("lat"))
        if point is None:
            raise InvalidInput(_("Click the map to place the case."), field="lon")
        operations.relocate(db.session, case, actor, lon=point[0], lat=point[1], at=clock.now())

    return _do(case_id, run)


@bp.route("/<uuid:case_id>/rating", methods=["POST"])
@page_login_required(*STAFF)
def rating(case_id: uuid.UUID) -> Response | tuple[str, int]:
    actor = _actor()
    case = _case_or_404(case_id, actor)
    if request.form.get("mode") == "link":
        try:
            code = evaluation.issue_rating_link(
                db.session,
                case,
                actor,
                at=clock.now(),
                valid=dt.timedelta(days=float(current_app.config["RATING_LINK_DAYS"])),
            )
        except WanggeError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return detail(case_id), _status_of(error)
        db.session.commit()
        link = url_for("rating.rate", code=code, _external=True)
        return redirect(url_for("cases.detail", case_id=case.id, rating_link=link), 303)

    def run(case: Case, actor: Actor) -> None:
        form = s.RatingForm().load(request.form)
        evaluation.record_rating(
            db.session, case, actor, score=form["score"], comment=form["comment"], at=clock.now()
        )

    return _do(case_id, run)


# --- JSON lookups for the intake form -----------------------------------------------------


@bp.route("/lookup/catalogue")
@page_login_required(*STAFF)
def catalogue_lookup() -> Response:
    return jsonify(lookups.catalogue(db.session, request.args.get("q", ""), limit=12))


@bp.route("/lookup/places")
@page_login_required(*STAFF)
def place_lookup() -> Response:
    return jsonify(lookups.places(db.session, request.args.get("q", ""), limit=12))


@bp.route("/lookup/locate")
@page_login_required(*STAFF)
def locate_lookup() -> Response:
    point = point_from_text(request.args.get("lon"), request.args.get("lat"))
    if point is None:
        raise InvalidInput(_("Click the map to place the case."), field="lon")
    return jsonify(lookups.locate(db.session, point[0], point[1], on=clock.today()))


@bp.route("/units")
@page_login_required(*STAFF)
def units_json() -> Response:
    rows = db.session.scalars(select(Unit).where(Unit.is_active.is_(True)).order_by(Unit.code))
    return jsonify([{"id": u.id, "code": u.code, "name": u.name_zh} for u in rows])
