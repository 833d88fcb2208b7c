"""The relay: every stored event, in notification order, onto the internal Kafka topics.

It never decrypts: each message carries the event's sealed bytes and a plaintext
envelope (services/messages.py). Its position per application is stored durably only
after the broker acknowledged the whole batch (acks=all, idempotent producer), so a
crash can only cause re-publication of the last batch, never a loss; downstream
(router and projector) skip a case version they have already applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from domain.policy import Track
from services.log_follower import LogFollower
from services.messages import Headers, encode, internal_message
from services.store import SealedApplication

log = logging.getLogger("ruskontrakt.relay")
Message = tuple[bytes, bytes, Headers]


class Publisher(Protocol):
    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """Return once the broker acknowledged every message; raise otherwise."""


class RelayPositions(Protocol):
    def relay_position(self, source: str) -> int: ...

    def save_relay_position(self, source: str, notification_id: int) -> None: ...


class Relay:
    def __init__(self, apps: Sequence[SealedApplication], publisher: Publisher,
                 positions: RelayPositions, topic_of: Callable[[Track], str],
                 gap_timeout: float = 5.0, batch: int = 500) -> None:  # fmt: skip
        self.apps = list(apps)
        self.publisher = publisher
        self.positions = positions
        self.topic_of = topic_of
        self.batch = batch
        self.followers = {app.name: LogFollower(app.recorder, gap_timeout) for app in self.apps}

    def step(self) -> int:
        """Publish one batch per application; the number of events published."""
        return sum(self._step(app) for app in self.apps)

    def _step(self, app: SealedApplication) -> int:
        source = app.name
        after = self.positions.relay_position(source)
        notifications = self.followers[source].read(after, self.batch)
        if not notifications:
            return 0
        messages = [encode(internal_message(app.track, n, n.id)) for n in notifications]
        self.publisher.publish(self.topic_of(app.track), messages)
        # Only now: the broker has every message of the batch (acks=all).
        self.positions.save_relay_position(source, notifications[-1].id)
        log.debug("relayed %s %d..%d", source, notifications[0].id, notifications[-1].id)
        return len(notifications)

    def lag(self) -> dict[str, int]:
        """Notifications stored but not yet acknowledged by the broker, per application."""
        return {app.name: max(0, self.followers[app.name].last_id()
                              - self.positions.relay_position(app.name)) for app in self.apps}  # fmt: skip
