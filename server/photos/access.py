"""Who may read a photo and whose link counts: possession or authorization, never the hash.

A photo's SHA-256 is no secret (pulls list the hashes of a case's photos), so knowing it
grants nothing (docs/photos.md §Access):

* **reading** — dispatchers, managers and admins read every photo; anyone else reads the
  photos whose bytes they sent themselves (a verified upload from any of their devices, or
  bytes sent with a back-office form) and the photos linked, with a proof, to a case
  assigned to them;
* **linking** (a phone's `case.report` / `photo.attach`) — the link is always written, so a
  report made offline never fails for its photos, but it counts only with a proof
  (`server.enums.PhotoProof`): `upload` when the linker sent the bytes, `access` when they
  could already read the photo. A pending link grants nobody anything and shows the photo
  as missing; it is proven when the linker's bytes arrive (from any of their devices), and
  until then the linking device's pulls list the hash in `missing_photos`;
* **the dedupe shortcut** of tus creation (no bytes on the wire) is only for callers who may
  read the photo already: anyone else sends the bytes, and the server checks their hash.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases.models import Case, PhotoLink
from server.enums import PhotoProof, Role
from server.photos.models import Upload, UploadStatus

#: Office roles read every photo.
OFFICE_ROLES = frozenset({Role.DISPATCHER, Role.MANAGER, Role.ADMIN})


def sent_bytes(session: Session, user_id: int, sha256: str) -> bool:
    """True if one of the user's devices uploaded these bytes (checked by the server).

    An upload finished by the dedupe shortcut carried no bytes and proves nothing.
    """
    return bool(
        session.scalar(
            select(
                exists().where(
                    Upload.sha256 == sha256,
                    Upload.user_id == user_id,
                    Upload.status == UploadStatus.FINISHED,
                    Upload.deduplicated.is_(False),
                )
            )
        )
    )


def may_read(session: Session, user: User, sha256: str) -> bool:
    """May `user` see this photo's bytes? (Whether the bytes are stored is asked elsewhere.)"""
    if user.role in OFFICE_ROLES or sent_bytes(session, user.id, sha256):
        return True
    linked = (
        select(PhotoLink.id)
        .outerjoin(Case, Case.id == PhotoLink.case_id)
        .where(
            PhotoLink.photo_sha256 == sha256,
            or_(
                and_(PhotoLink.added_by_id == user.id, PhotoLink.proof == PhotoProof.UPLOAD),
                and_(Case.assignee_id == user.id, PhotoLink.proof.is_not(None)),
            ),
        )
    )
    return bool(session.scalar(select(linked.exists())))


def link_proof(session: Session, user: User, sha256: str) -> PhotoProof | None:
    """The proof a link made now by `user` carries; None makes it pending."""
    if sent_bytes(session, user.id, sha256):
        return PhotoProof.UPLOAD
    if may_read(session, user, sha256):
        return PhotoProof.ACCESS
    return None


def prove_links(session: Session, user_id: int, sha256: str, proof: PhotoProof) -> int:
    """Make the user's pending links to this photo count; return how many there were.

    Called when the user's bytes arrive (or a creation found they may read the photo). A link
    pushed at the same moment as the bytes finish may miss this update; its device's next
    pull lists the hash as missing, the app sends it again and that upload proves it.
    """
    result = session.execute(
        update(PhotoLink)
        .where(
            PhotoLink.photo_sha256 == sha256,
            PhotoLink.added_by_id == user_id,
            PhotoLink.proof.is_(None),
        )
        .values(proof=proof)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
