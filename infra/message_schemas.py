"""JSON Schemas of the unit topics' messages, generated from the code's own definitions.

One message type per event class of the aggregates (`domain/contract.py`,
`domain/prevention.py`) plus `CaseDisclosed` (`projections/access.py`). For each type two
schemas (JSON Schema draft-07, which AsyncAPI's schema format is a superset of):

- the message as it is on the topic (`<Type>`): the envelope of `services.messages.AgencyMessage`,
  with `sealed` the base64 of nonce | AES-256-GCM ciphertext;
- the message opened with the unit's stream key (`<Type>Opened`): the envelope without
  `sealed`, plus `fields` (the event's payload as its class declares it, each field with the
  `x-category` of `domain.policy.FIELD_CATEGORIES`: a unit sees a field only where the
  policy and the consents in force allow its category; the auditor sees every field),
  `basis`, `at` and `actor_agency`.

Nothing here is written by hand per type: a field added to an event class, a new event
class, a new enum value or a change to the envelope changes the schemas, and
`tests/unit/test_asyncapi.py` fails until the committed document is regenerated
(`make asyncapi`) and, for a change consumers see, `AGENCY_SCHEMA_VERSION` is bumped.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.contract import Contract, ContractStatus
from domain.policy import FIELD_CATEGORIES, Track
from domain.prevention import PreventionCase
from domain.values import Agency, Category
from services.messages import AGENCY_SCHEMA_VERSION, AgencyMessage
from services.records import ENVELOPE

AGGREGATES: dict[Track, type[Aggregate]] = {Track.CONTRACT: Contract, Track.PREVENTION: PreventionCase}
# The message the router makes of no event class: the offer (and the plan in force) handed
# to a unit when a later consent opens it or the unit becomes related (projections/access.py).
DISCLOSED = "CaseDisclosed"
# `categories` of a message: a policy category, the auditor's `all`, or the preventive
# track's `prevention`.
CATEGORIES = [c.value for c in Category] + ["all", "prevention"]

# What the envelope's fields mean to an integrator. A field of `AgencyMessage` that is not
# here stops the generation: an envelope change comes with its documentation.
ENVELOPE_DOCS = {
    "schema": "The message format's version (AGENCY_SCHEMA_VERSION); also the `schema_version` header.",
    "agency": "The agency the message is for.",
    "unit": "The agency's unit it is for (null: the auditor's topic).",
    "track": "`contract` or `prevention`.",
    "case_id": "The case (also the Kafka key): messages of one case are in order.",
    "version": "The case's event version the message shows. With `type` and `case_id` it "
    "identifies the message: delivery is at least once, skip one you have.",
    "type": "The message type: the event's name, or `CaseDisclosed`.",
    "status": "The contract's status after the event (null on the preventive track).",
    "policy_version": "The access-policy version the content was redacted under.",
    "categories": "The categories of the fields in the sealed content.",
    "notification_id": "The event's position in its track's log (`GET /streams/keys/...?min_position=`).",
    "sealed": "Base64 of nonce (12 bytes) | AES-256-GCM ciphertext and tag, under the unit's "
    "stream key of the case (`GET /streams/keys/{case_id}`), additional data "
    "`agency|<viewer>|<case_id>|<version>|<type>` (viewer `agency:unit`, or `auditor`).",
}


def event_classes(track: Track) -> dict[str, type[Aggregate.Event]]:
    """The aggregate's stored event classes by name (not the abstract `Event` and `Created`)."""
    aggregate = AGGREGATES[track]
    found = {}
    for name in sorted(dir(aggregate)):
        cls = getattr(aggregate, name)
        if (
            isinstance(cls, type)
            and issubclass(cls, Aggregate.Event)
            and cls.__qualname__ == f"{aggregate.__name__}.{name}"
            and name not in ("Event", "Created")
        ):
            found[name] = cls
    return found


def payload_hints(cls: type[Any]) -> dict[str, Any]:
    """The fields of an event's payload (what `services.records.record_of` keeps), with types."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name not in ENVELOPE}


def message_types() -> dict[str, tuple[Track, dict[str, Any]]]:
    """Every message type with its track and its payload fields' types."""
    out: dict[str, tuple[Track, dict[str, Any]]] = {}
    for track in Track:
        for name, cls in event_classes(track).items():
            assert name not in out, f"two tracks have an event {name}"
            out[name] = (track, payload_hints(cls))
            if name == "ContractOffered":
                out[DISCLOSED] = (
                    track,
                    {**payload_hints(cls), "plan": typing.get_type_hints(Contract.PlanAgreed)["plan"]},
                )
    return dict(sorted(out.items()))


REF = "#/components/schemas/"
Named = dict[str, dict[str, Any]]  # the schemas a schema refers to, by name (components.schemas)


def ref(name: str) -> dict[str, Any]:
    return {"$ref": REF + name}


