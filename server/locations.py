"""Every entry that stores a location checks it here: a whole WGS-84 point or none at all.

`geo.points.whole_point` is the rule; this module speaks it in the server's dialects: a
domain error for forms and pages (`checked_point`, `point_from_text`), a marshmallow schema
check for the schemas of the API and the sync push (`WholePointSchema`), and a `before_flush`
backstop (`watch_writes`) so a row that some future entry forgets to check is refused before
it reaches the database's CHECK constraint (migration 0014).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, validates_schema
from sqlalchemy import CheckConstraint, event
from sqlalchemy.orm import Session, attributes

from geo.points import PointError, whole_point
from server.exceptions import InvalidInput

#: The database's copy of the rule (migration 0014), on every table with `lon` and `lat`:
#: NaN fails BETWEEN on PostgreSQL, and SQLite stores NaN as NULL, which makes it a half point;
#: the IS NOT NULLs matter, for a CHECK passes when it yields NULL, as "lon BETWEEN ... AND
#: lat BETWEEN ..." does when lat is NULL.
WHOLE_POINT_SQL = (
    "(lon IS NULL AND lat IS NULL) OR (lon IS NOT NULL AND lat IS NOT NULL"
    " AND lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90)"
)


def whole_point_check() -> CheckConstraint:
    """The CHECK constraint a model with `lon` and `lat` puts in its `__table_args__`."""
    return CheckConstraint(WHOLE_POINT_SQL, name="whole_point")


_MESSAGES = {
    "half": _l("Give both longitude and latitude, or neither."),
    "not_a_number": _l("A coordinate must be a finite number."),
    "out_of_range": _l("Longitude must be within ±180 and latitude within ±90."),
}


def message_for(error: PointError) -> Any:
    """The reader's-language sentence for a PointError."""
    return _MESSAGES.get(str(error.data.get("problem")), _MESSAGES["not_a_number"])


def checked_point(
    lon: object, lat: object, *, lon_field: str = "lon", lat_field: str = "lat"
) -> tuple[float, float] | None:
    """``(lon, lat)`` or None for neither; raises InvalidInput naming the field at fault."""
    try:
        return whole_point(lon, lat, lon_field=lon_field, lat_field=lat_field)
    except PointError as error:
        raise InvalidInput(
            message_for(error), code="invalid_point", field=str(error.data["field"])
        ) from None


def _number_or_text(text: str | None) -> object:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        return text  # whole_point says "not a number", naming the field


def point_from_text(
    lon_text: str | None, lat_text: str | None, *, lon_field: str = "lon", lat_field: str = "lat"
) -> tuple[float, float] | None:
    """A point from two form fields (blank = not given); raises InvalidInput as checked_point.

    >>> point_from_text("121.4", " 31.2 ")
    (121.4, 31.2)
    >>> point_from_text("", None) is None
    True
    """
    return checked_point(
        _number_or_text(lon_text),
        _number_or_text(lat_text),
        lon_field=lon_field,
        lat_field=lat_field,
    )


class WholePointSchema(Schema):
    """A schema whose ``lon`` and ``lat`` fields must make a whole point or be both absent."""

    @validates_schema
    def _whole_point(self, data: dict[str, Any], **_: Any) -> None:
        try:
            whole_point(data.get("lon"), data.get("lat"))
        except PointError as error:
            raise ValidationError(
                str(message_for(error)), field_name=str(error.data["field"])
            ) from None


def check_pending(session: Session, _context: Any = None, _instances: Any = None) -> None:
    """`before_flush` hook: refuse any new or changed row whose lon/lat is not a whole point."""
    quiet = attributes.PASSIVE_NO_INITIALIZE  # an attribute never loaded was not changed
    with session.no_autoflush:
        for obj in [*session.new, *session.dirty]:
            table = getattr(obj, "__table__", None)
            if table is None or "lon" not in table.c or "lat" not in table.c:
                continue
            if obj not in session.new and not any(
                attributes.get_history(obj, name, passive=quiet).has_changes()
                for name in ("lon", "lat")
            ):
                continue
            checked_point(obj.lon, obj.lat)


def watch_writes() -> None:
    """Install the backstop on every ORM session (once; called by the app factory)."""
    if not event.contains(Session, "before_flush", check_pending):
        event.listen(Session, "before_flush", check_pending)
