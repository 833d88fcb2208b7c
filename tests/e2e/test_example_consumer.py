"""The example consumer (examples/python-confluent/consumer.py, confluent-kafka, not
kafka-python) as a unit's own system runs it, against the real broker, PostgreSQL and a
live HTTP server: with the credentials `ruskontrakt grant-unit` printed and a token of the
unit it reads exactly what the unit may see, opened, every message valid against the
published schemas; another unit's credentials are refused by the broker (and its token
gets no key); after the person's erasure the consumer can open none of their messages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from domain.need_to_know import Viewer
from domain.values import Agency
from infra.api.app import create_app
from infra.bootstrap import Container
from infra.settings import Settings
from tests import agency_schemas
from tests.e2e.test_streams_end_to_end import _run_script, oracle, system  # noqa: F401 (fixture)
from tests.integration.flows import OFFER
from tests.integration.test_agency_topic_acls import _readable
from tests.servers import REPO, KafkaBroker, free_port
from tests.units import GP_HPR

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CONSUMER = REPO / "examples" / "python-confluent" / "consumer.py"
OTHER_GP = "1111111"  # a GP unit the case is not related to


@pytest.fixture
def http(system: tuple[Container, threading.Event]) -> Iterator[str]:  # noqa: F811
    """The service's HTTP API on a loopback port (the consumer is another process)."""
    container, _ = system
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the HTTP server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSKONTRAKT_")}
    assert settings.kafka_bootstrap
    env.update(
        RUSKONTRAKT_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        RUSKONTRAKT_KAFKA_TOPIC_PREFIX=settings.kafka_topic_prefix,
        RUSKONTRAKT_KAFKA_USERNAME=settings.kafka_username,
        RUSKONTRAKT_KAFKA_PASSWORD=settings.kafka_password,
        RUSKONTRAKT_KAFKA_SECURITY_PROTOCOL=settings.kafka_security_protocol,
        RUSKONTRAKT_KAFKA_SASL_MECHANISM=settings.kafka_sasl_mechanism,
    )
    return env


