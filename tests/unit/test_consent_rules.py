"""Consent (docs/domain.md §4): required signatories, age 18, scope, withdrawal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.booklets import BOOKLETS
from domain.contract import (
    BookletUnknownError,
    ConsentAlreadyGivenError,
    ConsentNotGivenError,
    ContractStatus,
    GuardianAlreadyRegisteredError,
    ScopeNotConsentableError,
    UnknownSignatoryError,
)
from domain.rules import DEFAULT_RULES
from domain.values import Agency, Category, Person, ScopeItem
from tests.unit.contract_factory import (
    BOOKLET,
    CONSENT_AT,
    KONFLIKTRAD,
    PROSECUTOR,
    at_day,
    contract_in,
    later,
    offer,
)

SCHOOL_OUTCOME = ScopeItem(Agency.SCHOOL, Category.OUTCOME)
GP_RAPID = ScopeItem(Agency.GP, Category.RAPID_TEST)


def test_one_guardian_of_two_having_consented_keeps_the_offer_open() -> None:
    contract = offer(guardian_count=2)
    contract.give_consent("youth", (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    contract.give_consent("guardian:1", (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    assert contract.status is ContractStatus.OFFERED
    assert contract.consents.missing_signatories(CONSENT_AT) == ["guardian:0"]
    assert contract.consented_at is None


def test_the_guardians_alone_cannot_consent_for_a_minor() -> None:
    contract = offer(guardian_count=2)
    for guardian in ("guardian:0", "guardian:1"):
        contract.give_consent(guardian, (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    assert contract.status is ContractStatus.OFFERED
    assert contract.consents.missing_signatories(CONSENT_AT) == ["youth"]


def test_every_consent_is_recorded_with_the_booklet_version_handed_out() -> None:
    contract = offer()
    contract.give_consent("youth", (), "2026-1", KONFLIKTRAD, CONSENT_AT, booklet_language="nn")
    event = contract.pending_events[-1]
    assert type(event).__name__ == "ConsentGiven"
    assert (event.booklet_version, event.booklet_language) == ("2026-1", "nn")
    assert contract.consents.intervals[0].booklet_version == "2026-1"


@pytest.mark.parametrize(
    ("version", "language"),
    [("booklet-2025-3", None), ("1", None), ("", None), ("2026-1", "de"), ("2026-1", "")],
    ids=["unregistered", "bare-number", "empty", "unpublished-language", "empty-language"],
)
def test_a_consent_with_a_booklet_not_in_the_register_is_refused(version: str, language: str | None) -> None:
    contract = offer()
    with pytest.raises(BookletUnknownError):
        contract.give_consent("youth", (), version, KONFLIKTRAD, CONSENT_AT, booklet_language=language)
    assert contract.version == 1


def test_the_booklet_register_is_data_in_the_rules() -> None:
    assert BOOKLETS["2026-1"] and DEFAULT_RULES.booklets == BOOKLETS
    rules = replace(DEFAULT_RULES, booklets={**BOOKLETS, "2027-1": ("nb",)})
    contract = offer()
    contract.give_consent("youth", (), "2027-1", KONFLIKTRAD, CONSENT_AT, rules, booklet_language="nb")
    with pytest.raises(BookletUnknownError):
        contract.give_consent("guardian:0", (), "2027-1", KONFLIKTRAD, CONSENT_AT)


# --- a guardian registered after the offer ---


NEW_GUARDIAN = Person("Nils Nordmann", "05068000051")


def test_a_guardian_added_while_offered_must_consent_before_the_contract_is_consented() -> None:
    contract = offer()
    contract.give_consent("youth", (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    contract.add_guardian(NEW_GUARDIAN, PROSECUTOR, CONSENT_AT)
    assert type(contract.pending_events[-1]).__name__ == "GuardianAdded"
    assert contract.pending_events[-1].signatory == "guardian:1"
    assert contract.guardians[-1] == NEW_GUARDIAN
    contract.give_consent("guardian:0", (), BOOKLET, KONFLIKTRAD, later(contract))
    assert contract.status is ContractStatus.OFFERED
    assert contract.consents.missing_signatories(later(contract)) == ["guardian:1"]
    contract.give_consent("guardian:1", (), BOOKLET, KONFLIKTRAD, later(contract))
    assert contract.status is ContractStatus.CONSENTED


def test_a_guardian_added_while_active_is_needed_for_sharing_from_then_on_but_not_before() -> None:
    contract = contract_in(ContractStatus.ACTIVE, scope=(GP_RAPID,))
    before = later(contract)
    contract.add_guardian(NEW_GUARDIAN, KONFLIKTRAD, before + timedelta(hours=1))
    after = later(contract)
    assert contract.status is ContractStatus.ACTIVE, "the contract consent stands"
    assert contract.consents.basis(Agency.GP, Category.RAPID_TEST, before) is not None
    assert contract.consents.basis(Agency.GP, Category.RAPID_TEST, after) is None, "until they consent too"
    contract.give_consent("guardian:1", (GP_RAPID,), BOOKLET, KONFLIKTRAD, after)
    assert contract.consents.basis(Agency.GP, Category.RAPID_TEST, later(contract)) is not None


def test_an_added_guardian_who_withdraws_the_contract_consent_ends_a_minors_contract() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    contract.add_guardian(NEW_GUARDIAN, KONFLIKTRAD, later(contract))
    with pytest.raises(ConsentNotGivenError):
        contract.withdraw_consent("guardian:1", None, KONFLIKTRAD, later(contract))
    contract.give_consent("guardian:1", (), BOOKLET, KONFLIKTRAD, later(contract))
    contract.withdraw_consent("guardian:1", None, KONFLIKTRAD, later(contract))
    assert contract.status is ContractStatus.TERMINATED


@pytest.mark.parametrize("national_id", ["02037500030", "01020950001"], ids=["a-guardian", "the-youth"])
def test_a_guardian_already_registered_or_the_youth_is_not_added_again(national_id: str) -> None:
    contract = offer()
    with pytest.raises(GuardianAlreadyRegisteredError):
        contract.add_guardian(Person("Someone", national_id), KONFLIKTRAD, CONSENT_AT)
    assert contract.version == 1


def test_a_guardian_added_for_an_adult_youth_is_not_required() -> None:
    contract = offer(birth_date=date(2008, 9, 5))  # 17 at the offence, 18 at the offer
    contract.add_guardian(NEW_GUARDIAN, KONFLIKTRAD, CONSENT_AT)
    contract.give_consent("youth", (), BOOKLET, KONFLIKTRAD, later(contract))
    assert contract.status is ContractStatus.CONSENTED


# --- turning 18 (the age is computed at the event time, on the Norwegian day) ---

BIRTH_18_SOON = date(2008, 9, 15)  # 17 on the offer date, 18 on 2026-09-15


def test_a_youth_who_turned_18_before_consenting_consents_alone() -> None:
    contract = offer(birth_date=BIRTH_18_SOON, guardian_count=2)
    contract.give_consent("youth", (), BOOKLET, KONFLIKTRAD, at_day(date(2026, 9, 15)))
    assert contract.status is ContractStatus.CONSENTED


def test_the_18th_birthday_starts_at_norwegian_midnight_for_consent() -> None:
    contract = offer(birth_date=BIRTH_18_SOON, guardian_count=2)
    contract.give_consent("youth", (), BOOKLET, KONFLIKTRAD, datetime(2026, 9, 14, 22, 30, tzinfo=UTC))
    assert contract.status is ContractStatus.CONSENTED


def test_a_youth_still_17_the_day_before_the_birthday_needs_the_guardians() -> None:
    contract = offer(birth_date=BIRTH_18_SOON, guardian_count=2)
    contract.give_consent("youth", (), BOOKLET, KONFLIKTRAD, datetime(2026, 9, 14, 21, 30, tzinfo=UTC))
    assert contract.status is ContractStatus.OFFERED


def test_a_guardian_who_consented_before_the_youth_turned_18_does_not_block_the_youth() -> None:
    contract = offer(birth_date=BIRTH_18_SOON, guardian_count=2)
    contract.give_consent("guardian:0", (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    contract.give_consent("youth", (), BOOKLET, KONFLIKTRAD, at_day(date(2026, 9, 16)))
    assert contract.status is ContractStatus.CONSENTED


# --- signatories and scope ---


@pytest.mark.parametrize("signatory", ["guardian:1", "mother", "Youth", ""])
def test_consent_from_someone_who_is_not_a_signatory_is_refused(signatory: str) -> None:
    contract = offer(guardian_count=1)
    with pytest.raises(UnknownSignatoryError):
        contract.give_consent(signatory, (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    assert contract.version == 1


def test_withdrawal_and_declining_by_someone_who_is_not_a_signatory_are_refused() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    with pytest.raises(UnknownSignatoryError):
        contract.withdraw_consent("guardian:7", None, PROSECUTOR, later(contract))
    with pytest.raises(UnknownSignatoryError):
        offer().decline("neighbour", PROSECUTOR, CONSENT_AT)
    assert contract.status is ContractStatus.ACTIVE


@pytest.mark.parametrize(
    ("agency", "category"),
    [
        (Agency.SCHOOL, Category.NOTES),  # N
        (Agency.PROSECUTION, Category.NOTES),  # N
        (Agency.SCHOOL, Category.LAB_TEST),  # N
        (Agency.GP, Category.EVALUATION),  # N
        (Agency.COUNTY, Category.TERMS),  # Agg
        (Agency.COUNTY, Category.IDENTITY),  # N
        (Agency.AUDITOR, Category.NOTES),  # not a sharing party at all
    ],
    ids=lambda v: v.value,
)
def test_consent_to_a_scope_the_policy_closes_is_refused(agency: Agency, category: Category) -> None:
    contract = offer()
    item = ScopeItem(agency, category)
    with pytest.raises(ScopeNotConsentableError, match=f"{agency.value}/{category.value}"):
        contract.give_consent("youth", (SCHOOL_OUTCOME, item), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    assert contract.version == 1
    assert contract.consents.intervals == []


def test_consent_to_a_scope_the_policy_leaves_to_consent_is_recorded() -> None:
    contract = offer()
    contract.give_consent("youth", (SCHOOL_OUTCOME, GP_RAPID), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    assert set(contract.consents.active_scope("youth", CONSENT_AT)) == {SCHOOL_OUTCOME, GP_RAPID}


def test_repeating_a_consent_already_given_is_refused() -> None:
    contract = offer()
    contract.give_consent("youth", (GP_RAPID,), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    with pytest.raises(ConsentAlreadyGivenError):
        contract.give_consent("youth", (GP_RAPID,), BOOKLET, KONFLIKTRAD, later(contract))


def test_a_consent_that_adds_a_sharing_item_is_not_a_repeat() -> None:
    contract = offer()
    contract.give_consent("youth", (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    contract.give_consent("youth", (GP_RAPID,), BOOKLET, KONFLIKTRAD, later(contract))
    assert contract.consents.active_scope("youth", later(contract)) == [GP_RAPID]


# --- sharing and withdrawal ---


def test_sharing_in_a_consent_cell_needs_every_required_signatory() -> None:
    contract = offer()
    contract.give_consent("youth", (SCHOOL_OUTCOME,), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    assert contract.consents.basis(Agency.SCHOOL, Category.OUTCOME, later(contract)) is None
    contract.give_consent("guardian:0", (SCHOOL_OUTCOME,), BOOKLET, KONFLIKTRAD, later(contract))
    assert contract.consents.basis(Agency.SCHOOL, Category.OUTCOME, later(contract)) is not None


def test_withdrawing_a_sharing_scope_keeps_the_contract_active_and_ends_that_sharing() -> None:
    contract = contract_in(ContractStatus.ACTIVE, scope=(GP_RAPID,))
    withdrawn_at = later(contract)
    assert contract.consents.basis(Agency.GP, Category.RAPID_TEST, withdrawn_at) is not None

    contract.withdraw_consent("guardian:0", (GP_RAPID,), PROSECUTOR, withdrawn_at)

    assert contract.status is ContractStatus.ACTIVE
    assert contract.termination_reason is None
    assert contract.consents.contract_consented(withdrawn_at)
    assert contract.consents.basis(Agency.GP, Category.RAPID_TEST, withdrawn_at) is None
    before = withdrawn_at - timedelta(seconds=1)
    assert contract.consents.basis(Agency.GP, Category.RAPID_TEST, before) is not None


def test_withdrawing_a_consent_never_given_is_refused() -> None:
    contract = offer()
    with pytest.raises(ConsentNotGivenError):
        contract.withdraw_consent("youth", None, PROSECUTOR, CONSENT_AT)


def test_a_withdrawn_contract_consent_ends_every_sharing_consent_of_that_signatory() -> None:
    contract = offer()
    contract.give_consent("youth", (GP_RAPID, SCHOOL_OUTCOME), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    withdrawn_at = CONSENT_AT + timedelta(days=1)
    contract.withdraw_consent("youth", None, PROSECUTOR, withdrawn_at)
    assert contract.consents.active_scope("youth", withdrawn_at) == []
    assert not contract.consents.contract_consent_of("youth", withdrawn_at)
    assert contract.consents.contract_consent_of("youth", withdrawn_at - timedelta(seconds=1))
