"""Agency messages checked against the committed AsyncAPI document (docs/asyncapi.yaml):
what an integrator validates against, so every message a test sees is held to it."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.yaml"


@functools.cache
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


@functools.cache
def _validator(name: str) -> Any:
    components = document()["components"]
    assert name in components["schemas"], f"no schema {name} in docs/asyncapi.yaml"
    root = {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "components": components}
    return jsonschema_rs.Draft7Validator(root, validate_formats=True)


def errors(name: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in _validator(name).iter_errors(instance)
    ]


def check_wire(value: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """The message as on the topic, valid against its type's schema; the parsed message."""
    message = value if isinstance(value, dict) else json.loads(value)
    found = errors(message["type"], message)
    assert not found, (message["type"], found)
    return message


def check_opened(opened: dict[str, Any]) -> dict[str, Any]:
    """An opened message, valid against `<Type>Opened`."""
    found = errors(f"{opened['type']}Opened", opened)
    assert not found, (opened["type"], found)
    return opened
