"""Readings of docs/domain.md §4–§5 where the text leaves a choice, pinned down as tests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import domain.contract as dc
from domain.calendar import CLOCK_SKEW
from domain.contract import ContractStatus
from domain.contract_errors import HeldInFutureError
from domain.contract_guards import check_held_at
from domain.values import Agency, BreachKind, BreachResponse, Category, MeetingKind, ScopeItem
from domain.values import TestKind as Kind
from domain.values import TestPurpose as Purpose
from tests.unit.contract_factory import (
    BOOKLET,
    FACTORS,
    GP,
    HEALTH,
    KONFLIKTRAD,
    STARTUP_AT,
    at_day,
    contract_in,
    later,
    offer,
    plan_for,
    schedule_and_record,
)

GP_IDENTITY = ScopeItem(Agency.GP, Category.IDENTITY)


def test_a_single_new_offence_in_stage_one_is_not_answered_with_termination() -> None:
    contract = contract_in(ContractStatus.ACTIVE, trinn=1)
    contract.register_breach("b1", BreachKind.NEW_OFFENCE, "new charge", None, KONFLIKTRAD, later(contract))
    with pytest.raises(dc.StageOneSingleBreachError):
        contract.decide_breach("b1", BreachResponse.TERMINATE, FACTORS, "x", KONFLIKTRAD, later(contract))


def test_a_new_offence_in_stage_two_grounds_termination_with_that_reason() -> None:
    contract = contract_in(ContractStatus.ACTIVE, trinn=2)
    contract.register_breach("b1", BreachKind.NEW_OFFENCE, "new charge", None, KONFLIKTRAD, later(contract))
    contract.decide_breach("b1", BreachResponse.TERMINATE, FACTORS, "x", KONFLIKTRAD, later(contract))
    assert contract.status is ContractStatus.TERMINATED
    assert contract.termination_reason is dc.TerminationReason.NEW_OFFENCE


def test_a_sharing_consent_can_be_given_while_the_contract_runs() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    for signatory in ("youth", "guardian:0"):
        contract.give_consent(signatory, (GP_IDENTITY,), BOOKLET, KONFLIKTRAD, later(contract))
    assert contract.status is ContractStatus.ACTIVE
    assert contract.consents.basis(Agency.GP, Category.IDENTITY, later(contract)) is not None


def test_a_guardians_withdrawal_no_longer_ends_the_contract_once_the_youth_is_18() -> None:
    contract = offer(birth_date=date(2008, 12, 1))  # 17 on the offer day, 18 on 2026-12-01
    for signatory in ("youth", "guardian:0"):
        contract.give_consent(signatory, (), BOOKLET, KONFLIKTRAD, later(contract))
    contract.withdraw_consent("guardian:0", None, KONFLIKTRAD, at_day(date(2026, 12, 2)))
    assert contract.status is ContractStatus.CONSENTED


def test_a_guardians_withdrawal_ends_the_contract_while_the_youth_is_under_18() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    contract.withdraw_consent("guardian:0", None, KONFLIKTRAD, later(contract))
    assert contract.status is ContractStatus.TERMINATED
    assert contract.termination_reason is dc.TerminationReason.CONSENT_WITHDRAWN


def test_a_second_step_down_needs_a_new_series_of_negative_tests() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    for i in range(4):
        schedule_and_record(contract, f"t{i}", ())
    contract.amend_plan(plan_for(contract, per_month=2), "fewer tests", KONFLIKTRAD, later(contract))
    with pytest.raises(dc.TestFrequencyStepDownError):
        contract.amend_plan(plan_for(contract, per_month=1), "fewer still", KONFLIKTRAD, later(contract))


def test_a_plan_without_any_testing_is_incomplete() -> None:
    contract = contract_in(ContractStatus.STARTUP_SCHEDULED)
    with pytest.raises(dc.PlanIncompleteError):
        contract.hold_startup(plan_for(contract, per_month=0), (), "", KONFLIKTRAD, STARTUP_AT)


# --- round 2 (issue 15) ---


def test_the_age_that_counts_is_the_age_on_the_offence_date_not_on_the_offer_date() -> None:
    """ "15-17 on the offence date ... the offer may come after the 18th birthday"."""
    offended_at_17 = offer(birth_date=date(2008, 9, 5))  # 18 on 2026-09-05, offer 2026-09-10
    offended_at_17.give_consent("youth", (), BOOKLET, KONFLIKTRAD, later(offended_at_17))
    assert offended_at_17.status is ContractStatus.CONSENTED, "from 18 the youth alone consents"
    with pytest.raises(dc.AgeOutOfRangeError):
        offer(birth_date=date(2011, 9, 5))  # 15 on the offer day, 14 on the offence date


def test_a_dismissed_breach_is_no_breach_for_repetition_or_for_trinn_1() -> None:
    """ "dismissed closes a breach whose evidence was refuted": nothing is left to repeat."""
    contract = contract_in(ContractStatus.ACTIVE, trinn=1)
    contract.register_breach("b1", BreachKind.OTHER, "curfew", None, KONFLIKTRAD, later(contract))
    contract.decide_breach(
        "b1", BreachResponse.DISMISSED, FACTORS, "was at home", KONFLIKTRAD, later(contract)
    )
    contract.register_breach("b2", BreachKind.OTHER, "curfew", None, KONFLIKTRAD, later(contract))
    with pytest.raises(dc.StageOneSingleBreachError):
        contract.decide_breach("b2", BreachResponse.NEW_PLAN, FACTORS, "x", KONFLIKTRAD, later(contract))


def test_a_refuted_rapid_positive_counts_as_negative_and_its_lab_result_not_again() -> None:
    """ "it then counts as negative for step-down": the rapid test's sample, once."""
    contract = contract_in(ContractStatus.ACTIVE)
    schedule_and_record(contract, "r1", ("THC",))
    at = later(contract)
    contract.schedule_test(
        "lab1", Kind.LAB, Purpose.FOLLOW_UP, False, at.date(), GP, at, confirms_test_id="r1"
    )
    contract.record_test_result("lab1", (), at, GP, at, requisition_code="LAB-1")
    assert contract.consecutive_negatives == 1


