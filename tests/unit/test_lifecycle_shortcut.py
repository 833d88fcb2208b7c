"""Actions inside a status that nothing can refuse skip the machine's engine
(`domain/lifecycle.py unguarded_outcome`): its answer there must be the machine's own."""

from __future__ import annotations

from typing import Any

import pytest

from domain.contract import ContractStatus
from domain.contract_guards import ContractGuards
from domain.lifecycle import ACTIONS, ContractLifecycle, unguarded_outcome
from tests.unit.contract_factory import COMMANDS, contract_in, later

SHORTCUTS = [(s.value, a) for s in ContractStatus for a in ACTIONS if unguarded_outcome(s.value, a)]
GUARD_NAMES = {
    spec.func
    for state in ContractLifecycle.states
    for t in state.transitions
    for group in (t.cond, t.validators, t.before, t.on, t.after)
    for spec in group
    if not spec.is_convention
}
CONVENTION_PREFIXES = ("before_", "on_", "after_", "prepare_")


def _must_not_run(name: str) -> Any:
    def guard(self: Any, *args: Any, **kwargs: Any) -> None:
        pytest.fail(f"guard {name} consulted")

    return guard


# A model whose every guard fails the test if the machine consults it.
GuardsThatMustNotRun = type("GuardsThatMustNotRun", (), {n: _must_not_run(n) for n in GUARD_NAMES})


def test_the_shortcut_covers_the_everyday_actions_and_no_status_change() -> None:
    assert {
        ("active", "hold_meeting"),
        ("active", "schedule_test"),
        ("breach_review", "record_no_show"),
    } <= set(SHORTCUTS)
    assert ("active", "change_stage") not in SHORTCUTS  # has a validator
    assert ("offered", "give_consent") not in SHORTCUTS  # two branches, one conditional
    assert ("consented", "schedule_startup") not in SHORTCUTS  # changes the status
    assert all(unguarded_outcome(status, action) == status for status, action in SHORTCUTS)


@pytest.mark.parametrize(("status", "action"), SHORTCUTS, ids=lambda p: str(p))
def test_the_machine_gives_the_same_answer_without_consulting_any_guard(status: str, action: str) -> None:
    machine = ContractLifecycle(model=GuardsThatMustNotRun(), start_value=status)
    machine.send(action)
    assert machine.current_state_value == unguarded_outcome(status, action)


def test_neither_the_guards_nor_the_machine_define_a_callback_the_shortcut_would_skip() -> None:
    for owner in (ContractGuards, ContractLifecycle):
        conventional = [n for n in vars(owner) if n.startswith(CONVENTION_PREFIXES)]
        assert conventional == [], f"{owner.__name__} defines {conventional}"


def test_a_shortcut_action_does_not_run_the_engine_and_a_guarded_one_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[str] = []
    original = ContractLifecycle.send

    def counting(self: ContractLifecycle, event: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(event)
        return original(self, event, *args, **kwargs)

    contract = contract_in(ContractStatus.ACTIVE)
    monkeypatch.setattr(ContractLifecycle, "send", counting)
    COMMANDS["hold_meeting"](contract, later(contract))
    assert sent == []
    COMMANDS["change_stage"](contract, later(contract))
    assert sent == ["change_stage"]
