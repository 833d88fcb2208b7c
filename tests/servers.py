"""Pytest plugin: the real Apache Kafka broker and PostgreSQL server for integration tests.

Register it with ``pytest_plugins = ["tests.servers"]`` (tests/conftest.py) or ``-p tests.servers``.

Fixtures
--------
``kafka_broker`` (session)
    A :class:`KafkaBroker`. Starts the development broker with ``infra/kafka/kafka.sh up`` unless
    ``RUSKONTRAKT_KAFKA_BOOTSTRAP`` points at a reachable broker (then its credentials come from
    the ``RUSKONTRAKT_KAFKA_*`` settings). Topic names of a test run start with ``run_id``.
``postgres_url`` (session)
    URL of a fresh database created for this test run (``rk_test_<run_id>``), dropped at the end.
    The server is ``RUSKONTRAKT_DATABASE_URL`` when that is a reachable postgresql URL, otherwise
    the private development cluster started by ``infra/db/pg.sh up``.
``fresh_postgres_url`` (function)
    URL of a new, empty database for one test, dropped afterwards.

When a server cannot be started or reached the fixture calls ``pytest.fail`` with the tail of
the server log: these tests never skip. Servers are left running after the session (the next
run reuses them; ``infra/kafka/kafka.sh down`` / ``infra/db/pg.sh down`` stop them) unless
``RUSKONTRAKT_STOP_SERVERS=1``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
KAFKA_SH = REPO / "infra" / "kafka" / "kafka.sh"
PG_SH = REPO / "infra" / "db" / "pg.sh"

AGENCIES = (
    "prosecution",
    "police",
    "konfliktrad",
    "municipal_health",
    "gp",
    "child_welfare",
    "school",
    "county",
    "auditor",
)
#: Development credentials created by infra/kafka/kafka.sh (public; never used in production).
DEV_AGENCY_CREDENTIALS = {agency: f"{agency}-secret" for agency in AGENCIES}
DEV_ADMIN_USER = "admin"
DEV_ADMIN_PASSWORD = "admin-secret"

# Generous: the first run downloads the broker (about 45 MB) from Maven Central.
SCRIPT_TIMEOUT_S = 900


def _ephemeral_ports() -> range:
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default
    return range(low, high + 1)


def free_port() -> int:
    """A loopback port no one listens on, outside the kernel's ephemeral range.

    A port from ``bind(0)`` is an ephemeral one: while a test's server is down (a broker
    killed and started again), any outgoing connection may be given it as its local port,
    and the restart then fails with "address already in use". Below the range that cannot
    happen; the random start keeps parallel runs apart.
    """
    ephemeral = _ephemeral_ports()
    start = secrets.randbelow(10000)
    for offset in range(10000):  # 20000-29999: clear of the development servers' 15432, 19092-3
        port = 20000 + (start + offset) % 10000
        if port in ephemeral:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port in 20000-29999")


def _new_run_id() -> str:
    # lower-case letters and digits only: valid in topic, group and database names
    return "rk" + time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)


RUN_ID = _new_run_id()


def _var_dir() -> Path:
    return Path(os.environ.get("RUSKONTRAKT_VAR") or REPO / "var")


def tail(path: Path, lines: int = 60) -> str:
    """The last lines of a log, for a failure message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(cannot read {path}: {exc})"


def _stop_servers_requested() -> bool:
    return os.environ.get("RUSKONTRAKT_STOP_SERVERS", "").strip().lower() in {"1", "true", "yes"}


