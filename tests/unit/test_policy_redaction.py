"""The access policy gate `redact` on contract events (docs/domain.md §3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from functools import cache

import pytest

from domain.consent import ConsentRegister
from domain.contract import Contract, ContractStatus
from domain.policy import (
    CURRENT_POLICY,
    FIELD_CATEGORIES,
    Access,
    EventRecord,
    redact,
)
from domain.values import Agency, BreachKind, BreachResponse, Category, MeetingKind, Person, ScopeItem
from domain.values import TestKind as Kind
from domain.values import TestPurpose as Purpose
from tests.unit.contract_factory import (
    BOOKLET,
    FACTORS,
    HEALTH,
    KONFLIKTRAD,
    PLAN_END,
    PROSECUTOR,
    at_day,
    contract_in,
    later,
    plan_for,
    record_of,
    schedule_and_record,
)

# The table of docs/domain.md §3, copied by hand so a typo in the domain's table shows up here.
_SPEC = """
identity    A A A A C C C N
offence     A A A C C C N N
terms       A A A A C C C Agg
notes       N N A A N C N N
rapid_test  N C A A C C N Agg
lab_test    N C C C A C N Agg
breach      A A A A C C N Agg
outcome     A A A A C C C Agg
evaluation  N N A A N N N Agg
"""
COLUMNS = [
    Agency.PROSECUTION,
    Agency.POLICE,
    Agency.KONFLIKTRAD,
    Agency.MUNICIPAL_HEALTH,
    Agency.GP,
    Agency.CHILD_WELFARE,
    Agency.SCHOOL,
    Agency.COUNTY,
]
SPEC: dict[Category, dict[Agency, Access]] = {
    Category(row.split()[0]): dict(zip(COLUMNS, map(Access, row.split()[1:]), strict=True))
    for row in _SPEC.strip().splitlines()
}

# Sharing every signatory consents to; SCHOOL/OUTCOME gets the youth's consent only.
SHARED = (
    ScopeItem(Agency.GP, Category.IDENTITY),
    ScopeItem(Agency.GP, Category.RAPID_TEST),
    ScopeItem(Agency.GP, Category.TERMS),
    ScopeItem(Agency.POLICE, Category.LAB_TEST),
    ScopeItem(Agency.KONFLIKTRAD, Category.LAB_TEST),
    ScopeItem(Agency.CHILD_WELFARE, Category.NOTES),
    ScopeItem(Agency.CHILD_WELFARE, Category.BREACH),
    ScopeItem(Agency.MUNICIPAL_HEALTH, Category.OFFENCE),
    ScopeItem(Agency.SCHOOL, Category.TERMS),
)
SCHOOL_OUTCOME = ScopeItem(Agency.SCHOOL, Category.OUTCOME)
GP_RAPID = ScopeItem(Agency.GP, Category.RAPID_TEST)


def _full_contract() -> Contract:
    c = contract_in(ContractStatus.ACTIVE, scope=SHARED)
    schedule_and_record(c, "rapid-before", ("THC",))
    schedule_and_record(c, "lab-follow-up", ("THC",), kind=Kind.LAB, purpose=Purpose.FOLLOW_UP)
    schedule_and_record(c, "lab-sanction", ("THC",), kind=Kind.LAB, purpose=Purpose.SANCTION)
    c.change_stage(3, "more follow-up", KONFLIKTRAD, later(c))
    c.amend_plan(plan_for(c), "same frequency, new reason", KONFLIKTRAD, later(c))
    c.hold_meeting(MeetingKind.CONVERSATION, later(c), True, "talked about home", HEALTH, later(c))
    c.record_no_show("team meeting", None, HEALTH, later(c))
    c.withdraw_consent("guardian:0", (GP_RAPID,), PROSECUTOR, later(c))  # D
    schedule_and_record(c, "rapid-after", ())
    c.register_breach("b1", BreachKind.POSITIVE_TEST, "lab THC", "lab-follow-up", KONFLIKTRAD, later(c))
    c.decide_breach("b1", BreachResponse.WARNING, FACTORS, "first", KONFLIKTRAD, later(c))
    c.submit_evaluation("youth", "2026-1", {"helpful": 4}, KONFLIKTRAD, later(c))
    c.complete(KONFLIKTRAD, at_day(PLAN_END))
    return c


def _with_disclosures(records: list[EventRecord]) -> tuple[EventRecord, ...]:
    """Add the offer re-disclosed at each consent (`CaseDisclosed`, as the projection does)."""
    offered = records[0]
    late = [
        replace(offered, type="CaseDisclosed", at=r.at, version=r.version)
        for r in records
        if r.type == "ConsentGiven"
    ]
    return (*records, *late)


@cache
def histories() -> tuple[tuple[tuple[EventRecord, ...], ConsentRegister], ...]:
    """(records, the consent register) of contracts that together hold every event type."""
    declined = contract_in(ContractStatus.OFFERED)
    declined.give_consent("youth", (SCHOOL_OUTCOME,), BOOKLET, KONFLIKTRAD, later(declined))
    declined.add_guardian(Person("Nils Nordmann", "05068000051"), KONFLIKTRAD, later(declined))
    declined.register_gp("7654321", KONFLIKTRAD, later(declined))
    declined.register_school("974760673", KONFLIKTRAD, later(declined))
    member = declined.add_team_member(Agency.CHILD_WELFARE, "5001", None, KONFLIKTRAD, later(declined))
    declined.remove_team_member(member, KONFLIKTRAD, later(declined))
    declined.change_residence("5025", "5025", {}, "2024-1", KONFLIKTRAD, later(declined))
    declined.decline("guardian:0", PROSECUTOR, later(declined))
    late = contract_in(ContractStatus.CONSENTED)  # its startup meeting never held
    [startup] = late.open_deadlines()
    at = datetime.combine(startup.due + timedelta(days=10), time(12), tzinfo=UTC)
    late.record_missed_deadline("startup_meeting", startup.due, KONFLIKTRAD, at)
    late.escalate("startup_meeting", startup.due, KONFLIKTRAD, at)
    contracts = [
        _full_contract(),
        declined,
        contract_in(ContractStatus.LAPSED),
        contract_in(ContractStatus.RETURNED),
        late,
    ]
    return tuple(
        (_with_disclosures([record_of(e) for e in c.collect_events()]), c.consents) for c in contracts
    )


def records_of_type(event_type: str) -> list[tuple[EventRecord, ConsentRegister]]:
    return [(r, consents) for records, consents in histories() for r in records if r.type == event_type]


def test_the_domain_policy_table_is_the_table_of_the_spec() -> None:
    assert CURRENT_POLICY.table == SPEC


def test_the_histories_hold_every_classified_event_type() -> None:
    assert {r.type for records, _ in histories() for r in records} >= set(FIELD_CATEGORIES)


def grounds(record: EventRecord, agency: Agency, category: Category, consents: ConsentRegister) -> bool:
    """May `agency` see a field of `category` in `record`, by the spec?"""
    if category is Category.LAB_TEST and record.payload.get("purpose") == "sanction":
        if agency is Agency.PROSECUTION:
            return True
        if agency is Agency.GP:
            return False
    access = SPEC[category][agency]
    if access is Access.ALWAYS:
        return True
    return access is Access.CONSENT and consents.basis(agency, category, record.at) is not None


@pytest.mark.parametrize("agency", [a for a in Agency if a is not Agency.AUDITOR], ids=lambda a: a.value)
@pytest.mark.parametrize("event_type", sorted(FIELD_CATEGORIES))
def test_an_agency_sees_exactly_the_fields_open_to_it_at_the_event_time(
    event_type: str, agency: Agency
) -> None:
    for record, consents in records_of_type(event_type):
        view = redact(record, agency, consents)
        categories = FIELD_CATEGORIES[event_type]
        expected = {
            name
            for name in record.payload
            if name in categories and grounds(record, agency, categories[name], consents)
        }
        if not expected:
            assert view is None
            continue
        assert view is not None
        assert set(view.fields) == expected
        assert {f: view.fields[f] for f in expected} == {f: record.payload[f] for f in expected}
        assert set(view.basis) == {categories[name].value for name in expected}
        for name in view.fields:
            assert SPEC[categories[name]][agency] in (Access.ALWAYS, Access.CONSENT) or (
                agency is Agency.PROSECUTION and record.payload.get("purpose") == "sanction"
            )
        assert view.policy_version == CURRENT_POLICY.version


def test_the_county_never_receives_an_event() -> None:
    for records, consents in histories():
        assert [redact(r, Agency.COUNTY, consents) for r in records] == [None] * len(records)


def test_the_auditor_receives_every_field_of_every_event() -> None:
    for records, consents in histories():
        for record in records:
            view = redact(record, Agency.AUDITOR, consents)
            assert view is not None and view.fields == dict(record.payload)


def _lab(purpose: Purpose) -> tuple[EventRecord, ConsentRegister]:
    return next(
        (r, c) for r, c in records_of_type("LabResultRecorded") if r.payload["purpose"] == purpose.value
    )


def test_a_sanction_lab_result_goes_to_the_prosecution_and_never_to_the_gp() -> None:
    record, consents = _lab(Purpose.SANCTION)
    view = redact(record, Agency.PROSECUTION, consents)
    assert view is not None and view.fields["positives"] == ["THC"]
    assert redact(record, Agency.GP, consents) is None


def test_a_follow_up_lab_result_goes_to_the_gp_and_never_to_the_prosecution() -> None:
    record, consents = _lab(Purpose.FOLLOW_UP)
    assert redact(record, Agency.GP, consents) is not None
    assert redact(record, Agency.PROSECUTION, consents) is None


def test_a_consent_withdrawn_at_d_hides_later_events_but_not_earlier_ones() -> None:
    rapid = {r.payload["test_id"]: (r, c) for r, c in records_of_type("RapidTestRecorded")}
    before, consents = rapid["rapid-before"]
    after, _ = rapid["rapid-after"]
    withdrawn = next(r for r, _ in records_of_type("ConsentWithdrawn"))
    assert before.at < withdrawn.at < after.at
    assert redact(before, Agency.GP, consents) is not None
    assert redact(after, Agency.GP, consents) is None
    at_d = EventRecord(**{**vars(before), "at": withdrawn.at})
    assert redact(at_d, Agency.GP, consents) is None


def test_the_youths_consent_alone_does_not_open_sharing_for_a_minor() -> None:
    for record, consents in records_of_type("OfferDeclined"):
        assert consents.active_scope("youth", record.at) == [SCHOOL_OUTCOME]
        assert redact(record, Agency.SCHOOL, consents) is None


def test_meeting_notes_never_reach_the_prosecution_the_police_the_gp_or_the_school() -> None:
    for event_type in ("MeetingHeld", "StartupMeetingHeld"):
        for record, consents in records_of_type(event_type):
            for agency in (Agency.PROSECUTION, Agency.POLICE, Agency.GP, Agency.SCHOOL):
                view = redact(record, agency, consents)
                assert view is None or "notes" not in view.fields


def test_an_unclassified_event_type_is_shown_to_the_auditor_only() -> None:
    record, consents = records_of_type("ContractCompleted")[0]
    unknown = EventRecord(**{**vars(record), "type": "SomethingNew"})
    assert [a for a in Agency if redact(unknown, a, consents)] == [Agency.AUDITOR]


def test_a_consent_cell_opens_with_a_consent_of_every_signatory_covering_the_event_time() -> None:
    record, consents = _lab(Purpose.FOLLOW_UP)
    view = redact(record, Agency.POLICE, consents)
    assert view is not None and view.basis["lab_test"].startswith("consent:")
    assert redact(record, Agency.CHILD_WELFARE, consents) is None  # no consent for lab_test


def test_the_offer_is_hidden_from_a_consent_agency_until_a_consent_discloses_it() -> None:
    offered, consents = records_of_type("ContractOffered")[0]
    assert redact(offered, Agency.GP, consents) is None
    disclosed = [redact(r, Agency.GP, c) for r, c in records_of_type("CaseDisclosed") if c is consents]
    opened = [v for v in disclosed if v is not None]
    assert opened, "the last signatory's consent discloses the offer to the GP"
    assert set(opened[0].fields) == {
        "youth",
        "guardians",
        "trinn",
        "residence_municipality",
        "registered_municipality",
        "gp",
        "school",
        "units",
        "register_version",
        "offer_deadline",
        "rules_version",
    }
    assert "offence" not in opened[0].fields
