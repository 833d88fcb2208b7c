"""The AsyncAPI 3 document of the unit topics, generated from the code (`make asyncapi`).

`asyncapi_document()` builds it from the message schemas (`infra/message_schemas.py`), the
topic and principal names (`infra/kafka/clients.py`) and the settings' defaults; the
service serves it at `GET /asyncapi.json`, and `ruskontrakt asyncapi --write docs` writes
`docs/asyncapi.yaml` and one JSON Schema file per message type under
`docs/schemas/agency/v<N>/` (N = `AGENCY_SCHEMA_VERSION`). `make test` validates the YAML
with `@asyncapi/cli validate`; `tests/unit/test_asyncapi.py` fails when the committed files
differ from what the code generates, or when the format changed under a published version.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from domain.values import Agency
from infra.message_schemas import HEADERS, Named, inline, message_types, opened_schema, wire_schema
from services.messages import AGENCY_SCHEMA_VERSION, STREAM_KEY_INFO

# The fingerprint of each published format version (`fingerprint()`): a format consumers
# may have seen never changes under its version. Changed it? Bump AGENCY_SCHEMA_VERSION in
# services/messages.py, add the new version's fingerprint here, run `make asyncapi`.
PUBLISHED = {
    2: "9f6d32251ecc328de5e6e081ddb7544b57ce8fc0ee0576b5a9ec4f6efbf93dff",
}
BINDING = "0.5.0"  # the Kafka bindings' version
DRAFT_07 = "http://json-schema.org/draft-07/schema#"

DESCRIPTION = f"""\
What the redaction router publishes for each unit of an agency (docs/streams.md).

Each unit reads its own topic `<prefix>.agency.<agency>.<unit>` (the auditor:
`<prefix>.agency.auditor`) as its own principal `<agency>.<unit>` (SCRAM-SHA-512, made by
`ruskontrakt grant-unit`), in the consumer group named as the topic. One partition; the
key is the case id; delivery is at least once (`case_id`, `version`, `type` identify a
message).

The content is sealed: `sealed` is AES-256-GCM under the unit's stream key of the case.
A token of the unit gets that key from the HTTP API (bearer token; every release is in the
access log): `GET /streams/keys/{{case_id}}?track=<track>&min_position=<notification_id>`. The key is
HKDF-SHA256(case data key, info `{STREAM_KEY_INFO}|<viewer>|<case_id>`): it opens this unit's
messages of this case and nothing else. After the person's data is erased the key is gone
(404, as for an unknown case or an unrelated unit) and the messages stay sealed: keep a key
in memory for `max_age` seconds at most, never on disk.

