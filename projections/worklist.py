"""What is on my desk? One worklist row per case the agency may know, with its next deadline.

The deadline rules themselves are the domain's (`domain/deadlines.py`); this read model
only lays a case view out as a row.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.deadlines import is_overdue, next_deadline
from domain.rules import Rules
from projections.case_view import CaseDoc


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
