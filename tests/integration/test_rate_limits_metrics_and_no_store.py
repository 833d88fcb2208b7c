"""A user beyond their rate gets 429 with `Retry-After`, others go on; the open `/metrics`
counts no prevention command by name (issue 14, finding 5); every answer with personal
data says `Cache-Control: no-store` (finding 3's hardening list)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.api.app import create_app
from infra.bootstrap import build
from tests.conftest import Api, Clock, settings_for_tests
from tests.integration.flows import OFFER, activate, fnr, offer, ok

RATE = 8
PERSON = {"name": "Per Hansen", "national_id": fnr(date(2010, 1, 15), 3), "birth_date": "2010-01-15"}


@pytest.fixture
def limited(tmp_path: Path, clock: Clock) -> Iterator[Api]:
    settings = settings_for_tests(f"sqlite:///{tmp_path}/rk.sqlite", tmp_path, rate_per_minute=RATE)
    container = build(settings, clock=clock)
    try:
        with TestClient(create_app(container), raise_server_exceptions=False) as client:
            yield Api(client, container, clock)
    finally:
        container.close()


def _as(api: Api, agency: str, sub: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token(agency, sub)}"}


def test_a_user_beyond_the_rate_gets_429_with_retry_after_and_other_users_go_on(limited: Api) -> None:
    mine, theirs = _as(limited, "police", "busy-officer"), _as(limited, "police", "other-officer")
    answers = [limited.client.get("/contracts", headers=mine).status_code for _ in range(RATE)]
    assert answers == [200] * RATE
    refused = limited.client.get("/contracts", headers=mine)
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert limited.client.get("/contracts", headers=theirs).status_code == 200, "counted per user"
    same_sub = _as(limited, "konfliktrad", "busy-officer")
    assert limited.client.get("/contracts", headers=same_sub).status_code == 200, "per agency and sub"
    assert limited.client.get("/health").status_code == 200, "operations are not limited"


def test_metrics_show_no_per_route_counts_of_prevention_commands(api: Api) -> None:
    case = ok(api.post("police", "/prevention-cases", {"person": PERSON, "municipality": "5001"}), 201)
    path = f"/prevention-cases/{case['id']}/reported-to-child-welfare"
    ok(api.post("police", path, {"reason": "bekymring"}))
    metrics = api.client.get("/metrics")
    assert metrics.status_code == 200
    assert "reported-to-child-welfare" not in metrics.text
    assert "/prevention-cases" not in metrics.text and "/contracts" not in metrics.text
    assert 'route_group="prevention-command"' in metrics.text


def test_every_answer_with_personal_data_says_no_store(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    national_id = OFFER["youth"]["national_id"]  # type: ignore[index]
    answers = [
        api.post("prosecution", "/contracts", OFFER),
        api.get("konfliktrad", f"/contracts/{case_id}"),
        api.get("konfliktrad", "/contracts"),
        api.get("auditor", f"/contracts/{case_id}/history"),
        api.get("auditor", f"/subjects/{national_id}/export"),
        api.get("auditor", f"/subjects/{national_id}/export?format=html"),
        api.post("konfliktrad", f"/contracts/{case_id}/lapse"),  # a refusal: allowed actions
        api.get("auditor", "/access-log"),
    ]
    for answer in answers:
        assert answer.status_code < 500, answer.text
        assert answer.headers.get("Cache-Control") == "no-store", (answer.request.url, answer.headers)


def test_ready_tells_anyone_only_whether_the_service_is_ready_and_a_user_the_details(api: Api) -> None:
    """The lag of each read model is operational detail: for a caller with a valid token
    (issue 14; failed before: `/ready` showed per-track lag to anyone)."""
    offer(api)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
        anonymous = api.client.get("/ready", headers=headers)
        assert anonymous.status_code == 200, anonymous.text
        assert anonymous.json() == {"ready": True}, headers
    detailed = ok(api.client.get("/ready", headers=_as(api, "school", "someone")))
    assert detailed["ready"] is True
    assert detailed["checks"]["projections"]["lag"] == {"contracts": 0, "prevention": 0}
    assert detailed["checks"]["event_store"] == "ok"
