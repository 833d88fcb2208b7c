"""Request bodies (field names binding per docs/api.md); domain enums validate their values.

Every field is typed and bounded (issue 14): national ids are fødselsnummer or D-numbers
in ASCII digits, dates lie between 1900 and 2100, text holds no control or format
characters, numbers and booleans are JSON numbers and booleans (`true` is not 1), and a
field the body does not define is refused by name rather than dropped.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from stdnum.no import fodselsnummer, orgnr

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

# `[0-9]`, not `\d`: in pydantic-core's (Rust) regex `\d` is any Unicode digit, and an id in
# Arabic-Indic or fullwidth digits was a second subject, with its own key, for the same person.
NATIONAL_ID_PATTERN = r"^[0-9]{11}$"


def national_id(value: str) -> str:
    """A fødselsnummer or D-number (day + 40) with valid check digits and birth date
    (python-stdnum); not an H-number (month + 40, a health-service stand-in) or FH-number."""
    if not fodselsnummer.is_valid(value) or int(value[2:4]) > 12:
        raise ValueError("not a fødselsnummer or D-number: its check digits or birth date are wrong")
    return value


def plain_text(value: str) -> str:
    """No control (Cc), format (Cf) or surrogate (Cs) characters but tab, newline and carriage
    return: NUL breaks storage and logs, bidi overrides (U+202E) and zero-width characters make
    text read otherwise than it is stored."""
    if value.isprintable():  # the common case, in C
        return value
    for character in value:
        if character not in "\t\n\r" and unicodedata.category(character) in ("Cc", "Cf", "Cs"):
            raise ValueError(f"control or format character U+{ord(character):04X} not allowed")
    return value


NationalId = Annotated[
    str, Field(pattern=NATIONAL_ID_PATTERN, examples=["01120950130"]), AfterValidator(national_id)
]
Municipality = Annotated[str, Field(pattern=r"^[0-9]{4}$", examples=["5001"])]
Text = Annotated[str, Field(max_length=10_000), AfterValidator(plain_text)]
ShortText = Annotated[str, Field(max_length=500), AfterValidator(plain_text)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(plain_text)]
Label = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(plain_text)]

# Dates and times a case can sensibly hold: year 1 or 9999 is a typing error, and at the
# edges of Python's range an offset overflows.
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2100, 12, 31))]
Instant = Annotated[
    AwareDatetime, Field(ge=datetime(1900, 1, 1, tzinfo=UTC), lt=datetime(2101, 1, 1, tzinfo=UTC))
]

# A JSON number or boolean as itself: lax mode took `true` as 1, "2" as 2 and 2.0 as 2.
Trinn = Annotated[int, Field(strict=True, ge=1, le=9)]
Flag = Annotated[bool, Field(strict=True)]


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
        if isinstance(item, str):
            if len(item) > JSON_STRING:
                raise ValueError(f"strings of at most {JSON_STRING} characters")
            plain_text(item)
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


Hpr = Annotated[str, Field(pattern=r"^[0-9]{4,9}$", examples=["9144900"], description="HPR number")]


def organisation_number(value: str) -> str:
    """A Norwegian organisation number (9 digits, mod-11 check digit; python-stdnum)."""
    if not orgnr.is_valid(value):
        raise ValueError("not an organisation number: its check digit is wrong")
    return value


OrganisationNumber = Annotated[
    str,
    Field(pattern=r"^[0-9]{9}$", examples=["974760673"], description="the school's organisation number"),
    AfterValidator(organisation_number),
]
UnitCode = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[a-z0-9-]+$", examples=["5001"])]


class Body(BaseModel):
    # A field the body does not define is a 422 naming it (`extra_forbidden`), not dropped.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class PersonIn(Body):
    name: Name
    national_id: NationalId
    birth_date: Day | None = None

    def value(self) -> Person:
        return Person(self.name, self.national_id, self.birth_date)


class YouthIn(PersonIn):
    birth_date: Day


class OffenceIn(Body):
    code: Annotated[str, Field(min_length=1, max_length=50), AfterValidator(plain_text)]
    substance: ShortText
    date: Day
    summary: Text = ""

    def value(self) -> Offence:
        return Offence(self.code, self.substance, self.date, self.summary)


LegalBasisCode = Literal[tuple(LEGAL_BASES)]  # type: ignore[valid-type]  # domain/legal.py


class ReplacesIn(Body):
    """The ordinary reaction the contract replaces: a fine and its amount (NOK), or another."""

    kind: Literal["fine", "other"]
    amount: Annotated[int, Field(strict=True, gt=0, le=MAX_FINE_NOK)] | None = None
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION), AfterValidator(plain_text)] = ""

    def value(self) -> ReplacedReaction:
        return ReplacedReaction(self.kind, self.amount, self.description)


class OfferBody(Body):
    youth: YouthIn
    guardians: Annotated[list[PersonIn], Field(max_length=4)] = []
    offence: OffenceIn
    trinn: Trinn
    residence_municipality: Municipality
    registered_municipality: Municipality
    offer_deadline: Day | None = None
    legal_basis: LegalBasisCode
    replaces: ReplacesIn
    gp: Hpr | None = Field(None, description="the youth's GP (HPR number), when known")
    school: OrganisationNumber | None = Field(None, description="the youth's school, when known")


class ScopeIn(Body):
    agency: Agency
    category: Category

    def value(self) -> ScopeItem:
        return ScopeItem(self.agency, self.category)


Signatory = Annotated[str, Field(pattern=r"^(youth|guardian:[0-9]{1,2})$", examples=["youth", "guardian:0"])]


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
    at: Instant
    participants: Annotated[list[Agency], Field(max_length=20)] = []


class TestRegimeIn(Body):
    kind: TestKind
    per_month: Annotated[int, Field(strict=True, ge=0, le=31)]


class PlanIn(Body):
    trinn: Trinn
    start_date: Day
    end_date: Day
    test_regime: TestRegimeIn
    meeting_frequency_days: Annotated[int, Field(strict=True, ge=1, le=365)]
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
    trinn: Trinn
    reason: Text


class PlanAmendBody(Body):
    plan: PlanIn
    reason: Text = ""


class TestBody(Body):
    kind: TestKind
    purpose: TestPurpose = TestPurpose.FOLLOW_UP
    scheduled_for: Day
    random: Flag = False
    confirms_test_id: ShortText | None = None  # a lab test requisitioned to confirm a rapid test
    result_by: Agency | None = None  # who records the result; default by kind and purpose


class ResultBody(Body):
    positives: Annotated[list[ShortText], Field(max_length=50)] = []
    collected_at: Instant
    panel: Annotated[list[ShortText], Field(max_length=50)] = []
    requisition_code: ShortText = ""
    interpretation: Text = ""
    confirms_test_id: ShortText | None = None  # a lab result: the rapid test it confirms


class MeetingBody(Body):
    kind: MeetingKind
    held_at: Instant
    attended: Flag
    notes: Text = ""


class NoShowBody(Body):
    appointment: ShortText
    excuse: Text | None = None


class BreachBody(Body):
    kind: BreachKind
    evidence: Text = ""
    test_id: ShortText | None = None


class FactorsIn(Body):
    seriousness: Label
    fault: Label
    condition_kind: Label
    motivation: Label
    completed_share: Annotated[float, Field(strict=True, ge=0, le=1)]
    repetition: Annotated[int, Field(strict=True, ge=0, le=1000)]

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
    person: YouthIn  # the birth date decides whether the track applies (docs/domain.md §6)
    source: ConcernSource = ConcernSource.POLICE
    municipality: Municipality
    summary: Text = ""


class PreventionNoteBody(Body):
    note: Text = ""


class ConversationHeldBody(Body):
    held_at: Instant
    notes: Text = ""


class ReasonBody(Body):
    reason: Text = ""


# --- whom a case relates to (docs/domain.md §9) ---


class GpBody(Body):
    hpr: Hpr


class SchoolBody(Body):
    organisation_number: OrganisationNumber


class ResidenceBody(Body):
    municipality: Municipality
    registered_municipality: Municipality | None = Field(
        None, description="the folkeregistrert municipality, when it is not the new residence"
    )
    moved_away: bool = Field(
        False, description="the contract cannot go on where the youth moved: it ends (moved_away)"
    )


class TeamMemberBody(Body):
    agency: Agency
    unit: UnitCode
    sub: Label | None = Field(None, description="the named person in the unit, when there is one")


class AccessRequestBody(Body):
    reason: Annotated[str, Field(min_length=10, max_length=500), AfterValidator(plain_text)] = Field(
        description="why the unit needs the case (logged, and reviewed by the auditor)"
    )
