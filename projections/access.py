"""Replaying a case's records into what each agency may see of them.

The consent register (contracts) and the disclosures (prevention) are rebuilt from the
records themselves, so a live projection, a rebuild, the Kafka agency topics and an
auditor's time travel all evaluate each event against the consents as they stood at
that event's time. `CaseRedaction` is the one incremental implementation; `redacted_events` is
the same thing over a finished list of records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from domain.consent import ConsentRegister
from domain.need_to_know import AUDITOR, CaseRelations, Viewer
from domain.policy import (
    PREVENTION_DISCLOSURES,
    Disclosures,
    EventRecord,
    Policy,
    RedactedEvent,
    Track,
    policy_in_force,
    redact,
)
from domain.values import Agency, Category, ScopeItem

# The plan handed over to a unit that joins: only as the terms events carry it (a plan a
# breach decision set is in the breach category, docs/domain.md §3).
PLAN_EVENTS = frozenset({"PlanAgreed", "PlanAmended"})
# The events that change whom a case relates to (`CaseRelations.feed`).
RELATION_EVENTS = frozenset(
    {"ResidenceChanged", "GpRegistered", "SchoolRegistered", "TeamMemberAdded", "TeamMemberRemoved"}
)


def _scope(items: Iterable[dict[str, str]] | None) -> list[ScopeItem] | None:
    if items is None:
        return None
    return [ScopeItem(Agency(i["agency"]), Category(i["category"])) for i in items]


def is_erased(record: EventRecord) -> bool:
    """A placeholder for an event whose person was erased: it carries nothing to share."""
    return bool(record.payload.get("erased")) and record.actor == "[erased]"


class AccessTracker:
    """Consents or disclosures of one case, fed record by record, in order."""

    def __init__(self) -> None:
        self.consents: ConsentRegister | None = None
        self.disclosures = Disclosures()

    def feed(self, record: EventRecord) -> None:
        if is_erased(record):
            return  # nothing readable: the consents it held are gone with the key
        p = record.payload
        if record.type == "ContractOffered":
            birth = date.fromisoformat(p["youth"]["birth_date"])
            self.consents = ConsentRegister(birth, len(p["guardians"]))
        elif record.type == "ConsentGiven" and self.consents:
            self.consents.give(
                p["signatory"], _scope(p["scope"]) or [], p["consent_id"], p["booklet_version"], record.at
            )
        elif record.type == "ConsentWithdrawn" and self.consents:
            self.consents.withdraw(p["signatory"], _scope(p["scope"]), record.at)
        elif record.type == "GuardianAdded" and self.consents:
            self.consents.add_guardian(record.at)  # a signatory from then on
        elif record.type in PREVENTION_DISCLOSURES:
            self.disclosures.since.setdefault(PREVENTION_DISCLOSURES[record.type], record.at)

    def context(self, record: EventRecord) -> ConsentRegister | Disclosures | None:
        return self.disclosures if record.track is Track.PREVENTION else self.consents


class CaseRedaction:
    """What each related unit sees of one case, fed one record at a time, in order.

    Two things are judged at each event's time: the consents (`AccessTracker`) and the
    unit's relation to the case (`CaseRelations`, docs/domain.md §9). The policy decides
    per agency; the relation decides which of the agency's units get that view.

    Consent and relations are judged at each event's time, so the offer itself (recorded
    before anyone could consent) would stay hidden from a consent-only agency for ever,
    and a unit related later (after a move, a new GP) would never learn whose case it is.
    A consent that opens a category of the offer, and a relation that begins, therefore
    disclose the offer's data (a relation: and the plan in force) at that time, through the same
    `redact`, as a view of type `CaseDisclosed`.

    `viewers`: whose views to keep (None: every viewer ever related, and the auditor).
    `explicit`: those viewers are treated as related throughout (a granted explicit
    access, docs/domain.md §9).
    """

    def __init__(self, viewers: Iterable[Viewer] | None = None, explicit: bool = False) -> None:
        self.viewers = None if viewers is None else frozenset(viewers)
        self.explicit = explicit
        self.tracker = AccessTracker()
        self.relations = CaseRelations()
        self.version = 0
        self._offered: EventRecord | None = None
        self._plan: Any = None
        self._disclosed: dict[Viewer, set[str]] = {}
        self._related_to: frozenset[Viewer] | None = None
        self._related_sorted: tuple[Viewer, ...] = ()

    def _related(self, at: datetime) -> tuple[Viewer, ...]:
        if self.explicit and self.viewers is not None:
            return tuple(sorted(self.viewers))
        current = self.relations.viewers_at(at)
        if current is not self._related_to:  # the same object while no relation changed
            related = current | {AUDITOR}
            if self.viewers is not None:
                related &= self.viewers
            self._related_to = current
            self._related_sorted = tuple(sorted(v for v in related if v.agency is not Agency.COUNTY))
        return self._related_sorted  # the county: aggregates only

    def feed(self, record: EventRecord) -> dict[Viewer, list[RedactedEvent]]:
        """The new views each viewer gets from `record` (viewers that get none are absent)."""
        self.tracker.feed(record)
        joined = [] if is_erased(record) else self.relations.feed(record)
        self.version = record.version
        context = self.tracker.context(record)
        policy = policy_in_force(record.at)  # once per event, not once per agency
        by_agency: dict[Agency, RedactedEvent | None] = {}
        out: dict[Viewer, list[RedactedEvent]] = {}
        offered = record.type == "ContractOffered" and not is_erased(record)
        related = self._related(record.at)
        late = self._late(record)
        if late is not None and record.type in RELATION_EVENTS:
            # A unit that joins is handed the case first, then shown the event that joined it.
            self._disclose(late, [v for v in joined if v in related], context, policy, out)
        for viewer in related:
            if viewer.agency not in by_agency:
                by_agency[viewer.agency] = redact(record, viewer.agency, context, policy)
            view = by_agency[viewer.agency]
            if offered:
                self._disclosed[viewer] = set(view.fields) if view else set()
            if view is not None:
                out.setdefault(viewer, []).append(_for(view, viewer))
        if offered:
            self._offered = record
        elif record.type in PLAN_EVENTS and record.payload.get("plan") and not is_erased(record):
            self._plan = record.payload["plan"]
        if late is not None and record.type == "ConsentGiven":
            self._disclose(late, related, context, policy, out, only_new=True)
        return out

    def _disclose(
        self,
        late: EventRecord,
        viewers: Iterable[Viewer],
        context: ConsentRegister | Disclosures | None,
        policy: Policy,
        out: dict[Viewer, list[RedactedEvent]],
        only_new: bool = False,
    ) -> None:
        """The offer as `late` discloses it, to each of `viewers` that may see some of it
        (`only_new`: only to those it shows a field they had not seen)."""
        for viewer in viewers:
            view = redact(late, viewer.agency, context, policy)
            known = self._disclosed.setdefault(viewer, set())
            if view is not None and (not only_new or set(view.fields) - known):
                known |= set(view.fields)
                out.setdefault(viewer, []).append(_for(view, viewer))

    def _late(self, record: EventRecord) -> EventRecord | None:
        """The offer as disclosed at `record`, when `record` may disclose it."""
        if self._offered is None or record.type == "ContractOffered":
            return None
        if record.type != "ConsentGiven" and record.type not in RELATION_EVENTS:
            return None
        payload = dict(self._offered.payload)
        if self._plan is not None and record.type in RELATION_EVENTS:
            payload["plan"] = self._plan  # a unit taking over needs the plan it is to follow
        return replace(
            self._offered,
            type="CaseDisclosed",
            at=record.at,
            version=record.version,
            status=record.status,
            payload=payload,
        )


def _for(view: RedactedEvent, viewer: Viewer) -> RedactedEvent:
    # `vars` and a new instance, not `dataclasses.replace` (twice the cost): about two
    # copies per event projected.
    return view if viewer.unit is None else RedactedEvent(**{**vars(view), "unit": viewer.unit})


def redacted_events(
    records: Iterable[EventRecord],
    viewer: Viewer,
    as_of: datetime | None = None,
    explicit: bool = False,
) -> Iterator[RedactedEvent]:
    """Every view `viewer` had of a case's records (up to `as_of`), in order."""
    case = CaseRedaction([viewer], explicit=explicit)
    for record in records:
        if as_of is not None and record.at > as_of:
            break
        yield from case.feed(record).get(viewer, [])
