"""Each unit's Kafka principal can read only its own unit topic (broker-enforced ACLs,
quality.md reliability 5 and 10), with the principal and ACLs `ruskontrakt grant-unit`
creates (and the auditor's, which the relay creates at its start)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import pytest
from kafka import TopicPartition
from kafka.admin import ACLFilter, ResourcePatternFilter
from kafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError

from domain.need_to_know import AUDITOR, Viewer
from domain.policy import Track
from domain.values import Agency
from infra.kafka import clients
from infra.settings import Settings
from tests.servers import KafkaBroker

pytestmark = pytest.mark.kafka


# Two units of the same agency each, so "its own agency's topic" is not enough.
UNITS = [
    Viewer(Agency.GP, "1111111"),
    Viewer(Agency.GP, "2222222"),
    Viewer(Agency.MUNICIPAL_HEALTH, "5001"),
    Viewer(Agency.MUNICIPAL_HEALTH, "5025"),
    Viewer(Agency.POLICE, "trondelag"),
    Viewer(Agency.POLICE, "oslo"),
]


def _acls(settings: Settings) -> list:
    return clients.agency_acls(settings) + [a for v in UNITS for a in clients.unit_acls(settings, v)]


@pytest.fixture
def settings(kafka_broker: KafkaBroker) -> Iterator[Settings]:
    settings = Settings(kafka_bootstrap=kafka_broker.bootstrap, kafka_topic_prefix=kafka_broker.topic("acl"))
    yield settings
    admin = clients.admin(settings)
    try:  # the topics go with the test run; remove the ACLs too
        admin.delete_acls(
            [
                ACLFilter(
                    a.principal,
                    a.host,
                    a.operation,
                    a.permission_type,
                    ResourcePatternFilter(
                        a.resource_pattern.resource_type,
                        a.resource_pattern.resource_name,
                        a.resource_pattern.pattern_type,
                    ),
                )
                for a in _acls(settings)
            ]
        )
    finally:
        admin.close()


def _readable(broker: KafkaBroker, principal: str, topic: str, timeout: float = 30) -> None:
    """ACLs reach the authorizer through the metadata log: wait until this one has."""
    deadline = time.monotonic() + timeout
    while True:
        consumer = broker.consumer(agency=principal, enable_auto_commit=False)
        try:
            consumer.beginning_offsets([TopicPartition(topic, 0)])
            return
        except Exception:  # refused, or a credential the broker has not seen yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
        finally:
            consumer.close()


def _refused(broker: KafkaBroker, principal: str, topic: str) -> None:
    # A fresh client per topic: kafka-python reports a refused topic only on a client that
    # has not yet been authorised for another one (later look-ups just time out).
    snoop = broker.consumer(agency=principal, enable_auto_commit=False, request_timeout_ms=15_000)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            snoop.beginning_offsets([TopicPartition(topic, 0)])
    finally:
        snoop.close()


def test_a_unit_reads_its_own_topic_and_is_refused_every_other(
    kafka_broker: KafkaBroker, settings: Settings
) -> None:
    clients.ensure_topics(settings)
    clients.ensure_acls(settings)
    clients.ensure_acls(settings)  # idempotent: every relay start does this
    for viewer in UNITS:
        password = secrets.token_urlsafe(24)
        principal = clients.grant_unit(settings, viewer, password)
        assert principal == viewer.key.replace(":", ".")
        kafka_broker.agency_credentials[principal] = password
    publisher = clients.KafkaPublisher(settings, "acl-test", creates_topics=True)
    for viewer in [AUDITOR, *UNITS]:
        publisher.publish(clients.agency_topic(settings, viewer), [(b"case-1", viewer.key.encode(), [])])
    publisher.close()

    for viewer in [AUDITOR, *UNITS]:
        principal = clients.unit_principal(viewer)
        own = clients.agency_topic(settings, viewer)
        _readable(kafka_broker, principal, own)
        reader = kafka_broker.consumer(own, agency=principal, group_id=clients.agency_group(settings, viewer))
        records: list = []
        deadline = time.monotonic() + 30
        while not records and time.monotonic() < deadline:
            for batch in reader.poll(timeout_ms=500).values():
                records.extend(batch)
        reader.close()
        assert [r.value for r in records] == [viewer.key.encode()]

        others = [clients.agency_topic(settings, o) for o in [AUDITOR, *UNITS] if o != viewer]
        for topic in [*others, *(clients.internal_topic(settings, t) for t in Track)]:
            _refused(kafka_broker, principal, topic)

    # its own topic, but another unit's consumer group: refused as well
    mine, theirs = UNITS[0], UNITS[1]
    other_group = kafka_broker.consumer(
        clients.agency_topic(settings, mine),
        agency=clients.unit_principal(mine),
        group_id=clients.agency_group(settings, theirs),
    )
    with pytest.raises(GroupAuthorizationFailedError):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            other_group.poll(timeout_ms=500)
    other_group.close()
