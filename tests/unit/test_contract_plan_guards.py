"""Guards on the plan, the stage and completion (docs/domain.md §5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.contract import (
    Contract,
    ContractStatus,
    EndDateNotReachedError,
    MunicipalitiesMissingError,
    PlanDeviationReasonRequiredError,
    PlanIncompleteError,
    PlanTooLongError,
    StageInvalidError,
)
from domain.errors import ActionNotAllowedError
from domain.rules import DEFAULT_RULES, StageDefaults
from domain.values import Agency, BreachResponse, Plan
from tests.unit.contract_factory import (
    FACTORS,
    KONFLIKTRAD,
    PLAN_END,
    PLAN_START,
    STARTUP_AT,
    at_day,
    contract_in,
    later,
    plan_for,
    schedule_and_record,
)

TWELVE_MONTHS_LATER = date(2027, 9, 15)  # PLAN_START + 12 months


def hold(contract: Contract, plan: Plan) -> None:
    contract.hold_startup(plan, (Agency.KONFLIKTRAD,), "startup", KONFLIKTRAD, STARTUP_AT)


def scheduled(residence: str = "5001", registered: str = "5001") -> Contract:
    return contract_in(ContractStatus.STARTUP_SCHEDULED, residence=residence, registered=registered)


# --- plan length ---


def test_a_plan_ending_exactly_12_months_after_its_start_is_agreed() -> None:
    contract = contract_in(ContractStatus.STARTUP_SCHEDULED, trinn=3)  # trinn 3: 6 to 12 months
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
    """(12 months departs from trinn 2's six: the amendment's reason says why.)"""
    contract = contract_in(ContractStatus.ACTIVE)
    contract.amend_plan(plan_for(contract, end=TWELVE_MONTHS_LATER), "longer", KONFLIKTRAD, later(contract))
    with pytest.raises(PlanTooLongError):
        contract.amend_plan(
            plan_for(contract, end=TWELVE_MONTHS_LATER + timedelta(days=1)),
            "too long",
            KONFLIKTRAD,
            later(contract),
        )


# --- the trinn's defaults (domain/rules.py) ---


def agreed(contract: Contract) -> Any:
    event = contract.pending_events[-1]
    assert type(event).__name__ == "PlanAgreed"
    return event


@pytest.mark.parametrize("trinn", [1, 2, 3])
def test_a_plan_on_its_trinns_defaults_is_agreed_and_records_no_departure(trinn: int) -> None:
    contract = contract_in(ContractStatus.STARTUP_SCHEDULED, trinn=trinn)
    hold(contract, plan_for(contract))
    assert contract.status is ContractStatus.ACTIVE
    assert (agreed(contract).deviations, agreed(contract).deviation_reason) == ((), None)


def test_a_trinn_1_plan_of_12_months_with_8_tests_a_month_needs_a_reason() -> None:
    contract = contract_in(ContractStatus.STARTUP_SCHEDULED, trinn=1)
    plan = plan_for(contract, end=TWELVE_MONTHS_LATER, per_month=8)
    with pytest.raises(PlanDeviationReasonRequiredError, match="duration, tests_per_month"):
        hold(contract, plan)
    with pytest.raises(PlanDeviationReasonRequiredError):
        contract.hold_startup(plan, (), "", KONFLIKTRAD, STARTUP_AT, deviation_reason="  ")
    assert contract.status is ContractStatus.STARTUP_SCHEDULED
    contract.hold_startup(plan, (), "", KONFLIKTRAD, STARTUP_AT, deviation_reason="daily use for two years")
    assert contract.status is ContractStatus.ACTIVE
    assert agreed(contract).deviations == ("duration", "tests_per_month")
    assert agreed(contract).deviation_reason == "daily use for two years"


@pytest.mark.parametrize(
    ("change", "departs"),
    [
        ({"per_month": 1}, "tests_per_month"),
        ({"per_month": 3}, "tests_per_month"),
        ({"meeting_frequency_days": 30}, "meeting_frequency_days"),
        ({"meeting_frequency_days": 7}, "meeting_frequency_days"),
        ({"end": date(2027, 3, 14)}, "duration"),  # one day short of 6 months
        ({"end": date(2027, 9, 14)}, None),  # within trinn 3's 6 to 12 months
    ],
    ids=["fewer-tests", "fewer-tests-3", "monthly-meetings", "weekly-meetings", "short", "within-range"],
)
def test_every_departure_from_the_trinn_3_defaults_needs_a_reason(
    change: dict[str, Any], departs: str | None
) -> None:
    contract = contract_in(ContractStatus.STARTUP_SCHEDULED, trinn=3)
    plan = plan_for(contract, **change)
    if departs is None:
        hold(contract, plan)
        assert agreed(contract).deviations == ()
        return
    with pytest.raises(PlanDeviationReasonRequiredError, match=departs):
        hold(contract, plan)
    contract.hold_startup(plan, (), "", KONFLIKTRAD, STARTUP_AT, deviation_reason="agreed with the family")
    assert agreed(contract).deviations == (departs,)


def test_the_defaults_are_those_of_the_rules_the_plan_is_judged_under() -> None:
    rules = replace(DEFAULT_RULES, stages={**DEFAULT_RULES.stages, 2: StageDefaults(2, "x", 6, 6, 8, 30)})
    contract = scheduled()
    with pytest.raises(PlanDeviationReasonRequiredError):
        contract.hold_startup(plan_for(contract), (), "", KONFLIKTRAD, STARTUP_AT, rules)
    contract.hold_startup(plan_for(contract, rules=rules), (), "", KONFLIKTRAD, STARTUP_AT, rules)
    assert contract.status is ContractStatus.ACTIVE


def test_an_amendment_that_departs_is_explained_by_its_reason_or_its_deviation_reason() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    weekly = plan_for(contract, meeting_frequency_days=7)
    with pytest.raises(PlanDeviationReasonRequiredError):
        contract.amend_plan(weekly, "", KONFLIKTRAD, later(contract))
    contract.amend_plan(weekly, "", KONFLIKTRAD, later(contract), deviation_reason="exams")
    assert contract.pending_events[-1].deviation_reason == "exams"
    contract.amend_plan(
        plan_for(contract, meeting_frequency_days=10), "a crisis", KONFLIKTRAD, later(contract)
    )
    event = contract.pending_events[-1]
    assert (event.deviations, event.deviation_reason) == (("meeting_frequency_days",), "a crisis")


def test_stepping_the_test_frequency_down_below_the_default_is_the_step_down_rules_not_a_departure() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    for i in range(4):
        schedule_and_record(contract, f"t{i}", ())
    contract.amend_plan(plan_for(contract, per_month=2), "", KONFLIKTRAD, later(contract))
    assert contract.pending_events[-1].deviations == ()


def test_a_breach_decision_that_tightens_the_plan_records_the_departure_with_its_reason() -> None:
    contract = contract_in(ContractStatus.BREACH_REVIEW)
    tighter = plan_for(contract, per_month=8)
    with pytest.raises(PlanDeviationReasonRequiredError):
        contract.decide_breach(
            "b1", BreachResponse.NEW_PLAN, FACTORS, " ", KONFLIKTRAD, later(contract), plan=tighter
        )
    contract.decide_breach(
        "b1",
        BreachResponse.NEW_PLAN,
        FACTORS,
        "weekly tests after use",
        KONFLIKTRAD,
        later(contract),
        plan=tighter,
    )
    decided = contract.pending_events[-1]
    assert (decided.deviations, decided.deviation_reason) == (("tests_per_month",), "weekly tests after use")


def test_the_deviation_refusal_names_its_rule() -> None:
    assert PlanDeviationReasonRequiredError.rule().startswith(
        "A plan that departs from its stage's defaults (duration, tests per month, meeting frequency)"
    )
    assert PlanDeviationReasonRequiredError.code() == "plan-deviation-reason-required"


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
