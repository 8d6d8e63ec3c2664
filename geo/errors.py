"""The one exception family of ``geo``: every error carries data, never an HTTP status."""

from __future__ import annotations


class GeoError(Exception):
    """Base of every error raised by ``geo``; ``code`` is a stable machine string.

    >>> issubclass(UnknownDatumError, GeoError)
    True
    """

    code = "geo_error"

    def __init__(self, message: str, **data: object) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready description.

        >>> GeoError("boom", x=1).to_dict()
        {'code': 'geo_error', 'message': 'boom', 'x': 1}
        """
        return {"code": self.code, "message": self.message, **self.data}


class UnknownDatumError(GeoError):
    """The datum text names nothing we can transform (``data['text']``)."""

    code = "unknown_datum"


class UnknownLevelError(GeoError):
    """The level text is none of street / residential_area / block / building_group."""

    code = "unknown_level"


class InvalidGridError(GeoError):
    """A grid handed to ``GridIndex.build`` (or similar) breaks an invariant."""

    code = "invalid_grid"
