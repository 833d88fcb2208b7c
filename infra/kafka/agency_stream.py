"""The agency stream's Kafka source: the unit's topic read from the beginning.

Read as the service principal (the API authenticated the caller as that unit), with
`read_committed` so an aborted relay transaction is never shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.need_to_know import Viewer
from infra.kafka import clients
from infra.settings import Settings
from services.messages import AgencyMessage, decode_agency
from services.streams import MessagePoller, MessageSource


class _TopicPoller:
    def __init__(self, settings: Settings, viewers: Sequence[Viewer]) -> None:
        from kafka import TopicPartition

        names = "+".join(v.key for v in viewers)
        self.consumer: Any = clients.consumer(
            settings, None, f"ruskontrakt-sse-{names}", isolation_level="read_committed"
        )
        topics = [clients.agency_topic(settings, v) for v in viewers]
        clients.ensure_unit_topics(settings, topics)  # a unit with nothing routed to it yet
        partitions = [TopicPartition(topic, 0) for topic in topics]
        self.consumer.assign(partitions)
        self.consumer.seek_to_beginning(*partitions)

    def poll(self) -> list[AgencyMessage]:
        # A short broker wait keeps the thread this runs on free for others.
        batches = self.consumer.poll(timeout_ms=50).values()
        return [decode_agency(record.value) for records in batches for record in records]

    def close(self) -> None:
        self.consumer.close()


def kafka_source(settings: Settings) -> MessageSource:
    def open_poller(viewers: Sequence[Viewer]) -> MessagePoller:
        return _TopicPoller(settings, viewers)

    return open_poller
