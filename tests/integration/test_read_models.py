"""The read models behind the API (embedded mode, SQLite and PostgreSQL): consent in
motion, rebuilds, positions, the agency stream, the access log and readiness."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from typing import Any

import pytest

from infra.rebuild import rebuild
from tests.conftest import Api
from tests.integration.flows import OFFER, activate, offer, ok, rapid_test
from tests.integration.read_model_rows import snapshot

GP_SHARING = [{"agency": "gp", "category": "identity"}, {"agency": "gp", "category": "rapid_test"}]


def _positives(view: dict[str, Any]) -> list[list[str]]:
    return [t["positives"] for t in view.get("tests", []) if "positives" in t]


def test_a_withdrawal_narrows_sharing_from_then_on_and_a_later_consent_reopens_it(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id, scope=GP_SHARING)
    rapid_test(api, case_id, ["THC"])
    assert _positives(ok(api.get("gp", f"/contracts/{case_id}"))) == [["THC"]]

    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/consents/withdraw",
            {"signatory": "guardian:0", "scope": [GP_SHARING[1]]},
        )
    )
    rapid_test(api, case_id, ["COC"])
    gp = ok(api.get("gp", f"/contracts/{case_id}"))
    assert _positives(gp) == [["THC"]], "recorded under consent stays; after withdrawal it is not shared"
    assert _positives(ok(api.get("konfliktrad", f"/contracts/{case_id}"))) == [["THC"], ["COC"]]

    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/consents",
            {"signatory": "guardian:0", "scope": [GP_SHARING[1]], "booklet_version": "2026-1"},
        )
    )
    rapid_test(api, case_id, ["AMP"])
    assert _positives(ok(api.get("gp", f"/contracts/{case_id}"))) == [["THC"], ["AMP"]]


def test_rebuilding_the_read_models_from_scratch_gives_what_the_live_path_built(api: Api) -> None:
    c = api.container
    for _ in range(2):
        case_id = offer(api)
        activate(api, case_id, scope=GP_SHARING)
        rapid_test(api, case_id, ["THC"])
        ok(
            api.post(
                "konfliktrad",
                f"/contracts/{case_id}/consents/withdraw",
                {"signatory": "youth", "scope": [GP_SHARING[0]]},
            )
        )
    case = ok(
        api.post(
            "police",
            "/prevention-cases",
            {
                "person": {"name": "Per Hansen", "national_id": "15011050260", "birth_date": "2010-01-15"},
                "municipality": "5001",
            },
        ),
        201,
    )
    ok(api.post("police", f"/prevention-cases/{case['id']}/conversation-offered"))
    ok(api.post("police", f"/prevention-cases/{case['id']}/conversation-declined"))
    ok(api.post("police", f"/prevention-cases/{case['id']}/counselling-offered"))
    ok(api.post("police", f"/prevention-cases/{case['id']}/counselling-accepted"))
    assert c.read_models is not None and c.projection is not None
    c.projection.catch_up()  # as every read does first: commands leave projection to the background
    live = snapshot(c.read_models, c.keys)
    assert live["rm_case_views"] and live["rm_worklist"] and live["rm_consents"]

    c.read_models.clear()
    c.projector("rebuild-test")  # a fresh projector: nothing in memory
    from services.projector import InProcessProjection

    InProcessProjection(c.projector("rebuild-test"), c.apps).catch_up()
    assert snapshot(c.read_models, c.keys) == live


def test_a_command_answers_with_its_position_and_queries_can_wait_for_it(api: Api) -> None:
    created = api.post("prosecution", "/contracts", OFFER)
    assert created.status_code == 201
    position = created.json()["position"]
    assert created.headers["X-Position"] == str(position) and position >= 1
    view = ok(api.get("prosecution", f"/contracts/{created.json()['id']}?min_position={position}"))
    assert view["version"] == 1
    assert api.container.read_models is not None
    assert api.container.read_models.track_position("contract") >= position
    ready = ok(api.get("auditor", "/ready"))
    assert ready["checks"]["projections"]["behind"] == 0


def _events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def test_an_agency_streams_only_its_own_redacted_events(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id, scope=[{"agency": "school", "category": "identity"}])
    response = api.get("school", "/streams/school?limit=50&timeout=2")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    # Shared only once every signatory consented: then the offer's identity is disclosed.
    assert [e["type"] for e in events] == ["ConsentGiven", "CaseDisclosed"]
    assert events[1]["fields"]["youth"]["name"] == "Ola Nordmann" and "offence" not in events[1]["fields"]
    assert all(e["categories"] == ["identity"] for e in events)
    assert api.get("police", "/streams/school?limit=1&timeout=1").status_code == 403
    logged = api.container.access_log.query(agency="school")
    assert any(e["action"] == "stream" and e["case_id"] == case_id for e in logged)


def test_the_access_log_is_for_the_auditor_and_finds_reads_by_national_id(api: Api) -> None:
    case_id = offer(api)
    ok(api.get("school", "/contracts"))
    ok(api.get("konfliktrad", f"/contracts/{case_id}"))
    assert api.get("konfliktrad", "/access-log").status_code == 403
    entries = ok(api.get("auditor", f"/access-log?subject={OFFER['youth']['national_id']}"))  # type: ignore[index]
    assert {(e["agency"], e["action"]) for e in entries} >= {
        ("konfliktrad", "case_view"),
        ("prosecution", "command:offer"),
    }
    by_agency = ok(api.get("auditor", "/access-log?agency=konfliktrad"))
    assert by_agency and all(e["agency"] == "konfliktrad" for e in by_agency)
    assert ok(api.get("auditor", "/access-log?since=2999-01-01T00:00:00Z")) == []


def test_a_fresh_process_rebuilds_the_read_models_with_no_key_in_its_cache(api: Api) -> None:
    """`ruskontrakt rebuild-projections` runs in a new process: every key comes from the key
    store, which may share the read models' database (SQLite: one transaction at a time)."""
    from infra.bootstrap import build
    from services.projector import InProcessProjection

    offer(api)
    assert api.container.read_models is not None and api.container.projection is not None
    api.container.projection.catch_up()  # as every read does first
    live = snapshot(api.container.read_models, api.container.keys)
    fresh = build(api.container.settings, clock=api.clock)
    try:
        assert fresh.read_models is not None
        fresh.read_models.clear()
        InProcessProjection(fresh.projector("rebuild"), fresh.apps).catch_up()
        assert snapshot(fresh.read_models, fresh.keys) == live
    finally:
        fresh.close()


