"""`ruskontrakt serve` as a real uvicorn process, for tests that need real connections and threads.

The reliability tests of concurrency and retries must not run through `TestClient`, which
hands requests to the app one at a time from the test's own thread: here every request
crosses a socket, uvicorn's event loop and its thread pool, exactly as in production.

`LiveServer` starts `python -m infra.cli serve` on a free loopback port with only the
settings given (nothing leaks in from the caller's shell), waits (bounded) for `/health`,
and stops its own process with SIGTERM. `stored_versions` reads the event store's rows
directly, past the service, so a test can check what was really recorded.

`kafka_mode` makes a server a Kafka-mode deployment: the settings of the session's broker
and a topic prefix of its own, and `ruskontrakt relay` and `ruskontrakt project` beside it as
real processes (`KafkaServices`), as production runs them.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest

from domain.calendar import local_day
from domain.values import Agency
from infra.auth import TokenService
from infra.db.urls import is_postgres, sqlite_path
from infra.settings import Settings
from tests.integration.flows import OFFER, fnr
from tests.servers import REPO, KafkaBroker, free_port, tail
from tests.units import role_of, unit_of

JWT_SECRET = "live-server-secret-that-is-long-enough-for-hs256"
START_TIMEOUT_S = 60.0


@dataclass
class LiveServer:
    database_url: str
    workdir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    settings: dict[str, str] = field(default_factory=dict)  # more RUSKONTRAKT_* settings, by name
    tokens: TokenService = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = TokenService(Settings(jwt_secret=JWT_SECRET, kafka_bootstrap=None))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"serve-{self.port}.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUSKONTRAKT_")}
        env.update(
            {
                "RUSKONTRAKT_DATABASE_URL": self.database_url,
                "RUSKONTRAKT_JWT_SECRET": JWT_SECRET,
                "RUSKONTRAKT_KEY_PEPPER": "live-server-pepper",
                "RUSKONTRAKT_CHECKPOINT_FILE": str(self.workdir / "checkpoints.jsonl"),
                "RUSKONTRAKT_CHECKPOINT_KEY_FILE": str(self.workdir / "checkpoint-key.pem"),
                "RUSKONTRAKT_HOST": "127.0.0.1",
                "RUSKONTRAKT_PORT": str(self.port),
                "RUSKONTRAKT_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(REPO),
            }
        )
        env.update({f"RUSKONTRAKT_{name.upper()}": value for name, value in self.settings.items()})
        return env

    def start(self) -> LiveServer:
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = free_port()
            with self.log.open("wb") as out:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "infra.cli", "serve"],
                    cwd=self.workdir,
                    env=self.env(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            if self._healthy():
                return self
            self.stop()
        pytest.fail(f"`ruskontrakt serve` did not answer /health:\n{self.log_tail()}", pytrace=False)

    def _healthy(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return True
            except httpx.TransportError:
                time.sleep(0.1)  # not listening yet: poll the condition again
        return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log, lines)

    def server_errors(self) -> list[str]:
        """Lines of the server log that report an unexpected error (a 500 and its traceback)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if "unexpected error" in line or "Traceback" in line]

    def headers(self, agency: Agency | str, sub: str | None = None, **extra: str) -> dict[str, str]:
        agency = Agency(agency)
        token = self.tokens.issue(agency, sub or f"{agency.value}-live", unit_of(agency), role_of(agency))
        return {"Authorization": f"Bearer {token}", **extra}

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)

    # The interface of tests.conftest.Api, so the walks of tests/integration/flows.py run here too.
    def post(
        self, agency: Agency | str, path: str, body: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers=self.headers(agency, **headers), timeout=60)

    def get(self, agency: Agency | str, path: str, **headers: str) -> httpx.Response:
        return httpx.get(self.url + path, headers=self.headers(agency, **headers), timeout=60)


