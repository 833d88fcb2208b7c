"""What goes over Kafka: sealed internal events and sealed per-unit views.

Message values never carry plaintext personal data. The internal topics carry the
event store's SEALED bytes (AES-GCM under the person's key) plus a plaintext envelope
(case id, version, type, notification id); the unit topics carry the redacted `fields`
sealed under the unit's stream key of the case, with an envelope of case id, version,
type, status, policy version and categories.

A stream key is derived from the case's data key for one viewer and one case (HKDF-SHA256,
`stream_key`): the service releases it to a token of that unit (`services/stream_keys.py`),
so the unit's own system opens its messages and nothing else — not another unit's
messages of the same case, not the person's other cases, not the event store. Erasing the
person's key (crypto-shredding) leaves nothing the service can derive a key from again,
so nothing on the topics can be opened any more.

The agency messages' format is versioned (`AGENCY_SCHEMA_VERSION`, in every message and
its `schema_version` header) and published as JSON Schema and AsyncAPI (`infra/asyncapi.py`).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.persistence import StoredEvent

from domain.policy import CURRENT_POLICY, RedactedEvent, Track

SCHEMA_VERSION = 1  # the internal topics' messages
SCHEMA_BYTES = str(SCHEMA_VERSION).encode()
# The unit topics' messages (docs/asyncapi.yaml). 2: sealed under the unit's stream key, the
# version in the message. Any change a consumer sees bumps it (tests/unit/test_asyncapi.py).
AGENCY_SCHEMA_VERSION = 2
STREAM_KEY_INFO = "ruskontrakt agency stream"  # HKDF info: f"{STREAM_KEY_INFO}|{viewer}|{case_id}"
# The additional data of a unit message's AES-GCM: a message copied to another viewer's topic,
# case, version or type does not open.
AAD_FORMAT = "agency|{viewer}|{case_id}|{version}|{type}"
Headers = list[tuple[str, bytes]]


@dataclass(frozen=True)
class InternalMessage:
    """One stored event as the relay publishes it to `<prefix>.contracts|prevention`."""

    track: str
    case_id: str
    version: int
    type: str
    topic: str  # the event class's topic: part of the sealed bytes' associated data
    notification_id: int
    state: bytes  # sealed, exactly as in the event store

    def stored_event(self) -> StoredEvent:
        return StoredEvent(UUID(self.case_id), self.version, self.topic, self.state)


@dataclass(frozen=True)
class AgencyMessage:
    """One unit's view of one event, as published to `<prefix>.agency.<agency>.<unit>`
    (the auditor's: `<prefix>.agency.auditor`)."""

    agency: str
    track: str
    case_id: str
    version: int
    type: str
    status: str | None
    policy_version: str
    categories: list[str]
    notification_id: int
    sealed: bytes  # nonce | AES-GCM({fields, basis, at, actor_agency}) under the stream key
    unit: str | None = None  # the agency's unit it is for (docs/domain.md §9)
    schema: int = AGENCY_SCHEMA_VERSION  # the format's version (docs/asyncapi.yaml)

    @property
    def viewer(self) -> str:
        """Whose message it is: `agency:unit`, or the auditor's `auditor`."""
        return self.agency if self.unit is None else f"{self.agency}:{self.unit}"


def internal_message(track: Track, notification: StoredEvent, notification_id: int) -> InternalMessage:
    return InternalMessage(
        track=track.value,
        case_id=_case_id(notification.originator_id),
        version=notification.originator_version,
        type=notification.topic.rsplit(".", 1)[-1],
        topic=notification.topic,
        notification_id=notification_id,
        state=notification.state,
    )


def _case_id(originator_id: UUID | str) -> str:
    # The store hands out UUIDs; anything else is normalised to the canonical text form.
    return str(originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id)))


def _headers(type_: str, notification_id: int, policy_version: str, schema: bytes) -> Headers:
    return [
        ("event_type", type_.encode()),
        ("schema_version", schema),
        ("notification_id", str(notification_id).encode()),
        ("policy_version", policy_version.encode()),
    ]


def encode(message: InternalMessage | AgencyMessage) -> tuple[bytes, bytes, Headers]:
    """(key, value, headers) for Kafka. The key is the case id: per-case order."""
    # vars(), not dataclasses.asdict: asdict deep-copies every field, and every message
    # published passes through here.
    body: dict[str, Any] = {"schema": SCHEMA_VERSION, **vars(message)}
    sealed_field = "state" if isinstance(message, InternalMessage) else "sealed"
    body[sealed_field] = base64.b64encode(body[sealed_field]).decode()
    # The relay does not decrypt, so it cannot know the event's time: its header names
    # the policy version it runs under; agency messages name the one they were redacted by.
    if isinstance(message, AgencyMessage):
        headers = _headers(
            message.type, message.notification_id, message.policy_version, str(message.schema).encode()
        )
    else:
        headers = _headers(message.type, message.notification_id, CURRENT_POLICY.version, SCHEMA_BYTES)
    return message.case_id.encode(), json.dumps(body, separators=(",", ":")).encode(), headers


