"""Turning `RUSKONTRAKT_DATABASE_URL` into eventsourcing's environment and SQL connections."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str, suffix: str = "") -> Path:
    """`sqlite:///var/x.sqlite` is relative to the working directory, `sqlite:////abs` absolute."""
    path = Path(url.removeprefix("sqlite:///"))
    if suffix:
        path = path.with_name(f"{path.stem}-{suffix}{path.suffix or '.sqlite'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def eventsourcing_env(url: str, app_name: str, insert_function: bool = True) -> dict[str, str]:
    """One SQLite file per application (no writer contention between tracks), or one
    PostgreSQL database with a table per application (`contracts_events`, ...).

    No aggregate cache here: commands keep their cases in `services/live_cases.py`."""
    if is_postgres(url):
        parts = urlparse(url)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_MAX_OVERFLOW": "20",
            "CREATE_TABLE": "y",
        }
        if insert_function:  # one round trip per save, with the table lock (infra/db/event_store.py)
            env["POSTGRES_ENABLE_DB_FUNCTIONS"] = "y"
            env["APPLICATION_RECORDER_TOPIC"] = "infra.db.event_store:LockingFunctionRecorder"
        return env
    if url.startswith("sqlite"):
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(sqlite_path(url, app_name)),
            "SQLITE_LOCK_TIMEOUT": "10",
            "CREATE_TABLE": "y",
        }
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://")
