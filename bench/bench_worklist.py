"""Worklist pages at 1,000 and 20,000 cases, against a no-op GET; and the scheduler's pass.

quality.md / issue 16: a worklist page (`GET /contracts?limit=50`, sorted by the next
deadline) with 20,000 cases in the store costs ≥ 0.8× the same page with 1,000 (the page
is read through an index, never by scanning the unit's rows) and ≥ 0.4× a no-op GET (the
same authentication and parameters, no query). The cases are offers in one municipality,
so the coordinator's unit sees every one; pages are read from random cursors so the cost
of the keyset seek is in the figure. The deadline scheduler's pass over the larger store
(nothing due, then with every offer past its day in a 200-case sample) is reported too.

    .venv/bin/python -m bench.bench_worklist [--seconds 6] [--small 1000] [--large 20000]
"""

from __future__ import annotations

import itertools
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from bench.app import NOOP_GET_PATH
from bench.common import (
    Result,
    bench_database,
    bench_env,
    bench_parser,
    log,
    offer_contract,
    report,
    unit_of,
)
from bench.loadgen import LoadResult, closed_loop, get
from bench.server import BenchServer, CpuMeter
from domain.calendar import local_day
from domain.values import Agency
from infra.bootstrap import Container
from services.context import Context
from services.scheduler import SYSTEM_USER

PAGE = 50


def create_offers(c: Container, count: int, threads: int = 4) -> list[UUID]:
    today = local_day(c.clock())  # the domain's day: Norway's, not UTC's

    def one(n: int) -> UUID:
        return offer_contract(c, n, today + timedelta(days=1 + n % 60))  # spread over two months

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def cursors(c: Container, token_unit: str, samples: int = 40) -> list[str | None]:
    """Where random pages start: the first page and cursors taken from the whole list."""
    from services.queries import encode_cursor

    rows = c.read_models.rows(f"konfliktrad:{token_unit}", "contract")
    picks = random.Random(16).sample(rows, min(samples, len(rows)))
    return [None, *(encode_cursor(r["_cursor"]) for r in picks)]


def measure(c: Container, url: str, workdir: Any, size: int, seconds: float) -> dict[str, Any]:
    assert c.projection is not None
    c.projection.catch_up()
    unit = unit_of(c, Agency.KONFLIKTRAD)
    assert unit is not None
    token = c.tokens.issue(Agency.KONFLIKTRAD, "bench-konfliktrad", unit)
    starts = itertools.cycle(cursors(c, unit))

    def page() -> Any:
        cursor = next(starts)
        return get(f"/contracts?limit={PAGE}" + (f"&cursor={cursor}" if cursor else ""), token)

    noop = lambda: get(f"{NOOP_GET_PATH}?limit={PAGE}", token)  # noqa: E731
    results: dict[str, list[LoadResult]] = {"page": [], "noop": []}
    cpu = {"page": 0.0, "noop": 0.0}  # server CPU seconds
    with BenchServer(bench_env(url, workdir), workdir) as server:
        closed_loop(server.port, page, connections=4, duration=2, timeout=60)  # warm up
        for _ in range(3):  # alternating blocks: a drift of the machine hits both alike
            for name, source in (("page", page), ("noop", noop)):
                with CpuMeter(server) as meter:
                    r = closed_loop(server.port, source, connections=4, duration=seconds / 3)
                results[name].append(r)
                cpu[name] += meter.cores["server"] * r.duration
    out = {}
    for name, runs in results.items():
        merged = LoadResult.combine(runs)
        # CPU per request: the load-independent part of the comparison on a shared machine
        out[name] = {
            **merged.summary(),
            "server_cpu_ms_per_request": round(1000 * cpu[name] / max(merged.ok, 1), 3),
            "blocks_rate_per_s": [round(r.rate, 1) for r in runs],
        }
    log(f"{size} cases: page {out['page']['rate_per_s']}/s, no-op GET {out['noop']['rate_per_s']}/s")
    return out


def scheduler_pass(c: Container, ids: list[UUID]) -> dict[str, Any]:
    start = time.perf_counter()
    nothing = c.deadlines.run_once()
    idle = time.perf_counter() - start
    assert not nothing.fired
    # What each deadline a pass records costs: the scheduler's own command (an offer lapsed,
    # as the scheduler's system user), on a 200-case sample of the store.
    later = c.clock() + timedelta(days=62)
    ctx = Context(
        SYSTEM_USER, Agency.KONFLIKTRAD, later, c.rules, c.register, unit=unit_of(c, Agency.KONFLIKTRAD)
    )
    start = time.perf_counter()
    for case_id in ids[:200]:
        c.contracts.lapse(case_id, replace(ctx, shows_view=False))
    per_lapse = (time.perf_counter() - start) / 200
    return {"idle_pass_seconds": round(idle, 3), "seconds_per_deadline_recorded": round(per_lapse, 4)}


def run(seconds: float = 6.0, small: int = 1000, large: int = 20_000) -> list[Result]:
    figures: dict[int, dict[str, Any]] = {}
    for size in (small, large):
        with bench_database(f"worklist{size}") as (url, workdir, c):
            log(f"creating {size} offers through the application")
            ids = create_offers(c, size)
            figures[size] = measure(c, url, workdir, size, seconds)
            if size == large:
                figures[size]["scheduler"] = scheduler_pass(c, ids)
                log(f"scheduler over {size} cases: {figures[size]['scheduler']}")
    small_rate = figures[small]["page"]["rate_per_s"]
    large_rate = figures[large]["page"]["rate_per_s"]
    noop_rate = figures[large]["noop"]["rate_per_s"]
    size_ratio, noop_ratio = large_rate / small_rate, large_rate / noop_rate
    return [
        Result(
            f"worklist page ({PAGE} rows) with {large:,} cases",
            large_rate,
            "pages/s",
            small_rate,
            f"pages/s with {small:,} cases",
            size_ratio,
            "≥ 0.8× (issue 16)",
            size_ratio >= 0.8,
            figures,
        ),
        Result(
            f"worklist page ({PAGE} rows) with {large:,} cases vs a no-op GET",
            large_rate,
            "pages/s",
            noop_rate,
            "no-op GET/s",
            noop_ratio,
            "≥ 0.4× (issue 16)",
            noop_ratio >= 0.4,
            figures,
        ),
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = bench_parser(__doc__)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=20_000)
    args = parser.parse_args(argv)
    return report(run(args.seconds, args.small, args.large), args.json)


if __name__ == "__main__":
    main()
