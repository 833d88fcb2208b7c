"""What every benchmark shares: a fresh PostgreSQL database, settings, active contracts,
the one-line summary and the result dict that `bench.run_all` turns into BENCHMARKS.md.

Contracts are created through the application (the same calls the command routes make,
with bodies validated by the API's own schemas), not over HTTP: set-up is not what we
measure, and it has to fit in the two-minute budget of each script.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from stdnum.no import fodselsnummer

from domain.calendar import add_months, local_day
from domain.values import Actor, Agency
from infra.api.schemas import ConsentBody, MeetingBody, OfferBody, StartupBody, StartupHeldBody
from infra.bootstrap import Container, build
from infra.settings import Settings
from services.context import Context

REPO = Path(__file__).resolve().parent.parent
PG_SH = REPO / "infra" / "db" / "pg.sh"
JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256-signing"
KEY_PEPPER = "bench-pepper"

# The meeting of the brief: allowed again and again on an active contract, as konfliktrad.
MEETING = {
    "kind": "conversation",
    "held_at": "2026-10-25T14:00:00+02:00",
    "attended": True,
    "notes": "Samtale om skole og fritid; avtalt ny samtale om to uker.",
}
MEETING_JSON = json.dumps(MEETING).encode()


# ---------------------------------------------------------------- result and summary line


@dataclass
class Result:
    metric: str
    value: float
    unit: str
    baseline: float
    baseline_unit: str
    ratio: float
    target: str
    met: bool | None  # None: no target to meet (an informative figure)
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        verdict = "" if self.met is None else ("; met" if self.met else "; MISSED")
        baseline = f"{fmt(self.baseline)} {self.baseline_unit}"
        return (
            f"{self.metric}: {fmt(self.value)} {self.unit} (baseline: {baseline}, "
            f"ratio: {self.ratio:.2f}, target: {self.target}{verdict})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "line": self.line()}


def fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def report(results: list[Result], json_path: str | None = None) -> list[dict[str, Any]]:
    """Print one summary line per metric; the dicts (also written to `json_path`, for run_all)."""
    out = []
    for r in results:
        print(r.line(), flush=True)
        out.append(r.as_dict())
    if json_path:
        Path(json_path).write_text(json.dumps(out, indent=2, default=str))
    return out


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark script's options: its docstring as the help text, and `--json`."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", metavar="PATH", help="also write the result dicts to PATH")
    return parser


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- database and settings


# The benchmarks' own PostgreSQL cluster, beside the tests' one: it flushes every commit
# (fsync, synchronous_commit and full_page_writes on), so "durable" means on disk.
BENCH_PG_ENV = {
    "RUSKONTRAKT_VAR": str(REPO / "var" / "bench"),
    "RUSKONTRAKT_PG_PORT": "15433",
    "RUSKONTRAKT_PG_DURABLE": "1",
}


def pg_sh(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """infra/db/pg.sh on the benchmarks' cluster."""
    env = {k: v for k, v in os.environ.items() if k != "RUSKONTRAKT_DATABASE_URL"}
    return subprocess.run(
        ["bash", str(PG_SH), *args],
        check=check,
        timeout=timeout,
        capture_output=True,
        text=True,
        env={**env, **BENCH_PG_ENV},
    )


def pg_up() -> None:
    done = pg_sh("up", check=False, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"PostgreSQL did not start (infra/db/pg.sh up):\n{done.stderr}")


def fresh_database(label: str) -> str:
    """A new, empty database on the benchmarks' PostgreSQL (started if needed); its URL."""
    pg_up()
    name = f"bench_{label}_{time.strftime('%Y%m%d_%H%M%S')}_{uuid.uuid4().hex[:6]}"
    return pg_sh("createdb", name).stdout.strip().splitlines()[-1]


def drop_database(url: str) -> None:
    if os.environ.get("BENCH_KEEP_DATABASES"):
        return
    pg_sh("dropdb", url.rsplit("/", 1)[-1], check=False)


