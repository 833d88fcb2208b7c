"""What the OpenAPI document says of each answer and request, beyond what the routes declare.

The routes answer with documents the use cases build (`response_model=None`), so FastAPI
documents their bodies as `{}`. Here each answer gets a schema (`CaseView`, `WorklistPage`,
`History`, ...), its headers (`ETag`, `Location` on creations, `X-Position`), and each
request body an example and a description of every field. The schemas are permissive on
purpose: they name and type the fields every answer has, and allow more (`additionalProperties`),
so fields other work adds (`deadlines`, `consents_missing`, `escalated`, ...) pass, and a
`Prefer: return=minimal` answer (id, version, position) is a case view too.
`tests/reliability/test_openapi_fuzz.py` holds every real answer to these schemas.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.contract import ContractStatus
from domain.values import Agency


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


STATUSES = ", ".join(s.value for s in ContractStatus)
AGENCIES = ", ".join(a.value for a in Agency)


class Deadline(Open):
    rule: str = Field(description="The deadline rule, e.g. `offer_answer`, `startup_meeting`, `next_test`")
    due: str = Field(description="The day it is due (Norwegian calendar, ISO date)", examples=["2026-10-01"])
    who: str = Field(description="The agency that must act", examples=["konfliktrad"])
    source: str | None = Field(None, description="Where the rule comes from (docs/domain.md §11)")
    moved_from: str | None = Field(
        None, description="The day it fell on before a weekend or holiday moved it"
    )


class BlockedAction(Open):
    action: str = Field(description="The command, as in `allowed_actions`", examples=["complete"])
    rule: str = Field(
        description="The rule that refuses it now (the 409's `rule`)", examples=["end-date-not-reached"]
    )


class CaseView(Open):
    """A contract as the caller's unit may see it (`GET /contracts/{id}` and every command's
    answer): only the fields the access policy and the consents open to it."""

    id: str = Field(description="The case id (UUID)", examples=["5d29516b-7044-4009-bd12-8353a23b49dd"])
    version: int = Field(description="The case's version: send it as `If-Match` with the next command")
    status: str | None = Field(None, description=f"One of {STATUSES}")
    trinn: int | None = Field(None, description="The stage (trinn) in force")
    policy_version: str | None = Field(None, description="The access policy the view was redacted under")
    categories: list[str] | None = Field(
        None, description="The categories of personal data the view holds (identity, offence, terms, ...)"
    )
    allowed_actions: list[str] | None = Field(
        None,
        description="The commands the caller's agency may give now: allowed in the case's current "
        "status and refused by no guard on the date (a guard on the command's input can still "
        "refuse one: 409 or 422 with its `rule`)",
        examples=[["hold_meeting", "schedule_test", "register_breach"]],
    )
    blocked_actions: list[BlockedAction] | None = Field(
        None,
        description="The commands the status allows the caller's agency but a guard refuses now, "
        "each with the `rule` its 409 would name (e.g. `complete` before the plan's end date)",
    )
    deadlines: list[Deadline] | None = Field(None, description="Every open deadline of the case")
    consents_missing: list[dict[str, Any]] | None = Field(
        None, description="While offered: whose consent to the contract is still missing (signatory, name)"
    )
    position: int | None = Field(
        None, description="A command's answer: pass as `?min_position=` so a later read sees this state"
    )


class Created(CaseView):
    test_id: str | None = Field(None, description="`POST .../tests`: the new test's id")
    breach_id: str | None = Field(None, description="`POST .../breaches`: the new breach's id")


class WorklistRow(Open):
    id: str
    status: str | None = None
    trinn: int | None = None
    municipality: str | None = Field(None, description="The residence municipality (4 digits)")
    name: str | None = Field(None, description="The youth's name, when the agency may see identity")
    next_deadline: str | None = Field(None, description="The soonest open deadline (ISO date)")
    next_deadline_rule: str | None = None
    overdue: bool | None = None
    escalated: bool | None = None


class WorklistPage(Open):
    items: list[WorklistRow]
    next_cursor: str | None = Field(None, description="Pass as `cursor=` for the next page (also in `Link`)")


class PreventionCaseView(Open):
    id: str
    version: int
    status: str | None = None
    allowed_actions: list[str] | None = None
    position: int | None = None


class StoredEvent(Open):
    version: int
    type: str = Field(description="The event's type, e.g. `ConsentGiven`")
    at: str = Field(description="When it was recorded (ISO 8601 with offset)")
    actor: str | None = None
    actor_agency: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class History(Open):
    id: str
    as_of: str | None = None
    version: int | None = None
    events: list[StoredEvent]
    state: dict[str, Any] | None = None


class AgencyView(Open):
    id: str
    agency: str
    known: bool = Field(description="Whether the unit could know the case at all at that time")
    view: dict[str, Any] | None = None


class SubjectExport(Open):
    subject: dict[str, Any]
    generated_at: str
    contracts: list[dict[str, Any]]


class Grant(Open):
    sub: str
    agency: str
    unit: str
    reason: str
    granted_at: str
    until: str


class Readiness(Open):
    ready: bool
    checks: dict[str, Any] | None = Field(
        None, description="With a valid token: each check (read models' lag, what is unreachable)"
    )


MODELS: list[type[BaseModel]] = [
    Readiness,
    CaseView,
    Created,
    WorklistPage,
    PreventionCaseView,
    History,
    AgencyView,
    SubjectExport,
    Grant,
]

# (method, path pattern) -> the answer's model; the first match counts.
ANSWERS: list[tuple[str, str, type[BaseModel]]] = [
    ("post", r"^/contracts/\{case_id\}/access-requests$", Grant),
    ("post", r"^/contracts/\{case_id\}/(tests|breaches)$", Created),
    ("post", r"^/contracts(/.*)?$", CaseView),
    ("delete", r"^/contracts/\{case_id\}/team/.*$", CaseView),
    ("get", r"^/contracts$", WorklistPage),
    ("get", r"^/contracts/\{case_id\}$", CaseView),
    ("get", r"^/contracts/\{case_id\}/history$", History),
    ("get", r"^/contracts/\{case_id\}/views/\{agency\}$", AgencyView),
    ("get", r"^/subjects/\{national_id\}/export$", SubjectExport),
    ("post", r"^/prevention-cases(/.*)?$", PreventionCaseView),
    ("get", r"^/prevention-cases/\{case_id\}$", PreventionCaseView),
    ("get", r"^/ready$", Readiness),
]

HEADERS = {
    "ETag": {
        "description": 'The case version, e.g. `"3"`: send it back as `If-Match`',
        "schema": {"type": "string"},
    },
    "X-Position": {
        "description": "The store position of the command's events (`?min_position=` for reads)",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The new case: `/contracts/{id}` or `/prevention-cases/{id}`",
        "schema": {"type": "string"},
    },
}

YOUTH = {"name": "Ola Nordmann", "national_id": "01120950130", "birth_date": "2009-12-01"}
PLAN = {
    "trinn": 2,
    "start_date": "2026-10-10",
    "end_date": "2027-04-10",
    "test_regime": {"kind": "rapid", "per_month": 4},
    "meeting_frequency_days": 30,
    "team": ["konfliktrad", "municipal_health", "police"],
    "conditions": ["no drug use", "attend conversations"],
}
# docs/api.md's bodies, valid against their own schemas (tests/integration/test_openapi_answers.py).
EXAMPLES: dict[str, dict[str, Any]] = {
    "OfferBody": {
        "youth": YOUTH,
        "guardians": [{"name": "Kari Nordmann", "national_id": "02037500030"}],
        "offence": {
            "code": "NARK-BRUK",
            "substance": "cannabis",
            "date": "2026-09-01",
            "summary": "2 g cannabis",
        },
        "trinn": 2,
        "residence_municipality": "5001",
        "registered_municipality": "5001",
        "offer_deadline": "2026-10-01",
        "legal_basis": "strpl_71a",
        "replaces": {"kind": "fine", "amount": 3000},
    },
    "ConsentBody": {
        "signatory": "youth",
        "scope": [{"agency": "gp", "category": "rapid_test"}],
        "booklet_version": "2026-1",
    },
    "WithdrawBody": {"signatory": "guardian:0", "scope": [{"agency": "gp", "category": "rapid_test"}]},
    "DeclineBody": {"signatory": "youth"},
    "StartupBody": {
        "at": "2026-10-10T10:00:00+02:00",
        "participants": ["konfliktrad", "municipal_health", "police"],
    },
    "StartupHeldBody": {"plan": PLAN, "attendees": ["konfliktrad", "municipal_health"], "notes": ""},
    "StageBody": {"trinn": 3, "reason": "two breaches in a month"},
    "PlanAmendBody": {"plan": PLAN, "reason": "new school term"},
    "TestBody": {"kind": "rapid", "purpose": "follow_up", "scheduled_for": "2026-10-20", "random": True},
    "ResultBody": {"positives": ["THC"], "collected_at": "2026-10-20T09:00:00+02:00"},
    "MeetingBody": {
        "kind": "conversation",
        "held_at": "2026-10-25T14:00:00+02:00",
        "attended": True,
        "notes": "...",
    },
    "NoShowBody": {"appointment": "conversation 2026-10-25 14:00", "excuse": None},
    "BreachBody": {"kind": "no_show", "evidence": "did not come to the conversation of 25 October"},
    "DecisionBody": {
        "response": "warning",
        "reason": "first breach, good motivation",
        "factors": {
            "seriousness": "low",
            "fault": "admits",
            "condition_kind": "attendance",
            "motivation": "good",
            "completed_share": 0.3,
            "repetition": 1,
        },
    },
    "EvaluationBody": {"respondent_role": "coordinator", "form_version": "2026-1", "answers": {}},
    "NoteBody": {"note": "the youth moved abroad"},
    "ConcernBody": {
        "person": {"name": "Per Ung", "national_id": "15011050260", "birth_date": "2010-01-15"},
        "source": "school",
        "municipality": "5001",
        "summary": "seen with older buyers",
    },
    "ConversationHeldBody": {"held_at": "2026-10-01T15:00:00+02:00", "notes": ""},
    "PreventionNoteBody": {"note": ""},
    "ReasonBody": {"reason": ""},
    "PersonIn": {"name": "Per Senere", "national_id": "05068000051", "birth_date": "1980-06-05"},
    "GpBody": {"hpr": "9144900"},
    "SchoolBody": {"organisation_number": "974760673"},
    "ResidenceBody": {"municipality": "0301", "registered_municipality": None, "moved_away": False},
    "TeamMemberBody": {"agency": "child_welfare", "unit": "5001", "sub": None},
    "AccessRequestBody": {"reason": "the youth is at our emergency shelter tonight"},
}

FIELDS: dict[str, str] = {
    "youth": "The youth the contract is offered to",
    "guardians": "The youth's guardians (under 18 each must consent too); `guardian:<index>` names them",
    "offence": "The offence the contract answers",
    "trinn": "The stage (trinn, 1–3 in the rules in force): how long and how tight the plan is",
    "residence_municipality": "Where the youth lives (municipality number, 4 digits)",
    "registered_municipality": "The folkeregistrert municipality (4 digits)",
    "offer_deadline": "The day by which the youth and guardians answer (default: 14 days)",
    "legal_basis": "strpl_71a (transfer to the Conflict Council), strpl_69 (waiver with conditions) "
    "or youth_follow_up",
    "replaces": "The ordinary reaction the contract replaces: a fine with its amount, or another",
    "gp": "The youth's GP (HPR number), when known",
    "school": "The youth's school (organisation number), when known",
    "signatory": "Who signs: `youth`, or `guardian:<index>` for the index-th guardian of the offer",
    "scope": "What the consent also opens: each item lets `agency` see `category` (a consent cell)",
    "booklet_version": "The version of the information booklet the signatory was given",
    "booklet_language": "The booklet's language (ISO 639-1), e.g. nb, nn, se, en",
    "at": "When the meeting is (ISO 8601 with offset)",
    "participants": "The agencies invited",
    "plan": "The plan agreed: stage, dates, test regime, meeting frequency, team, conditions",
    "attendees": "The agencies that came",
    "notes": "Free text (shown only to agencies that may see notes)",
    "note": "Free text",
    "reason": "Why (free text)",
    "kind": "What kind (see the enum)",
    "purpose": "follow_up (part of the plan) or sanction (after a suspected breach)",
    "scheduled_for": "The day the test is to be taken",
    "random": "Unannounced",
    "confirms_test_id": "A lab test requisitioned to confirm this rapid test",
    "result_by": "The agency that records the result (default by kind and purpose)",
    "positives": "The substances found; empty: negative",
    "collected_at": "When the sample was taken (not in the future)",
    "panel": "The substances tested for",
    "requisition_code": "A lab result: its requisition's code",
    "interpretation": "A lab result: the laboratory's interpretation",
    "held_at": "When it was held (not in the future)",
    "attended": "Whether the youth came",
    "appointment": "The appointment the youth did not come to",
    "excuse": "A valid excuse, if any",
    "evidence": "What happened",
    "test_id": "The positive test the breach rests on",
    "response": "The answer to the breach",
    "factors": "The proportionality factors every decision records",
    "respondent_role": "Who answers the evaluation form",
    "form_version": "The evaluation form's version",
    "answers": "The answers, by question id",
    "person": "The person the concern is about (12–17 years old)",
    "source": "Who raised the concern",
    "municipality": "The municipality (4 digits)",
    "summary": "What the concern is (free text)",
    "name": "Full name",
    "national_id": "Fødselsnummer or D-number (11 ASCII digits, valid check digits)",
    "birth_date": "Date of birth (ISO date)",
    "code": "The offence code, e.g. NARK-BRUK",
    "substance": "The substance, e.g. cannabis",
    "date": "The day of the offence",
    "hpr": "The GP's HPR number",
    "organisation_number": "The school's organisation number (9 digits, valid check digit)",
    "moved_away": "The contract cannot go on where the youth moved: it ends",
    "agency": f"One of {AGENCIES}",
    "category": "identity, offence, terms, notes, rapid_test, lab_test, breach, outcome or evaluation",
    "unit": "The unit of the agency (municipality, police district, office, HPR or organisation number)",
    "sub": "A named user of the unit",
    "start_date": "The plan's first day",
    "end_date": "The plan's last day (at most 12 months after the start)",
    "test_regime": "The kind of test and how many a month",
    "per_month": "Tests a month",
    "meeting_frequency_days": "Days between follow-up conversations",
    "team": "The agencies in the youth's team",
    "conditions": "The conditions the youth agrees to",
    "deviation_reason": "Why the plan departs from its stage's defaults (required when it does)",
    "amount": "The fine's amount (NOK)",
    "description": "The reaction, in words",
    "seriousness": "How serious the breach is",
    "fault": "The youth's part in it",
    "condition_kind": "Which condition was broken",
    "motivation": "The youth's motivation",
    "completed_share": "Share of the contract completed (0–1)",
    "repetition": "How many breaches before this one",
}


def apply(doc: dict[str, Any]) -> None:
    """Add the answers' schemas and headers, and the bodies' examples and field descriptions."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in MODELS:
        _add_schema(schemas, model)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            _answer(path, method, operation)
            _request_example(operation, schemas)
    for name, schema in schemas.items():
        for field, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict) and "description" not in prop and field in FIELDS:
                prop["description"] = FIELDS[field]
        if name in EXAMPLES:
            schema["examples"] = [EXAMPLES[name]]


