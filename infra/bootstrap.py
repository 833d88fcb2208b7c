"""The one place where the service is wired together. Tests inject through `build`.

Everything is built in dependency order and handed its collaborators by constructor:
the stores, the applications (commands), the queries, the auditor's and the data
subject's use cases, the agency streams. The edges (`infra/api/`, `infra/cli*.py`) only
ever call methods of what `Container` holds.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from domain.municipalities import MunicipalityRegister
from domain.permissions import CONTRACT_QUERIES, PREVENTION_QUERIES
from domain.policy import Track
from domain.rules import Rules
from infra.api.rate_limit import RateLimit
from infra.auth import Principal, TokenService
from infra.db.access_grants import AccessGrants
from infra.db.access_log import AccessLog
from infra.db.case_news import CaseNews
from infra.db.event_store import LockingFunctionRecorder
from infra.db.idempotency import IdempotencyStore
from infra.db.keystore import PostgresErasureSignal, SqlKeyStore
from infra.db.read_models import ReadModels
from infra.db.sql import Database
from infra.db.statistics import StatisticsStore
from infra.db.urls import eventsourcing_env, sqlite_path
from infra.forms_file import load_forms
from infra.register_file import load_register
from infra.rules_file import load_rules
from infra.settings import DEV_KEY_PEPPER, ConfigurationError, Settings
from services.access import AccessRecorder
from services.audit import Audit
from services.checkpoints import CheckpointLog, load_or_create_key
from services.context import Context
from services.contracts import ContractsApplication
from services.deadline_rules import RecomputeDeadlines
from services.erasure import Erasure, ErasureWatch
from services.explicit_access import ExplicitAccess
from services.keys import SubjectKeys, erased_among
from services.prevention import PreventionApplication
from services.projection_thread import ProjectionThread
from services.projector import InProcessProjection, Projector
from services.queries import CaseQueries, Freshness
from services.scheduler import DeadlineScheduler
from services.sealed_application import SealedApplication
from services.statistics import IntakeRegister, StatisticsProjection, StatisticsQueries
from services.stream_keys import StreamKeyRelease
from services.streams import AgencyStreams, MessageSource, in_process_source
from services.subject_access import SubjectAccess

log = logging.getLogger("ruskontrakt")


def _fixed(at: datetime) -> datetime:
    return at


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Embedded:
    """Embedded mode (no Kafka): the API process projects the notification logs itself,
    in the background after commands and in the foreground before reads."""

    projection: InProcessProjection
    background: ProjectionThread


@dataclass(frozen=True)
class Container:
    settings: Settings
    rules: Rules
    register: MunicipalityRegister
    clock: Callable[[], datetime]
    new_id: Callable[[], UUID]
    database: Database
    keys: SubjectKeys
    access_log: AccessLog
    access: AccessRecorder
    contracts: ContractsApplication
    prevention: PreventionApplication
    contract_queries: CaseQueries
    explicit_access: ExplicitAccess
    deadlines: DeadlineScheduler
    prevention_queries: CaseQueries
    audit: Audit
    subjects: SubjectAccess
    streams: AgencyStreams
    idempotency: IdempotencyStore
    tokens: TokenService
    rate_limit: RateLimit
    export_rate_limit: RateLimit
    checkpoints: CheckpointLog
    read_models: ReadModels
    erasure_watch: ErasureWatch
    embedded: Embedded | None
    # Equal-practice statistics and the intake register (docs/domain.md §10).
    statistics: StatisticsQueries
    intake: IntakeRegister

    @property
    def apps(self) -> list[SealedApplication]:
        return [self.contracts, self.prevention]

    @property
    def projection(self) -> InProcessProjection | None:
        return self.embedded.projection if self.embedded else None

    def context(self, principal: Principal, shows_view: bool = True) -> Context:
        """What a use case is told about an authenticated caller: who, when, under which rules."""
        return Context(
            sub=principal.sub,
            agency=principal.agency,
            at=self.clock(),
            rules=self.rules,
            register=self.register,
            forms=self.statistics.forms,
            unit=principal.unit,
            role=principal.role,
            shows_view=shows_view,
        )

    @functools.cached_property
    def stream_keys(self) -> StreamKeyRelease:
        """Key release for the units' own consumers of their topics (docs/streams.md)."""
        queries = [self.contract_queries, self.prevention_queries]
        return StreamKeyRelease(queries, self.keys, self.access, self.settings.key_cache_seconds)

    @functools.cached_property
    def case_news(self) -> CaseNews | None:
        """The saves of every process, heard by this one's cached cases so they catch up
        before a command (PostgreSQL; `infra/db/case_news.py`). Started by the API server
        (`infra/serving.py`), whose caches two processes on one port make stale: the
        relay, the projector and the command line keep no cases between commands."""
        channels = {
            app.recorder.cases_channel: app.live.note_stored
            for app in self.apps
            if isinstance(app.recorder, LockingFunctionRecorder)
        }
        return CaseNews(self.database.url, channels) if channels else None

    def projector(self, consumer: str) -> Projector:
        return Projector(self.apps, self.read_models, self.keys, self.rules, consumer)

    def close(self) -> None:
        self.erasure_watch.close()
        news = self.__dict__.get("case_news")  # only if this process listened
        if news is not None:
            news.close()
        self.statistics.close()
        if self.embedded is not None:
            self.embedded.background.close()
        self.contracts.close()
        self.prevention.close()
        keystore = self.keys.store
        if isinstance(keystore, SqlKeyStore) and keystore.db is not self.database:
            keystore.db.close()
        self.database.close()


