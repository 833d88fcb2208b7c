"""Base classes for refusals. The concrete errors sit beside their aggregate
(`domain/contract_errors.py`, `domain/prevention.py`).

The first line of an error's docstring is the rule it enforces, written so that it can be
shown to a Conflict Council coordinator as-is (the API puts it in the problem `title`).
"""

from __future__ import annotations


class DomainError(Exception):
    """A domain rule refused the command."""

    @classmethod
    def rule(cls) -> str:
        return (cls.__doc__ or cls.__name__).strip().splitlines()[0]

    @classmethod
    def code(cls) -> str:
        """Stable machine-readable name, e.g. `rapid-test-not-confirmed`."""
        name = cls.__name__.removesuffix("Error")
        return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


class InvalidInputError(DomainError):
    """The command's input is invalid whatever state the case is in."""


class RuleViolationError(DomainError):
    """The command is refused in the case's current state."""


class NotPermittedError(DomainError):
    """This agency may not perform this action."""


class ActionNotAllowedError(RuleViolationError):
    """This action is not allowed in the case's current status."""

    def __init__(self, action: str, status: str, allowed: list[str]) -> None:
        super().__init__(f"'{action}' is not allowed while the case is '{status}'")
        self.action = action
        self.status = status
        self.allowed = allowed
