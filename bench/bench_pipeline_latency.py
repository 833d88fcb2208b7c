"""Command → agency read model visible, through Kafka: p99 at a fixed command rate.

quality.md: p99 ≤ 250 ms at 200 commands/s; baseline in the same run: Kafka's own
produce→consume latency on the same broker (a kafka-python producer and consumer with the
service's own client settings, messages of the same size, at the same rate).

The whole Kafka-mode service on PostgreSQL, as deployed: a real uvicorn server
(bench/app.py, RUSKONTRAKT_KAFKA_BOOTSTRAP set), `ruskontrakt relay` (relay + router) and
`ruskontrakt project` as separate processes. `POST /contracts/{id}/meetings` as
konfliktrad, round-robin over the active contracts, open loop at `--rate` (latency from
each command's scheduled send time, so a stall cannot hide). A command is visible when the
projector has applied its event: the read models' position for contracts (written in the
same transaction as the documents) has reached the `position` the command answered with.
This process polls that position every `--poll-ms` (the resolution of the figures).
The measurement is then repeated beside a CPU-heavy neighbour (a process busy on one core,
as another service on the same host would be), and its p99 reported too.

    .venv/bin/python -m bench.bench_pipeline_latency [--rate 200] [--seconds 15] [--cases 300]
"""

from __future__ import annotations

import bisect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from kafka import TopicPartition

from bench.common import (
    MEETING_JSON,
    REPO,
    Result,
    bench_env,
    bench_parser,
    create_active_contracts,
    drop_database,
    fresh_database,
    log,
    report,
    settings_for,
    unit_of,
)
from bench.loadgen import Request, json_post, open_loop
from bench.server import UNLIMITED_RATE, BenchServer, postgres_cpu_seconds, process_cpu_seconds, stop_process
from bench.streams import delete_topics, kafka_settings, kafka_up, read_text, topic_prefix
from domain.policy import Track
from domain.values import Agency
from infra.bootstrap import build
from infra.kafka import clients
from infra.kafka.runners import POLL_MS
from infra.settings import Settings
from services.messages import encode, internal_message

TARGET_RATE, TARGET_P99_MS = 200.0, 250.0


def percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return dict.fromkeys(("p50_ms", "p90_ms", "p99_ms", "max_ms"), float("nan"))
    ordered = sorted(seconds)

    def p(q: float) -> float:  # nearest rank, as bench/loadgen.py
        rank = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
        return round(ordered[rank] * 1000, 2)

    return {"p50_ms": p(50), "p90_ms": p(90), "p99_ms": p(99), "max_ms": round(ordered[-1] * 1000, 2)}


class Service:
    """One `ruskontrakt <command>` subprocess; stopped with SIGTERM (killed only if it hangs)."""

    def __init__(self, command: str, env: dict[str, str], workdir: Path) -> None:
        self.command, self.log = command, workdir / f"{command}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RUSKONTRAKT_")},
            **UNLIMITED_RATE,
            **env,
            "PYTHONPATH": str(REPO),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.cli", self.command],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
            )
        return self

    def check(self) -> None:
        if self.process is None or self.process.poll() is not None:
            raise SystemExit(f"`ruskontrakt {self.command}` exited:\n{read_text(self.log)}")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid) if self.process else 0.0

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process, timeout=30)


