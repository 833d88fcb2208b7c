"""Property: nothing the policy forbids ever reaches an agency (quality.md reliability 4).

Random event sequences with random consents, withdrawals and agencies go through the
code every output path runs: the incremental views (`CaseRedaction`), the router's pure
message-building step (sealed, then opened as a client would), the read model's rows
(`CaseProjection`) and the API-shaped case view (`present`). Every field value is a
unique marker whose category and event time are known, so each marker an agency
receives is checked against an oracle written here from docs/domain.md §3 and §4 by hand,
independently of `domain.policy`'s table and of `ConsentRegister`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.need_to_know import AUDITOR, Viewer
from domain.policy import FIELD_CATEGORIES, EventRecord, Track
from domain.rules import DEFAULT_RULES
from domain.values import Agency, Category
from projections.access import RELATION_EVENTS
from projections.read_model import CaseProjection
from services.messages import open_agency_message
from services.router import agency_messages
from tests.unit.test_policy_redaction import SPEC as HAND_SPEC

# docs/domain.md §3 by hand, shared with the cell-by-cell tests; Agg is never in a view or stream.
SPEC = {
    cat: {a: "N" if cell.value == "Agg" else cell.value for a, cell in row.items()}
    for cat, row in HAND_SPEC.items()
}
CONSENTABLE = [(a, c) for c, row in SPEC.items() for a, cell in row.items() if cell == "C"]
# Relations are held still here (every agency's unit "u" is related from the offer on): the
# need-to-know oracle (test_need_to_know_property.py) moves them.
EVENT_TYPES = sorted(
    set(FIELD_CATEGORIES)
    - {"ContractOffered", "CaseDisclosed", "ConsentGiven", "ConsentWithdrawn"}
    - RELATION_EVENTS
)
UNIT = "u"
UNITS = {a.value: [UNIT] for a in Agency if a not in (Agency.AUDITOR, Agency.PROSECUTION)}
VIEWERS = [AUDITOR] + [Viewer(a, UNIT) for a in Agency if a not in (Agency.AUDITOR, Agency.COUNTY)]
STATUSES = ["offered", "consented", "active", "breach_review", "terminated", "completed"]
MARK = re.compile(r"§(\d+)§")
T0 = datetime(2026, 9, 10, 8, tzinfo=UTC)
KEY = os.urandom(32)


@dataclass
class Case:
    """The generated records plus what the oracle needs to judge each marker."""

    guardians: int
    records: list[EventRecord] = field(default_factory=list)
    markers: dict[int, tuple[Category, int]] = field(default_factory=dict)  # -> (category, record)
    consents: list[tuple[datetime, dict[str, set[tuple[Agency, Category]]]]] = field(default_factory=list)

    def mark(self, category: Category) -> str:
        n = len(self.markers)
        self.markers[n] = (category, len(self.records))
        return f"§{n}§"


def _payload(case: Case, type_: str, purpose: str) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name, category in FIELD_CATEGORIES[type_].items():
        marker = case.mark(category)
        payload[name] = {
            "trinn": 2,
            "from_trinn": 1,
            "to_trinn": 3,
            "test_id": "t1",
            "breach_id": "b1",
            "offer_deadline": "2026-10-01",
            "meeting_at": "2026-10-10T10:00:00+02:00",
            "purpose": purpose,
            "plan": {"trinn": 2, "end_date": "2027-04-10", "note": marker},
        }.get(name, marker)
    return payload


def _record(
    case: Case, type_: str, payload: dict[str, Any], status: str, track: Track = Track.CONTRACT
) -> EventRecord:
    at = T0 + timedelta(minutes=7 * len(case.records))
    return EventRecord(
        track,
        "case-1",
        len(case.records) + 1,
        type_,
        at,
        "user",
        Agency.KONFLIKTRAD,
        payload,
        status if track is Track.CONTRACT else None,
    )


signatories = st.integers(0, 2)
scopes = st.lists(st.sampled_from(CONSENTABLE), max_size=8, unique=True)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("consent"), signatories, scopes),
        st.tuples(st.just("withdraw"), signatories, st.none() | scopes),
        st.tuples(st.just("event"), st.sampled_from(EVENT_TYPES), st.sampled_from(["follow_up", "sanction"])),
    ),
    min_size=1,
    max_size=14,
)


@st.composite
def contract_cases(draw: st.DrawFn) -> Case:
    case = Case(guardians=draw(st.integers(0, 2)))
    signers = ["youth"] + [f"guardian:{i}" for i in range(case.guardians)]
    state: dict[str, set[tuple[Agency, Category]]] = {s: set() for s in signers}
    offer = _payload(case, "ContractOffered", "follow_up")
    offer["youth"] = {"name": offer["youth"], "birth_date": "2010-03-01"}  # under 18 throughout
    offer["guardians"] = [{"name": case.mark(Category.IDENTITY)} for _ in range(case.guardians)]
    offer |= {"units": UNITS, "offence_district": UNIT, "gp": UNIT, "school": UNIT}
    case.records.append(_record(case, "ContractOffered", offer, "offered"))
    case.consents.append((case.records[-1].at, {s: set(v) for s, v in state.items()}))
    for kind, a, b in draw(steps):
        status = draw(st.sampled_from(STATUSES))
        if kind == "event":
            record = _record(case, a, _payload(case, a, b), status)
        else:
            signer = signers[a % len(signers)]
            scope = [{"agency": ag.value, "category": c.value} for ag, c in b] if b is not None else None
            payload = {"signatory": signer, "scope": scope}
            if kind == "consent":
                state[signer] |= set(b)
                payload |= {
                    "scope": scope,
                    "booklet_version": case.mark(Category.IDENTITY),
                    "consent_id": f"c{len(case.records)}",
                }
            else:
                state[signer] = set() if b is None else state[signer] - set(b)
            record = _record(
                case, "ConsentGiven" if kind == "consent" else "ConsentWithdrawn", payload, status
            )
        case.records.append(record)
        case.consents.append((record.at, {s: set(v) for s, v in state.items()}))
    return case


def _may(case: Case, agency: Agency, category: Category, record: EventRecord, at: datetime) -> bool:
    """The oracle: may `agency` see a field of `category` of `record`, judged at time `at`?"""
    if agency is Agency.AUDITOR:
        return True
    if category is Category.LAB_TEST and record.payload.get("purpose") == "sanction":
        if agency is Agency.PROSECUTION:
            return True  # footnote 1
        if agency is Agency.GP:
            return False  # never in the GP journal
    cell = SPEC[category][agency]
    if cell != "C":
        return cell == "A"
    consents = [state for when, state in case.consents if when <= at][-1]
    return all((agency, category) in items for items in consents.values())


def _may_ever(case: Case, agency: Agency, category: Category, index: int) -> bool:
    """Visible at the event's time, or (for the offer) disclosed by a later consent."""
    record = case.records[index]
    if _may(case, agency, category, record, record.at):
        return True
    later = [r.at for r in case.records if r.type == "ConsentGiven"]
    return record.type == "ContractOffered" and any(_may(case, agency, category, record, t) for t in later)


