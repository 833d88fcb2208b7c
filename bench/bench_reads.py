"""Case reads `GET /contracts/{id}` against a no-op GET on the same HTTP stack.

quality.md / issue 20: a case read (the read model's document opened with the case's
key, presented for the caller's agency, its access-log entry made durable before the
answer) costs ≥ 0.5× a no-op GET (`GET /bench/noop/contracts/{id}`: the same bearer-token
authentication, rate limiter, middleware and path parsing, answered without a query).

Active contracts in one municipality, read by the konfliktrad unit related to them,
round-robin; one uvicorn process in embedded mode (as `ruskontrakt serve` without
Kafka; bench_worklist runs the same way), 4 keep-alive connections, the two loads in
alternating blocks so a drift of the machine hits both alike. Each read is checked
afterwards to be in the access log (quality.md 9): the entries of the run are counted.

    .venv/bin/python -m bench.bench_reads [--seconds 8] [--cases 300] [--blocks 4]
"""

from __future__ import annotations

import itertools
from typing import Any
from uuid import UUID

from bench.app import NOOP_CASE_GET_PATH
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
from bench.loadgen import LoadResult, get
from bench.server import BenchServer, alternating_blocks
from domain.values import Agency
from infra.bootstrap import Container

TARGET = 0.5


def logged_reads(c: Container) -> int:
    """How many `case_view` entries the access log holds (every read must have one)."""
    with c.database.transaction() as tx:
        row = tx.execute("SELECT COUNT(*) FROM access_log WHERE action = 'case_view'").fetchone()
    return int(row[0])


def measure(
    c: Container, url: str, workdir: Any, cases: list[UUID], seconds: float, blocks: int
) -> dict[str, Any]:
    token = c.tokens.issue(Agency.KONFLIKTRAD, "bench-konfliktrad", unit_of(c, Agency.KONFLIKTRAD))
    pool = itertools.cycle(cases)
    loads = {
        "read": lambda: get(f"/contracts/{next(pool)}", token),
        "noop": lambda: get(NOOP_CASE_GET_PATH.format(case_id=next(pool)), token),
    }
    seen: list[int] = []
    with BenchServer(bench_env(url, workdir), workdir) as server:
        measured = alternating_blocks(
            {name: (server, source) for name, source in loads.items()},
            seconds,
            blocks,
            warmed=lambda: seen.append(logged_reads(c)),
        )
        logged = logged_reads(c) - seen[0]
    out: dict[str, Any] = {}
    for name, (runs, cpu) in measured.items():
        merged = LoadResult.combine(runs)
        out[name] = {
            **merged.summary(),
            "server_cpu_cores": round(cpu / merged.duration, 2),
            "server_cpu_ms_per_request": round(1000 * cpu / max(merged.ok, 1), 3),
            "blocks_rate_per_s": [round(r.rate, 1) for r in runs],
        }
        log(f"{name}: {merged.text()}")
    out["read"]["access_log_entries"] = logged
    out["read"]["every_read_logged"] = logged == sum(r.ok for r in measured["read"][0])
    return out


def run(seconds: float = 8.0, cases: int = 300, blocks: int = 4) -> list[Result]:
    with bench_database("reads") as (url, workdir, c):
        log(f"creating {cases} active contracts through the application")
        ids = create_active_contracts(c, cases)
        assert c.projection is not None
        c.projection.catch_up()
        figures = measure(c, url, workdir, ids, seconds, blocks)
    read, noop = figures["read"]["rate_per_s"], figures["noop"]["rate_per_s"]
    ratio = read / noop
    assert figures["read"]["every_read_logged"], figures["read"]
    return [
        Result(
            "case reads GET /contracts/{id} (decrypt, redact, access log) vs a no-op GET",
            read,
            "reads/s",
            noop,
            "no-op GET/s",
            ratio,
            f"≥ {TARGET}× (issue 20)",
            ratio >= TARGET,
            figures,
        )
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = bench_parser(__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--blocks", type=int, default=4)
    args = parser.parse_args(argv)
    return report(run(min(args.seconds, 30.0), args.cases, args.blocks), args.json)


if __name__ == "__main__":
    main()
