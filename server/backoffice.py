"""Wire the back office into the app: its blueprints, template filters and CLI (one call).

`server.app_setup` calls `init_app(app)`; everything of issue 6 is registered here, so the
shared factory file changes by one line.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import AppGroup


def localtime(value: dt.datetime | None) -> str:
    """A UTC time as "YYYY-MM-DD HH:MM" in the deployment's time zone."""
    if value is None:
        return "—"
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def duration(value: dt.timedelta) -> str:
    """A duration in the page's language: 15天22小时 in Chinese, 15d 22h in English."""
    from flask_babel import get_locale

    from server.cases.deadlines import humanize

    locale = get_locale()
    return humanize(value, locale.language if locale is not None else "en")


def mask(value: str | None) -> str:
    """Personal data shown masked: 张三 → 张*, 13912345678 → 139****5678."""
    if not value:
        return ""
    if value.isdigit() and len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return value[0] + "*" * (len(value) - 1)


cases_cli = AppGroup("cases", help="Case workflow jobs.")


@cases_cli.command("escalate")
@click.option("--now", "now_text", default=None, help="Pretend it is this ISO time (UTC).")
def escalate_command(now_text: str | None) -> None:
    """Escalate overdue cases to the level above and notify its people (run from cron)."""
    from server import clock
    from server.cases.escalation import escalate_overdue
    from server.extensions import db

    now = dt.datetime.fromisoformat(now_text).astimezone(dt.UTC) if now_text else clock.now()
    interval = dt.timedelta(hours=float(current_app.config["ESCALATION_INTERVAL_HOURS"]))
    done = escalate_overdue(db.session, now=now, interval=interval)
    db.session.commit()
    for e in done:
        click.echo(f"{e.case_number}  level {e.level}  {e.cell_code}  notified {len(e.user_ids)}")
    click.echo(f"{len(done)} escalation(s)")


dashboard_cli = AppGroup("dashboard", help="The performance dashboard's daily roll-up.")


@dashboard_cli.command("rollup")
@click.option("--rebuild", is_flag=True, help="Drop the roll-up and build every past day.")
@click.option("--now", "now_text", default=None, help="Pretend it is this ISO time (UTC).")
def rollup_command(rebuild: bool, now_text: str | None) -> None:
    """Roll up every completed day not built yet or changed since (run nightly from cron)."""
    from server import clock
    from server.evaluation import rollup
    from server.extensions import db

    now = dt.datetime.fromisoformat(now_text).astimezone(dt.UTC) if now_text else clock.now()
    db.session.commit()
    done = rollup.catch_up(db.session, now=now, rebuild=rebuild)
    db.session.commit()
    click.echo(f"{done} day(s) rolled up")


def init_app(app: Flask) -> None:
    from server.audit import views as audit_views
    from server.campaigns import views as campaign_views
    from server.cases import conflicts, grid_access, photo_links
    from server.cases import views as case_views
    from server.evaluation import views as evaluation_views
    from server.mapview import views as map_views
    from server.notices import views as notice_views
    from server.population import views as visit_views
    from server.register import views as register_views

    for bp in (
        case_views.bp,
        map_views.bp,
        evaluation_views.bp,
        evaluation_views.rating_bp,
        notice_views.bp,
        visit_views.bp,
        register_views.bp,
        conflicts.bp,
        audit_views.bp,
        campaign_views.bp,  # issue 18: campaigns (progress and reports add routes to it)
    ):
        app.register_blueprint(bp)
    grid_access.init_app(app)
    photo_links.init_app(app)
    notice_views.init_app(app)
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(mask, "mask")
    app.cli.add_command(cases_cli)
    app.cli.add_command(dashboard_cli)
    from server.evaluation import rollup

    rollup.watch_writes()  # roll-up days touched by a write are marked dirty (every session)
