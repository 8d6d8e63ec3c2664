"""Open311 test helpers: the community JSON Schemas (tests/data/open311) and XML checks."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "open311"


@cache
def _registry() -> Registry:
    resources = [
        (
            path.name,
            Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT4),
        )
        for path in SCHEMAS.glob("*.json")
    ]
    return Registry().with_resources(resources)


def validate(name: str, body: Any) -> None:
    """Validate `body` against `tests/data/open311/{name}` (raises ValidationError)."""
    schema = json.loads((SCHEMAS / name).read_text())
    validator = jsonschema.Draft4Validator(
        schema, registry=_registry(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    validator.validate(body)


def xml_root(data: bytes, root: str) -> ET.Element:
    element = ET.fromstring(data)
    assert element.tag == root, element.tag
    return element
