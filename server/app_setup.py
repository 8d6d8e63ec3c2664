"""The steps of the application factory, one function each."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from server import REPO_ROOT, locations, params, replica, version
from server.accounts import mail
from server.api.base import Api, StrictJSONProvider
from server.config import apply_config
from server.errors import register_error_handlers
from server.extensions import babel, csrf, db, login_manager, migrate
from server.forms import store as form_store

api = Api()


def configure(app: Flask, config: dict[str, Any] | None) -> None:
    apply_config(app, config)
    app.config["WANGGE_VERSION"] = version()
    app.json = StrictJSONProvider(app)
    _check_mail(app)
    from server.accounts import passwords

    # Argon2id cost of new hashes (docs/security.md); ValueError names the setting.
    passwords.configure(passwords.Argon2Parameters.from_config(app.config))
    from server.maptiles.settings import tile_settings

    app.extensions["wangge_tiles"] = tile_settings(app.config)  # ValueError names the setting
    if app.config.get("ID_NUMBER_KEYS") or app.config.get("ID_NUMBER_HMAC_KEY"):
        from server.population.identity import app_vault

        app_vault(app)  # a malformed identity-number key refuses to start (docs/register.md)


def _check_mail(app: Flask) -> None:
    """Refuse a bad WANGGE_MAIL_SECURITY at start (not at the first forgotten password), and
    say why reset mails stay off when the public URL is missing."""
    settings = mail.settings_from_config(app.config)  # ValueError names the bad setting
    if settings is not None and not app.config.get("PUBLIC_URL"):
        app.logger.warning(
            "mail is configured but WANGGE_PUBLIC_URL is not: password reset links are not "
            "mailed (a link built from the request's Host header could be forged)"
        )


def select_locale() -> str:
    """An explicit choice (session), then the user's saved choice, then Chinese."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands: the deployment's default language
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    chosen = session.get("lang") or request.args.get("lang")
    if chosen in languages:
        return str(chosen)
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def init_extensions(app: Flask) -> None:
    import server.auth
    import server.models  # noqa: F401  (complete MetaData for Alembic)
    from server.grid import index as grid_index

    db.init_app(app)
    locations.watch_writes()  # a half point is refused at flush, whichever entry forgot to check
    form_store.watch_writes()  # a published form version is refused any change at flush
    replica.init_app(app)  # optional read-only engine (DATABASE_REPLICA_URL)
    migrate.init_app(app, db, directory=str(REPO_ROOT / "migrations"))
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    api.init_app(app)
    grid_index.init_app(app)


def register_blueprints(app: Flask) -> None:
    from server import pwa_serving
    from server.accounts import admin_views, reset_views
    from server.accounts import api as accounts_api
    from server.accounts import views as accounts_views
    from server.addresses import views as address_views
    from server.admin import views as admin_pages
    from server.fieldsync import api as sync_api
    from server.grid import api as grid_api
    from server.grid import views as grid_views
    from server.imports import api as imports_api
    from server.imports import views as imports_views
    from server.layers import api as layers_api
    from server.layers import views as layers_views
    from server.maptiles import api as map_tiles_api
    from server.photos import api as photos_api
    from server.population import care_tags_api, identity_api
    from server.web import docs, views

    params.init_app(app)  # before any rule: a path integer no column holds is a 404
    apis = (accounts_api, sync_api, grid_api, imports_api, identity_api, layers_api, care_tags_api)
    for blp in (module.blp for module in apis):
        api.register_blueprint(blp)
        csrf.exempt(blp)  # bearer tokens; session callers are CSRF-checked in server.auth
    api.register_blueprint(map_tiles_api.blp)  # GET only, public: nothing to exempt
    app.register_blueprint(photos_api.bp)
    csrf.exempt(photos_api.bp)  # bearer tokens (tus clients); sessions are CSRF-checked in auth
    app.register_blueprint(views.bp)
    app.register_blueprint(accounts_views.bp)
    app.register_blueprint(reset_views.bp)  # forgot password, one-time reset links
    app.register_blueprint(admin_views.bp)  # administrators' user list
    app.register_blueprint(admin_pages.bp)  # issue 13: staff, duties, units, catalogue
    app.register_blueprint(docs.bp)
    app.register_blueprint(pwa_serving.bp)  # the worker's app at /app/
    app.register_blueprint(grid_views.bp)
    app.register_blueprint(layers_views.bp)  # issue 14: base layers under the cells
    app.register_blueprint(imports_views.bp)  # issue 13: imports of master data
    app.register_blueprint(address_views.bp)  # issue 13: the address check
    from server.maptiles import pages as map_pages

    map_pages.init_app(app)  # issue 14 item 3: the tiles and map tools every map page embeds
    register_error_handlers(app)
    from server.ops import ratelimit

    ratelimit.init_app(app)  # after the views exist: limits attach to them by endpoint

    from server import backoffice

    backoffice.init_app(app)

    from server import public

    public.init_app(app)  # issue 7: residents' pages and open interfaces


def register_hooks(app: Flask) -> None:
    from server import ops

    def _request_id() -> None:
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if 0 < len(supplied) <= 64 else uuid.uuid4().hex

    # First of all before_request hooks, ahead of the extensions' own (CSRFProtect's check
    # runs from init_extensions): a request they refuse still carries its id in the answer
    # and the log.
    app.before_request_funcs.setdefault(None, []).insert(0, _request_id)

    ops.init_app(app)  # request log, metrics, security headers (server/ops/)
    from server.auth import authorize_before_parsing

    app.before_request(authorize_before_parsing)

    @app.before_request
    def _json_size_cap() -> None:
        if request.is_json and (request.content_length or 0) > app.config["MAX_JSON_BYTES"]:
            raise RequestEntityTooLarge()

    from server import input_guard

    input_guard.init_app(app)  # a NUL in any text is a 422, never PostgreSQL's 500
    # A push rejects only the mutation holding a NUL (sync/engine.py): one bad record must not
    # jam the phone's outbox behind it, as a 422 for the whole batch would.
    input_guard.exempt(app, "sync.push")

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    from server.labels import label

    app.add_template_filter(label, "label")

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        return {
            "locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            "wangge_version": app.config["WANGGE_VERSION"],
        }


def register_cli(app: Flask) -> None:
    from server.accounts.cli import users_cli
    from server.catalogue.cli import catalogue_cli
    from server.demo.cli import demo_cli
    from server.fieldsync.cli import sync_cli
    from server.grid.cli import grid_cli
    from server.layers.cli import layers_cli
    from server.ops.cli import backup_command, restore_command

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(catalogue_cli)
    app.cli.add_command(grid_cli)
    app.cli.add_command(layers_cli)
    app.cli.add_command(sync_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    from server.imports.cli import COMMANDS

    for command in COMMANDS:  # register, addresses, staff, units, imports
        app.cli.add_command(command)
