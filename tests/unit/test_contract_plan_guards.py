"""Guards on the plan, the stage and completion (domain.md §5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.contract import (
    Contract,
    ContractStatus,
    EndDateNotReachedError,
    MunicipalitiesMissingError,
    PlanIncompleteError,
    PlanTooLongError,
    StageInvalidError,
)
from domain.errors import ActionNotAllowedError
from domain.values import Agency, Plan
from tests.unit.contract_factory import (
    KONFLIKTRAD,
    PLAN_END,
    PLAN_START,
    STARTUP_AT,
    at_day,
    contract_in,
    later,
    plan_for,
)

TWELVE_MONTHS_LATER = date(2027, 9, 15)  # PLAN_START + 12 months


def hold(contract: Contract, plan: Plan) -> None:
    contract.hold_startup(plan, (Agency.KONFLIKTRAD,), "startup", KONFLIKTRAD, STARTUP_AT)


def scheduled(residence: str = "5001", registered: str = "5001") -> Contract:
    return contract_in(ContractStatus.STARTUP_SCHEDULED, residence=residence, registered=registered)


# --- plan length ---


def test_a_plan_ending_exactly_12_months_after_its_start_is_agreed() -> None:
    contract = scheduled()
    hold(contract, plan_for(contract, end=TWELVE_MONTHS_LATER))
    assert contract.status is ContractStatus.ACTIVE


def test_a_plan_ending_12_months_and_one_day_after_its_start_is_refused() -> None:
    contract = scheduled()
    with pytest.raises(PlanTooLongError):
        hold(contract, plan_for(contract, end=TWELVE_MONTHS_LATER + timedelta(days=1)))
    assert contract.status is ContractStatus.STARTUP_SCHEDULED


@pytest.mark.parametrize("days", [0, -1], ids=["same-day", "before-start"])
def test_a_plan_that_does_not_end_after_it_starts_is_refused(days: int) -> None:
    contract = scheduled()
    with pytest.raises(PlanTooLongError):
        hold(contract, plan_for(contract, end=PLAN_START + timedelta(days=days)))


def test_an_amendment_that_makes_the_plan_longer_than_12_months_is_refused() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    contract.amend_plan(plan_for(contract, end=TWELVE_MONTHS_LATER), "longer", KONFLIKTRAD, later(contract))
    with pytest.raises(PlanTooLongError):
        contract.amend_plan(
            plan_for(contract, end=TWELVE_MONTHS_LATER + timedelta(days=1)),
            "too long",
            KONFLIKTRAD,
            later(contract),
        )


# --- a complete plan ---


@pytest.mark.parametrize(
    "change",
    [{"team": ()}, {"meeting_frequency_days": 0}, {"trinn": 4}],
    ids=["no-team", "no-meeting-frequency", "unknown-stage"],
)
def test_a_startup_without_a_complete_plan_is_refused(change: dict[str, object]) -> None:
    contract = scheduled()
    with pytest.raises(PlanIncompleteError):
        hold(contract, replace(plan_for(contract), **change))  # type: ignore[arg-type]
    assert contract.status is ContractStatus.STARTUP_SCHEDULED


# --- residence and registered municipality ---

RESIDENCE, REGISTERED = "5001", "5007"


@pytest.mark.parametrize(
    ("residence", "registered"),
    [(None, None), (RESIDENCE, None), (None, REGISTERED), (REGISTERED, RESIDENCE)],
    ids=["neither", "residence-only", "registered-only", "swapped"],
)
def test_when_the_municipalities_differ_a_plan_that_does_not_name_both_is_refused(
    residence: str | None, registered: str | None
) -> None:
    contract = scheduled(residence=RESIDENCE, registered=REGISTERED)
    plan = replace(plan_for(contract), residence_municipality=residence, registered_municipality=registered)
    with pytest.raises(MunicipalitiesMissingError):
        hold(contract, plan)


def test_when_the_municipalities_differ_a_plan_naming_both_is_agreed() -> None:
    contract = scheduled(residence=RESIDENCE, registered=REGISTERED)
    hold(contract, plan_for(contract))
    assert contract.plan is not None
    assert (contract.plan.residence_municipality, contract.plan.registered_municipality) == (
        RESIDENCE,
        REGISTERED,
    )


def test_when_the_municipalities_are_the_same_the_plan_need_not_name_them() -> None:
    contract = scheduled()
    hold(contract, replace(plan_for(contract), residence_municipality=None, registered_municipality=None))
    assert contract.status is ContractStatus.ACTIVE


# --- stage ---


def test_changing_to_another_configured_stage_changes_the_trinn() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    contract.change_stage(1, "doing well", KONFLIKTRAD, later(contract))
    assert contract.trinn == 1
    event = contract.pending_events[-1]
    assert (event.from_trinn, event.to_trinn) == (2, 1)


@pytest.mark.parametrize("to_trinn", [2, 4, 0], ids=["same", "unknown-4", "unknown-0"])
def test_changing_to_the_same_or_an_unconfigured_stage_is_refused(to_trinn: int) -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    with pytest.raises(StageInvalidError):
        contract.change_stage(to_trinn, "x", KONFLIKTRAD, later(contract))
    assert contract.trinn == 2


# --- completion ---


def test_completion_the_day_before_the_end_date_is_refused() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    with pytest.raises(EndDateNotReachedError):
        contract.complete(KONFLIKTRAD, at_day(PLAN_END - timedelta(days=1), hour=23, minute=59))
    assert contract.status is ContractStatus.ACTIVE


def test_completion_on_the_end_date_is_allowed() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    contract.complete(KONFLIKTRAD, at_day(PLAN_END, hour=0, minute=0))
    assert contract.status is ContractStatus.COMPLETED


def test_the_end_date_is_reached_at_norwegian_midnight_not_utc_midnight() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    oslo_00_30 = datetime(2027, 3, 14, 23, 30, tzinfo=UTC)  # winter time: UTC+1
    contract.complete(KONFLIKTRAD, oslo_00_30)
    assert contract.completed_on == PLAN_END


def test_completion_is_refused_while_a_breach_is_under_review_even_after_the_end_date() -> None:
    contract = contract_in(ContractStatus.BREACH_REVIEW)
    with pytest.raises(ActionNotAllowedError) as refused:
        contract.complete(KONFLIKTRAD, at_day(PLAN_END + timedelta(days=1)))
    assert "decide_breach" in refused.value.allowed
    assert contract.status is ContractStatus.BREACH_REVIEW


def test_completion_follows_an_amended_end_date() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    shorter = PLAN_END - timedelta(days=30)
    contract.amend_plan(plan_for(contract, end=shorter), "good progress", KONFLIKTRAD, later(contract))
    contract.complete(KONFLIKTRAD, at_day(shorter))
    assert contract.completed_on == shorter
