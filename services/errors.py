"""The refusals of the application layer (domain rules refuse with `domain.errors`)."""

from __future__ import annotations

from typing import Any

from domain.errors import DomainError


class CaseNotFoundError(Exception):
    """No case with this id (or none the caller may know exists)."""


class SubjectNotFoundError(CaseNotFoundError):
    """No case of this person that the caller's unit may know of (404, like an unknown id)."""


class CaseErasedError(Exception):
    """This case's personal data was erased; it can be verified but no longer changed or read."""


class VersionMismatchError(Exception):
    """The case has changed since the version the client last saw (`If-Match`)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, the case is at version {actual}")
        self.expected = expected
        self.actual = actual


class AccessDeniedError(Exception):
    """The caller's agency may not do this (the tables of `domain/permissions.py`)."""


class CommandRefusedError(Exception):
    """A domain rule refused a command on the case's current state.

    Carries what the caller may do instead, judged in the same checkout of the case
    that refused, so the answer never needs a second look at the case.
    """

    def __init__(
        self,
        reason: DomainError,
        allowed_actions: list[str] | None,
        consents_missing: list[dict[str, Any]] | None = None,
    ) -> None:
        """`consents_missing`: while the offer waits on signatories, who has not consented
        (as the caller's view shows them), so a refusal says what the case waits for."""
        super().__init__(str(reason))
        self.reason = reason
        self.allowed_actions = allowed_actions
        self.consents_missing = consents_missing


class InvalidCursorError(ValueError):
    """A worklist cursor this service did not give out (422)."""


class TooManyError(Exception):
    """A bound on concurrent use was reached; the caller may try again later (429)."""

    retry_after = 5


class NotReadyError(Exception):
    """What was asked for is still being computed; the caller may ask again later (503)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
