"""What the event-stream benchmarks share: the Kafka broker, a filled event store, topics.

The broker is the project's own (`infra/kafka/kafka.sh up`), PostgreSQL the dev cluster
(`bench.common.fresh_database`). When either cannot be started or reached the script
stops with an error: a stream benchmark never skips.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from bench.common import REPO, Result, bench_parser, create_active_contracts, grow_history, log, report
from infra.bootstrap import Container
from infra.settings import Settings

T = TypeVar("T")
KAFKA_SH = REPO / "infra" / "kafka" / "kafka.sh"
KAFKA_BOOTSTRAP = "127.0.0.1:19092"  # kafka.sh's client listener (RUSKONTRAKT_KAFKA_PORT)


def kafka_up() -> str:
    """Start the dev broker if needed and check that it answers; its bootstrap address."""
    done = subprocess.run(["bash", str(KAFKA_SH), "up"], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(
            f"Kafka did not start (infra/kafka/kafka.sh up exited {done.returncode}):\n"
            f"{done.stdout}{done.stderr}"
        )
    from infra.kafka.clients import reachable

    state = reachable(Settings(kafka_bootstrap=KAFKA_BOOTSTRAP))
    if state != "ok":
        raise SystemExit(f"Kafka at {KAFKA_BOOTSTRAP} is {state}")
    from kafka.record import util

    if util.crc32c_c is None:  # kafka-python's optional accelerator (`kafka-python[crc32c]`)
        log(
            "WARNING: the crc32c package is missing: kafka-python checksums every record batch "
            "in pure Python (about 3 MB/s), which caps producer and consumer rates"
        )
    return KAFKA_BOOTSTRAP


def topic_prefix(label: str) -> str:
    return f"bench{label}{time.strftime('%H%M%S')}{uuid.uuid4().hex[:4]}"


def kafka_env(bootstrap: str, prefix: str) -> dict[str, str]:
    return {"RUSKONTRAKT_KAFKA_BOOTSTRAP": bootstrap, "RUSKONTRAKT_KAFKA_TOPIC_PREFIX": prefix}


def kafka_settings(settings: Settings, bootstrap: str, prefix: str) -> Settings:
    return settings.model_copy(update={"kafka_bootstrap": bootstrap, "kafka_topic_prefix": prefix})


def delete_topics(settings: Settings) -> None:
    """Every topic of this run's prefix (best effort: a leftover topic only costs disk)."""
    from infra.kafka.clients import admin

    try:
        client = admin(settings)
        try:
            mine = [t for t in client.list_topics() if t.startswith(settings.kafka_topic_prefix + ".")]
            if mine:
                client.delete_topics(mine)
        finally:
            client.close()
    except Exception as error:
        log(f"could not delete the topics of {settings.kafka_topic_prefix}: {error!r}")


def fill_store(c: Container, cases: int, events_per_case: int, threads: int = 4, step: int = 4) -> list[UUID]:
    """`cases` active contracts grown to `events_per_case` events each (meetings). The cases
    grow in rounds of `step` events each, so the notification log interleaves them as
    many users working at once would: a batch of 1,000 notifications touches every case
    (a projection's worst case: every case's rows are rewritten in every batch). Saving
    `step` events at a time keeps the set-up short; it is not what is measured."""
    start = time.perf_counter()
    background = getattr(c, "background", None)
    if background is not None:
        # Embedded mode projects every save in a background thread: not during set-up (it
        # would compete with the benchmark afterwards, which measures projection itself).
        background.close()
    ids = create_active_contracts(c, cases, threads=threads)
    with ThreadPoolExecutor(threads) as pool:
        for target in range(min(events_per_case, 6 + step), events_per_case + step, step):
            grow = partial(grow_history, c, events=min(target, events_per_case), batch=step)
            list(pool.map(lambda case_id, grow=grow: grow(case_id=case_id), ids))
    total = sum(app.recorder.max_notification_id() or 0 for app in c.apps)
    log(f"event store: {cases} cases, {total} notifications in {time.perf_counter() - start:.1f} s")
    return ids


@contextmanager
def timed(label: str, into: dict[str, Any]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    into[label] = time.perf_counter() - start


def profiled(fn: Callable[[], T], path: str, what: str) -> T:
    """fn() under pyinstrument (wall clock, 1 ms); the text tree goes to `path`."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        return fn()
    finally:
        profiler.stop()
        Path(path).write_text(profiler.output_text(unicode=True, show_all=False))
        log(f"profile of the {what}: {path} (its time is inflated by the profiler)")


def store_bench_main(
    doc: str | None,
    run: Callable[[int, int, int, str | None], list[Result]],
    argv: list[str] | None,
    cases: int,
    profiled_side: str,
) -> list[dict[str, Any]]:
    """`main` of the benchmarks over a filled store (relay, rebuild): the same options."""
    parser = bench_parser(doc)
    parser.add_argument("--cases", type=int, default=cases)
    parser.add_argument("--events-per-case", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile", metavar="PATH", help=f"pyinstrument text of the last {profiled_side} round"
    )
    args = parser.parse_args(argv)
    results = run(
        min(args.cases, 2000),
        min(max(args.events_per_case, 6), 500),
        min(max(args.rounds, 1), 9),
        args.profile,
    )
    return report(results, args.json)


def read_text(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