def encode_internal(
    track: Track, notification: StoredEvent, notification_id: int
) -> tuple[bytes, bytes, Headers]:
    """`encode(internal_message(...))`, byte for byte, on the relay's hot path (once per
    event, and the relay must keep up with a bare producer): no intermediate dataclass,
    the parts that depend only on the event's class quoted once and cached, and the sealed
    state spliced in as base64, which never needs JSON escaping (`json.dumps` would scan
    the ~1 KiB of it for characters to escape)."""
    case_id, topic = _case_id(notification.originator_id), notification.topic
    quoted = _QUOTED.get(topic)
    if quoted is None:
        type_ = topic.rsplit(".", 1)[-1]
        quoted = _QUOTED[topic] = (json.dumps(type_), json.dumps(topic), type_.encode())
    head = (
        f'{{"schema":{SCHEMA_VERSION},"track":"{track.value}","case_id":"{case_id}",'
        f'"version":{int(notification.originator_version)},"type":{quoted[0]},"topic":{quoted[1]},'
        f'"notification_id":{int(notification_id)},"state":"'
    )
    value = b"".join((head.encode(), base64.b64encode(notification.state), b'"}'))
    headers = [
        ("event_type", quoted[2]),
        ("schema_version", SCHEMA_BYTES),
        ("notification_id", str(notification_id).encode()),
        ("policy_version", _POLICY_BYTES),
    ]
    return case_id.encode(), value, headers


_QUOTED: dict[str, tuple[str, str, bytes]] = {}  # event class topic -> its JSON-quoted parts
_POLICY_BYTES = CURRENT_POLICY.version.encode()


def decode_internal(value: bytes) -> InternalMessage:
    body = json.loads(value)
    body.pop("schema")
    body["state"] = base64.b64decode(body["state"])
    return InternalMessage(**body)


def decode_agency(value: bytes) -> AgencyMessage:
    body = json.loads(value)
    body["sealed"] = base64.b64decode(body["sealed"])
    return AgencyMessage(**body)


def seal_json(value: Any, key: bytes, aad: bytes) -> bytes:
    """nonce | AES-GCM(json(value)): readable only while the person's key exists."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, json.dumps(value).encode(), aad)


def open_json(sealed: bytes, key: bytes, aad: bytes) -> Any:
    return json.loads(AESGCM(key).decrypt(sealed[:12], sealed[12:], aad))


def _aad(viewer: str, case_id: str, version: int, type_: str) -> bytes:
    return AAD_FORMAT.format(viewer=viewer, case_id=case_id, version=version, type=type_).encode()


def stream_key(case_key: bytes, viewer: str, case_id: str) -> bytes:
    """The key of `viewer`'s messages of one case (`agency:unit`, or `auditor`): HKDF-SHA256
    of the case's data key, no salt, info `ruskontrakt agency stream|<viewer>|<case id>`.
    One way: it opens neither the case key nor another viewer's or case's messages."""
    info = f"{STREAM_KEY_INFO}|{viewer}|{case_id}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(case_key)


def agency_message(view: RedactedEvent, key: bytes, notification_id: int) -> AgencyMessage:
    """The pure message-building function of the router: exactly the view, sealed under
    the viewer's stream key of the case (derived from the case's data key `key`)."""
    secret = {
        "fields": view.fields,
        "basis": view.basis,
        "at": view.at.isoformat(),
        "actor_agency": view.actor_agency.value,
    }
    viewer = view.agency.value if view.unit is None else f"{view.agency.value}:{view.unit}"
    aad = _aad(viewer, view.case_id, view.version, view.type)
    sealed = seal_json(secret, stream_key(key, viewer, view.case_id), aad)
    return AgencyMessage(
        agency=view.agency.value,
        unit=view.unit,
        track=view.track.value,
        case_id=view.case_id,
        version=view.version,
        type=view.type,
        status=view.status,
        policy_version=view.policy_version,
        categories=view.categories,
        notification_id=notification_id,
        sealed=sealed,
    )


def open_agency_message(message: AgencyMessage, key: bytes) -> dict[str, Any]:
    """The envelope plus the decrypted `fields`, `basis`, `at`, `actor_agency`, opened with
    the case's data key `key` (the service's side: the SSE mirror)."""
    return open_with_stream_key(message, stream_key(key, message.viewer, message.case_id))


def open_with_stream_key(message: AgencyMessage, key: bytes) -> dict[str, Any]:
    """The same, opened with the viewer's stream key (what a unit's own consumer holds)."""
    aad = _aad(message.viewer, message.case_id, message.version, message.type)
    envelope = {k: v for k, v in asdict(message).items() if k != "sealed"}
    return {**envelope, **open_json(message.sealed, key, aad)}
