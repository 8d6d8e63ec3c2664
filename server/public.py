"""Wire the residents' side and the open interfaces (issue 7) into the app: one call.

`server.app_setup` calls `init_app(app)`, so the shared factory file changes by one line.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request


def init_app(app: Flask) -> None:
    from server.exports import views as exports_views
    from server.extensions import csrf
    from server.lifeservices import views as lifeservices_views
    from server.open311 import views as open311_views
    from server.residents import views as residents_views

    open311_views.init_app(app)
    for bp in (residents_views.bp, lifeservices_views.bp):
        app.register_blueprint(bp)
        # No session and no ambient authority here (anyone may post): CSRF would protect
        # nothing, and a report queued offline for a day must still be accepted. The flood
        # guards are the honeypot, the signed form time and the rate limits.
        csrf.exempt(bp)
    app.before_request(_body_cap)
    app.register_blueprint(lifeservices_views.desk)  # staff pages: CSRF-checked as usual
    app.register_blueprint(exports_views.bp)
    app.add_template_global(_phone_verified, "resident_phone_verified")


def _body_cap() -> Response | None:
    """Residents' forms carry at most a few shrunk photos: refuse anything bigger early.

    A NUL character in any field is refused for every page by server/input_guard.py.
    """
    if request.blueprint not in ("residents", "lifeservices"):
        return None
    if (request.content_length or 0) > current_app.config["REPORT_MAX_BYTES"]:
        return Response("Too large", status=413)
    return None


def _phone_verified(case_id: object) -> bool | None:
    from server.extensions import db
    from server.residents.operations import phone_verified

    return phone_verified(db.session, case_id)
