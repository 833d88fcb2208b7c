"""What is on my desk? One worklist row per case the unit may know, with its deadlines.

The deadline rules themselves are the domain's (`domain/deadlines.py`); this read model
only lays a unit's case view out as a row: the deadlines come from that view, so a unit
is never told of a deadline of something it may not see.
"""

from __future__ import annotations

from typing import Any

from domain.deadlines import open_deadlines
from domain.rules import Rules
from projections.case_view import CaseDoc

NO_DEADLINE = "9999-12-31"  # sorts after every real day


def worklist_row(doc: CaseDoc, rules: Rules) -> dict[str, Any]:
    """The row as stored; `overdue` is judged when it is read (it depends on the day), and
    `name` is sealed apart from it (identity is personal data: `services/projector.py`)."""
    deadlines = open_deadlines(doc, rules)
    missed = {(m.get("rule"), m.get("due")) for m in doc.get("missed_deadlines", []) if isinstance(m, dict)}
    escalated = {(e.get("rule"), e.get("due")) for e in doc.get("escalations", []) if isinstance(e, dict)}
    open_keys = {(d.rule, d.due.isoformat()) for d in deadlines}
    team = _mapping(doc.get("team"))
    offices = _mapping(doc.get("units")).get("konfliktrad") or []
    return {
        "id": doc["id"],
        "status": doc.get("status"),
        "trinn": doc.get("trinn"),
        "municipality": doc.get("residence_municipality"),
        "name": youth.get("name") if isinstance(youth := doc.get("youth"), dict) else None,
        "next_deadline": deadlines[0].due.isoformat() if deadlines else None,
        "next_deadline_rule": deadlines[0].rule if deadlines else None,
        "deadlines": [d.as_dict() for d in deadlines],
        # Flagged while a deadline recorded as missed (escalated) is still open.
        "missed": sorted(r for r, due in missed if (r, due) in open_keys),
        "escalated_rules": sorted(r for r, due in escalated if (r, due) in open_keys),
        "escalated": any(key in open_keys for key in escalated),
        # The Conflict Council office the case belongs to: who the scheduler acts for.
        "office": offices[0] if isinstance(offices, list) and offices else None,
        "assigned": sorted({m["sub"] for m in team.values() if isinstance(m, dict) and m.get("sub")}),
        "version": doc.get("version"),
        "policy_version": doc.get("policy_version"),
        "rules_version": rules.version,
        # What the deadlines were computed under: a row under other rules is computed again.
        "deadline_rules": rules.deadline_fingerprint,
    }


def _mapping(value: Any) -> dict[str, Any]:
    """`value` if it is a mapping (a stored value is kept for ever: an odd one is ignored)."""
    return value if isinstance(value, dict) else {}
