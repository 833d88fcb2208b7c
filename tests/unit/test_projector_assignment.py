"""The Kafka projector's rebalance listener does no I/O on kafka-python's IO thread.

kafka-python runs a listener on the thread that sends the group's heartbeats; the stored
offsets are looked up, and the partitions sought, on the projector's own thread after the
poll (`_SeekToStored.seek_assigned`), and what that poll fetched from a newly assigned
partition (from Kafka's offsets, not the read models') is dropped.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from kafka import TopicPartition

from infra.kafka.runners import _SeekToStored

A, B = TopicPartition("p.contracts", 0), TopicPartition("p.prevention", 0)


class Consumer:
    def __init__(self) -> None:
        self.assigned: set[TopicPartition] = set()
        self.sought: dict[TopicPartition, int | str] = {}

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.sought[tp] = offset

    def seek_to_beginning(self, tp: TopicPartition) -> None:
        self.sought[tp] = "beginning"


class Positions:
    def __init__(self, stored: dict[TopicPartition, int]) -> None:
        self.stored, self.asked = stored, 0

    def position(self, consumer: str, source: str, partition: int = 0) -> int:
        self.asked += 1
        return self.stored.get(TopicPartition(source, partition), 0)


def listener(stored: dict[TopicPartition, int]) -> tuple[_SeekToStored, Consumer, Positions]:
    consumer, positions = Consumer(), Positions(stored)
    container: Any = SimpleNamespace(read_models=positions)
    return _SeekToStored(container, consumer, "kafka"), consumer, positions  # type: ignore[arg-type]


def test_the_listener_only_notes_the_partitions_the_poll_seeks_and_drops_their_records() -> None:
    seek, consumer, positions = listener({A: 7})
    consumer.assigned = {A, B}
    seek.on_partitions_assigned({A, B})
    assert positions.asked == 0 and consumer.sought == {}, "no SQL and no seek on the IO thread"

    polled = {A: ["from kafka's offset"], B: ["from kafka's offset"]}
    assert seek.seek_assigned(polled) == {}
    assert consumer.sought == {A: 7, B: "beginning"}

    # Later polls pass through untouched and look nothing up.
    assert seek.seek_assigned({A: ["next"]}) == {A: ["next"]}
    assert positions.asked == 2


def test_a_partition_revoked_before_the_poll_is_not_sought() -> None:
    seek, consumer, _ = listener({A: 3, B: 4})
    seek.on_partitions_assigned({A, B})
    seek.on_partitions_revoked({B})
    consumer.assigned = {A}
    assert seek.seek_assigned({A: ["x"]}) == {}
    assert consumer.sought == {A: 3}
