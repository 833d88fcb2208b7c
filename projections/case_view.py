"""What does this agency know about this case? (the case view of `GET /contracts/{id}`)

A pure fold over the agency's redacted views: a field appears in the document only if
some view carried it, so the document can never hold more than the policy allowed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

from domain.contract import ContractStatus, allowed_actions
from domain.contract_guards import Timing, refused_now
from domain.deadlines import open_deadlines
from domain.errors import DomainError
from domain.permissions import CONTRACT_COMMANDS
from domain.policy import RedactedEvent
from domain.rules import Rules
from domain.values import Agency

CaseDoc = dict[str, Any]
T = TypeVar("T")
# What only the deadline scheduler records (services/scheduler.py): no one's next step.
SCHEDULER_ACTIONS = frozenset({"record_missed_deadline", "escalate"})


def _offered(doc: CaseDoc, f: dict[str, Any]) -> None:
    for key in (
        "youth",
        "guardians",
        "offence",
        "trinn",
        "offer_deadline",
        "residence_municipality",
        "registered_municipality",
        "legal_basis",
        "replaces",
        "gp",
        "school",
        "units",
    ):
        if key in f:
            doc[key] = f[key]
    if f.get("plan"):
        _plan(doc, f)


def _guardian(doc: CaseDoc, f: dict[str, Any]) -> None:
    if "guardian" in f:  # a new list: the offer's may be shared with other agencies' folds
        doc["guardians"] = [*doc.get("guardians", []), f["guardian"]]


def _append(section: str) -> Callable[[CaseDoc, dict[str, Any]], None]:
    def fold(doc: CaseDoc, f: dict[str, Any]) -> None:
        doc.setdefault(section, []).append(dict(f))

    return fold


def _by_id(section: str, key: str) -> Callable[[CaseDoc, dict[str, Any]], None]:
    def fold(doc: CaseDoc, f: dict[str, Any]) -> None:
        items = doc.setdefault(section, [])
        for item in items:
            if key in f and item.get(key) == f[key]:
                item.update(f)
                return
        items.append(dict(f))

    return fold


def _plan(doc: CaseDoc, f: dict[str, Any]) -> None:
    if "plan" in f and f["plan"] is not None:
        doc["plan"] = f["plan"]
        doc["trinn"] = f["plan"]["trinn"]
        # What the plan in force departs from in its trinn's defaults, and why (each field
        # only when the agency may see it: the reason is in the category of what it explains).
        for field in ("deviations", "deviation_reason"):
            if field in f:
                doc[f"plan_{field}"] = f[field]
            else:
                doc.pop(f"plan_{field}", None)


def _stage(doc: CaseDoc, f: dict[str, Any]) -> None:
    if "to_trinn" in f:
        doc["trinn"] = f["to_trinn"]
    _append("stage_changes")(doc, f)


def _set(key: str) -> Callable[[CaseDoc, dict[str, Any]], None]:
    def fold(doc: CaseDoc, f: dict[str, Any]) -> None:
        doc[key] = {**doc.get(key, {}), **f}

    return fold


def _decided(doc: CaseDoc, f: dict[str, Any]) -> None:
    _by_id("breaches", "breach_id")(doc, {k: v for k, v in f.items() if k != "plan"})
    _plan(doc, f)


def _consent_given(doc: CaseDoc, f: dict[str, Any]) -> None:
    _append("consents")(doc, f)
    if "signatory" in f:  # who has consented to the contract itself, now
        doc["contract_consent"] = {**doc.get("contract_consent", {}), f["signatory"]: True}


def _consent_withdrawn(doc: CaseDoc, f: dict[str, Any]) -> None:
    _append("consent_withdrawals")(doc, f)
    if "signatory" in f and f.get("scope") is None:  # the contract consent itself
        doc["contract_consent"] = {**doc.get("contract_consent", {}), f["signatory"]: False}


def consents_missing(doc: CaseDoc) -> list[dict[str, Any]]:
    """Whose consent to the contract an offer still waits for (docs/domain.md §4): the youth
    and, under 18, every registered guardian; with their names when the view has them."""
    youth: dict[str, Any] = doc["youth"] if isinstance(doc.get("youth"), dict) else {}
    guardians: list[Any] = doc["guardians"] if isinstance(doc.get("guardians"), list) else []
    signatories: list[tuple[str, Any]] = [("youth", youth.get("name"))]
    if not _adult(youth.get("birth_date"), doc.get("updated_at")):
        signatories += [
            (f"guardian:{i}", g.get("name") if isinstance(g, dict) else None) for i, g in enumerate(guardians)
        ]
    given = doc.get("contract_consent", {})
    return [
        {"signatory": s, **({"name": name} if isinstance(name, str) else {})}
        for s, name in signatories
        if not given.get(s)
    ]


def _adult(birth: Any, at: Any) -> bool:
    try:
        born, day = date.fromisoformat(birth), datetime.fromisoformat(at).date()
    except (TypeError, ValueError):
        return False
    return (day.year - born.year - ((day.month, day.day) < (born.month, born.day))) >= 18


def _relation(key: str, field: str) -> Callable[[CaseDoc, dict[str, Any]], None]:
    def fold(doc: CaseDoc, f: dict[str, Any]) -> None:
        if field in f:
            doc[key] = f[field]

    return fold


def _residence(doc: CaseDoc, f: dict[str, Any]) -> None:
    if "municipality" in f:
        doc["residence_municipality"] = f["municipality"]
    if "registered_municipality" in f:
        doc["registered_municipality"] = f["registered_municipality"]
    if "units" in f:
        doc["units"] = f["units"]


def _team_member(doc: CaseDoc, f: dict[str, Any]) -> None:
    if "member_id" in f:
        member = {k: v for k, v in f.items() if k != "member_id"}
        doc["team"] = {**doc.get("team", {}), f["member_id"]: member}


def _team_member_left(doc: CaseDoc, f: dict[str, Any]) -> None:
    team = dict(doc.get("team", {}))
    team.pop(f.get("member_id", ""), None)
    doc["team"] = team


FOLDS: dict[str, Callable[[CaseDoc, dict[str, Any]], None]] = {
    "GpRegistered": _relation("gp", "hpr"),
    "SchoolRegistered": _relation("school", "organisation_number"),
    "ResidenceChanged": _residence,
    "TeamMemberAdded": _team_member,
    "TeamMemberRemoved": _team_member_left,
    "ContractOffered": _offered,
    "CaseDisclosed": _offered,
    "ConsentGiven": _consent_given,
    "ConsentWithdrawn": _consent_withdrawn,
    "GuardianAdded": _guardian,
    "OfferDeclined": _set("outcome"),
    "OfferLapsed": _set("outcome"),
    "StartupMeetingScheduled": _set("startup_meeting"),
    "StartupMeetingHeld": _set("startup_meeting"),
    "PlanAgreed": _plan,
    "PlanAmended": _plan,
    "StageChanged": _stage,
    "TestScheduled": _by_id("tests", "test_id"),
    "RapidTestRecorded": _by_id("tests", "test_id"),
    "LabResultRecorded": _by_id("tests", "test_id"),
    "MeetingHeld": _append("meetings"),
    "NoShowRecorded": _append("no_shows"),
    "BreachRegistered": _by_id("breaches", "breach_id"),
    "BreachDecided": _decided,
    "ContractCompleted": _set("outcome"),
    "ContractTerminated": _set("outcome"),
    "ReturnedToProsecution": _set("outcome"),
    "EvaluationSubmitted": _append("evaluations"),
    "DeadlineMissed": _append("missed_deadlines"),
    "CaseEscalated": _append("escalations"),
}


def fold_case(case_id: str, views: Iterable[RedactedEvent], doc: CaseDoc | None = None) -> CaseDoc | None:
    """The case document for one agency, or None when it may not know the case exists.

    `doc` continues an earlier fold (the read models fold one event at a time).
    """
    for view in views:
        if doc is None:
            doc = {"id": case_id, "categories": []}
        at = view.at.isoformat()
        doc["version"] = view.version
        doc["policy_version"] = view.policy_version
        doc["updated_at"] = at
        if view.status is not None and view.status != doc.get("status"):
            doc["status"] = view.status
            doc["status_since"] = at
            # When each status was last entered: deadlines run from it (domain/deadlines.py).
            doc["entered"] = {**doc.get("entered", {}), view.status: at}
        # Sorted anew only when something is new (rarely after the first events): this
        # fold runs once per event and agency in a rebuild.
        if not view.basis.keys() <= set(doc["categories"]):
            doc["categories"] = sorted(set(doc["categories"]) | set(view.basis))
        basis = doc.setdefault("basis", {})
        for category, grounds in view.basis.items():
            known = basis.get(category, [])
            if grounds not in known:
                basis[category] = sorted({*known, grounds})
        fold = FOLDS.get(view.type)
        if fold is not None:
            # A no-show names its appointment in words: the deadlines run from when it was recorded.
            fold(doc, {**view.fields, "recorded_at": at} if view.type == "NoShowRecorded" else view.fields)
        else:
            doc.setdefault("events", []).append({"type": view.type, **view.fields})
    return doc


def timing_of(doc: CaseDoc) -> Timing:
    """The dates the date-bound guards read, as far as the view holds them."""
    meeting = doc.get("startup_meeting")
    plan = doc.get("plan")
    return Timing(
        offer_deadline=_parsed(date.fromisoformat, doc.get("offer_deadline")),
        startup_at=_parsed(
            datetime.fromisoformat, meeting.get("meeting_at") if isinstance(meeting, dict) else None
        ),
        end_date=_parsed(date.fromisoformat, plan.get("end_date") if isinstance(plan, dict) else None),
    )


def _parsed(parse: Callable[[str], T], text: Any) -> T | None:
    try:
        return parse(text) if isinstance(text, str) else None
    except ValueError:
        return None


@functools.cache
def _actions_of(status: str, agency: Agency) -> tuple[str, ...]:
    """What the status allows `agency` (a pure function of the two, asked on every command's
    answer and every read: remembered)."""
    return tuple(
        a
        for a in allowed_actions(ContractStatus(status))
        if agency in CONTRACT_COMMANDS[a] and a not in SCHEDULER_ACTIONS
    )


def present_case(doc: CaseDoc, agency: Agency, rules: Rules, at: datetime | None = None) -> CaseDoc:
    """The document served to `agency`: its fold, with the status and version of the last
    event it saw (never of one it may not know of, docs/domain.md §9), what it may do, its
    open deadlines and, while offered, whose consent is missing (from what it may see).

    `allowed_actions` lists what the status allows the agency and no date-bound guard would
    refuse at `at` (the read's instant); `blocked_actions` the rest, each with the `rule` its
    409 would carry. Without `at` (a stored worklist row, a past view) no date is judged."""
    out = dict(doc)
    status = out.get("status")
    out["deadlines"] = [d.as_dict() for d in open_deadlines(doc, rules)]
    if status == "offered" and "youth" in doc:
        out["consents_missing"] = consents_missing(doc)
    actions = list(_actions_of(status, agency)) if status is not None else []
    refusals: dict[str, type[DomainError]] = {}
    if at is not None:
        timing = timing_of(doc)
        refusals = {a: r for a in actions if (r := refused_now(a, timing, at)) is not None}
    out["allowed_actions"] = [a for a in actions if a not in refusals]
    out["blocked_actions"] = [{"action": a, "rule": r.code()} for a, r in refusals.items()]
    return out
