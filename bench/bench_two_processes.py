"""Two API processes on one port vs one: commands/s, and nothing lost or duplicated.

quality.md: two API processes on one port ≥ 1.5× the commands/s of one under the same
load, with no lost or duplicated event. Production mode (PostgreSQL, Kafka; the relay and
projector do not run during the phases), the servers `ruskontrakt serve` would be, with
`RUSKONTRAKT_REUSE_PORT=1`: the kernel spreads the load generator's connections over the
processes listening on the port. The load is `POST /contracts/{id}/meetings` round-robin
over the cases, so both processes work on the same cases: each one's cached copy of a
case is stale as soon as the other saved it, the store refuses that save, and the process
reloads the case and runs the command again (services/sealed_application.py). Rounds
alternate one and two processes; medians are compared. Afterwards every case's stored
events are counted against the 2xx answers and projected once into fresh read models.

    .venv/bin/python -m bench.bench_two_processes [--cases 300] [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.bench_commands import Load, check_events, check_projection, run_phase
from bench.common import (
    Result,
    bench_database,
    bench_env,
    bench_parser,
    create_active_contracts,
    log,
    report,
    unit_of,
)
from bench.loadgen import closed_loop
from bench.server import BenchServer, free_port
from bench.streams import delete_topics, kafka_up, topic_prefix
from domain.values import Agency

CONNECTIONS = 64  # enough that one process is CPU-bound (not waiting on flushes) and the spread is even


def run(cases: int = 300, seconds: float = 10.0, rounds: int = 2) -> list[Result]:
    kafka = {"kafka_bootstrap": kafka_up(), "kafka_topic_prefix": topic_prefix("two-processes")}
    with bench_database("two_processes", **kafka) as (url, workdir, c):
        log(f"creating {cases} active contracts through the application")
        ids = create_active_contracts(c, cases)
        token = c.tokens.issue(
            Agency.KONFLIKTRAD, "bench-konfliktrad", unit_of(c, Agency.KONFLIKTRAD), ttl=3600
        )
        load = Load(ids, token)
        port = free_port()
        env = bench_env(url, workdir, **kafka, reuse_port="1")
        phases: list[dict[str, Any]] = []

        def measure(name: str, servers: list[BenchServer]) -> dict[str, Any]:
            # Every case into each process's memory first (the connections land on both).
            closed_loop(port, load.commands, CONNECTIONS, count=2 * len(ids), on_response=load.count)
            cpu_before = [s.cpu_seconds() for s in servers]
            phase = run_phase(
                name,
                servers[0],
                lambda: closed_loop(
                    port, load.commands, CONNECTIONS, duration=seconds, on_response=load.count
                ),
            )
            # Both processes did work (the kernel spread the connections): CPU seconds each.
            phase["cpu_seconds_per_process"] = [
                round(s.cpu_seconds() - b, 2) for s, b in zip(servers, cpu_before, strict=True)
            ]
            phases.append(phase)
            return phase

        one: list[float] = []
        two: list[float] = []
        with BenchServer(env, workdir, port=port) as first:
            for round_ in range(rounds):
                one.append(measure(f"one process, round {round_ + 1}", [first])["rate_per_s"])
                with BenchServer(env, workdir, port=port) as second:
                    two.append(measure(f"two processes, round {round_ + 1}", [first, second])["rate_per_s"])
        check = {**check_events(c, ids, load.ok), "projection": check_projection(c, ids)}
        check["ok"] = check["ok"] and check["projection"]["ok"]
        log(f"check: {check}")
        delete_topics(c.settings)
    errors = sum(sum(p["errors"].values()) for p in phases)
    for phase in phases:
        phase.pop("_result", None)
    one_rate, two_rate = statistics.median(one), statistics.median(two)
    ratio = two_rate / one_rate if one_rate else 0.0
    integrity = "" if check["ok"] and not errors else " [EVENTS CHECK FAILED or errors: see details]"
    return [
        Result(
            "commands/s, two API processes on one port (RUSKONTRAKT_REUSE_PORT) vs one",
            two_rate,
            "commands/s",
            one_rate,
            "commands/s (one process, the same load)",
            ratio,
            f"≥ 1.5×, no lost or duplicated event{integrity}",
            ratio >= 1.5 and check["ok"] and not errors,
            {
                "phases": phases,
                "one_process_rates": one,
                "two_process_rates": two,
                "events_check": check,
                "cases": cases,
                "connections": CONNECTIONS,
                "seconds": seconds,
            },
        )
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = bench_parser(__doc__)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    return report(run(args.cases, min(args.seconds, 15.0), min(max(args.rounds, 1), 5)), args.json)


if __name__ == "__main__":
    main()
