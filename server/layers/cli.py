"""`flask layers …`: check, import, list and publish base layers (roads, buildings, poi)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from geo.layer_reading import KINDS
from server.exceptions import WanggeError
from server.extensions import db
from server.grid.cli import EXIT_REPORT_HAS_ERRORS, _fail, in_english, print_report
from server.layers import operations, queries
from server.layers.api import district_bbox


@click.group("layers")
def layers_cli() -> None:
    """Base layers drawn under the cells: roads, building footprints, points of interest."""


@layers_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--datum", default="wgs84", show_default=True, help="wgs84, gcj02, bd09, EPSG:NNNN")
@click.option("--name", default=None, help="Name of the layer (default: the file name).")
@click.option("--attribution", default=None, help="Credit the maps show, e.g. the licence.")
@click.option("--swap-axes", is_flag=True, help="Positions are [lat, lon].")
@click.option("--dry-run", is_flag=True, help="Report only; store nothing.")
@click.option("--publish", "publish_now", is_flag=True, help="Publish the draft at once.")
@click.option("--show", default=20, show_default=True, help="Problems to list.")
@with_appcontext
@in_english
def import_command(
    path: Path,
    kind: str,
    datum: str,
    name: str | None,
    attribution: str | None,
    swap_axes: bool,
    dry_run: bool,
    publish_now: bool,
    show: int,
) -> None:
    """Read and check a GeoJSON layer file; keep it as a draft (and publish it)."""
    options = operations.LayerOptions(kind, datum, name, path.name, attribution, swap_axes)
    try:
        outcome = operations.import_layer(
            db.session,
            None,
            path.read_bytes(),
            options,
            district_bbox=district_bbox(),
            dry_run=dry_run,
        )
        print_report(outcome.report, show)
        if outcome.layer is None:
            db.session.rollback()
            if outcome.report["has_errors"]:
                raise SystemExit(EXIT_REPORT_HAS_ERRORS)
            click.echo(f"dry run: {outcome.report['usable_features']} usable features")
            return
        click.echo(
            f"draft layer {outcome.layer.id} ({kind}, {outcome.layer.feature_count} features)"
        )
        if publish_now:
            layer, retired = operations.publish_layer(db.session, None, outcome.layer.id)
            click.echo(f"published layer {layer.id}" + (f", retired {retired}" if retired else ""))
        db.session.commit()
    except WanggeError as error:
        _fail(error)
    if outcome.report["has_errors"]:
        raise SystemExit(EXIT_REPORT_HAS_ERRORS)


@layers_cli.command("publish")
@click.argument("layer_id", type=int)
@with_appcontext
@in_english
def publish_command(layer_id: int) -> None:
    """Publish a draft layer (the published one of its kind is retired)."""
    try:
        layer, retired = operations.publish_layer(db.session, None, layer_id)
        db.session.commit()
    except WanggeError as error:
        _fail(error)
        return
    click.echo(f"published layer {layer.id}" + (f", retired {retired}" if retired else ""))


@layers_cli.command("list")
@with_appcontext
def list_command() -> None:
    """Every layer, newest first."""
    for layer in queries.list_layers(db.session):
        click.echo(
            f"{layer.id:>4} {layer.kind:<9} {layer.status.value:<9} {layer.feature_count:>6} "
            f"{layer.name}"
        )
