"""Property: no unit learns of a case, or of an event, it is not related to (quality.md
reliability 10, docs/domain.md §9).

Random contracts — municipalities, moves, GPs, schools, team members, consents and
events — go through the code every output path runs (`CaseProjection`: views, case
documents, worklist rows; the router's messages), for random users (agency × unit). An
oracle written here, independently of `domain/need_to_know.py`, replays the same steps
in plain terms ("where does the youth live at time t, who is the GP, who is on the
team") and judges every marker a unit receives, the version and status it is shown, and
that a unit never related gets nothing at all. The category-and-consent half of the
judgement is the oracle of test_redaction_property.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.municipalities import DEFAULT_REGISTER
from domain.need_to_know import AUDITOR, Viewer
from domain.policy import EventRecord, Track
from domain.rules import DEFAULT_RULES
from domain.values import Agency, Category
from projections.read_model import CaseProjection
from services.messages import open_agency_message
from services.router import agency_messages
from tests.unit.test_redaction_property import (
    CONSENTABLE,
    EVENT_TYPES,
    KEY,
    STATUSES,
    Case,
    _markers,
    _may,
    _payload,
    _record,
)

MUNICIPALITIES = ["5001", "5025", "0301", "4601"]  # two in Trøndelag, Oslo, Bergen
GPS = ["1111111", "2222222"]
SCHOOLS = ["974760673", "923609016"]
DISTRICTS = ["trondelag", "oslo", "vest"]
# Who a municipality relates to, by the register (the oracle reads the data, not the code).
PLACE = {
    m: {
        Agency.POLICE: DEFAULT_REGISTER.municipalities[m].police_district,
        Agency.KONFLIKTRAD: DEFAULT_REGISTER.municipalities[m].konfliktrad_office,
        Agency.MUNICIPAL_HEALTH: m,
        Agency.CHILD_WELFARE: m,
    }
    for m in MUNICIPALITIES
}


def _units(municipalities: list[str]) -> dict[str, list[str]]:
    """What an event records: the units its municipalities belong to."""
    out: dict[str, list[str]] = {}
    for m in municipalities:
        for agency, unit in PLACE[m].items():
            if unit not in out.setdefault(agency.value, []):
                out[agency.value].append(unit)
    return out


USERS = [
    Viewer(agency, unit)
    for agency, units in {
        Agency.PROSECUTION: DISTRICTS,
        Agency.POLICE: DISTRICTS,
        Agency.KONFLIKTRAD: sorted({p[Agency.KONFLIKTRAD] for p in PLACE.values()}),
        Agency.MUNICIPAL_HEALTH: MUNICIPALITIES,
        Agency.CHILD_WELFARE: MUNICIPALITIES,
        Agency.GP: GPS,
        Agency.SCHOOL: SCHOOLS,
    }.items()
    for unit in units
]


@dataclass
class Story:
    """The case's relations as plain facts in time, for the oracle."""

    district: str
    homes: list[tuple[datetime, list[str]]] = field(default_factory=list)  # (from, municipalities)
    gps: list[tuple[datetime, str]] = field(default_factory=list)
    schools: list[tuple[datetime, str]] = field(default_factory=list)
    team: list[tuple[str, Viewer, datetime, datetime | None]] = field(default_factory=list)


def _latest(changes: list[tuple[datetime, Any]], at: datetime) -> Any:
    current = [value for since, value in changes if since <= at]
    return current[-1] if current else None


def related(story: Story, viewer: Viewer, at: datetime) -> bool:
    """The oracle: is `viewer` related to the case at `at`? (docs/domain.md §9 by hand)"""
    if viewer.agency is Agency.AUDITOR:
        return True
    if viewer.agency in (Agency.PROSECUTION, Agency.POLICE) and viewer.unit == story.district:
        return True
    homes = _latest(story.homes, at) or []
    if any(PLACE[m].get(viewer.agency) == viewer.unit for m in homes):
        return True
    if viewer.agency is Agency.GP and _latest(story.gps, at) == viewer.unit:
        return True
    if viewer.agency is Agency.SCHOOL and _latest(story.schools, at) == viewer.unit:
        return True
    return any(v == viewer and start <= at and (end is None or at < end) for _, v, start, end in story.team)


