"""Every (status, action) pair the lifecycle does not allow is refused (docs/domain.md §5)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.contract import ContractStatus
from domain.errors import ActionNotAllowedError
from domain.lifecycle import ACTIONS, ContractLifecycle
from tests.unit.contract_factory import COMMANDS, contract_in, later

ALLOWED: dict[str, set[str]] = {
    state.value: {event.id for t in state.transitions for event in t.events}
    for state in ContractLifecycle.states
}


def _refused_pairs() -> list[Any]:
    pairs = []
    for status in ContractStatus:
        for action in ACTIONS:
            if action in ALLOWED[status.value]:
                continue
            pairs.append(pytest.param(status, action, id=f"{status.value}-{action}"))
    return pairs


def test_every_status_of_the_contract_is_a_state_of_the_lifecycle() -> None:
    assert {s.value for s in ContractStatus} == set(ALLOWED)


def test_every_lifecycle_action_has_a_command_the_tests_can_call() -> None:
    assert set(ACTIONS) == set(COMMANDS)


@pytest.mark.parametrize("status", list(ContractStatus), ids=lambda s: s.value)
def test_the_factory_builds_a_contract_in_every_status(status: ContractStatus) -> None:
    assert contract_in(status).status is status


@pytest.mark.parametrize("status", list(ContractStatus), ids=lambda s: s.value)
def test_allowed_actions_are_exactly_those_the_lifecycle_allows_from_the_status(
    status: ContractStatus,
) -> None:
    assert set(contract_in(status).allowed_actions()) == ALLOWED[status.value]


@pytest.mark.parametrize(("status", "action"), _refused_pairs())
def test_an_action_not_allowed_in_the_status_is_refused_with_action_not_allowed(
    status: ContractStatus, action: str
) -> None:
    contract = contract_in(status)
    version = contract.version
    allowed = contract.allowed_actions()

    with pytest.raises(ActionNotAllowedError) as refused:
        COMMANDS[action](contract, later(contract))

    assert refused.value.action == action
    assert refused.value.status == status.value
    assert refused.value.allowed == allowed
    assert action not in refused.value.allowed
    assert contract.status is status
    assert contract.version == version


CLOSED = [
    ContractStatus.COMPLETED,
    ContractStatus.TERMINATED,
    ContractStatus.RETURNED,
    ContractStatus.DECLINED,
    ContractStatus.LAPSED,
]


@pytest.mark.parametrize("status", CLOSED, ids=lambda s: s.value)
def test_no_status_change_ever_leaves_a_closed_case_except_returning_a_terminated_one(
    status: ContractStatus,
) -> None:
    expected = {"submit_evaluation"}
    if status is ContractStatus.TERMINATED:
        # and the scheduler's records of its return deadline, which change no status
        expected |= {"return_to_prosecution", "record_missed_deadline", "escalate"}
    assert ALLOWED[status.value] == expected


def test_the_refusal_names_its_rule() -> None:
    contract = contract_in(ContractStatus.OFFERED)
    with pytest.raises(ActionNotAllowedError) as refused:
        COMMANDS["complete"](contract, later(contract))
    assert refused.value.rule() == "This action is not allowed in the case's current status."
    assert "'complete' is not allowed while the case is 'offered'" in str(refused.value)
