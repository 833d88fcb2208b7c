"""Readings of domain.md §4–§5 where the text leaves a choice, pinned down as tests."""

from __future__ import annotations

from datetime import date

import pytest

import domain.contract as dc
from domain.contract import ContractStatus
from domain.values import Agency, BreachKind, BreachResponse, Category, ScopeItem
from tests.unit.contract_factory import (
    BOOKLET,
    FACTORS,
    KONFLIKTRAD,
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
        contract.hold_startup(plan_for(contract, per_month=0), (), "", KONFLIKTRAD, later(contract))
