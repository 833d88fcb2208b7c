"""The preventive track through the policy gate (docs/domain.md §3, §6): a separate world."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.consent import ConsentRegister
from domain.policy import PREVENTION_DISCLOSURES, Disclosures, EventRecord, Track, redact
from domain.values import Agency, Category, ScopeItem
from tests.unit.contract_factory import T0, YOUTH_BIRTH

PERSON = {"name": "Ola Nordmann", "national_id": "01020950001", "birth_date": "2009-02-01"}
ACCEPTED = [
    (
        "ConcernRegistered",
        {"person": PERSON, "source": "charged_buyer", "municipality": "5001", "summary": "bought cannabis"},
    ),
    ("ConversationOffered", {"note": "by phone"}),
    ("ConversationHeld", {"held_at": "2026-09-12T10:00:00+02:00", "notes": "worried"}),
    ("CounsellingOffered", {"note": "weekly"}),
    ("CounsellingAccepted", {"note": "yes", "person": PERSON}),
    ("ConcernReportedToChildWelfare", {"reason": "home situation", "person": PERSON}),
    ("PreventionCaseClosed", {"reason": "counselling ongoing"}),
]
DECLINED = [
    *ACCEPTED[:4],
    ("CounsellingDeclined", {"note": "no"}),
    ("PreventionCaseClosed", {"reason": "nothing more"}),
]
NEVER = [Agency.PROSECUTION, Agency.KONFLIKTRAD, Agency.GP, Agency.SCHOOL, Agency.COUNTY]


def records(timeline: list[tuple[str, dict[str, Any]]]) -> list[EventRecord]:
    return [
        EventRecord(
            track=Track.PREVENTION,
            case_id="p-1",
            version=i + 1,
            type=event_type,
            at=T0 + timedelta(days=i),
            actor="police-1",
            actor_agency=Agency.POLICE,
            payload=payload,
        )
        for i, (event_type, payload) in enumerate(timeline)
    ]


def disclosures(recs: list[EventRecord]) -> Disclosures:
    """As the projection builds them: the first disclosing event of each agency."""
    found = Disclosures()
    for r in recs:
        if r.type in PREVENTION_DISCLOSURES:
            found.since.setdefault(PREVENTION_DISCLOSURES[r.type], r.at)
    return found


def visible(agency: Agency, timeline: list[tuple[str, dict[str, Any]]]) -> list[str]:
    recs = records(timeline)
    context = disclosures(recs)
    return [r.type for r in recs if redact(r, agency, context) is not None]


def test_no_disclosing_event_ever_names_the_prosecution() -> None:
    assert Agency.PROSECUTION not in PREVENTION_DISCLOSURES.values()
    assert PREVENTION_DISCLOSURES == {
        "CounsellingAccepted": Agency.MUNICIPAL_HEALTH,
        "ConcernReportedToChildWelfare": Agency.CHILD_WELFARE,
    }


@pytest.mark.parametrize("agency", NEVER, ids=lambda a: a.value)
@pytest.mark.parametrize("timeline", [ACCEPTED, DECLINED], ids=["accepted", "declined"])
def test_a_prevention_event_is_never_visible_to_the_prosecution_or_uninvolved_agencies(
    agency: Agency, timeline: list[tuple[str, dict[str, Any]]]
) -> None:
    assert visible(agency, timeline) == []
    assert [redact(r, agency, None) for r in records(timeline)] == [None] * len(timeline)


@pytest.mark.parametrize("timeline", [ACCEPTED, DECLINED], ids=["accepted", "declined"])
def test_the_police_always_see_the_whole_prevention_case(
    timeline: list[tuple[str, dict[str, Any]]],
) -> None:
    for r in records(timeline):
        view = redact(r, Agency.POLICE, None)
        assert view is not None and view.fields == r.payload
        assert view.basis == {"prevention": "role"}


def test_the_auditor_sees_the_whole_prevention_case() -> None:
    for r in records(ACCEPTED):
        view = redact(r, Agency.AUDITOR, None)
        assert view is not None and view.fields == r.payload


def test_municipal_health_sees_the_case_from_the_accepted_counselling_on() -> None:
    assert visible(Agency.MUNICIPAL_HEALTH, ACCEPTED) == [
        "CounsellingAccepted",
        "ConcernReportedToChildWelfare",
        "PreventionCaseClosed",
    ]


def test_municipal_health_sees_nothing_when_counselling_was_declined() -> None:
    assert visible(Agency.MUNICIPAL_HEALTH, DECLINED) == []


def test_child_welfare_sees_the_case_from_the_report_to_it_on() -> None:
    assert visible(Agency.CHILD_WELFARE, ACCEPTED) == [
        "ConcernReportedToChildWelfare",
        "PreventionCaseClosed",
    ]
    assert visible(Agency.CHILD_WELFARE, DECLINED) == []


def test_a_disclosure_is_marked_as_the_basis_of_the_view() -> None:
    recs = records(ACCEPTED)
    view = redact(recs[4], Agency.MUNICIPAL_HEALTH, disclosures(recs))
    assert view is not None and view.basis == {"prevention": "disclosure"}


@pytest.mark.parametrize(
    "agency", [a for a in Agency if a not in (Agency.POLICE, Agency.AUDITOR)], ids=lambda a: a.value
)
def test_contract_consents_never_open_the_prevention_track(agency: Agency) -> None:
    consents = ConsentRegister(YOUTH_BIRTH, 1)
    scope = [ScopeItem(a, c) for a in Agency for c in Category]
    for signatory in consents.signatories():
        consents.give(signatory, scope, "c-1", "booklet", T0 - timedelta(days=1))
    assert [redact(r, agency, consents) for r in records(ACCEPTED)] == [None] * len(ACCEPTED)
