"""Personal data: one declaration of what is public, internal, personal or sensitive.

`classes` names the classes and audiences, `declaration` classes every column of every table
(a case's fields by its disclosure), `render` renders a case for an audience, `operations`
changes a case's disclosure. docs/security.md ("Personal data") has the rules in prose.
"""

from server.privacy.classes import Audience, DataClass, audience_for_role, export_audience
from server.privacy.declaration import default_disclosure
from server.privacy.render import listed_publicly, render_case

__all__ = [
    "Audience",
    "DataClass",
    "audience_for_role",
    "default_disclosure",
    "export_audience",
    "listed_publicly",
    "render_case",
]
