"""An agency's redacted event stream, opened for its own users (the SSE mirror of its topic).

The messages come from a source the wiring chooses (`infra/bootstrap.py`): the agency's
Kafka topic, or in embedded mode the router run in-process over the notification logs.
Each message's fields are opened with the case's key for the caller, and each delivered
message is written to the access log before it is handed on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from domain.values import Agency
from services.access import AccessRecorder
from services.context import Context
from services.errors import AccessDeniedError
from services.keys import SubjectKeys
from services.messages import AgencyMessage, open_agency_message
from services.router import InProcessAgencyFeed
from services.store import SealedApplication

# (agency, monotonic deadline) -> the agency's messages until then, oldest first.
MessageSource = Callable[[Agency, float], Iterator[AgencyMessage]]


def in_process_source(apps: Sequence[SealedApplication], keys: SubjectKeys) -> MessageSource:
    def messages(agency: Agency, deadline: float) -> Iterator[AgencyMessage]:
        feed = InProcessAgencyFeed(apps, keys, agency)
        while time.monotonic() < deadline:
            batch = feed.poll()
            yield from batch
            if not batch:
                time.sleep(0.1)  # nothing new in the notification logs yet

    return messages


class AgencyStreams:
    def __init__(self, source: MessageSource, keys: SubjectKeys, access: AccessRecorder) -> None:
        self.source = source
        self.keys = keys
        self.access = access

    def follow(
        self, agency: Agency, ctx: Context, limit: int, timeout: float
    ) -> Iterator[tuple[AgencyMessage, dict[str, Any]]]:
        """The agency's messages with their opened content, until `limit` or `timeout`.

        Permission is decided before the first message is read (a generator's body would
        run only once iterated, after the edge had answered 200)."""
        if ctx.agency is not agency:
            raise AccessDeniedError("an agency may only read its own stream")
        return self._follow(agency, ctx, limit, time.monotonic() + timeout)

    def _follow(
        self, agency: Agency, ctx: Context, limit: int, deadline: float
    ) -> Iterator[tuple[AgencyMessage, dict[str, Any]]]:
        sent = 0
        for message in self.source(agency, deadline):
            key = self.keys.key_for_case(message.case_id)
            if key is None:
                continue  # the person was erased: nothing readable is left
            data = open_agency_message(message, key)
            entry = self.access.entry(ctx, "stream", message.case_id, message.categories, data["basis"])
            self.access.record([entry])
            yield message, data
            sent += 1
            if sent >= limit:
                return
