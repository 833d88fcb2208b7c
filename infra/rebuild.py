"""Rebuilding the read models from the event store, split by case over processes.

Cases are independent (every read-model row belongs to one case), so worker i of n
projects only the cases of partition i (`services.projector.partition_of`): each worker
reads every notification but decodes and projects only its own cases, with positions of
its own. One process would be bound to one core by the interpreter's lock; n processes
use n cores. The calling process is worker 0, and a child process is each other one.
`ruskontrakt rebuild-projections` and `bench/bench_rebuild.py` call this.

The statistics projection (services/statistics.py) is rebuilt too: its counts are emptied
and counted again from both notification logs and the intake register, as the live
projection counts them (the register itself is kept: it is a source, not a projection).
On PostgreSQL one more child process counts them while the workers project: it shares no
table with the read models, and it decodes every event again, so where a core is spare,
counting beside the workers instead of after them takes its time out of the rebuild's (on
2 cores, beside PostgreSQL, it did not: BENCHMARKS.md, session 8). SQLite takes one writer
at a time: there, unless `--workers` asks for more, everything runs in turn in one process.
A case erased before the rebuild is counted only as far as its shredded events still tell
(its residence, for one, is gone with its key), so the rebuilt counts can lose what erased
cases had added to the live ones.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from infra.bootstrap import build
from infra.db.urls import is_postgres
from infra.settings import Settings
from services.projector import InProcessProjection, Projector

WAIT_SECONDS = 0.2  # how often the parent looks at its workers while they report nothing
# The collector's thresholds while a rebuild projects (Python's defaults: 700, 10, 10). A
# rebuild keeps every case's fold state, so the heap only grows, and each full collection
# walks all of it for next to nothing: on 18,000 events three of them took 0.35 s of 3.2 s.
REBUILD_GC_THRESHOLDS = (20_000, 20, 20)


def default_workers(settings: Settings) -> int:
    """On PostgreSQL every core but the one the statistics are counted on; one on SQLite,
    which takes one writer at a time."""
    if not is_postgres(settings.database_url):
        return 1
    return max(1, min((os.cpu_count() or 1) - 1, 8))


def rebuild(
    settings: Settings, workers: int = 1, batch: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    """Empty the read models and project every stored event again, and the statistics
    projection; the number of events the read models applied. On PostgreSQL the read models
    are projected by `workers` processes (this one among them) while one more counts, and
    so they are on SQLite when `workers` is more than one."""
    if workers > 1 or is_postgres(settings.database_url):
        return _in_processes(settings, workers, batch, progress or (lambda _n: None))
    container = build(settings)
    try:
        container.read_models.clear()
        applied = _project(container, (0, 1), batch, progress)
        rebuild_statistics(container, batch)
        return applied
    finally:
        container.close()


def rebuild_statistics(container: Any, batch: int) -> int:
    """Empty the statistics projection's counts and positions and count every source again,
    `batch` records of each per transaction; the number of events and intake records applied."""
    container.statistics.store.clear()
    with _fewer_collections():
        return int(container.statistics.projection.catch_up(batch))


@contextmanager
def _fewer_collections() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.set_threshold(*REBUILD_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _project(
    container: Any, partition: tuple[int, int], batch: int, progress: Callable[[int], None] | None
) -> int:
    index, workers = partition
    projector = Projector(
        container.apps,
        container.read_models,
        container.keys,
        container.rules,
        f"rebuild-{index}-of-{workers}",
        partition=partition,
    )
    projection = InProcessProjection(
        projector, container.apps, container.settings.relay_gap_timeout_seconds, batch
    )
    reported = 0

    def report(_read: int) -> None:  # what this worker applied, not what it read and passed over
        nonlocal reported
        if progress is not None:
            progress(projector.applied - reported)
        reported = projector.applied

    with _fewer_collections():
        projection.catch_up(progress=report)
    return projector.applied


def _in_processes(settings: Settings, workers: int, batch: int, progress: Callable[[int], None]) -> int:
    """This process projects partition 0 of `workers`, a child process each other partition,
    and one more child counts the statistics meanwhile."""
    # "spawn": a forked child would share the parent's connection pools and threads.
    context = multiprocessing.get_context("spawn")
    reports: Any = context.Queue()
    cleared = context.Event()  # the children start up while the read models are emptied
    # each child's name, and what it does: how its failure reads, its work and the work's arguments
    jobs: list[tuple[str, tuple[Any, ...]]] = [
        (f"rebuild-{i}-of-{workers}", ("", _project_share, (i, workers), batch, reports, cleared))
        for i in range(1, workers)
    ]
    jobs.append(("rebuild-statistics", ("the statistics: ", rebuild_statistics, batch)))
    processes = [
        context.Process(target=_child, args=(settings, reports, *job), name=name, daemon=True)
        for name, job in jobs
    ]
    children = _Children(processes, reports, progress)
    try:
        container = build(settings)
        try:
            container.read_models.clear()
            cleared.set()

            def report(applied: int) -> None:
                progress(applied)
                children.poll()  # a child that failed ends the rebuild now, not at the end

            applied = _project(container, (0, workers), batch, report)
        finally:
            container.close()
        return applied + children.wait()
    finally:
        children.stop()


class _Children:
    """The rebuild's child processes and what they report: events applied, done, or failed."""

    def __init__(self, processes: list[Any], reports: Any, progress: Callable[[int], None]) -> None:
        self.processes, self.reports, self.progress = processes, reports, progress
        self.applied = self.finished = 0
        for process in processes:
            process.start()

    def poll(self, timeout: float | None = None) -> None:
        """Take the reports waiting (waiting up to `timeout` for one); raise if a child failed."""
        while True:
            try:
                kind, value = self.reports.get(timeout=timeout) if timeout else self.reports.get_nowait()
            except queue.Empty:
                failed = [p for p in self.processes if p.exitcode not in (None, 0)]
                if failed:
                    raise RuntimeError(
                        f"{failed[0].name} failed (exit code {failed[0].exitcode}); "
                        "the read models are incomplete: run the rebuild again"
                    ) from None
                return
            timeout = None
            if kind == "applied":
                self.applied += value
                self.progress(value)
            elif kind == "done":
                self.finished += 1
            else:
                raise RuntimeError(f"a rebuild worker failed: {value}; run the rebuild again")

    def wait(self) -> int:
        """Once every child is done: the events the children applied."""
        while self.finished < len(self.processes):
            self.poll(WAIT_SECONDS)
        return self.applied

    def stop(self) -> None:
        for process in self.processes:
            if process.is_alive() and self.finished < len(self.processes):
                process.terminate()
            process.join(timeout=30)


def _child(settings: Settings, reports: Any, failed_as: str, work: Callable[..., Any], *args: Any) -> None:
    """A child process's life: a container of its own, `work(container, *args)`, then a report
    of how it ended (`failed_as` starts the report of a failure)."""
    try:
        container = build(settings)
        try:
            work(container, *args)
        finally:
            container.close()
    except BaseException as error:
        reports.put(("error", f"{failed_as}{type(error).__name__}: {error}"))
        raise
    reports.put(("done", 0))


def _project_share(
    container: Any, partition: tuple[int, int], batch: int, reports: Any, cleared: Any
) -> None:
    """A projecting child's work: its partition, once the read models are emptied."""
    cleared.wait()
    _project(container, partition, batch, lambda n: reports.put(("applied", n)))
