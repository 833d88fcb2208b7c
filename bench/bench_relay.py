"""Relay to Kafka, events/s, vs kafka-python producing the same payloads directly.

quality.md: the relay (`services.relay.Relay` with `infra.kafka.clients.KafkaPublisher`,
as `ruskontrakt relay` runs it) ≥ 0.8× the rate of a bare kafka-python producer sending
the very same (key, value, headers) messages.

Both sides use the relay's own producer factory (`infra.kafka.clients.producer`: acks=all,
idempotent, the same linger and batch settings) on the same broker, each round onto a
fresh topic created by `clients.ensure_topics` (so the same topic settings: one
partition, retention.ms=-1). The baseline sends every message and flushes once; the relay
reads the notification log from PostgreSQL, builds the messages, publishes and stores its
position after each acknowledged batch. Rounds alternate; medians are compared. After
each round the topic's end offset must equal the number of events (nothing lost or
duplicated).

    .venv/bin/python -m bench.bench_relay [--cases 200] [--events-per-case 60] [--rounds 3]
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from bench.common import Result, bench_database, log
from bench.streams import (
    delete_topics,
    fill_store,
    kafka_settings,
    kafka_up,
    profiled,
    store_bench_main,
    topic_prefix,
)
from domain.policy import Track
from infra.bootstrap import Container
from infra.kafka import clients
from infra.settings import Settings
from services.messages import encode, internal_message
from services.relay import Message, Relay

TRACK = Track.CONTRACT  # the filled store holds contracts only


def payloads(c: Container) -> list[Message]:
    """Exactly the messages the relay publishes, built once up front for the baseline."""
    app = c.contracts
    notifications = app.recorder.select_notifications(start=1, limit=10**9)
    return [encode(internal_message(app.track, n, n.id)) for n in notifications]


def end_offset(settings: Settings, topic: str) -> int:
    consumer = KafkaConsumer(**clients.client_config(settings), client_id="bench-relay-check")
    try:
        tp = TopicPartition(topic, 0)
        return int(consumer.end_offsets([tp])[tp])
    finally:
        consumer.close()


def direct_round(settings: Settings, messages: list[Message]) -> tuple[float, int]:
    """The baseline: a bare producer (the relay's config) sends them all, one flush."""
    clients.ensure_topics(settings)
    topic = clients.internal_topic(settings, TRACK)
    producer = clients.producer(settings, "bench-direct")
    producer.partitions_for(topic)  # metadata before the clock starts, as for the relay
    try:
        start = time.perf_counter()
        futures = [producer.send(topic, key=k, value=v, headers=h) for k, v, h in messages]
        producer.flush()
        for future in futures:
            future.get(timeout=60)
        took = time.perf_counter() - start
    finally:
        producer.close()
    return took, end_offset(settings, topic)


def relay_round(c: Container, settings: Settings) -> tuple[float, int]:
    """The relay from position 0 until it has published the whole notification log."""
    clients.ensure_topics(settings)
    with c.database.transaction() as tx:
        tx.execute("DELETE FROM relay_positions")
    topic = clients.internal_topic(settings, TRACK)
    publisher = clients.KafkaPublisher(settings, "bench-relay")
    publisher.producer.partitions_for(topic)
    relay = Relay(
        c.apps,
        publisher,
        c.read_models,
        lambda t: clients.internal_topic(settings, t),
        settings.relay_gap_timeout_seconds,
    )
    try:
        start = time.perf_counter()
        while relay.step():
            pass
        relay.flush()  # every acknowledgement in, the position stored
        took = time.perf_counter() - start
    finally:
        publisher.close()
    return took, end_offset(settings, topic)


def run(
    cases: int = 200, events_per_case: int = 60, rounds: int = 3, profile: str | None = None
) -> list[Result]:
    bootstrap = kafka_up()
    # Set-up saves without group commit: it is not what is measured, and one set-up in a
    # few failed inside the group committer with 4 threads growing cases (see the report).
    with bench_database("relay", group_commit=False) as (_url, _workdir, c):
        fill_store(c, cases, events_per_case)
        messages = payloads(c)
        events = len(messages)
        size = statistics.mean(len(k) + len(v) + sum(len(a) + len(b) for a, b in h) for k, v, h in messages)
        log(f"{events} messages, {size:.0f} bytes each on average")
        times: dict[str, list[float]] = {"relay": [], "direct": []}
        used: list[Settings] = []
        sides: dict[str, Callable[[Settings], tuple[float, int]]] = {
            "direct": lambda s: direct_round(s, messages),
            "relay": lambda s: relay_round(c, s),
        }
        try:
            for n in range(rounds):
                for name, side in sides.items():
                    settings = kafka_settings(c.settings, bootstrap, topic_prefix(f"relay{name}{n}"))
                    used.append(settings)
                    if profile and name == "relay" and n == rounds - 1:
                        took, published = profiled(lambda s=settings, f=side: f(s), profile, "relay round")
                    else:
                        took, published = side(settings)
                    if published != events:
                        raise SystemExit(
                            f"{name} round {n}: the topic holds {published} messages, expected {events}"
                        )
                    times[name].append(took)
                    log(f"round {n} {name}: {events} events in {took:.2f} s = {events / took:,.0f}/s")
        finally:
            for settings in used:
                delete_topics(settings)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    rate = {name: events / t for name, t in med.items()}
    ratio = rate["relay"] / rate["direct"]
    details = {
        "events": events,
        "cases": cases,
        "mean_message_bytes": round(size),
        "rounds": rounds,
        "seconds": {k: [round(t, 3) for t in v] for k, v in times.items()},
    }
    return [
        Result(
            "relay to Kafka, events/s",
            rate["relay"],
            "events/s",
            rate["direct"],
            "events/s (kafka-python producing the same payloads)",
            ratio,
            "≥ 0.8×",
            ratio >= 0.8,
            details,
        )
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    return store_bench_main(__doc__, run, argv, cases=200, profiled_side="relay")


if __name__ == "__main__":
    main()
