"""Domain events as plain data (`EventRecord`): the form policy, projections and Kafka use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.policy import EventRecord, Track
from domain.values import Agency

ENVELOPE = frozenset(
    {
        "originator_id",
        "originator_version",
        "timestamp",
        "originator_topic",
        "actor",
        "actor_agency",
        "status",
    }
)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def to_plain(value: Any) -> Any:
    """JSON-ready data: enums as values, dates as ISO text, value objects as dicts."""
    if type(value) in _SCALARS:  # most fields: answered before the isinstance checks
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_plain(v) for v in value]
    return value


def record_of(event: Any, track: Track) -> EventRecord:
    payload = {k: to_plain(v) for k, v in vars(event).items() if k not in ENVELOPE}
    status = getattr(event, "status", None)
    return EventRecord(
        track=track,
        case_id=str(event.originator_id),
        version=event.originator_version,
        type=type(event).__name__,
        at=event.timestamp,
        actor=event.actor,
        actor_agency=Agency(event.actor_agency),
        payload=payload,
        status=status.value if isinstance(status, Enum) else status,
    )
