"""Listing the cases of an application from its notification log."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from eventsourcing.application import Application


def case_ids_of(app: Application[UUID]) -> list[UUID]:
    """Every case id of an application, in order of creation."""
    return list(dict.fromkeys(originator for originator, _ in notifications_of(app)))


def notifications_of(app: Application[UUID], start: int = 1) -> Iterator[tuple[UUID, int]]:
    """(case id, notification id) of every stored event from `start`, in log order."""
    while True:
        section = app.recorder.select_notifications(start=start, limit=1000)
        for notification in section:
            yield UUID(str(notification.originator_id)), notification.id
        if len(section) < 1000:
            return
        start = section[-1].id + 1
