"""API: push mutations, pull changes, and the office's conflict list (docs/sync-protocol.md)."""

from __future__ import annotations

import gzip
from typing import Any

from flask import Response, current_app, request
from flask_babel import gettext as _

from server.api.answers import json_answer
from server.api.base import Blueprint
from server.auth import api_login_required, current_caller
from server.enums import Role
from server.errors import problem
from server.exceptions import PermissionDenied
from server.extensions import db
from server.fieldsync import conflicts, schemas
from server.fieldsync.operations import Settings
from server.fieldsync.pull_routing import pull_routed
from server.fieldsync.pushing import DEFAULT_COMMIT_EVERY, push_from_device
from server.fieldsync.reasons import add_texts, reason_text
from server.fieldsync.scope import scope_for
from server.gc_pause import cyclic_gc_paused
from server.grid.index import index_cache
from server.layers import phone as phone_layers
from server.ops.metrics import record_push_results
from server.replica import replica_of

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="Offline sync")


def _language() -> str:
    """`?lang=` if given, else the best of Accept-Language, else the deployment's default."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in languages:
        return str(chosen)
    best = request.accept_languages.best_match(languages)
    return str(best or current_app.config["BABEL_DEFAULT_LOCALE"])


def _settings() -> Settings:
    config = current_app.config
    return Settings(config["CASE_NUMBER_PREFIX"], index_cache(current_app))


@blp.route("/push", methods=["POST"])
@cyclic_gc_paused()  # the body's and the engine's burst of short-lived objects
@blp.arguments(schemas.PushSchema)
@api_login_required()
def push(body: dict[str, Any]) -> Any:
    """Apply a batch of mutations from this device, each at most once."""
    caller = current_caller()
    assert caller is not None
    answer = push_from_device(
        db.session,
        user=caller.user,
        token_device=caller.device,
        body=body,
        settings=_settings(),
        commit_every=current_app.config.get("SYNC_COMMIT_EVERY", DEFAULT_COMMIT_EVERY),
        faults=current_app.config.get("SYNC_FAULT_HOOK"),
    )
    if answer.outcome is None:
        return json_answer({"reset": answer.reset, "last_seq": 0, "results": []})
    outcome = answer.outcome
    add_texts(outcome.results, _language())
    record_push_results(outcome.results)
    body_out: dict[str, Any] = {"last_seq": outcome.last_seq, "results": outcome.results}
    if outcome.expected is not None:
        body_out["expected"] = outcome.expected
    if outcome.retry:
        return problem(
            503,
            "unavailable",
            _("The server is busy; the app will retry."),
            headers={"Retry-After": "5"},
            **body_out,
        )
    return json_answer(body_out)


@blp.route("/pull", methods=["GET"])
@blp.arguments(schemas.PullArgsSchema, location="query")
@api_login_required()
def pull(args: dict[str, Any]) -> Any:
    """Changes in this worker's scope after the cursor, one page, from one snapshot."""
    caller = current_caller()
    assert caller is not None
    if caller.device is None:
        raise PermissionDenied(_("Pull needs a device token."), code="device_required")
    answer = pull_routed(
        db.session,
        replica_of(current_app),
        caller.user,
        caller.device.id,
        args["cursor"],
        args["limit"],
    )
    page = answer.page
    if page.reset:
        return {"reset": page.reset, "last_seq": answer.last_seq}
    changes = [c.to_wire() for c in page.changes]
    language = _language()
    for change in changes:
        data = change.get("data")
        if change["table"] == "rejections" and data and data.get("code"):
            text = reason_text(data["code"], language)
            if text is not None:
                data["text"] = text
    out: dict[str, Any] = {
        "cursor": page.cursor,
        "has_more": page.has_more,
        "last_seq": answer.last_seq,
        "server_version": answer.server_version,
        "changes": changes,
        "missing_photos": answer.missing_photos,
    }
    if answer.reference is not None:
        out["reference"] = answer.reference
    return _maybe_gzip(json_answer(out))


#: Fast levels compress JSON nearly as well as 9, at a fraction of the time.
GZIP_LEVEL = 5
#: Smaller bodies are not worth compressing.
GZIP_MIN_BYTES = 1024


def _maybe_gzip(response: Response) -> Response:
    """gzip a pull page when the client accepts it: JSON of a first pull shrinks about 8×.

    Done here rather than left to the proxy, so a deployment without one (or with gzip off)
    still sends 2G-sized pages. A proxy does not compress a body that already has a
    Content-Encoding.
    """
    response.vary.add("Accept-Encoding")
    body = response.get_data()
    if request.accept_encodings["gzip"] and len(body) >= GZIP_MIN_BYTES:
        response.set_data(gzip.compress(body, compresslevel=GZIP_LEVEL))
        response.headers["Content-Encoding"] = "gzip"
    return response


@blp.route("/layers", methods=["GET"])
@blp.response(200)
@api_login_required()
def layers() -> Any:
    """The published roads, footprints and points around this worker's cells (200 m margin),
    compact, for the phone to keep and draw offline (docs/pwa.md §Map). ``ETag`` is the
    layers' ``version``: send it back as ``If-None-Match`` and get 304 until a layer is
    published again or the cells change."""
    caller = current_caller()
    assert caller is not None
    scope = scope_for(db.session, caller.user)
    bbox = phone_layers.scope_bbox(db.session, scope.grid_version_id, scope.cell_codes)
    version = phone_layers.version_of(phone_layers.published_layers(db.session), bbox)
    if version in request.if_none_match:
        response = Response(status=304)
    else:
        response = current_app.json.response(phone_layers.phone_layers(db.session, bbox))
        response = _maybe_gzip(response)
    response.set_etag(version)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@blp.route("/conflicts", methods=["GET"])
@blp.arguments(schemas.ConflictListArgsSchema, location="query")
@api_login_required(Role.DISPATCHER)
def list_conflicts(args: dict[str, Any]) -> Any:
    """Case conflicts for the office to review (open ones by default)."""
    found = conflicts.list_conflicts(
        db.session, only_open=args["status"] == "open", limit=args["limit"]
    )
    return {"conflicts": [conflicts.conflict_view(c) for c in found]}


@blp.route("/conflicts/<int:conflict_id>/resolve", methods=["POST"])
@blp.arguments(schemas.ResolveConflictSchema)
@api_login_required(Role.DISPATCHER)
def resolve_conflict(args: dict[str, Any], conflict_id: int) -> Response | Any:
    """Choose a value (`earlier` / `later`) or mark the conflict reviewed (`acknowledged`)."""
    caller = current_caller()
    assert caller is not None
    resolved = conflicts.resolve_conflict(
        db.session, conflict_id, choice=args["choice"], actor=caller.user
    )
    db.session.commit()
    return conflicts.conflict_view(resolved)
