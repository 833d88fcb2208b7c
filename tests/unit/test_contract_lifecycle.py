"""Every allowed transition of the lifecycle table (docs/domain.md §5), from its source state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from domain.contract import Contract, ContractStatus
from domain.lifecycle import ContractLifecycle
from domain.values import (
    Agency,
    BreachKind,
    BreachResponse,
    MeetingKind,
    TerminationReason,
)
from domain.values import TestKind as Kind
from domain.values import TestPurpose as Purpose
from tests.unit.contract_factory import (
    BOOKLET,
    COMMANDS,
    CONSENT_AT,
    FACTORS,
    HEALTH,
    KONFLIKTRAD,
    PLAN_END,
    PLAN_START,
    PROSECUTOR,
    STARTUP_AT,
    T0,
    at_day,
    contract_in,
    later,
    offer,
    plan_for,
)

ACTIVE, REVIEW = ContractStatus.ACTIVE, ContractStatus.BREACH_REVIEW


def last_event_names(contract: Contract, count: int) -> list[str]:
    return [type(e).__name__ for e in contract.pending_events[-count:]]


def test_an_offer_becomes_consented_when_the_youth_and_every_guardian_have_consented() -> None:
    contract = offer(guardian_count=2)
    for signatory in ("youth", "guardian:0"):
        contract.give_consent(signatory, (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
        assert contract.status is ContractStatus.OFFERED
    contract.give_consent("guardian:1", (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    assert contract.status is ContractStatus.CONSENTED
    assert contract.consented_at == CONSENT_AT


def test_an_offer_is_declined_by_a_signatory() -> None:
    contract = offer()
    contract.decline("guardian:0", PROSECUTOR, CONSENT_AT)
    assert contract.status is ContractStatus.DECLINED
    assert last_event_names(contract, 1) == ["OfferDeclined"]


def test_an_offer_lapses_the_day_after_its_answer_deadline() -> None:
    contract = offer()
    assert contract.offer_deadline == T0.date() + timedelta(days=14)
    contract.lapse(PROSECUTOR, at_day(contract.offer_deadline + timedelta(days=1), hour=0))
    assert contract.status is ContractStatus.LAPSED


def test_an_offer_does_not_lapse_on_its_answer_deadline() -> None:
    from domain.contract import OfferDeadlineNotPassedError

    contract = offer()
    with pytest.raises(OfferDeadlineNotPassedError):
        contract.lapse(PROSECUTOR, at_day(contract.offer_deadline, hour=23, minute=59))
    assert contract.status is ContractStatus.OFFERED


def test_a_consented_contract_gets_a_startup_meeting_scheduled() -> None:
    contract = contract_in(ContractStatus.CONSENTED)
    contract.schedule_startup(STARTUP_AT, (Agency.KONFLIKTRAD,), KONFLIKTRAD, later(contract))
    assert contract.status is ContractStatus.STARTUP_SCHEDULED
    assert contract.startup_at == STARTUP_AT


def test_holding_the_startup_meeting_with_an_agreed_plan_activates_the_contract() -> None:
    contract = contract_in(ContractStatus.STARTUP_SCHEDULED)
    plan = plan_for(contract, trinn=3)
    contract.hold_startup(plan, (Agency.KONFLIKTRAD,), "agreed", KONFLIKTRAD, STARTUP_AT)
    assert contract.status is ACTIVE
    assert contract.plan == plan
    assert contract.trinn == 3
    assert last_event_names(contract, 2) == ["StartupMeetingHeld", "PlanAgreed"]


def test_a_failed_startup_terminates_the_contract_because_no_plan_was_established() -> None:
    contract = contract_in(ContractStatus.STARTUP_SCHEDULED)
    contract.fail_startup("the youth did not come", KONFLIKTRAD, STARTUP_AT)
    assert contract.status is ContractStatus.TERMINATED
    assert contract.termination_reason is TerminationReason.PLAN_NOT_ESTABLISHED


def test_registering_a_breach_puts_an_active_contract_under_review() -> None:
    contract = contract_in(ACTIVE)
    contract.register_breach("b9", BreachKind.OTHER, "missed curfew", None, KONFLIKTRAD, later(contract))
    assert contract.status is REVIEW
    assert contract.open_breach_id == "b9"


@pytest.mark.parametrize(
    "response",
    [r for r in BreachResponse if r is not BreachResponse.TERMINATE],
    ids=lambda r: r.value,
)
def test_a_breach_decision_short_of_termination_returns_the_contract_to_active(
    response: BreachResponse,
) -> None:
    contract = contract_in(REVIEW)
    plan = plan_for(contract, per_month=8) if response is BreachResponse.NEW_PLAN else None
    contract.decide_breach("b1", response, FACTORS, "proportionate", KONFLIKTRAD, later(contract), plan=plan)
    assert contract.status is ACTIVE
    assert contract.open_breach_id is None
    assert contract.breaches["b1"].response is response
    if plan is not None:
        assert contract.plan == plan


def test_a_grounded_termination_decision_terminates_the_contract() -> None:
    contract = contract_in(ACTIVE)
    contract.register_breach("b9", BreachKind.NEW_OFFENCE, "new charge", None, KONFLIKTRAD, later(contract))
    contract.decide_breach(
        "b9", BreachResponse.TERMINATE, FACTORS, "new offence", KONFLIKTRAD, later(contract)
    )
    assert contract.status is ContractStatus.TERMINATED
    assert contract.termination_reason is TerminationReason.NEW_OFFENCE
    assert last_event_names(contract, 2) == ["BreachDecided", "ContractTerminated"]
    assert contract.pending_events[-2].status is REVIEW  # the decision itself, then the end


def test_an_active_contract_is_completed_on_its_end_date() -> None:
    contract = contract_in(ACTIVE)
    contract.complete(KONFLIKTRAD, at_day(PLAN_END))
    assert contract.status is ContractStatus.COMPLETED
    assert contract.completed_on == PLAN_END


@pytest.mark.parametrize(
    "status",
    [ContractStatus.CONSENTED, ContractStatus.STARTUP_SCHEDULED, ACTIVE, REVIEW],
    ids=lambda s: s.value,
)
@pytest.mark.parametrize("signatory", ["youth", "guardian:0"])
def test_withdrawing_the_contract_consent_terminates_the_contract(
    status: ContractStatus, signatory: str
) -> None:
    contract = contract_in(status)
    contract.withdraw_consent(signatory, None, PROSECUTOR, later(contract))
    assert contract.status is ContractStatus.TERMINATED
    assert contract.termination_reason is TerminationReason.CONSENT_WITHDRAWN
    assert last_event_names(contract, 2) == ["ConsentWithdrawn", "ContractTerminated"]


def test_withdrawing_a_consent_while_the_offer_is_open_keeps_it_offered() -> None:
    contract = offer()
    contract.give_consent("youth", (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
    contract.withdraw_consent("youth", None, PROSECUTOR, later(contract))
    contract.give_consent("guardian:0", (), BOOKLET, KONFLIKTRAD, later(contract))
    assert contract.status is ContractStatus.OFFERED


def test_a_terminated_contract_is_returned_to_the_prosecution() -> None:
    contract = contract_in(ContractStatus.TERMINATED)
    contract.return_to_prosecution("new decision needed", PROSECUTOR, later(contract))
    assert contract.status is ContractStatus.RETURNED


# --- inside a status: no status change ---


def _schedule_t1(c: Contract) -> None:
    c.schedule_test("t1", Kind.RAPID, Purpose.FOLLOW_UP, True, PLAN_START, KONFLIKTRAD, later(c))


def _record_t1(c: Contract) -> None:
    _schedule_t1(c)
    c.record_test_result("t1", (), later(c), HEALTH, later(c))


def _amend(c: Contract) -> None:
    c.amend_plan(plan_for(c, meeting_frequency_days=14), "more meetings", KONFLIKTRAD, later(c))


def _meet(c: Contract) -> None:
    c.hold_meeting(MeetingKind.MOTIVATIONAL_INTERVIEW, later(c), True, "ok", HEALTH, later(c))


def _evaluate(c: Contract) -> None:
    c.submit_evaluation("guardian", "2026-1", {"understood_consent": True}, KONFLIKTRAD, later(c))


IN_STATUS: dict[str, Callable[[Contract], None]] = {
    "change_stage": lambda c: c.change_stage(3, "needs more", KONFLIKTRAD, later(c)),
    "amend_plan": _amend,
    "schedule_test": _schedule_t1,
    "record_test_result": _record_t1,
    "hold_meeting": _meet,
    "record_no_show": lambda c: c.record_no_show("team meeting", "ill", HEALTH, later(c)),
    "submit_evaluation": _evaluate,
}
IN_REVIEW = ["schedule_test", "record_test_result", "hold_meeting", "record_no_show", "submit_evaluation"]
CLOSED = [
    ContractStatus.COMPLETED,
    ContractStatus.TERMINATED,
    ContractStatus.RETURNED,
    ContractStatus.DECLINED,
    ContractStatus.LAPSED,
]
IN_STATUS_CASES = (
    [(ACTIVE, action) for action in IN_STATUS]
    + [(REVIEW, action) for action in IN_REVIEW]
    + [(status, "submit_evaluation") for status in CLOSED]
)
IN_STATUS_IDS = [f"{s.value}-{a}" for s, a in IN_STATUS_CASES]


@pytest.mark.parametrize(("status", "action"), IN_STATUS_CASES, ids=IN_STATUS_IDS)
def test_an_in_status_action_is_recorded_without_changing_the_status(
    status: ContractStatus, action: str
) -> None:
    contract = contract_in(status)
    version = contract.version
    IN_STATUS[action](contract)
    assert contract.status is status
    assert contract.version > version
    assert all(e.status is status for e in contract.pending_events[version:])


def test_the_machine_that_judged_a_command_keeps_no_contract_once_it_is_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    judged_by: list[ContractLifecycle] = []
    send = ContractLifecycle.send

    def recording(self: ContractLifecycle, event: str, *args: Any, **kwargs: Any) -> Any:
        judged_by.append(self)
        return send(self, event, *args, **kwargs)

    active = contract_in(ContractStatus.ACTIVE)
    monkeypatch.setattr(ContractLifecycle, "send", recording)
    COMMANDS["change_stage"](active, later(active))  # a guarded action: the machine judges it
    assert len(judged_by) == 1
    assert judged_by[0].model.judgement is None
