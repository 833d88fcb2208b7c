"""What is on my desk? One worklist row per case the agency may know, with its next deadline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from domain.deadlines import is_overdue
from domain.rules import Rules
from projections.case_view import CaseDoc
from services.calendar import add_days

__all__ = ["is_overdue", "next_deadline", "worklist_row"]


def next_deadline(doc: CaseDoc, rules: Rules) -> date | None:
    status = doc.get("status")
    since = datetime.fromisoformat(doc["status_since"]).date() if "status_since" in doc else None
    if status == "offered" and "offer_deadline" in doc:
        return date.fromisoformat(doc["offer_deadline"])
    if status == "consented" and since is not None:
        days = rules.deadlines.startup_within_days_of_consent
        return add_days(since, days, rules.deadlines.working_days)
    if status == "startup_scheduled" and "meeting_at" in doc.get("startup_meeting", {}):
        return datetime.fromisoformat(doc["startup_meeting"]["meeting_at"]).date()
    if status == "active" and "plan" in doc:
        return date.fromisoformat(doc["plan"]["end_date"])
    return None


def worklist_row(doc: CaseDoc, rules: Rules, today: date) -> dict[str, Any]:
    deadline = next_deadline(doc, rules)
    return {
        "id": doc["id"],
        "status": doc.get("status"),
        "trinn": doc.get("trinn"),
        "municipality": doc.get("residence_municipality"),
        "next_deadline": deadline.isoformat() if deadline else None,
        "overdue": is_overdue(deadline, doc.get("status"), today),
        "version": doc.get("version"),
        "policy_version": doc.get("policy_version"),
    }
