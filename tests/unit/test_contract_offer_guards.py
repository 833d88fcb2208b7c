"""Guards on the offer itself: age on the offence date, guardians, deadline, stage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from domain.contract import (
    AgeOutOfRangeError,
    Contract,
    ContractStatus,
    GuardianRequiredError,
    LegalBasisInvalidError,
    OffenceDateInFutureError,
    OfferDeadlineInvalidError,
    ReplacedReactionInvalidError,
    StageInvalidError,
)
from domain.legal import LEGAL_BASES
from domain.rules import DEFAULT_RULES
from domain.values import Offence, Person, ReplacedReaction
from tests.unit.contract_factory import (
    BOOKLET,
    CONSENT_AT,
    KONFLIKTRAD,
    LEGAL_BASIS,
    OFFENCE,
    OFFENCE_DAY,
    OFFER_DAY,
    PROSECUTOR,
    REPLACES,
    T0,
    guardians,
    offer,
    youth,
)


def born_years_before(years: int, day: date = OFFENCE_DAY, shift_days: int = 0) -> date:
    return date(day.year - years, day.month, day.day) + timedelta(days=shift_days)


def offence_on(day: date) -> Offence:
    return replace(OFFENCE, date=day)


@pytest.mark.parametrize(
    ("birth_date", "age"),
    [
        (born_years_before(15, shift_days=1), 14),  # 14 years 364 days: the 15th birthday is the next day
        (born_years_before(18), 18),  # the 18th birthday is the offence date
    ],
    ids=["14y364d-at-the-offence", "18-on-the-offence-date"],
)
def test_an_offer_is_refused_for_an_offence_committed_outside_15_to_17(birth_date: date, age: int) -> None:
    with pytest.raises(AgeOutOfRangeError, match=f"was {age} on the offence date {OFFENCE_DAY}"):
        offer(birth_date=birth_date)


@pytest.mark.parametrize(
    "birth_date",
    [born_years_before(15), born_years_before(18, shift_days=1)],
    ids=["15y0d-at-the-offence", "17y364d-at-the-offence"],
)
def test_an_offer_is_made_for_an_offence_committed_at_15_to_17(birth_date: date) -> None:
    assert offer(birth_date=birth_date).status is ContractStatus.OFFERED


def test_a_youth_who_offended_at_14_is_refused_even_when_15_on_the_offer_date() -> None:
    birth = born_years_before(15, shift_days=2)  # 15 on 2026-09-03, the offer is on 2026-09-10
    assert youth(birth).age_on(OFFER_DAY) == 15
    with pytest.raises(AgeOutOfRangeError, match="was 14"):
        offer(birth_date=birth)


def test_a_youth_who_offended_at_17_may_be_offered_the_contract_at_18_and_consents_alone() -> None:
    birth = born_years_before(18, shift_days=4)  # 18 on 2026-09-05: after the offence, before the offer
    assert youth(birth).age_on(OFFENCE_DAY) == 17 and youth(birth).age_on(OFFER_DAY) == 18
    with_guardian = offer(birth_date=birth)
    with_guardian.give_consent("youth", (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    assert with_guardian.status is ContractStatus.CONSENTED, "the youth alone signs from 18"
    alone = offer(birth_date=birth, guardian_count=0)
    assert alone.status is ContractStatus.OFFERED, "an adult needs no registered guardian"
    alone.give_consent("youth", (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    assert alone.status is ContractStatus.CONSENTED


def test_an_offence_dated_in_the_future_is_refused() -> None:
    with pytest.raises(OffenceDateInFutureError):
        offer(offence=offence_on(OFFER_DAY + timedelta(days=1)))
    assert offer(offence=offence_on(OFFER_DAY)).offence.date == OFFER_DAY


def test_the_offer_day_that_an_offence_may_not_follow_is_the_norwegian_day_not_the_utc_day() -> None:
    offence = offence_on(date(2026, 9, 10))
    just_after_oslo_midnight = datetime(2026, 9, 9, 22, 30, tzinfo=UTC)  # 00:30 on the 10th
    just_before_oslo_midnight = datetime(2026, 9, 9, 21, 30, tzinfo=UTC)  # 23:30 on the 9th
    assert offer(offence=offence, at=just_after_oslo_midnight).status is ContractStatus.OFFERED
    with pytest.raises(OffenceDateInFutureError):
        offer(offence=offence, at=just_before_oslo_midnight)


def test_the_18th_birthday_that_frees_the_offer_of_a_guardian_counts_from_norwegian_midnight() -> None:
    birth = born_years_before(18, day=OFFER_DAY)  # 17 at the offence, 18 from Oslo midnight on the 10th
    with pytest.raises(GuardianRequiredError):
        offer(birth_date=birth, guardian_count=0, at=datetime(2026, 9, 9, 21, 30, tzinfo=UTC))
    adult = offer(birth_date=birth, guardian_count=0, at=datetime(2026, 9, 9, 22, 30, tzinfo=UTC))
    assert adult.status is ContractStatus.OFFERED


def test_the_age_range_is_configuration_not_code() -> None:
    rules = replace(DEFAULT_RULES, min_age=16)
    with pytest.raises(AgeOutOfRangeError):
        offer(birth_date=born_years_before(15), rules=rules)


def test_an_offer_without_a_birth_date_is_refused() -> None:
    with pytest.raises(AgeOutOfRangeError):
        Contract.offer(
            contract_id=uuid4(),
            youth=Person("Ola", "01020950001"),
            guardians=guardians(),
            offence=OFFENCE,
            trinn=2,
            residence_municipality="5001",
            registered_municipality="5001",
            offer_deadline=None,
            legal_basis=LEGAL_BASIS,
            replaces=REPLACES,
            actor=PROSECUTOR,
            at=T0,
        )


def test_an_offer_to_a_youth_under_18_without_a_registered_guardian_is_refused() -> None:
    with pytest.raises(GuardianRequiredError):
        offer(guardian_count=0)


@pytest.mark.parametrize("trinn", [0, 4])
def test_an_offer_at_a_stage_that_is_not_configured_is_refused(trinn: int) -> None:
    with pytest.raises(StageInvalidError):
        offer(trinn=trinn)


def test_the_answer_deadline_defaults_to_14_days_after_the_norwegian_offer_date() -> None:
    late_evening_utc = datetime(2026, 9, 9, 22, 30, tzinfo=UTC)  # already the 10th in Oslo
    assert offer(at=late_evening_utc).offer_deadline == date(2026, 9, 24)


@pytest.mark.parametrize("deadline", [OFFER_DAY, OFFER_DAY - timedelta(days=1)])
def test_an_answer_deadline_not_after_the_offer_date_is_refused(deadline: date) -> None:
    with pytest.raises(OfferDeadlineInvalidError):
        offer(offer_deadline=deadline)


def test_an_answer_deadline_the_day_after_the_offer_is_accepted() -> None:
    deadline = OFFER_DAY + timedelta(days=1)
    assert offer(offer_deadline=deadline).offer_deadline == deadline


def test_the_offer_records_the_rules_version_it_was_made_under() -> None:
    assert offer().rules_version == DEFAULT_RULES.version


def test_the_age_refusal_names_its_rule() -> None:
    assert AgeOutOfRangeError.rule() == (
        "A contract may only be offered for an offence committed when the youth was 15 to 17."
    )
    assert (
        OffenceDateInFutureError.rule() == "The offence date cannot be later than the day the offer is made."
    )


# --- legal basis and the reaction replaced ---


@pytest.mark.parametrize("basis", sorted(LEGAL_BASES))
def test_the_offer_records_its_legal_basis_and_the_reaction_it_replaces(basis: str) -> None:
    contract = offer(legal_basis=basis, replaces=ReplacedReaction("fine", 3000, "forelegg"))
    event = contract.pending_events[0]
    assert event.legal_basis == basis and contract.legal_basis == basis
    assert event.replaces == {"kind": "fine", "amount": 3000, "description": "forelegg"}
    assert contract.replaces == event.replaces


@pytest.mark.parametrize("basis", ["", "strpl_70", "STRPL_71A", "straffeprosessloven § 71 a"])
def test_an_offer_on_an_unknown_legal_basis_is_refused(basis: str) -> None:
    with pytest.raises(LegalBasisInvalidError):
        offer(legal_basis=basis)


@pytest.mark.parametrize(
    "replaces",
    [
        ReplacedReaction("fine"),
        ReplacedReaction("fine", 0),
        ReplacedReaction("fine", -500),
        ReplacedReaction("other"),
        ReplacedReaction("other", description="   "),
        ReplacedReaction("prison", 10),
        ReplacedReaction("other", description="x" * 501),
    ],
    ids=[
        "fine-no-amount",
        "fine-zero",
        "fine-negative",
        "other-undescribed",
        "other-blank",
        "unknown",
        "long",
    ],
)
def test_an_offer_must_say_which_ordinary_reaction_it_replaces(replaces: ReplacedReaction) -> None:
    with pytest.raises(ReplacedReactionInvalidError):
        offer(replaces=replaces)


def test_another_replaced_reaction_is_described_and_needs_no_amount() -> None:
    contract = offer(replaces=ReplacedReaction("other", description="påtaleunnlatelse uten vilkår"))
    assert contract.replaces == {
        "kind": "other",
        "amount": None,
        "description": "påtaleunnlatelse uten vilkår",
    }
