"""Replaying a case's records into what each agency may see of them.

The consent register (contracts) and the disclosures (prevention) are rebuilt from the
records themselves, so a live projection, a rebuild and an auditor's time travel all
evaluate each event against the consents as they stood at that event's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime

from domain.consent import ConsentRegister
from domain.policy import PREVENTION_DISCLOSURES, AgencyView, Disclosures, EventRecord, Track, redact
from domain.values import Agency, Category, ScopeItem


def _scope(items: Iterable[dict[str, str]] | None) -> list[ScopeItem] | None:
    if items is None:
        return None
    return [ScopeItem(Agency(i["agency"]), Category(i["category"])) for i in items]


class AccessTracker:
    """Consents or disclosures of one case, fed record by record, in order."""

    def __init__(self) -> None:
        self.consents: ConsentRegister | None = None
        self.disclosures = Disclosures()

    def feed(self, record: EventRecord) -> None:
        p = record.payload
        if record.type == "ContractOffered":
            birth = date.fromisoformat(p["youth"]["birth_date"])
            self.consents = ConsentRegister(birth, len(p["guardians"]))
        elif record.type == "ConsentGiven" and self.consents:
            self.consents.give(p["signatory"], _scope(p["scope"]) or [], p["consent_id"],
                               p["booklet_version"], record.at)  # fmt: skip
        elif record.type == "ConsentWithdrawn" and self.consents:
            self.consents.withdraw(p["signatory"], _scope(p["scope"]), record.at)
        elif record.type in PREVENTION_DISCLOSURES:
            self.disclosures.since.setdefault(PREVENTION_DISCLOSURES[record.type], record.at)

    def context(self, record: EventRecord) -> ConsentRegister | Disclosures | None:
        return self.disclosures if record.track is Track.PREVENTION else self.consents


def views_for(
    records: Iterable[EventRecord], agency: Agency, as_of: datetime | None = None
) -> Iterator[AgencyView]:
    """Every view `agency` had of a case's records (up to `as_of`), in order.

    Consent is judged at each event's time, so the offer itself (recorded before anyone
    could consent) would stay hidden from a consent-only agency for ever. A consent that
    opens a category of the offer therefore discloses the offer's data of that category
    at the consent's time, through the same `redact`, as a view of type `CaseDisclosed`.
    """
    tracker = AccessTracker()
    offered: EventRecord | None = None
    disclosed: set[str] = set()
    for record in records:
        if as_of is not None and record.at > as_of:
            break
        tracker.feed(record)
        view = redact(record, agency, tracker.context(record))
        if record.type == "ContractOffered":
            offered = record
            disclosed = set(view.fields) if view else set()
        if view is not None:
            yield view
        if record.type == "ConsentGiven" and offered is not None:
            late = redact(replace(offered, type="CaseDisclosed", at=record.at,
                                  version=record.version, status=record.status),
                          agency, tracker.context(record))  # fmt: skip
            if late is not None and set(late.fields) - disclosed:
                disclosed |= set(late.fields)
                yield late
