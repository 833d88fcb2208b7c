"""Drug tests: who records which result, and how the test frequency may change (§5)."""

from __future__ import annotations

import pytest

from domain import contract as dc  # the Test* errors stay out of pytest's class collection
from domain.contract import (
    Contract,
    ContractStatus,
    DuplicateIdError,
    ResultRecorderNotPermittedError,
    UnknownTestError,
)
from domain.values import Agency, BreachKind, BreachResponse
from domain.values import TestKind as Kind
from domain.values import TestPurpose as Purpose
from tests.unit.contract_factory import (
    ACTORS,
    FACTORS,
    HEALTH,
    KONFLIKTRAD,
    RECORDER,
    contract_in,
    later,
    plan_for,
    schedule_and_record,
)

ACTIVE = ContractStatus.ACTIVE
KINDS = [(k, p) for k in Kind for p in Purpose]


def active_with_scheduled(kind: Kind, purpose: Purpose) -> Contract:
    contract = contract_in(ACTIVE)
    contract.schedule_test("t1", kind, purpose, False, later(contract).date(), KONFLIKTRAD, later(contract))
    return contract


# --- who records a result ---


@pytest.mark.parametrize(("kind", "purpose"), KINDS, ids=lambda v: v.value)
def test_a_result_is_recorded_by_the_agency_responsible_for_that_kind_of_test(
    kind: Kind, purpose: Purpose
) -> None:
    contract = active_with_scheduled(kind, purpose)
    recorder, at = RECORDER[(kind, purpose)], later(contract)
    contract.record_test_result("t1", ("THC",), at, recorder, at, requisition_code="REQ-1")
    event = contract.pending_events[-1]
    expected = "RapidTestRecorded" if kind is Kind.RAPID else "LabResultRecorded"
    assert type(event).__name__ == expected
    assert contract.tests["t1"].positives == ("THC",)


def test_rapid_by_health_lab_follow_up_by_gp_and_lab_sanction_by_prosecution() -> None:
    assert {
        (Kind.RAPID, Purpose.FOLLOW_UP): ACTORS[Agency.MUNICIPAL_HEALTH],
        (Kind.RAPID, Purpose.SANCTION): ACTORS[Agency.MUNICIPAL_HEALTH],
        (Kind.LAB, Purpose.FOLLOW_UP): ACTORS[Agency.GP],
        (Kind.LAB, Purpose.SANCTION): ACTORS[Agency.PROSECUTION],
    } == RECORDER


@pytest.mark.parametrize(
    ("kind", "purpose", "agency"),
    [(k, p, a) for k, p in KINDS for a in Agency if a is not RECORDER[(k, p)].agency],
    ids=lambda v: v.value,
)
def test_a_result_recorded_by_any_other_agency_is_refused(
    kind: Kind, purpose: Purpose, agency: Agency
) -> None:
    contract = active_with_scheduled(kind, purpose)
    with pytest.raises(ResultRecorderNotPermittedError):
        contract.record_test_result("t1", (), later(contract), ACTORS[agency], later(contract))
    assert contract.tests["t1"].positives is None


def test_a_lab_result_keeps_its_purpose_so_the_policy_can_route_sanction_results() -> None:
    contract = active_with_scheduled(Kind.LAB, Purpose.SANCTION)
    contract.record_test_result(
        "t1", ("THC",), later(contract), ACTORS[Agency.PROSECUTION], later(contract), requisition_code="REQ-7"
    )
    event = contract.pending_events[-1]
    assert event.purpose is Purpose.SANCTION
    assert event.requisition_code == "REQ-7"


def test_a_result_for_a_test_never_scheduled_is_refused() -> None:
    contract = contract_in(ACTIVE)
    with pytest.raises(UnknownTestError):
        contract.record_test_result("t404", (), later(contract), HEALTH, later(contract))