def bench_env(url: str, workdir: Path, **overrides: str) -> dict[str, str]:
    """RUSKONTRAKT_* for a server or container on `url` (no Kafka: in-process projection)."""
    env = {
        "RUSKONTRAKT_DATABASE_URL": url,
        "RUSKONTRAKT_JWT_SECRET": JWT_SECRET,
        "RUSKONTRAKT_KEY_PEPPER": KEY_PEPPER,
        "RUSKONTRAKT_CHECKPOINT_FILE": str(workdir / "checkpoints.jsonl"),
        "RUSKONTRAKT_CHECKPOINT_KEY_FILE": str(workdir / "checkpoint-key.pem"),
    }
    env.update({f"RUSKONTRAKT_{k.upper()}": v for k, v in overrides.items()})
    return env


def settings_for(url: str, workdir: Path, **overrides: Any) -> Settings:
    """Embedded projection (no Kafka) unless `kafka_bootstrap` is among the overrides."""
    return Settings(
        **{
            "database_url": url,
            "jwt_secret": JWT_SECRET,
            "key_pepper": KEY_PEPPER,
            "kafka_bootstrap": None,
            "checkpoint_file": workdir / "checkpoints.jsonl",
            "checkpoint_key_file": workdir / "checkpoint-key.pem",
            **overrides,
        }
    )


@contextmanager
def bench_database(label: str, **overrides: Any) -> Iterator[tuple[str, Path, Container]]:
    """(url, workdir, container) on a fresh database, dropped afterwards."""
    url = fresh_database(label)
    with tempfile.TemporaryDirectory(prefix=f"bench-{label}-") as tmp:
        workdir = Path(tmp)
        container = build(settings_for(url, workdir, **overrides))
        try:
            yield url, workdir, container
        finally:
            container.close()
            drop_database(url)


def has_setting(name: str) -> bool:
    return name in Settings.model_fields


# ---------------------------------------------------------------- contracts through the application


@functools.cache
def _valid_numbers(birth: date) -> tuple[str, ...]:
    """Every valid fødselsnummer of a birth date in 2000-2039 (individual numbers 500-999)
    or 1900-1999 (000-499): those whose check digits are not 10."""
    first = 500 if birth.year >= 2000 else 0
    found = []
    for individual in range(first, first + 500):
        digits = f"{birth:%d%m%y}{individual:03d}"
        check1 = fodselsnummer.calc_check_digit1(digits)
        check2 = fodselsnummer.calc_check_digit2(digits + check1)
        if len(check1 + check2) == 2:
            found.append(digits + check1 + check2)
    return tuple(found)


