"""Open311 bodies in JSON and XML (the spec's "Spark convention" mapping between the two).

Content types carry `; charset=utf-8`, as the spec's general rules ask. The SeeClickFix
validator compares them without the charset (domain-anchors §c gotcha 2); it has been
unmaintained since 2019, so we follow the spec (docs/open311.md).
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"

#: Root element → element of each array item.
ITEM_TAG = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            _append(node, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _append(node, ITEM_TAG.get(tag, "item"), inner)
    else:
        node.text = _scalar(value)


def to_xml(root: str, body: Any) -> bytes:
    """`body` (a list or a dict) under `<root>`; lists become repeated item elements."""
    element = ET.Element(root)
    if isinstance(body, list):
        for item in body:
            _append(element, ITEM_TAG[root], item)
    else:
        for key, value in body.items():
            _append(element, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        element, encoding="utf-8", xml_declaration=False
    )


def respond(fmt: str, root: str, body: Any, status: int = 200) -> Response:
    """One response in the asked format (`json` or `xml`)."""
    if fmt == "xml":
        return Response(to_xml(root, body), status=status, content_type=XML_TYPE)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text.encode("utf-8"), status=status, content_type=JSON_TYPE)


def errors(fmt: str, status: int, items: list[tuple[int, str]]) -> Response:
    """The spec's error array: `[{"code": …, "description": …}]` / `<errors><error>…`."""
    body = [{"code": code, "description": description} for code, description in items]
    return respond(fmt, "errors", body, status)
