"""quality.md reliability 12: with a controllable clock, every missed deadline fires exactly
once — with `ruskontrakt deadlines` killed (SIGKILL) at random moments and restarted, and
with two schedulers running at once; on SQLite and PostgreSQL, embedded and Kafka mode.

The cases are made through the API; the schedulers are real processes of the CLI, all
taking the same instant as now (`RUSKONTRAKT_FAKE_NOW`): in embedded mode each catches up
the read models itself before a pass; in Kafka mode they read what `ruskontrakt project`
keeps, a moment behind the events they record.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from tests.conftest import Api
from tests.integration.flows import activate, consent_all, fnr, offer, ok, rapid_test
from tests.reliability.live_server import KafkaServices, LiveServer, kafka_mode, offer_changes
from tests.servers import REPO, KafkaBroker

CASES_OF_EACH = 15


def _make_cases(api: Api) -> list[str]:
    """Offers left unanswered, consents with no startup meeting, breaches left undecided."""
    cases = []
    for _ in range(CASES_OF_EACH):
        cases.append(offer(api))
        consented = offer(api)
        consent_all(api, consented)
        cases.append(consented)
        active = offer(api)
        activate(api, active)
        test_id = rapid_test(api, active, ["THC"])
        breach = {"kind": "positive_test", "test_id": test_id, "evidence": "rapid THC"}
        ok(api.post("konfliktrad", f"/contracts/{active}/breaches", breach), 201)
        cases.append(active)
    return cases


def _env(api: Api, now: str) -> dict[str, str]:
    s = api.container.settings
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "RUSKONTRAKT_DATABASE_URL": s.database_url,
        "RUSKONTRAKT_JWT_SECRET": s.jwt_secret or "",
        "RUSKONTRAKT_KEY_PEPPER": s.key_pepper or "",
        "RUSKONTRAKT_CHECKPOINT_FILE": str(s.checkpoint_file),
        "RUSKONTRAKT_CHECKPOINT_KEY_FILE": str(s.checkpoint_key_file),
        "RUSKONTRAKT_FAKE_NOW": now,
        "RUSKONTRAKT_DEADLINE_INTERVAL_SECONDS": "0.05",
        "RUSKONTRAKT_LOG_LEVEL": "WARNING",
    }


def _scheduler(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "deadlines", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _once(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One pass of `ruskontrakt deadlines --once`, to its end."""
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", "deadlines", "--once"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _recorded(api: Api, cases: list[str]) -> Counter[tuple[str, str, str, str]]:
    """(case, event type, rule, due) of every deadline event in the store."""
    seen: Counter[tuple[str, str, str, str]] = Counter()
    for case_id in cases:
        for record in api.container.contracts.records(UUID(case_id)):
            if record.type in ("OfferLapsed", "DeadlineMissed", "CaseEscalated"):
                rule = str(record.payload.get("rule", "offer_answer"))
                due = str(record.payload.get("due", record.payload.get("deadline")))
                seen[(case_id, record.type, rule, due)] += 1
    return seen


def test_every_missed_deadline_fires_once_across_kills_and_concurrent_schedulers(
    api: Api, tmp_path: Path
) -> None:
    cases = _make_cases(api)
    now = (api.clock.now + timedelta(days=40)).isoformat()  # past every due day and grace
    env = _env(api, now)
    rng = random.Random(12)
    for _ in range(4):  # killed at random moments, restarted
        victim = _scheduler(env)
        time.sleep(rng.uniform(0.3, 2.0))
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    pair = [_scheduler(env), _scheduler(env)]  # two at once, to the end of their passes
    time.sleep(3)
    for process in pair:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    last = _once(env)
    assert last.returncode == 0, last.stdout + last.stderr

    recorded = _recorded(api, cases)
    assert recorded and max(recorded.values()) == 1, [k for k, n in recorded.items() if n > 1]
    again = _once(env)
    assert again.returncode == 0 and again.stdout.startswith("recorded 0 deadline(s)"), again.stdout
    assert _recorded(api, cases) == recorded, "a later pass records nothing new"
    by_kind = Counter((kind, rule) for _, kind, rule, _ in recorded)
    assert by_kind[("OfferLapsed", "offer_answer")] == CASES_OF_EACH
    assert by_kind[("DeadlineMissed", "startup_meeting")] == CASES_OF_EACH
    assert by_kind[("CaseEscalated", "startup_meeting")] == CASES_OF_EACH
    assert by_kind[("DeadlineMissed", "breach_decision")] == CASES_OF_EACH
    assert by_kind[("CaseEscalated", "breach_decision")] == CASES_OF_EACH


