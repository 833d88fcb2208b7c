"""Full projection rebuild, events/s, vs reading and decoding the same notifications.

quality.md: a rebuild (what `ruskontrakt rebuild-projections` does: empty the read models,
then project every event again, in its batches of events, shared by case over its default
number of processes, with one more counting the statistics beside them: `infra/rebuild.py`)
≥ 0.5× the rate of reading the same notification logs and decoding every event to a record
with no projection at all, in one process (the same `NotificationReader` reads, then
`record_or_placeholder`: unseal, transcode, plain record). The rebuild with the other choice
of `--workers` (every core when the default is one, else one) is measured too, as an
informative line.

PostgreSQL (the durable backend), one fresh database filled with active contracts and
their meetings. Each round runs in a freshly built container, as the CLI does in a new
process, so both sides start with an empty key cache and no projector state. Rounds
alternate; medians are compared. Every rebuild must end with each case at its stored
version and the same rows as the first one (nothing lost, nothing applied twice).

    .venv/bin/python -m bench.bench_rebuild [--cases 300] [--events-per-case 60] [--rounds 3]
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import Result, bench_database, log
from bench.streams import fill_store, profiled, store_bench_main
from infra.bootstrap import build
from infra.cli_streams import REBUILD_BATCH
from infra.rebuild import default_workers, rebuild
from infra.settings import Settings
from services.notification_reader import NotificationReader

BATCH = REBUILD_BATCH  # `ruskontrakt rebuild-projections --batch` default


def decode_round(settings: Settings) -> tuple[float, int]:
    """The baseline: every notification read and decoded to a record, nothing projected."""
    c = build(settings)
    try:
        start = time.perf_counter()
        done = 0
        for app in c.apps:
            follower, after = NotificationReader(app.recorder, settings.relay_gap_timeout_seconds), 0
            while notifications := follower.read(after, BATCH):
                done += len([app.record_or_placeholder(n) for n in notifications])
                after = notifications[-1].id
        return time.perf_counter() - start, done
    finally:
        c.close()


def rebuild_round(settings: Settings, workers: int) -> tuple[float, int]:
    """`ruskontrakt rebuild-projections --workers N` without the progress bar: the workers'
    start-up (a new interpreter each, imports, connections) is part of the time."""
    start = time.perf_counter()
    done = rebuild(settings, workers, BATCH)
    return time.perf_counter() - start, done


def rows(settings: Settings) -> dict[str, Any]:
    """What a rebuild must reproduce exactly (the case documents and the worklist's names
    are sealed with a fresh nonce each time: of those only their owners and whether a
    name is there are compared)."""
    c = build(settings)
    try:
        dump = c.read_models.dump()
        dump["rm_case_views"] = sorted(r[:3] for r in dump["rm_case_views"])
        dump["rm_worklist"] = sorted((*r[:-1], r[-1] is not None) for r in dump["rm_worklist"])
        return dump
    finally:
        c.close()


def run(
    cases: int = 300, events_per_case: int = 60, rounds: int = 3, profile: str | None = None
) -> list[Result]:
    # Set-up saves without group commit: it is not what is measured (see bench_relay).
    with bench_database("rebuild", group_commit=False) as (_url, _workdir, c):
        fill_store(c, cases, events_per_case)
        settings = c.settings
        events = sum(app.recorder.max_notification_id() or 0 for app in c.apps)
        workers = default_workers(settings)
        other = (os.cpu_count() or 1) if workers == 1 else 1
        times: dict[str, list[float]] = {"rebuild": [], "decode": [], "rebuild_other": []}
        sides: dict[str, Callable[[Settings], tuple[float, int]]] = {
            "decode": decode_round,
            "rebuild": lambda s: rebuild_round(s, workers),
            "rebuild_other": lambda s: rebuild_round(s, other),
        }
        first: dict[str, Any] | None = None
        for n in range(rounds):
            for name, side in sides.items():
                if profile and name == "rebuild" and n == rounds - 1:
                    took, done = profiled(lambda f=side: f(settings), profile, "rebuild round")
                else:
                    took, done = side(settings)
                if done != events:
                    raise SystemExit(f"{name} round {n}: {done} events, expected {events}")
                times[name].append(took)
                log(f"round {n} {name}: {events} events in {took:.2f} s = {events / took:,.0f}/s")
            now = rows(settings)
            first = first or now
            if now != first:
                raise SystemExit(f"rebuild round {n} gave different read models than round 0")
        check_versions(first, cases, events_per_case)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    rate = {name: events / t for name, t in med.items()}
    ratio = rate["rebuild"] / rate["decode"]
    other_ratio = rate["rebuild_other"] / rate["decode"]
    details = {
        "events": events,
        "cases": cases,
        "batch": BATCH,
        "rounds": rounds,
        "workers": workers,
        "other_workers": other,
        "seconds": {k: [round(t, 3) for t in v] for k, v in times.items()},
    }
    return [
        Result(
            f"full projection rebuild, events/s ({workers} projecting, 1 counting the statistics: "
            "rebuild-projections by default here)",
            rate["rebuild"],
            "events/s",
            rate["decode"],
            "events/s (read + decode in one process, no projection)",
            ratio,
            "≥ 0.5×",
            ratio >= 0.5,
            details,
        ),
        Result(
            f"full projection rebuild with --workers {other}",
            rate["rebuild_other"],
            "events/s",
            rate["decode"],
            "events/s (read + decode, no projection)",
            other_ratio,
            "informative",
            None,
        ),
    ]


def check_versions(dump: dict[str, Any] | None, cases: int, events_per_case: int) -> None:
    assert dump is not None
    versions = [r[2] for r in dump["rm_cases"]]
    if len(versions) != cases or set(versions) != {events_per_case}:
        raise SystemExit(
            f"rebuilt cases or versions are wrong: {len(versions)} cases, versions "
            f"{sorted(set(versions))}, expected {cases} at {events_per_case}"
        )


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    return store_bench_main(__doc__, run, argv, cases=300, profiled_side="rebuild")


if __name__ == "__main__":
    main()
