"""Killing the Kafka broker at random moments during a stream of commands (quality.md
reliability 1, the broker's part; the relay's and projector's is
test_relay_projector_restarts.py).

A private broker (its own state directory and ports, so the session's broker is not
disturbed) is SIGKILLed and started again while commands go in through the API, with
`ruskontrakt relay` and `ruskontrakt project` running as real subprocesses under a
supervisor that starts again whichever exits (as a deployment's restart policy does).
Afterwards: every committed event is applied exactly once and in per-case order in every
read model, and everything the relay published to the internal topic is a committed event,
byte for byte (nothing uncommitted ever reaches Kafka).
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.policy import Track
from domain.values import Agency
from infra.api.app import create_app
from infra.bootstrap import Container, build
from infra.kafka.clients import internal_topic
from infra.settings import Settings
from services.messages import decode_internal
from tests.integration.flows import OFFER, PLAN
from tests.reliability.streams import (
    Service,
    assert_meetings_applied_once_in_order,
    hold_numbered_meeting,
    wait_until_applied,
)
from tests.servers import REPO, KafkaBroker, free_port, tail
from tests.units import role_of, unit_of

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.timeout(300)]
KAFKA_SH = REPO / "infra" / "kafka" / "kafka.sh"
CASES, MEETINGS, KILLS = 10, 300, 2


class PrivateBroker:
    """A second development broker (infra/kafka/kafka.sh) that this test may kill."""

    def __init__(self, var: Path) -> None:
        self.var, self.port = var, free_port()
        self.env = {
            **os.environ,
            "RUSKONTRAKT_VAR": str(var),
            "RUSKONTRAKT_KAFKA_PORT": str(self.port),
            "RUSKONTRAKT_KAFKA_CONTROLLER_PORT": str(free_port()),
        }
        self.kills = 0

    def sh(self, command: str) -> None:
        done = subprocess.run(
            ["bash", str(KAFKA_SH), command],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"kafka.sh {command}: {done.stdout}{done.stderr}"

    def kill_and_restart(self) -> None:
        pid = int((self.var / "kafka" / "kafka.pid").read_text().strip())
        os.kill(pid, 9)
        self.kills += 1
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists():  # until the JVM is gone and its ports are free
            assert time.monotonic() < deadline, "the killed broker did not exit"
            time.sleep(0.05)
        self.sh("up")  # notices the stale pid, recovers the logs, waits until it answers


@pytest.fixture
def system(
    fresh_postgres_url: str, tmp_path: Path
) -> Iterator[tuple[Container, PrivateBroker, list[Service]]]:
    broker = PrivateBroker(tmp_path / "var")
    broker.sh("up")
    values = {
        "RUSKONTRAKT_DATABASE_URL": fresh_postgres_url,
        "RUSKONTRAKT_KAFKA_BOOTSTRAP": f"127.0.0.1:{broker.port}",
        "RUSKONTRAKT_KAFKA_TOPIC_PREFIX": f"kills{uuid.uuid4().hex[:8]}",
        "RUSKONTRAKT_JWT_SECRET": "reliability-secret-long-enough-for-hs256",
        "RUSKONTRAKT_KEY_PEPPER": "reliability",
        "RUSKONTRAKT_LOG_LEVEL": "WARNING",
        # One load generator is one user here: the per-user rate limit is not what is tested.
        "RUSKONTRAKT_RATE_PER_MINUTE": "1000000",
    }
    settings = Settings(**{k.removeprefix("RUSKONTRAKT_").lower(): v for k, v in values.items()})
    container = build(settings, clock=lambda: datetime(2026, 9, 10, 8, tzinfo=UTC))
    env = {**os.environ, **values}
    services = [Service(name, env, tmp_path / f"{name}.log") for name in ("relay", "project")]
    for service in services:
        service.start()
    try:
        yield container, broker, services
    finally:
        for service in services:
            service.stop()
        container.close()
        broker.sh("down")


def _supervise(services: list[Service], done: threading.Event) -> dict[str, int]:
    """Start again whichever service exited (a broker outage may end it), as systemd would."""
    restarts = {s.command: 0 for s in services}
    while not done.wait(0.2):
        for service in services:
            if service.process is not None and service.process.poll() is not None:
                restarts[service.command] += 1
                service.start()
    return restarts


def _commands(client: TestClient, c: Container, chaos: threading.Thread) -> dict[str, list[str]]:
    """Contracts activated, then meetings until at least MEETINGS are in and the chaos is over
    (so every kill happens while commands are going in)."""

    def post(agency: Agency, path: str, body: object) -> dict[str, str]:
        token = c.tokens.issue(agency, "stream", unit_of(agency), role_of(agency))
        response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    meetings: dict[str, list[str]] = {}
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
    cases = list(meetings)
    i = 0
    while i < MEETINGS or chaos.is_alive():
        case = cases[i % CASES]
        i += 1
        hold_numbered_meeting(post, meetings, case)
    return meetings


def _published(c: Container, broker: PrivateBroker) -> list[tuple[str, int, bytes]]:
    """(case, version, stored bytes) of every message on the contracts' internal topic."""
    s = c.settings
    config = KafkaBroker(
        bootstrap=f"127.0.0.1:{broker.port}",
        service_user=s.kafka_username,
        service_password=s.kafka_password,
        mechanism=s.kafka_sasl_mechanism,
        security_protocol=s.kafka_security_protocol,
        agency_credentials={},
        run_id="kills",
    )
    consumer = config.consumer(
        internal_topic(s, Track.CONTRACT),
        auto_offset_reset="earliest",
        group_id=f"check-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
    )
    try:
        out: list[tuple[str, int, bytes]] = []
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < 3:  # until three seconds bring nothing new
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    message = decode_internal(record.value)
                    out.append((message.case_id, message.version, message.state))
                    idle_since = time.monotonic()
        return out
    finally:
        consumer.close()


def test_killing_the_broker_during_a_command_stream_loses_nothing_and_publishes_nothing_uncommitted(
    system: tuple[Container, PrivateBroker, list[Service]],
) -> None:
    c, broker, services = system
    done = threading.Event()
    restarts: dict[str, int] = {}
    supervisor = threading.Thread(target=lambda: restarts.update(_supervise(services, done)))
    rng = random.Random(20261127)

    failures: list[BaseException] = []

    def chaos() -> None:
        try:
            for _ in range(KILLS):
                if done.wait(rng.uniform(1.0, 4.0)):
                    return
                broker.kill_and_restart()
        except BaseException as error:  # the test fails with it, not on what follows from it
            failures.append(error)

    killer = threading.Thread(target=chaos)
    supervisor.start()
    killer.start()
    try:
        with TestClient(create_app(c)) as client:
            meetings = _commands(client, c, killer)
        if failures:
            log = tail(broker.var / "kafka" / "server.log", 30)
            raise AssertionError(f"restarting the broker failed:\n{log}") from failures[0]
        wait_until_applied(c, services)
    finally:
        done.set()
        killer.join()
        supervisor.join()
    print("broker kills:", broker.kills, "service restarts:", restarts)
    assert broker.kills == KILLS

    assert_meetings_applied_once_in_order(c, meetings)

    committed = {
        (str(s.originator_id), s.originator_version): s.state
        for case in meetings
        for s in c.contracts.stored_events(UUID(case))
    }
    published = _published(c, broker)
    assert {(case, version) for case, version, _ in published} == set(committed), "every event published"
    assert all(committed[(case, version)] == state for case, version, state in published), (
        "nothing but committed events, byte for byte"
    )
