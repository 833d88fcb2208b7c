"""The access policy as data (docs/domain.md §3) and the one function that applies it.

`redact` is the single gate between an event and an agency: projections, the agency
topics on Kafka and the API all call it, so there is exactly one place where "may the
school see this?" is decided. The table is versioned; every view records the version
it was produced under.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.consent import ConsentRegister
from domain.values import Agency, Category, IdentityHashed


class Access(IdentityHashed):
    ALWAYS = "A"
    CONSENT = "C"
    NEVER = "N"
    AGGREGATED = "Agg"


class Track(IdentityHashed):
    CONTRACT = "contract"
    PREVENTION = "prevention"


A, C, N, AGG = Access.ALWAYS, Access.CONSENT, Access.NEVER, Access.AGGREGATED
_COLUMNS = (
    Agency.PROSECUTION,
    Agency.POLICE,
    Agency.KONFLIKTRAD,
    Agency.MUNICIPAL_HEALTH,
    Agency.GP,
    Agency.CHILD_WELFARE,
    Agency.SCHOOL,
    Agency.COUNTY,
)
_ROWS: dict[Category, tuple[Access, ...]] = {
    #                     pros police konfl health  gp  cw  school county
    Category.IDENTITY: (A, A, A, A, C, C, C, N),
    Category.OFFENCE: (A, A, A, C, C, C, N, N),
    Category.TERMS: (A, A, A, A, C, C, C, AGG),
    Category.NOTES: (N, N, A, A, N, C, N, N),
    Category.RAPID_TEST: (N, C, A, A, C, C, N, AGG),
    Category.LAB_TEST: (N, C, C, C, A, C, N, AGG),
    Category.BREACH: (A, A, A, A, C, C, N, AGG),
    Category.OUTCOME: (A, A, A, A, C, C, C, AGG),
    Category.EVALUATION: (N, N, A, A, N, N, N, AGG),
}

# Which category each field of each contract event belongs to. A field that is not
# listed is never shared with anyone but the auditor: new fields fail closed.
_OFFERED = {
    "youth": Category.IDENTITY,
    "guardians": Category.IDENTITY,
    "offence": Category.OFFENCE,
    "trinn": Category.TERMS,
    "residence_municipality": Category.TERMS,
    "registered_municipality": Category.TERMS,
    "offer_deadline": Category.TERMS,
    "rules_version": Category.TERMS,
    # The criminal case's disposition: what the school must never learn.
    "legal_basis": Category.OFFENCE,
    "replaces": Category.OFFENCE,
    # Whom the case relates to (docs/domain.md §9): the GP and school when known at the
    # offer, the units the municipalities belong to; the prosecutor's district is the
    # criminal case's.
    "gp": Category.TERMS,
    "school": Category.TERMS,
    "units": Category.TERMS,
    "register_version": Category.TERMS,
    "offence_district": Category.OFFENCE,
}
FIELD_CATEGORIES: dict[str, dict[str, Category]] = {
    "ContractOffered": _OFFERED,
    # The offer's data (and the plan in force), disclosed when a later consent opens it or
    # when a unit becomes related to a running case (a move, a new GP, a team member).
    "CaseDisclosed": {**_OFFERED, "plan": Category.TERMS},
    # Whom the case relates to (docs/domain.md §9): part of the case's terms.
    "GpRegistered": {"hpr": Category.TERMS},
    "SchoolRegistered": {"organisation_number": Category.TERMS},
    "ResidenceChanged": dict.fromkeys(
        ("municipality", "registered_municipality", "units", "register_version"), Category.TERMS
    ),
    "TeamMemberAdded": dict.fromkeys(("member_id", "agency", "unit", "sub"), Category.TERMS),
    "TeamMemberRemoved": {"member_id": Category.TERMS},
    "ConsentGiven": dict.fromkeys(
        ("signatory", "scope", "booklet_version", "consent_id", "booklet_language"), Category.IDENTITY
    ),
    "GuardianAdded": dict.fromkeys(("guardian", "signatory"), Category.IDENTITY),
    "ConsentWithdrawn": dict.fromkeys(("signatory", "scope"), Category.IDENTITY),
    "OfferDeclined": {"signatory": Category.OUTCOME},
    "OfferLapsed": {"deadline": Category.OUTCOME},
    "StartupMeetingScheduled": dict.fromkeys(("meeting_at", "participants"), Category.TERMS),
    "StartupMeetingHeld": {"attendees": Category.TERMS, "notes": Category.NOTES},
    # Free text is in the category of what it explains, not of the field it sits beside.
    "PlanAgreed": {"plan": Category.TERMS, "deviations": Category.TERMS, "deviation_reason": Category.NOTES},
    "PlanAmended": {
        **dict.fromkeys(("changes", "plan", "deviations"), Category.TERMS),
        **dict.fromkeys(("reason", "deviation_reason"), Category.NOTES),
    },
    # A stage changes because of a breach or of progress: its reason is what was said about
    # the youth (notes), not a term the school may be given.
    "StageChanged": {"from_trinn": Category.TERMS, "to_trinn": Category.TERMS, "reason": Category.NOTES},
    "TestScheduled": {
        **dict.fromkeys(
            ("test_id", "kind", "purpose", "random", "scheduled_for", "result_by"), Category.TERMS
        ),
        # A lab test that confirms a rapid test says that rapid test was positive.
        "confirms_test_id": Category.RAPID_TEST,
    },
    "RapidTestRecorded": dict.fromkeys(
        ("test_id", "panel", "positives", "collected_at"), Category.RAPID_TEST
    ),
    "LabResultRecorded": dict.fromkeys(
        (
            "test_id",
            "requisition_code",
            "positives",
            "interpretation",
            "purpose",
            "collected_at",
            "confirms_test_id",
        ),
        Category.LAB_TEST,
    ),
    "MeetingHeld": dict.fromkeys(("kind", "held_at", "attended", "notes"), Category.NOTES),
    "NoShowRecorded": dict.fromkeys(("appointment", "excuse"), Category.BREACH),
    "BreachRegistered": dict.fromkeys(("breach_id", "kind", "evidence", "test_id"), Category.BREACH),
    "BreachDecided": dict.fromkeys(
        ("breach_id", "response", "factors", "reason", "plan", "deviations", "deviation_reason"),
        Category.BREACH,
    ),
    "ContractCompleted": {"completion_date": Category.OUTCOME},
    # The outcome is the reason code; the note explains it, most often with the breach
    # decision's own reasoning (a termination's note is the decision's reason), so it is breach.
    "ContractTerminated": {"reason": Category.OUTCOME, "note": Category.BREACH},
    "ReturnedToProsecution": {"note": Category.BREACH},
    "EvaluationSubmitted": dict.fromkeys(("respondent_role", "form_version", "answers"), Category.EVALUATION),
    # A missed deadline tells of the contract's follow-up failing (and of a breach, for the
    # breach decision's): what the breach category shares, never the school.
    "DeadlineMissed": dict.fromkeys(("rule", "due"), Category.BREACH),
    "CaseEscalated": dict.fromkeys(("rule", "due", "to"), Category.BREACH),
}

# The preventive track (docs/domain.md §6): never prosecution; police always; the others only
# from the event that discloses the case to them.
PREVENTION_DISCLOSURES: dict[str, Agency] = {
    "CounsellingAccepted": Agency.MUNICIPAL_HEALTH,
    "ConcernReportedToChildWelfare": Agency.CHILD_WELFARE,
}


@dataclass(frozen=True)
class Policy:
    version: str
    effective_from: datetime
    table: dict[Category, dict[Agency, Access]]

    def access(self, agency: Agency, category: Category) -> Access:
        return self.table[category][agency]


def _table() -> dict[Category, dict[Agency, Access]]:
    return {cat: dict(zip(_COLUMNS, row, strict=True)) for cat, row in _ROWS.items()}


POLICIES: tuple[Policy, ...] = (Policy("2026-1", datetime(2026, 1, 1, tzinfo=UTC), _table()),)
CURRENT_POLICY = POLICIES[-1]


def policy_in_force(at: datetime) -> Policy:
    """The newest policy version effective at `at` (the oldest one before any)."""
    eligible = [p for p in POLICIES if p.effective_from <= at]
    return eligible[-1] if eligible else POLICIES[0]


def consentable(agency: Agency, category: Category, policy: Policy = CURRENT_POLICY) -> bool:
    """Consent may open a C cell; an A cell is open anyway (harmless to list); N and Agg never."""
    if agency is Agency.AUDITOR:
        return False
    return policy.access(agency, category) in (Access.CONSENT, Access.ALWAYS)


@dataclass(frozen=True)
class EventRecord:
    """An event as plain data: what the policy, the projections and Kafka all handle."""

    track: Track
    case_id: str
    version: int
    type: str
    at: datetime
    actor: str
    actor_agency: Agency
    payload: Mapping[str, Any]
    status: str | None = None  # the contract's status after the event (workflow metadata)


@dataclass(frozen=True)
class RedactedEvent:
    """What one agency may see of one event."""

    agency: Agency
    track: Track
    case_id: str
    version: int
    type: str
    at: datetime
    actor_agency: Agency
    fields: dict[str, Any]
    basis: dict[str, str]  # category -> "role" or "consent:<ids>" or "disclosure"
    policy_version: str
    status: str | None = None
    unit: str | None = None  # the agency's unit it was shown to (docs/domain.md §9)

    @property
    def categories(self) -> list[str]:
        return sorted(self.basis)


@dataclass
class Disclosures:
    """When a prevention case was disclosed to an agency other than the police."""

    since: dict[Agency, datetime] = field(default_factory=dict)


def redact(
    event: EventRecord,
    agency: Agency,
    consents: ConsentRegister | Disclosures | None,
    policy: Policy | None = None,
) -> RedactedEvent | None:
    """What `agency` may see of `event`, with consents as they stood at the event's time.

    None means the agency gets nothing of this event, not even that it happened.
    """
    policy = policy or policy_in_force(event.at)
    if event.track is Track.PREVENTION:
        return _redact_prevention(event, agency, consents, policy)
    if agency is Agency.AUDITOR:
        return _view(event, agency, dict(event.payload), {"all": "role:auditor"}, policy)
    fields: dict[str, Any] = {}
    basis: dict[str, str] = {}
    decided: dict[Category, str | None] = {}  # the grounds depend on the category, not the field
    for name, category in FIELD_CATEGORIES.get(event.type, {}).items():
        if name not in event.payload:
            continue
        if category not in decided:
            decided[category] = _grounds(event, agency, category, consents, policy)
        grounds = decided[category]
        if grounds is not None:
            fields[name] = event.payload[name]
            basis[category.value] = grounds
    if not fields:
        return None
    return _view(event, agency, fields, basis, policy)


def _grounds(
    event: EventRecord,
    agency: Agency,
    category: Category,
    consents: ConsentRegister | Disclosures | None,
    policy: Policy,
) -> str | None:
    if category is Category.LAB_TEST:
        sanction = event.payload.get("purpose") == "sanction"
        if sanction and agency is Agency.PROSECUTION:
            return "statute:sanction-test"  # footnote 1: requisitioned for the criminal case
        if sanction and agency is Agency.GP:
            return None  # sanction results never go to the GP journal
    access = policy.access(agency, category)
    if access is Access.ALWAYS:
        return "role"
    if access is Access.CONSENT and isinstance(consents, ConsentRegister):
        return consents.basis(agency, category, event.at)
    return None


def _redact_prevention(
    event: EventRecord,
    agency: Agency,
    consents: ConsentRegister | Disclosures | None,
    policy: Policy,
) -> RedactedEvent | None:
    if agency is Agency.PROSECUTION:
        return None  # never, whatever a caller passes as disclosures
    if agency in (Agency.AUDITOR, Agency.POLICE):
        basis = "role:auditor" if agency is Agency.AUDITOR else "role"
        return _view(event, agency, dict(event.payload), {"prevention": basis}, policy)
    if not isinstance(consents, Disclosures) or agency not in consents.since:
        return None
    if event.at < consents.since[agency]:
        return None
    return _view(event, agency, dict(event.payload), {"prevention": "disclosure"}, policy)


def _view(
    event: EventRecord,
    agency: Agency,
    fields: dict[str, Any],
    basis: dict[str, str],
    policy: Policy,
) -> RedactedEvent:
    return RedactedEvent(
        agency=agency,
        track=event.track,
        case_id=event.case_id,
        version=event.version,
        type=event.type,
        at=event.at,
        actor_agency=event.actor_agency,
        fields=fields,
        basis=basis,
        policy_version=policy.version,
        status=event.status,
    )
