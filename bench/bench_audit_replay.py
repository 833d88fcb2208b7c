"""Audit replay of one case with 1,000 events vs reading and decoding those events.

quality.md: `services.audit.history` (every event as a record, plus the folded state)
≤ 2× the time of `app.stored_events` + `app.mapper.to_domain_event` on the same events.
Both sides read from PostgreSQL and decrypt with the (cached) person key; the two are
timed alternately, several rounds, and the medians compared.

    .venv/bin/python -m bench.bench_audit_replay [--events 1000] [--rounds 9]
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from bench.common import (
    Result,
    bench_database,
    bench_parser,
    create_active_contract,
    grow_history,
    log,
    report,
)
from services.audit import history
from services.sealed_application import SealedApplication


def decode_only(app: SealedApplication, case_id: UUID) -> int:
    return len([app.mapper.to_domain_event(s) for s in app.stored_events(case_id)])


def replay(app: SealedApplication, case_id: UUID) -> int:
    return len(history(app, case_id)["events"])


def alternate(fns: dict[str, Callable[[], int]], rounds: int, budget: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in fns}
    deadline = time.perf_counter() + budget
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return times


def run(events: int = 1000, rounds: int = 9) -> list[Result]:
    with bench_database("audit") as (_url, _workdir, c):
        case_id = create_active_contract(c, 1)
        version = grow_history(c, case_id, events)
        app = c.contracts
        log(f"case {case_id} has {version} events")
        assert decode_only(app, case_id) == replay(app, case_id) == events
        times = alternate(
            {"history": lambda: replay(app, case_id), "decode": lambda: decode_only(app, case_id)},
            rounds,
            budget=60,
        )
    med = {name: statistics.median(ts) for name, ts in times.items()}
    ratio = med["history"] / med["decode"]
    seconds = {k: [round(t, 4) for t in v] for k, v in times.items()}
    details: dict[str, Any] = {"events": events, "rounds": len(times["history"]), "seconds": seconds}
    log(f"history median {med['history'] * 1000:.1f} ms, decode median {med['decode'] * 1000:.1f} ms")
    return [
        Result(
            f"audit replay of one case with {events} events (services.audit.history)",
            med["history"] * 1000,
            "ms",
            med["decode"] * 1000,
            "ms (read + decode)",
            ratio,
            "≤ 2×",
            ratio <= 2,
            details,
        )
    ]


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = bench_parser(__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    return report(run(min(args.events, 5000), min(args.rounds, 50)), args.json)


if __name__ == "__main__":
    main()
