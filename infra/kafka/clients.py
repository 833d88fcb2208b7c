"""Kafka clients as the service principal, the topics and the per-agency ACLs.

Topics (prefix = `RUSKONTRAKT_KAFKA_TOPIC_PREFIX`):
- `<prefix>.contracts`, `<prefix>.prevention`: every stored event, sealed (the relay).
  ONE partition each, so the topic's order is the notification log's order and a
  projection's position is a single notification id (read-your-writes); kept forever
  (retention.ms=-1) since the payloads are sealed and erasure is by crypto-shredding.
- `<prefix>.agency.<agency>.<unit>`: that unit's redacted, sealed views (the router), one
  topic per unit related to some case (docs/domain.md §9), created when the router first
  has a message for it; `<prefix>.agency.auditor`: the auditor's.

ACLs: each unit's principal `User:<agency>.<unit>` may READ and DESCRIBE its own topic and
its own consumer group (the topic's name, LITERAL), nothing else; `ruskontrakt grant-unit`
creates the principal (a SCRAM credential) and its ACLs. The auditor's principal
`User:auditor` gets the same on the auditor's topic at relay start. The service principal
itself needs (a super user in development): CREATE
and DESCRIBE on the `<prefix>.` topics (PREFIXED), WRITE on them (relay, router), READ on
the internal topics and on the groups `<prefix>.router` and `<prefix>.projector`,
ALTER on the CLUSTER (to create ACLs) and IDEMPOTENT_WRITE on the CLUSTER (idempotent
producer; implied by WRITE on Kafka >= 3).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourceType,
)
from kafka.errors import TopicAlreadyExistsError

from domain.need_to_know import AUDITOR, Viewer
from domain.policy import Track
from infra.settings import Settings
from services.relay import Message

log = logging.getLogger("ruskontrakt.kafka")
TRACK_TOPICS = {Track.CONTRACT: "contracts", Track.PREVENTION: "prevention"}


def client_config(settings: Settings) -> dict[str, Any]:
    assert settings.kafka_bootstrap, "Kafka mode needs RUSKONTRAKT_KAFKA_BOOTSTRAP"
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_username,
        "sasl_plain_password": settings.kafka_password,
    }


def internal_topic(settings: Settings, track: Track) -> str:
    return f"{settings.kafka_topic_prefix}.{TRACK_TOPICS[track]}"


def agency_topic(settings: Settings, viewer: Viewer | str) -> str:
    """The topic of a unit's views (`viewer`: a `Viewer` or its key, `agency:unit`)."""
    key = viewer.key if isinstance(viewer, Viewer) else Viewer.from_key(viewer).key
    return f"{settings.kafka_topic_prefix}.agency.{key.replace(':', '.')}"


def agency_group(settings: Settings, viewer: Viewer | str) -> str:
    return agency_topic(settings, viewer)


def unit_principal(viewer: Viewer) -> str:
    """The Kafka user name of a unit's own system (`gp.9144900`); the auditor's is `auditor`."""
    return viewer.key.replace(":", ".")


