"""Rebuilding the read models from the event store, split by case over worker processes.

Cases are independent (every read-model row belongs to one case), so worker i of n
projects only the cases of partition i (`services.projector.partition_of`): each worker
reads every notification but decodes and projects only its own cases, with positions of
its own. One process would be bound to one core by the interpreter's lock; n processes
use n cores. `ruskontrakt rebuild-projections` and `bench/bench_rebuild.py` call this.

The statistics projection (services/statistics.py) is rebuilt too, after the read models,
in one process: its counts are emptied and counted again from both notification logs and
the intake register, as the live projection counts them (the register itself is kept: it
is a source, not a projection). A case erased before the rebuild is counted only as far as
its shredded events still tell (its residence, for one, is gone with its key), so the
rebuilt counts can lose what erased cases had added to the live ones.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable
from typing import Any

from infra.bootstrap import build
from infra.db.urls import is_postgres
from infra.settings import Settings
from services.projector import InProcessProjection, Projector

WAIT_SECONDS = 0.2  # how often the parent looks at its workers while they report nothing


def default_workers(settings: Settings) -> int:
    """Every core on PostgreSQL; one on SQLite, which takes one writer at a time."""
    return max(1, min(os.cpu_count() or 1, 8)) if is_postgres(settings.database_url) else 1


def rebuild(
    settings: Settings, workers: int = 1, batch: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    """Empty the read models and project every stored event again, then the statistics
    projection; the number of events the read models applied."""
    if workers > 1:
        applied = _in_processes(settings, workers, batch, progress or (lambda _n: None))
        container = build(settings)
        try:
            rebuild_statistics(container)
        finally:
            container.close()
        return applied
    container = build(settings)
    try:
        container.read_models.clear()
        applied = _project(container, (0, 1), batch, progress)
        rebuild_statistics(container)
        return applied
    finally:
        container.close()


def rebuild_statistics(container: Any) -> int:
    """Empty the statistics projection's counts and positions and count every source again;
    the number of events and intake records applied."""
    container.statistics.store.clear()
    return int(container.statistics.projection.catch_up())


def _clear(settings: Settings) -> None:
    container = build(settings)
    try:
        container.read_models.clear()
    finally:
        container.close()


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

    projection.catch_up(progress=report)
    return projector.applied


def _in_processes(settings: Settings, workers: int, batch: int, progress: Callable[[int], None]) -> int:
    # "spawn": a forked child would share the parent's connection pools and threads.
    context = multiprocessing.get_context("spawn")
    reports: Any = context.Queue()
    cleared = context.Event()  # the workers start up while the read models are emptied
    processes = [
        context.Process(
            target=_worker,
            args=(settings, (i, workers), batch, reports, cleared),
            name=f"rebuild-{i}-of-{workers}",
            daemon=True,
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    applied, finished = 0, 0
    try:
        _clear(settings)
        cleared.set()
        while finished < workers:
            try:
                kind, value = reports.get(timeout=WAIT_SECONDS)
            except queue.Empty:
                failed = [p for p in processes if p.exitcode not in (None, 0)]
                if failed:
                    raise RuntimeError(
                        f"{failed[0].name} failed (exit code {failed[0].exitcode}); "
                        "the read models are incomplete: run the rebuild again"
                    ) from None
                continue
            if kind == "applied":
                applied += value
                progress(value)
            elif kind == "done":
                finished += 1
            else:
                raise RuntimeError(f"a rebuild worker failed: {value}; run the rebuild again")
    finally:
        for process in processes:
            if process.is_alive() and finished < workers:
                process.terminate()
            process.join(timeout=30)
    return applied


def _worker(settings: Settings, partition: tuple[int, int], batch: int, reports: Any, cleared: Any) -> None:
    try:
        container = build(settings)
        try:
            cleared.wait()
            _project(container, partition, batch, lambda n: reports.put(("applied", n)))
        finally:
            container.close()
    except BaseException as error:
        reports.put(("error", f"{type(error).__name__}: {error}"))
        raise
    reports.put(("done", 0))
