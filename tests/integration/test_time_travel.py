"""Auditors see the full history, the state at an earlier point, and what an agency could see then."""

from __future__ import annotations

from tests.conftest import Api
from tests.integration.flows import OFFER, activate, offer, ok, rapid_test

GP_RAPID = {"agency": "gp", "category": "rapid_test"}
GP_IDENTITY = {"agency": "gp", "category": "identity"}


def test_history_lists_every_event_unredacted_and_the_state_at_a_version(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    history = ok(api.get("auditor", f"/contracts/{case_id}/history"))
    assert [e["version"] for e in history["events"]] == list(range(1, len(history["events"]) + 1))
    assert history["events"][0]["type"] == "ContractOffered"
    assert history["events"][0]["payload"]["youth"]["national_id"] == OFFER["youth"]["national_id"]  # type: ignore[index]
    assert history["events"][0]["actor_agency"] == "prosecution"
    assert history["state"]["status"] == "active"
    at_two = ok(api.get("auditor", f"/contracts/{case_id}/history?version=2"))
    assert len(at_two["events"]) == 2 and at_two["state"]["status"] == "offered"
    assert api.get("konfliktrad", f"/contracts/{case_id}/history").status_code == 403


def test_a_withdrawn_consent_stops_new_data_reaching_the_agency_from_that_day(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id, scope=[GP_RAPID, GP_IDENTITY])
    api.clock.advance(days=1)
    rapid_test(api, case_id, ["THC"])  # recorded on D-1: the GP may see it
    before = api.clock().isoformat().replace("+00:00", "Z")
    api.clock.advance(days=1)  # day D
    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/consents/withdraw",
            {"signatory": "youth", "scope": [GP_RAPID]},
        )
    )
    api.clock.advance(hours=2)
    rapid_test(api, case_id, ["AMP"])  # recorded on D, after the withdrawal
    api.clock.advance(days=1)
    after = api.clock().isoformat().replace("+00:00", "Z")

    then = ok(api.get("auditor", f"/contracts/{case_id}/views/gp?as_of={before}"))["view"]
    now = ok(api.get("auditor", f"/contracts/{case_id}/views/gp?as_of={after}"))["view"]
    results = lambda view: [t.get("positives") for t in view.get("tests", []) if "positives" in t]  # noqa: E731
    assert results(then) == [["THC"]]
    assert ["AMP"] not in results(now), "recorded after the withdrawal: never the GP's"
    assert results(now) == [["THC"]], "recorded while the consent was valid: stays (docs/domain.md §3)"
    assert now["youth"]["name"] == then["youth"]["name"], "identity consent was not withdrawn"
    auditor_reads = api.container.access_log.query(agency="auditor")
    assert sum(e["action"] == "agency_view:gp" for e in auditor_reads) == 2