def _pepper(settings: Settings) -> bytes:
    if settings.key_pepper:
        return settings.key_pepper.encode()
    if not settings.development:
        raise ConfigurationError(
            "set RUSKONTRAKT_KEY_PEPPER (a long random secret): the built-in development pepper is "
            "only used on a loopback RUSKONTRAKT_HOST with the embedded SQLite store and no Kafka"
        )
    log.warning("development: national ids are pseudonymised with the DEVELOPMENT pepper")
    return DEV_KEY_PEPPER.encode()


def _keystore(settings: Settings, database: Database) -> SqlKeyStore:
    """The keys apart from the data they unlock: the configured keystore database, or with
    SQLite a file of its own beside the others (a copy of the data files alone opens nothing);
    on PostgreSQL without a keystore URL, the same database."""
    if settings.keystore_url:
        return SqlKeyStore(Database(settings.keystore_url))
    if database.postgres:
        return SqlKeyStore(database)
    store = SqlKeyStore(Database(f"sqlite:///{sqlite_path(settings.database_url, 'keys')}"))
    if moved := store.move_from(database):
        log.info("moved %d data key(s) out of the database into their own keystore file", moved)
    return store


def _forget_erased(
    keys: SubjectKeys, read_models: ReadModels, idempotency: IdempotencyStore, case_ids: list[str]
) -> None:
    """Of the cases an erasure notice names, those whose key is gone leave the read models
    and stored responses (the erasing process did so already; this catches what a command
    answered in the moment of the erasure may have written since)."""
    erased = erased_among(keys, case_ids)
    if erased:
        read_models.forget_cases(erased)
        idempotency.purge_cases(erased)


def _compact(database: Database, keystore: Database) -> None:
    """After an erasure: rewrite the tables that held the deleted key and stored responses."""
    if keystore is database:
        database.compact(["subject_keys", "idempotency_keys"])
    else:
        database.compact(["idempotency_keys"])
        keystore.compact(["subject_keys"])


def _events_table(app: SealedApplication) -> tuple[str, str]:
    """(schema, table) of the application's events on PostgreSQL."""
    from eventsourcing.postgres import PostgresApplicationRecorder

    recorder = app.recorder  # eventsourcing's PostgreSQL recorder, or this project's subclass
    assert isinstance(recorder, PostgresApplicationRecorder)
    return recorder.datastore.schema, recorder.events_table_name


