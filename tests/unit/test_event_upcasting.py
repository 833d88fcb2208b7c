"""Events stored before a field was added still decode and replay (class-version upcasting).

Each event class whose stored shape grew has `class_version` and `upcast_v1_v2`; an event
stored in the old shape (its state without the new fields) must come back from the store,
through the same sealing mapper the applications use, with the new fields at their
defaults, and replay into the same contract. `SealingMapper` does not write `class_version`
into the state, so every upcast runs on every read and must leave a newer state as it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic

from domain.contract import Contract, ContractStatus
from domain.values import Agency, BreachKind, BreachResponse
from domain.values import TestKind as Kind
from domain.values import TestPurpose as Purpose
from services.keys import SubjectKeys
from services.sealing import SealingMapper
from services.transcoding import register_all
from tests.fakes import MemoryKeyStore
from tests.unit.contract_factory import (
    FACTORS,
    KONFLIKTRAD,
    contract_in,
    later,
    plan_for,
    schedule_and_record,
)

# The fields each event class gained, with the value an old event decodes to.
ADDED: dict[str, dict[str, Any]] = {
    "ContractOffered": {"legal_basis": None, "replaces": None},
    "ConsentGiven": {"booklet_language": None},
    "PlanAgreed": {"deviations": (), "deviation_reason": None},
    "PlanAmended": {"deviations": (), "deviation_reason": None},
    "BreachDecided": {"deviations": (), "deviation_reason": None},
    "TestScheduled": {"confirms_test_id": None},  # result_by: the default recorder, checked below
    "LabResultRecorded": {"confirms_test_id": None},
}
RESULT_BY = {"TestScheduled": "result_by"}


def transcoder() -> JSONTranscoder:
    """The applications' transcoder: eventsourcing's own transcodings and the project's."""
    t = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        t.register(transcoding)
    register_all(t)
    return t


def old_history() -> list[Aggregate.Event]:
    """A contract whose events carry nothing an old event could not have said."""
    contract = contract_in(ContractStatus.ACTIVE)
    schedule_and_record(contract, "r1", ())
    schedule_and_record(contract, "lab1", ("THC",), kind=Kind.LAB, purpose=Purpose.FOLLOW_UP)
    schedule_and_record(contract, "s1", (), kind=Kind.LAB, purpose=Purpose.SANCTION)
    contract.register_breach("b1", BreachKind.POSITIVE_TEST, "lab", "lab1", KONFLIKTRAD, later(contract))
    contract.decide_breach("b1", BreachResponse.WARNING, FACTORS, "first", KONFLIKTRAD, later(contract))
    contract.amend_plan(plan_for(contract), "same plan, new conditions", KONFLIKTRAD, later(contract))
    return list(contract.collect_events())


def in_old_shape(event: Aggregate.Event) -> Aggregate.Event:
    """The event as it was stored before its new fields existed."""
    name = type(event).__name__
    for field in [*ADDED.get(name, {}), *([RESULT_BY[name]] if name in RESULT_BY else [])]:
        event.__dict__.pop(field)
    return event


def round_trip(events: Sequence[Aggregate.Event], mapper: Mapper[Any]) -> Iterator[Aggregate.Event]:
    for event in events:
        yield mapper.to_domain_event(mapper.to_stored_event(event))  # type: ignore[misc]


def stored_as_version_1(events: Sequence[Aggregate.Event], mapper: Mapper[Any]) -> Iterator[Aggregate.Event]:
    """eventsourcing's own mapper writes `class_version`; a version-1 event had none."""
    for event in events:
        state = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")}
        stored = StoredEvent(
            event.originator_id,
            event.originator_version,
            get_topic(type(event)),
            mapper.transcoder.encode(state),
        )
        yield mapper.to_domain_event(stored)  # type: ignore[misc]


def replay(events: Sequence[Aggregate.Event]) -> Contract:
    contract: Any = None
    for event in events:
        contract = event.mutate(contract)
    assert isinstance(contract, Contract)
    return contract


def state_of(contract: Contract) -> dict[str, Any]:
    return {k: v for k, v in vars(contract).items() if k != "_pending_events"}


def sealing_mapper() -> SealingMapper:
    return SealingMapper(transcoder(), SubjectKeys(MemoryKeyStore(), b"test-pepper"), "youth")


@pytest.mark.parametrize("path", ["sealing", "plain"])
def test_events_stored_in_their_old_shape_decode_with_the_new_fields_at_their_defaults(path: str) -> None:
    original = old_history()
    expected = replay(original)
    old = [in_old_shape(e) for e in copies(original)]
    if path == "sealing":  # what the applications store and read
        decoded = list(round_trip(old, sealing_mapper()))
    else:
        decoded = list(stored_as_version_1(old, Mapper(transcoder())))
    for event in decoded:
        name = type(event).__name__
        for field, default in ADDED.get(name, {}).items():
            assert vars(event)[field] == default, (name, field)
    recorders = {e.test_id: e.result_by for e in decoded if type(e).__name__ == "TestScheduled"}
    assert recorders == {"r1": Agency.MUNICIPAL_HEALTH, "lab1": Agency.GP, "s1": Agency.PROSECUTION}
    unsaid = {"legal_basis": None, "replaces": None}  # what an old offer could not say
    assert state_of(replay(decoded)) == state_of(expected) | unsaid


def copies(events: Sequence[Aggregate.Event]) -> list[Aggregate.Event]:
    """Copies, so stripping fields leaves the originals whole."""
    copies = []
    for event in events:
        copy = object.__new__(type(event))
        object.__setattr__(copy, "__dict__", dict(vars(event)))
        copies.append(copy)
    return copies


def test_a_new_event_keeps_its_fields_through_the_sealing_mapper_whatever_upcasts_run() -> None:
    contract = contract_in(ContractStatus.ACTIVE)
    schedule_and_record(contract, "r1", ("THC",))
    at = later(contract)
    contract.schedule_test(
        "lab1",
        Kind.LAB,
        Purpose.FOLLOW_UP,
        False,
        at.date(),
        KONFLIKTRAD,
        at,
        confirms_test_id="r1",
        result_by=Agency.MUNICIPAL_HEALTH,
    )
    events = list(round_trip(list(contract.collect_events()), sealing_mapper()))
    scheduled = events[-1]
    assert (scheduled.confirms_test_id, scheduled.result_by) == ("r1", Agency.MUNICIPAL_HEALTH)
    assert replay(events).tests["r1"].confirmation == "lab1"


@pytest.mark.parametrize("name", sorted(ADDED))
def test_every_event_class_that_gained_fields_upcasts_from_version_1(name: str) -> None:
    event_class = getattr(Contract, name)
    assert event_class.class_version >= 2
    assert callable(event_class.upcast_v1_v2)
