"""Each agency's Kafka principal can read only its own topic (broker-enforced ACLs,
quality.md reliability 5), with the ACLs the relay creates at its start."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from kafka import TopicPartition
from kafka.admin import ACLFilter, ResourcePatternFilter
from kafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError

from domain.policy import Track
from domain.values import Agency
from infra.kafka import clients
from infra.settings import Settings
from tests.servers import KafkaBroker

pytestmark = pytest.mark.kafka


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
                for a in clients.agency_acls(settings)
            ]
        )
    finally:
        admin.close()


def _readable(broker: KafkaBroker, agency: str, topic: str, timeout: float = 30) -> None:
    """ACLs reach the authorizer through the metadata log: wait until this one has."""
    consumer = broker.consumer(agency=agency, enable_auto_commit=False)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                consumer.beginning_offsets([TopicPartition(topic, 0)])
                return
            except TopicAuthorizationFailedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        consumer.close()


def _refused(broker: KafkaBroker, agency: str, topic: str) -> None:
    # A fresh client per topic: kafka-python reports a refused topic only on a client that
    # has not yet been authorised for another one (later look-ups just time out).
    snoop = broker.consumer(agency=agency, enable_auto_commit=False, request_timeout_ms=15_000)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            snoop.beginning_offsets([TopicPartition(topic, 0)])
    finally:
        snoop.close()


def test_an_agency_reads_its_own_topic_and_is_refused_every_other(
    kafka_broker: KafkaBroker, settings: Settings
) -> None:
    clients.ensure_topics(settings)
    clients.ensure_acls(settings)
    clients.ensure_acls(settings)  # idempotent: every relay start does this
    publisher = clients.KafkaPublisher(settings, "acl-test")
    for agency in Agency:
        publisher.publish(clients.agency_topic(settings, agency), [(b"case-1", agency.value.encode(), [])])
    publisher.close()

    for agency in Agency:
        own = clients.agency_topic(settings, agency)
        _readable(kafka_broker, agency.value, own)
        reader = kafka_broker.consumer(
            own, agency=agency.value, group_id=clients.agency_group(settings, agency)
        )
        records: list = []
        deadline = time.monotonic() + 30
        while not records and time.monotonic() < deadline:
            for batch in reader.poll(timeout_ms=500).values():
                records.extend(batch)
        reader.close()
        assert [r.value for r in records] == [agency.value.encode()]

        others = [clients.agency_topic(settings, o) for o in Agency if o is not agency]
        for topic in [*others, *(clients.internal_topic(settings, t) for t in Track)]:
            _refused(kafka_broker, agency.value, topic)

    # its own topic, but another agency's consumer group: refused as well
    other_group = kafka_broker.consumer(
        clients.agency_topic(settings, Agency.SCHOOL),
        agency="school",
        group_id=clients.agency_group(settings, Agency.POLICE),
    )
    with pytest.raises(GroupAuthorizationFailedError):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            other_group.poll(timeout_ms=500)
    other_group.close()
