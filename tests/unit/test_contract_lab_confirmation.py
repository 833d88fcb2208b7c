"""A lab test that confirms or refutes a rapid positive, and who records a result (§5).

A rapid test is only an indication: a breach resting on it becomes terminable once a lab
result confirming that rapid test is positive; a negative lab result refutes it, so it no
longer breaks the series of negatives for a step down and its breach can be dismissed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import contract as dc  # the Test* errors stay out of pytest's class collection
from domain.contract import (
    BreachEvidenceError,
    BreachNotRefutedError,
    ConfirmedTestInvalidError,
    Contract,
    ContractStatus,
    RapidTestNotConfirmedError,
    RequisitionCodeRequiredError,
    ResultRecorderInvalidError,
    ResultRecorderNotPermittedError,
)
from domain.values import Agency, BreachKind, BreachResponse
from domain.values import TestKind as Kind
from domain.values import TestPurpose as Purpose
from tests.unit.contract_factory import (
    ACTORS,
    FACTORS,
    GP,
    HEALTH,
    KONFLIKTRAD,
    PROSECUTOR,
    contract_in,
    later,
    plan_for,
    schedule_and_record,
)

ACTIVE, REVIEW = ContractStatus.ACTIVE, ContractStatus.BREACH_REVIEW


def schedule_lab(contract: Contract, lab_id: str, confirms: str | None = None, **kwargs: object) -> None:
    at = later(contract)
    contract.schedule_test(
        lab_id, Kind.LAB, Purpose.FOLLOW_UP, False, at.date(), GP, at, confirms_test_id=confirms, **kwargs
    )


def record_lab(
    contract: Contract,
    lab_id: str,
    positives: tuple[str, ...],
    code: str = "LAB-77",
    confirms: str | None = None,
) -> None:
    at = later(contract)
    contract.record_test_result(
        lab_id, positives, at, GP, at, requisition_code=code, confirms_test_id=confirms
    )


def rapid_breach(contract: Contract | None = None, rapid_id: str = "r1", breach_id: str = "b1") -> Contract:
    """An active contract (trinn 2) with a positive rapid test and a breach resting on it."""
    contract = contract or contract_in(ACTIVE)
    schedule_and_record(contract, rapid_id, ("THC",))
    contract.register_breach(
        breach_id, BreachKind.POSITIVE_TEST, "rapid THC", rapid_id, KONFLIKTRAD, later(contract)
    )
    return contract


def decide(contract: Contract, response: BreachResponse, breach_id: str = "b1") -> None:
    contract.decide_breach(breach_id, response, FACTORS, "reasons", KONFLIKTRAD, later(contract))


# --- confirmation makes a rapid breach terminable ---


def test_a_breach_on_a_rapid_positive_is_terminable_once_a_lab_result_confirms_it() -> None:
    contract = rapid_breach()
    schedule_lab(contract, "lab1", confirms="r1")
    with pytest.raises(RapidTestNotConfirmedError):
        decide(contract, BreachResponse.TERMINATE)  # the confirmation is requisitioned, not yet in
    record_lab(contract, "lab1", ("THC",))
    assert contract.tests["r1"].confirmed_positive and contract.tests["r1"].verdict is True
    decide(contract, BreachResponse.TERMINATE)
    assert contract.status is ContractStatus.TERMINATED


def test_the_lab_result_records_the_rapid_test_it_confirms() -> None:
    contract = rapid_breach()
    schedule_lab(contract, "lab1", confirms="r1")
    record_lab(contract, "lab1", ("THC",))
    event = contract.pending_events[-1]
    assert type(event).__name__ == "LabResultRecorded" and event.confirms_test_id == "r1"
    assert contract.pending_events[-2].confirms_test_id == "r1"  # the requisition names it too


def test_a_lab_result_may_name_the_rapid_test_it_confirms_when_the_requisition_did_not() -> None:
    contract = rapid_breach()
    schedule_lab(contract, "lab1")
    record_lab(contract, "lab1", ("THC",), confirms="r1")
    decide(contract, BreachResponse.TERMINATE)
    assert contract.status is ContractStatus.TERMINATED


def test_a_lab_result_may_not_confirm_another_test_than_its_requisition_names() -> None:
    contract = rapid_breach()
    schedule_and_record(contract, "r2", ("AMP",))
    schedule_lab(contract, "lab1", confirms="r1")
    with pytest.raises(ConfirmedTestInvalidError):
        record_lab(contract, "lab1", ("THC",), confirms="r2")
    assert contract.tests["lab1"].positives is None


def test_an_unrelated_lab_positive_does_not_confirm_the_rapid_test() -> None:
    contract = rapid_breach()
    schedule_lab(contract, "lab1")
    record_lab(contract, "lab1", ("THC",))
    with pytest.raises(RapidTestNotConfirmedError):
        decide(contract, BreachResponse.TERMINATE)


# --- refutation voids the rapid positive ---


def test_a_refuted_rapid_positive_no_longer_resets_the_count_of_negatives() -> None:
    contract = contract_in(ACTIVE)
    for i in range(3):
        schedule_and_record(contract, f"n{i}", ())
    schedule_and_record(contract, "r1", ("THC",))
    assert contract.consecutive_negatives == 0
    with pytest.raises(dc.TestFrequencyStepDownError):
        contract.amend_plan(plan_for(contract, per_month=2), "fewer", KONFLIKTRAD, later(contract))
    schedule_lab(contract, "lab1", confirms="r1")
    record_lab(contract, "lab1", ())
    assert contract.tests["r1"].refuted
    assert contract.consecutive_negatives == 4, "the refuted positive counts as negative, the lab not again"
    contract.amend_plan(plan_for(contract, per_month=2), "four negatives", KONFLIKTRAD, later(contract))
    assert contract.plan is not None and contract.plan.test_regime.per_month == 2


def test_a_confirmed_rapid_positive_still_breaks_the_series() -> None:
    contract = contract_in(ACTIVE)
    for i in range(3):
        schedule_and_record(contract, f"n{i}", ())
    schedule_and_record(contract, "r1", ("THC",))
    schedule_lab(contract, "lab1", confirms="r1")
    record_lab(contract, "lab1", ("THC",))
    schedule_and_record(contract, "n3", ())
    assert contract.consecutive_negatives == 1


def test_a_breach_on_a_refuted_rapid_test_is_dismissed_and_never_terminated() -> None:
    contract = rapid_breach()
    schedule_lab(contract, "lab1", confirms="r1")
    record_lab(contract, "lab1", ())
    with pytest.raises(RapidTestNotConfirmedError):
        decide(contract, BreachResponse.TERMINATE)
    decide(contract, BreachResponse.DISMISSED)
    assert contract.status is ACTIVE
    assert contract.standing_breaches() == 0


@pytest.mark.parametrize("verdict", [None, ("THC",)], ids=["unconfirmed", "confirmed"])
def test_a_positive_test_breach_is_not_dismissed_unless_a_lab_refuted_its_test(
    verdict: tuple[str, ...] | None,
) -> None:
    contract = rapid_breach()
    if verdict is not None:
        schedule_lab(contract, "lab1", confirms="r1")
        record_lab(contract, "lab1", verdict)
    with pytest.raises(BreachNotRefutedError):
        decide(contract, BreachResponse.DISMISSED)
    assert contract.status is REVIEW


def test_a_breach_cannot_be_registered_on_a_refuted_rapid_test() -> None:
    contract = contract_in(ACTIVE)
    schedule_and_record(contract, "r1", ("THC",))
    schedule_lab(contract, "lab1", confirms="r1")
    record_lab(contract, "lab1", ())
    with pytest.raises(BreachEvidenceError):
        contract.register_breach("b1", BreachKind.POSITIVE_TEST, "rapid", "r1", KONFLIKTRAD, later(contract))


# --- what a lab test may confirm ---


def test_a_lab_test_confirms_only_a_positive_rapid_test_of_this_contract() -> None:
    contract = contract_in(ACTIVE)
    schedule_and_record(contract, "neg", ())
    schedule_and_record(contract, "lab-pos", ("THC",), kind=Kind.LAB)
    at = later(contract)
    contract.schedule_test("pending", Kind.RAPID, Purpose.FOLLOW_UP, False, at.date(), KONFLIKTRAD, at)
    for confirms in ("neg", "lab-pos", "pending", "t404"):
        with pytest.raises(ConfirmedTestInvalidError):
            schedule_lab(contract, "lab1", confirms=confirms)
    assert "lab1" not in contract.tests


def test_only_a_lab_test_confirms_a_rapid_test() -> None:
    contract = contract_in(ACTIVE)
    schedule_and_record(contract, "r1", ("THC",))
    at = later(contract)
    with pytest.raises(ConfirmedTestInvalidError):
        contract.schedule_test(
            "r2", Kind.RAPID, Purpose.FOLLOW_UP, False, at.date(), KONFLIKTRAD, at, confirms_test_id="r1"
        )


def test_a_rapid_test_is_confirmed_by_one_lab_test_only() -> None:
    contract = contract_in(ACTIVE)
    schedule_and_record(contract, "r1", ("THC",))
    schedule_lab(contract, "lab1", confirms="r1")
    with pytest.raises(ConfirmedTestInvalidError, match="lab test lab1"):
        schedule_lab(contract, "lab2", confirms="r1")
    schedule_lab(contract, "lab2")
    with pytest.raises(ConfirmedTestInvalidError):
        record_lab(contract, "lab2", (), confirms="r1")


# --- the requisition code and the recorder ---


@pytest.mark.parametrize("code", ["", "   "], ids=["empty", "blank"])
def test_a_lab_result_without_a_requisition_code_is_refused(code: str) -> None:
    contract = contract_in(ACTIVE)
    schedule_lab(contract, "lab1")
    with pytest.raises(RequisitionCodeRequiredError):
        record_lab(contract, "lab1", (), code=code)
    assert contract.tests["lab1"].positives is None


def test_a_rapid_result_needs_no_requisition_code() -> None:
    contract = contract_in(ACTIVE)
    at = later(contract)
    contract.schedule_test("r1", Kind.RAPID, Purpose.FOLLOW_UP, False, at.date(), KONFLIKTRAD, at)
    contract.record_test_result("r1", (), at + timedelta(hours=1), HEALTH, at + timedelta(hours=1))
    assert contract.tests["r1"].positives == ()


def test_the_requisition_may_name_municipal_health_to_record_a_follow_up_lab_result() -> None:
    contract = contract_in(ACTIVE)
    schedule_lab(contract, "lab1", result_by=Agency.MUNICIPAL_HEALTH)
    assert contract.pending_events[-1].result_by is Agency.MUNICIPAL_HEALTH
    at = later(contract)
    with pytest.raises(ResultRecorderNotPermittedError, match="the requisition names municipal_health"):
        contract.record_test_result("lab1", (), at, GP, at, requisition_code="LAB-1")
    contract.record_test_result("lab1", (), at, HEALTH, at, requisition_code="LAB-1")
    assert contract.tests["lab1"].positives == ()


def test_the_requisition_records_the_default_recorder_when_it_names_none() -> None:
    contract = contract_in(ACTIVE)
    schedule_lab(contract, "lab1")
    assert contract.pending_events[-1].result_by is Agency.GP
    at = later(contract)
    contract.schedule_test("s1", Kind.LAB, Purpose.SANCTION, False, at.date(), KONFLIKTRAD, at)
    assert contract.pending_events[-1].result_by is Agency.PROSECUTION
    contract.record_test_result("s1", ("THC",), at, PROSECUTOR, at, requisition_code="S-1")


@pytest.mark.parametrize(
    ("kind", "purpose", "agency"),
    [
        (Kind.RAPID, Purpose.FOLLOW_UP, Agency.GP),
        (Kind.LAB, Purpose.SANCTION, Agency.GP),
        (Kind.LAB, Purpose.FOLLOW_UP, Agency.PROSECUTION),
        (Kind.LAB, Purpose.FOLLOW_UP, Agency.SCHOOL),
    ],
    ids=lambda v: v.value,
)
def test_a_requisition_naming_an_agency_that_may_not_record_that_test_is_refused(
    kind: Kind, purpose: Purpose, agency: Agency
) -> None:
    contract = contract_in(ACTIVE)
    at = later(contract)
    with pytest.raises(ResultRecorderInvalidError):
        contract.schedule_test(
            "t1", kind, purpose, False, at.date(), ACTORS[Agency.KONFLIKTRAD], at, result_by=agency
        )
    assert "t1" not in contract.tests