def test_case_documents_stored_as_hex_text_by_an_earlier_version_are_converted_to_bytes(
    fresh_postgres_url: str,
) -> None:
    from infra.db.read_models import ReadModels
    from infra.db.sql import Database

    db = Database(fresh_postgres_url)
    try:
        with db.transaction() as tx:  # the schema and a row as the earlier version wrote them
            tx.execute(
                "CREATE TABLE rm_case_views (agency TEXT NOT NULL, case_id TEXT NOT NULL, "
                "track TEXT NOT NULL, policy_version TEXT NOT NULL, doc TEXT NOT NULL, "
                "PRIMARY KEY (agency, case_id))"
            )
            tx.execute(
                "INSERT INTO rm_case_views VALUES ('police', 'c1', 'contract', '2026-1', ?)",
                (b"\x00sealed\xff".hex(),),
            )
        models = ReadModels(db)
        ReadModels(db)  # a second process starting later finds nothing left to convert
        with models.transaction() as w:
            w.save_cases([("contract", "c1", 3, "active", ["ContractOffered"], 1)])
        view = models.view("police", "c1", "contract")
        assert view is not None and view.sealed == b"\x00sealed\xff" and view.version == 3
    finally:
        db.close()


def test_a_rebuild_shared_by_processes_gives_what_the_live_path_built(api: Api) -> None:
    """`ruskontrakt rebuild-projections --workers 2`: each process projects its own cases."""
    c = api.container
    cases = [offer(api) for _ in range(6)]
    for case_id in cases[:3]:
        activate(api, case_id, scope=GP_SHARING)
        rapid_test(api, case_id, ["THC"])
    assert c.read_models is not None and c.projection is not None
    c.projection.catch_up()
    live = snapshot(c.read_models, c.keys)
    events = sum(app.recorder.max_notification_id() or 0 for app in c.apps)

    assert rebuild(c.settings, workers=2, batch=7) == events  # every event applied once
    assert snapshot(c.read_models, c.keys) == live


@pytest.mark.parametrize("child", ["rebuild-1-of-2", "rebuild-statistics"])
def test_a_rebuild_whose_worker_dies_fails_loudly(api: Api, child: str) -> None:
    """Whichever child is killed, the one projecting half of the cases or the one counting
    the statistics beside it, the rebuild fails and says so."""
    offer(api)
    outcome: list[BaseException | int] = []

    def run() -> None:
        try:
            outcome.append(rebuild(api.container.settings, workers=2))
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while not (children := [p for p in multiprocessing.active_children() if p.name == child]):
        assert time.monotonic() < deadline, f"no process {child} started"
        time.sleep(0.01)
    pid = children[0].pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # long before it can have finished: it is still starting up
    thread.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], RuntimeError), outcome
    assert "run the rebuild again" in str(outcome[0])