def _run_script(script: Path, *args: str, log: Path, what: str) -> str:
    """Run one of the infra scripts; pytest.fail with its output and the server log tail."""
    try:
        proc = subprocess.run(
            ["bash", str(script), *args],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = "".join(
            o.decode(errors="replace") if isinstance(o, bytes) else (o or "")
            for o in (exc.stdout, exc.stderr)
        )
        pytest.fail(
            f"{what}: `{script.relative_to(REPO)} {' '.join(args)}` did not finish within "
            f"{SCRIPT_TIMEOUT_S}s.\n--- output ---\n{output}\n"
            f"--- {log} (tail) ---\n{tail(log)}",
            pytrace=False,
        )
    if proc.returncode != 0:
        pytest.fail(
            f"{what}: `{script.relative_to(REPO)} {' '.join(args)}` exited {proc.returncode}.\n"
            f"--- output ---\n{proc.stdout}{proc.stderr}\n--- {log} (tail) ---\n{tail(log)}",
            pytrace=False,
        )
    return proc.stdout


def _port_reachable(hostport: str, timeout: float = 2.0) -> bool:
    first = hostport.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------------------- Kafka


@dataclass(frozen=True)
class KafkaBroker:
    """Connection facts of the test broker plus kafka-python constructors configured for SASL."""

    bootstrap: str
    service_user: str
    service_password: str
    mechanism: str
    security_protocol: str
    agency_credentials: dict[str, str]
    run_id: str
    admin_user: str = DEV_ADMIN_USER
    admin_password: str = DEV_ADMIN_PASSWORD
    _clients: list[Any] = field(default_factory=list, repr=False, compare=False)

    def topic(self, name: str) -> str:
        """A topic name private to this test run: ``<run_id>.<name>``."""
        return f"{self.run_id}.{name}"

    def client_config(self, agency: str | None = None, *, admin: bool = False) -> dict[str, Any]:
        """kafka-python connection settings as the service principal, an agency, or admin."""
        if admin:
            user, password = self.admin_user, self.admin_password
        elif agency is None:
            user, password = self.service_user, self.service_password
        else:
            try:
                user, password = agency, self.agency_credentials[agency]
            except KeyError:
                raise ValueError(
                    f"unknown agency {agency!r}; known: {sorted(self.agency_credentials)}"
                ) from None
        return {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": user,
            "sasl_plain_password": password,
        }

    def _track(self, client: Any) -> Any:
        self._clients.append(client)
        return client

    def admin_client(self, agency: str | None = None, **kw: Any) -> Any:
        """A ``KafkaAdminClient`` (service principal, a super user, unless ``agency`` is given)."""
        from kafka import KafkaAdminClient

        config = {**self.client_config(agency), "client_id": f"{self.run_id}-admin", **kw}
        return self._track(KafkaAdminClient(**config))

    def producer(self, agency: str | None = None, **kw: Any) -> Any:
        """A ``KafkaProducer`` (service principal unless ``agency`` is given)."""
        from kafka import KafkaProducer

        config = {**self.client_config(agency), "client_id": f"{self.run_id}-producer", **kw}
        return self._track(KafkaProducer(**config))

    def consumer(self, *topics: str, agency: str | None = None, **kw: Any) -> Any:
        """A ``KafkaConsumer`` subscribed to ``topics`` (service principal unless ``agency``)."""
        from kafka import KafkaConsumer

        config = {
            **self.client_config(agency),
            "client_id": f"{self.run_id}-consumer",
            "auto_offset_reset": "earliest",
            **kw,
        }
        return self._track(KafkaConsumer(*topics, **config))

    def close_clients(self) -> None:
        while self._clients:
            client = self._clients.pop()
            with contextlib.suppress(Exception):  # best effort at teardown
                client.close()

    def delete_run_topics(self) -> None:
        """Delete every topic of this test run (best effort)."""
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(**self.client_config(), client_id=f"{self.run_id}-cleanup")
        try:
            mine = [t for t in admin.list_topics() if t.startswith(self.run_id + ".")]
            if mine:
                admin.delete_topics(mine)
        finally:
            admin.close()


def _kafka_from_env() -> KafkaBroker | None:
    bootstrap = os.environ.get("RUSKONTRAKT_KAFKA_BOOTSTRAP")
    if not bootstrap:
        return None
    if not _port_reachable(bootstrap):
        print(f"\nRUSKONTRAKT_KAFKA_BOOTSTRAP={bootstrap} is not reachable; using the dev broker")
        return None
    from infra.settings import Settings

    s = Settings()
    return KafkaBroker(
        bootstrap=bootstrap,
        service_user=s.kafka_username,
        service_password=s.kafka_password,
        mechanism=s.kafka_sasl_mechanism,
        security_protocol=s.kafka_security_protocol,
        agency_credentials=dict(DEV_AGENCY_CREDENTIALS),
        run_id=RUN_ID,
    )


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaBroker]:
    broker = _kafka_from_env()
    started_here = broker is None
    log = _var_dir() / "kafka" / "server.log"
    if broker is None:
        _run_script(KAFKA_SH, "up", log=log, what="the Kafka broker did not start")
        port = os.environ.get("RUSKONTRAKT_KAFKA_PORT", "19092")
        broker = KafkaBroker(
            bootstrap=f"127.0.0.1:{port}",
            service_user="ruskontrakt",
            service_password="ruskontrakt-secret",
            mechanism="SCRAM-SHA-512",
            security_protocol="SASL_PLAINTEXT",
            agency_credentials=dict(DEV_AGENCY_CREDENTIALS),
            run_id=RUN_ID,
        )
    try:
        yield broker
    finally:
        broker.close_clients()
        try:
            broker.delete_run_topics()
        except Exception as exc:  # cleanup must not mask test results
            print(f"\nkafka_broker: could not delete the topics of run {RUN_ID}: {exc!r}")
        if started_here and _stop_servers_requested():
            subprocess.run(["bash", str(KAFKA_SH), "down"], cwd=REPO, check=False)