def _add_schema(schemas: dict[str, Any], model: type[BaseModel]) -> None:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, inner in schema.pop("$defs", {}).items():
        schemas.setdefault(name, inner)
    schemas[model.__name__] = schema


def _answer(path: str, method: str, operation: dict[str, Any]) -> None:
    model = next((m for verb, pattern, m in ANSWERS if verb == method and re.match(pattern, path)), None)
    for status, response in operation.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        content = response.setdefault("content", {})
        json_content = content.get("application/json")
        if model is not None and (json_content is None or json_content.get("schema") in ({}, None)):
            content["application/json"] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
        if model in (CaseView, Created, PreventionCaseView):
            headers = response.setdefault("headers", {})
            headers.setdefault("ETag", HEADERS["ETag"])
            if method == "post":
                headers.setdefault("X-Position", HEADERS["X-Position"])
            if status == "201" and path in ("/contracts", "/prevention-cases"):
                headers.setdefault("Location", HEADERS["Location"])


def _request_example(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
    if not content:
        return
    ref = _ref_of(content.get("schema") or {})
    if ref in EXAMPLES:
        content["example"] = EXAMPLES[ref]


def _ref_of(schema: dict[str, Any]) -> str | None:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for option in schema.get("anyOf", []):
        found = _ref_of(option)
        if found:
            return found
    return None
