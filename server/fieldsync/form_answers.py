"""`form.answer`: a filled-in form pushed by the phone (docs/sync-protocol.md §form.answer).

An append-only record with a phone-minted id, checked against the form version it names
(not the latest: an answer made on version 1 after version 2 was published is kept), about a
campaign's target or a visit in the worker's cells. An answer whose rules open cases files
them on `case.report`'s path, with ids derived from the answer's, so a replay never files
twice; such an answer runs under the version clock, and so does a visit answer whose visit
is not committed yet (queued by visit.create earlier in the same group: the engine writes the
queued rows before a mutation under the clock runs, so it finds it); any other runs before it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.campaigns.models import DRAFT, Campaign, CampaignTarget
from server.cases.models import Case
from server.enums import Channel, Priority
from server.fieldsync.phone_actor import actor_of
from server.forms.answering import after_close, case_id_for, case_wording
from server.forms.answers import SHA256, CleanAnswers, validate_answers
from server.forms.definition import FormDefinition, parse_definition
from server.forms.models import FormAnswer, FormVersion
from server.forms.problems import AnswersError, FormDefinitionError
from server.population.models import Household, Resident, Visit
from sync.batching import PENDING
from sync.db import among
from sync.errors import Rejected
from sync.handlers import DeviceContext, MutationContext

ANSWERS = FormAnswer.__table__
#: Keys `answer_prefetch` sets on each validated args dict (the log keeps the raw args): do
#: the answers open cases, the values checked against the version (None: unknown), and is
#: the visit named (if any) committed already.
OPENS_CASES, CHECKED, VISIT_COMMITTED = "_opens_cases", "_checked", "_visit_committed"

#: (args as CaseReportArgs loads them, channel) → the filed case.
FileCase = Callable[[dict[str, Any], Channel], Case]


@dataclass
class AnswerBatch:
    """What a group of form.answer reads, in a few queries (kept current as rows queue)."""

    answers: dict[uuid.UUID, tuple[int, list[str]]]  # id → (worker_id, case_ids)
    versions: dict[int, tuple[int, FormDefinition] | None]  # id → (form_id, parsed) if published
    targets: dict[uuid.UUID, CampaignTarget]
    campaigns: dict[int, Campaign]
    households: dict[uuid.UUID, Household]
    visits: dict[uuid.UUID, tuple[uuid.UUID]]  # committed visit id → (household_id,)


def answer_prefetch(
    session: Session, device: DeviceContext, args_list: list[dict[str, Any]]
) -> AnswerBatch:
    """Read the group's answers, form versions, targets, campaigns, households and visits;
    check each answer's values against its version, and mark (`OPENS_CASES`) those that open
    cases and (`VISIT_COMMITTED`) those whose visit is already in the database."""
    answer_ids = {a["id"] for a in args_list}
    answers = {
        row.id: (row.worker_id, list(row.case_ids or []))
        for row in session.execute(
            select(FormAnswer.id, FormAnswer.worker_id, FormAnswer.case_ids).where(
                among(session, FormAnswer.id, answer_ids)
            )
        )
    }
    version_ids = {a["form_version_id"] for a in args_list}
    versions: dict[int, tuple[int, FormDefinition] | None] = dict.fromkeys(version_ids)
    for version in session.scalars(select(FormVersion).where(FormVersion.id.in_(version_ids))):
        if version.is_published:
            try:
                versions[version.id] = (version.form_id, parse_definition(version.definition))
            except FormDefinitionError:  # a published version is valid; never trust blindly
                versions[version.id] = None
    target_ids = {a["target_id"] for a in args_list if a["target_id"] is not None}
    targets = {
        t.id: t
        for t in session.scalars(
            select(CampaignTarget).where(among(session, CampaignTarget.id, target_ids))
        )
    }
    campaign_ids = {a["campaign_id"] for a in args_list if a["campaign_id"] is not None}
    campaigns = {
        c.id: c for c in session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids)))
    }
    household_ids = {a["household_id"] for a in args_list if a["household_id"] is not None}
    households = {
        h.id: h
        for h in session.scalars(
            select(Household).where(among(session, Household.id, household_ids))
        )
    }
    visit_ids = {a["visit_id"] for a in args_list if a["visit_id"] is not None}
    visits = {
        row.id: (row.household_id,)
        for row in session.execute(
            select(Visit.id, Visit.household_id).where(among(session, Visit.id, visit_ids))
        )
    }
    batch = AnswerBatch(answers, versions, targets, campaigns, households, visits)
    for args in args_list:
        args[VISIT_COMMITTED] = args["visit_id"] is None or args["visit_id"] in visits
        known = versions.get(args["form_version_id"])
        checked = _check_values(known[1], args["values"]) if known else None
        args[CHECKED] = checked
        args[OPENS_CASES] = checked is None or (
            isinstance(checked, CleanAnswers) and bool(checked.cases)
        )
    return batch


def _check_values(form: FormDefinition, values: dict[str, Any]) -> CleanAnswers | AnswersError:
    try:
        return validate_answers(form, values)
    except AnswersError as error:
        return error


def answer_is_append_only(args: dict[str, Any]) -> bool:
    """An answer that opens no case only adds its own row: it runs before the group takes the
    version clock. One that files cases (numbers, placement, photo links) runs under it, and
    so does one about a visit the prefetch did not find committed: most likely queued by a
    visit.create of the same group, which an append-only handler cannot see (sync.engine
    Handler.append_only); under the clock, the queued rows are written first. The prefetch
    decided which (an answer it could not check is treated as filing cases)."""
    return not args.get(OPENS_CASES, True) and bool(args.get(VISIT_COMMITTED, False))


def form_answer(ctx: MutationContext, args: dict[str, Any], file_case: FileCase) -> dict[str, Any]:
    """Keep one filled-in form (append-only), and file the cases its answers open."""
    actor = actor_of(ctx)
    batch: AnswerBatch = ctx.batch or answer_prefetch(ctx.session, ctx.device, [args])
    existing = batch.answers.get(args["id"])
    if existing is not None:
        if existing[0] == actor.user_id:
            return {"answer_id": str(args["id"]), "case_ids": existing[1], "existing": True}
        raise Rejected("ID_TAKEN", "another record already has this id")
    known = batch.versions.get(args["form_version_id"])
    if known is None:
        raise Rejected("UNKNOWN_FORM_VERSION", "no such published form version")
    form_id, form = known
    scope = actor.scope(ctx.session)
    subject = (
        _campaign_subject(ctx, batch, args, form_id)
        if args["campaign_id"] is not None
        else _visit_subject(ctx, batch, args)
    )
    if not scope.is_office and subject["cell_code"] not in scope.cell_codes:
        raise Rejected("NOT_IN_SCOPE", "this target is not in your cells")
    checked = args.get(CHECKED) or _check_values(form, args["values"])
    if isinstance(checked, AnswersError):
        raise Rejected(
            "ANSWERS_INVALID",
            "the answers do not fit the form version",
            problems=checked.details["problems"],
            field="values",
        )
    # Every check is above: from here on this handler only writes.
    case_ids = [
        str(_file(ctx, file_case, args, form, checked, rule, subject)) for rule in checked.cases
    ]
    row = {
        "id": args["id"],
        "form_version_id": args["form_version_id"],
        "campaign_id": args["campaign_id"],
        "target_id": args["target_id"],
        "visit_id": args["visit_id"],
        "household_id": subject["household_id"],
        "resident_id": subject["resident_id"],
        "cell_code": subject["cell_code"],
        "worker_id": actor.user_id,
        "device_id": ctx.device.device_id,
        "values": checked.values,
        "answered_at": args["answered_at"],
        "received_at": ctx.received_at,
        "late": subject["late"],
        "case_ids": case_ids,
        "version": PENDING,
    }
    assert ctx.writes is not None
    ctx.writes.insert(ANSWERS, row)
    batch.answers[args["id"]] = (actor.user_id, case_ids)
    result: dict[str, Any] = {"answer_id": str(args["id"]), "case_ids": case_ids}
    if subject["late"]:
        result["late"] = True
    if checked.dropped:
        result["dropped"] = list(checked.dropped)
    return result


def _campaign_subject(
    ctx: MutationContext, batch: AnswerBatch, args: dict[str, Any], form_id: int
) -> dict[str, Any]:
    target = batch.targets.get(args["target_id"])
    if target is None or target.campaign_id != args["campaign_id"]:
        raise Rejected("UNKNOWN_TARGET", "no such target in this campaign")
    campaign = batch.campaigns.get(args["campaign_id"])
    if campaign is None or campaign.status == DRAFT:
        raise Rejected("CAMPAIGN_NOT_PUBLISHED", "the campaign is not published")
    if campaign.form_id != form_id:
        raise Rejected("WRONG_FORM", "this form is not the campaign's")
    late = campaign.closed_at is not None
    if late and after_close(args["answered_at"], ctx.clock_offset_ms, campaign.closed_at):
        raise Rejected("CAMPAIGN_CLOSED", "the campaign had closed when this was answered")
    return {
        "cell_code": target.cell_code,
        "household_id": target.household_id,
        "resident_id": target.resident_id,
        "late": late,
        "where": target.label,
        "lon": None,
        "lat": None,
    }


def _visit_subject(
    ctx: MutationContext, batch: AnswerBatch, args: dict[str, Any]
) -> dict[str, Any]:
    # A visit the prefetch did not find may be of this very group, queued by visit.create
    # earlier: such an answer runs under the clock (`answer_is_append_only`), after the engine
    # wrote the queued rows, so the session finds it.
    known = batch.visits.get(args["visit_id"])
    if known is None:
        visit = ctx.session.get(Visit, args["visit_id"])
        if visit is None:
            raise Rejected("UNKNOWN_VISIT", "no such visit")
        known = (visit.household_id,)
    (household_id,) = known
    if args["household_id"] is not None and args["household_id"] != household_id:
        raise Rejected("UNKNOWN_VISIT", "the visit is not of this household")
    household = batch.households.get(household_id) or ctx.session.get(Household, household_id)
    if household is None:  # a visit's household is a foreign key: never, but say so
        raise Rejected("UNKNOWN_HOUSEHOLD", "no such household")
    if args["resident_id"] is not None:
        resident = ctx.session.get(Resident, args["resident_id"])
        if resident is None or resident.household_id != household.id:
            raise Rejected(
                "RESIDENT_NOT_IN_HOUSEHOLD", "the resident is not registered in this household"
            )
    return {
        "cell_code": household.cell_code,
        "household_id": household.id,
        "resident_id": args["resident_id"],
        "late": False,
        "where": household.address,
        "lon": household.lon,
        "lat": household.lat,
    }


def _file(
    ctx: MutationContext,
    file_case: FileCase,
    args: dict[str, Any],
    form: FormDefinition,
    checked: CleanAnswers,
    rule: Any,
    subject: dict[str, Any],
) -> uuid.UUID:
    """File the case one fired rule asks for (or find it, filed by an earlier try)."""
    case_id = case_id_for(args["id"], rule.question)
    if ctx.session.get(Case, case_id) is not None:
        return case_id
    title, description = case_wording(form, rule, checked.values, subject["where"] or "")
    lon, lat = subject["lon"], subject["lat"]
    # A photo answer names the tus upload by SHA-256; an old app's UUID names nothing here.
    photo = rule.photo if rule.photo and SHA256.match(rule.photo) else None
    report = {
        "id": case_id,
        "title": title,
        "description": description,
        "address": (subject["where"] or "")[:200],
        "catalogue_code": rule.catalogue_item,
        "priority": rule.priority or Priority.NORMAL.value,
        "lon": lon if lon is not None and lat is not None else None,
        "lat": lat if lon is not None and lat is not None else None,
        "accuracy_m": None,
        "photos": [photo] if photo else [],
    }
    channel = Channel.VISIT if args["visit_id"] is not None else Channel.PATROL
    file_case(report, channel)
    return case_id