def _markers(value: Any) -> list[int]:
    return [int(m) for m in MARK.findall(json.dumps(value, default=str, ensure_ascii=False))]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contract_cases())
def test_no_output_path_carries_a_category_the_policy_forbids_at_that_time(case: Case) -> None:
    projection = CaseProjection(Track.CONTRACT, "case-1", DEFAULT_RULES)
    seen = 0
    for record in case.records:
        change = projection.apply(record)
        for viewer, views in change.views.items():
            agency = viewer.agency
            for view in views:  # the view and the agency message, judged at the view's time
                for m in _markers(view.fields):
                    seen += 1
                    category, index = case.markers[m]
                    assert _may(case, agency, category, case.records[index], view.at), (agency, view)
            for message in agency_messages({viewer: views}, KEY, record.version):
                opened = open_agency_message(message, KEY)
                envelope = {k: v for k, v in opened.items() if k not in ("fields", "basis", "at")}
                assert not _markers(envelope), "no plaintext in the envelope"
                assert opened["agency"] == agency.value and opened["unit"] == viewer.unit
                assert not MARK.search(message.sealed.hex())
                carried = {FIELD_CATEGORIES[message.type][f].value for f in opened["fields"]}
                assert set(message.categories) == ({"all"} if agency is Agency.AUDITOR else carried)
    for viewer in VIEWERS:
        doc = projection.present(viewer)
        outputs = [doc, projection.row(viewer)] if doc is not None else []
        for m in _markers(outputs):
            category, index = case.markers[m]
            assert _may_ever(case, viewer.agency, category, index), (viewer, category, case.records[index])
    assert seen, "the markers are found where they are"
    for viewer in VIEWERS:  # a projection of one unit (services/live_cases.py) agrees
        alone = CaseProjection(Track.CONTRACT, "case-1", DEFAULT_RULES, (viewer,))
        for record in case.records:
            alone.apply(record)
        assert alone.present(viewer) == projection.present(viewer), viewer


PREVENTION_TYPES = [
    "ConversationOffered",
    "ConversationHeld",
    "ConversationDeclined",
    "CounsellingOffered",
    "CounsellingAccepted",
    "CounsellingDeclined",
    "ConcernReportedToChildWelfare",
    "PreventionCaseClosed",
]
DISCLOSED_BY = {
    Agency.MUNICIPAL_HEALTH: "CounsellingAccepted",
    Agency.CHILD_WELFARE: "ConcernReportedToChildWelfare",
}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(PREVENTION_TYPES), max_size=10))
def test_the_preventive_track_reaches_only_the_agencies_it_was_disclosed_to(types: list[str]) -> None:
    case = Case(guardians=0)
    records = []
    for type_ in ["ConcernRegistered", *types]:
        payload = {"person": {"name": case.mark(Category.IDENTITY)}, "note": case.mark(Category.NOTES)}
        if type_ == "ConcernRegistered":
            payload["units"] = UNITS
        records.append(_record(case, type_, payload, "", Track.PREVENTION))
        case.records.append(records[-1])
    projection = CaseProjection(Track.PREVENTION, "case-1", DEFAULT_RULES)
    for record in records:
        change = projection.apply(record)
        assert Agency.PROSECUTION not in {v.agency for v in change.views}, "never the prosecution"
        for viewer, views in change.views.items():
            agency = viewer.agency
            since = [r.at for r in records if r.type == DISCLOSED_BY.get(agency)]
            always = agency in (Agency.POLICE, Agency.AUDITOR)
            assert always or bool(since and record.at >= since[0]), (agency, record.type)
            for message in agency_messages({viewer: views}, KEY, record.version):
                assert message.agency != Agency.PROSECUTION.value
                assert open_agency_message(message, KEY)["fields"] == dict(record.payload)
    assert projection.present(Viewer(Agency.PROSECUTION, UNIT)) is None
    for agency in (Agency.SCHOOL, Agency.GP, Agency.KONFLIKTRAD):
        assert projection.present(Viewer(agency, UNIT)) is None
