"""The long-running loops of `ruskontrakt relay` and `ruskontrakt project`.

- relay: the notification logs -> `<prefix>.contracts|prevention` (services/relay.py);
  by default the same process also runs the redaction router
  (`<prefix>.contracts|prevention` -> `<prefix>.agency.<agency>`, services/router.py).
- project: `<prefix>.contracts|prevention` -> read models (services/projector.py). Its
  positions (topic, partition, offset) are stored in SQL with each batch of updates and
  are the only positions it trusts: on every partition assignment it seeks there.
Each loop runs until `stop` is set (SIGTERM/SIGINT in the CLI).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import defaultdict
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import CommitFailedError, RebalanceInProgressError

from domain.policy import Track
from infra.bootstrap import Container
from infra.kafka import clients
from services.messages import decode_internal, encode
from services.notification_reader import LogAnnouncements
from services.projector import Incoming
from services.relay import Message, Relay
from services.router import Router

log = logging.getLogger("ruskontrakt.kafka")
POLL_MS = 200
FETCH_MAX_WAIT_MS = 50  # the longest a fetch may wait at the broker for data
IDLE_WAIT_NOTIFIED = 0.5  # the relay's poll when the store announces new events itself
ACK_POLL = 0.01  # the relay's poll while batches await their acknowledgement
TOPIC_METADATA_WAIT = 30.0  # seconds a consumer waits to see new topics' partitions


def run_relay(container: Container, stop: threading.Event, idle_wait: float = 0.02) -> None:
    settings = container.settings
    clients.ensure_topics(settings)
    clients.ensure_acls(settings)
    publisher = clients.KafkaPublisher(settings, "ruskontrakt-relay")
    relay = Relay(
        container.apps,
        publisher,
        container.read_models,
        lambda track: clients.internal_topic(settings, track),
        settings.relay_gap_timeout_seconds,
    )
    # Woken by the store's NOTIFY on every save, for the application that saved; polling
    # every log only as the fallback (SQLite, a lost listening connection).
    news = LogAnnouncements({app.name: app.recorder for app in container.apps})
    idle = IDLE_WAIT_NOTIFIED if news.available else idle_wait
    log.info("relay: publishing to %s.{contracts,prevention}", settings.kafka_topic_prefix)
    read_all = True
    try:
        while not stop.is_set():
            announced = news.take()
            if relay.step(None if read_all else announced):
                read_all = False
                continue
            read_all = not _wait_for_news(relay, news, idle, stop)
        relay.flush()  # store the position of what is still in flight (a kill just re-sends it)
    finally:
        news.close()
        publisher.close()


def _wait_for_news(relay: Relay, news: LogAnnouncements, idle: float, stop: threading.Event) -> bool:
    """Until a log announces news (True) or `idle` seconds pass; meanwhile collect the
    broker's acknowledgements (they come without an announcement) without reading the store."""
    deadline = time.monotonic() + idle
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        if news.wait(min(left, ACK_POLL) if relay.in_flight() else left):
            return True
        relay.collect()
    return False


def _internal_consumer(container: Container, group: str, **kw: Any) -> KafkaConsumer:
    settings = container.settings
    name = f"{settings.kafka_topic_prefix}.{group}"
    # Static membership: a restarted process (same host) takes its partitions back at once
    # instead of waiting for the dead member's session to time out.
    # fetch_max_wait_ms: kafka-python keeps one fetch in flight per broker and leaves out of
    # it the partitions that still have records buffered; such a fetch for the idle topic
    # alone made the busy one wait the broker's whole default 500 ms now and then.
    return clients.consumer(
        settings,
        name,
        f"ruskontrakt-{group}",
        max_poll_records=500,
        group_instance_id=f"{name}.{socket.gethostname()}",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=2_000,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        **kw,
    )


def _subscribable_consumer(container: Container, group: str) -> KafkaConsumer:
    """A consumer of the internal topics that already knows their partitions.

    A consumer that joins its group before its own metadata shows the topics' partitions
    is assigned nothing ("No partition metadata for topic"), and kafka-python looks again
    only when that metadata expires (five minutes). So the topics are created first (the
    relay creates them too; whichever starts first), and the consumer fetches their
    partitions before it subscribes: a just-created topic can take a moment to appear.
    """
    clients.ensure_topics(container.settings)
    consumer = _internal_consumer(container, group)
    topics = _topics(container)
    deadline = time.monotonic() + TOPIC_METADATA_WAIT
    while not all(consumer.partitions_for_topic(topic) for topic in topics):
        if time.monotonic() > deadline:
            log.warning("%s: no partitions known yet for %s; subscribing anyway", group, topics)
            break
        time.sleep(0.1)
    return consumer


