"""Photos named by a phone's mutations: links written proven or pending, never by hash alone.

`case.report` and `photo.attach` name photos by SHA-256; whether a link counts is
server/photos/access.py's rule (the linker sent the bytes, or could already read them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.cases import operations as cases
from server.cases.models import Case, CaseEvent, Photo, PhotoLink
from server.cases.workflow import FINISHED_STATUSES
from server.enums import PhotoProof, PhotoStatus
from server.fieldsync.phone_actor import actor_of, case_in_reach, clock_facts
from server.photos import access
from server.population.models import Visit
from sync.errors import Rejected
from sync.handlers import MutationContext


def photo_attach(ctx: MutationContext, args: dict[str, Any]) -> dict[str, Any]:
    """Link a photo (by SHA-256) to a case or a visit; the bytes may come before or after."""
    case = visit = None
    if args["case_id"] is not None:
        case = case_in_reach(ctx, args["case_id"])
    else:
        visit = ctx.session.get(Visit, args["visit_id"])
        if visit is None:
            raise Rejected("UNKNOWN_VISIT", "no such visit")
        scope = actor_of(ctx).scope(ctx.session)
        if visit.worker_id != actor_of(ctx).user_id and not scope.is_office:
            raise Rejected("NOT_IN_SCOPE", "this visit is not yours")
    link, photo = link_photo(
        ctx, args["sha256"], case=case, visit=visit, purpose=args["purpose"], meta=args
    )
    return {
        "sha256": args["sha256"],
        "photo_status": _status_for_linker(link, photo),
        "after_close": link.after_close,
    }


def _status_for_linker(link: PhotoLink, photo: Photo) -> str:
    """`available` once the link counts and the bytes are in; else `missing`: send them.

    A pending link to a stored photo also answers `missing`: for this device the server
    still needs the bytes, and the answer says nothing about what others stored.
    """
    if link.proof is not None and photo.status == PhotoStatus.AVAILABLE:
        return PhotoStatus.AVAILABLE.value
    return PhotoStatus.MISSING.value


def link_photo(
    ctx: MutationContext,
    sha256: str,
    *,
    case: Case | None,
    visit: Visit | None,
    purpose: str,
    meta: dict[str, Any],
) -> tuple[PhotoLink, Photo]:
    """Write the link, proven or pending (server/photos/access.py): a hash is no proof."""
    session, user = ctx.session, actor_of(ctx).user
    photo = ensure_photo(session, sha256)
    proof = access.link_proof(session, user, sha256)
    target = (
        PhotoLink.case_id == case.id if case is not None else PhotoLink.visit_id == visit.id  # type: ignore[union-attr]
    )
    existing = session.scalar(select(PhotoLink).where(PhotoLink.photo_sha256 == sha256, target))
    if existing is not None:
        if existing.proof is None and proof is not None:
            existing.proof = proof
        return existing, photo
    version = ctx.version
    link = _new_link(ctx, sha256, case, visit, purpose, meta, proof, version)
    session.add(link)
    if case is not None:
        event = _photo_event(ctx, case, sha256, purpose, version)
        session.add(event)
        case.version = version
    return link, photo


def new_report_links(
    ctx: MutationContext, case: Case, photos: list[str], meta: dict[str, Any]
) -> list[PhotoLink | CaseEvent]:
    """The links and timeline events of a case being reported, built before the version clock
    and not added (version 0 until the caller stamps them under the clock).

    The case is new (its id minted by the phone, its row not yet written), so no link to it
    exists and nobody else can add one: there is nothing to look up or to update. Each link's
    proof is read now (server/photos/access.py); the photo rows are made by `ensure_photos`.
    """
    user, made = actor_of(ctx).user, []
    for sha256 in dict.fromkeys(photos):
        proof = access.link_proof(ctx.session, user, sha256)
        made.append(_new_link(ctx, sha256, case, None, "report", meta, proof, 0))
        made.append(_photo_event(ctx, case, sha256, "report", 0))
    return made


def ensure_photos(session: Session, photos: list[str], now: dt.datetime) -> None:
    """Make a `missing` photo row for each hash that has none, in one statement: an upload or
    another report creating the same row meanwhile is no conflict (the row is the same)."""
    if not photos:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [
        {"sha256": sha256, "status": PhotoStatus.MISSING, "exif": {}, "created_at": now}
        for sha256 in dict.fromkeys(photos)
    ]
    session.execute(insert(Photo).values(rows).on_conflict_do_nothing(index_elements=["sha256"]))


def _new_link(
    ctx: MutationContext,
    sha256: str,
    case: Case | None,
    visit: Visit | None,
    purpose: str,
    meta: dict[str, Any],
    proof: PhotoProof | None,
    version: int,
) -> PhotoLink:
    return PhotoLink(
        photo_sha256=sha256,
        case_id=case.id if case else None,
        visit_id=visit.id if visit else None,
        purpose=purpose,
        added_by_id=actor_of(ctx).user_id,
        device_id=ctx.device.device_id,
        lon=meta.get("lon"),
        lat=meta.get("lat"),
        accuracy_m=meta.get("accuracy_m"),
        captured_at_device=meta.get("captured_at_device") or ctx.mutation.recorded_at_device,
        after_close=case is not None and case.status in FINISHED_STATUSES,
        proof=proof,
        version=version,
    )


def _photo_event(
    ctx: MutationContext, case: Case, sha256: str, purpose: str, version: int
) -> CaseEvent:
    return cases.new_event(
        ctx.session,
        case,
        kind="photo",
        actor_id=actor_of(ctx).user_id,
        version=version,
        device_id=ctx.device.device_id,
        recorded_at_device=ctx.mutation.recorded_at_device,
        data={"sha256": sha256, "purpose": purpose, **clock_facts(ctx)},
    )


def ensure_photo(session: Session, sha256: str) -> Photo:
    """The photo row for `sha256`, created `missing` if its bytes have not arrived yet.

    The upload side may create the same row at the same moment; the savepoint turns that
    race into "somebody else created it" instead of a failed mutation.
    """
    photo = session.get(Photo, sha256)
    if photo is not None:
        return photo
    try:
        with session.begin_nested():
            photo = Photo(sha256=sha256, status=PhotoStatus.MISSING)
            session.add(photo)
    except IntegrityError:
        photo = session.get(Photo, sha256, populate_existing=True)
        assert photo is not None
    return photo
