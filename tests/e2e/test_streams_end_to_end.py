"""HTTP -> event store -> relay -> Kafka -> router -> agency topics, and Kafka -> projector
-> read models -> HTTP, on the real broker and PostgreSQL.

A scripted contract and prevention case flow through the whole path; what every agency
receives on its topic (read as that agency's own Kafka principal) and what its case view
shows is compared with an oracle that applies docs/domain.md §3/§4/§6 by hand to the script.
Then the same events projected in-process, and a rebuild from scratch, must give the very
same read models as the Kafka path.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.need_to_know import PREVENTION_UNIT, Viewer
from domain.policy import Track
from domain.values import Agency
from infra.api.app import create_app
from infra.bootstrap import Container, build
from infra.db.read_models import ReadModels
from infra.db.sql import Database
from infra.kafka import clients
from infra.kafka.runners import run_projector, run_relay, run_router
from infra.settings import Settings
from services.messages import decode_agency
from services.projector import InProcessProjection, Projector
from tests import agency_schemas
from tests.integration.flows import FACTORS, OFFER, PLAN
from tests.integration.read_model_rows import snapshot
from tests.servers import KafkaBroker
from tests.units import role_of, unit_of

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

P, POL, K, H, GP, CW, S, CO, AU = (
    Agency.PROSECUTION,
    Agency.POLICE,
    Agency.KONFLIKTRAD,
    Agency.MUNICIPAL_HEALTH,
    Agency.GP,
    Agency.CHILD_WELFARE,
    Agency.SCHOOL,
    Agency.COUNTY,
    Agency.AUDITOR,
)

# docs/domain.md §3 by hand: the cells each agency has Always; C cells need consent.
ALWAYS = {
    P: {"identity", "offence", "terms", "breach", "outcome"},
    POL: {"identity", "offence", "terms", "breach", "outcome"},
    K: {"identity", "offence", "terms", "notes", "rapid_test", "breach", "outcome", "evaluation"},
    H: {"identity", "terms", "notes", "rapid_test", "breach", "outcome", "evaluation"},
    GP: {"lab_test"},
    CW: set(),
    S: set(),
    CO: set(),
}
SHARING = [
    ("gp", "identity"),
    ("gp", "terms"),
    ("gp", "rapid_test"),
    ("school", "identity"),
    ("school", "outcome"),
    ("child_welfare", "notes"),
]
WITHDRAWN = ("gp", "rapid_test")


@dataclass
class Step:
    """One scripted event: its type, the categories its fields carry, the sharing in force."""

    type: str
    categories: set[str]
    sharing: set[tuple[str, str]]


def _script() -> list[Step]:
    """The events the HTTP script below records, in order (docs/domain.md §6, by hand)."""
    full, narrowed = set(SHARING), set(SHARING) - {WITHDRAWN}
    none: set[tuple[str, str]] = set()
    return [
        Step("ContractOffered", {"identity", "offence", "terms"}, none),
        Step("ConsentGiven", {"identity"}, none),  # the youth: the guardian has not signed yet
        Step("ConsentGiven", {"identity"}, full),  # every signatory: sharing starts here
        Step("StartupMeetingScheduled", {"terms"}, full),
        Step("StartupMeetingHeld", {"terms", "notes"}, full),
        Step("PlanAgreed", {"terms", "notes"}, full),  # notes: why it departs from the defaults
        Step("MeetingHeld", {"notes"}, full),
        Step("TestScheduled", {"terms", "rapid_test"}, full),  # rapid_test: the test it confirms
        Step("RapidTestRecorded", {"rapid_test"}, full),
        Step("BreachRegistered", {"breach"}, full),
        Step("BreachDecided", {"breach"}, full),
        Step("ConsentWithdrawn", {"identity"}, narrowed),
        Step("TestScheduled", {"terms", "rapid_test"}, narrowed),
        Step("RapidTestRecorded", {"rapid_test"}, narrowed),
        Step("EvaluationSubmitted", {"evaluation"}, narrowed),
    ]


def oracle(agency: Agency) -> list[tuple[str, int, list[str]]]:
    """(type, version, categories) of every message `agency` must get, in order."""
    if agency is AU:
        return [(s.type, v, ["all"]) for v, s in enumerate(_script(), 1)]
    out = []
    disclosed = ALWAYS[agency] & {"identity", "offence", "terms"}
    for version, step in enumerate(_script(), 1):
        may = ALWAYS[agency] | {c for a, c in step.sharing if a == agency.value}
        if step.categories & may:
            out.append((step.type, version, sorted(step.categories & may)))
        late = (may & {"identity", "offence", "terms"}) - disclosed
        if step.type == "ConsentGiven" and late:  # the offer, disclosed by the consent
            disclosed |= late
            out.append(("CaseDisclosed", version, sorted(late)))
    return out


PREVENTION_STEPS = [  # the preventive track's lifecycle: conversation, then counselling
    "ConcernRegistered",
    "ConversationOffered",
    "ConversationHeld",
    "CounsellingOffered",
    "CounsellingAccepted",
    "ConcernReportedToChildWelfare",
]
PREVENTION_ORACLE = {  # docs/domain.md §6: police always; health from acceptance; child welfare from report
    POL: PREVENTION_STEPS,
    H: ["CounsellingAccepted", "ConcernReportedToChildWelfare"],
    CW: ["ConcernReportedToChildWelfare"],
    AU: PREVENTION_STEPS,
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 9, 10, 8, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=30)  # every command at its own time
        return self.now


@pytest.fixture
def system(kafka_broker: KafkaBroker, fresh_postgres_url: str) -> Iterator[tuple[Container, threading.Event]]:
    """The service wired for Kafka, with its relay, router and projector running until the
    event is set."""
    settings = Settings(
        database_url=fresh_postgres_url,
        kafka_bootstrap=kafka_broker.bootstrap,
        kafka_topic_prefix=kafka_broker.topic(f"e2e{time.monotonic_ns()}"),
        jwt_secret="e2e-secret-that-is-long-enough-for-hs256",
        key_pepper="e2e",
        read_wait_seconds=30,
    )
    container = build(settings, clock=Clock())
    stop = threading.Event()
    threads = [
        threading.Thread(target=loop, args=(container, stop), daemon=True)
        for loop in (run_relay, run_router, run_projector)
    ]
    for thread in threads:
        thread.start()
    yield container, stop
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    container.close()


def _post(
    client: TestClient, c: Container, agency: Agency, path: str, body: Any = None, status: int = 200
) -> dict[str, Any]:
    token = c.tokens.issue(agency, f"{agency.value}-user", unit_of(agency), role_of(agency))
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.text
    assert "projection" not in response.json(), "the command waited for its read model"
    return dict(response.json())


def _get(client: TestClient, c: Container, agency: Agency, path: str) -> Any:
    token = c.tokens.issue(agency, f"{agency.value}-user", unit_of(agency), role_of(agency))
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def _run_script(client: TestClient, c: Container) -> tuple[str, str, int]:
    scope = [{"agency": a, "category": cat} for a, cat in SHARING]
    case = _post(client, c, P, "/contracts", OFFER, 201)["id"]
    for signatory in ("youth", "guardian:0"):
        _post(
            client,
            c,
            K,
            f"/contracts/{case}/consents",
            {"signatory": signatory, "scope": scope, "booklet_version": "2026-1"},
        )
    _post(
        client,
        c,
        K,
        f"/contracts/{case}/startup-meeting",
        {"at": "2026-09-10T10:00:00+02:00", "participants": ["konfliktrad", "municipal_health"]},
    )
    _post(client, c, K, f"/contracts/{case}/startup-meeting/held", {"plan": PLAN})
    _post(
        client,
        c,
        H,
        f"/contracts/{case}/meetings",
        {
            "kind": "conversation",
            "attended": True,
            "held_at": "2026-09-10T09:00:00+02:00",
            "notes": "talked about cannabis",
        },
    )
    test = {"kind": "rapid", "purpose": "follow_up", "scheduled_for": "2026-10-20", "random": True}
    test_id = _post(client, c, H, f"/contracts/{case}/tests", test, 201)["test_id"]
    _post(
        client,
        c,
        H,
        f"/contracts/{case}/tests/{test_id}/result",
        {"positives": ["THC"], "collected_at": "2026-09-10T09:00:00+02:00"},  # before the clock
    )
    breach = _post(
        client,
        c,
        K,
        f"/contracts/{case}/breaches",
        {"kind": "positive_test", "test_id": test_id, "evidence": "rapid THC"},
        201,
    )
    _post(
        client,
        c,
        K,
        f"/contracts/{case}/breaches/{breach['breach_id']}/decision",
        {"response": "warning", "reason": "first positive", "factors": FACTORS},
    )
    _post(
        client,
        c,
        K,
        f"/contracts/{case}/consents/withdraw",
        {"signatory": "guardian:0", "scope": [{"agency": "gp", "category": "rapid_test"}]},
    )
    test_id = _post(client, c, H, f"/contracts/{case}/tests", test, 201)["test_id"]
    _post(
        client,
        c,
        H,
        f"/contracts/{case}/tests/{test_id}/result",
        {"positives": [], "collected_at": "2026-09-10T10:00:00+02:00"},
    )
    last = _post(
        client,
        c,
        H,
        f"/contracts/{case}/evaluations",
        {"respondent_role": "youth", "form_version": "2026-1", "answers": {"helpful": 4}},
    )
    assert last["version"] == len(_script())
    concern = _post(
        client,
        c,
        POL,
        "/prevention-cases",
        {
            "person": {"name": "Per Hansen", "national_id": "15011050260", "birth_date": "2010-01-15"},
            "municipality": "5001",
            "summary": "seen buying",
        },
        201,
    )["id"]
    _post(client, c, POL, f"/prevention-cases/{concern}/conversation-offered")
    held = {"held_at": "2026-09-10T09:00:00+02:00", "notes": "police talk"}
    _post(client, c, POL, f"/prevention-cases/{concern}/conversation-held", held)
    for step in ("counselling-offered", "counselling-accepted", "reported-to-child-welfare"):
        _post(client, c, POL, f"/prevention-cases/{concern}/{step}")
    return case, concern, last["position"]


def _topic(
    broker: KafkaBroker, c: Container, agency: Agency, want: int, unit: str | None = None
) -> list[Any]:
    """The topic of the agency's unit related to the case, read as that unit's own principal
    (granted as `ruskontrakt grant-unit` does) in its own consumer group."""
    viewer = Viewer(agency, unit or unit_of(agency))
    principal = clients.unit_principal(viewer)
    if viewer.unit is not None:
        password = f"{principal}-e2e-secret"
        clients.grant_unit(c.settings, viewer, password)
        broker.agency_credentials[principal] = password
    consumer = broker.consumer(
        clients.agency_topic(c.settings, viewer),
        agency=principal,
        group_id=clients.agency_group(c.settings, viewer),
        isolation_level="read_committed",
    )
    seen: dict[tuple[str, int, str], Any] = {}  # at least once: (case, version, type) is the identity
    deadline = time.monotonic() + 60
    while len(seen) < want and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                agency_schemas.check_wire(record.value)  # as published (docs/asyncapi.yaml)
                m = decode_agency(record.value)
                seen.setdefault((m.case_id, m.version, m.type), m)
    consumer.close()
    return list(seen.values())


def test_a_case_reaches_every_agency_exactly_as_the_policy_and_the_consents_allow(
    system: tuple[Container, threading.Event], kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    c, stop = system
    with TestClient(create_app(c)) as client:
        case, concern, position = _run_script(client, c)
        assert c.read_models is not None
        # Commands answer without waiting for the projector; a read names the position to see.
        assert _get(client, c, K, f"/contracts/{case}?min_position={position}").status_code == 200
        assert c.read_models.track_position("contract") >= position

        for agency in (a for a in Agency if a is not CO):  # the county has no stream: aggregates only
            expected = oracle(agency)
            prevention = PREVENTION_ORACLE.get(agency, [])
            messages = _topic(kafka_broker, c, agency, len(expected) + len(prevention))
            got = [(m.type, m.version, m.categories) for m in messages if m.case_id == case]
            assert got == expected, agency
            if agency is POL:  # the district's prevention unit has a topic of its own
                assert not [m for m in messages if m.case_id == concern], "never the investigators'"
                unit = f"{unit_of(POL)}{PREVENTION_UNIT}"
                messages = _topic(kafka_broker, c, agency, len(prevention), unit)
            assert [m.type for m in messages if m.case_id == concern] == prevention, agency

            response = _get(client, c, agency, f"/contracts/{case}")
            assert response.status_code == 200, (agency, response.text)
            view = response.json()
            assert view["categories"] == sorted({cat for _, _, cats in expected for cat in cats})
            # The version of the last event the unit saw (never counting one it may not know of).
            assert view["version"] == max(v for _, v, _ in expected) and view["status"] == "active"
            assert view["policy_version"] == "2026-1"
            positives = [t["positives"] for t in view.get("tests", []) if "positives" in t]
            rapid = [v for t, v, cats in expected if t == "RapidTestRecorded"]
            assert positives == [[["THC"], []][v > 12] for v in rapid], agency
            assert ("meetings" in view) == any(t == "MeetingHeld" for t, _, _ in expected)
            listed = _get(client, c, agency, "/contracts").json()["items"]
            assert [row["id"] for row in listed] == [case]
        assert _get(client, c, CO, f"/contracts/{case}").status_code == 403
        # The SSE mirror of the school's topic, decrypted for the client.
        stream = _get(client, c, S, "/streams/school?limit=3&timeout=30")
        events = [json.loads(line[6:]) for line in stream.text.splitlines() if line.startswith("data: ")]
        for event in events:  # the SSE mirror shows the messages opened, as a consumer opens them
            agency_schemas.check_opened(event)
        assert [(e["type"], e["version"]) for e in events] == [(t, v) for t, v, _ in oracle(S)]
        assert events[1]["fields"]["youth"]["name"] == OFFER["youth"]["name"]  # type: ignore[index]
        assert "offence" not in events[1]["fields"]
        assert _get(client, c, P, "/prevention-cases").status_code == 403
        health = _get(client, c, H, f"/prevention-cases/{concern}").json()
        assert [s["type"] for s in health["steps"]] == PREVENTION_ORACLE[H]
        ready = _get(client, c, AU, "/ready").json()
        assert ready["checks"]["kafka"] == "ok" and ready["checks"]["projections"]["behind"] == 0

    stop.set()
    time.sleep(0.5)  # let the loops see it; positions are checked below, not timed
    live = snapshot(c.read_models, c.keys)

    # The same events, projected in-process (embedded mode's path) into another database.
    other_models = ReadModels(Database(f"sqlite:///{tmp_path}/in-process.sqlite"))
    InProcessProjection(Projector(c.apps, other_models, c.keys, c.rules, "in-process"), c.apps).catch_up()
    assert snapshot(other_models, c.keys) == live

    # Rebuilt from scratch: the same again.
    c.read_models.clear()
    InProcessProjection(c.projector("rebuild"), c.apps).catch_up()
    assert snapshot(c.read_models, c.keys) == live


def test_a_projector_started_before_the_relay_creates_its_topics_and_gets_them(
    kafka_broker: KafkaBroker, fresh_postgres_url: str
) -> None:
    """Started alone (the relay not yet up, or restarting) it must not join its group with no
    topics to be assigned: it would sit idle until kafka-python's metadata expired."""
    settings = Settings(
        database_url=fresh_postgres_url,
        kafka_bootstrap=kafka_broker.bootstrap,
        kafka_topic_prefix=kafka_broker.topic(f"alone{time.monotonic_ns()}"),
        jwt_secret="e2e-secret-that-is-long-enough-for-hs256",
        key_pepper="e2e",
    )
    container = build(settings)
    stop = threading.Event()
    projector = threading.Thread(target=run_projector, args=(container, stop), daemon=True)
    projector.start()
    try:
        admin = clients.admin(settings)
        try:
            wanted = {clients.internal_topic(settings, t) for t in Track}
            deadline = time.monotonic() + 30
            while not wanted <= set(admin.list_topics()):
                assert time.monotonic() < deadline, "the projector did not create its topics"
                time.sleep(0.2)
        finally:
            admin.close()
    finally:
        stop.set()
        projector.join(timeout=30)
        container.close()
