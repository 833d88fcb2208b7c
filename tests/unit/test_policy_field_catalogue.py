"""Every field of every contract event is classified, so a new field cannot leak unclassified."""

from __future__ import annotations

from dataclasses import fields

import pytest

from domain.contract import Contract
from domain.policy import FIELD_CATEGORIES
from domain.values import Category
from tests.unit.contract_factory import ENVELOPE, contract_event_classes

EVENT_CLASSES = contract_event_classes()
# Views the projections derive from an event rather than events of their own.
DERIVED = {"CaseDisclosed": "ContractOffered"}


def payload_fields(event_class: type) -> set[str]:
    return {f.name for f in fields(event_class)} - ENVELOPE


def test_the_envelope_is_exactly_what_every_contract_event_carries() -> None:
    base = {f.name for f in fields(Contract.Event)}
    assert base | {"originator_topic"} == ENVELOPE
    for event_class in EVENT_CLASSES.values():
        assert base <= {f.name for f in fields(event_class)}


@pytest.mark.parametrize("name", sorted(EVENT_CLASSES))
def test_every_payload_field_of_a_contract_event_has_a_category(name: str) -> None:
    unclassified = payload_fields(EVENT_CLASSES[name]) - set(FIELD_CATEGORIES.get(name, {}))
    assert not unclassified, f"{name} fields without a category: {sorted(unclassified)}"


@pytest.mark.parametrize("name", sorted(FIELD_CATEGORIES))
def test_every_classified_field_exists_on_its_event(name: str) -> None:
    event_class = EVENT_CLASSES.get(DERIVED.get(name, name))
    assert event_class is not None, f"{name} is no contract event"
    handed_over = {"plan"} if name == "CaseDisclosed" else set()  # the plan in force, at a hand-over
    assert set(FIELD_CATEGORIES[name]) - handed_over <= payload_fields(event_class)
    assert all(isinstance(c, Category) for c in FIELD_CATEGORIES[name].values())


def test_a_derived_view_is_classified_like_the_event_it_comes_from() -> None:
    for derived, source in DERIVED.items():
        if derived in FIELD_CATEGORIES:
            # A disclosure also hands over the plan in force (PlanAgreed's own category).
            assert FIELD_CATEGORIES[derived] == {**FIELD_CATEGORIES[source], "plan": Category.TERMS}


def test_the_contract_has_an_event_for_every_row_of_the_event_table() -> None:
    spec_events = {
        "ContractOffered",
        "ConsentGiven",
        "ConsentWithdrawn",
        "OfferDeclined",
        "OfferLapsed",
        "StartupMeetingScheduled",
        "StartupMeetingHeld",
        "PlanAgreed",
        "PlanAmended",
        "StageChanged",
        "TestScheduled",
        "RapidTestRecorded",
        "LabResultRecorded",
        "MeetingHeld",
        "NoShowRecorded",
        "BreachRegistered",
        "BreachDecided",
        "ContractCompleted",
        "ContractTerminated",
        "ReturnedToProsecution",
        "EvaluationSubmitted",
    }
    assert spec_events <= set(EVENT_CLASSES)