def national_id(n: int, born: date = date(2000, 1, 1)) -> str:
    """A distinct valid national id for every n: 400 a day from `born` on."""
    return _valid_numbers(born + timedelta(days=n // 400))[n % 400]


def _offer_body(n: int, today: date) -> OfferBody:
    # Deadlines relative to today: the domain judges them against the clock.
    return OfferBody.model_validate(
        {
            "youth": {"name": f"Ungdom {n}", "national_id": national_id(n), "birth_date": "2009-12-01"},
            "guardians": [
                {
                    "name": f"Foresatt {n}",
                    "national_id": national_id(n, born=date(1960, 1, 1)),
                }
            ],
            "offence": {
                "code": "NARK-BRUK",
                "substance": "cannabis",
                "date": str(today - timedelta(days=20)),
                "summary": "Caught with 2 g cannabis",
            },
            "trinn": 2,
            "residence_municipality": "5001",
            "registered_municipality": "5001",
            "offer_deadline": str(today + timedelta(days=30)),
            "legal_basis": "strpl_71a",
            "replaces": {"kind": "fine", "amount": 3000, "description": "forelegg"},
        }
    )


def _plan(today: date) -> StartupHeldBody:
    return StartupHeldBody.model_validate(
        {
            "plan": {
                "trinn": 2,
                "start_date": str(today),
                "end_date": str(add_months(today, 6)),  # trinn 2's default length
                "test_regime": {"kind": "rapid", "per_month": 4},
                "meeting_frequency_days": 30,
                "team": ["konfliktrad", "municipal_health", "police"],
                "conditions": ["no drug use", "attend conversations"],
            }
        }
    )


PROSECUTOR = Actor("bench-prosecutor", Agency.PROSECUTION)
COORDINATOR = Actor("bench-konfliktrad", Agency.KONFLIKTRAD)


def unit_of(c: Container, agency: Agency, municipality: str = "5001") -> str | None:
    """The unit of `agency` related to the benchmarks' cases (all in Trondheim, 5001)."""
    return None if agency is Agency.AUDITOR else c.register.units(municipality)[agency]


def _as(c: Container, actor: Actor) -> Context:
    # Set-up shows nobody anything, so it leaves nothing in the access log to be timed later.
    return Context(
        actor.sub,
        actor.agency,
        c.clock(),
        c.rules,
        c.register,
        unit=unit_of(c, actor.agency),
        shows_view=False,
    )


def offer_contract(c: Container, n: int, offer_deadline: date | None = None) -> UUID:
    """The `n`-th youth's contract offered by the prosecutor, through the offer use case
    (`offer_deadline`: instead of the body's 30 days from today)."""
    body = _offer_body(n, local_day(c.clock()))
    if offer_deadline is not None:
        body.offer_deadline = offer_deadline
    case_id = c.new_id()
    c.contracts.offer(
        case_id,
        body.youth.value(),
        tuple(g.value() for g in body.guardians),
        body.offence.value(),
        body.trinn,
        body.residence_municipality,
        body.registered_municipality,
        body.offer_deadline,
        body.legal_basis,
        body.replaces.value(),
        None,
        None,
        _as(c, PROSECUTOR),
    )
    return case_id


def create_active_contract(c: Container, n: int) -> UUID:
    """offer → consent (youth, guardian) → start-up scheduled → held with a plan: ACTIVE,
    through the same use cases the API calls."""
    today = local_day(c.clock())
    case_id = offer_contract(c, n)
    for signatory in ("youth", "guardian:0"):
        b = ConsentBody.model_validate({"signatory": signatory, "scope": [], "booklet_version": "2026-1"})
        c.contracts.give_consent(
            case_id, b.signatory, b.scope_items(), b.booklet_version, b.booklet_language, _as(c, COORDINATOR)
        )
    startup = StartupBody.model_validate(
        {
            "at": c.clock().isoformat(),  # due at once: a meeting is held at or after its time
            "participants": ["konfliktrad", "municipal_health", "police"],
        }
    )
    c.contracts.schedule_startup(case_id, startup.at, tuple(startup.participants), _as(c, COORDINATOR))
    held = _plan(today)
    c.contracts.hold_startup(
        case_id,
        held.plan.value(),
        tuple(held.attendees),
        held.notes,
        held.plan.deviation_reason,
        _as(c, COORDINATOR),
    )
    return case_id


def create_active_contracts(c: Container, count: int, first: int = 0, threads: int = 4) -> list[UUID]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda n: create_active_contract(c, n), range(first, first + count)))


MEETING_BODY = MeetingBody.model_validate(MEETING)


def meeting_command(c: Container) -> Callable[[Any], None]:
    """Exactly what `POST /contracts/{id}/meetings` runs against the aggregate."""
    b = MEETING_BODY
    return lambda k: k.hold_meeting(b.kind, b.held_at, b.attended, b.notes, COORDINATOR, c.clock(), c.rules)


def grow_history(c: Container, case_id: UUID, events: int, batch: int = 100) -> int:
    """Append meetings until the case has `events` events: one load, saves every `batch`
    commands (building the history is set-up, not the thing measured). The version."""
    contract = c.contracts.load(case_id)
    command = meeting_command(c)
    while contract.version < events:
        for _ in range(min(batch, events - contract.version)):
            command(contract)
        c.contracts.save_and_record(contract)
    return int(contract.version)


def stored_versions(c: Container, case_id: UUID) -> list[int]:
    return [s.originator_version for s in c.contracts.stored_events(case_id)]


def now_utc() -> datetime:
    return datetime.now(UTC)


@contextmanager
def time_budget(name: str, seconds: float) -> Iterator[None]:
    start = time.perf_counter()
    yield
    took = time.perf_counter() - start
    log(f"{name} took {took:.1f} s" + ("  (OVER the budget)" if took > seconds else ""))
