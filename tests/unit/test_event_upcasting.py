"""Events stored before a field was added still decode and replay (class-version upcasting).

Each event class whose stored shape grew has `class_version` and `upcast_v1_v2`; an event
stored in the old shape (its state without the new fields) must come back from the store,
through the same sealing mapper the applications use, with the new fields at their
defaults, and replay into the same contract. `SealingMapper` writes `class_version` into the
state since issue 18; what it sealed before has none and is read as version 1, so every
upcast must also leave a newer state as it is.

`tests/fixtures/stored_events/` keeps a stored example of every version of every event
class (the state as the code of that version wrote it, before sealing); each is sealed,
stored and read back through today's application and must come out in today's shape.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints
from uuid import uuid4

import jsonschema_rs
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
from domain.policy import Track
from domain.values import Agency, BreachKind, BreachResponse
from domain.values import TestKind as Kind
from domain.values import TestPurpose as Purpose
from infra.asyncapi import standalone
from infra.bootstrap import Container, build
from infra.message_schemas import event_classes
from services.keys import SubjectKeys
from services.sealing import SealingMapper
from services.transcoding import register_all
from tests.conftest import settings_for_tests
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


def sealed_as_version_1(
    events: Sequence[Aggregate.Event], mapper: SealingMapper
) -> Iterator[Aggregate.Event]:
    """Sealed as the applications sealed an event before the mapper wrote `class_version`."""
    for event in events:
        state = {k: v for k, v in vars(event).items() if k not in ("originator_id", "originator_version")}
        case_id = str(event.originator_id)
        key = mapper.keys.key_for_case(case_id) or mapper.keys.open_case(case_id, event.youth.national_id)
        topic = get_topic(type(event))
        plaintext = mapper.transcoder.encode(state)
        yield mapper.to_domain_event(
            mapper.seal(event.originator_id, event.originator_version, topic, plaintext, key)
        )  # type: ignore[misc]


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
        decoded = list(sealed_as_version_1(old, sealing_mapper()))
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


# --- the stored examples of every version (tests/fixtures/stored_events/) ------------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stored_events"
EXAMPLES = sorted(FIXTURES.glob("*/*.v*.json"))
NATIONAL_ID = "01020950001"


def _classes() -> dict[str, tuple[Track, type[Any]]]:
    return {name: (track, cls) for track in Track for name, cls in event_classes(track).items()}


@pytest.mark.parametrize("name", sorted(_classes()))
def test_every_event_class_has_a_version_and_a_stored_example_of_each_version(name: str) -> None:
    track, cls = _classes()[name]
    version = getattr(cls, "class_version", 1)
    assert isinstance(version, int) and version >= 1
    for old in range(1, version):
        assert callable(getattr(cls, f"upcast_v{old}_v{old + 1}", None)), (
            f"{name}: no upcast_v{old}_v{old + 1}"
        )
    missing = [
        v for v in range(1, version + 1) if not (FIXTURES / track.value / f"{name}.v{v}.json").is_file()
    ]
    assert not missing, (
        f"{name}: no stored example of version(s) {missing}; keep the old one and run "
        "`.venv/bin/python tests/fixtures/stored_events/record.py tests/fixtures/stored_events --current`"
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """The service on SQLite: its applications' own mappers, transcoders and recorders."""
    tmp = tmp_path_factory.mktemp("stored-events")
    container = build(settings_for_tests(f"sqlite:///{tmp}/ruskontrakt.sqlite", tmp))
    yield container
    container.close()


def conforms(value: Any, hint: Any) -> bool:
    """Whether `value` is of today's type `hint` (enums as enums, value objects as objects)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType):
        return any(conforms(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is Any or isinstance(hint, TypeVar):  # the aggregate's id type
        return True
    if origin in (tuple, list):  # the transcoder gives JSON arrays back as lists
        return isinstance(value, tuple | list) and all(conforms(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(conforms(v, args[1]) for v in value.values())
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is datetime:
        return isinstance(value, datetime) and value.tzinfo is not None
    if dataclasses.is_dataclass(hint):
        hints = get_type_hints(hint)
        return isinstance(value, hint) and all(
            conforms(getattr(value, f.name), hints[f.name]) for f in dataclasses.fields(hint)
        )
    return isinstance(value, hint)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_stored_example_of_every_version_reads_in_todays_shape(path: Path, service: Container) -> None:
    """Sealed and stored as the applications store an event, then read back through the
    application: today's class, every field of today's class of today's type, the stored
    values kept, and the plain record valid against today's message schema of its type."""
    example = json.loads(path.read_text())
    track, cls = _classes()[example["type"]]
    app = service.contracts if track is Track.CONTRACT else service.prevention
    case_id = uuid4()
    key = service.keys.open_case(str(case_id), NATIONAL_ID)
    state = json.dumps(example["state"]).encode()
    app.recorder.insert_events([app.mapper.seal(case_id, 1, example["topic"], state, key)])
    [stored] = app.recorder.select_events(case_id)

    event = app.mapper.to_domain_event(stored)
    assert type(event) is cls
    hints = get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]
    assert sorted(vars(event)) == sorted(fields), "the fields of today's class, no more"
    for name in fields:
        assert conforms(vars(event)[name], hints[name]), (name, vars(event)[name], hints[name])
    said = app.mapper.transcoder.decode(state)
    said.pop("class_version", None)
    assert {k: vars(event)[k] for k in said} == said, "what the old version said is kept"

    record = app.record_or_placeholder(stored)
    schema = standalone(f"{example['type']}Opened")["properties"]["fields"]
    assert set(record.payload) == set(schema["properties"]), "every field of today's message type"
    errors = [e.message for e in jsonschema_rs.Draft7Validator(schema).iter_errors(dict(record.payload))]
    assert not errors, errors