def fire(
    server: LiveServer, requests: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]]
) -> list[httpx.Response]:
    """Send (agency, path, body, headers) POSTs at once: one thread and one open connection
    each, released together by a barrier once every connection is up."""
    barrier = threading.Barrier(len(requests))

    def send(request: tuple[str, str, dict[str, Any] | None, dict[str, str]]) -> httpx.Response:
        agency, path, body, headers = request
        with server.client() as client:
            assert client.get("/health").status_code == 200  # the connection is open
            barrier.wait(timeout=60)
            return client.post(path, json=body, headers=server.headers(agency, **headers))

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def offer_changes(national_id: str | None = None) -> dict[str, Any]:
    """What the offer of tests/integration/flows.py needs on a server with the real clock,
    so it holds on any day the suite runs: the youth is 15 or 16 today and at the offence
    ten days ago, and the answer deadline is the rules' default after today
    (`flows.offer(server, **offer_changes())`)."""
    today = local_day(datetime.now(UTC))  # the server judges by Norway's day
    birth = date(today.year - 16, 1, 15)
    youth = {"national_id": national_id or fnr(birth), "birth_date": birth.isoformat()}
    return {
        "youth": {**OFFER["youth"], **youth},  # type: ignore[dict-item]
        "offence": {**OFFER["offence"], "date": (today - timedelta(days=10)).isoformat()},  # type: ignore[dict-item]
        "offer_deadline": None,
    }


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live_server(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A running `ruskontrakt serve`, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ruskontrakt.sqlite"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    server = LiveServer(url, tmp_path).start()
    try:
        yield server
    finally:
        server.stop()
        if server.server_errors():  # shown with the test's report when it fails
            print(f"--- {server.log} ---\n{server.log_tail(80)}")


def stored_versions(database_url: str, case_id: str, track: str = "contracts") -> list[int]:
    """The originator versions of one case as rows in the event store, in stored order."""
    if is_postgres(database_url):
        with psycopg.connect(database_url, autocommit=True) as conn:
            rows = conn.execute(
                f"SELECT originator_version FROM {track}_events WHERE originator_id = %s "
                "ORDER BY originator_version",
                (UUID(case_id),),
            ).fetchall()
    else:
        path = sqlite_path(database_url, track)
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                "SELECT originator_version FROM stored_events WHERE originator_id = ? "
                "ORDER BY originator_version",
                (UUID(case_id).hex,),
            ).fetchall()
        finally:
            conn.close()
    return [int(row[0]) for row in rows]


def kafka_mode(server: LiveServer, broker: KafkaBroker, prefix: str | None = None) -> LiveServer:
    """`server` set up to run against the session's broker: its credentials and a topic prefix
    of its own (`prefix`: shared by servers that are one deployment); a read waits up to 30 s
    for the projector. Start `KafkaServices` beside it."""
    server.settings.update(
        {
            "kafka_bootstrap": broker.bootstrap,
            "kafka_username": broker.service_user,
            "kafka_password": broker.service_password,
            "kafka_sasl_mechanism": broker.mechanism,
            "kafka_security_protocol": broker.security_protocol,
            "kafka_topic_prefix": prefix or broker.topic(f"live{uuid.uuid4().hex[:8]}"),
            "read_wait_seconds": "30",
        }
    )
    return server


@dataclass
class KafkaServices:
    """`ruskontrakt relay` and `ruskontrakt project` for a Kafka-mode server, as subprocesses
    with the server's settings; stopped with SIGTERM."""

    server: LiveServer
    commands: tuple[str, ...] = ("relay", "project")
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> KafkaServices:
        for command in self.commands:
            with (self.server.workdir / f"{command}-{self.server.port}.log").open("ab") as out:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "infra.cli", command],
                        cwd=self.server.workdir,
                        env=self.server.env(),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
        return self

    def running(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.processes.clear()

    def log_tail(self, lines: int = 40) -> str:
        tails = []
        for command in self.commands:
            log = self.server.workdir / f"{command}-{self.server.port}.log"
            tails.append(f"--- {command} ---\n{tail(log, lines)}")
        return "\n".join(tails)