def admin(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(
        **client_config(settings), client_id="ruskontrakt-admin", request_timeout_ms=15_000
    )


def producer(settings: Settings, client_id: str) -> KafkaProducer:
    # Idempotent and acks=all: a retried send never duplicates or reorders within a partition.
    # batch_size: kafka-python's 16 KiB default holds about 15 of our ~1 KiB messages, so a
    # burst becomes many small produce requests; 256 KiB more than doubles the rate a
    # producer reaches (bench/bench_relay.py) and costs nothing when traffic is light,
    # since a batch leaves after linger_ms whether it is full or not.
    return KafkaProducer(
        **client_config(settings),
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=5,
    )


def consumer(settings: Settings, group: str | None, client_id: str, **kw: Any) -> KafkaConsumer:
    return KafkaConsumer(
        **client_config(settings),
        group_id=group,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **kw,
    )


def ensure_topics(settings: Settings) -> None:
    wanted: dict[str, dict[str, Any]] = {
        internal_topic(settings, t): {"num_partitions": 1, "configs": {"retention.ms": "-1"}} for t in Track
    }
    wanted[agency_topic(settings, AUDITOR)] = {"num_partitions": 1}
    _create_missing(settings, wanted)


# The unit topics this process knows exist: a router asks the broker once per new unit.
_KNOWN_TOPICS: set[str] = set()
_KNOWN_LOCK = threading.Lock()


def ensure_unit_topics(settings: Settings, topics: Sequence[str]) -> None:
    """Create the unit topics among `topics` that do not exist yet (one partition each)."""
    with _KNOWN_LOCK:
        new = [t for t in topics if t not in _KNOWN_TOPICS]
    if not new:
        return
    _create_missing(settings, {t: {"num_partitions": 1} for t in new})
    with _KNOWN_LOCK:
        _KNOWN_TOPICS.update(new)


def _create_missing(settings: Settings, wanted: Mapping[str, dict[str, Any]]) -> None:
    client = admin(settings)
    try:
        missing = set(wanted) - set(client.list_topics())
        for name in sorted(missing):
            spec = {**wanted[name], "replication_factor": settings.kafka_replication_factor}
            with contextlib.suppress(TopicAlreadyExistsError):  # another relay was quicker
                client.create_topics({name: spec}, wait_for_metadata=True)
        if missing:
            log.info("created topics %s", ", ".join(sorted(missing)))
    finally:
        client.close()


def unit_acls(settings: Settings, viewer: Viewer) -> list[ACL]:
    """READ and DESCRIBE on the unit's own topic and consumer group, for its principal only."""
    acls = []
    for kind, name in (
        (ResourceType.TOPIC, agency_topic(settings, viewer)),
        (ResourceType.GROUP, agency_group(settings, viewer)),
    ):
        for operation in (ACLOperation.READ, ACLOperation.DESCRIBE):
            pattern = ResourcePattern(kind, name, ACLResourcePatternType.LITERAL)
            acls.append(
                ACL(
                    principal=f"User:{unit_principal(viewer)}",
                    host="*",
                    operation=operation,
                    permission_type=ACLPermissionType.ALLOW,
                    resource_pattern=pattern,
                )
            )
    return acls


def agency_acls(settings: Settings) -> list[ACL]:
    """The ACLs the relay creates at its start: the auditor's (units get theirs by grant)."""
    return unit_acls(settings, AUDITOR)


def ensure_acls(settings: Settings, acls: Sequence[ACL] | None = None) -> None:
    """Creating an ACL binding that exists is a no-op on the broker: safe at every start."""
    client = admin(settings)
    try:
        result = client.create_acls(list(acls) if acls is not None else agency_acls(settings))
        if result.get("failed"):
            raise RuntimeError(f"could not create agency ACLs: {result['failed']}")
    finally:
        client.close()


def grant_unit(settings: Settings, viewer: Viewer, password: str) -> str:
    """Give a unit's own system its Kafka principal (a SCRAM-SHA-512 credential; an existing
    one gets the new password) and the ACLs on its topic; the principal's name."""
    from kafka.admin import ScramMechanism, UserScramCredentialUpsertion

    ensure_unit_topics(settings, [agency_topic(settings, viewer)])
    name = unit_principal(viewer)
    client = admin(settings)
    try:
        upsert = UserScramCredentialUpsertion(name, ScramMechanism.SCRAM_SHA_512, password)
        result = client.alter_user_scram_credentials([upsert])
        _raise_failed(result, f"could not set the SCRAM credential of {name}")
    finally:
        client.close()
    ensure_acls(settings, unit_acls(settings, viewer))
    return name


def _raise_failed(result: Any, what: str) -> None:
    for item in getattr(result, "results", None) or []:
        code = getattr(item, "error_code", 0)
        if code:
            raise RuntimeError(f"{what}: error {code} {getattr(item, 'error_message', '')}")


class Sent:
    """The producer's futures of one send (`services.relay.Sent`)."""

    def __init__(self, futures: list[Any]) -> None:
        self.futures = futures

    def done(self) -> bool:
        # One partition per topic: the last message is answered only after the earlier ones.
        return not self.futures or bool(self.futures[-1].is_done)

    def wait(self) -> None:
        # No flush: the batches leave on their own after linger_ms, and a flush would also
        # wait for whatever was sent after them.
        for future in self.futures:
            future.get(timeout=60)  # raises if the broker did not acknowledge


class KafkaPublisher:
    """`services.relay.Publisher` over an idempotent, acks=all producer."""

    def __init__(self, settings: Settings, client_id: str, creates_topics: bool = False) -> None:
        """`creates_topics`: create missing topics before publishing (the router's unit topics)."""
        self.producer = producer(settings, client_id)
        self.settings = settings if creates_topics else None

    def send(self, topic: str, messages: Sequence[Message]) -> Sent:
        return Sent([self.producer.send(topic, key=k, value=v, headers=h) for k, v, h in messages])

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        self.publish_all({topic: messages})

    def publish_all(self, by_topic: Mapping[str, Sequence[Message]]) -> None:
        """Every topic's messages, acknowledged. One flush for all of them: the router
        writes to an agency topic each, and a flush per topic was a broker round trip each."""
        if self.settings is not None:
            ensure_unit_topics(self.settings, list(by_topic))
        sent = [self.send(topic, messages) for topic, messages in by_topic.items()]
        self.producer.flush()
        for s in sent:
            s.wait()

    def close(self) -> None:
        self.producer.close()


def reachable(settings: Settings, timeout_ms: int = 3000) -> str:
    """'ok' or the reason the broker cannot be reached (for `/ready`)."""
    try:
        client = KafkaAdminClient(
            **client_config(settings), client_id="ruskontrakt-ready", request_timeout_ms=timeout_ms
        )
    except Exception as error:
        return f"unreachable: {type(error).__name__}"
    try:
        client.describe_cluster()
        return "ok"
    except Exception as error:
        return f"unreachable: {type(error).__name__}"
    finally:
        client.close()
