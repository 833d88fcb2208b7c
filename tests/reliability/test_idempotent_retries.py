"""Retried commands with the same `Idempotency-Key` record nothing twice (quality.md
reliability 3): retried one after another and twenty at once, on a real
`ruskontrakt serve` (tests/reliability/live_server.py), on SQLite and on PostgreSQL.

Every 2xx answer to a key is the first answer again (same body, `ETag`, `Location`); a
retry that arrives while the first request is still running gets 409 "Request in
progress" or the stored answer, never a second run; the same key with another body is
422. The event store's rows are read directly to count what was recorded.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.integration.flows import OFFER, activate, offer, ok
from tests.reliability.live_server import LiveServer, fire, live_server, offer_changes, stored_versions

__all__ = ["live_server"]  # the fixture, imported for the tests below
pytestmark = pytest.mark.timeout(180)
N = 20
MEETING = {
    "kind": "conversation",
    "held_at": "2026-09-10T09:00:00+02:00",
    "attended": True,
    "notes": "Samtale om skole og fritid.",
}
KEPT = ("etag", "location", "content-type")


def _reply(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    return response.status_code, response.json(), {k: response.headers.get(k, "") for k in KEPT}


def _active_case(server: LiveServer) -> tuple[str, int]:
    case_id = offer(server, **offer_changes())  # type: ignore[arg-type]
    return case_id, int(activate(server, case_id)["version"])  # type: ignore[arg-type]


def _assert_only_the_first_or_in_progress(responses: list[httpx.Response]) -> tuple[int, Any, dict[str, str]]:
    """Every answer is the one stored answer, or 409 "Request in progress"; returns the answer."""
    answers = {repr(_reply(r)) for r in responses if r.is_success}
    assert len(answers) == 1, answers
    for response in responses:
        if not response.is_success:
            assert response.status_code == 409, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["title"] == "Request in progress"
    return next(_reply(r) for r in responses if r.is_success)


def test_a_command_retried_one_after_another_records_one_event_and_answers_the_same(
    live_server: LiveServer,
) -> None:
    case_id, before = _active_case(live_server)
    key = {"Idempotency-Key": f"meeting-{uuid.uuid4()}"}
    path = f"/contracts/{case_id}/meetings"
    replies = [_reply(live_server.post("municipal_health", path, MEETING, **key)) for _ in range(5)]

    assert replies[0][0] == 200 and replies[0][2]["etag"] == f'"{before + 1}"'
    assert all(reply == replies[0] for reply in replies)
    assert stored_versions(live_server.database_url, case_id) == list(range(1, before + 2))

    changed = live_server.post("municipal_health", path, {**MEETING, "notes": "Another"}, **key)
    assert changed.status_code == 422 and changed.json()["title"] == "Idempotency key reused"
    assert stored_versions(live_server.database_url, case_id) == list(range(1, before + 2))


def test_twenty_identical_commands_at_once_record_one_event(live_server: LiveServer) -> None:
    case_id, before = _active_case(live_server)
    key = {"Idempotency-Key": f"meeting-{uuid.uuid4()}"}
    path = f"/contracts/{case_id}/meetings"
    responses = fire(live_server, [("municipal_health", path, MEETING, key)] * N)

    answer = _assert_only_the_first_or_in_progress(responses)
    assert answer[0] == 200 and answer[2]["etag"] == f'"{before + 1}"'
    assert stored_versions(live_server.database_url, case_id) == list(range(1, before + 2))
    assert _reply(live_server.post("municipal_health", path, MEETING, **key)) == answer


def test_twenty_identical_offers_at_once_create_one_contract(live_server: LiveServer) -> None:
    # An offer has no case id yet: without the key each request would create a new case.
    national_id = "07070950086"
    body = {**OFFER, **offer_changes(national_id)}
    key = {"Idempotency-Key": f"offer-{uuid.uuid4()}"}
    responses = fire(live_server, [("prosecution", "/contracts", body, key)] * N)

    status, created, headers = _assert_only_the_first_or_in_progress(responses)
    assert status == 201 and headers["location"] == f"/contracts/{created['id']}"
    assert stored_versions(live_server.database_url, created["id"]) == [1]
    export = ok(live_server.get("auditor", f"/subjects/{national_id}/export"))
    assert [c["id"] for c in export["contracts"]] == [created["id"]], "one contract for the person"
    assert _reply(live_server.post("prosecution", "/contracts", body, **key)) == (status, created, headers)
