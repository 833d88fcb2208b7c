"""Deadlines that drive the work (docs/domain.md §11): a case walked through every deadline
with the clock moved on, the scheduler recording each missed one once, and worklists a
coordinator can live in (filters, sorting by the next deadline, paging, the youth's name)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.api.app import create_app
from infra.bootstrap import Container, build
from infra.rules_file import load_rules
from infra.settings import ConfigurationError
from tests.conftest import Api, Clock, settings_for_tests
from tests.integration.flows import FACTORS, OFFER, activate, consent_all, intake, offer, ok, rapid_test

K = "konfliktrad"


def _pass(api: Api) -> list[tuple[str, str, str, str]]:
    return api.container.deadlines.run_once().fired


def _history(api: Api, case_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = ok(api.get("auditor", f"/contracts/{case_id}/history"))["events"]
    return events


def _row(api: Api, case_id: str, agency: str = K) -> dict[str, Any]:
    [row] = [r for r in ok(api.get(agency, "/contracts?limit=500"))["items"] if r["id"] == case_id]
    return row


def test_an_unanswered_offer_lapses_by_itself_once(api: Api) -> None:
    case_id = offer(api)  # the answer is due 1 October 2026
    assert _pass(api) == [], "nothing is due yet"
    api.clock.advance(days=21)  # 1 October, still due today
    assert _pass(api) == []
    api.clock.advance(days=1)
    assert _pass(api) == [(case_id, "offer_answer", "2026-10-01", "lapsed")]
    assert _pass(api) == [], "recorded once"
    [lapsed] = [e for e in _history(api, case_id) if e["type"] == "OfferLapsed"]
    assert lapsed["actor"] == "system:deadlines" and lapsed["status"] == "lapsed"


def test_a_startup_meeting_not_held_within_30_days_is_overdue_then_escalated(api: Api) -> None:
    case_id = offer(api)
    consent_all(api, case_id, [{"agency": "school", "category": "terms"}])  # on 10 September 2026
    row = _row(api, case_id)
    assert (row["next_deadline"], row["next_deadline_rule"], row["overdue"]) == (
        "2026-10-12",  # 30 days is Saturday 10 October: the next working day
        "startup_meeting",
        False,
    )
    view = ok(api.get(K, f"/contracts/{case_id}"))
    assert view["deadlines"][0]["moved_from"] == "2026-10-10"
    # A meeting booked 70 days on does not move the deadline.
    ok(api.post(K, f"/contracts/{case_id}/startup-meeting", {"at": "2026-11-19T10:00:00+01:00"}))
    api.clock.advance(days=33)  # 13 October
    row = _row(api, case_id)
    assert row["overdue"] and row["next_deadline_rule"] == "startup_meeting" and not row["escalated"]
    assert _pass(api) == [(case_id, "startup_meeting", "2026-10-12", "missed")]
    api.clock.advance(days=7)  # the grace (7 days) runs out on the 19th
    assert _pass(api) == [(case_id, "startup_meeting", "2026-10-12", "escalated")]
    assert _pass(api) == []
    assert _row(api, case_id)["escalated"]
    types = [e["type"] for e in _history(api, case_id)]
    assert types.count("DeadlineMissed") == 1 and types.count("CaseEscalated") == 1
    school = ok(api.get("school", f"/contracts/{case_id}"))
    assert "missed_deadlines" not in school and "escalations" not in school, "not the school's to know"
    assert ok(api.get(K, f"/contracts/{case_id}"))["missed_deadlines"] == [
        {"rule": "startup_meeting", "due": "2026-10-12"}
    ]


def test_a_breach_waits_14_days_for_a_decision_and_a_termination_7_for_its_return(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    test_id = rapid_test(api, case_id, ["THC"])
    breach = {"kind": "positive_test", "test_id": test_id, "evidence": "rapid THC"}
    ok(api.post(K, f"/contracts/{case_id}/breaches", breach), 201)
    assert _row(api, case_id)["next_deadline_rule"] == "breach_decision"
    api.clock.advance(days=15)  # due 24 September
    fired = _pass(api)
    assert (case_id, "breach_decision", "2026-09-24", "missed") in fired
    [breach_id] = [b["breach_id"] for b in ok(api.get(K, f"/contracts/{case_id}"))["breaches"]]
    decision = {"response": "terminate", "factors": FACTORS, "reason": "new offence admitted"}
    response = api.post(K, f"/contracts/{case_id}/breaches/{breach_id}/decision", decision)
    if response.status_code != 200:  # a first positive may not terminate: withdraw instead
        ok(api.post(K, f"/contracts/{case_id}/consents/withdraw", {"signatory": "youth"}))
    assert ok(api.get(K, f"/contracts/{case_id}"))["status"] == "terminated"
    ended = api.clock.now
    api.clock.advance(days=8)
    fired = _pass(api)
    due = [f for f in fired if f[1] == "return_to_prosecution"]
    assert due and due[0][0] == case_id and due[0][2] > ended.date().isoformat()
    ok(api.post(K, f"/contracts/{case_id}/return-to-prosecution", {"note": "back to the prosecutor"}))
    api.clock.advance(days=30)
    assert [f for f in _pass(api) if f[0] == case_id] == [], "a case that moved on fires nothing"


def test_the_worklist_filters_sorts_by_the_next_deadline_and_pages(api: Api) -> None:
    first = offer(api, offer_deadline="2026-09-30")
    second = offer(api, offer_deadline="2026-09-20")
    third = offer(api)
    consent_all(api, third)  # startup due 12 October
    page = api.get(K, "/contracts?limit=2")
    body = ok(page)
    assert [r["id"] for r in body["items"]] == [second, first]
    assert body["next_cursor"] and 'rel="next"' in page.headers["link"]
    link = page.headers["link"].split(";")[0].strip("<>")
    rest = ok(api.get(K, link))
    assert [r["id"] for r in rest["items"]] == [third] and rest["next_cursor"] is None
    assert [r["id"] for r in ok(api.get(K, "/contracts?status=consented"))["items"]] == [third]
    assert [r["id"] for r in ok(api.get(K, "/contracts?due_within_days=12"))["items"]] == [second]
    api.clock.advance(days=11)  # 21 September
    assert [r["id"] for r in ok(api.get(K, "/contracts?overdue=true"))["items"]] == [second]
    assert second not in [r["id"] for r in ok(api.get(K, "/contracts?overdue=false"))["items"]]
    assert ok(api.get(K, "/contracts"))["items"][0]["name"] == OFFER["youth"]["name"]  # type: ignore[index]
    bad = api.get(K, "/contracts?cursor=not-a-cursor")
    assert bad.status_code == 422 and "cursor" in bad.text
    assert api.get(K, "/contracts?limit=501").status_code == 422


def test_assigned_to_me_lists_the_cases_whose_team_names_the_caller(api: Api) -> None:
    mine, other = offer(api), offer(api)
    ok(api.post(K, f"/contracts/{mine}/team", {"agency": "police", "unit": "trondelag", "sub": "officer-7"}))
    officer = api.unit("police", "trondelag", "investigation", sub="officer-7")
    listed = ok(api.client.get("/contracts?assigned_to=me", headers=officer))["items"]
    assert [r["id"] for r in listed] == [mine] and listed[0]["assigned_to_me"]
    assert other in [r["id"] for r in ok(api.client.get("/contracts", headers=officer))["items"]]


def test_the_worklist_shows_the_name_only_to_who_may_see_identity(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id, scope=[{"agency": "school", "category": "terms"}])
    assert _row(api, case_id)["name"] == "Ola Nordmann"
    school = _row(api, case_id, "school")
    assert school["name"] is None and "identity" not in school["categories"]
    stored = api.container.read_models.dump()["rm_worklist"]
    assert "Ola Nordmann" not in str(stored), "the name is sealed at rest"


def test_an_offer_waiting_on_signatories_says_whose_consent_is_missing(api: Api) -> None:
    case_id = offer(api)
    view = ok(api.get(K, f"/contracts/{case_id}"))
    assert view["consents_missing"] == [
        {"signatory": "youth", "name": "Ola Nordmann"},
        {"signatory": "guardian:0", "name": "Kari Nordmann"},
    ]
    ok(api.post(K, f"/contracts/{case_id}/consents", {"signatory": "youth", "booklet_version": "2026-1"}))
    assert ok(api.get(K, f"/contracts/{case_id}"))["consents_missing"] == [
        {"signatory": "guardian:0", "name": "Kari Nordmann"}
    ]
    # A startup meeting cannot be booked yet: the refusal says whose consent it waits for.
    early = api.post(K, f"/contracts/{case_id}/startup-meeting", {"at": "2026-09-20T10:00:00+02:00"})
    assert early.status_code == 409
    assert early.json()["consents_missing"] == [{"signatory": "guardian:0", "name": "Kari Nordmann"}]
    ok(
        api.post(
            K, f"/contracts/{case_id}/consents", {"signatory": "guardian:0", "booklet_version": "2026-1"}
        )
    )
    assert "consents_missing" not in ok(api.get(K, f"/contracts/{case_id}"))


def test_an_intake_record_says_whether_the_prosecutor_decided_within_six_weeks(api: Api) -> None:
    # Today is 10 September 2026. An offence of 24 July: the six weeks ran out on Friday 4 September.
    late = ok(api.post("prosecution", "/intake", intake()), 201)["u18_deadline"]
    assert (late["rule"], late["due"], late["who"], late["met"]) == (
        "u18_decision",
        "2026-09-04",
        "prosecution",
        False,
    )
    in_time = ok(api.post("prosecution", "/intake", intake(decided_on="2026-09-04")), 201)
    assert in_time["u18_deadline"]["met"] is True


def test_a_changed_rules_file_or_calendar_computes_the_stored_deadlines_again(
    database_url: str, tmp_path: Path, clock: Clock
) -> None:
    def serve(**settings: Any) -> tuple[Container, Api]:
        container = build(settings_for_tests(database_url, tmp_path, **settings), clock=clock)
        client = TestClient(create_app(container), raise_server_exceptions=False)
        return container, Api(client, container, clock)

    first, api = serve()
    case_id = offer(api)
    consent_all(api, case_id, [{"agency": "school", "category": "terms"}])  # 10 September 2026
    assert _row(api, case_id)["next_deadline"] == "2026-10-12"  # 30 days, past a weekend
    first.deadlines.run_once()
    first.close()

    # Startup within 20 days, and 30 September closed besides the public holidays.
    rules = tmp_path / "rules.yaml"
    example = (Path(__file__).parents[2] / "docs" / "rules.example.yaml").read_text()
    rules.write_text(
        example.replace('version: "2026-1"', 'version: "2026-2"')
        .replace("startup_within_days_of_consent: 30", "startup_within_days_of_consent: 20")
        .replace("extra_days: {}", 'extra_days: {2026-09-30: "Kontoret er stengt"}')
    )
    second, api = serve(rules_file=rules)
    assert _row(api, case_id)["next_deadline"] == "2026-10-12", "stored under the old rules"
    assert second.deadlines.run_once().fired == []
    row = _row(api, case_id)
    [startup] = row["deadlines"]
    assert (row["next_deadline"], row["rules_version"]) == ("2026-10-01", "2026-2")
    assert startup["moved_from"] == "2026-09-30" and startup["moved_because"] == [
        "2026-09-30 Kontoret er stengt"
    ]
    assert ok(api.get(K, f"/contracts/{case_id}"))["deadlines"][0]["due"] == "2026-10-01"
    # Computed once: the next pass finds the read models under today's rules.
    assert second.deadlines.recompute is not None and second.deadlines.recompute() == 0
    second.close()


def test_a_rules_file_that_cannot_be_read_stops_the_service_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text('version: "x"\nstages: {}\ndeadlines: {startup_days: 3}\n')
    with pytest.raises(ConfigurationError, match=r"RUSKONTRAKT_RULES_FILE .*rules.yaml: not valid rules"):
        load_rules(bad)
    bad.write_text('version: "x"\nstages: {}\ncalendar: {extra_days: {"24.12.2026": closed}}\n')
    with pytest.raises(ConfigurationError, match="not valid rules"):
        load_rules(bad)
