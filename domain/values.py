"""Value objects and enumerations shared by the aggregates and the access policy.

Enums are plain `Enum`s with string values (not `StrEnum`): the event store's JSON
encoder would silently store a `str` subclass as a bare string, and an enum must never
come back from the store as a plain string.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum


class IdentityHashed(Enum):
    """An enum hashed as every object is, by identity (its members are singletons, compared by
    identity): `Enum.__hash__` is Python code, and the access policy hashes an agency or a
    category in every dict it looks them up in, about 80 times per event a projection feeds."""

    __hash__ = object.__hash__


class Agency(IdentityHashed):
    PROSECUTION = "prosecution"
    POLICE = "police"
    KONFLIKTRAD = "konfliktrad"
    MUNICIPAL_HEALTH = "municipal_health"
    GP = "gp"
    CHILD_WELFARE = "child_welfare"
    SCHOOL = "school"
    COUNTY = "county"
    AUDITOR = "auditor"


class Category(IdentityHashed):
    IDENTITY = "identity"
    OFFENCE = "offence"
    TERMS = "terms"
    NOTES = "notes"
    RAPID_TEST = "rapid_test"
    LAB_TEST = "lab_test"
    BREACH = "breach"
    OUTCOME = "outcome"
    EVALUATION = "evaluation"


class TestKind(Enum):
    RAPID = "rapid"
    LAB = "lab"


class TestPurpose(Enum):
    FOLLOW_UP = "follow_up"
    SANCTION = "sanction"


class MeetingKind(Enum):
    CONVERSATION = "conversation"
    TEAM = "team"
    MOTIVATIONAL_INTERVIEW = "motivational_interview"
    CESSATION_PROGRAMME = "cessation_programme"


class BreachKind(Enum):
    POSITIVE_TEST = "positive_test"
    NO_SHOW = "no_show"
    NEW_OFFENCE = "new_offence"
    OTHER = "other"


class BreachResponse(Enum):
    CONVERSATION = "conversation"  # the breach talk (bruddsamtale), the usual first answer
    WARNING = "warning"
    TIGHTENED_CONDITIONS = "tightened_conditions"
    NEW_PLAN = "new_plan"
    DISMISSED = "dismissed"  # the breach's evidence was refuted
    TERMINATE = "terminate"


class TerminationReason(Enum):
    REPEATED_BREACHES = "repeated_breaches"
    NEW_OFFENCE = "new_offence"
    PLAN_NOT_ESTABLISHED = "plan_not_established"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    MOVED_AWAY = "moved_away"


@dataclass(frozen=True)
class Actor:
    """Who gave a command: the token's `sub` and `agency`."""

    sub: str
    agency: Agency


@dataclass(frozen=True)
class TeamMember:
    """A unit on a case's team (docs/domain.md §9), and the person in it when one is named."""

    agency: Agency
    unit: str
    sub: str | None = None


@dataclass(frozen=True)
class Person:
    name: str
    national_id: str
    birth_date: date | None = None

    def age_on(self, day: date) -> int:
        if self.birth_date is None:
            raise ValueError("birth date unknown")
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class Offence:
    code: str
    substance: str
    date: date
    summary: str = ""


@dataclass(frozen=True)
class ReplacedReaction:
    """The ordinary reaction a contract replaces: a fine and its amount (NOK), or another.

    Stored in the offer as plain data (`as_record`), so the event store needs no
    transcoding for it."""

    kind: str
    amount: int | None = None
    description: str = ""

    def as_record(self) -> dict[str, str | int | None]:
        return {"kind": self.kind, "amount": self.amount, "description": self.description}


@dataclass(frozen=True)
class ScopeItem:
    """One (agency, category) pair a signatory agrees may be shared."""

    agency: Agency
    category: Category


def scope_of(items: Iterable[ScopeItem]) -> tuple[ScopeItem, ...]:
    """Canonical order, so equal scopes compare and hash equal."""
    return tuple(sorted(set(items), key=lambda i: (i.agency.value, i.category.value)))


@dataclass(frozen=True)
class TestRegime:
    kind: TestKind
    per_month: int


@dataclass(frozen=True)
class Plan:
    """The contract plan agreed at the startup meeting (docs/domain.md §5)."""

    trinn: int
    start_date: date
    end_date: date
    test_regime: TestRegime
    meeting_frequency_days: int
    team: tuple[Agency, ...]
    conditions: tuple[str, ...] = ()
    residence_municipality: str | None = None
    registered_municipality: str | None = None

    def __post_init__(self) -> None:
        # The store's JSON gives lists back; keep the value object hashable.
        object.__setattr__(self, "team", tuple(self.team))
        object.__setattr__(self, "conditions", tuple(self.conditions))


@dataclass(frozen=True)
class ProportionalityFactors:
    """What every breach decision must weigh (docs/domain.md §5)."""

    seriousness: str
    fault: str
    condition_kind: str
    motivation: str
    completed_share: float
    repetition: int
    extra: dict[str, str] = field(default_factory=dict)