def _topics(container: Container) -> list[str]:
    return [clients.internal_topic(container.settings, t) for t in Track]


def run_router(container: Container, stop: threading.Event) -> None:
    settings = container.settings
    router = Router({a.track.value: a for a in container.apps}, container.keys)
    publisher = clients.KafkaPublisher(settings, "ruskontrakt-router", creates_topics=True)
    consumer = _subscribable_consumer(container, "router")
    consumer.subscribe(_topics(container))
    log.info("router: publishing to %s.agency.*", settings.kafka_topic_prefix)
    try:
        while not stop.is_set():
            polled = consumer.poll(timeout_ms=POLL_MS)
            if not polled:
                continue
            batch: dict[str, list[Message]] = defaultdict(list)
            for tp in sorted(polled, key=lambda t: (t.topic, t.partition)):
                for record in polled[tp]:
                    for out in router.route([decode_internal(record.value)]):
                        batch[clients.agency_topic(settings, out.viewer)].append(encode(out))
            publisher.publish_all(batch)
            commit_routed(consumer)  # only after the broker acknowledged every agency message
    finally:
        consumer.close()
        publisher.close()


def commit_routed(consumer: KafkaConsumer) -> bool:
    """Commit the router's offsets; False when the group was rebalancing.

    A rebalance (a router joining or leaving, the topics' metadata changing) refuses the
    commit. The router carries on: the uncommitted messages are routed again once it has
    its partitions back, as after a crash (delivery is at least once, docs/streams.md).
    """
    try:
        consumer.commit()
    except (CommitFailedError, RebalanceInProgressError) as error:
        log.warning(
            "router: offsets not committed, the group is rebalancing (%s); "
            "those messages will be routed again",
            type(error).__name__,
        )
        return False
    return True


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, continue from the offsets committed with the read models.

    kafka-python calls a listener on its IO thread, which also sends the heartbeats: a
    listener that waits (on SQL, say) stops them, and a projector stuck there once was
    removed from its group for good while the read models stood still (CI, the
    example-consumer test). So the listener only notes the partitions; the projector's own
    thread looks up their offsets and seeks (`seek_assigned`) right after the poll, and
    drops the records that poll fetched from them (read from Kafka's offsets, not ours).
    """

    def __init__(self, container: Container, consumer: KafkaConsumer, name: str) -> None:
        self.container, self.consumer, self.name = container, consumer, name
        self._assigned: set[TopicPartition] = set()
        self._lock = threading.Lock()

    def on_partitions_revoked(self, revoked: Any) -> None:
        with self._lock:
            self._assigned.difference_update(revoked)

    def on_partitions_assigned(self, assigned: Any) -> None:
        with self._lock:
            self._assigned.update(assigned)

    def seek_assigned(self, polled: dict[TopicPartition, list[Any]]) -> dict[TopicPartition, list[Any]]:
        """Seek the partitions assigned since the last poll to the stored offsets; `polled`
        without their records (fetched again from there by the next poll)."""
        with self._lock:
            assigned, self._assigned = self._assigned, set()
        if not assigned:  # every poll but the first after a rebalance
            return polled
        current = self.consumer.assignment()
        for tp in assigned & current:
            offset = self.container.read_models.position(self.name, tp.topic, tp.partition)
            if offset:
                self.consumer.seek(tp, offset)
            else:
                self.consumer.seek_to_beginning(tp)
        return {tp: records for tp, records in polled.items() if tp not in assigned}


def run_projector(container: Container, stop: threading.Event, name: str = "kafka") -> None:
    projector = container.projector(name)
    consumer = _subscribable_consumer(container, "projector")
    stored = _SeekToStored(container, consumer, name)
    consumer.subscribe(_topics(container), listener=stored)
    log.info("projector: %s.{contracts,prevention} -> read models", container.settings.kafka_topic_prefix)
    try:
        while not stop.is_set():
            polled = stored.seek_assigned(consumer.poll(timeout_ms=POLL_MS))
            batch = [
                Incoming(decode_internal(r.value), tp.topic, tp.partition, r.offset + 1)
                for tp in sorted(polled, key=lambda t: (t.topic, t.partition))
                for r in polled[tp]
            ]
            if batch:
                projector.apply(batch)  # read models + offsets in one SQL transaction
                # For Kafka's own lag tooling only; the SQL offsets are authoritative.
                consumer.commit_async(
                    {TopicPartition(i.source, i.partition): _meta(i.next_offset) for i in batch}
                )
    finally:
        consumer.close()


def _meta(offset: int) -> Any:
    from kafka.structs import OffsetAndMetadata

    return OffsetAndMetadata(offset, "", -1)