Opened, a message is its envelope plus `fields`, `basis`, `at`, `actor_agency`; the
schema of each opened message type is `components.schemas.<Type>Opened` (also
`docs/schemas/agency/v{AGENCY_SCHEMA_VERSION}/<Type>.schema.json`), linked from each message as `x-opened`.
"""


def _strip_docs(value: Any) -> Any:
    """The schemas without their prose: what the fingerprint is of."""
    if isinstance(value, dict):
        return {k: _strip_docs(v) for k, v in value.items() if k not in ("description", "title")}
    if isinstance(value, list):
        return [_strip_docs(v) for v in value]
    return value


@functools.cache
def schemas() -> dict[str, dict[str, Any]]:
    """`Headers`, per message type `<Type>` (on the topic) and `<Type>Opened`, and the
    schemas they share (`Envelope.*`, `Content.*`, value objects such as `Person`)."""
    out: Named = {"Headers": HEADERS}
    named: Named = {}
    for name, (track, hints) in message_types().items():
        out[name] = wire_schema(name, track, named)
        out[f"{name}Opened"] = opened_schema(name, track, hints, named)
    return {**out, **dict(sorted(named.items()))}


def standalone(name: str) -> dict[str, Any]:
    """The schema `name` of components.schemas with every reference inlined."""
    return inline(schemas()[name], schemas())


def fingerprint() -> str:
    """sha256 of the schemas without their prose: changes exactly when the format does."""
    inlined = {name: standalone(name) for name in schemas()}
    data = json.dumps(_strip_docs(inlined), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def _channel(address: str, parameters: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "address": address,
        "description": description,
        "parameters": parameters,
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in message_types()},
        "bindings": {"kafka": {"partitions": 1, "bindingVersion": BINDING}},
    }


def _operation(channel: str, description: str) -> dict[str, Any]:
    return {
        "action": "receive",
        "channel": {"$ref": f"#/channels/{channel}"},
        "description": description,
        "bindings": {
            "kafka": {
                "groupId": {
                    "type": "string",
                    "description": "The topic's own name: the only group the principal may use "
                    "(LITERAL ACL).",
                },
                "bindingVersion": BINDING,
            }
        },
    }


@functools.cache
def _document() -> dict[str, Any]:
    prefix = {"default": "ruskontrakt", "description": "RUSKONTRAKT_KAFKA_TOPIC_PREFIX of the deployment."}
    agencies = [a.value for a in Agency if a not in (Agency.AUDITOR, Agency.COUNTY)]
    messages = {
        name: {
            "name": name,
            "title": name,
            "summary": f"{'A contract' if track.value == 'contract' else 'A prevention case'}'s "
            f"{name} event, as the unit may see it",
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/Headers"},
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": {"type": "string", "format": "uuid"}, "bindingVersion": BINDING}},
            "x-opened": {"$ref": f"#/components/schemas/{name}Opened"},
        }
        for name, (track, _) in message_types().items()
    }
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": "ruskontrakt agency streams",
            "version": f"{AGENCY_SCHEMA_VERSION}.0.0",
            "description": DESCRIPTION,
            "x-schema-fingerprint": fingerprint(),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "protocolVersion": "4.x",
                "description": "The deployment's Kafka brokers (SASL_PLAINTEXT in development; "
                "SASL_SSL in production). SCRAM with Kafka 4 needs a client that gets it right: "
                "librdkafka >= 2.6.1 (the confluent-kafka wheels; not Debian's kcat, on librdkafka "
                "2.0), the Java client, kafka-python (docs/streams.md).",
                "variables": {
                    "bootstrap": {
                        "default": "127.0.0.1:19092",
                        "description": "RUSKONTRAKT_KAFKA_BOOTSTRAP (the development broker's default).",
                    }
                },
                "security": [{"$ref": "#/components/securitySchemes/scram"}],
            }
        },
        "channels": {
            "unitTopic": _channel(
                "{prefix}.agency.{agency}.{unit}",
                {
                    "prefix": prefix,
                    "agency": {"enum": agencies, "description": "The unit's agency."},
                    "unit": {
                        "description": "The unit's code: police district, Conflict Council office, "
                        "municipality number, HPR number or organisation number (docs/api.md)."
                    },
                },
                "One unit's messages: what the access policy, the consents and the unit's "
                "relation to each case give it (docs/domain.md §3, §9).",
            ),
            "auditorTopic": _channel(
                "{prefix}.agency.auditor",
                {"prefix": prefix},
                "The auditor's messages: every event in full.",
            ),
        },
        "operations": {
            "receiveUnitTopic": _operation("unitTopic", "A unit's own system reads its topic."),
            "receiveAuditorTopic": _operation("auditorTopic", "The auditor's system reads its topic."),
        },
        "components": {
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "SASL/SCRAM-SHA-512 as the unit's principal `<agency>.<unit>` "
                    "(the auditor: `auditor`), made by `ruskontrakt grant-unit --agency A --unit U`. "
                    "It may READ and DESCRIBE its topic and its group, nothing else.",
                }
            },
            "messages": messages,
            "schemas": schemas(),
        },
    }


def asyncapi_document() -> dict[str, Any]:
    """The document (a copy: callers may change it)."""
    return copy.deepcopy(_document())


def render_yaml() -> str:
    header = "# Generated by `make asyncapi` (infra/asyncapi.py) from the code: do not edit.\n"
    return header + yaml.safe_dump(_document(), sort_keys=False, allow_unicode=True, width=100)


def schema_files() -> dict[str, str]:
    """Relative path -> content of each message type's standalone JSON Schema (opened)."""
    out = {}
    for name in message_types():
        schema = {
            "$schema": DRAFT_07,
            "$id": f"urn:ruskontrakt:agency-message:{AGENCY_SCHEMA_VERSION}:{name}",
            **standalone(f"{name}Opened"),
        }
        path = f"schemas/agency/v{AGENCY_SCHEMA_VERSION}/{name}.schema.json"
        out[path] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def generated_files() -> dict[str, str]:
    """Relative path (under docs/) -> content, of everything `write` writes."""
    return {"asyncapi.yaml": render_yaml(), **schema_files()}


def write(docs: Path) -> list[Path]:
    """Write the document and the schemas under `docs`; the files written."""
    written = []
    for relative, content in generated_files().items():
        path = docs / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            written.append(path)
    return written
