"""Every agency's case view and worklist row of one case, advanced one event at a time.

Pure: no SQL and no Kafka. The projector (services/projector.py) feeds it records in
per-case order and stores what it reports as changed; the Kafka path, the in-process
path and a rebuild all run this same code, so they produce the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.need_to_know import Viewer
from domain.policy import EventRecord, RedactedEvent, Track
from domain.prevention_lifecycle import INITIAL, status_after
from domain.rules import Rules
from domain.values import Agency
from projections.access import CaseRedaction
from projections.case_view import CaseDoc, fold_case, present_case
from projections.prevention_view import fold_prevention_case, present_prevention_case
from projections.worklist import worklist_row


@dataclass
class Change:
    """What one record changed: the rows to rewrite and the views it produced."""

    views: dict[Viewer, list[RedactedEvent]] = field(default_factory=dict)
    docs: set[Viewer] = field(default_factory=set)
    rows: set[Viewer] = field(default_factory=set)
    consents: bool = False


class CaseProjection:
    def __init__(
        self,
        track: Track,
        case_id: str,
        rules: Rules,
        viewers: Iterable[Viewer] | None = None,
        explicit: bool = False,
    ) -> None:
        """`viewers`: whose views to keep (None: every unit ever related, and the auditor;
        each viewer's view depends on the records only, never on another viewer's).
        `explicit`: those viewers have explicit access (related throughout)."""
        self.track, self.case_id, self.rules = track, case_id, rules
        self.access = CaseRedaction(viewers, explicit)
        self.version = 0
        self.status: str | None = None
        self.types: set[str] = set()
        self.folds: dict[Viewer, CaseDoc] = {}

    def apply(self, record: EventRecord) -> Change:
        assert record.version == self.version + 1, "records must come in per-case order"
        change = Change(views=self.access.feed(record))
        old_status, old_types = self.status, set(self.types)
        self.version = record.version
        if self.track is Track.PREVENTION:  # its events carry no status: the lifecycle's definition
            self.status = status_after(self.status or INITIAL, record.type)
        else:
            self.status = record.status if record.status is not None else self.status
        self.types.add(record.type)
        for viewer, views in change.views.items():
            fold = fold_prevention_case if self.track is Track.PREVENTION else fold_case
            self.folds[viewer] = fold(self.case_id, views, self.folds.get(viewer)) or {}
        change.docs = set(change.views)
        # A contract's status and version are shown as of the last event the viewer saw (a
        # status is information: the school never learns of a breach review, docs/domain.md
        # §9). On the preventive track every viewer sees every event from its disclosure on.
        moved = self.track is Track.PREVENTION and (self.status != old_status or self.types != old_types)
        change.rows = set(self.folds) if moved else set(change.docs)
        change.consents = record.type in ("ContractOffered", "ConsentGiven", "ConsentWithdrawn")
        return change

    def present(self, viewer: Viewer, at: datetime | None = None) -> dict[str, Any] | None:
        """The case document served to `viewer` (what `GET .../{id}` returns), its actions
        judged at `at` (`present_case`)."""
        return present(
            self.track,
            self.folds.get(viewer),
            self.version,
            self.status,
            sorted(self.types),
            viewer.agency,
            self.rules,
            at,
        )

    def row(self, viewer: Viewer) -> dict[str, Any]:
        """The viewer's worklist row as stored (`projections/worklist.py`)."""
        doc = self.present(viewer)
        assert doc is not None
        if self.track is Track.PREVENTION:
            return {k: doc.get(k) for k in ("id", "status", "municipality", "categories", "basis")}
        row = worklist_row(doc, self.rules)
        row["categories"] = [c for c in doc["categories"] if c in ("terms", "identity")]
        row["basis"] = {c: g for c, g in doc.get("basis", {}).items() if c in row["categories"]}
        if row["name"] is None:
            row["categories"] = [c for c in row["categories"] if c != "identity"]
            row["basis"].pop("identity", None)
        return row

    def consent_rows(self) -> list[dict[str, Any]]:
        """The consent register of the case, one row per (signatory, scope item) interval."""
        register = self.access.tracker.consents
        if register is None:
            return []
        return [
            {
                "signatory": i.signatory,
                "agency": i.item.agency.value if i.item else None,
                "category": i.item.category.value if i.item else None,
                "consent_id": i.consent_id,
                "booklet_version": i.booklet_version,
                "start": i.start.isoformat(),
                "end": i.end.isoformat() if i.end else None,
            }
            for i in register.intervals
        ]


def present(
    track: Track,
    fold: CaseDoc | None,
    version: int,
    status: str | None,
    types: list[str],
    agency: Agency,
    rules: Rules,
    at: datetime | None = None,
) -> dict[str, Any] | None:
    """A stored fold, as the API serves it (None: unknown case). A prevention case is shown
    with the case's progress; a contract with what its viewer saw (`present_case`)."""
    if not fold:
        return None
    if track is Track.PREVENTION:
        return present_prevention_case(fold, version, status, types, agency)
    return present_case(fold, agency, rules, at)
