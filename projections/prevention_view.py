"""What does this agency know about this prevention case?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.permissions import PREVENTION_COMMANDS
from domain.policy import RedactedEvent
from domain.prevention_lifecycle import allowed_actions, status_of
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
    doc: dict[str, Any], version: int, status: str | None, types_seen: Iterable[str], agency: Agency
) -> dict[str, Any]:
    """The document served to `agency`: its fold plus the case's state from all its events.

    `status` is the lifecycle's state after every event of the case, visible or not; a
    read model stored before it was kept has none, and the status is then read from the
    set of event types in the lifecycle's order (`status_of`) until it is rebuilt."""
    out = dict(doc)
    out["version"] = version
    out["status"] = status or status_of(types_seen)
    out["allowed_actions"] = [a for a in allowed_actions(out["status"]) if agency in PREVENTION_COMMANDS[a]]
    return out
