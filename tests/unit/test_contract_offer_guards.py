"""Guards on the offer itself: age on the (Norwegian) offer date, guardians, deadline, stage."""

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
    OfferDeadlineInvalidError,
    StageInvalidError,
)
from domain.rules import DEFAULT_RULES
from domain.values import Person
from tests.unit.contract_factory import OFFENCE, OFFER_DAY, PROSECUTOR, T0, guardians, offer


def born_years_before(years: int, day: date = OFFER_DAY, shift_days: int = 0) -> date:
    return date(day.year - years, day.month, day.day) + timedelta(days=shift_days)


@pytest.mark.parametrize(
    ("birth_date", "age"),
    [
        (born_years_before(15, shift_days=1), 14),  # the 15th birthday is tomorrow
        (born_years_before(18), 18),  # the 18th birthday is the offer date
    ],
    ids=["14-the-day-before-turning-15", "18-on-the-birthday"],
)
def test_an_offer_is_refused_to_a_youth_outside_15_to_17_on_the_offer_date(
    birth_date: date, age: int
) -> None:
    with pytest.raises(AgeOutOfRangeError, match=f"is {age} on {OFFER_DAY}"):
        offer(birth_date=birth_date)


@pytest.mark.parametrize(
    "birth_date",
    [born_years_before(15), born_years_before(18, shift_days=1)],
    ids=["15-on-the-birthday", "17-the-day-before-turning-18"],
)
def test_an_offer_is_made_to_a_youth_aged_15_to_17_on_the_offer_date(birth_date: date) -> None:
    assert offer(birth_date=birth_date).status is ContractStatus.OFFERED


def test_the_15th_birthday_counts_from_norwegian_midnight_not_utc_midnight() -> None:
    birth = born_years_before(15)
    just_after_oslo_midnight = datetime(2026, 9, 9, 22, 30, tzinfo=UTC)  # 00:30 on the 10th
    just_before_oslo_midnight = datetime(2026, 9, 9, 21, 30, tzinfo=UTC)  # 23:30 on the 9th
    assert offer(birth_date=birth, at=just_after_oslo_midnight).status is ContractStatus.OFFERED
    with pytest.raises(AgeOutOfRangeError):
        offer(birth_date=birth, at=just_before_oslo_midnight)


def test_the_18th_birthday_counts_from_norwegian_midnight_not_utc_midnight() -> None:
    birth = born_years_before(18)
    with pytest.raises(AgeOutOfRangeError):
        offer(birth_date=birth, at=datetime(2026, 9, 9, 22, 30, tzinfo=UTC))
    still_17 = offer(birth_date=birth, at=datetime(2026, 9, 9, 21, 30, tzinfo=UTC))
    assert still_17.status is ContractStatus.OFFERED


def test_the_age_range_is_configuration_not_code() -> None:
    rules = replace(DEFAULT_RULES, min_age=16)
    with pytest.raises(AgeOutOfRangeError):
        offer(birth_date=born_years_before(15), rules=rules)


def test_an_offer_without_a_birth_date_is_refused() -> None:
    with pytest.raises(AgeOutOfRangeError):
        Contract.offer(
            contract_id=uuid4(),
            youth=Person("Ola", "01020912345"),
            guardians=guardians(),
            offence=OFFENCE,
            trinn=2,
            residence_municipality="5001",
            registered_municipality="5001",
            offer_deadline=None,
            actor=PROSECUTOR,
            at=T0,
        )


def test_an_offer_to_a_minor_without_a_registered_guardian_is_refused() -> None:
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
        "A contract may only be offered to a youth aged 15 to 17 on the offer date."
    )
