"""The deadline rules: when a case is due next and whether it is overdue (domain.md §5, §11)."""

from __future__ import annotations

from datetime import date


def is_overdue(deadline: date | None, status: str | None, today: date) -> bool:
    """A deadline before today is overdue, except an active contract's end date: a goal, not a chase."""
    return bool(deadline and deadline < today and status != "active")
