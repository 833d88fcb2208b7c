"""The redaction router: the internal topics in, one redacted topic per agency out.

For every event it asks the one policy gate (`redact`, through `CaseRedaction`: consents
as at the event's time, plus `CaseDisclosed` when a later consent opens the offer) what
each agency may see, and publishes exactly that, sealed under the case's key, to
`<prefix>.agency.<agency>.<unit>` (one topic per related unit, docs/domain.md §9).
Prevention events reach only the agencies `redact` names
(police; health and child welfare from their disclosure on; never the prosecution).

Per-case state lives in memory and is rebuilt from the event store when a case is first
seen after a start, so a restarted router continues exactly where the store says.
Delivery to the agency topics is at least once (offsets are committed after the
broker acknowledged); (case_id, version, type) identifies a message for deduplication.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

from cachetools import LRUCache

from domain.need_to_know import Viewer
from domain.policy import RedactedEvent
from projections.access import CaseRedaction
from services.keys import SubjectKeys
from services.messages import AgencyMessage, InternalMessage, agency_message, internal_message
from services.notification_reader import NotificationReader
from services.sealed_application import SealedApplication


def agency_messages(
    views: Mapping[Viewer, Iterable[RedactedEvent]], key: bytes, notification_id: int
) -> list[AgencyMessage]:
    """The pure message-building step: every view, as its unit's sealed message."""
    return [agency_message(v, key, notification_id) for vs in views.values() for v in vs]


class Router:
    def __init__(
        self,
        apps: Mapping[str, SealedApplication],
        keys: SubjectKeys,
        viewers: Sequence[Viewer] | None = None,
        max_cases: int = 20_000,
    ) -> None:
        """`viewers`: whose messages to build (None: every unit related to each case)."""
        self.apps = dict(apps)  # by track value: "contract", "prevention"
        self.keys = keys
        self.viewers = None if viewers is None else tuple(viewers)
        self.max_cases = max_cases
        # One thread routes (the Kafka runner, or the poll of one agency stream), but an
        # erasure notice may come from another (`forget`): the cache is used under `_lock`.
        self._cases: LRUCache[str, CaseRedaction] = LRUCache(max_cases)
        self._lock = threading.Lock()
        keys.on_erased(self.forget)  # whichever process erased

    def forget(self, case_ids: Sequence[str]) -> None:
        """Drop the cases' state (after an erasure: it holds the person's plaintext)."""
        with self._lock:
            for case_id in case_ids:
                self._cases.pop(case_id, None)

    def route(self, messages: Iterable[InternalMessage]) -> list[AgencyMessage]:
        out: list[AgencyMessage] = []
        for message in messages:
            out.extend(self._route(message))
        return out

    def _route(self, message: InternalMessage) -> list[AgencyMessage]:
        app = self.apps[message.track]
        case = self._case(app, message.case_id, message.version - 1)
        if message.version <= case.version:
            return []  # a duplicate from the relay: already routed
        out: list[AgencyMessage] = []
        if message.version > case.version + 1:
            # Never expected (the relay publishes every version in order); if it happens,
            # the store has the versions we missed: route them first, in order.
            missing = app.recorder.select_events(
                UUID(message.case_id), gt=case.version, lte=message.version - 1
            )
            for stored in missing:
                out += self._feed(app, case, internal_message(app.track, stored, message.notification_id))
        return out + self._feed(app, case, message)

    def _feed(
        self, app: SealedApplication, case: CaseRedaction, message: InternalMessage
    ) -> list[AgencyMessage]:
        views = case.feed(self.keys.scrub(app.record_or_placeholder(message.stored_event())))
        key = self.keys.key_for_case(message.case_id)
        if key is None or not views:
            return []  # an erased person: nothing readable is left to publish
        return agency_messages(views, key, message.notification_id)

    def _case(self, app: SealedApplication, case_id: str, before: int) -> CaseRedaction:
        """The case's state, rebuilt from the store up to version `before` if not in memory."""
        with self._lock:
            case = self._cases.get(case_id)
        if case is not None:
            return case
        case = CaseRedaction(self.viewers)
        for stored in app.recorder.select_events(UUID(case_id), lte=before) if before > 0 else []:
            case.feed(self.keys.scrub(app.record_or_placeholder(stored)))
        with self._lock:
            self._cases[case_id] = case  # the least recently used case goes when full
        return case


class InProcessAgencyFeed:
    """Embedded mode's agency stream: the router run over the notification logs in-process."""

    def __init__(
        self, apps: Sequence[SealedApplication], keys: SubjectKeys, viewers: Sequence[Viewer]
    ) -> None:
        self.apps = list(apps)
        self.viewers = list(viewers)
        self.router = Router({a.track.value: a for a in self.apps}, keys, viewers=self.viewers)
        self.readers = {a.name: NotificationReader(a.recorder) for a in self.apps}
        self.positions = {a.name: 0 for a in self.apps}

    def poll(self, limit: int = 500) -> list[AgencyMessage]:
        out: list[AgencyMessage] = []
        for app in self.apps:
            notifications = self.readers[app.name].read(self.positions[app.name], limit)
            if notifications:
                self.positions[app.name] = notifications[-1].id
                out += self.router.route(internal_message(app.track, n, n.id) for n in notifications)
        return out
