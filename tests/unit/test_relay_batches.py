"""The relay's pipelined batches: a position is stored only after the broker acknowledged
everything up to it, and every event goes out once, in notification order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from eventsourcing.persistence import Notification

from domain.policy import Track
from services.messages import decode_internal, encode, internal_message
from services.relay import Message, Relay

CASE = uuid.uuid4()


class Recorder:
    def __init__(self, count: int) -> None:
        self.log = [Notification(id=i, originator_id=CASE, originator_version=i, topic="x:C.Happened",
                                 state=f"sealed {i}".encode()) for i in range(1, count + 1)]  # fmt: skip

    def select_notifications(self, start: int, limit: int) -> Sequence[Notification]:
        return [n for n in self.log if n.id >= start][:limit]

    def max_notification_id(self) -> int:
        return len(self.log)


class App:
    name, track = "contracts", Track.CONTRACT

    def __init__(self, count: int) -> None:
        self.recorder = Recorder(count)


class Positions:
    def __init__(self) -> None:
        self.saved: list[int] = []

    def relay_position(self, source: str) -> int:
        return self.saved[-1] if self.saved else 0

    def save_relay_position(self, source: str, notification_id: int) -> None:
        self.saved.append(notification_id)


class Broker:
    """Holds each send until `ack` (or `fail`) is called for it."""

    def __init__(self, positions: Positions) -> None:
        self.positions = positions
        self.topic: list[Message] = []
        self.acked: list[bool] = []
        self.fail_next_wait = False

    def send(self, topic: str, messages: Sequence[Message]) -> Any:
        self.topic.extend(messages)
        last = decode_internal(messages[-1][1]).notification_id
        broker = self

        class Sent:
            def wait(self) -> None:
                # the relay must not have stored this batch's position before its ack
                assert last not in broker.positions.saved
                if broker.fail_next_wait:
                    raise TimeoutError("no acknowledgement")
                broker.acked.append(True)

        return Sent()

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        self.send(topic, messages).wait()


def relay(count: int, batch: int) -> tuple[Relay, Broker, Positions]:
    positions = Positions()
    broker = Broker(positions)
    return Relay([App(count)], broker, positions, lambda t: "t", batch=batch), broker, positions  # type: ignore[list-item]


def test_every_event_is_published_once_in_notification_order_and_the_position_follows_the_acks() -> None:
    r, broker, positions = relay(25, batch=10)
    assert r.step() == 10 and positions.saved == []  # batch 1 in flight, nothing stored yet
    assert r.step() == 10 and positions.saved == [10]  # batch 2 sent, then batch 1 acknowledged
    assert r.step() == 5 and positions.saved == [10, 20]
    assert r.step() == 0 and positions.saved == [10, 20, 25]  # nothing new: the last batch settles
    assert [decode_internal(v).notification_id for _, v, _ in broker.topic] == list(range(1, 26))


def test_the_messages_are_exactly_what_encode_makes_of_each_stored_event() -> None:
    r, broker, _ = relay(3, batch=10)
    while r.step():
        pass
    app = App(3)
    assert broker.topic == [encode(internal_message(Track.CONTRACT, n, n.id)) for n in app.recorder.log]


def test_a_missing_acknowledgement_stops_the_relay_with_the_position_at_the_last_acknowledged_batch() -> None:
    r, broker, positions = relay(30, batch=10)
    r.step()
    r.step()
    broker.fail_next_wait = True
    with pytest.raises(TimeoutError):
        r.step()  # batch 3 sent, batch 2 never acknowledged
    assert positions.saved == [10]
    # A restarted relay resumes after the last acknowledged batch: batches 2 and 3 go out
    # again (downstream skips the versions it has), nothing is skipped.
    again, broker2, _ = relay(30, batch=10)
    again.positions = positions
    while again.step():
        pass
    assert [decode_internal(v).notification_id for _, v, _ in broker2.topic] == list(range(11, 31))
    assert positions.saved[-1] == 30


def test_flush_stores_the_position_of_the_batch_in_flight() -> None:
    r, _, positions = relay(5, batch=10)
    r.step()
    assert positions.saved == []
    r.flush()
    assert positions.saved == [5]
