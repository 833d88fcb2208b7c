"""Access-log gaps (issue 14, finding 7): a replayed answer is a read too, and `since` is a
time, whatever offset it is written with."""

from __future__ import annotations

from tests.conftest import Api
from tests.integration.flows import OFFER, offer, ok


def test_an_idempotent_replay_that_shows_the_case_again_is_logged(api: Api) -> None:
    first = api.post("prosecution", "/contracts", OFFER, **{"Idempotency-Key": "offer-1"})
    again = api.post("prosecution", "/contracts", OFFER, **{"Idempotency-Key": "offer-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    case_id = first.json()["id"]
    actions = [
        e["action"] for e in api.container.access_log.query(agency="prosecution") if e["case_id"] == case_id
    ]
    assert actions == ["command:offer", "replay:offer"]


def test_since_with_an_offset_finds_the_entries_at_and_after_that_instant(api: Api) -> None:
    offer(api)
    logged_at = api.clock.now  # 2026-09-10 08:00 UTC = 10:00 in Oslo
    entries = ok(api.get("auditor", "/access-log?since=2026-09-10T09:59:00%2B02:00"))
    assert any(e["action"] == "command:offer" for e in entries), "10:00+02:00 is after 09:59+02:00"
    later = ok(api.get("auditor", "/access-log?since=2026-09-10T10:01:00%2B02:00"))
    assert not any(e["action"] == "command:offer" for e in later), f"logged at {logged_at}"
    naive = api.get("auditor", "/access-log?since=2026-09-10T10:00:00")
    assert naive.status_code == 422
