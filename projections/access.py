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

from domain.consent import ConsentRegister
from domain.policy import (
    PREVENTION_DISCLOSURES,
    Disclosures,
    EventRecord,
    RedactedEvent,
    Track,
    policy_in_force,
    redact,
)
from domain.values import Agency, Category, ScopeItem


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
    """What each of `agencies` sees of one case, fed one record at a time, in order.

    Consent is judged at each event's time, so the offer itself (recorded before anyone
    could consent) would stay hidden from a consent-only agency for ever. A consent that
    opens a category of the offer therefore discloses the offer's data of that category
    at the consent's time, through the same `redact`, as a view of type `CaseDisclosed`.
    """

    def __init__(self, agencies: Iterable[Agency]) -> None:
        self.agencies = tuple(agencies)
        self.tracker = AccessTracker()
        self.version = 0
        self._offered: EventRecord | None = None
        self._disclosed: dict[Agency, set[str]] = {a: set() for a in self.agencies}

    def feed(self, record: EventRecord) -> dict[Agency, list[RedactedEvent]]:
        """The new views each agency gets from `record` (agencies that get none are absent)."""
        self.tracker.feed(record)
        self.version = record.version
        context = self.tracker.context(record)
        policy = policy_in_force(record.at)  # once per event, not once per agency
        out: dict[Agency, list[RedactedEvent]] = {}
        for agency in self.agencies:
            view = redact(record, agency, context, policy)
            if record.type == "ContractOffered" and not is_erased(record):
                self._disclosed[agency] = set(view.fields) if view else set()
            if view is not None:
                out.setdefault(agency, []).append(view)
        if record.type == "ContractOffered" and not is_erased(record):
            self._offered = record
        if record.type == "ConsentGiven" and self._offered is not None:
            late = replace(
                self._offered,
                type="CaseDisclosed",
                at=record.at,
                version=record.version,
                status=record.status,
            )
            for agency in self.agencies:
                view = redact(late, agency, context, policy)
                if view is not None and set(view.fields) - self._disclosed[agency]:
                    self._disclosed[agency] |= set(view.fields)
                    out.setdefault(agency, []).append(view)
        return out


def redacted_events(
    records: Iterable[EventRecord], agency: Agency, as_of: datetime | None = None
) -> Iterator[RedactedEvent]:
    """Every view `agency` had of a case's records (up to `as_of`), in order."""
    case = CaseRedaction([agency])
    for record in records:
        if as_of is not None and record.at > as_of:
            break
        yield from case.feed(record).get(agency, [])