def _grant(c: Container, broker: KafkaBroker, viewer: Viewer, tmp_path: Path) -> tuple[str, str, Path]:
    """`ruskontrakt grant-unit` as an operator runs it: (principal, topic, password file)."""
    password = tmp_path / f"{viewer.key.replace(':', '.')}.password"
    password.write_text(f"{viewer.unit}-consumer-secret\n")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "infra.cli", "grant-unit"),
            *("--agency", viewer.agency.value, "--unit", str(viewer.unit), "--password-file", str(password)),
        ],
        cwd=REPO,
        env=_env(c.settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    principal, topic = printed["principal"], printed["topic and consumer group"]
    broker.agency_credentials[principal] = password.read_text().strip()
    _readable(broker, principal, topic)  # credentials and ACLs reach the broker through its metadata log
    return principal, topic, password


def _threads() -> str:
    """Where every thread of this process is: a consumer that timed out waiting for a key
    (the server waits for the read models) shows whether the projector stalled, and where."""
    names = {t.ident: t.name for t in threading.enumerate()}
    return "".join(
        f"\n--- thread {names.get(ident, ident)}:\n" + "".join(traceback.format_stack(frame))
        for ident, frame in sys._current_frames().items()
    )


def _consume(
    c: Container, principal: str, password: Path, topic: str, api: str, token: Path, *extra: str
) -> tuple[int, list[dict[str, Any]], str]:
    assert c.settings.kafka_bootstrap
    done = subprocess.run(
        [
            *(sys.executable, str(CONSUMER), "--bootstrap", c.settings.kafka_bootstrap),
            *("--username", principal, "--password-file", str(password), "--topic", topic),
            *("--api", api, "--token-file", str(token), "--idle-seconds", "20", "--timeout", "120"),
            *extra,
        ],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith(("RUSKONTRAKT_", "RK_"))},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def test_the_example_consumer_reads_its_units_messages_opened_and_none_after_erasure(
    system: tuple[Container, threading.Event],  # noqa: F811 (the fixture)
    http: str,
    kafka_broker: KafkaBroker,
    tmp_path: Path,
) -> None:
    c, _ = system
    with TestClient(create_app(c)) as client:
        case, _concern, _ = _run_script(client, c)

        gp = Viewer(Agency.GP, GP_HPR)
        principal, topic, password = _grant(c, kafka_broker, gp, tmp_path)
        assert (principal, topic) == (f"gp.{GP_HPR}", f"{c.settings.kafka_topic_prefix}.agency.gp.{GP_HPR}")
        token = tmp_path / "gp.token"
        token.write_text(c.tokens.issue(Agency.GP, "gp-journal-system", GP_HPR))
        expected = oracle(Agency.GP)  # docs/domain.md §3/§4 by hand: the GP's messages of the case

        code, lines, errors = _consume(
            c, principal, password, topic, http, token, "--max-messages", str(len(expected))
        )
        assert code == 0, errors + _threads()
        assert all("opened" in line for line in lines), lines
        opened = [agency_schemas.check_opened(line["opened"]) for line in lines]
        assert [
            (o["type"], o["version"], o["categories"]) for o in opened if o["case_id"] == case
        ] == expected
        assert {o["case_id"] for o in opened} == {case}, "nothing of the prevention case reaches a GP"
        assert {(o["agency"], o["unit"]) for o in opened} == {("gp", GP_HPR)}
        disclosed = next(o for o in opened if o["type"] == "CaseDisclosed")  # the consent opened the offer
        assert disclosed["fields"]["youth"]["name"] == OFFER["youth"]["name"]  # type: ignore[index]
        assert "offence" not in disclosed["fields"] and "legal_basis" not in disclosed["fields"]
        positives = [o["fields"]["positives"] for o in opened if o["type"] == "RapidTestRecorded"]
        assert positives == [["THC"]], "the rapid test after the withdrawal is not the GP's"
        released = [e for e in c.access_log.query(agency="gp") if e["action"] == "stream_key"]
        assert [e["case_id"] for e in released] == [case] and released[0]["sub"] == "gp-journal-system"

        # Another unit's credentials: the broker refuses them on this unit's topic and group.
        other = Viewer(Agency.GP, OTHER_GP)
        other_principal, _, other_password = _grant(c, kafka_broker, other, tmp_path)
        other_token = tmp_path / "other.token"
        other_token.write_text(c.tokens.issue(Agency.GP, "other-gp-system", OTHER_GP))
        code, lines, errors = _consume(c, other_principal, other_password, topic, http, other_token)
        assert code == 3 and not lines, (code, lines, errors)
        assert "AUTHORIZATION_FAILED" in errors, errors
        # ... and its token gets no key of the case: the same answer as for an unknown case.
        unrelated = client.get(
            f"/streams/keys/{case}", headers={"Authorization": f"Bearer {other_token.read_text()}"}
        )
        unknown = client.get(
            "/streams/keys/00000000-0000-4000-8000-000000000000",
            headers={"Authorization": f"Bearer {token.read_text()}"},
        )
        assert unrelated.status_code == unknown.status_code == 404
        assert unrelated.json() == unknown.json()

        # Erasure: the person's key is gone, so no key is released and nothing opens any more.
        auditor = c.tokens.issue(Agency.AUDITOR, "auditor-1", None)
        erased = client.post(
            f"/subjects/{OFFER['youth']['national_id']}/erase",  # type: ignore[index]
            headers={"Authorization": f"Bearer {auditor}"},
        )
        assert erased.status_code == 200, erased.text
        assert case in erased.json()["erased_cases"]
        own = client.get(f"/streams/keys/{case}", headers={"Authorization": f"Bearer {token.read_text()}"})
        assert own.status_code == 404 and own.json() == unknown.json()

    code, lines, errors = _consume(
        c,
        principal,
        password,
        topic,
        http,
        token,
        "--from-beginning",
        "--no-commit",
        "--max-messages",
        str(len(expected)),
    )
    assert code == 0, errors + _threads()
    assert len(lines) == len(expected) and all("sealed" in line for line in lines), lines
    assert {line["sealed"]["case_id"] for line in lines} == {case}
    for line in lines:  # still a valid message on the topic, only unopened
        assert not agency_schemas.errors(line["sealed"]["type"], {**line["sealed"], "sealed": "AAAA"})
    assert OFFER["youth"]["name"] not in json.dumps(lines)  # type: ignore[index]
