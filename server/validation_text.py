"""Marshmallow's English validation messages, said in the reader's language at the edge.

Schemas keep marshmallow's own messages (they are built at import time, before any request
has a language); pages and JSON errors pass them through `translate_messages`, which knows
each of marshmallow's templates and says it again with Flask-Babel. A message it does not
know (one of our own, already translated) is left as it is.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

# marshmallow's message template → ours (placeholders by name). Choices lists are not shown:
# they are codes ("leader", "media"), never words a user should read.
_TEMPLATES: list[tuple[str, Any]] = [
    ("Missing data for required field.", _l("This field is required.")),
    ("Field may not be null.", _l("This field is required.")),
    ("Length must be between {min} and {max}.", _l("Between %(min)s and %(max)s characters.")),
    ("Longer than maximum length {max}.", _l("At most %(max)s characters.")),
    ("Shorter than minimum length {min}.", _l("At least %(min)s characters.")),
    ("Length must be {equal}.", _l("Exactly %(equal)s characters.")),
    (
        "Must be greater than or equal to {min} and less than or equal to {max}.",
        _l("Must be between %(min)s and %(max)s."),
    ),
    ("Must be greater than or equal to {min}.", _l("Must be at least %(min)s.")),
    ("Must be less than or equal to {max}.", _l("Must be at most %(max)s.")),
    ("Must be greater than {min}.", _l("Must be more than %(min)s.")),
    ("Must be less than {max}.", _l("Must be less than %(max)s.")),
    ("Must be one of: {choices}.", _l("Not one of the allowed values.")),
    ("Not a valid integer.", _l("Must be a whole number.")),
    ("Not a valid number.", _l("Must be a number.")),
    ("Number too large.", _l("The number is too large.")),
    ("Special numeric values (nan or infinity) are not permitted.", _l("Must be a number.")),
    ("Not a valid string.", _l("Must be text.")),
    ("Not a valid utf-8 string.", _l("Must be text.")),
    ("Not a valid boolean.", _l("Must be yes or no.")),
    ("Not a valid date.", _l("Not a valid date.")),
    ('"{input}" cannot be formatted as a date.', _l("Not a valid date.")),
    ("Not a valid email address.", _l("Not a valid email address.")),
    ("Not a valid URL.", _l("Not a valid web address.")),
    ("Not a valid UUID.", _l("Not a valid identifier.")),
    ("Not a valid list.", _l("Must be a list.")),
    ("Not a valid mapping type.", _l("Must be an object.")),
    ("Not a valid {awareness} {obj_type}.", _l("Not a valid date and time.")),
    ('"{input}" cannot be formatted as a {obj_type}.', _l("Not a valid value.")),
    ("Not a valid {obj_type}.", _l("Not a valid value.")),
    ("String does not match expected pattern.", _l("Not in the expected form.")),
    ("Invalid type.", _l("Not a valid value.")),
    ("Invalid value.", _l("Not a valid value.")),
    ("Invalid input.", _l("Not a valid value.")),
    ("Invalid input type.", _l("Not a valid value.")),
    ("Unknown field.", _l("This field is not expected here.")),
]


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)  # text, name, text, name, …, text
    regex = "".join(
        f"(?P<{part}>.+?)" if i % 2 else re.escape(part) for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$", re.DOTALL)


_COMPILED = [(_pattern(template), ours) for template, ours in _TEMPLATES]


def translate(message: str) -> str:
    """One message in the current language (unknown ones unchanged): the request's language,
    the deployment's default in a command, English with no application at all."""
    for pattern, ours in _COMPILED:
        match = pattern.match(message)
        if match:
            text = str(ours)  # the translation, placeholders still in it
            return text % match.groupdict() if match.groupdict() else text
    return message


def translate_messages(messages: Any) -> Any:
    """`ValidationError.messages` (nested dicts and lists of strings), each string said again."""
    if isinstance(messages, str):
        return translate(messages)
    if isinstance(messages, dict):
        return {key: translate_messages(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [translate_messages(value) for value in messages]
    return messages