RELATION_STEPS = st.one_of(
    st.tuples(st.just("move"), st.sampled_from(MUNICIPALITIES), st.sampled_from(MUNICIPALITIES)),
    st.tuples(st.just("gp"), st.sampled_from(GPS), st.none()),
    st.tuples(st.just("school"), st.sampled_from(SCHOOLS), st.none()),
    st.tuples(st.just("join"), st.sampled_from(USERS), st.none()),
    st.tuples(st.just("leave"), st.integers(0, 5), st.none()),
)
OTHER_STEPS = st.one_of(
    # Signer 2: both at once, so consent-only cells open often enough to be judged.
    st.tuples(st.just("consent"), st.integers(0, 2), st.lists(st.sampled_from(CONSENTABLE), max_size=12)),
    st.tuples(st.just("withdraw"), st.integers(0, 1), st.none()),
    # A guardian added later changes who must consent: judged by the consent tests, not here.
    st.tuples(
        st.just("event"),
        st.sampled_from([t for t in EVENT_TYPES if t != "GuardianAdded"]),
        st.sampled_from(["follow_up", "sanction"]),
    ),
)


@st.composite
def stories(draw: st.DrawFn) -> tuple[Case, Story]:
    case = Case(guardians=1)
    signers = ["youth", "guardian:0"]
    state: dict[str, set[tuple[Agency, Category]]] = {s: set() for s in signers}
    home = [draw(st.sampled_from(MUNICIPALITIES)), draw(st.sampled_from(MUNICIPALITIES))]
    story = Story(draw(st.sampled_from(DISTRICTS)))
    offer = _payload(case, "ContractOffered", "follow_up")
    offer["youth"] = {"name": offer["youth"], "birth_date": "2010-03-01"}
    offer["guardians"] = [{"name": case.mark(Category.IDENTITY)}]
    offer |= {"units": _units(home), "offence_district": story.district, "gp": None, "school": None}
    gp, school = draw(st.sampled_from([None, *GPS])), draw(st.sampled_from([None, *SCHOOLS]))
    offer |= {"gp": gp, "school": school}
    case.records.append(_record(case, "ContractOffered", offer, "offered"))
    at = case.records[-1].at
    story.homes.append((at, home))
    if gp:
        story.gps.append((at, gp))
    if school:
        story.schools.append((at, school))
    case.consents.append((at, {s: set(v) for s, v in state.items()}))
    members: list[str] = []
    for kind, a, b in draw(st.lists(st.one_of(RELATION_STEPS, OTHER_STEPS), min_size=1, max_size=16)):
        status = draw(st.sampled_from(STATUSES))
        payload: dict[str, Any]
        if kind == "move":
            type_, payload = "ResidenceChanged", {"municipality": a, "registered_municipality": b}
            payload |= {"units": _units([a, b]), "register_version": "2024-1"}
        elif kind == "gp":
            type_, payload = "GpRegistered", {"hpr": a}
        elif kind == "school":
            type_, payload = "SchoolRegistered", {"organisation_number": a}
        elif kind == "join":
            member_id = f"m{len(case.records) + 1}"
            type_ = "TeamMemberAdded"
            payload = {"member_id": member_id, "agency": a.agency.value, "unit": a.unit, "sub": None}
        elif kind == "leave":
            if not members:
                continue
            type_, payload = "TeamMemberRemoved", {"member_id": members[a % len(members)]}
        elif kind == "event":
            type_, payload = a, _payload(case, a, b)
        else:
            for signer in signers if a == 2 else [signers[a % 2]]:
                scope = [{"agency": ag.value, "category": c.value} for ag, c in b] if b is not None else None
                if kind == "consent":
                    state[signer] |= set(b)
                    type_ = "ConsentGiven"
                    payload = {
                        "signatory": signer,
                        "scope": scope,
                        "booklet_version": "b",
                        "consent_id": f"c{a}",
                    }
                else:
                    state[signer] = set()
                    type_, payload = "ConsentWithdrawn", {"signatory": signer, "scope": None}
                case.records.append(_record(case, type_, payload, status))
                case.consents.append((case.records[-1].at, {s: set(v) for s, v in state.items()}))
            continue
        record = _record(case, type_, payload, status)
        case.records.append(record)
        at = record.at
        case.consents.append((at, {s: set(v) for s, v in state.items()}))
        if kind == "move":
            story.homes.append((at, [a, b]))
        elif kind == "gp":
            story.gps.append((at, a))
        elif kind == "school":
            story.schools.append((at, a))
        elif kind == "join":
            members.append(payload["member_id"])
            story.team.append((payload["member_id"], a, at, None))
        elif kind == "leave":
            story.team = [
                (m, v, s, at if m == payload["member_id"] and e is None else e) for m, v, s, e in story.team
            ]
            members.remove(payload["member_id"])
    return case, story


