"""Every setting of the service, read from `RUSKONTRAKT_*` environment variables.

This is the only module that reads the environment; everything else receives a
`Settings` through `infra.bootstrap`. The README's settings table is generated from
the field descriptions here (`ruskontrakt settings --markdown`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import AwareDatetime, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "ruskontrakt-embedded-dev-secret-not-for-production"
DEV_KEY_PEPPER = "ruskontrakt-embedded-dev-pepper-not-for-production"
# The built-in development secret and pepper are published in this repository: they are
# used only where nobody else can reach the service.
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class ConfigurationError(ValueError):
    """The settings cannot run a safe service; the message (one line) names what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RUSKONTRAKT_", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/ruskontrakt.sqlite",
        description="Event store and read models: `sqlite:///path/file.sqlite` (embedded "
        "default) or `postgresql://user:password@host:port/dbname`.",
    )
    kafka_bootstrap: str | None = Field(
        None,
        description="Kafka bootstrap servers (`host:port`). Unset: embedded in-process "
        "event distribution, no broker needed.",
    )
    kafka_username: str = Field("ruskontrakt", description="SASL user of the service principal.")
    kafka_password: str = Field("ruskontrakt-secret", description="SASL password of the service principal.")
    kafka_sasl_mechanism: str = Field("SCRAM-SHA-512", description="SASL mechanism of the broker.")
    kafka_security_protocol: str = Field("SASL_PLAINTEXT", description="Kafka security protocol.")
    kafka_topic_prefix: str = Field(
        "ruskontrakt",
        description="Prefix of every topic: `<prefix>.contracts`, `<prefix>.prevention`, "
        "`<prefix>.agency.<agency>.<unit>` (one per unit), `<prefix>.agency.auditor`.",
    )
    kafka_replication_factor: int = Field(
        1, description="Replication factor of the topics the relay creates (1 for the dev broker)."
    )
    relay_gap_timeout_seconds: float = Field(
        5.0,
        description="How long a gap in a notification log may stay open before the relay skips "
        "it, for event stores that do not serialise their writers (see services/notification_reader.py).",
    )
    read_wait_seconds: float = Field(
        5.0,
        description="Longest time a query with `min_position` waits for the read models to reach "
        "a position (Kafka mode; embedded mode catches up before every read).",
    )
    jwt_secret: str | None = Field(
        None,
        description="HS256 secret for tokens, at least 32 bytes (e.g. `openssl rand -hex 32`). "
        "Unset: a built-in development secret, only when the service listens on loopback "
        "(`RUSKONTRAKT_HOST` 127.0.0.1, ::1 or localhost) with the embedded store (SQLite, no "
        "Kafka), announced in the log; anywhere else start-up stops unless this or a public key "
        "is set.",
    )
    jwt_public_key_file: Path | None = Field(
        None, description="PEM public key for RS256/ES256 token verification (production)."
    )
    jwt_jwks_file: Path | None = Field(
        None, description="JWKS file with the public keys for RS256/ES256 verification (production)."
    )
    jwt_max_ttl_seconds: int = Field(
        12 * 3600,
        ge=1,
        description="Longest lifetime a token may have: one whose `exp - iat` (or, without `iat`, "
        "`exp` - now) is longer is refused (401), and `ruskontrakt token --ttl` refuses to issue it.",
    )
    jwt_issuer: str | None = Field(
        None, description="When set, every token must carry this `iss` (and issued tokens do)."
    )
    jwt_audience: str | None = Field(
        None, description="When set, every token must carry this `aud` (and issued tokens do)."
    )
    rate_per_minute: int = Field(
        1200,
        ge=1,
        description="Requests one user (agency and `sub`) may make per minute; beyond, 429 with "
        "`Retry-After`.",
    )
    rules_file: Path | None = Field(
        None,
        description="YAML file with versioned stage (trinn) defaults and deadlines. Unset: the "
        "built-in defaults of docs/domain.md §5.",
    )
    fake_now: AwareDatetime | None = Field(
        None,
        description="Tests only: the instant every process takes as now (an aware ISO time), so a "
        "test can move the deadlines' clock; announced in the log. Unset: the real clock.",
    )
    deadline_interval_seconds: float = Field(
        60,
        ge=0,
        description="Seconds between the deadline scheduler's passes (`ruskontrakt deadlines`; in embedded "
        "mode `serve` runs it too). 0: `serve` does not run it.",
    )
    exports_per_minute: int = Field(
        30,
        ge=1,
        description="Subject-access exports one user may ask for per minute (beyond the general rate); "
        "429 with `Retry-After` beyond.",
    )
    explicit_access_hours: float = Field(
        24,
        gt=0,
        le=24 * 14,
        description="How long an explicit access (`POST /contracts/{id}/access-requests`) lasts.",
    )
    municipality_register: Path | None = Field(
        None,
        description="CSV file of the municipality register (number, name, county, police district, "
        "Conflict Council office; `#` header lines name its version, date and source). Unset: "
        "the register shipped with the service (domain/data/municipalities-2024.csv).",
    )
    evaluation_forms: Path | None = Field(
        None,
        description='JSON file of the evaluation forms (`{"forms": [...]}`: versions, roles, questions '
        "and answer types, as domain/data/evaluation-forms.json; docs/domain.md §10). It replaces the "
        "shipped forms whole: keep every version answers were given under. Unset: the shipped forms.",
    )
    keystore_url: str | None = Field(
        None,
        description="Database of the per-person data keys (crypto-shredding). Unset: with "
        "SQLite its own file beside the database (`var/ruskontrakt-keys.sqlite`), with PostgreSQL "
        "the same database as the read models. Keep it apart from event-store backups.",
    )
    key_pepper: str | None = Field(
        None,
        description="Secret that turns national ids into pseudonymous key-store references. "
        "Unset: a development pepper, only on loopback with the embedded store (as for "
        "`RUSKONTRAKT_JWT_SECRET`), announced in the log; anywhere else start-up stops.",
    )
    key_cache_seconds: float = Field(
        300.0,
        description="How long a process caches a person's data key at most. An erasure reaches "
        "other running processes much sooner, by its notice (`RUSKONTRAKT_ERASURE_POLL_SECONDS`); "
        "this bounds the cache should a notice be missed.",
    )
    erasure_poll_seconds: float = Field(
        0.25,
        gt=0,
        le=1.0,
        description="How often each process looks for erasures made by other processes (PostgreSQL "
        "also tells it at once by NOTIFY); it then drops their keys and every copy in memory.",
    )
    checkpoint_file: Path = Field(
        Path("var/checkpoints.jsonl"),
        description="Where signed chain-head checkpoints are appended. Copy it to storage the "
        "database administrators cannot rewrite (see docs/audit.md).",
    )
    checkpoint_key_file: Path = Field(
        Path("var/checkpoint-key.pem"),
        description="Ed25519 private key that signs checkpoints (created on first use).",
    )
    retention_contract_days: int = Field(
        5 * 365, description="Days after a contract's last event before its personal data is erased."
    )
    retention_prevention_days: int = Field(
        2 * 365,
        description="Days after a prevention case's last event before its personal data is erased "
        "(shorter than contracts).",
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1,
        description="Largest request body accepted; a larger one is answered 413 before it is read "
        "(a declared Content-Length at once, a chunked body at the chunk that crosses it).",
    )
    streams_per_user: int = Field(
        5,
        ge=1,
        description="Event streams (`GET /streams/{agency}`) one user may have open at once; 429 beyond.",
    )
    streams_total: int = Field(
        200, ge=1, description="Event streams the process keeps open at once in all; 429 beyond."
    )
    group_commit: bool = Field(
        True,
        description="Commit concurrent commands on different cases in one transaction "
        "(each still answered only after its own durable commit). 0 = one transaction each.",
    )
    pg_insert_function: bool = Field(
        True,
        description="PostgreSQL: save through the project's insert function (one round trip, the "
        "command's access-log entry in the same statement; needs the right to CREATE FUNCTION). "
        "0 = eventsourcing's own insert (about fourteen round trips per transaction, the access "
        "log in a transaction of its own).",
    )
    live_cases: int = Field(
        1000,
        ge=1,
        description="Cases per application a process keeps in memory between commands "
        "(aggregate and agency views; least recently used dropped first). Commands on these "
        "neither replay their history nor wait for the projector.",
    )
    host: str = Field("127.0.0.1", description="Address `ruskontrakt serve` listens on.")
    port: int = Field(8000, description="Port `ruskontrakt serve` listens on.")
    reuse_port: bool = Field(
        False,
        description="Let several `ruskontrakt serve` processes listen on the same host and port "
        "(Linux `SO_REUSEPORT`: the kernel spreads the connections over them). Meant for PostgreSQL "
        "with Kafka, where each process's cached cases are checked by the store on every save.",
    )
    log_level: str = Field("INFO", description="Python log level.")
    small_cell_threshold: int = Field(
        5, description="Statistics cells with fewer cases than this are suppressed."
    )
    statistics_wait_seconds: float = Field(
        10.0,
        ge=0,
        description="How long a statistics question waits for its table's suppression pattern to be "
        "computed after the counts changed; after that it is answered from the previous pattern "
        "(`computed_at` says when), or 503 with `Retry-After` when there is none yet.",
    )

    @property
    def embedded(self) -> bool:
        """Embedded mode: SQLite and no broker, the one-command newcomer set-up."""
        return self.kafka_bootstrap is None and self.database_url.startswith("sqlite")

    @property
    def development(self) -> bool:
        """Where the published development secret and pepper may be used: the embedded store,
        listening on loopback only (`ruskontrakt serve --host` overrides `host` first)."""
        return self.embedded and self.host in LOOPBACK


