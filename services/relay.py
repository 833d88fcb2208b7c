"""The relay: every stored event, in notification order, onto the internal Kafka topics.

It never decrypts: each message carries the event's sealed bytes and a plaintext
envelope (services/messages.py). Its position per application is stored durably only
after the broker acknowledged every message up to it (acks=all, idempotent producer), so
a crash can only cause re-publication of what was sent after the stored position, never
a loss; downstream (router and projector) skip a case version they have already applied.

Publishing never waits for the broker: each step reads the next batch from the store and
hands it to the producer while earlier batches are still on their way (up to
`max_in_flight`; the idempotent producer keeps them in order and never duplicates a
retried send). Acknowledgements are collected as they arrive, and the position of the
last acknowledged batch is stored at most every `save_every` seconds (and by `flush`): a
store commit per batch would otherwise be most of the relay's time, and with events
trickling in, every step would wait for the broker and the store before reading again.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.policy import Track
from services.messages import Headers, encode_internal
from services.notification_reader import NotificationReader
from services.sealed_application import SealedApplication

log = logging.getLogger("ruskontrakt.relay")
Message = tuple[bytes, bytes, Headers]


class Sent(Protocol):
    def done(self) -> bool:
        """The broker has answered for every message of the send (either way)."""

    def wait(self) -> None:
        """Return once the broker acknowledged every message of the send; raise otherwise."""


class Publisher(Protocol):
    def send(self, topic: str, messages: Sequence[Message]) -> Sent:
        """Hand the messages to the producer, in order, without waiting for the broker."""

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """Return once the broker acknowledged every message; raise otherwise."""


class RelayPositions(Protocol):
    def relay_position(self, source: str) -> int: ...

    def save_relay_position(self, source: str, notification_id: int) -> None: ...


@dataclass
class _InFlight:
    first: int
    last: int  # the notification id the position may move to once `sent` is acknowledged
    sent: Sent


class Relay:
    def __init__(
        self,
        apps: Sequence[SealedApplication],
        publisher: Publisher,
        positions: RelayPositions,
        topic_of: Callable[[Track], str],
        gap_timeout: float = 5.0,
        batch: int = 1000,
        max_in_flight: int = 4,
        save_every: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.apps = list(apps)
        self.publisher = publisher
        self.positions = positions
        self.topic_of = topic_of
        self.batch, self.max_in_flight, self.save_every, self.clock = batch, max_in_flight, save_every, clock
        self.readers = {app.name: NotificationReader(app.recorder, gap_timeout) for app in self.apps}
        self._in_flight: dict[str, deque[_InFlight]] = {app.name: deque() for app in self.apps}
        self._acked: dict[str, int] = {}  # last acknowledged notification id per application
        self._stored: dict[str, int] = {}  # positions as stored (this process is their only writer)
        self._stored_at: dict[str, float] = {app.name: clock() for app in self.apps}
        self._full = {app.name: False for app in self.apps}  # its last read hit the batch limit

    def step(self, only: Collection[str] | None = None) -> int:
        """Send the next batch of each application (of those named in `only`, and of any
        whose last batch was full) and collect the acknowledgements that have arrived; the
        number of events sent (0: nothing new)."""
        return sum(
            self._step(app) for app in self.apps if only is None or app.name in only or self._full[app.name]
        )

    def collect(self) -> None:
        """Collect the acknowledgements that have arrived (no reading)."""
        for app in self.apps:
            self._settle(app.name, keep=self.max_in_flight)

    def in_flight(self) -> int:
        """Batches sent and not yet acknowledged."""
        return sum(len(queue) for queue in self._in_flight.values())

    def flush(self) -> None:
        """Wait for every batch in flight and store the position (before stopping)."""
        for app in self.apps:
            self._settle(app.name, keep=0, save=True)

    def _step(self, app: SealedApplication) -> int:
        source = app.name
        queue = self._in_flight[source]
        after = queue[-1].last if queue else max(self._acked.get(source, 0), self._position(source))
        notifications = self.readers[source].read(after, self.batch)
        self._full[source] = len(notifications) >= self.batch
        if notifications:
            messages = [encode_internal(app.track, n, n.id) for n in notifications]
            sent = self.publisher.send(self.topic_of(app.track), messages)
            queue.append(_InFlight(notifications[0].id, notifications[-1].id, sent))
        self._settle(source, keep=self.max_in_flight)  # blocks only when the pipeline is full
        return len(notifications)

    def _settle(self, source: str, keep: int, save: bool = False) -> None:
        queue = self._in_flight[source]
        while queue and (len(queue) > keep or queue[0].sent.done()):
            batch = queue.popleft()
            batch.sent.wait()  # raises if the broker did not acknowledge: nothing later is stored
            self._acked[source] = batch.last
            log.debug("relayed %s %d..%d", source, batch.first, batch.last)
        acked = self._acked.get(source, 0)
        due = save or self.clock() - self._stored_at[source] >= self.save_every
        if acked > self._position(source) and due:
            # Only now: the broker has every message up to `acked` (acks=all).
            self.positions.save_relay_position(source, acked)
            self._stored[source], self._stored_at[source] = acked, self.clock()

    def _position(self, source: str) -> int:
        if source not in self._stored:
            self._stored[source] = self.positions.relay_position(source)
        return self._stored[source]

    def lag(self) -> dict[str, int]:
        """Notifications stored but not yet acknowledged by the broker, per application."""
        return {
            app.name: max(0, self.readers[app.name].last_id() - self.positions.relay_position(app.name))
            for app in self.apps
        }
