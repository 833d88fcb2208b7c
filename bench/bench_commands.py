"""Durable commands/s through the API on PostgreSQL, and p99 latency at half that rate.

quality.md: commands/s ≥ 0.5× the same HTTP stack answering a no-op POST with the same
body, and ≥ 3× the rate of one `Application.save()` per command; p99 at half the maximum
command rate ≤ 5× the no-op's p99 at the same rate.

One fresh database, ~300 active contracts, one real uvicorn server (bench/app.py). The
command is `POST /contracts/{id}/meetings` as konfliktrad, round-robin over the cases
(no two in-flight commands on one case, so no 409s from the load itself). Afterwards every
case's stored events are counted against the 2xx answers: nothing lost or duplicated.

Second baseline: with `RUSKONTRAKT_GROUP_COMMIT=0` when that setting exists; until then
the same domain command run in-process from 8 threads, one `Application.save()` each.

    .venv/bin/python -m bench.bench_commands [--cases 300] [--seconds 12] [--connections 8]
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

from bench.app import NOOP_PATH
from bench.common import (
    MEETING_JSON,
    Result,
    add_json_option,
    bench_database,
    bench_env,
    create_active_contracts,
    has_setting,
    log,
    meeting_command,
    report,
    stored_versions,
)
from bench.loadgen import LoadResult, Request, closed_loop, get, json_post, open_loop
from bench.server import BenchServer, CpuMeter
from domain.values import Agency
from infra.bootstrap import Container

ACTIVATION_EVENTS = 6  # offered, 2 consents, start-up scheduled, start-up held, plan agreed


class Load:
    """Round-robin requests over the cases, counting 2xx answers per case."""

    def __init__(self, cases: list[UUID], token: str) -> None:
        self.cases, self.token = cases, token
        self.ok: Counter[str] = Counter()
        self._next = itertools.cycle(cases)

    def commands(self) -> Request:
        return json_post(f"/contracts/{next(self._next)}/meetings", MEETING_JSON, self.token)

    def noops(self) -> Request:
        return json_post(NOOP_PATH.format(case_id=next(self._next)), MEETING_JSON, self.token)

    def count(self, req: Request, status: int, body: bytes) -> None:
        if 200 <= status < 300 and req[1].startswith("/contracts/"):
            self.ok[req[1].split("/")[2]] += 1


def run_phase(name: str, server: BenchServer | None, fn: Callable[[], LoadResult]) -> dict[str, Any]:
    with CpuMeter(server) as cpu:
        result = fn()
    log(f"{name}: {result.text()}; CPU cores {cpu.cores}")
    return {"name": name, **result.summary(), "cpu_cores": cpu.cores, "_result": result}


def save_per_command(c: Container, cases: list[UUID], seconds: float, threads: int = 8,
                     limit: int = 20_000) -> tuple[dict[str, Any], Counter[str]]:  # fmt: skip
    """The same domain command in-process, one load + `Application.save()` per command, from
    `threads` threads, each on its own slice of the cases (no conflicts)."""
    ok: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    command = meeting_command(c)
    deadline = time.perf_counter() + seconds

    def work(mine: list[UUID]) -> None:
        for i in range(limit):
            if time.perf_counter() >= deadline:
                return
            case_id = mine[i % len(mine)]
            try:
                c.contracts.command(case_id, command)
            except Exception as error:
                with lock:
                    errors[type(error).__name__] += 1
                continue
            with lock:
                ok[str(case_id)] += 1

    start = time.perf_counter()
    with CpuMeter(None) as cpu, ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, [cases[t::threads] for t in range(threads)]))
    took = time.perf_counter() - start
    total = sum(ok.values())
    summary = {"name": f"save per command, in-process, {threads} threads", "ok": total,
               "errors": dict(errors), "duration_s": round(took, 3), "rate_per_s": round(total / took, 1),
               "cpu_cores": cpu.cores}  # fmt: skip
    log(f"save per command ({threads} threads): {total} commands in {took:.1f} s = "
        f"{total / took:.1f}/s, errors {dict(errors) or 'none'}; CPU cores {cpu.cores}")  # fmt: skip
    return summary, ok


def check_events(c: Container, cases: list[UUID], *counts: Counter[str]) -> dict[str, Any]:
    """Stored events per case against activation + every acknowledged command."""
    lost = duplicated = gaps = 0
    for case_id in cases:
        versions = stored_versions(c, case_id)
        expected = ACTIVATION_EVENTS + sum(n[str(case_id)] for n in counts)
        lost += max(0, expected - len(versions))
        duplicated += max(0, len(versions) - expected)
        gaps += versions != list(range(1, len(versions) + 1))
    return {"cases": len(cases), "acknowledged": sum(sum(n.values()) for n in counts),
            "lost": lost, "duplicated": duplicated, "cases_with_version_gaps": gaps,
            "ok": lost == duplicated == gaps == 0}  # fmt: skip


def run(cases: int = 300, seconds: float = 12.0, connections: int = 8) -> list[Result]:
    with bench_database("commands") as (url, workdir, c):
        log(f"creating {cases} active contracts through the application")
        ids = create_active_contracts(c, cases)
        token = c.tokens.issue(Agency.KONFLIKTRAD, "bench-konfliktrad", ttl=3600)
        load = Load(ids, token)
        phases: dict[str, dict[str, Any]] = {}
        group_commit = has_setting("group_commit")
        with BenchServer(bench_env(url, workdir), workdir) as server:
            # the first read projects the set-up events in-process; then warm both routes
            closed_loop(server.port, lambda: get(f"/contracts/{ids[0]}", token), connections=1, count=1,
                        timeout=60)  # fmt: skip
            closed_loop(server.port, load.noops, connections, duration=2)
            closed_loop(server.port, load.commands, connections, duration=2, on_response=load.count)
            phases["noop"] = run_phase("no-op POST, closed loop", server, lambda: closed_loop(
                server.port, load.noops, connections, duration=seconds))  # fmt: skip
            phases["commands"] = run_phase("commands, closed loop", server, lambda: closed_loop(
                server.port, load.commands, connections, duration=seconds,
                on_response=load.count))  # fmt: skip
        if group_commit:
            with BenchServer(bench_env(url, workdir, group_commit="0"), workdir) as server:
                closed_loop(server.port, lambda: get(f"/contracts/{ids[0]}", token), connections=1, count=1,
                            timeout=60)  # fmt: skip
                closed_loop(server.port, load.commands, connections, duration=2, on_response=load.count)
                phases["baseline2"] = run_phase(
                    "commands with RUSKONTRAKT_GROUP_COMMIT=0", server, lambda: closed_loop(
                        server.port, load.commands, connections, duration=seconds,
                        on_response=load.count))  # fmt: skip
            inproc: Counter[str] = Counter()
            baseline2_label = "the same load with RUSKONTRAKT_GROUP_COMMIT=0"
        else:
            phases["baseline2"], inproc = save_per_command(c, ids, min(seconds, 10.0))
            baseline2_label = "one Application.save() per command, in-process, 8 threads"
        max_rate = phases["commands"]["rate_per_s"]
        half = max(1.0, max_rate / 2)
        open_seconds = min(seconds * 1.25, 15.0)  # a few more samples for the p99
        with BenchServer(bench_env(url, workdir), workdir) as server:
            closed_loop(server.port, lambda: get(f"/contracts/{ids[0]}", token), connections=1, count=1,
                        timeout=60)  # fmt: skip
            closed_loop(server.port, load.commands, connections, duration=2, on_response=load.count)
            phases["commands_open"] = run_phase(
                f"commands, open loop at {half:.1f}/s", server, lambda: open_loop(
                    server.port, load.commands, half, duration=open_seconds, connections=64,
                    on_response=load.count))  # fmt: skip
            phases["noop_open"] = run_phase(
                f"no-op POST, open loop at {half:.1f}/s", server, lambda: open_loop(
                    server.port, load.noops, half, duration=open_seconds, connections=64))  # fmt: skip
        check = check_events(c, ids, load.ok, inproc)
        log(f"check: {check}")
    for phase in phases.values():
        phase.pop("_result", None)
    noop, cmd, base2 = phases["noop"], phases["commands"], phases["baseline2"]
    details = {"phases": phases, "events_check": check, "cases": cases, "connections": connections,
               "seconds": seconds, "group_commit_setting": group_commit}  # fmt: skip
    r_noop = cmd["rate_per_s"] / noop["rate_per_s"] if noop["rate_per_s"] else 0.0
    r_base2 = cmd["rate_per_s"] / base2["rate_per_s"] if base2["rate_per_s"] else 0.0
    integrity = "" if check["ok"] else " [EVENTS CHECK FAILED]"
    first = Result("durable commands/s through the API (PostgreSQL) vs no-op POST", cmd["rate_per_s"],
                   "commands/s", noop["rate_per_s"], "no-op POST/s", r_noop, f"≥ 0.5×{integrity}",
                   r_noop >= 0.5 and check["ok"], details)  # fmt: skip
    second = Result(f"durable commands/s through the API vs {baseline2_label}", cmd["rate_per_s"],
                    "commands/s", base2["rate_per_s"], "commands/s", r_base2, f"≥ 3×{integrity}",
                    r_base2 >= 3 and check["ok"])  # fmt: skip
    p_cmd, p_noop = phases["commands_open"]["p99_ms"], phases["noop_open"]["p99_ms"]
    r_p99 = p_cmd / p_noop if p_noop else float("inf")
    third = Result(f"p99 command latency at half the maximum rate ({half:.1f}/s, open loop)", p_cmd, "ms",
                   p_noop, "ms (no-op p99 at the same rate)", r_p99, "≤ 5×", r_p99 <= 5)  # fmt: skip
    return [first, second, third]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--connections", type=int, default=8)
    add_json_option(parser)
    args = parser.parse_args(argv)
    return report(run(args.cases, min(args.seconds, 15.0), min(max(args.connections, 1), 64)), args.json)


if __name__ == "__main__":
    main()
