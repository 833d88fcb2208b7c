"""Case views and worklists for one agency, computed through the access policy.

Until the Kafka-fed read models serve these, they are folded from the event store's
records on each request, through the same `redact` every other reader uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID


from domain.consent import local_day
from domain.contract import ContractStatus, allowed_actions
from domain.permissions import CONTRACT_COMMANDS, PREVENTION_COMMANDS
from domain.policy import EventRecord
from domain.values import Agency
from infra.auth import Principal
from infra.bootstrap import Container
from infra.db.access_log import AccessEntry
from projections.access import views_for
from projections.case_view import fold_case
from projections.prevention_view import fold_prevention_case
from projections.worklist import worklist_row
from services.case_index import case_ids_of
from services.contracts import CaseNotFoundError


def contract_view(records: list[EventRecord], agency: Agency) -> dict[str, Any] | None:
    doc = fold_case(records[0].case_id, views_for(records, agency))
    if doc is None:
        return None
    last = records[-1]
    status = ContractStatus(last.status)
    doc["status"] = status.value  # the current status, even if the latest event is hidden
    doc["version"] = last.version
    doc["allowed_actions"] = [a for a in allowed_actions(status) if agency in CONTRACT_COMMANDS[a]]
    return doc


def log_reads(container: Container, principal: Principal, action: str,
              docs: list[dict[str, Any]]) -> None:  # fmt: skip
    """Append one access-log entry per case document returned to the caller."""
    at = container.clock()
    container.access_log.record([
        AccessEntry(at, principal.sub, principal.agency.value,
                    container.keys.store.subject_of_case(doc["id"]), doc["id"], action,
                    list(doc.get("categories", [])), dict(doc.get("basis", {})))
        for doc in docs
    ])  # fmt: skip


def contract_view_or_404(container: Container, case_id: UUID, agency: Agency) -> dict[str, Any]:
    doc = contract_view(container.contracts.records(case_id), agency)
    if doc is None:
        raise CaseNotFoundError(str(case_id))
    return doc


def worklist(container: Container, agency: Agency, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for case_id in case_ids_of(container.contracts):
        doc = contract_view(container.contracts.records(case_id), agency)
        if doc is not None:
            row = worklist_row(doc, container.rules, local_day(now))
            row["categories"] = [c for c in doc["categories"] if c == "terms"]
            row["basis"] = {"terms": doc["basis"]["terms"]} if "terms" in doc["basis"] else {}
            rows.append(row)
    return rows


def prevention_view(records: list[EventRecord], agency: Agency) -> dict[str, Any] | None:
    doc = fold_prevention_case(records[0].case_id, views_for(records, agency))
    if doc is None:
        return None
    doc["version"] = records[-1].version
    closed = any(r.type == "PreventionCaseClosed" for r in records)
    doc["status"] = "closed" if closed else "open"
    steps = {r.type for r in records}
    open_actions = [] if closed else [
        "offer_conversation", "offer_counselling", "report_to_child_welfare", "close",
        *(["hold_conversation", "decline_conversation"] if "ConversationOffered" in steps else []),
        *(["accept_counselling", "decline_counselling"] if "CounsellingOffered" in steps else []),
    ]  # fmt: skip
    doc["allowed_actions"] = [a for a in open_actions if agency in PREVENTION_COMMANDS[a]]
    return doc
