"""Command rate on a case with 1,000 events of history vs the same command on a fresh case.

quality.md: ≥ 0.8×. The command is the meeting of `POST /contracts/{id}/meetings`, run
sequentially (one at a time: one case cannot take concurrent commands without conflicts):

* in-process, through `ContractsApplication.command` (load, command, save), blocks of
  commands alternating between the long case and fresh cases;
* through HTTP on a real server (Kafka mode, as bench_commands), one keep-alive
  connection, alternating long and fresh.

"Fresh" is a pool of just-activated contracts (6 events each), round-robin, so they stay
fresh. Separate long cases for the two paths, so each has 1,000 events at the start and
grows by at most the few dozen commands run on it.

    .venv/bin/python -m bench.bench_long_case [--events 1000]
"""

from __future__ import annotations

import itertools
import time
from typing import Any
from uuid import UUID

from bench.common import (
    MEETING_JSON,
    Result,
    bench_database,
    bench_env,
    bench_parser,
    create_active_contracts,
    grow_history,
    log,
    meeting_command,
    report,
    unit_of,
)
from bench.loadgen import closed_loop, json_post
from bench.server import BenchServer
from bench.streams import kafka_up, topic_prefix
from domain.values import Agency
from infra.bootstrap import Container

BLOCK = 5


def in_process(
    c: Container, long_case: UUID, fresh: list[UUID], seconds: float, max_long: int = 60
) -> dict[str, Any]:
    command = meeting_command(c)
    pool = itertools.cycle(fresh)
    spent = {"long": 0.0, "fresh": 0.0}
    done = {"long": 0, "fresh": 0}
    deadline = time.perf_counter() + seconds
    for _ in range(max_long // BLOCK):
        for kind in ("long", "fresh"):
            start = time.perf_counter()
            for _ in range(BLOCK):
                c.contracts.command(long_case if kind == "long" else next(pool), command)
            spent[kind] += time.perf_counter() - start
            done[kind] += BLOCK
        if time.perf_counter() > deadline:
            break
    return {
        kind: {
            "commands": done[kind],
            "seconds": round(spent[kind], 3),
            "rate_per_s": round(done[kind] / spent[kind], 2),
        }
        for kind in done
    }


def over_http(
    port: int, token: str, long_case: UUID, fresh: list[UUID], seconds: float, max_long: int = 60
) -> dict[str, Any]:
    pool = itertools.cycle(fresh)
    sources = {
        "long": lambda: json_post(f"/contracts/{long_case}/meetings", MEETING_JSON, token),
        "fresh": lambda: json_post(f"/contracts/{next(pool)}/meetings", MEETING_JSON, token),
    }
    out: dict[str, Any] = {k: {"commands": 0, "seconds": 0.0, "errors": {}} for k in sources}
    for _ in range(2):  # alternate twice, so a drift in the machine hits both sides
        for kind, source in sources.items():
            limit = max_long // 2 if kind == "long" else max_long * 3
            r = closed_loop(port, source, connections=1, duration=seconds / 4, count=limit)
            out[kind]["commands"] += r.ok
            out[kind]["seconds"] += r.duration
            out[kind]["errors"].update(dict(r.errors))
            out[kind]["p50_ms"] = r.summary()["p50_ms"]
    for side in out.values():
        side["rate_per_s"] = round(side["commands"] / side["seconds"], 2)
        side["seconds"] = round(side["seconds"], 3)
    return out


def run(events: int = 1000, seconds: float = 16.0) -> list[Result]:
    # As bench_commands: the API process in its production role (Kafka mode), no projection.
    kafka = {"kafka_bootstrap": kafka_up(), "kafka_topic_prefix": topic_prefix("long")}
    with bench_database("long", **kafka) as (url, workdir, c):
        fresh = create_active_contracts(c, 40)
        long_cases = create_active_contracts(c, 2, first=1000)
        for case_id in long_cases:
            grow_history(c, case_id, events)
        log(f"2 cases with {events} events, {len(fresh)} fresh active cases")
        for case_id in [*long_cases, *fresh]:  # warm: connections, key cache, code paths
            c.contracts.command(case_id, meeting_command(c))
        inproc = in_process(c, long_cases[0], fresh, seconds / 2)
        log(f"in-process: {inproc}")
        token = c.tokens.issue(Agency.KONFLIKTRAD, "bench-konfliktrad", unit_of(c, Agency.KONFLIKTRAD))
        with BenchServer(bench_env(url, workdir, **kafka), workdir) as server:
            for case_id in [long_cases[1], *fresh]:  # the server's first command loads the case
                closed_loop(
                    server.port,
                    lambda k=case_id: json_post(f"/contracts/{k}/meetings", MEETING_JSON, token),
                    connections=1,
                    count=1,
                    timeout=60,
                )
            http = over_http(server.port, token, long_cases[1], fresh, seconds)
        log(f"HTTP: {http}")
        final = [c.contracts.load(k).version for k in long_cases]
    results = []
    for label, data in (("in-process (ContractsApplication.command)", inproc), ("through HTTP", http)):
        ratio = data["long"]["rate_per_s"] / data["fresh"]["rate_per_s"]
        results.append(
            Result(
                f"command rate on a case with {events} events, {label}",
                data["long"]["rate_per_s"],
                "commands/s",
                data["fresh"]["rate_per_s"],
                "commands/s on fresh cases",
                ratio,
                "≥ 0.8×",
                ratio >= 0.8,
                {**data, "long_case_versions_at_end": final},
            )
        )
    return results


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = bench_parser(__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=16.0)
    args = parser.parse_args(argv)
    return report(run(min(args.events, 5000), min(args.seconds, 40.0)), args.json)


if __name__ == "__main__":
    main()