# What `ruskontrakt settings` shows of a secret: whether it is set, never its value.
SECRETS = frozenset({"jwt_secret", "key_pepper", "kafka_password"})
MASK = "********"


@dataclass(frozen=True)
class Shown:
    """One setting as `ruskontrakt settings` shows it: its variable, the value in effect
    (a secret masked) and where that value came from."""

    variable: str
    value: str
    source: str  # "environment" or "default"
    description: str


def variable(name: str) -> str:
    return f"{Settings.model_config.get('env_prefix', '')}{name}".upper()


def effective(settings: Settings, environ: Mapping[str, str] | None = None) -> list[Shown]:
    """Every setting's value in effect in `settings` and its source: the environment when its
    variable is set there (`environ`, by default this process's), else the default. Secrets
    and the passwords in database URLs are masked; an unset secret says what stands in."""
    names = {key.upper() for key in (os.environ if environ is None else environ)}
    shown = []
    for name, field in Settings.model_fields.items():
        env = variable(name)
        shown.append(
            Shown(
                env,
                _shown_value(name, getattr(settings, name), settings),
                "environment" if env in names else "default",
                field.description or "",
            )
        )
    return shown


def _shown_value(name: str, value: object, settings: Settings) -> str:
    if value is None:
        return f"(unset: {_stand_in(name, settings)})" if name in ("jwt_secret", "key_pepper") else "(unset)"
    if name in SECRETS:
        return MASK
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return str(value)


def _stand_in(name: str, settings: Settings) -> str:
    """What takes the place of an unset secret or pepper, as start-up decides (`infra/auth.py`,
    `infra/bootstrap.py`)."""
    if name == "jwt_secret" and (settings.jwt_public_key_file or settings.jwt_jwks_file):
        return "tokens are verified with the public key"
    if settings.development:
        return "the built-in development value (loopback, embedded store)"
    return "start-up stops"


def mask_url(url: str) -> str:
    """The URL with its password (if any) replaced by the mask."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return MASK  # not a URL we can read: show nothing of it
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}{port}"))
