"""Shared fixtures: the service wired through `infra.bootstrap` on SQLite and PostgreSQL.

Every test that takes `api` runs twice, once per backend. PostgreSQL comes from the
project's own script (tests/servers.py); when it cannot start, those tests fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.values import Agency
from infra.api.app import create_app
from infra.bootstrap import Container, build
from infra.settings import Settings
from tests.units import role_of, unit_of

pytest_plugins = ["tests.servers"]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Api:
    """A test client that speaks as one agency at a time."""

    def __init__(self, client: TestClient, container: Container, clock: Clock) -> None:
        self.client, self.container, self.clock = client, container, clock

    def token(
        self, agency: Agency | str, sub: str | None = None, unit: str | None = None, role: str | None = None
    ) -> str:
        """A token of the agency's unit related to the standard test case unless `unit` names another."""
        agency = Agency(agency)
        return self.container.tokens.issue(
            agency, sub or f"{agency.value}-user", unit or unit_of(agency), role or role_of(agency)
        )

    def unit(
        self, agency: Agency | str, unit: str | None, role: str | None = None, sub: str | None = None
    ) -> dict[str, str]:
        """The headers of a user of another unit than the standard test case's."""
        agency = Agency(agency)
        token = self.container.tokens.issue(
            agency, sub or f"{agency.value}-{unit}", unit, role or role_of(agency)
        )
        return {"Authorization": f"Bearer {token}"}

    def headers(self, agency: Agency | str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(agency)}", **extra}

    def post(
        self, agency: Agency | str, path: str, body: dict[str, Any] | None = None, **headers: str
    ) -> Any:
        return self.client.post(path, json=body, headers=self.headers(agency, **headers))

    def get(self, agency: Agency | str, path: str, **headers: str) -> Any:
        return self.client.get(path, headers=self.headers(agency, **headers))


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 9, 10, 8, 0, tzinfo=UTC))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ruskontrakt.sqlite"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


def settings_for_tests(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret="test-secret-that-is-long-enough-for-hs256",
        key_pepper="test-pepper",
        kafka_bootstrap=None,
        checkpoint_file=tmp_path / "checkpoints.jsonl",
        checkpoint_key_file=tmp_path / "checkpoint-key.pem",
        **overrides,
    )


@pytest.fixture
def container(database_url: str, clock: Clock, tmp_path: Path) -> Iterator[Container]:
    container = build(settings_for_tests(database_url, tmp_path), clock=clock)
    yield container
    container.close()


@pytest.fixture
def api(container: Container, clock: Clock) -> Iterator[Api]:
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield Api(client, container, clock)
