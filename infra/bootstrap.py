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
from infra.db.access_log import AccessLog
from infra.db.idempotency import IdempotencyStore
from infra.db.keystore import SqlKeyStore
from infra.db.read_models import ReadModels
from infra.db.sql import Database
from infra.db.urls import eventsourcing_env
from infra.rules_file import load_rules
from infra.settings import DEV_KEY_PEPPER, Settings
from services.background_catch_up import BackgroundCatchUp
from services.checkpoints import CheckpointLog, load_or_create_key
from services.contracts import ContractsApplication
from services.keys import SubjectKeys
from services.prevention import PreventionApplication
from services.projector import LogFeeder, Projector
from services.store import SealedApplication

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
    keys: SubjectKeys
    access_log: AccessLog
    checkpoints: CheckpointLog
    clock: Callable[[], datetime] = field(default=utc_now)
    # Called with the ids of erased cases so every read model can drop its copies.
    erasure_hooks: list[Callable[[list[str]], None]] = field(default_factory=list)
    new_id: Callable[[], UUID] = field(default=uuid.uuid4)
    read_models: ReadModels | None = None
    # Embedded mode (no Kafka): the API process projects the notification logs itself,
    # in the background after commands and in the foreground before reads.
    feeder: LogFeeder | None = None
    background: BackgroundCatchUp | None = None

    @property
    def apps(self) -> list[SealedApplication]:
        return [self.contracts, self.prevention]

    def projector(self, consumer: str) -> Projector:
        assert self.read_models is not None
        return Projector(self.apps, self.read_models, self.keys, self.rules, consumer)

    def close(self) -> None:
        if self.background is not None:
            self.background.close()
        self.contracts.close()
        self.prevention.close()
        self.database.close()


def _pepper(settings: Settings) -> bytes:
    if settings.key_pepper:
        return settings.key_pepper.encode()
    if not settings.embedded:
        raise ValueError("RUSKONTRAKT_KEY_PEPPER is required outside embedded mode")
    log.warning("embedded mode: national ids are pseudonymised with the DEVELOPMENT pepper")
    return DEV_KEY_PEPPER.encode()


def build(settings: Settings | None = None, clock: Callable[[], datetime] | None = None) -> Container:
    settings = settings or Settings()
    rules = load_rules(settings.rules_file)
    database = Database(settings.database_url)
    keystore_db = Database(settings.keystore_url) if settings.keystore_url else database
    keys = SubjectKeys(SqlKeyStore(keystore_db), _pepper(settings), settings.key_cache_seconds)
    fast = settings.pg_insert_function
    contracts = ContractsApplication(
        eventsourcing_env(settings.database_url, "contracts", fast), keys, rules, settings.live_cases
    )
    prevention = PreventionApplication(
        eventsourcing_env(settings.database_url, "prevention", fast), keys, rules, settings.live_cases
    )
    if settings.group_commit:
        contracts.enable_group_commit()
        prevention.enable_group_commit()
    # The access log lives in the events' database: on PostgreSQL a command's answer is
    # logged in the statement that stores its events; on SQLite right after the commit.
    access_log = AccessLog(database)
    for app in (contracts, prevention):
        app.log_separately = access_log.record
    log.info(
        "event store %s, %s, rules %s",
        "PostgreSQL" if database.postgres else "SQLite",
        f"Kafka at {settings.kafka_bootstrap}" if settings.kafka_bootstrap else "in-process events",
        rules.version,
    )
    container = Container(
        keys=keys,
        access_log=access_log,
        settings=settings,
        rules=rules,
        contracts=contracts,
        prevention=prevention,
        database=database,
        idempotency=IdempotencyStore(database, keys),
        tokens=TokenService(settings),
        checkpoints=CheckpointLog(settings.checkpoint_file, load_or_create_key(settings.checkpoint_key_file)),
        clock=clock or utc_now,
        read_models=ReadModels(database),
    )
    assert container.read_models is not None
    container.erasure_hooks.append(container.read_models.forget_cases)
    for app in container.apps:
        container.erasure_hooks.append(app.live.forget)
    if settings.kafka_bootstrap is None:
        projector = container.projector("in-process")
        container.erasure_hooks.append(projector.forget)
        container.feeder = LogFeeder(projector, container.apps, settings.relay_gap_timeout_seconds)
        container.background = BackgroundCatchUp(container.feeder)
        for app in container.apps:
            app.after_save.append(container.background.kick)
    return container
