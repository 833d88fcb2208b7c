"""Fifty concurrent conflicting commands on one case: exactly one succeeds, the rest are
refused with 412/409, and the case's stored versions have no gaps (quality.md reliability 2).

The commands go to a real `ruskontrakt serve` (tests/reliability/live_server.py) from 50
threads, each on its own open connection, released together by a barrier; once on
SQLite and once on PostgreSQL. Afterwards the event store's rows are read directly:
exactly one new event, versions 1..n without a gap, and the hash chain still verifies.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.flows import FACTORS, activate, offer, ok, rapid_test
from tests.reliability.live_server import LiveServer, fire, live_server, offer_changes, stored_versions

__all__ = ["live_server"]  # the fixture, imported for the tests below
pytestmark = pytest.mark.timeout(180)
N = 50
MEETING = {
    "kind": "conversation",
    "held_at": "2026-09-10T09:00:00+02:00",
    "attended": True,
    "notes": "Samtale om skole og fritid.",
}


def _active_case(server: LiveServer) -> str:
    case_id = offer(server, **offer_changes())  # type: ignore[arg-type]
    activate(server, case_id)  # type: ignore[arg-type]
    return case_id


def _version(server: LiveServer, case_id: str) -> int:
    return int(ok(server.get("konfliktrad", f"/contracts/{case_id}"))["version"])


def _assert_one_new_event(server: LiveServer, case_id: str, before: int) -> None:
    assert stored_versions(server.database_url, case_id) == list(range(1, before + 2))
    assert _version(server, case_id) == before + 1
    verified = ok(server.get("auditor", f"/contracts/{case_id}/verify"))
    assert verified["valid"] and verified["events"] == before + 1


def _statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def _problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body: dict[str, Any] = response.json()
    return body


def test_fifty_commands_with_the_same_if_match_leave_one_success_and_one_new_event(
    live_server: LiveServer,
) -> None:
    # A meeting may be recorded again and again: only the version makes these conflict.
    case_id = _active_case(live_server)
    before = _version(live_server, case_id)
    responses = fire(
        live_server,
        [("konfliktrad", f"/contracts/{case_id}/meetings", MEETING, {"If-Match": f'"{before}"'})] * N,
    )

    winners = [r for r in responses if r.is_success]
    assert len(winners) == 1, _statuses(responses)
    assert winners[0].headers["etag"] == f'"{before + 1}"'
    for loser in (r for r in responses if not r.is_success):
        assert loser.status_code in (409, 412), loser.text
        if loser.status_code == 412:
            assert _problem(loser)["current_version"] == before + 1
    _assert_one_new_event(live_server, case_id, before)


def test_fifty_decisions_on_the_same_breach_leave_one_and_refuse_the_rest_with_the_allowed_actions(
    live_server: LiveServer,
) -> None:
    case_id = _active_case(live_server)
    test_id = rapid_test(live_server, case_id, ["THC"])  # type: ignore[arg-type]
    body = {"kind": "positive_test", "test_id": test_id, "evidence": "THC"}
    breach = ok(live_server.post("konfliktrad", f"/contracts/{case_id}/breaches", body), 201)
    before = _version(live_server, case_id)
    decision = {"response": "warning", "factors": FACTORS, "reason": "first positive test"}
    path = f"/contracts/{case_id}/breaches/{breach['breach_id']}/decision"
    responses = fire(live_server, [("konfliktrad", path, decision, {})] * N)

    winners = [r for r in responses if r.is_success]
    assert len(winners) == 1, _statuses(responses)
    assert winners[0].json()["status"] == "active"
    for loser in (r for r in responses if not r.is_success):
        assert loser.status_code == 409, loser.text
        refusal = _problem(loser)
        assert "decide_breach" not in refusal["allowed_actions"]
        assert "hold_meeting" in refusal["allowed_actions"], "what konfliktrad may do on an active case"
    _assert_one_new_event(live_server, case_id, before)