def test_a_plan_in_force_may_test_less_often_than_the_default_without_a_deviation_reason() -> None:
    """The step-down rule governs testing less often; "departs from the defaults" is the plan's start."""
    contract = contract_in(ContractStatus.ACTIVE)
    for i in range(4):
        schedule_and_record(contract, f"t{i}", ())
    contract.amend_plan(plan_for(contract, per_month=2), "", KONFLIKTRAD, later(contract))
    assert contract.pending_events[-1].deviations == ()


def test_the_reason_of_an_amendment_or_a_decision_explains_its_plans_departure() -> None:
    """ "needs a deviation_reason (on the plan or the command)": the command's reason counts."""
    contract = contract_in(ContractStatus.ACTIVE)
    contract.amend_plan(
        plan_for(contract, meeting_frequency_days=7), "exam period", KONFLIKTRAD, later(contract)
    )
    assert contract.pending_events[-1].deviation_reason == "exam period"


def test_two_open_contracts_for_the_same_youth_are_allowed() -> None:
    """docs/domain.md §5: the prosecution decides per offence; each offer is its own case."""
    first, second = contract_in(ContractStatus.ACTIVE), offer()
    assert first.youth == second.youth and second.status is ContractStatus.OFFERED


def test_a_startup_meeting_is_not_held_before_its_time_and_a_reschedule_moves_it() -> None:
    contract = contract_in(ContractStatus.STARTUP_SCHEDULED)  # scheduled for STARTUP_AT
    early = STARTUP_AT - timedelta(days=2)
    with pytest.raises(dc.StartupMeetingNotDueError):
        contract.hold_startup(plan_for(contract), (), "", KONFLIKTRAD, early)
    contract.schedule_startup(
        early - timedelta(hours=1), (Agency.KONFLIKTRAD,), KONFLIKTRAD, early - timedelta(hours=2)
    )
    assert contract.status is ContractStatus.STARTUP_SCHEDULED
    contract.hold_startup(plan_for(contract), (), "", KONFLIKTRAD, early)
    assert contract.status is ContractStatus.ACTIVE


def test_a_startup_meeting_is_held_from_the_minute_it_was_scheduled_for() -> None:
    contract = contract_in(ContractStatus.STARTUP_SCHEDULED)
    with pytest.raises(dc.StartupMeetingNotDueError):
        contract.hold_startup(plan_for(contract), (), "", KONFLIKTRAD, STARTUP_AT - timedelta(minutes=1))
    contract.hold_startup(plan_for(contract), (), "", KONFLIKTRAD, STARTUP_AT)
    assert contract.status is ContractStatus.ACTIVE


def test_a_meeting_held_later_than_it_is_recorded_is_refused_beyond_the_clock_skew() -> None:
    """ "so is any recorded time later than now": a meeting's time, with a device clock a few
    minutes ahead (`CLOCK_SKEW`) allowed for."""
    at = later(contract_in(ContractStatus.ACTIVE))
    with pytest.raises(HeldInFutureError):
        check_held_at(at + CLOCK_SKEW + timedelta(seconds=1), at)
    check_held_at(at + CLOCK_SKEW, at)
    check_held_at(at - timedelta(days=30), at)


def test_a_contract_refuses_a_meeting_held_in_the_future() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    at = later(contract)
    with pytest.raises(HeldInFutureError):
        contract.hold_meeting(MeetingKind.TEAM, at + timedelta(hours=1), True, "", HEALTH, at)
    assert contract.meetings_held == 0


def test_a_sample_collected_after_its_result_is_recorded_is_refused() -> None:
    """ "so is any recorded time later than now": a test's collection time."""
    contract = contract_in(ContractStatus.ACTIVE)
    at = later(contract)
    contract.schedule_test("t1", Kind.RAPID, Purpose.FOLLOW_UP, False, at.date(), KONFLIKTRAD, at)
    with pytest.raises(dc.CollectedInFutureError):
        contract.record_test_result("t1", (), at + timedelta(seconds=1), HEALTH, at)
    assert contract.tests["t1"].positives is None
    contract.record_test_result("t1", (), at, HEALTH, at)
    assert contract.tests["t1"].positives == ()
