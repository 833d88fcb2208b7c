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
from services.notification_reader import NotificationReader, serialises_writers
from services.relay import Message, Relay

CASE = uuid.uuid4()


class Recorder:
    def __init__(self, count: int) -> None:
        self.log = [
            Notification(
                id=i,
                originator_id=CASE,
                originator_version=i,
                topic="x:C.Happened",
                state=f"sealed {i}".encode(),
            )
            for i in range(1, count + 1)
        ]

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
    """Answers a send only when told to (`answer`), with an acknowledgement or an error."""

    def __init__(self) -> None:
        self.topic: list[Message] = []
        self.pending: list[Any] = []

    def send(self, topic: str, messages: Sequence[Message]) -> Any:
        self.topic.extend(messages)
        sent = Sent(decode_internal(messages[-1][1]).notification_id)
        self.pending.append(sent)
        return sent

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        self.send(topic, messages).wait()

    def answer(self, error: Exception | None = None) -> None:
        for sent in self.pending:
            sent.answered, sent.error = True, error
        self.pending = []


class Sent:
    def __init__(self, last: int) -> None:
        self.last, self.answered, self.error = last, False, None

    def done(self) -> bool:
        return self.answered

    def wait(self) -> None:
        self.answered = True  # waiting gets the broker's answer: an ack unless it failed
        if self.error:
            raise self.error


def relay(
    count: int, batch: int, save_every: float = 0.0, clock: Any = None
) -> tuple[Relay, Broker, Positions]:
    positions, broker = Positions(), Broker()
    r = Relay(
        [App(count)],
        broker,
        positions,
        lambda t: "t",
        batch=batch,  # type: ignore[list-item]
        save_every=save_every,
        clock=clock or (lambda: 0.0),
    )
    return r, broker, positions


def ids(broker: Broker) -> list[int]:
    return [decode_internal(v).notification_id for _, v, _ in broker.topic]


def test_batches_are_sent_without_waiting_and_the_position_moves_only_with_acknowledgements() -> None:
    r, broker, positions = relay(25, batch=10)
    assert r.step() == 10 and r.step() == 10  # two batches on their way, none answered
    assert positions.saved == [] and ids(broker) == list(range(1, 21))
    broker.answer()
    assert r.step() == 5 and positions.saved == [20]  # the answered batches, not the new one
    assert r.step() == 0 and positions.saved == [20] and r.in_flight() == 1  # nothing new, nothing answered
    broker.answer()
    assert r.step() == 0 and positions.saved == [20, 25] and r.in_flight() == 0
    assert ids(broker) == list(range(1, 26))


def test_a_full_pipeline_waits_for_the_oldest_batch_before_sending_more() -> None:
    r, broker, positions = relay(100, batch=10)
    for _ in range(r.max_in_flight + 1):
        r.step()
    assert positions.saved == [10]  # the fifth batch in flight made the relay wait for the first
    assert len(broker.topic) == 10 * (r.max_in_flight + 1)


def test_while_busy_the_position_is_stored_at_most_every_save_every_seconds() -> None:
    now = [0.0]
    r, broker, positions = relay(50, batch=10, save_every=1.0, clock=lambda: now[0])
    r.step()
    broker.answer()
    r.step()
    assert positions.saved == []  # acknowledged, but stored less than a second ago (at start)
    broker.answer()
    assert [r.step() for _ in range(4)] == [10, 10, 10, 0]  # nothing sent twice meanwhile
    now[0] = 1.5
    broker.answer()
    r.step()
    assert positions.saved == [50] and ids(broker) == list(range(1, 51))


def test_the_messages_are_exactly_what_encode_makes_of_each_stored_event() -> None:
    r, broker, _ = relay(3, batch=10)
    while r.step():
        pass
    r.flush()
    assert broker.topic == [encode(internal_message(Track.CONTRACT, n, n.id)) for n in App(3).recorder.log]


def test_a_missing_acknowledgement_stops_the_relay_with_the_position_at_the_last_acknowledged_batch() -> None:
    r, broker, positions = relay(30, batch=10)
    r.step()
    broker.answer()
    r.step()  # batch 1 acknowledged and stored; batch 2 sent
    assert positions.saved == [10]
    broker.answer(TimeoutError("no acknowledgement"))
    with pytest.raises(TimeoutError):
        r.step()
    assert positions.saved == [10]
    # A restarted relay resumes after the stored position: batch 2 and later go out again
    # (downstream skips the versions it has), nothing is skipped.
    again, broker2, _ = relay(30, batch=10)
    again.positions = positions
    while again.step():
        pass
    again.flush()
    assert ids(broker2) == list(range(11, 31)) and positions.saved[-1] == 30


def test_flush_stores_the_position_of_everything_in_flight() -> None:
    r, _, positions = relay(5, batch=10, save_every=60)
    r.step()
    r.flush()
    assert positions.saved == [5]


def test_a_recorder_that_declares_it_serialises_its_writers_lets_gaps_be_skipped_at_once() -> None:
    class Locking(Recorder):
        serialises_writers = True

    assert serialises_writers(Locking(1)) and NotificationReader(Locking(1)).gap_timeout == 0  # type: ignore[arg-type]
    assert not serialises_writers(Recorder(1)) and NotificationReader(Recorder(1)).gap_timeout > 0  # type: ignore[arg-type]


@pytest.mark.parametrize("topic", ["domain.contract:Contract.MeetingHeld", 'odd:Ø"quoted\\back.Ev"ent'])
def test_the_relay_fast_encoding_is_byte_for_byte_the_general_one(topic: str) -> None:
    from services.messages import encode_internal

    n = Notification(id=7, originator_id=CASE, originator_version=3, topic=topic, state=bytes(range(256)))
    for track in Track:
        assert encode_internal(track, n, 7) == encode(internal_message(track, n, 7))
        assert decode_internal(encode_internal(track, n, 7)[1]) == internal_message(track, n, 7)


def test_a_step_reads_only_the_logs_with_news_unless_the_last_batch_was_full() -> None:
    r, broker, _ = relay(25, batch=10)
    assert r.step(only=set()) == 0  # nothing announced: nothing read
    assert r.step(only={"contracts"}) == 10
    assert r.step(only=set()) == 10  # the last batch was full: there may be more
    assert r.step(only=set()) == 5
    assert r.step(only=set()) == 0
    assert ids(broker) == list(range(1, 26))
