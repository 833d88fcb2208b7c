"""A unit's redacted event stream, opened for its own users (the SSE mirror of its topic).

The messages come from a source the wiring chooses (`infra/bootstrap.py`): the agency's
Kafka topic, or in embedded mode the router run in-process over the notification logs.
Each message's fields are opened with the case's key for the caller, and each delivered
message is written to the access log before it is handed on.

A subscription is polled, never blocked on: the edge waits between polls without holding a
worker thread, so open streams cost memory, not threads. How many streams may be open at
once is bounded per user and in all (429 beyond).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from domain.need_to_know import Viewer
from domain.policy import Track
from domain.values import Agency
from services.access import AccessRecorder
from services.context import Context
from services.errors import AccessDeniedError, TooManyError
from services.keys import SubjectKeys
from services.messages import AgencyMessage, open_agency_message
from services.router import InProcessAgencyFeed
from services.sealed_application import SealedApplication


class MessagePoller(Protocol):
    def poll(self) -> list[AgencyMessage]:
        """The messages that arrived since the last poll, oldest first; returns at once."""

    def close(self) -> None: ...


MessageSource = Callable[[Sequence[Viewer]], MessagePoller]  # a poller on these units' messages


class _InProcessPoller:
    def __init__(self, feed: InProcessAgencyFeed) -> None:
        self.feed = feed

    def poll(self) -> list[AgencyMessage]:
        return self.feed.poll()

    def close(self) -> None:
        pass


def in_process_source(apps: Sequence[SealedApplication], keys: SubjectKeys) -> MessageSource:
    return lambda viewers: _InProcessPoller(InProcessAgencyFeed(apps, keys, viewers))


class Subscription:
    """One caller's open stream: each poll returns the new messages opened and logged."""

    def __init__(self, streams: AgencyStreams, ctx: Context, poller: MessagePoller, limit: int) -> None:
        self.streams = streams
        self.ctx = ctx
        self.poller = poller
        self.left = limit
        self.closed = False

    def poll(self) -> list[tuple[AgencyMessage, dict[str, Any]]]:
        out = []
        for message in self.poller.poll():
            if self.left <= 0:
                break
            key = self.streams.keys.key_for_case(message.case_id)
            if key is None:
                continue  # the person was erased: nothing readable is left
            data = open_agency_message(message, key)
            access = self.streams.access
            access.record(
                [access.entry(self.ctx, "stream", message.case_id, message.categories, data["basis"])]
            )
            out.append((message, data))
            self.left -= 1
        return out

    @property
    def done(self) -> bool:
        return self.left <= 0

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.poller.close()
            self.streams._release(self.ctx)


class AgencyStreams:
    def __init__(
        self,
        source: MessageSource,
        keys: SubjectKeys,
        access: AccessRecorder,
        max_per_user: int = 5,
        max_total: int = 200,
    ) -> None:
        self.source = source
        self.keys = keys
        self.access = access
        self.max_per_user = max_per_user
        self.max_total = max_total
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def subscribe(self, agency: Agency, ctx: Context, limit: int) -> Subscription:
        """Open the stream of the caller's unit for them (close it when done)."""
        if ctx.agency is not agency:
            raise AccessDeniedError("an agency may only read its own stream")
        # The caller's unit on each track (a police prevention unit's view of the preventive
        # track is a unit of its own, docs/domain.md §9).
        viewers = [v for v in (ctx.viewer(Track.CONTRACT), ctx.viewer(Track.PREVENTION)) if v is not None]
        user = f"{ctx.agency.value}:{ctx.sub}"
        with self._lock:
            if self._open[user] >= self.max_per_user:
                raise TooManyError(f"at most {self.max_per_user} open streams per user")
            if sum(self._open.values()) >= self.max_total:
                raise TooManyError(f"the service has its {self.max_total} streams open")
            self._open[user] += 1
        try:
            return Subscription(self, ctx, self.source(viewers), limit)
        except BaseException:
            self._release(ctx)
            raise

    def _release(self, ctx: Context) -> None:
        user = f"{ctx.agency.value}:{ctx.sub}"
        with self._lock:
            self._open[user] -= 1
            if self._open[user] <= 0:
                del self._open[user]
