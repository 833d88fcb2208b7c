"""Access-log gaps (issue 14, finding 7): a replayed answer is a read too, and `since` is a
time, whatever offset it is written with."""

from __future__ import annotations

from datetime import date

from tests.conftest import Api
from tests.integration.flows import OFFER, fnr, offer, ok


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


def test_a_query_by_a_guardians_national_id_finds_the_reads_of_the_cases_that_name_them(api: Api) -> None:
    """Guardians are subjects of the reads of their child's cases too (issue 14, finding 7;
    failed before: every entry named only the case's own subject)."""
    case_id = offer(api)
    added = {"name": "Per Senere", "national_id": fnr(date(1980, 6, 5)), "birth_date": "1980-06-05"}
    ok(api.post("konfliktrad", f"/contracts/{case_id}/guardians", added))
    ok(api.get("police", f"/contracts/{case_id}"))
    other = offer(  # a case that does not name them
        api,
        youth={**OFFER["youth"], "national_id": fnr(date(2009, 12, 1), 1)},  # type: ignore[dict-item]
        guardians=[{"name": "Eva Annen", "national_id": fnr(date(1976, 4, 3))}],
    )
    ok(api.get("police", f"/contracts/{other}"))

    for guardian_id in (OFFER["guardians"][0]["national_id"], added["national_id"]):  # type: ignore[index]
        entries = ok(api.get("auditor", f"/access-log?subject={guardian_id}&agency=police"))
        assert [(e["case_id"], e["subject_role"]) for e in entries] == [(case_id, "guardian")]
        ref = api.container.keys.subject_ref(guardian_id)
        assert {e["subject_ref"] for e in entries} == {ref}, "named by their own reference"
        export = ok(api.get("auditor", f"/subjects/{guardian_id}/export"))
        assert any(e["agency"] == "police" and e["case_id"] == case_id for e in export["access_log"])
        assert not any(e["case_id"] == other for e in export["access_log"])
    youths = ok(api.get("auditor", f"/access-log?subject={OFFER['youth']['national_id']}&agency=police"))  # type: ignore[index]
    assert [(e["case_id"], e["subject_role"]) for e in youths] == [(case_id, "subject")]
