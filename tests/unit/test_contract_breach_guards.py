"""Breaches and their decisions: evidence, grounds for termination, trinn 1, proportionality."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.contract import (
    BreachEvidenceError,
    Contract,
    ContractStatus,
    ProportionalityFactorsMissingError,
    RapidTestNotConfirmedError,
    StageOneSingleBreachError,
    TerminationNotGroundedError,
    UnknownBreachError,
)
from domain.values import BreachKind, BreachResponse, ProportionalityFactors, TerminationReason
from domain.values import TestKind as Kind
from domain.values import TestPurpose as Purpose
from tests.unit.contract_factory import (
    FACTORS,
    HEALTH,
    KONFLIKTRAD,
    contract_in,
    later,
    schedule_and_record,
)

ACTIVE, REVIEW = ContractStatus.ACTIVE, ContractStatus.BREACH_REVIEW
TERMINATE, WARNING = BreachResponse.TERMINATE, BreachResponse.WARNING


def breach(contract: Contract, breach_id: str, kind: BreachKind, test_id: str | None = None) -> None:
    contract.register_breach(breach_id, kind, "evidence", test_id, KONFLIKTRAD, later(contract))


def decide(
    contract: Contract,
    breach_id: str,
    response: BreachResponse,
    factors: ProportionalityFactors | None = FACTORS,
) -> None:
    contract.decide_breach(breach_id, response, factors, "reasons", KONFLIKTRAD, later(contract))


def positive_breach(
    trinn: int = 2,
    kind: Kind = Kind.RAPID,
    purpose: Purpose = Purpose.FOLLOW_UP,
    breach_id: str = "b1",
    contract: Contract | None = None,
) -> Contract:
    """An active contract with a positive test and a breach registered on it."""
    contract = contract or contract_in(ACTIVE, trinn=trinn)
    test_id = f"t-{breach_id}"
    schedule_and_record(contract, test_id, ("THC",), kind=kind, purpose=purpose)
    breach(contract, breach_id, BreachKind.POSITIVE_TEST, test_id)
    return contract


# --- evidence ---


def test_a_positive_test_breach_must_rest_on_a_recorded_positive_result() -> None:
    contract = contract_in(ACTIVE)
    schedule_and_record(contract, "neg", ())
    contract.schedule_test(
        "pending", Kind.LAB, Purpose.FOLLOW_UP, False, later(contract).date(), KONFLIKTRAD, later(contract)
    )
    for test_id in ("neg", "pending", "t404", None):
        with pytest.raises(BreachEvidenceError):
            breach(contract, "b1", BreachKind.POSITIVE_TEST, test_id)
    assert contract.status is ACTIVE


# --- rapid versus lab ---


def test_termination_is_refused_on_a_breach_resting_on_an_unconfirmed_rapid_test() -> None:
    contract = positive_breach(kind=Kind.RAPID)
    with pytest.raises(RapidTestNotConfirmedError):
        decide(contract, "b1", TERMINATE)
    assert contract.status is REVIEW
    decide(contract, "b1", WARNING)
    assert contract.status is ACTIVE


def test_termination_is_refused_on_a_rapid_test_breach_even_when_breaches_are_repeated() -> None:
    contract = positive_breach(breach_id="b1")
    decide(contract, "b1", WARNING)
    positive_breach(breach_id="b2", contract=contract)
    with pytest.raises(RapidTestNotConfirmedError):
        decide(contract, "b2", TERMINATE)


@pytest.mark.parametrize("purpose", list(Purpose), ids=lambda p: p.value)
def test_termination_is_allowed_on_a_confirmed_positive_lab_result_at_trinn_2(
    purpose: Purpose,
) -> None:
    contract = positive_breach(trinn=2, kind=Kind.LAB, purpose=purpose)
    decide(contract, "b1", TERMINATE)
    assert contract.status is ContractStatus.TERMINATED
    assert contract.termination_reason is TerminationReason.REPEATED_BREACHES


# --- trinn 1 ---


def test_termination_of_a_single_breach_at_trinn_1_is_refused_even_on_a_lab_result() -> None:
    contract = positive_breach(trinn=1, kind=Kind.LAB)
    with pytest.raises(StageOneSingleBreachError):
        decide(contract, "b1", TERMINATE)
    assert contract.status is REVIEW


def test_termination_of_a_second_breach_at_trinn_1_is_allowed() -> None:
    contract = positive_breach(trinn=1, kind=Kind.LAB, breach_id="b1")
    decide(contract, "b1", WARNING)
    positive_breach(kind=Kind.LAB, breach_id="b2", contract=contract)
    decide(contract, "b2", TERMINATE)
    assert contract.status is ContractStatus.TERMINATED


def test_repeated_no_shows_do_not_make_a_single_breach_at_trinn_1_terminable() -> None:
    contract = contract_in(ACTIVE, trinn=1)
    for appointment in ("conversation 1", "conversation 2"):
        contract.record_no_show(appointment, None, HEALTH, later(contract))
    breach(contract, "b1", BreachKind.NO_SHOW)
    with pytest.raises(StageOneSingleBreachError):
        decide(contract, "b1", TERMINATE)


@pytest.mark.parametrize(
    "response",
    [BreachResponse.CONVERSATION, WARNING, BreachResponse.DISMISSED],
    ids=lambda r: r.value,
)
def test_a_single_breach_at_trinn_1_is_answered_with_a_conversation_a_warning_or_dismissal(
    response: BreachResponse,
) -> None:
    contract = contract_in(ACTIVE, trinn=1)
    breach(contract, "b1", BreachKind.OTHER)
    decide(contract, "b1", response)
    assert contract.status is ACTIVE
    assert contract.breaches["b1"].response is response


@pytest.mark.parametrize(
    "response",
    [BreachResponse.TIGHTENED_CONDITIONS, BreachResponse.NEW_PLAN, TERMINATE],
    ids=lambda r: r.value,
)
def test_a_single_breach_at_trinn_1_is_never_answered_with_tightening_a_new_plan_or_termination(
    response: BreachResponse,
) -> None:
    contract = positive_breach(trinn=1, kind=Kind.LAB)
    with pytest.raises(StageOneSingleBreachError):
        decide(contract, "b1", response)
    assert contract.status is REVIEW
    assert contract.breaches["b1"].response is None


def test_a_second_breach_at_trinn_1_may_be_answered_with_tightened_conditions() -> None:
    contract = contract_in(ACTIVE, trinn=1)
    breach(contract, "b1", BreachKind.OTHER)
    decide(contract, "b1", BreachResponse.CONVERSATION)
    breach(contract, "b2", BreachKind.OTHER)
    decide(contract, "b2", BreachResponse.TIGHTENED_CONDITIONS)
    assert contract.status is ACTIVE


def test_a_dismissed_breach_does_not_count_towards_repeated_breaches() -> None:
    contract = contract_in(ACTIVE, trinn=1)
    breach(contract, "b1", BreachKind.OTHER)
    decide(contract, "b1", BreachResponse.DISMISSED)
    breach(contract, "b2", BreachKind.OTHER)
    with pytest.raises(StageOneSingleBreachError):
        decide(contract, "b2", BreachResponse.TIGHTENED_CONDITIONS)
    decide(contract, "b2", BreachResponse.CONVERSATION)
    assert contract.standing_breaches() == 1


def test_a_dismissed_breach_does_not_ground_termination_as_a_repeated_breach() -> None:
    contract = contract_in(REVIEW)  # trinn 2, breach b1 of kind "other"
    decide(contract, "b1", BreachResponse.DISMISSED)
    breach(contract, "b2", BreachKind.OTHER)
    with pytest.raises(TerminationNotGroundedError):
        decide(contract, "b2", TERMINATE)


@pytest.mark.parametrize(
    "response", [BreachResponse.CONVERSATION, BreachResponse.DISMISSED], ids=lambda r: r.value
)
def test_a_breach_talk_or_a_dismissal_returns_the_contract_to_active_at_any_trinn(
    response: BreachResponse,
) -> None:
    contract = contract_in(REVIEW)
    decide(contract, "b1", response)
    assert contract.status is ACTIVE and contract.open_breach_id is None
    assert contract.pending_events[-1].response is response


# --- other grounds for termination ---


def test_termination_of_a_single_ungrounded_breach_is_refused() -> None:
    contract = contract_in(REVIEW)  # one breach of kind "other"
    with pytest.raises(TerminationNotGroundedError):
        decide(contract, "b1", TERMINATE)


def test_termination_is_allowed_on_repeated_breaches() -> None:
    contract = contract_in(REVIEW)
    decide(contract, "b1", WARNING)
    breach(contract, "b2", BreachKind.OTHER)
    decide(contract, "b2", TERMINATE)
    assert contract.termination_reason is TerminationReason.REPEATED_BREACHES


@pytest.mark.parametrize(
    ("excuses", "grounded"),
    [((None,), False), ((None, "ill"), False), ((None, ""), True), ((None, None), True)],
    ids=["one-unexcused", "second-excused", "blank-excuse-counts", "two-unexcused"],
)
def test_termination_on_no_shows_needs_two_unexcused_no_shows(
    excuses: tuple[str | None, ...], grounded: bool
) -> None:
    contract = contract_in(ACTIVE)
    for i, excuse in enumerate(excuses):
        contract.record_no_show(f"meeting {i}", excuse, HEALTH, later(contract))
    breach(contract, "b1", BreachKind.NO_SHOW)
    if grounded:
        decide(contract, "b1", TERMINATE)
        assert contract.status is ContractStatus.TERMINATED
    else:
        with pytest.raises(TerminationNotGroundedError):
            decide(contract, "b1", TERMINATE)


def test_a_decision_on_a_breach_not_under_review_is_refused() -> None:
    contract = contract_in(REVIEW)
    with pytest.raises(UnknownBreachError):
        decide(contract, "b2", WARNING)


# --- proportionality factors ---

BLANKS = (
    [None]
    + [
        replace(FACTORS, **{name: blank})
        for name in ("seriousness", "fault", "condition_kind", "motivation")
        for blank in ("", "   ")
    ]
    + [replace(FACTORS, completed_share=share) for share in (-0.01, 1.01)]
)


@pytest.mark.parametrize("response", [WARNING, TERMINATE], ids=lambda r: r.value)
@pytest.mark.parametrize("factors", BLANKS, ids=lambda f: "none" if f is None else repr(f)[22:60])
def test_a_breach_decision_without_every_proportionality_factor_is_refused(
    factors: ProportionalityFactors | None, response: BreachResponse
) -> None:
    contract = positive_breach(kind=Kind.LAB)
    with pytest.raises(ProportionalityFactorsMissingError):
        decide(contract, "b1", response, factors)
    assert contract.status is REVIEW


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_the_share_of_the_period_completed_may_be_anything_from_none_to_all(share: float) -> None:
    contract = contract_in(REVIEW)
    decide(contract, "b1", WARNING, replace(FACTORS, completed_share=share))
    assert contract.status is ACTIVE


def test_the_breach_decision_records_its_proportionality_factors() -> None:
    contract = contract_in(REVIEW)
    decide(contract, "b1", BreachResponse.TIGHTENED_CONDITIONS)
    event = contract.pending_events[-1]
    assert type(event).__name__ == "BreachDecided"
    assert event.factors == FACTORS
    assert event.response is BreachResponse.TIGHTENED_CONDITIONS
