"""The preventive track: a police concern and the offers of conversation and counselling.

A separate aggregate in a separate application and stream: nothing here is a sanction,
there is no testing, and nothing of it may ever reach the prosecution or the criminal
track (docs/domain.md §1, §6). Who sees it is decided by `domain.policy` (police always,
municipal health from an accepted counselling offer, child welfare from a report). The
order of its steps is `domain/prevention_lifecycle.py`'s strict machine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from statemachine.exceptions import TransitionNotAllowed

from domain.calendar import CLOCK_SKEW, in_future, local_day
from domain.errors import ActionNotAllowedError, InvalidInputError
from domain.prevention_lifecycle import PreventionLifecycle, allowed_actions, status_after
from domain.rules import DEFAULT_RULES, Rules
from domain.values import Actor, Agency, Person


class PreventionStatus(Enum):
    """The states of `PreventionLifecycle` (never stored in an event: derived on replay)."""

    REGISTERED = "registered"
    CONVERSATION_OFFERED = "conversation_offered"
    CONVERSATION_HELD = "conversation_held"
    CONVERSATION_DECLINED = "conversation_declined"
    COUNSELLING_OFFERED = "counselling_offered"
    COUNSELLING_ACCEPTED = "counselling_accepted"
    COUNSELLING_DECLINED = "counselling_declined"
    CLOSED = "closed"


class ConcernSource(Enum):
    POLICE = "police"
    SCHOOL = "school"
    PARENTS = "parents"
    CHILD_WELFARE = "child_welfare"
    HEALTH = "health"
    CHARGED_BUYER = "charged_buyer"  # the Danish model of seed 003
    OTHER = "other"


class PreventionProsecutionError(InvalidInputError):
    """The preventive track is never used by the prosecution."""


class PreventionAgeOutOfRangeError(InvalidInputError):
    """A prevention case needs a birth date and a youth aged 12 to 17 (a charged buyer: 15 or older)."""


class ConversationHeldInFutureError(InvalidInputError):
    """A conversation is recorded once held: its time cannot be later than the moment it is recorded."""


def check_person(person: Person, source: ConcernSource, at: datetime, rules: Rules) -> None:
    """The concern conversation is for children and youth of 12 to 17; the Danish model's
    offer to charged buyers (seed 003) for anyone of criminal age, 15 and older."""
    if person.birth_date is None:
        raise PreventionAgeOutOfRangeError("birth date is required")
    day = local_day(at)
    age = person.age_on(day)
    if source is ConcernSource.CHARGED_BUYER:
        if age < rules.charged_buyer_min_age:
            raise PreventionAgeOutOfRangeError(f"a charged buyer of {age} on {day}")
    elif not rules.prevention_min_age <= age <= rules.prevention_max_age:
        raise PreventionAgeOutOfRangeError(f"{age} on {day}")


class PreventionCase(Aggregate):
    """A concern about a young person and what was offered to them."""

    class Event(Aggregate.Event):
        actor: str
        actor_agency: Agency

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, PreventionCase)
            aggregate.status = PreventionStatus(status_after(aggregate.status.value, type(self).__name__))
            self.apply_to(aggregate)

        def apply_to(self, case: PreventionCase) -> None:
            """Change state only."""

    class ConcernRegistered(Aggregate.Created):
        actor: str
        actor_agency: Agency
        person: Person
        source: ConcernSource
        municipality: str
        summary: str
        # The units the concern relates to (docs/domain.md §9): the registering officer's
        # district and the municipality's units in the register then in force.
        units: dict[str, tuple[str, ...]] | None = None
        register_version: str | None = None

        class_version = 2  # v1 (before issue 13) recorded no units: only the auditor knows it

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("units", None)
            state.setdefault("register_version", None)

    def __init__(
        self,
        actor: str,
        actor_agency: Agency,
        person: Person,
        source: ConcernSource,
        municipality: str,
        summary: str,
        units: dict[str, tuple[str, ...]] | None = None,
        register_version: str | None = None,
    ) -> None:
        self.person = person
        self.source = source
        self.municipality = municipality
        self.status = PreventionStatus.REGISTERED
        self.steps: list[str] = []

    @classmethod
    def register_concern(
        cls,
        *,
        case_id: UUID,
        person: Person,
        source: ConcernSource,
        municipality: str,
        summary: str,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
        units: dict[str, tuple[str, ...]] | None = None,
        register_version: str | None = None,
    ) -> PreventionCase:
        if actor.agency is Agency.PROSECUTION:
            raise PreventionProsecutionError()
        check_person(person, source, at, rules)
        return cls._create(
            cls.ConcernRegistered,
            id=case_id,
            timestamp=at,
            actor=actor.sub,
            actor_agency=actor.agency,
            person=person,
            source=source,
            municipality=municipality,
            summary=summary,
            units=dict(units or {}),
            register_version=register_version,
        )

    def allowed_actions(self) -> list[str]:
        """What the lifecycle allows next (`domain/prevention_lifecycle.py`)."""
        return list(allowed_actions(self.status.value))

    def _step(
        self,
        action: str,
        event_class: type[PreventionCase.Event],
        actor: Actor,
        at: datetime,
        check: Callable[[], None] | None = None,
        **fields: Any,
    ) -> None:
        """Record the step if the status allows it and `check` (the step's own input guard,
        asked once the status allows it) does not refuse."""
        if actor.agency is Agency.PROSECUTION:
            raise PreventionProsecutionError()
        try:
            PreventionLifecycle(start_value=self.status.value).send(action)
        except TransitionNotAllowed:
            raise ActionNotAllowedError(action, self.status.value, self.allowed_actions()) from None
        if check is not None:
            check()
        self.trigger_event(event_class, timestamp=at, actor=actor.sub, actor_agency=actor.agency, **fields)

    def offer_conversation(self, note: str, actor: Actor, at: datetime) -> None:
        self._step("offer_conversation", self.ConversationOffered, actor, at, note=note)

    def hold_conversation(self, held_at: datetime, notes: str, actor: Actor, at: datetime) -> None:
        def held_by_now() -> None:
            if in_future(held_at, at):
                raise ConversationHeldInFutureError(
                    f"held at {held_at.isoformat()}, recorded at {at.isoformat()} "
                    f"(at most {CLOCK_SKEW.total_seconds() / 60:g} minutes ahead)"
                )

        self._step(
            "hold_conversation", self.ConversationHeld, actor, at, held_by_now, held_at=held_at, notes=notes
        )

    def decline_conversation(self, note: str, actor: Actor, at: datetime) -> None:
        self._step("decline_conversation", self.ConversationDeclined, actor, at, note=note)

    def offer_counselling(self, note: str, actor: Actor, at: datetime) -> None:
        self._step("offer_counselling", self.CounsellingOffered, actor, at, note=note)

    def accept_counselling(self, note: str, actor: Actor, at: datetime) -> None:
        # Carries the person: from here on municipal health sees the case (policy).
        self._step("accept_counselling", self.CounsellingAccepted, actor, at, note=note, person=self.person)

    def decline_counselling(self, note: str, actor: Actor, at: datetime) -> None:
        self._step("decline_counselling", self.CounsellingDeclined, actor, at, note=note)

    def report_to_child_welfare(self, reason: str, actor: Actor, at: datetime) -> None:
        self._step(
            "report_to_child_welfare",
            self.ConcernReportedToChildWelfare,
            actor,
            at,
            reason=reason,
            person=self.person,
        )

    def close(self, reason: str, actor: Actor, at: datetime) -> None:
        self._step("close", self.PreventionCaseClosed, actor, at, reason=reason)

    class ConversationOffered(Event):
        note: str

        def apply_to(self, case: PreventionCase) -> None:
            case.steps.append("conversation_offered")

    class ConversationHeld(Event):
        held_at: datetime
        notes: str

        def apply_to(self, case: PreventionCase) -> None:
            case.steps.append("conversation_held")

    class ConversationDeclined(Event):
        note: str

        def apply_to(self, case: PreventionCase) -> None:
            case.steps.append("conversation_declined")

    class CounsellingOffered(Event):
        note: str

        def apply_to(self, case: PreventionCase) -> None:
            case.steps.append("counselling_offered")

    class CounsellingAccepted(Event):
        note: str
        person: Person

        def apply_to(self, case: PreventionCase) -> None:
            case.steps.append("counselling_accepted")

    class CounsellingDeclined(Event):
        note: str

        def apply_to(self, case: PreventionCase) -> None:
            case.steps.append("counselling_declined")

    class ConcernReportedToChildWelfare(Event):
        reason: str
        person: Person

        def apply_to(self, case: PreventionCase) -> None:
            case.steps.append("reported_to_child_welfare")

    class PreventionCaseClosed(Event):
        reason: str

        def apply_to(self, case: PreventionCase) -> None:
            case.steps.append("closed")