# --------------------------------------------------------------------------------------- PostgreSQL


def postgres_env(url: str) -> dict[str, str]:
    """The settings of eventsourcing's ``eventsourcing.postgres`` module for ``url``."""
    parts = urlsplit(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }


def _with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def _libpq_url(url: str) -> str:
    # psycopg does not know SQLAlchemy-style schemes such as postgresql+psycopg://
    scheme, sep, rest = url.partition("://")
    return ("postgresql" + sep + rest) if scheme.startswith("postgres") else url


@dataclass
class PostgresServer:
    """The server the test databases are created on (a maintenance-database URL)."""

    url: str
    started_here: bool
    _counter: Iterator[int] = field(default_factory=itertools.count)

    def _admin_execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(_libpq_url(self.url), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def create_database(self, name: str) -> str:
        self._admin_execute(f'CREATE DATABASE "{name}"')
        return _with_dbname(self.url, name)

    def drop_database(self, name: str) -> None:
        self._admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def next_name(self) -> str:
        return f"rk_test_{RUN_ID}_{next(self._counter)}"


def _postgres_log() -> Path:
    return _var_dir() / "pg" / "server.log"


def _external_postgres_url() -> str | None:
    url = os.environ.get("RUSKONTRAKT_DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres:")):
        return None
    import psycopg

    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        print(f"\nRUSKONTRAKT_DATABASE_URL is not reachable ({exc}); using the dev cluster")
        return None
    return _libpq_url(url)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    external = _external_postgres_url()
    if external is not None:
        server = PostgresServer(url=external, started_here=False)
    else:
        _run_script(PG_SH, "up", log=_postgres_log(), what="PostgreSQL did not start")
        url = _run_script(PG_SH, "url", log=_postgres_log(), what="pg.sh url").strip()
        server = PostgresServer(url=url, started_here=True)
    try:
        yield server
    finally:
        if server.started_here and _stop_servers_requested():
            subprocess.run(["bash", str(PG_SH), "down"], cwd=REPO, check=False)


def _create_or_fail(server: PostgresServer, name: str) -> str:
    import psycopg

    try:
        return server.create_database(name)
    except psycopg.Error as exc:
        pytest.fail(
            f"cannot create database {name} on {server.url}: {exc}\n"
            f"--- {_postgres_log()} (tail) ---\n{tail(_postgres_log())}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    name = f"rk_test_{RUN_ID}"
    url = _create_or_fail(postgres_server, name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.next_name()
    url = _create_or_fail(postgres_server, name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)
