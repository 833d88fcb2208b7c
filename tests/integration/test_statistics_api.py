"""Equal-practice statistics through the API (docs/api.md "Statistics", docs/domain.md §10).

A small fixed population, each measure checked against a hand-computed expectation (with
threshold 1, so nothing is suppressed): an offer late on a Friday in March whose consent
comes after Easter (calendar days between Norwegian dates, across the switch to summer
time), offers either side of midnight on the last day of a quarter (the Norwegian date
decides the quarter), a youth who moves to another municipality and then withdraws their
consent (the case stays with the municipality of the decision), an intake record of a
fine. Then with the default threshold: suppression, county scope, CSV, permissions, and
no free text anywhere in any answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.api.app import create_app
from infra.bootstrap import build
from infra.rebuild import rebuild
from projections.equal_practice import CONTRACT, EVALUATION, PREVENTION
from tests.conftest import Api, Clock, settings_for_tests
from tests.integration.flows import FACTORS, OFFER, fnr, ok

SECRET = "hemmelig fritekst om ungdommen"


@pytest.fixture
def open_api(database_url: str, clock: Clock, tmp_path: Path) -> Iterator[Api]:
    """The service with threshold 1: nothing is suppressed, every figure can be checked."""
    container = build(settings_for_tests(database_url, tmp_path, small_cell_threshold=1), clock=clock)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield Api(client, container, clock)
    container.close()


def at(clock: Clock, text: str) -> None:
    clock.now = datetime.fromisoformat(text).astimezone(UTC)


def offer_at(api: Api, clock: Clock, when: str, serial: int, **changes: Any) -> str:
    at(clock, when)
    youth = {
        "name": f"Ung {serial}",
        "national_id": fnr(date(2009, 12, 1), serial),
        "birth_date": "2009-12-01",
    }
    guardian = [{"name": f"Forelder {serial}", "national_id": fnr(date(1975, 3, 2), serial)}]
    offence = {**OFFER["offence"], "date": "2026-01-20", "summary": SECRET}  # type: ignore[dict-item]
    body = {
        **OFFER,
        "youth": youth,
        "guardians": guardian,
        "offence": offence,
        "offer_deadline": None,
        **changes,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return str(ok(api.post("prosecution", "/contracts", body), 201)["id"])


def consent(api: Api, clock: Clock, case_id: str, when: str) -> None:
    at(clock, when)
    for signatory in ("youth", "guardian:0"):
        body = {"signatory": signatory, "scope": [], "booklet_version": "2026-1"}
        ok(api.post("konfliktrad", f"/contracts/{case_id}/consents", body))


def start(api: Api, clock: Clock, case_id: str, when: str, trinn: int = 2) -> None:
    at(clock, when)
    day = when[:10]
    end = f"{int(day[:4]) + (1 if int(day[5:7]) > 6 else 0)}-{(int(day[5:7]) + 5) % 12 + 1:02d}-{day[8:]}"
    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/startup-meeting",
            {"at": clock.now.isoformat(), "participants": ["konfliktrad", "municipal_health"]},
        )
    )
    plan = {
        "trinn": trinn,
        "start_date": day,
        "end_date": end,
        "test_regime": {"kind": "rapid", "per_month": 4},
        "meeting_frequency_days": 30,
        "team": ["konfliktrad", "municipal_health", "police"],
    }
    ok(api.post("konfliktrad", f"/contracts/{case_id}/startup-meeting/held", {"plan": plan, "notes": SECRET}))


def population(api: Api, clock: Clock) -> dict[str, str]:
    cases = {}
    # A: Trondheim, Friday 27 March 23:30 (Q1); consent Tuesday 7 April after Easter (11 days,
    # across summer time on 29 March); startup 14 April (7 days); a test and a conversation;
    # an evaluation with free text.
    cases["A"] = a = offer_at(api, clock, "2026-03-27T23:30:00+01:00", 1)
    consent(api, clock, a, "2026-04-07T09:00:00+02:00")
    start(api, clock, a, "2026-04-14T10:00:00+02:00")
    at(clock, "2026-04-20T10:00:00+02:00")
    test = ok(
        api.post(
            "municipal_health",
            f"/contracts/{a}/tests",
            {"kind": "rapid", "purpose": "follow_up", "scheduled_for": "2026-04-20", "random": True},
        ),
        201,
    )["test_id"]
    ok(
        api.post(
            "municipal_health",
            f"/contracts/{a}/tests/{test}/result",
            {"positives": [], "collected_at": clock.now.isoformat()},
        )
    )
    meeting = {"kind": "conversation", "held_at": clock.now.isoformat(), "attended": True, "notes": SECRET}
    ok(api.post("municipal_health", f"/contracts/{a}/meetings", meeting))
    answers = {"helpful": 4, "understood_consent": True, "comment": SECRET}
    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{a}/evaluations",
            {"respondent_role": "youth", "form_version": "2026-1", "answers": answers},
        )
    )
    # B: Trondheim, trinn 1, Tuesday 31 March 23:30 summer time: still Q1 in Norway; declined.
    cases["B"] = b = offer_at(api, clock, "2026-03-31T23:30:00+02:00", 2, trinn=1)
    ok(api.post("prosecution", f"/contracts/{b}/decline", {"signatory": "youth"}))
    # C: Trondheim, half an hour later: 1 April in Norway, so Q2 (22:30 UTC on 31 March).
    cases["C"] = offer_at(api, clock, "2026-04-01T00:30:00+02:00", 3)
    # D: Malvik, offered 10 February, consent 20 February (10 days), startup 2 March (10 days);
    # moves to Trondheim, then withdraws consent: terminated, and it stays Malvik's.
    cases["D"] = d = offer_at(
        api,
        clock,
        "2026-02-10T12:00:00+01:00",
        4,
        residence_municipality="5031",
        registered_municipality="5031",
    )
    consent(api, clock, d, "2026-02-20T12:00:00+01:00")
    start(api, clock, d, "2026-03-02T12:00:00+01:00")
    at(clock, "2026-05-04T12:00:00+02:00")
    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{d}/residence",
            {"municipality": "5001", "registered_municipality": "5001"},
        )
    )
    ok(api.post("konfliktrad", f"/contracts/{d}/consents/withdraw", {"signatory": "youth"}))
    # An intake record: a youth of Trondheim fined, decided 1 February on an offence of 5 January.
    at(clock, "2026-02-01T12:00:00+01:00")
    intake = {
        "national_id": fnr(date(2010, 5, 5), 7),
        "birth_date": "2010-05-05",
        "municipality": "5001",
        "offence_date": "2026-01-05",
        "age_band": "15",
        "decision": "fine",
        "reason": SECRET,
    }
    ok(api.post("prosecution", "/intake", intake), 201)
    at(clock, "2026-06-01T12:00:00+02:00")
    return cases


def cells(answer: dict[str, Any], group: str) -> dict[str, Any]:
    row = next(r for r in answer["rows"] if r["group"] == group)
    return {name: cell["value"] for name, cell in row["cells"].items()}


def table(api: Api, agency: str, path: str, **headers: str) -> dict[str, Any]:
    return ok(api.get(agency, path, **headers))


def test_each_measure_against_a_hand_computed_expectation(open_api: Api, clock: Clock) -> None:
    population(open_api, clock)
    year = table(open_api, "auditor", "/statistics/equal-practice?group_by=municipality&period=2026")
    trondheim, malvik = cells(year, "5001"), cells(year, "5031")
    assert (trondheim["decided"], trondheim["offered"], trondheim["decision:fine"]) == (4, 3, 1)
    assert (trondheim["accepted"], trondheim["started"], trondheim["terminated"]) == (1, 1, 0)
    assert trondheim["offered_share"] == 0.75 and trondheim["accepted_share"] == round(1 / 3, 4)
    assert trondheim["days_offer_to_consent_median"] == 11  # 27 March -> 7 April, over Easter
    assert trondheim["days_consent_to_startup_median"] == 7
    assert trondheim["days_offence_to_offer_median"] == 70  # from 20 January: 66, 70 and 71 days
    assert trondheim["days_offence_to_decision_median"] == 66  # the fine 27, the offers: lower median
    # D moved to Trondheim and withdrew: still Malvik's, terminated for its reason.
    assert (malvik["decided"], malvik["accepted"], malvik["started"]) == (1, 1, 1)
    assert (malvik["terminated"], malvik["terminated:consent_withdrawn"], malvik["completion_share"]) == (
        1,
        1,
        0.0,
    )
    assert malvik["days_offer_to_consent_median"] == 10 and malvik["days_consent_to_startup_median"] == 10
    assert year["total"]["cells"]["decided"]["value"] == 5
    # A: one test and one conversation in 48 active days (14 April to 1 June)
    assert trondheim["tests_per_active_month"] == round(1 / (48 / (365.25 / 12)), 2)
    # The Norwegian date decides the quarter: B (23:30 on 31 March) in Q1, C (00:30 on 1 April) in Q2.
    q1 = cells(table(open_api, "auditor", "/statistics/equal-practice?group_by=county&period=2026-Q1"), "50")
    q2 = cells(table(open_api, "auditor", "/statistics/equal-practice?group_by=county&period=2026-Q2"), "50")
    assert (q1["decided"], q1["offered"], q2["decided"], q2["offered"]) == (4, 3, 1, 1)
    quarterly = open_api.get("auditor", "/statistics/equal-practice?group_by=municipality&period=2026-Q1")
    assert quarterly.status_code == 422 and "per year" in quarterly.json()["detail"]
    by_trinn = table(open_api, "konfliktrad", "/statistics/equal-practice?group_by=trinn&period=2026")
    assert {r["group"]: r["cells"]["decided"]["value"] for r in by_trinn["rows"]} == {
        "1": 1,
        "2": 3,
        "3": 0,
        "none": 1,
    }
    county = table(open_api, "auditor", "/statistics/equal-practice?group_by=county&period=2026")
    assert cells(county, "50")["offered"] == 4
    # Evaluations: the scale and yes/no answers counted, the free text nowhere.
    evaluation = table(
        open_api, "auditor", "/statistics/evaluations?form_version=2026-1&group_by=municipality&period=2026"
    )
    answered = cells(evaluation, "5001")
    assert answered["youth.respondents"] == 1 and answered["youth.helpful.4"] == 1
    assert answered["youth.helpful.mean"] == 4.0 and answered["youth.understood_consent.yes_share"] == 1.0
    assert not any("comment" in name for name in answered)


def test_the_prevention_funnel_counts_each_step_with_its_denominator(open_api: Api, clock: Clock) -> None:
    at(clock, "2026-05-10T12:00:00+02:00")
    for i in range(3):
        person = {"name": f"Per {i}", "national_id": fnr(date(2011, 1, 15), i), "birth_date": "2011-01-15"}
        case = ok(
            open_api.post(
                "police", "/prevention-cases", {"person": person, "municipality": "5001", "summary": SECRET}
            ),
            201,
        )
        path = f"/prevention-cases/{case['id']}"
        if i < 2:
            ok(open_api.post("police", f"{path}/conversation-offered"))
        if i == 0:
            ok(
                open_api.post(
                    "police", f"{path}/conversation-held", {"held_at": clock.now.isoformat(), "notes": SECRET}
                )
            )
            ok(open_api.post("police", f"{path}/counselling-offered"))
            ok(open_api.post("police", f"{path}/counselling-accepted"))
    funnel = cells(
        table(open_api, "auditor", "/statistics/prevention-funnel?group_by=municipality&period=2026"), "5001"
    )
    assert (funnel["concerns"], funnel["conversation_offered"], funnel["conversation_held"]) == (3, 2, 1)
    assert (funnel["counselling_offered"], funnel["counselling_accepted"]) == (1, 1)
    assert (
        funnel["conversation_offered_share"] == round(2 / 3, 4) and funnel["conversation_held_share"] == 0.5
    )
    assert (
        open_api.get("auditor", "/statistics/prevention-funnel?group_by=trinn&period=2026").status_code == 422
    )


def test_small_cells_are_suppressed_the_county_sees_its_own_and_free_text_never_shows(
    api: Api, clock: Clock
) -> None:
    population(api, clock)
    county = api.unit("county", "50")
    answers = []
    for path in (
        "/statistics/equal-practice?group_by=municipality&period=2026",
        "/statistics/equal-practice?group_by=office&period=2026-Q1",
        "/statistics/equal-practice?group_by=county&period=2026-Q2",
        "/statistics/equal-practice?group_by=trinn&period=2026",
        "/statistics/prevention-funnel?group_by=county&period=2026",
        "/statistics/evaluations?form_version=2026-1&group_by=municipality&period=2026",
    ):
        response = api.client.get(path, headers=county)
        assert response.status_code == 200, response.text
        answers.append(response.text)
        csv = api.client.get(path, headers={**county, "Accept": "text/csv"})
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        answers.append(csv.text)
        assert len(csv.text.splitlines()) > 1
    assert not any(SECRET in text or "fritekst" in text for text in answers)
    body = api.client.get(
        "/statistics/equal-practice?group_by=municipality&period=2026", headers=county
    ).json()
    assert {r["group"] for r in body["rows"]} == {
        n for n, m in api.container.register.municipalities.items() if m.county == "50"
    }
    assert body["threshold"] == 5 and body["scope"] == {"county": "50"}
    assert set(body["versions"]) >= {"register", "policy", "rules"} and body["computed_at"]
    trondheim = next(r for r in body["rows"] if r["group"] == "5001")["cells"]
    assert trondheim["offered"] == {"value": None, "suppressed": True}
    assert trondheim["accepted_share"] == {"value": None, "suppressed": True}
    assert trondheim["terminated"] == {"value": 0}  # a zero is never suppressed
    # Another county sees nothing of Trøndelag; the auditor sees the same pattern.
    oslo = api.client.get(
        "/statistics/equal-practice?group_by=municipality&period=2026", headers=api.unit("county", "03")
    )
    assert {r["group"] for r in oslo.json()["rows"]} == {"0301"}
    national = table(api, "auditor", "/statistics/equal-practice?group_by=municipality&period=2026")
    assert next(r for r in national["rows"] if r["group"] == "5001")["cells"] == trondheim


@pytest.mark.parametrize(
    "agency", ["prosecution", "police", "municipal_health", "gp", "child_welfare", "school"]
)
def test_only_the_county_the_auditor_and_the_conflict_council_read_statistics(api: Api, agency: str) -> None:
    response = api.get(agency, "/statistics/equal-practice?group_by=county&period=2026")
    assert response.status_code == 403, response.text


def test_bad_queries_and_intake_records_are_refused_clearly(api: Api, clock: Clock) -> None:
    assert api.get("auditor", "/statistics/equal-practice?group_by=school&period=2026").status_code == 422
    assert api.get("auditor", "/statistics/equal-practice?group_by=county&period=2026-Q5").status_code == 422
    assert api.get("auditor", "/statistics/evaluations?form_version=nope").status_code == 422
    not_a_county = api.client.get(
        "/statistics/equal-practice?group_by=county&period=2026", headers=api.unit("county", "99")
    )
    assert not_a_county.status_code == 403
    intake = {
        "national_id": fnr(date(2010, 5, 5), 7),
        "municipality": "5001",
        "offence_date": "2026-01-05",
        "age_band": "15",
        "decision": "contract_offered",
    }
    assert api.post("prosecution", "/intake", intake).status_code == 422  # names no contract
    assert (
        api.post("prosecution", "/intake", {**intake, "decision": "fine", "municipality": "9999"}).status_code
        == 422
    )
    assert api.post("konfliktrad", "/intake", {**intake, "decision": "fine"}).status_code == 403
    assert (
        api.post(
            "prosecution", "/intake", {**intake, "decision": "fine", "offence_date": "2026-12-01"}
        ).status_code
        == 422
    )
    unknown = {**intake, "contract_id": "00000000-0000-4000-8000-000000000000"}
    assert api.post("prosecution", "/intake", unknown).status_code == 404
    assert api.post("prosecution", "/contracts/x/evaluations", {}).status_code in (403, 404, 422)


def test_an_evaluation_invalid_for_its_form_is_refused_with_the_question_named(
    api: Api, clock: Clock
) -> None:
    case_id = offer_at(api, clock, "2026-09-10T10:00:00+02:00", 9)
    for answers, named in (
        ({"helpful": 7}, "helpful"),
        ({"nope": 1}, "nope"),
        ({"most_useful": "sleep"}, "most_useful"),
    ):
        body = {"respondent_role": "youth", "form_version": "2026-1", "answers": answers}
        refused = api.post("konfliktrad", f"/contracts/{case_id}/evaluations", body)
        assert refused.status_code == 422 and named in refused.json()["detail"], refused.text
    wrong_role = {"respondent_role": "teacher", "form_version": "2026-1", "answers": {}}
    assert api.post("konfliktrad", f"/contracts/{case_id}/evaluations", wrong_role).status_code == 422
    assert FACTORS  # the shared flows stay importable


def test_rebuild_projections_counts_the_statistics_again_as_the_live_projection_did(
    open_api: Api, clock: Clock
) -> None:
    """`ruskontrakt rebuild-projections` (infra/rebuild.py) empties the statistics projection
    too and counts both notification logs and the intake register again: the same counts,
    the same tables. A stray count (a projection's bug, say) is gone after it."""
    population(open_api, clock)
    c = open_api.container
    paths = [
        f"/statistics/equal-practice?group_by={group_by}&period={period}"
        for group_by in ("municipality", "county", "office", "trinn")
        for period in ("2026", "2026-Q1", "2026-Q2")
        if not (group_by == "municipality" and "-Q" in period)
    ] + [
        "/statistics/prevention-funnel?group_by=county&period=2026",
        "/statistics/evaluations?form_version=2026-1&group_by=municipality&period=2026",
    ]

    def tables(api: Api) -> list[dict[str, Any]]:
        return [{k: v for k, v in table(api, "auditor", p).items() if k != "computed_at"} for p in paths]

    def stored() -> dict[str, list[tuple[str, str, str, str, int, int]]]:
        return {
            kind: sorted(c.statistics.store.rows(kind, 2026)) for kind in (CONTRACT, PREVENTION, EVALUATION)
        }

    live_tables = tables(open_api)
    live = stored()
    assert live[CONTRACT] and live[EVALUATION]
    with c.statistics.store.transaction() as tx:  # type: ignore[attr-defined]
        tx.add({(CONTRACT, "2026-Q3", "5001", "2", "decided", 0): 7})
    assert stored() != live

    assert rebuild(c.settings) > 0
    assert stored() == live
    fresh = build(c.settings, clock=clock)  # a new process's view of the rebuilt counts
    try:
        with TestClient(create_app(fresh), raise_server_exceptions=False) as client:
            assert tables(Api(client, fresh, clock)) == live_tables
    finally:
        fresh.close()
