"""Request bodies (field names binding per api.md); domain enums validate their values."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from domain.legal import LEGAL_BASES, MAX_DESCRIPTION, MAX_FINE_NOK
from domain.prevention import ConcernSource
from domain.values import (
    Agency,
    BreachKind,
    BreachResponse,
    Category,
    MeetingKind,
    Offence,
    Person,
    Plan,
    ProportionalityFactors,
    ReplacedReaction,
    ScopeItem,
    TestKind,
    TestPurpose,
    TestRegime,
)

NationalId = Annotated[str, Field(pattern=r"^\d{11}$", examples=["01020912345"])]
Municipality = Annotated[str, Field(pattern=r"^\d{4}$", examples=["5001"])]
Text = Annotated[str, Field(max_length=10_000)]
ShortText = Annotated[str, Field(max_length=500)]


# A free-form JSON value is stored in an event for ever and rendered on every read of the
# case, so it is bounded: deep nesting broke every later read of its case, and NaN made the
# case view invalid JSON.
JSON_DEPTH, JSON_NODES, JSON_STRING = 8, 1_000, 2_000


def bounded_json(value: Any) -> Any:
    nodes = 0

    def check(item: Any, depth: int) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > JSON_NODES:
            raise ValueError(f"at most {JSON_NODES} values in all")
        if depth > JSON_DEPTH:
            raise ValueError(f"nested at most {JSON_DEPTH} levels deep")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite (no NaN or Infinity)")
        if isinstance(item, str) and len(item) > JSON_STRING:
            raise ValueError(f"strings of at most {JSON_STRING} characters")
        if isinstance(item, dict):
            for key, inner in item.items():
                check(key, depth + 1)
                check(inner, depth + 1)
        elif isinstance(item, list):
            for inner in item:
                check(inner, depth + 1)

    check(value, 0)
    return value


BoundedJson = Annotated[dict[str, Any], AfterValidator(bounded_json)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class PersonIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    national_id: NationalId
    birth_date: date | None = None

    def value(self) -> Person:
        return Person(self.name, self.national_id, self.birth_date)


class YouthIn(PersonIn):
    birth_date: date


class OffenceIn(Body):
    code: Annotated[str, Field(min_length=1, max_length=50)]
    substance: ShortText
    date: date
    summary: Text = ""

    def value(self) -> Offence:
        return Offence(self.code, self.substance, self.date, self.summary)


LegalBasisCode = Literal[tuple(LEGAL_BASES)]  # type: ignore[valid-type]  # domain/legal.py


class ReplacesIn(Body):
    """The ordinary reaction the contract replaces: a fine and its amount (NOK), or another."""

    kind: Literal["fine", "other"]
    amount: Annotated[int, Field(gt=0, le=MAX_FINE_NOK)] | None = None
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""

    def value(self) -> ReplacedReaction:
        return ReplacedReaction(self.kind, self.amount, self.description)


class OfferBody(Body):
    youth: YouthIn
    guardians: Annotated[list[PersonIn], Field(max_length=4)] = []
    offence: OffenceIn
    trinn: Annotated[int, Field(ge=1, le=9)]
    residence_municipality: Municipality
    registered_municipality: Municipality
    offer_deadline: date | None = None
    legal_basis: LegalBasisCode
    replaces: ReplacesIn


class ScopeIn(Body):
    agency: Agency
    category: Category

    def value(self) -> ScopeItem:
        return ScopeItem(self.agency, self.category)


Signatory = Annotated[str, Field(pattern=r"^(youth|guardian:\d{1,2})$")]


class ConsentBody(Body):
    signatory: Signatory
    scope: Annotated[list[ScopeIn], Field(max_length=100)] = []
    booklet_version: ShortText
    booklet_language: Annotated[str, Field(pattern=r"^[a-z]{2}$")] | None = None  # e.g. nb, nn, en, se

    def scope_items(self) -> tuple[ScopeItem, ...]:
        return tuple(i.value() for i in self.scope)


class WithdrawBody(Body):
    signatory: Signatory
    scope: Annotated[list[ScopeIn], Field(max_length=100)] | None = None

    def scope_items(self) -> tuple[ScopeItem, ...] | None:
        """None: the withdrawal of the contract consent itself."""
        return None if self.scope is None else tuple(i.value() for i in self.scope)


class DeclineBody(Body):
    signatory: Signatory = "youth"


class StartupBody(Body):
    at: AwareDatetime
    participants: Annotated[list[Agency], Field(max_length=20)] = []


class TestRegimeIn(Body):
    kind: TestKind
    per_month: Annotated[int, Field(ge=0, le=31)]


class PlanIn(Body):
    trinn: Annotated[int, Field(ge=1, le=9)]
    start_date: date
    end_date: date
    test_regime: TestRegimeIn
    meeting_frequency_days: Annotated[int, Field(ge=1, le=365)]
    team: Annotated[list[Agency], Field(min_length=1, max_length=20)]
    conditions: Annotated[list[ShortText], Field(max_length=50)] = []
    residence_municipality: Municipality | None = None
    registered_municipality: Municipality | None = None
    # Why the plan departs from its trinn's defaults (domain/rules.py); required when it does.
    deviation_reason: Text | None = None

    def value(self) -> Plan:
        return Plan(
            trinn=self.trinn,
            start_date=self.start_date,
            end_date=self.end_date,
            test_regime=TestRegime(self.test_regime.kind, self.test_regime.per_month),
            meeting_frequency_days=self.meeting_frequency_days,
            team=tuple(self.team),
            conditions=tuple(self.conditions),
            residence_municipality=self.residence_municipality,
            registered_municipality=self.registered_municipality,
        )


class StartupHeldBody(Body):
    plan: PlanIn
    attendees: Annotated[list[Agency], Field(max_length=20)] = []
    notes: Text = ""


class NoteBody(Body):
    note: Text = ""


class StageBody(Body):
    trinn: Annotated[int, Field(ge=1, le=9)]
    reason: Text


class PlanAmendBody(Body):
    plan: PlanIn
    reason: Text = ""


class TestBody(Body):
    kind: TestKind
    purpose: TestPurpose = TestPurpose.FOLLOW_UP
    scheduled_for: date
    random: bool = False
    confirms_test_id: ShortText | None = None  # a lab test requisitioned to confirm a rapid test
    result_by: Agency | None = None  # who records the result; default by kind and purpose


class ResultBody(Body):
    positives: Annotated[list[ShortText], Field(max_length=50)] = []
    collected_at: AwareDatetime
    panel: Annotated[list[ShortText], Field(max_length=50)] = []
    requisition_code: ShortText = ""
    interpretation: Text = ""
    confirms_test_id: ShortText | None = None  # a lab result: the rapid test it confirms


class MeetingBody(Body):
    kind: MeetingKind
    held_at: AwareDatetime
    attended: bool
    notes: Text = ""


class NoShowBody(Body):
    appointment: ShortText
    excuse: Text | None = None


class BreachBody(Body):
    kind: BreachKind
    evidence: Text = ""
    test_id: ShortText | None = None


class FactorsIn(Body):
    seriousness: Annotated[str, Field(min_length=1, max_length=500)]
    fault: Annotated[str, Field(min_length=1, max_length=500)]
    condition_kind: Annotated[str, Field(min_length=1, max_length=500)]
    motivation: Annotated[str, Field(min_length=1, max_length=500)]
    completed_share: Annotated[float, Field(ge=0, le=1)]
    repetition: Annotated[int, Field(ge=0, le=1000)]

    def value(self) -> ProportionalityFactors:
        return ProportionalityFactors(
            self.seriousness,
            self.fault,
            self.condition_kind,
            self.motivation,
            self.completed_share,
            self.repetition,
        )


class DecisionBody(Body):
    response: BreachResponse
    factors: FactorsIn
    reason: Text
    plan: PlanIn | None = None


class EvaluationBody(Body):
    respondent_role: ShortText
    form_version: ShortText
    answers: BoundedJson = {}


class ConcernBody(Body):
    person: YouthIn  # the birth date decides whether the track applies (domain.md §6)
    source: ConcernSource = ConcernSource.POLICE
    municipality: Municipality
    summary: Text = ""


class PreventionNoteBody(Body):
    note: Text = ""


class ConversationHeldBody(Body):
    held_at: AwareDatetime
    notes: Text = ""


class ReasonBody(Body):
    reason: Text = ""
