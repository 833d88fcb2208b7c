"""Case reads with the per-person key cache (default TTL) vs without it (`key_cache_seconds=0`).

Issue 5 asks to show that per-person keys (crypto-shredding) do not make reads slow. No
target in quality.md: the figure reported is the speed-up the cache gives, on two reads:

* `GET /contracts/{id}` through HTTP (read model document opened with the case's key),
  closed loop, on a server with the default TTL and on one with `RUSKONTRAKT_KEY_CACHE_SECONDS=0`;
* in-process `ContractsApplication.records(id)` (the audit/replay path: every stored event
  decrypted with the key), cases of 20 events, the two containers alternating.

    .venv/bin/python -m bench.bench_key_cache [--seconds 8]
"""

from __future__ import annotations

import itertools
import time
from typing import Any
from uuid import UUID

from bench.common import (
    Result,
    bench_database,
    bench_env,
    bench_parser,
    create_active_contracts,
    grow_history,
    log,
    report,
    settings_for,
    unit_of,
)
from bench.loadgen import LoadResult, get
from bench.server import BenchServer, alternating_blocks
from domain.values import Agency
from infra.bootstrap import Container, build

EVENTS_PER_CASE = 20


def http_reads(
    url: str, workdir: Any, token: str, cases: list[UUID], seconds: float, blocks: int = 4
) -> dict[str, dict[str, Any]]:
    """Both servers up at once (an idle one costs nothing), measured in alternating blocks so
    a drift in the machine hits both alike."""
    pool = itertools.cycle(cases)
    source = lambda: get(f"/contracts/{next(pool)}", token)  # noqa: E731
    envs = {"cached": bench_env(url, workdir), "uncached": bench_env(url, workdir, key_cache_seconds="0")}
    with BenchServer(envs["cached"], workdir) as cached, BenchServer(envs["uncached"], workdir) as uncached:
        loads = {"cached": (cached, source), "uncached": (uncached, source)}
        measured = alternating_blocks(loads, seconds, blocks)
    out = {}
    for name, (runs, cpu_seconds) in measured.items():
        merged = LoadResult.combine(runs)
        out[name] = {**merged.summary(), "server_cpu_cores": round(cpu_seconds / merged.duration, 2)}
        log(f"GET /contracts/{{id}} {name}: {merged.text()}")
    return out


def records_reads(
    cached: Container, uncached: Container, cases: list[UUID], seconds: float
) -> dict[str, Any]:
    spent = {"cached": 0.0, "uncached": 0.0}
    reads = {"cached": 0, "uncached": 0}
    deadline = time.perf_counter() + seconds
    for _ in range(1000):
        for name, c in (("cached", cached), ("uncached", uncached)):
            start = time.perf_counter()
            for case_id in cases[:10]:
                assert len(c.contracts.records(case_id)) == EVENTS_PER_CASE
            spent[name] += time.perf_counter() - start
            reads[name] += 10
        cases = cases[10:] + cases[:10]
        if time.perf_counter() > deadline:
            break
    return {
        n: {"reads": reads[n], "seconds": round(spent[n], 3), "rate_per_s": round(reads[n] / spent[n], 1)}
        for n in spent
    }


def run(seconds: float = 8.0, cases: int = 100) -> list[Result]:
    with bench_database("keys") as (url, workdir, c):
        ids = create_active_contracts(c, cases)
        for case_id in ids[:40]:
            grow_history(c, case_id, EVENTS_PER_CASE)
        token = c.tokens.issue(Agency.KONFLIKTRAD, "bench-konfliktrad", unit_of(c, Agency.KONFLIKTRAD))
        default_ttl = c.settings.key_cache_seconds
        http = http_reads(url, workdir, token, ids, seconds)
        cached, uncached = http["cached"], http["uncached"]
        c0 = build(settings_for(url, workdir, key_cache_seconds=0))
        try:
            c0.contracts.records(ids[0])
            c.contracts.records(ids[0])
            records = records_reads(c, c0, ids[:40], seconds / 2)
        finally:
            c0.close()
        log(f"records(): {records}")
    http_ratio = cached["rate_per_s"] / uncached["rate_per_s"]
    rec_ratio = records["cached"]["rate_per_s"] / records["uncached"]["rate_per_s"]
    target = f"informative (issue 5); speed-up of the {default_ttl:g} s cache"
    return [
        Result(
            "case reads GET /contracts/{id} with the key cache",
            cached["rate_per_s"],
            "reads/s",
            uncached["rate_per_s"],
            "reads/s with key_cache_seconds=0",
            http_ratio,
            target,
            None,
            {"cached": cached, "uncached": uncached},
        ),
        Result(
            f"records() of a {EVENTS_PER_CASE}-event case with the key cache",
            records["cached"]["rate_per_s"],
            "reads/s",
            records["uncached"]["rate_per_s"],
            "reads/s with key_cache_seconds=0",
            rec_ratio,
            target,
            None,
            records,
        ),
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = bench_parser(__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    return report(run(min(args.seconds, 20.0)), args.json)


if __name__ == "__main__":
    main()
