"""Killing the relay and the projector at random moments during a burst of 1,000 commands
loses nothing and applies nothing twice (quality.md reliability 1, for the processes we
own; the broker's own restarts are covered by tests/integration/test_kafka_broker.py).

`ruskontrakt relay` and `ruskontrakt project` run as real subprocesses and are SIGKILLed
and restarted while the commands go in. Afterwards every read model must hold each
event exactly once and in per-case order: the meetings of every case appear once each,
in the order they were held, the applied versions equal the stored ones, and the whole
read model equals one built from scratch in-process from the same events.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.values import Agency
from infra.api.app import create_app
from infra.bootstrap import Container, build
from infra.db.read_models import ReadModels
from infra.db.sql import Database
from infra.settings import Settings
from services.projector import InProcessProjection, Projector
from tests.integration.flows import OFFER, PLAN
from tests.integration.read_model_rows import snapshot
from tests.reliability.streams import (
    Service,
    assert_meetings_applied_once_in_order,
    hold_numbered_meeting,
    wait_until_applied,
)
from tests.servers import KafkaBroker
from tests.units import role_of, unit_of

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.timeout(180)]
CASES, COMMANDS = 25, 1000


@pytest.fixture
def setup(
    kafka_broker: KafkaBroker, fresh_postgres_url: str, tmp_path: Path
) -> Iterator[tuple[Container, list[Service]]]:
    values = {
        "RUSKONTRAKT_DATABASE_URL": fresh_postgres_url,
        "RUSKONTRAKT_KAFKA_BOOTSTRAP": kafka_broker.bootstrap,
        "RUSKONTRAKT_KAFKA_TOPIC_PREFIX": kafka_broker.topic(f"rel{time.monotonic_ns()}"),
        "RUSKONTRAKT_JWT_SECRET": "reliability-secret-long-enough-for-hs256",
        "RUSKONTRAKT_KEY_PEPPER": "reliability",
        "RUSKONTRAKT_LOG_LEVEL": "WARNING",
    }
    env = {**os.environ, **values}
    settings = Settings(
        **{k.removeprefix("RUSKONTRAKT_").lower(): v for k, v in values.items()}, read_wait_seconds=60
    )
    container = build(settings, clock=lambda: datetime(2026, 9, 10, 8, tzinfo=UTC))
    services = [Service(name, env, tmp_path / f"{name}.log") for name in ("relay", "project")]
    for service in services:
        service.start()
    yield container, services
    for service in services:
        service.stop()
    container.close()


def _progress(c: Container, service: Service) -> int:
    if service.command == "relay":
        return c.read_models.relay_position("contracts")
    return c.read_models.track_position("contract")


def _chaos(c: Container, services: list[Service], done: threading.Event, rng: random.Random) -> None:
    """SIGKILL one of the services at a random moment and start it again straight away;
    before the next kill, wait until the restarted one has moved its position on (so each
    kill hits a process that is working, not one still starting up)."""
    while not done.wait(rng.uniform(0.3, 1.5)):
        victim = rng.choice(services)
        before = _progress(c, victim)
        victim.kill()
        victim.ensure_running()
        while not done.is_set() and _progress(c, victim) <= before:
            done.wait(0.05)


def _burst(client: TestClient, c: Container) -> dict[str, list[str]]:
    def post(agency: Agency, path: str, body: object) -> dict[str, str]:
        token = c.tokens.issue(agency, "burst", unit_of(agency), role_of(agency))
        # return=minimal: no waiting for the read model in the answer (the burst goes on while
        # the projector is down); a command on a case the read models do not know yet still
        # waits for them before its permission check.
        response = client.post(
            path, json=body, headers={"Authorization": f"Bearer {token}", "Prefer": "return=minimal"}
        )
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    meetings: dict[str, list[str]] = {}
    sent = 0
    for _ in range(CASES):
        case = post(Agency.PROSECUTION, "/contracts", OFFER)["id"]
        for signatory in ("youth", "guardian:0"):
            post(
                Agency.KONFLIKTRAD,
                f"/contracts/{case}/consents",
                {"signatory": signatory, "scope": [], "booklet_version": "2026-1"},
            )
        post(
            Agency.KONFLIKTRAD,
            f"/contracts/{case}/startup-meeting",
            {"at": "2026-09-10T10:00:00+02:00", "participants": ["konfliktrad"]},
        )
        post(Agency.KONFLIKTRAD, f"/contracts/{case}/startup-meeting/held", {"plan": PLAN})
        meetings[case] = []
        sent += 5
    cases = list(meetings)
    for i in range(COMMANDS - sent):
        case = cases[i % CASES]
        hold_numbered_meeting(post, meetings, case)
    return meetings


def test_killed_relays_and_projectors_leave_every_event_applied_once_in_order(
    setup: tuple[Container, list[Service]], tmp_path: Path
) -> None:
    c, services = setup
    done = threading.Event()
    chaos = threading.Thread(target=_chaos, args=(c, services, done, random.Random(4711)))
    chaos.start()
    try:
        with TestClient(create_app(c)) as client:
            meetings = _burst(client, c)
    finally:
        done.set()
        chaos.join()
    print("kills:", {s.command: s.kills for s in services})
    assert all(s.kills for s in services), "both were killed during the burst"
    for service in services:
        service.ensure_running()

    wait_until_applied(c, services)
    assert_meetings_applied_once_in_order(c, meetings)

    fresh = ReadModels(Database(f"sqlite:///{tmp_path}/fresh.sqlite"))
    InProcessProjection(Projector(c.apps, fresh, c.keys, c.rules, "fresh"), c.apps).catch_up()
    assert snapshot(fresh, c.keys) == snapshot(c.read_models, c.keys)
