"""The relay: every stored event, in notification order, onto the internal Kafka topics.

It never decrypts: each message carries the event's sealed bytes and a plaintext
envelope (services/messages.py). Its position per application is stored durably only
after the broker acknowledged the whole batch (acks=all, idempotent producer), so a
crash can only cause re-publication of the batches in flight, never a loss; downstream
(router and projector) skip a case version they have already applied.

Batches are pipelined: while batch N is on its way to the broker, batch N+1 is read
from the store, encoded and handed to the producer; then N's acknowledgement is awaited
and only then N's position stored. Reading the store and waiting for the broker thus
overlap instead of taking turns, and the producer (idempotent, so a retried send is
never duplicated or reordered within a partition) keeps a steady stream going.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.policy import Track
from services.log_follower import LogFollower
from services.messages import Headers, encode_internal
from services.store import SealedApplication

log = logging.getLogger("ruskontrakt.relay")
Message = tuple[bytes, bytes, Headers]


class Sent(Protocol):
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
    last: int  # the notification id to store once `sent` is acknowledged
    sent: Sent


class Relay:
    def __init__(self, apps: Sequence[SealedApplication], publisher: Publisher,
                 positions: RelayPositions, topic_of: Callable[[Track], str],
                 gap_timeout: float = 5.0, batch: int = 1000) -> None:  # fmt: skip
        self.apps = list(apps)
        self.publisher = publisher
        self.positions = positions
        self.topic_of = topic_of
        self.batch = batch
        self.followers = {app.name: LogFollower(app.recorder, gap_timeout) for app in self.apps}
        self._in_flight: dict[str, _InFlight | None] = {app.name: None for app in self.apps}
        self._stored: dict[str, int] = {}  # positions this process stored (it is their only writer)

    def step(self) -> int:
        """Send the next batch of each application and store the position of the previous
        one once it is acknowledged; the number of events sent (0: nothing new, and
        nothing left in flight)."""
        return sum(self._step(app) for app in self.apps)

    def flush(self) -> None:
        """Wait for every batch in flight and store its position (before stopping)."""
        for app in self.apps:
            self._settle(app.name)

    def _step(self, app: SealedApplication) -> int:
        source = app.name
        previous = self._in_flight[source]
        after = previous.last if previous else self._position(source)
        notifications = self.followers[source].read(after, self.batch)
        if notifications:
            messages = [encode_internal(app.track, n, n.id) for n in notifications]
            sent = self.publisher.send(self.topic_of(app.track), messages)
        self._settle(source)
        if notifications:
            self._in_flight[source] = _InFlight(notifications[0].id, notifications[-1].id, sent)
        return len(notifications)

    def _settle(self, source: str) -> None:
        in_flight, self._in_flight[source] = self._in_flight[source], None
        if in_flight is None:
            return
        in_flight.sent.wait()
        # Only now: the broker has every message of the batch (acks=all).
        self.positions.save_relay_position(source, in_flight.last)
        self._stored[source] = in_flight.last
        log.debug("relayed %s %d..%d", source, in_flight.first, in_flight.last)

    def _position(self, source: str) -> int:
        if source not in self._stored:
            self._stored[source] = self.positions.relay_position(source)
        return self._stored[source]

    def lag(self) -> dict[str, int]:
        """Notifications stored but not yet acknowledged by the broker, per application."""
        return {app.name: max(0, self.followers[app.name].last_id()
                              - self.positions.relay_position(app.name)) for app in self.apps}  # fmt: skip
