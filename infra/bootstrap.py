"""The one place where the service is wired together. Tests inject through `build`."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from domain.rules import Rules
from infra.auth import TokenService
from infra.db.idempotency import IdempotencyStore
from infra.db.sql import Database
from infra.db.urls import eventsourcing_env
from infra.rules_file import load_rules
from infra.settings import Settings
from services.contracts import ContractsApplication
from services.prevention import PreventionApplication

log = logging.getLogger("ruskontrakt")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    rules: Rules
    contracts: ContractsApplication
    prevention: PreventionApplication
    database: Database
    idempotency: IdempotencyStore
    tokens: TokenService
    clock: Callable[[], datetime] = field(default=utc_now)
    new_id: Callable[[], UUID] = field(default=uuid.uuid4)

    def close(self) -> None:
        self.contracts.close()
        self.prevention.close()
        self.database.close()


def build(settings: Settings | None = None, clock: Callable[[], datetime] | None = None) -> Container:
    settings = settings or Settings()
    rules = load_rules(settings.rules_file)
    contracts = ContractsApplication(env=eventsourcing_env(settings.database_url, "contracts"))
    contracts.rules = rules
    prevention = PreventionApplication(env=eventsourcing_env(settings.database_url, "prevention"))
    database = Database(settings.database_url)
    log.info(
        "event store %s, %s, rules %s",
        "PostgreSQL" if database.postgres else "SQLite",
        f"Kafka at {settings.kafka_bootstrap}" if settings.kafka_bootstrap else "in-process events",
        rules.version,
    )
    return Container(
        settings=settings,
        rules=rules,
        contracts=contracts,
        prevention=prevention,
        database=database,
        idempotency=IdempotencyStore(database),
        tokens=TokenService(settings),
        clock=clock or utc_now,
    )
