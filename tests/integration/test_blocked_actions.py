"""`allowed_actions` lists only what would succeed now; `blocked_actions` says why not (issue 19).

The case view and the command's refusal ask the same date-bound checks
(domain/contract_guards.py `refused_now`), so they cannot disagree.
"""

from __future__ import annotations

from tests.conftest import Api
from tests.integration.flows import PLAN_TRINN_1, activate, consent_all, offer, ok


def test_complete_before_the_end_date_is_blocked_with_the_rule_its_refusal_names(api: Api) -> None:
    case_id = offer(api, trinn=1)
    active = activate(api, case_id, plan=PLAN_TRINN_1)  # the plan ends 2027-01-10
    assert active["status"] == "active"

    for view in (active, ok(api.get("konfliktrad", f"/contracts/{case_id}"))):
        assert "complete" not in view["allowed_actions"]
        assert {"action": "complete", "rule": "end-date-not-reached"} in view["blocked_actions"]
        assert "hold_meeting" in view["allowed_actions"]

    refused = api.post("konfliktrad", f"/contracts/{case_id}/complete")
    assert refused.status_code == 409
    assert refused.json()["rule"] == "end-date-not-reached"
    assert "complete" not in refused.json()["allowed_actions"]

    api.clock.advance(days=125)  # past the plan's end date
    later = ok(api.get("konfliktrad", f"/contracts/{case_id}"))
    assert "complete" in later["allowed_actions"]
    assert all(b["action"] != "complete" for b in later["blocked_actions"])
    assert ok(api.post("konfliktrad", f"/contracts/{case_id}/complete"))["status"] == "completed"


def test_a_startup_meeting_is_blocked_until_its_time(api: Api) -> None:
    case_id = offer(api)
    consent_all(api, case_id)
    scheduled = ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/startup-meeting",
            {"at": "2026-09-12T10:00:00+02:00", "participants": ["konfliktrad", "municipal_health"]},
        )
    )
    assert {"action": "hold_startup", "rule": "startup-meeting-not-due"} in scheduled["blocked_actions"]
    assert "hold_startup" not in scheduled["allowed_actions"]
    assert "fail_startup" in scheduled["allowed_actions"]

    api.clock.advance(days=3)
    due = ok(api.get("konfliktrad", f"/contracts/{case_id}"))
    assert "hold_startup" in due["allowed_actions"] and due["blocked_actions"] == []
