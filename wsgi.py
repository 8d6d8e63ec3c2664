"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi …`."""

import gc

from sqlalchemy.orm import configure_mappers

from server import create_app

app = create_app()

# What start-up built (Flask, SQLAlchemy's metadata and compiled statements, the schemas) lives
# as long as the process: take it out of the cyclic collector's reach, so a full collection
# during a request walks only what requests made. A push of 1,000 visits triggered one costing
# ~12 ms CPU of its ~80 (docs/scaling.md §Push throughput on SQLite).
configure_mappers()  # else built at the first request, after the freeze
gc.collect()
gc.freeze()
