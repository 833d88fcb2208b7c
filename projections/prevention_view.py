"""What does this agency know about this prevention case?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.permissions import PREVENTION_COMMANDS
from domain.policy import RedactedEvent
from domain.values import Agency


def fold_prevention_case(
    case_id: str, views: Iterable[RedactedEvent], doc: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """`doc` continues an earlier fold (the read models fold one event at a time)."""
    for view in views:
        if doc is None:
            doc = {"id": case_id, "track": "prevention", "steps": []}
        doc["policy_version"] = view.policy_version
        doc["categories"] = ["prevention"]
        doc["basis"] = {"prevention": sorted(set(view.basis.values()))}
        if "person" in view.fields:
            doc["person"] = view.fields["person"]
        if view.type == "ConcernRegistered":
            doc.update({k: view.fields[k] for k in ("source", "municipality", "summary") if k in view.fields})
        else:
            step = {k: v for k, v in view.fields.items() if k != "person"}
            doc["steps"].append({"type": view.type, "at": view.at.isoformat(), **step})
    return doc


def present_prevention_case(
    doc: dict[str, Any], version: int, types_seen: Iterable[str], agency: Agency
) -> dict[str, Any]:
    """The document served to `agency`: its fold plus the case's state from all its events."""
    out = dict(doc)
    out["version"] = version
    steps = set(types_seen)
    closed = "PreventionCaseClosed" in steps
    out["status"] = "closed" if closed else "open"
    open_actions = (
        []
        if closed
        else [
            "offer_conversation",
            "offer_counselling",
            "report_to_child_welfare",
            "close",
            *(["hold_conversation", "decline_conversation"] if "ConversationOffered" in steps else []),
            *(["accept_counselling", "decline_counselling"] if "CounsellingOffered" in steps else []),
        ]
    )
    out["allowed_actions"] = [a for a in open_actions if agency in PREVENTION_COMMANDS[a]]
    return out
