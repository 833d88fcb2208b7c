"""Free text is in the category of what it explains (docs/domain.md §3, issue 15).

A stage change's reason, a plan amendment's reason or a termination's note can say why:
"after the second positive test". The school may be given terms and outcome by consent,
so such a text must never sit in those categories beside the fact it explains.
"""

from __future__ import annotations

from dataclasses import fields

import pytest

from domain.contract import ContractStatus
from domain.policy import FIELD_CATEGORIES, redact
from domain.values import Agency, BreachKind, BreachResponse, Category, ScopeItem
from tests.unit.contract_factory import (
    FACTORS,
    KONFLIKTRAD,
    contract_event_classes,
    contract_in,
    later,
    plan_for,
    record_of,
)

# The free-text fields of the contract's events (an explanation, in the author's words).
FREE_TEXT = {"reason", "note", "notes", "excuse", "evidence", "deviation_reason", "summary"}
# What a consent may give the school (docs/domain.md §3): no explanation may be in these.
SCHOOL_MAY_GET = {Category.IDENTITY, Category.TERMS, Category.OUTCOME}
SCHOOL_SHARING = tuple(ScopeItem(Agency.SCHOOL, c) for c in SCHOOL_MAY_GET)


def free_text_fields(event_type: str) -> set[str]:
    """The fields of an event that hold an author's words: text-typed and named so."""
    event_class = contract_event_classes()["ContractOffered" if event_type == "CaseDisclosed" else event_type]
    return {f.name for f in fields(event_class) if f.name in FREE_TEXT and str(f.type).startswith("str")}


def test_the_free_text_fields_are_found() -> None:
    assert free_text_fields("StageChanged") == {"reason"}
    assert free_text_fields("ContractTerminated") == {"note"}, "its reason is a code"


@pytest.mark.parametrize("event_type", sorted(FIELD_CATEGORIES))
def test_no_free_text_is_in_a_category_the_school_may_be_given(event_type: str) -> None:
    for name in free_text_fields(event_type):
        category = FIELD_CATEGORIES[event_type][name]
        assert category not in SCHOOL_MAY_GET, f"{event_type}.{name} is {category.value}"


def test_the_school_sees_a_stage_change_but_not_the_reason_that_reveals_a_breach() -> None:
    contract = contract_in(ContractStatus.ACTIVE, scope=SCHOOL_SHARING)
    contract.change_stage(3, "a second positive test for cannabis", KONFLIKTRAD, later(contract))
    record = record_of(contract.pending_events[-1])
    school = redact(record, Agency.SCHOOL, contract.consents)
    assert school is not None and school.fields == {"from_trinn": 2, "to_trinn": 3}
    coordinator = redact(record, Agency.KONFLIKTRAD, contract.consents)
    assert coordinator is not None and coordinator.fields["reason"] == "a second positive test for cannabis"


def test_the_school_sees_that_a_contract_ended_and_why_by_code_but_not_the_decisions_words() -> None:
    contract = contract_in(ContractStatus.ACTIVE, scope=SCHOOL_SHARING)
    contract.register_breach(
        "b1", BreachKind.NEW_OFFENCE, "charged again", None, KONFLIKTRAD, later(contract)
    )
    words = "sold cannabis at school"
    contract.decide_breach("b1", BreachResponse.TERMINATE, FACTORS, words, KONFLIKTRAD, later(contract))
    terminated = record_of(contract.pending_events[-1])
    assert terminated.type == "ContractTerminated" and terminated.payload["note"] == words
    school = redact(terminated, Agency.SCHOOL, contract.consents)
    assert school is not None and school.fields == {"reason": "new_offence"}
    prosecutor = redact(terminated, Agency.PROSECUTION, contract.consents)
    assert prosecutor is not None and prosecutor.fields["note"] == words


def test_the_school_sees_an_amended_plan_but_not_why_it_was_amended() -> None:
    contract = contract_in(ContractStatus.ACTIVE, scope=SCHOOL_SHARING)
    contract.amend_plan(plan_for(contract), "after the positive test in March", KONFLIKTRAD, later(contract))
    school = redact(record_of(contract.pending_events[-1]), Agency.SCHOOL, contract.consents)
    assert school is not None and "reason" not in school.fields and "plan" in school.fields