def schema_of(hint: Any, named: Named) -> dict[str, Any]:
    """The JSON Schema of a value of type `hint` as `services.records.to_plain` renders it;
    a value object is a reference to its schema, added to `named`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return {}
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = (
            schema_of(options[0], named)
            if len(options) == 1
            else {"anyOf": [schema_of(a, named) for a in options]}
        )
        return _nullable(inner) if type(None) in args else inner
    if origin in (tuple, list, set, frozenset):
        return {"type": "array", "items": schema_of(args[0], named) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": schema_of(args[1], named) if args else {}}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is str:
        return {"type": "string"}
    if hint is datetime:
        return {"type": "string", "format": "date-time"}
    if hint is date:
        return {"type": "string", "format": "date"}
    if hint is UUID:
        return {"type": "string", "format": "uuid"}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"type": "string", "enum": [m.value for m in hint]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if hint.__name__ not in named:
            hints = typing.get_type_hints(hint)
            names = [f.name for f in dataclasses.fields(hint)]
            named[hint.__name__] = {}  # taken: a value object that contains itself refers to itself
            named[hint.__name__] = {
                "type": "object",
                "title": hint.__name__,
                "properties": {name: schema_of(hints[name], named) for name in names},
                "required": names,
                "additionalProperties": False,
            }
        return ref(hint.__name__)
    raise TypeError(f"no JSON Schema for {hint!r}: teach infra/message_schemas.py its shape")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema.get("type"), str) and schema["type"] not in ("object", "array"):
        out = {**schema, "type": [schema["type"], "null"]}
        if "enum" in schema:
            out["enum"] = [*schema["enum"], None]
        return out
    return {"anyOf": [schema, {"type": "null"}]}


def fields_schema(name: str, hints: dict[str, Any], named: Named) -> dict[str, Any]:
    categories = FIELD_CATEGORIES.get(name, {})
    properties = {}
    for field, hint in hints.items():
        category = categories.get(field)
        schema = schema_of(hint, named)
        if "$ref" in schema:  # a reference takes no other keywords beside it
            schema = {"allOf": [schema]}
        properties[field] = {**schema, "x-category": category.value if category else None}
    return {
        "type": "object",
        "description": "The fields the unit may see: each field's `x-category` is the policy "
        "category it is shown under (null: the auditor only). A field the unit may not see is absent.",
        "properties": properties,
        "additionalProperties": False,
    }


def _envelope(name: str, track: Track, named: Named) -> dict[str, dict[str, Any]]:
    """The envelope's properties for one message type, from `AgencyMessage`'s fields: the
    ones that differ by type inline, the others named once (`Envelope.<field>`)."""
    hints = typing.get_type_hints(AgencyMessage)
    names = {field.name for field in dataclasses.fields(AgencyMessage)}
    if names != set(ENVELOPE_DOCS):
        raise KeyError(f"ENVELOPE_DOCS documents {sorted(ENVELOPE_DOCS)}, AgencyMessage has {sorted(names)}")
    by_type: dict[str, dict[str, Any]] = {"track": {"const": track.value}, "type": {"const": name}}
    status = {"type": "string", "enum": [s.value for s in ContractStatus]}
    named[f"Envelope.status.{track.value}"] = {
        **(status if track is Track.CONTRACT else {"type": "null"}),
        "description": ENVELOPE_DOCS["status"],
    }
    shared: dict[str, dict[str, Any]] = {
        "schema": {"const": AGENCY_SCHEMA_VERSION},
        "agency": {"type": "string", "enum": [a.value for a in Agency if a is not Agency.COUNTY]},
        "case_id": {"type": "string", "format": "uuid"},
        "version": {"type": "integer", "minimum": 1},
        "categories": {"type": "array", "items": {"type": "string", "enum": CATEGORIES}, "minItems": 1},
        "notification_id": {"type": "integer", "minimum": 1},
        "sealed": {"type": "string", "contentEncoding": "base64"},
    }
    out = {}
    for field, doc in ENVELOPE_DOCS.items():
        if field in by_type:
            out[field] = {**by_type[field], "description": doc}
        elif field == "status":
            out[field] = ref(f"Envelope.status.{track.value}")
        else:
            named[f"Envelope.{field}"] = {
                **(shared.get(field) or schema_of(hints[field], named)),
                "description": doc,
            }
            out[field] = ref(f"Envelope.{field}")
    return out


def wire_schema(name: str, track: Track, named: Named) -> dict[str, Any]:
    """The message as it is on the topic (the Kafka value, JSON)."""
    envelope = _envelope(name, track, named)
    return {
        "type": "object",
        "title": name,
        "properties": envelope,
        "required": list(envelope),
        "additionalProperties": False,
    }


CONTENT: dict[str, dict[str, Any]] = {
    "Content.basis": {
        "type": "object",
        "description": "Per category in `categories`, why the unit may see it: `role`, "
        "`consent:<consent ids>`, `disclosure`, `statute:sanction-test`, `role:auditor`.",
        "additionalProperties": {"type": "string"},
    },
    "Content.at": {"type": "string", "format": "date-time", "description": "When the event happened."},
    "Content.actor_agency": {
        "type": "string",
        "enum": [a.value for a in Agency],
        "description": "The agency whose user caused the event.",
    },
}


def opened_schema(name: str, track: Track, hints: dict[str, Any], named: Named) -> dict[str, Any]:
    """The message opened: the envelope without `sealed`, plus the sealed content."""
    envelope = {k: v for k, v in _envelope(name, track, named).items() if k != "sealed"}
    named.update(CONTENT)
    content = {
        "fields": fields_schema(name, hints, named),
        **{key.removeprefix("Content."): ref(key) for key in CONTENT},
    }
    properties = {**envelope, **content}
    return {
        "type": "object",
        "title": f"{name} (opened)",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def inline(schema: Any, named: Named) -> Any:
    """`schema` with every reference to a named schema replaced by the schema itself."""
    if isinstance(schema, dict):
        if set(schema) == {"$ref"} and schema["$ref"].startswith(REF):
            return inline(named[schema["$ref"].removeprefix(REF)], named)
        return {k: inline(v, named) for k, v in schema.items()}
    if isinstance(schema, list):
        return [inline(v, named) for v in schema]
    return schema


HEADERS = {
    "type": "object",
    "properties": {
        "event_type": {"type": "string", "description": "The message's `type`."},
        "schema_version": {"type": "string", "description": "The message's `schema`, as text."},
        "notification_id": {"type": "string", "description": "The message's `notification_id`, as text."},
        "policy_version": {"type": "string", "description": "The message's `policy_version`."},
    },
    "required": ["event_type", "schema_version", "notification_id", "policy_version"],
}
