"""What does this agency know about this prevention case?"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.policy import AgencyView


def fold_prevention_case(case_id: str, views: Iterable[AgencyView]) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = None
    for view in views:
        if doc is None:
            doc = {"id": case_id, "track": "prevention", "steps": []}
        doc["policy_version"] = view.policy_version
        doc["categories"] = ["prevention"]
        doc["basis"] = {"prevention": sorted(set(view.basis.values()))}
        if "person" in view.fields:
            doc["person"] = view.fields["person"]
        if view.type == "ConcernRegistered":
            doc.update({k: view.fields[k] for k in ("source", "municipality", "summary")
                        if k in view.fields})  # fmt: skip
        else:
            step = {k: v for k, v in view.fields.items() if k != "person"}
            doc["steps"].append({"type": view.type, "at": view.at.isoformat(), **step})
    return doc
