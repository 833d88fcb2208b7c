"""Transcodings for every value type the aggregates store.

Each enum and value object gets its own named transcoding so that it comes back from
the event store as the same type it went in as (never as a bare string or dict).
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date
from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.contract import ContractStatus
from domain.policy import Track
from domain.prevention import ConcernSource, PreventionStatus
from domain.values import (
    Actor,
    Agency,
    BreachKind,
    BreachResponse,
    Category,
    MeetingKind,
    Offence,
    Person,
    Plan,
    ProportionalityFactors,
    ScopeItem,
    TerminationReason,
    TestKind,
    TestPurpose,
    TestRegime,
)

ENUMS: tuple[type[Enum], ...] = (
    Agency,
    Category,
    TestKind,
    TestPurpose,
    MeetingKind,
    BreachKind,
    BreachResponse,
    TerminationReason,
    ContractStatus,
    PreventionStatus,
    ConcernSource,
    Track,
)
VALUE_OBJECTS: tuple[type[Any], ...] = (
    Actor,
    Person,
    Offence,
    ScopeItem,
    TestRegime,
    Plan,
    ProportionalityFactors,
)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def enum_transcoding(enum_class: type[Enum]) -> Transcoding:
    class EnumAsValue(Transcoding):
        type = enum_class
        name = f"enum:{enum_class.__name__}"

        def encode(self, obj: Enum) -> Any:
            return obj.value

        def decode(self, data: Any) -> Enum:
            return enum_class(data)

    return EnumAsValue()


def value_object_transcoding(cls: type[Any]) -> Transcoding:
    assert is_dataclass(cls)

    class ValueObjectAsDict(Transcoding):
        type = cls
        name = f"value:{cls.__name__}"

        def encode(self, obj: Any) -> dict[str, Any]:
            return {f.name: getattr(obj, f.name) for f in fields(obj)}

        def decode(self, data: dict[str, Any]) -> Any:
            return cls(**data)

    return ValueObjectAsDict()


def register_all(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    for enum_class in ENUMS:
        transcoder.register(enum_transcoding(enum_class))
    for cls in VALUE_OBJECTS:
        transcoder.register(value_object_transcoding(cls))
