"""Replay: the events alone rebuild the contract, and replay never re-runs a guard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from domain import contract_guards
from domain.contract import Contract, ContractStatus
from domain.contract_guards import ContractGuards
from domain.lifecycle import ContractLifecycle
from domain.values import Agency, BreachKind, BreachResponse, MeetingKind, Person, ScopeItem
from domain.values import Category as Cat
from domain.values import TestKind as Kind
from domain.values import TestPurpose as Purpose
from tests.unit.contract_factory import (
    FACTORS,
    HEALTH,
    KONFLIKTRAD,
    PLAN_END,
    PROSECUTOR,
    at_day,
    contract_in,
    later,
    plan_for,
    schedule_and_record,
)

GP_RAPID = ScopeItem(Agency.GP, Cat.RAPID_TEST)


def replay(events: Sequence[Contract.Event]) -> Contract:
    contract: Any = None
    for event in events:
        contract = event.mutate(contract)
    assert isinstance(contract, Contract)
    return contract


def state_of(contract: Contract) -> dict[str, Any]:
    """Everything the aggregate holds, except the events not yet saved."""
    return {k: v for k, v in vars(contract).items() if k != "_pending_events"}


def eventful_contract() -> Contract:
    """A completed contract that went through most of what can happen inside `active`."""
    contract = contract_in(ContractStatus.ACTIVE, trinn=3, scope=(GP_RAPID,))
    for i in range(4):
        schedule_and_record(contract, f"neg{i}")
    contract.amend_plan(plan_for(contract, per_month=2), "four negatives", KONFLIKTRAD, later(contract))
    contract.change_stage(2, "doing well", KONFLIKTRAD, later(contract))
    contract.hold_meeting(MeetingKind.TEAM, later(contract), True, "ok", HEALTH, later(contract))
    contract.record_no_show("conversation", None, HEALTH, later(contract))
    contract.withdraw_consent("guardian:0", (GP_RAPID,), PROSECUTOR, later(contract))
    contract.add_guardian(Person("Nils Nordmann", "05068000051"), KONFLIKTRAD, later(contract))
    contract.give_consent("guardian:1", (), "2026-1", KONFLIKTRAD, later(contract), booklet_language="se")
    schedule_and_record(contract, "lab1", ("THC",), kind=Kind.LAB, purpose=Purpose.FOLLOW_UP)
    contract.register_breach("b1", BreachKind.POSITIVE_TEST, "lab THC", "lab1", KONFLIKTRAD, later(contract))
    contract.decide_breach(
        "b1",
        BreachResponse.NEW_PLAN,
        FACTORS,
        "tighter",
        KONFLIKTRAD,
        later(contract),
        plan=plan_for(contract, per_month=8),
    )
    contract.submit_evaluation("youth", "2026-1", {"helpful": 5}, KONFLIKTRAD, later(contract))
    contract.complete(KONFLIKTRAD, at_day(PLAN_END))
    return contract


def withdrawn_contract() -> Contract:
    contract = contract_in(ContractStatus.BREACH_REVIEW)
    contract.withdraw_consent("youth", None, PROSECUTOR, later(contract))
    contract.return_to_prosecution("consent withdrawn", PROSECUTOR, later(contract))
    return contract


def terminated_on_breach() -> Contract:
    contract = contract_in(ContractStatus.ACTIVE, trinn=2)
    contract.register_breach("b1", BreachKind.NEW_OFFENCE, "new charge", None, KONFLIKTRAD, later(contract))
    contract.decide_breach(
        "b1", BreachResponse.TERMINATE, FACTORS, "new offence", KONFLIKTRAD, later(contract)
    )
    return contract


HISTORIES = {status.value: (lambda s=status: contract_in(s)) for status in ContractStatus} | {
    "eventful-completed": eventful_contract,
    "consent-withdrawn-returned": withdrawn_contract,
    "terminated-on-new-offence": terminated_on_breach,
}


@pytest.mark.parametrize("history", list(HISTORIES))
def test_replaying_the_events_rebuilds_an_equal_contract(history: str) -> None:
    original = HISTORIES[history]()
    events = original.collect_events()

    replayed = replay(events)

    assert state_of(replayed) == state_of(original)
    assert (replayed.status, replayed.version, replayed.trinn) == (
        original.status,
        original.version,
        original.trinn,
    )
    assert replayed.consents == original.consents
    assert replayed.id == original.id


@pytest.mark.parametrize("history", list(HISTORIES))
def test_each_event_leaves_the_replayed_contract_in_the_status_it_records(history: str) -> None:
    contract: Any = None
    for event in HISTORIES[history]().collect_events():
        contract = event.mutate(contract)
        assert contract.status is event.status
        assert contract.version == event.originator_version


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("replay ran a guard")


@pytest.mark.parametrize("history", list(HISTORIES))
def test_replay_runs_no_guard_and_no_state_machine(history: str, monkeypatch: pytest.MonkeyPatch) -> None:
    original = HISTORIES[history]()
    events = original.collect_events()
    for name, member in vars(ContractGuards).items():
        if callable(member) and not name.startswith("__"):
            monkeypatch.setattr(ContractGuards, name, _refuse)
    monkeypatch.setattr(ContractGuards, "__init__", _refuse)
    monkeypatch.setattr(ContractLifecycle, "__init__", _refuse)
    monkeypatch.setattr(contract_guards, "check_plan", _refuse)

    assert state_of(replay(events)) == state_of(original)


def test_a_replayed_contract_accepts_further_commands() -> None:
    replayed = replay(contract_in(ContractStatus.ACTIVE).collect_events())
    schedule_and_record(replayed, "t1", ("THC",), kind=Kind.LAB, purpose=Purpose.FOLLOW_UP)
    replayed.register_breach("b1", BreachKind.POSITIVE_TEST, "lab", "t1", KONFLIKTRAD, later(replayed))
    assert replayed.status is ContractStatus.BREACH_REVIEW
    assert replayed.tests["t1"].confirmed_positive


def test_replay_keeps_the_consent_intervals_so_sharing_can_be_judged_at_any_time() -> None:
    original = eventful_contract()
    replayed = replay(original.collect_events())
    withdrawn = next(
        i for i in replayed.consents.intervals if i.signatory == "guardian:0" and i.item == GP_RAPID
    )
    assert withdrawn.end is not None
    before, after = withdrawn.end - timedelta(seconds=1), withdrawn.end
    assert replayed.consents.basis(Agency.GP, Cat.RAPID_TEST, before) is not None
    assert replayed.consents.basis(Agency.GP, Cat.RAPID_TEST, after) is None
