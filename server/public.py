"""Wire the residents' side and the open interfaces (issue 7) into the app: one call.

`server.app_setup` calls `init_app(app)`, so the shared factory file changes by one line.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from server.open311 import views as open311_views

    open311_views.init_app(app)