def _may_see(case: Case, story: Story, viewer: Viewer, marker: int, at: datetime) -> bool:
    """May `viewer` hold this marker from a view shown at `at`? Its event's own time, or —
    for the offer's data, and at a hand-over the plan in force — the time a consent or a
    relation disclosed it; and only while related then."""
    category, index = case.markers[marker]
    record: EventRecord = case.records[index]
    if not related(story, viewer, at):
        return False
    if at == record.at:
        return _may(case, viewer.agency, category, record, at)
    disclosed = record.type == "ContractOffered" or (at > record.at and "plan" in record.payload)
    return disclosed and _may(case, viewer.agency, category, record, at)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stories())
def test_no_unit_ever_receives_what_it_is_not_related_to(story: tuple[Case, Story]) -> None:
    case, plain = story
    users = USERS  # every unit of the stories' places, related or not
    projection = CaseProjection(Track.CONTRACT, "case-1", DEFAULT_RULES)
    alone = {v: CaseProjection(Track.CONTRACT, "case-1", DEFAULT_RULES, (v,)) for v in users}
    received: dict[Viewer, list[int]] = {v: [] for v in users}
    for record in case.records:
        change = projection.apply(record)
        for viewer in alone:
            alone[viewer].apply(record)
        for viewer, views in change.views.items():
            for view in views:
                assert related(plain, viewer, view.at), (viewer, view.type, "shown while unrelated")
                for m in _markers(view.fields):
                    assert _may_see(case, plain, viewer, m, view.at), (viewer, view.type, case.markers[m])
                if viewer in received:
                    received[viewer].append(view.version)
            for message in agency_messages({viewer: views}, KEY, record.version):
                opened = open_agency_message(message, KEY)
                assert (opened["agency"], opened["unit"]) == (viewer.agency.value, viewer.unit)
    for viewer in users:  # and nothing it is owed is withheld: each event it may see, it got
        for record in case.records:
            owed = [
                m
                for m, (category, index) in case.markers.items()
                if index == record.version - 1 and _may_see(case, plain, viewer, m, record.at)
            ]
            assert not owed or record.version in received[viewer], (viewer, record.type)
    for viewer in users:
        doc, own = projection.present(viewer), alone[viewer].present(viewer)
        assert doc == own, "the read model and a command's view of one unit agree"
        ever = any(related(plain, viewer, r.at) for r in case.records)
        if not ever:
            assert doc is None and viewer not in projection.folds, (viewer, "never related, yet shown")
            continue
        if doc is None:
            assert not received[viewer]
            continue
        # The version and status shown are those of the last event the unit saw.
        assert doc["version"] == max(received[viewer])
        shown = case.records[doc["version"] - 1]
        assert doc["status"] == shown.status
        row = projection.row(viewer)
        assert row["version"] == doc["version"] and row["status"] == doc["status"]
    auditor = projection.present(AUDITOR)
    assert auditor is not None and auditor["version"] == len(case.records)