class PositionPoller(threading.Thread):
    """The read models' contract position over time, polled on its own connection."""

    def __init__(self, url: str, interval: float) -> None:
        super().__init__(name="position-poller", daemon=True)
        self.url, self.interval = url, interval
        self.times: list[float] = []
        self.positions: list[int] = []  # strictly increasing, with the time each was first seen
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                row = conn.execute(
                    "SELECT MAX(notification_id) FROM rm_positions WHERE track = %s", (Track.CONTRACT.value,)
                ).fetchone()
                position = int(row[0]) if row and row[0] is not None else 0
                if not self.positions or position > self.positions[-1]:
                    self.times.append(time.perf_counter())
                    self.positions.append(position)
                self.stop.wait(self.interval)

    @property
    def position(self) -> int:
        return self.positions[-1] if self.positions else 0

    def seen_at(self, position: int) -> float | None:
        i = bisect.bisect_left(self.positions, position)
        return self.times[i] if i < len(self.positions) else None

    def wait_for(self, position: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.position < position and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.position >= position


@dataclass
class Commands:
    """The open loop's requests, numbered in send order, and what each one answered."""

    cases: list[str]
    token: str
    rate: float
    first_send: float = 0.0
    sent: int = 0
    answers: dict[int, tuple[int, int | None]] = field(default_factory=dict)  # seq -> (status, position)
    answered_at: dict[int, float] = field(default_factory=dict)

    def next(self) -> Request:
        if self.sent == 0:
            self.first_send = time.perf_counter()
        seq, self.sent = self.sent, self.sent + 1
        method, path, headers, body = json_post(
            f"/contracts/{self.cases[seq % len(self.cases)]}/meetings", MEETING_JSON, self.token
        )
        return method, path, {**headers, "X-Bench-Seq": str(seq)}, body

    def answered(self, req: Request, status: int, body: bytes) -> None:
        position = None
        if 200 <= status < 300:
            position = json.loads(body).get("position")
        seq = int(req[2]["X-Bench-Seq"])
        self.answers[seq], self.answered_at[seq] = (status, position), time.perf_counter()

    def scheduled(self, seq: int) -> float:
        # open_loop sends request k at start + k/rate and asks for it in that order.
        return self.first_send + seq / self.rate


def kafka_round_trip(
    settings: Settings, payloads: list[bytes], rate: float, seconds: float
) -> dict[str, Any]:
    """The baseline: the service's producer config → its consumer config on a fresh topic of
    the same settings, `rate` messages/s of the given payloads; latency per message."""
    clients.ensure_topics(settings)
    topic = clients.internal_topic(settings, Track.CONTRACT)
    consumer = clients.consumer(settings, None, "bench-rtt-consumer", max_poll_records=500)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_end(tp)
    consumer.position(tp)
    producer = clients.producer(settings, "bench-rtt-producer")
    producer.partitions_for(topic)
    total = int(rate * seconds)
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    done = threading.Event()

    def consume() -> None:
        while len(latencies) < total and not done.is_set():
            for records in consumer.poll(timeout_ms=POLL_MS).values():
                now = time.perf_counter()
                latencies.extend(now - sent_at[int(r.key)] for r in records)

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    start = time.perf_counter()
    for k in range(total):
        scheduled = start + k / rate
        if (delay := scheduled - time.perf_counter()) > 0:
            time.sleep(delay)
        sent_at[k] = scheduled
        producer.send(topic, key=str(k).encode(), value=payloads[k % len(payloads)])
    producer.flush()
    reader.join(timeout=30)
    done.set()
    producer.close()
    consumer.close()
    return {"messages": total, "received": len(latencies), "rate_per_s": rate, **percentiles(latencies)}


def relayed_at(settings: Settings) -> dict[int, float]:
    """When the relay handed each event to its producer (the message's CreateTime), by
    notification id, on this process's perf_counter clock."""
    offset = time.time() - time.perf_counter()
    consumer = clients.consumer(settings, None, "bench-timestamps", max_poll_records=5000)
    tp = TopicPartition(clients.internal_topic(settings, Track.CONTRACT), 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    end, out = consumer.end_offsets([tp])[tp], {}
    deadline = time.monotonic() + 30
    while consumer.position(tp) < end and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            for r in records:
                out[int(dict(r.headers)["notification_id"])] = r.timestamp / 1000 - offset
    consumer.close()
    return out


def stages(load: Commands, poller: PositionPoller, relayed: dict[int, float]) -> dict[str, Any]:
    """Where each command's time went: HTTP answer (the commit is before it), the relay's
    send to Kafka, the projector's commit (seen by the poller)."""
    parts: dict[str, list[float]] = {
        "send → HTTP answer": [],
        "HTTP answer → relayed": [],
        "relayed → visible": [],
    }
    for seq, (_status, position) in load.answers.items():
        seen, sent = poller.seen_at(position) if position else None, relayed.get(position or -1)
        if seen is None or sent is None:
            continue
        parts["send → HTTP answer"].append(load.answered_at[seq] - load.scheduled(seq))
        parts["HTTP answer → relayed"].append(sent - load.answered_at[seq])
        parts["relayed → visible"].append(seen - sent)
    return {
        name: {"mean_ms": round(statistics.mean(v) * 1000, 2) if v else None, **percentiles(v)}
        for name, v in parts.items()
    }


def run(
    rate: float = TARGET_RATE,
    seconds: float = 15.0,
    cases: int = 300,
    poll_ms: float = 3.0,
    neighbour: bool = True,
) -> list[Result]:
    """`neighbour`: measure a second time beside a CPU-heavy process."""
    bootstrap = kafka_up()
    prefix = topic_prefix("pipe")
    url = fresh_database("pipeline")
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        workdir = Path(tmp)
        settings = kafka_settings(settings_for(url, workdir), bootstrap, prefix)
        baseline_settings = kafka_settings(settings, bootstrap, topic_prefix("rtt"))
        # Kafka mode (no in-process projection here); set-up saves without group commit, as in
        # bench_relay. The server runs with the service's defaults.
        c = build(settings.model_copy(update={"group_commit": False}))
        services: list[Service] = []
        try:
            log(f"creating {cases} active contracts through the application")
            ids = [str(i) for i in create_active_contracts(c, cases)]
            token = c.tokens.issue(
                Agency.KONFLIKTRAD, "bench-konfliktrad", unit_of(c, Agency.KONFLIKTRAD), ttl=3600
            )
            stored = c.contracts.recorder.select_notifications(start=1, limit=500)
            payloads = [encode(internal_message(c.contracts.track, n, n.id))[1] for n in stored]
            log(f"baseline: kafka-python produce→consume at {rate:g}/s for {seconds:g} s")
            baseline = kafka_round_trip(baseline_settings, payloads, rate, seconds)
            log(f"baseline: {baseline}")
            env = bench_env(url, workdir, kafka_bootstrap=bootstrap, kafka_topic_prefix=prefix)
            services = [Service("relay", env, workdir).start(), Service("project", env, workdir).start()]
            with BenchServer(env, workdir) as server:
                details = measure(c, url, server, services, ids, token, rate, seconds, poll_ms)
                loaded = None
                if neighbour:
                    log("again, beside a CPU-heavy neighbour process (one busy core)")
                    with Neighbour():
                        loaded = measure(c, url, server, services, ids, token, rate, seconds, poll_ms)
            relayed = relayed_at(settings)
            details["stages"] = stages(details.pop("_load"), details.pop("_poller"), relayed)
            log(f"stages: {details['stages']}")
            if loaded is not None:
                loaded["stages"] = stages(loaded.pop("_load"), loaded.pop("_poller"), relayed)
                log(f"stages beside the neighbour: {loaded['stages']}")
        finally:
            for service in services:
                service.stop()
            c.close()
            delete_topics(settings)
            delete_topics(baseline_settings)
            drop_database(url)
    details["baseline"] = baseline
    results = [
        _result(
            f"command → agency read model visible, through Kafka (p99 at {rate:g} commands/s)",
            details,
            baseline,
            rate,
        )
    ]
    if loaded is not None:
        results.append(
            _result(
                f"the same beside a CPU-heavy neighbour process (p99 at {rate:g} commands/s)",
                loaded,
                baseline,
                rate,
            )
        )
    return results


def _result(metric: str, details: dict[str, Any], baseline: dict[str, Any], rate: float) -> Result:
    p99, base = details["visible"]["p99_ms"], baseline["p99_ms"]
    ok = (
        details["http"]["errors"] == {}
        and details["not_visible"] == 0
        and details["achieved_rate_per_s"] >= 0.95 * rate
    )
    met = ok and rate >= TARGET_RATE and p99 <= TARGET_P99_MS
    caveat = "" if ok else " [load not sustained or commands lost: see details]"
    return Result(
        metric,
        p99,
        "ms",
        base,
        "ms (Kafka's own produce→consume p99 at the same rate)",
        p99 / base if base else float("inf"),
        f"p99 ≤ 250 ms at 200 commands/s{caveat}",
        met,
        details,
    )


class Neighbour:
    """Another program busy on one core for as long as the block runs (quality.md: the
    latency under contention): a Python loop that never sleeps, at the same priority."""

    def __enter__(self) -> Neighbour:
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        return self

    def __exit__(self, *exc: object) -> None:
        stop_process(self.process, timeout=5)


def measure(
    c: Any,
    url: str,
    server: BenchServer,
    services: list[Service],
    ids: list[str],
    token: str,
    rate: float,
    seconds: float,
    poll_ms: float,
) -> dict[str, Any]:
    poller = PositionPoller(url, poll_ms / 1000)
    poller.start()
    try:
        setup_end = c.contracts.recorder.max_notification_id() or 0
        if not poller.wait_for(setup_end, 60):
            for s in services:
                s.check()
            raise SystemExit(
                f"the projector did not catch up with the set-up ({poller.position} of "
                f"{setup_end}):\n{read_text(services[1].log)}"
            )
        warm = Commands(ids, token, rate)
        open_loop(server.port, warm.next, rate, duration=3, connections=64, on_response=warm.answered)
        for s in services:
            s.check()
        load = Commands(ids[1:] + ids[:1], token, rate)  # a different case order than the warm-up
        cpu_before = cpu_now(server, services)
        log(f"measuring: {rate:g} commands/s for {seconds:g} s")
        result = open_loop(
            server.port, load.next, rate, duration=seconds, connections=64, on_response=load.answered
        )
        cpu_after = cpu_now(server, services)
        cpu = {k: round((v - cpu_before[k]) / result.duration, 2) for k, v in cpu_after.items()}
        last = max((p for _, p in load.answers.values() if p is not None), default=0)
        caught_up = poller.wait_for(last, 30)
    finally:
        poller.stop.set()
        poller.join(timeout=5)
    latencies, missing = [], 0
    for seq, (_status, position) in sorted(load.answers.items()):
        if position is None:
            continue
        seen = poller.seen_at(position)
        if seen is None:
            missing += 1
        else:
            latencies.append(seen - load.scheduled(seq))
    visible = percentiles(latencies)
    log(f"HTTP: {result.text()}")
    log(f"visible: {len(latencies)} commands, {visible}, not visible {missing}, CPU cores {cpu}")
    return {
        "offered_rate_per_s": rate,
        "achieved_rate_per_s": round(result.rate, 1),
        "seconds": seconds,
        "cases": len(ids),
        "http": result.summary(),
        "visible": {"count": len(latencies), **visible},
        "not_visible": missing,
        "caught_up": caught_up,
        "poll_ms": poll_ms,
        "cpu_cores": cpu,
        "mean_ms": round(statistics.mean(latencies) * 1000, 2) if latencies else None,
        "_load": load,
        "_poller": poller,
    }


def cpu_now(server: BenchServer, services: list[Service]) -> dict[str, float]:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "server": server.cpu_seconds(),
        **{s.command: s.cpu_seconds() for s in services},
        "postgres": postgres_cpu_seconds(),
        "bench_process": own.ru_utime + own.ru_stime,
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = bench_parser(__doc__)
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="commands/s (target: 200)")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--poll-ms", type=float, default=3.0, help="how often the position is polled")
    parser.add_argument(
        "--no-neighbour", action="store_true", help="skip the second run beside a CPU-heavy process"
    )
    args = parser.parse_args(argv)
    results = run(
        min(max(args.rate, 1.0), 2000.0),
        min(max(args.seconds, 2.0), 40.0),
        min(max(args.cases, 10), 2000),
        min(max(args.poll_ms, 1.0), 50.0),
        neighbour=not args.no_neighbour,
    )
    return report(results, args.json)


if __name__ == "__main__":
    main()
