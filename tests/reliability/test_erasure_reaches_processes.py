"""Erasure reaches running processes (quality.md reliability 14, issue 14 finding 4).

A real `ruskontrakt serve` has the youth's case in every cache it has (its case view,
worklist, history and a command warm the key cache, the live case and the projector's
fold). The person is then erased by another process on the same database: the CLI
(`ruskontrakt erase --yes`, a subprocess) or the API of a second server process on the
same database, on SQLite and on PostgreSQL. Within 1 s after the erase returns, the
first server shows the person's name in no answer (case view, worklist, history), no longer
lists the case, and refuses a write to it without storing anything; a write sent in the
very moment of the erasure does not bring the case back either. Another youth's case is
untouched.

In Kafka mode (PostgreSQL and the session's broker, `ruskontrakt relay` and `ruskontrakt
project` running beside the server as processes of their own) the same holds: the read
models are written by the projector process, and the server's reads wait for it with
`X-Min-Position` while the caches are warmed.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.integration.flows import OFFER, fnr, ok
from tests.reliability.live_server import (
    KafkaServices,
    LiveServer,
    kafka_mode,
    offer_changes,
    stored_versions,
)

REACH_S = 1.0  # quality.md 14
WATCH_S = 2.0  # how long after that every answer is checked again
CONSENT = {"scope": [], "booklet_version": "2026-1"}


def _youth(serial: int) -> tuple[str, str]:
    born = date(date.today().year - 16, 1, 15)
    return f"Slettmeg {uuid.uuid4().hex[:10]}", fnr(born, serial)


def _offer(server: LiveServer, name: str, national_id: str) -> tuple[str, int]:
    """The new case's id and the position of its offer (for reads of it with Kafka)."""
    body: dict[str, Any] = {**OFFER, **offer_changes(national_id)}
    body["youth"] = {**body["youth"], "name": name}
    answer = ok(server.post("prosecution", "/contracts", body), 201)
    return str(answer["id"]), int(answer["position"])


def _warm(server: LiveServer, case: tuple[str, int], name: str) -> None:
    """Every cache of the server holds the case: views, worklist, history, the live case.
    The reads wait for the offer to be projected (only Kafka mode ever has to)."""
    case_id, position = case
    after = {"X-Min-Position": str(position)}
    assert name in ok(server.get("prosecution", f"/contracts/{case_id}", **after))["youth"]["name"]
    assert case_id in server.get("prosecution", "/contracts", **after).text
    assert name in server.get("auditor", f"/contracts/{case_id}/history").text
    consented = _consent(server, case_id, "youth")
    assert name in ok(consented)["youth"]["name"]


def _leaks(server: LiveServer, case_id: str, name: str) -> list[str]:
    found = []
    view = server.get("prosecution", f"/contracts/{case_id}")
    if name in view.text or view.status_code == 200:
        found.append(f"case view {view.status_code}: {view.text[:200]}")
    worklist = server.get("prosecution", "/contracts")
    if name in worklist.text or case_id in worklist.text:
        found.append("worklist lists the case")
    history = server.get("auditor", f"/contracts/{case_id}/history")
    if name in history.text:
        found.append("history shows the name")
    return found


def _consent(server: LiveServer, case_id: str, signatory: str) -> Any:
    return server.post("konfliktrad", f"/contracts/{case_id}/consents", {"signatory": signatory, **CONSENT})


def _write(server: LiveServer, case_id: str) -> int:
    return int(_consent(server, case_id, "guardian:0").status_code)


def _cli_erase(server: LiveServer, national_id: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "infra.cli", "erase", "--yes", national_id],
        cwd=server.workdir,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(
    params=[
        "sqlite-cli",
        "sqlite-second-server",
        pytest.param("postgres-cli", marks=pytest.mark.postgres),
        pytest.param("postgres-second-server", marks=pytest.mark.postgres),
        pytest.param("kafka-cli", marks=[pytest.mark.postgres, pytest.mark.kafka]),
        pytest.param("kafka-second-server", marks=[pytest.mark.postgres, pytest.mark.kafka]),
    ]
)
def setting(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveServer, Any]]:
    backend, eraser = request.param.split("-", 1)
    url = (
        f"sqlite:///{tmp_path}/ruskontrakt.sqlite"
        if backend == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    first, second, services = LiveServer(url, tmp_path), None, None
    if eraser == "second-server":
        second = LiveServer(url, tmp_path)
    if backend == "kafka":  # one deployment: the servers share the topics, relay and projector
        broker = request.getfixturevalue("kafka_broker")
        kafka_mode(first, broker)
        if second is not None:
            kafka_mode(second, broker, prefix=first.settings["kafka_topic_prefix"])
    first.start()
    if second is not None:
        second.start()
    if backend == "kafka":
        services = KafkaServices(first).start()
    try:
        if second is None:
            yield first, lambda national_id: _cli_erase(first, national_id)
        else:
            yield first, lambda national_id: ok(second.post("auditor", f"/subjects/{national_id}/erase"))
        if services is not None:
            assert services.running(), services.log_tail()
    finally:
        if services is not None:
            services.stop()
        for server in (first, second):
            if server is not None:
                server.stop()
                if server.server_errors():
                    print(f"--- {server.log} ---\n{server.log_tail(80)}")


def test_after_an_erasure_the_running_server_shows_nothing_and_accepts_no_write_within_1_s(
    setting: tuple[LiveServer, Any],
) -> None:
    server, erase = setting
    name, national_id = _youth(0)
    other_name, other_id = _youth(1)
    case = _offer(server, name, national_id)
    other = _offer(server, other_name, other_id)
    _warm(server, case, name)
    _warm(server, other, other_name)
    case_id, other_case = case[0], other[0]

    erase(national_id)
    erased_at = time.monotonic()
    _write(server, case_id)  # in the very moment of the erasure: accepted or not, it must not stick
    versions = stored_versions(server.database_url, case_id)

    time.sleep(max(0.0, erased_at + REACH_S - time.monotonic()))
    while time.monotonic() < erased_at + REACH_S + WATCH_S:
        assert _leaks(server, case_id, name) == []
        assert _write(server, case_id) in (404, 410), "a write to an erased case is refused"
        assert stored_versions(server.database_url, case_id) == versions, "nothing stored"
        time.sleep(0.1)

    kept = ok(server.get("prosecution", f"/contracts/{other_case}"))
    assert kept["youth"]["name"] == other_name, "the other youth is untouched"
    assert _write(server, other_case) == 200
    assert not server.server_errors(), server.log_tail()