def _run_once_until_quiet(env: dict[str, str], passes: int = 20) -> None:
    """`deadlines --once` until a pass records nothing (in Kafka mode the read models follow
    the recorded events a moment later, through relay and projector)."""
    for _ in range(passes):
        done = _once(env)
        assert done.returncode == 0, done.stdout + done.stderr
        if done.stdout.startswith("recorded 0 deadline(s)"):
            return
        time.sleep(1)
    raise AssertionError("the schedulers never settled")


@pytest.mark.kafka
@pytest.mark.postgres
def test_in_kafka_mode_every_missed_deadline_fires_once_too(
    kafka_broker: KafkaBroker, fresh_postgres_url: str, tmp_path: Path
) -> None:
    """The schedulers read the read models `ruskontrakt project` keeps (through the relay
    and Kafka), killed and doubled as above; the server and its processes run on the real
    clock, the schedulers 50 days on (past every due day, moved or not, and its grace)."""
    server = kafka_mode(LiveServer(fresh_postgres_url, tmp_path), kafka_broker).start()
    services = KafkaServices(server).start()
    try:
        cases = []
        born = date(date.today().year - 16, 1, 15)  # as offer_changes: 16 today
        for i in range(8):
            cases.append(offer(server, **offer_changes(fnr(born, 2 * i))))
            consented = offer(server, **offer_changes(fnr(born, 2 * i + 1)))
            last_view = consent_all(server, consented)
            cases.append(consented)
        env = {**server.env(), "RUSKONTRAKT_FAKE_NOW": (datetime.now(UTC) + timedelta(days=50)).isoformat()}
        env["RUSKONTRAKT_DEADLINE_INTERVAL_SECONDS"] = "0.2"
        # Every case projected before the passes: a read waits (up to 30 s) for the position of
        # the last command (failed before with min_position=1, which waits for the first only).
        seen_last = ok(server.get("auditor", f"/contracts/{cases[-1]}?min_position={last_view['position']}"))
        assert seen_last["version"] == last_view["version"], services.log_tail()
        rng = random.Random(18)
        for _ in range(3):
            victim = _scheduler(env)
            time.sleep(rng.uniform(0.5, 2.5))
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
        pair = [_scheduler(env), _scheduler(env)]
        time.sleep(4)
        for process in pair:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        _run_once_until_quiet(env)
        assert services.running(), services.log_tail()
        seen: Counter[tuple[str, str, str]] = Counter()
        for case_id in cases:
            events = ok(server.get("auditor", f"/contracts/{case_id}/history"))["events"]
            for e in events:
                if e["type"] in ("OfferLapsed", "DeadlineMissed", "CaseEscalated"):
                    seen[(case_id, e["type"], str(e["payload"].get("rule", "offer_answer")))] += 1
        assert seen and max(seen.values()) == 1, [k for k, n in seen.items() if n > 1]
        kinds = Counter((kind, rule) for _, kind, rule in seen)
        assert kinds[("OfferLapsed", "offer_answer")] == 8
        assert kinds[("DeadlineMissed", "startup_meeting")] == 8
        assert kinds[("CaseEscalated", "startup_meeting")] == 8
    finally:
        services.stop()
        server.stop()
