"""The agency stream's Kafka source: the agency's topic read from the beginning.

Read as the service principal (the API authenticated the caller as that agency), with
`read_committed` so an aborted relay transaction is never shown.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from domain.values import Agency
from infra.kafka import clients
from infra.settings import Settings
from services.messages import AgencyMessage, decode_agency
from services.streams import MessageSource


def kafka_source(settings: Settings) -> MessageSource:
    def messages(agency: Agency, deadline: float) -> Iterator[AgencyMessage]:
        from kafka import TopicPartition

        consumer = clients.consumer(
            settings, None, f"ruskontrakt-sse-{agency.value}", isolation_level="read_committed"
        )
        try:
            partition = TopicPartition(clients.agency_topic(settings, agency), 0)
            consumer.assign([partition])
            consumer.seek_to_beginning(partition)
            while time.monotonic() < deadline:
                wait = max(1, int(min(0.5, deadline - time.monotonic()) * 1000))
                for records in consumer.poll(timeout_ms=wait).values():
                    for record in records:
                        yield decode_agency(record.value)
        finally:
            consumer.close()

    return messages
