"""The tile provider's settings (WANGGE_TILES_*): read, checked at start-up, and described.

A deployment may put a tile provider under the vector layers: 天地图 Tianditu (CGCS2000,
which is WGS-84 to a few centimetres), an office's own WGS-84 tiles, or AMap/Tencent-style
tiles drawn in GCJ-02. ``tile_settings`` turns the configuration into one frozen value or
raises ``ValueError`` naming the setting, so a wrong provider refuses to start instead of
drawing every cell 500 m off. ``describe`` is the public answer of ``GET /api/v1/map/tiles``
(and the JSON the office pages embed), ``image_sources`` the hosts CSP's img-src must allow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: The datums tiles may be drawn in. BD-09 (Baidu) is refused: its tiles use another grid too.
DATUMS = ("wgs84", "cgcs2000", "gcj02")
_SPELLINGS = {"wgs84": "wgs84", "cgcs2000": "cgcs2000", "gcj02": "gcj02", "epsg4326": "wgs84"}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_ALLOWED_PLACEHOLDERS = {"z", "x", "y", "s", "k", "r"}
DEFAULT_MAX_ZOOM = 18
DEFAULT_SUBDOMAINS = ("a", "b", "c")  # Leaflet's own default for {s}


@dataclass(frozen=True)
class TileSettings:
    """A checked tile provider; ``url`` has the key filled in (browsers send it anyway)."""

    url: str
    datum: str
    attribution: str
    max_zoom: int
    subdomains: tuple[str, ...]


def _datum(value: Any) -> str:
    """'wgs84', 'cgcs2000' or 'gcj02' from any usual spelling; ValueError otherwise.

    >>> _datum("GCJ-02"), _datum("CGCS2000"), _datum("wgs_84")
    ('gcj02', 'cgcs2000', 'wgs84')
    """
    key = re.sub(r"[\s_:\-]", "", str(value or "")).lower()
    if key not in _SPELLINGS:
        raise ValueError(
            f"WANGGE_TILES_DATUM must be one of {', '.join(DATUMS)} (the datum the tiles are "
            f"drawn in), not {value!r}"
        )
    return _SPELLINGS[key]


def _subdomains(value: Any) -> tuple[str, ...]:
    """A JSON list, a comma-separated string, or a string of one-letter subdomains ("1234").

    >>> _subdomains("1234"), _subdomains(1234), _subdomains("t0,t1"), _subdomains(["a", "b"])
    (('1', '2', '3', '4'), ('1', '2', '3', '4'), ('t0', 't1'), ('a', 'b'))
    """
    if value is None or value == "" or value == []:
        return ()
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # WANGGE_TILES_SUBDOMAINS=1234 arrives parsed as JSON: a number
    if isinstance(value, str):
        parts = value.split(",") if "," in value else list(value)
    elif isinstance(value, list | tuple):
        parts = [str(p) for p in value]
    else:
        raise ValueError(f"WANGGE_TILES_SUBDOMAINS must be a list or a string, not {value!r}")
    cleaned = tuple(p.strip() for p in parts if p.strip())
    if not all(re.fullmatch(r"[A-Za-z0-9-]{1,20}", p) for p in cleaned):
        raise ValueError(f"WANGGE_TILES_SUBDOMAINS: each must be letters or digits: {value!r}")
    return cleaned


def _max_zoom(value: Any) -> int:
    if value is None:
        return DEFAULT_MAX_ZOOM
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ValueError(f"WANGGE_TILES_MAX_ZOOM must be a whole number 1–22, not {value!r}")
    zoom = int(str(value).strip())
    if not 1 <= zoom <= 22:
        raise ValueError(f"WANGGE_TILES_MAX_ZOOM must be a whole number 1–22, not {value!r}")
    return zoom


def _check_url(url: str, key: str) -> None:
    parts = urlsplit(url.replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"WANGGE_TILES_URL must be an http(s) URL, not {url!r}")
    names = set(_PLACEHOLDER.findall(url))
    missing = {"z", "x", "y"} - names
    if missing:
        raise ValueError(
            f"WANGGE_TILES_URL needs the placeholders {{z}}, {{x}} and {{y}}; "
            f"{', '.join('{' + m + '}' for m in sorted(missing))} missing in {url!r}"
        )
    unknown = names - _ALLOWED_PLACEHOLDERS
    if unknown:
        raise ValueError(f"WANGGE_TILES_URL has unknown placeholders {sorted(unknown)}: {url!r}")
    if "{k}" in url and not key:
        raise ValueError("WANGGE_TILES_URL has {k} but WANGGE_TILES_KEY is not set")
    if key and "{k}" not in url:
        raise ValueError("WANGGE_TILES_KEY is set but WANGGE_TILES_URL has no {k} to put it in")
    if "{k}" in parts.netloc or "{z}" in parts.netloc:
        raise ValueError(f"WANGGE_TILES_URL: only {{s}} may be in the host name: {url!r}")


def tile_settings(config: Mapping[str, Any]) -> TileSettings | None:
    """The tile provider the configuration names, or None (no tiles); ValueError if wrong.

    >>> tile_settings({}) is None
    True
    >>> t = tile_settings({"TILES_URL": "https://t{s}.example/{z}/{x}/{y}.png?tk={k}",
    ...     "TILES_KEY": "abc", "TILES_DATUM": "GCJ-02", "TILES_ATTRIBUTION": "© Example",
    ...     "TILES_SUBDOMAINS": "12"})
    >>> t.url, t.datum, t.max_zoom, t.subdomains
    ('https://t{s}.example/{z}/{x}/{y}.png?tk=abc', 'gcj02', 18, ('1', '2'))
    """
    if config.get("TILE_URL"):
        raise ValueError(
            "WANGGE_TILE_URL was renamed WANGGE_TILES_URL, and tiles now need "
            "WANGGE_TILES_DATUM and WANGGE_TILES_ATTRIBUTION too (docs/maps.md)"
        )
    url = str(config.get("TILES_URL") or "").strip()
    key = str(config.get("TILES_KEY") or "").strip()
    if not url:
        if config.get("TILES_DATUM"):
            _datum(config["TILES_DATUM"])  # a typo is reported even before the URL is set
        return None
    _check_url(url, key)
    if not config.get("TILES_DATUM"):
        raise ValueError(
            "WANGGE_TILES_DATUM must say what the tiles are drawn in (wgs84, cgcs2000 or "
            "gcj02): a wrong guess draws every cell about 500 m off"
        )
    attribution = str(config.get("TILES_ATTRIBUTION") or "").strip()
    if not attribution:
        raise ValueError(
            "WANGGE_TILES_ATTRIBUTION must credit the tile provider (and its 审图号 where the "
            "provider requires it): it is shown on every map with tiles"
        )
    subdomains = _subdomains(config.get("TILES_SUBDOMAINS"))
    if "{s}" in url and not subdomains:
        subdomains = DEFAULT_SUBDOMAINS
    return TileSettings(
        url=url.replace("{k}", key),
        datum=_datum(config["TILES_DATUM"]),
        attribution=attribution,
        max_zoom=_max_zoom(config.get("TILES_MAX_ZOOM")),
        subdomains=subdomains if "{s}" in url else (),
    )


def describe(settings: TileSettings | None) -> dict[str, Any]:
    """The public description (``GET /api/v1/map/tiles``; the pages embed the same).

    >>> describe(None)["enabled"]
    False
    """
    if settings is None:
        return {
            "enabled": False,
            "url": None,
            "datum": None,
            "attribution": "",
            "max_zoom": DEFAULT_MAX_ZOOM,
            "subdomains": [],
        }
    return {
        "enabled": True,
        "url": settings.url,
        "datum": settings.datum,
        "attribution": settings.attribution,
        "max_zoom": settings.max_zoom,
        "subdomains": list(settings.subdomains),
    }


def image_sources(settings: TileSettings | None) -> list[str]:
    """The origins CSP's img-src must allow: one per subdomain, never a wildcard.

    >>> image_sources(tile_settings({"TILES_URL": "https://t{s}.example/{z}/{x}/{y}.png",
    ...     "TILES_DATUM": "wgs84", "TILES_ATTRIBUTION": "x", "TILES_SUBDOMAINS": "01"}))
    ['https://t0.example', 'https://t1.example']
    """
    if settings is None:
        return []
    hosts = settings.subdomains if "{s}" in settings.url else ("",)
    origins = []
    for sub in hosts:
        parts = urlsplit(settings.url.replace("{s}", sub))
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in origins:
            origins.append(origin)
    return origins