def build(settings: Settings | None = None, clock: Callable[[], datetime] | None = None) -> Container:
    settings = settings or Settings()
    # The secrets first: a setting that would make the service unsafe stops it before it
    # creates or opens anything.
    tokens = TokenService(settings)
    pepper = _pepper(settings)
    rules = load_rules(settings.rules_file)
    register = load_register(settings.municipality_register)
    forms = load_forms(settings.evaluation_forms)
    if settings.reuse_port and settings.kafka_bootstrap is None:
        # Embedded mode projects in the API process itself: a second one would project the
        # same store again, and answer reads from a projection the other is writing.
        raise ConfigurationError("RUSKONTRAKT_REUSE_PORT needs Kafka mode (RUSKONTRAKT_KAFKA_BOOTSTRAP)")
    if clock is None and settings.fake_now is not None:
        log.warning("RUSKONTRAKT_FAKE_NOW: this process takes %s as now (tests only)", settings.fake_now)
        clock = functools.partial(_fixed, settings.fake_now)
    database = Database(settings.database_url)
    keystore = _keystore(settings, database)
    keys = SubjectKeys(keystore, pepper, settings.key_cache_seconds)
    # The access log lives in the events' database: on PostgreSQL a command's answer is
    # logged in the statement that stores its events; on SQLite right after the commit.
    access_log = AccessLog(database)
    access = AccessRecorder(access_log, keys.subject_of_case, keys.subjects_of_cases)
    # Embedded mode's projector runs in the background, woken by every commit.
    saved = threading.Event() if settings.kafka_bootstrap is None else None

    def application(cls: type[SealedApplication], name: str) -> SealedApplication:
        return cls(
            eventsourcing_env(settings.database_url, name, settings.pg_insert_function),
            keys,
            access,
            rules,
            settings.live_cases,
            group_commit=settings.group_commit,
            on_saved=saved.set if saved is not None else None,
        )

    contracts = application(ContractsApplication, "contracts")
    prevention = application(PreventionApplication, "prevention")
    assert isinstance(contracts, ContractsApplication) and isinstance(prevention, PreventionApplication)
    apps = [contracts, prevention]
    read_models = ReadModels(database)
    grants = AccessGrants(database)
    explicit = ExplicitAccess(contracts, grants, access, settings.explicit_access_hours)
    idempotency = IdempotencyStore(database, keys)

    embedded = None
    source: MessageSource
    if saved is not None:
        projector = Projector(apps, read_models, keys, rules, "in-process")
        projection = InProcessProjection(projector, apps, settings.relay_gap_timeout_seconds)
        embedded = Embedded(projection, ProjectionThread(projection, wake=saved))
        source = in_process_source(apps, keys)
    else:
        from infra.kafka.agency_stream import kafka_source

        source = kafka_source(settings)
    freshness = Freshness(
        read_models,
        embedded.projection.current if embedded else None,
        settings.read_wait_seconds,
        embedded.projection.applied if embedded else None,
    )
    if embedded and database.postgres:
        # One database, a table per application (infra/db/urls.py): a read sees its log's
        # end in its own statement, and needs no look of its own (Freshness.read).
        read_models.follow_logs({a.track.value: _events_table(a) for a in apps})
    if keystore.db is database:
        read_models.log_reads()  # the subjects of the entries are read in the same statement

    # Erasures, whichever process makes them: the key store's notices reach every holder of
    # plaintext in this process (projectors and routers listen by themselves), and the rows
    # a command in the moment of the erasure may have projected again are dropped again.
    for app in apps:
        keys.on_erased(app.live.forget)
    keys.on_erased(functools.partial(_forget_erased, keys, read_models, idempotency))
    # Who renders the read models again when a guardian is erased: this process's projector,
    # or with Kafka one that only does that.
    renderer = (
        embedded.projection.projector if embedded else Projector(apps, read_models, keys, rules, "erasure")
    )
    statistics_store = StatisticsStore(database)
    statistics_projection = StatisticsProjection(
        apps, statistics_store, keys, settings.relay_gap_timeout_seconds, forms
    )
    intake = IntakeRegister(statistics_store, keys, contracts, uuid.uuid4)
    erasure = Erasure(
        keys,
        [(contracts, settings.retention_contract_days), (prevention, settings.retention_prevention_days)],
        [idempotency.purge_cases, read_models.forget_cases, grants.forget_cases],
        compact=functools.partial(_compact, database, keystore.db),
        on_mentions_erased=[idempotency.purge_cases, renderer.refresh],
        also_expired=[intake.expired(settings.retention_contract_days)],
    )
    signal = PostgresErasureSignal(keystore.db.url) if keystore.db.postgres else None
    erasure_watch = ErasureWatch(keys, settings.erasure_poll_seconds, signal)
    checkpoints = CheckpointLog(settings.checkpoint_file, load_or_create_key(settings.checkpoint_key_file))
    log.info(
        "event store %s, %s, rules %s, municipality register %s",
        "PostgreSQL" if database.postgres else "SQLite",
        f"Kafka at {settings.kafka_bootstrap}" if settings.kafka_bootstrap else "in-process events",
        rules.version,
        register.version,
    )
    return Container(
        settings=settings,
        rules=rules,
        register=register,
        clock=clock or utc_now,
        new_id=uuid.uuid4,
        database=database,
        keys=keys,
        access_log=access_log,
        access=access,
        contracts=contracts,
        prevention=prevention,
        contract_queries=CaseQueries(
            Track.CONTRACT, CONTRACT_QUERIES, read_models, keys, access, freshness, rules, explicit
        ),
        explicit_access=explicit,
        deadlines=DeadlineScheduler(
            contracts,
            read_models,
            rules,
            register,
            clock or utc_now,
            embedded.projection.catch_up if embedded else None,
            RecomputeDeadlines(read_models, renderer.refresh, rules),
        ),
        prevention_queries=CaseQueries(
            Track.PREVENTION, PREVENTION_QUERIES, read_models, keys, access, freshness, rules
        ),
        audit=Audit(contracts, apps, keys, access, checkpoints),
        subjects=SubjectAccess(contracts, prevention, keys, access, erasure, intake.export),
        streams=AgencyStreams(source, keys, access, settings.streams_per_user, settings.streams_total),
        idempotency=idempotency,
        tokens=tokens,
        rate_limit=RateLimit(settings.rate_per_minute),
        export_rate_limit=RateLimit(settings.exports_per_minute),
        checkpoints=checkpoints,
        read_models=read_models,
        erasure_watch=erasure_watch,
        embedded=embedded,
        statistics=StatisticsQueries(
            statistics_projection,
            statistics_store,
            register,
            settings.small_cell_threshold,
            rules.version,
            forms,
            wait_seconds=settings.statistics_wait_seconds,
        ),
        intake=intake,
    )
