"""`ruskontrakt serve` on a fresh directory answers, and `ruskontrakt demo` fills it through the API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from domain.values import Agency
from tests.reliability.live_server import KafkaServices, LiveServer, kafka_mode
from tests.servers import KafkaBroker, free_port
from tests.units import role_of, unit_of

CLI = [sys.executable, "-m", "infra.cli"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSKONTRAKT_")}
    env["RUSKONTRAKT_PORT"] = str(free_port())
    url = f"http://127.0.0.1:{env['RUSKONTRAKT_PORT']}"
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([*CLI, "serve"], cwd=tmp_path, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("serve did not answer /health:\n" + (tmp_path / "serve.log").read_text())
        yield url, env
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def _token(env: dict[str, str], cwd: Path, agency: str) -> str:
    """A token of the agency's unit in Trondheim (5001), where the demo's cases live."""
    unit = unit_of(Agency(agency))
    role = role_of(Agency(agency))
    out = subprocess.run(
        [
            *CLI,
            "token",
            "--agency",
            agency,
            "--sub",
            f"{agency}-1",
            *(["--unit", unit] if unit else []),
            *(["--role", role] if role else []),
        ],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_serve_on_a_fresh_directory_uses_sqlite_and_the_demo_loads_realistic_cases(
    served: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = served
    assert httpx.get(f"{url}/docs").status_code == 200
    assert "/contracts/{case_id}/consents" in httpx.get(f"{url}/openapi.json").json()["paths"]
    assert list((tmp_path / "var").glob("*.sqlite")), "the embedded default writes under ./var"

    demo = subprocess.run(
        [*CLI, "demo", "--url", url], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert demo.returncode == 0, demo.stderr[-3000:]

    headers = {"Authorization": f"Bearer {_token(env, tmp_path, 'auditor')}"}
    cases = httpx.get(f"{url}/contracts?limit=500", headers=headers).json()["items"]
    statuses = {c["status"] for c in cases}
    assert {"active", "completed", "returned", "declined", "offered"} <= statuses
    assert {c["trinn"] for c in cases} == {1, 2, 3}
    assert len({c["municipality"] for c in cases}) >= 4
    police = {"Authorization": f"Bearer {_token(env, tmp_path, 'police')}"}
    prevention = httpx.get(f"{url}/prevention-cases", headers=police).json()
    assert len(prevention) == 6
    assert {p["status"] for p in prevention} == {
        "counselling_accepted",
        "counselling_declined",
        "conversation_declined",
        "closed",
    }


@pytest.mark.kafka
@pytest.mark.postgres
def test_the_demo_loads_into_a_service_on_kafka_twice_in_a_row(
    kafka_broker: KafkaBroker, fresh_postgres_url: str, tmp_path: Path
) -> None:
    """With Kafka the read models lag the commands: the demo reads its own writes with
    `min_position` (failed before: `KeyError: 'residence_municipality'` after a 404, twice
    in a row). It finds the service by RUSKONTRAKT_PORT, without --url."""
    server = kafka_mode(LiveServer(fresh_postgres_url, tmp_path), kafka_broker).start()
    services = KafkaServices(server).start()
    try:
        for _run in range(2):
            demo = subprocess.run(
                [*CLI, "demo"], env=server.env(), cwd=tmp_path, capture_output=True, text=True, timeout=300
            )
            assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
        assert services.running(), services.log_tail()
        page = httpx.get(f"{server.url}/contracts?limit=500", headers=server.headers("auditor"), timeout=60)
        cases = page.json()["items"]
        assert len(cases) >= 24, "both runs' contracts, once the projector has them"
    finally:
        services.stop()
        server.stop()
    assert not server.server_errors(), server.log_tail()