def test_a_result_is_recorded_only_once() -> None:
    contract = active_with_scheduled(Kind.RAPID, Purpose.FOLLOW_UP)
    contract.record_test_result("t1", (), later(contract), HEALTH, later(contract))
    with pytest.raises(dc.TestResultAlreadyRecordedError):
        contract.record_test_result("t1", ("THC",), later(contract), HEALTH, later(contract))
    assert contract.tests["t1"].positives == ()


def test_a_test_id_is_used_once_per_contract() -> None:
    contract = active_with_scheduled(Kind.RAPID, Purpose.FOLLOW_UP)
    with pytest.raises(DuplicateIdError):
        contract.schedule_test(
            "t1", Kind.LAB, Purpose.SANCTION, False, later(contract).date(), KONFLIKTRAD, later(contract)
        )


# --- test frequency ---


def with_results(results: list[bool]) -> Contract:
    """An active contract (4 tests a month) with one recorded test per result (True=positive)."""
    contract = contract_in(ACTIVE)
    for i, positive in enumerate(results):
        schedule_and_record(contract, f"t{i}", ("THC",) if positive else ())
    return contract


def step_to(contract: Contract, per_month: int) -> None:
    contract.amend_plan(plan_for(contract, per_month=per_month), "frequency", KONFLIKTRAD, later(contract))


def test_test_frequency_may_not_step_down_after_three_consecutive_negative_tests() -> None:
    contract = with_results([False] * 3)
    with pytest.raises(dc.TestFrequencyStepDownError, match="3 consecutive negative tests"):
        step_to(contract, 2)
    assert contract.plan is not None and contract.plan.test_regime.per_month == 4


def test_test_frequency_may_step_down_after_four_consecutive_negative_tests() -> None:
    contract = with_results([False] * 4)
    step_to(contract, 2)
    assert contract.plan is not None and contract.plan.test_regime.per_month == 2


def test_a_positive_test_restarts_the_count_of_consecutive_negative_tests() -> None:
    contract = with_results([False, False, False, True, False, False, False])
    assert contract.consecutive_negatives == 3
    with pytest.raises(dc.TestFrequencyStepDownError):
        step_to(contract, 2)


def test_an_amendment_that_keeps_the_test_frequency_needs_no_negative_tests() -> None:
    contract = contract_in(ACTIVE)
    contract.amend_plan(
        plan_for(contract, meeting_frequency_days=14), "more meetings", KONFLIKTRAD, later(contract)
    )
    assert contract.plan is not None and contract.plan.meeting_frequency_days == 14


def test_test_frequency_may_not_step_up_through_a_plan_amendment() -> None:
    contract = with_results([False] * 4)
    with pytest.raises(dc.TestFrequencyStepUpError):
        step_to(contract, 8)


def test_test_frequency_steps_up_through_a_breach_decision_with_a_new_plan() -> None:
    contract = with_results([True])
    contract.register_breach("b1", BreachKind.POSITIVE_TEST, "THC", "t0", KONFLIKTRAD, later(contract))
    contract.decide_breach(
        "b1",
        BreachResponse.NEW_PLAN,
        FACTORS,
        "more tests",
        KONFLIKTRAD,
        later(contract),
        plan=plan_for(contract, per_month=8),
    )
    assert contract.status is ACTIVE
    assert contract.plan is not None and contract.plan.test_regime.per_month == 8


def test_test_frequency_may_not_step_down_through_a_breach_decision_without_negatives() -> None:
    contract = with_results([True])
    contract.register_breach("b1", BreachKind.POSITIVE_TEST, "THC", "t0", KONFLIKTRAD, later(contract))
    with pytest.raises(dc.TestFrequencyStepDownError):
        contract.decide_breach(
            "b1",
            BreachResponse.NEW_PLAN,
            FACTORS,
            "fewer tests",
            KONFLIKTRAD,
            later(contract),
            plan=plan_for(contract, per_month=1),
        )
