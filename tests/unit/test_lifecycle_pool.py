"""Lifecycle machines are lent to one judgement at a time and reused afterwards
(`domain/lifecycle.py LifecyclePool`): never shared by two callers at once, and idle
only once their model has forgotten the command."""

from __future__ import annotations

from typing import Any

import pytest

from domain.contract import ContractStatus
from domain.contract_guards import ContractGuards
from domain.lifecycle import ContractLifecycle, LifecyclePool
from tests.unit.contract_factory import COMMANDS, contract_in, later


def test_two_judgements_at_once_get_two_machines_and_later_ones_reuse_them() -> None:
    pool = LifecyclePool(ContractGuards)
    with pool.judging("active") as first, pool.judging("offered") as second:
        assert first is not second
        assert (first.current_state_value, second.current_state_value) == ("active", "offered")
    with pool.judging("consented") as again:
        assert again in (first, second)
        assert again.current_state_value == "consented"


def test_a_machine_comes_back_with_its_model_forgotten_even_after_a_refusal() -> None:
    pool = LifecyclePool(ContractGuards)
    with pytest.raises(RuntimeError), pool.judging("active") as machine:
        machine.model.judgement = object()
        raise RuntimeError("a guard refused")
    assert machine.model.judgement is None
    with pool.judging("active") as again:
        assert again is machine


def test_guarded_commands_one_after_another_build_no_new_machine_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    built: list[ContractLifecycle] = []
    init = ContractLifecycle.__init__

    def counting(self: ContractLifecycle, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(ContractLifecycle, "__init__", counting)
    for _ in range(3):
        COMMANDS["change_stage"](contract, later(contract))
    assert len(built) <= 1
