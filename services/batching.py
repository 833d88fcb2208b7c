"""Concurrent callers share one writer thread, and so one transaction per batch.

Each caller hands its item to the writer and waits for its own result. Whatever is
queued when the writer is free goes into the next batch: no timer is needed, because
while one batch is being written the next one forms by itself. A batch that fails is
written again one item at a time, so a bad item fails only its own caller and every
other item is still written. Nobody is answered before their item is durable.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

log = logging.getLogger("ruskontrakt.batching")
T = TypeVar("T")
R = TypeVar("R")


class BatchWriter(Generic[T, R]):
    def __init__(self, write: Callable[[list[T]], Sequence[R]], name: str, max_batch: int = 200,
                 forget: Callable[[T], None] | None = None) -> None:  # fmt: skip
        """`write(items)` writes all items in one transaction and returns one result per
        item, in order. `forget(item)` runs for every item of a failed write (caches that
        the attempt may have advanced are dropped before anything is tried again)."""
        self._write, self._forget, self._max_batch = write, forget, max_batch
        self._queue: queue.SimpleQueue[tuple[T, Future[R]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self.batches = 0  # for metrics and tests
        self.items = 0

    def submit(self, item: T) -> R:
        """Write `item` with whatever else is waiting; its result, or the write's error."""
        done: Future[R] = Future()
        self._queue.put((item, done))
        return done.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._write_batch(batch)
                    return
                batch.append(nxt)
            self._write_batch(batch)

    def _write_batch(self, batch: list[tuple[T, Future[R]]]) -> None:
        self.batches += 1
        self.items += len(batch)
        try:
            results = self._write([item for item, _ in batch])
        except Exception as error:
            for item, _ in batch:
                self._forgotten(item)
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            log.debug("batch of %d failed (%s); writing one by one", len(batch), error)
            for one in batch:
                self._write_one(*one)
            return
        for (_, done), result in zip(batch, results, strict=True):
            done.set_result(result)

    def _write_one(self, item: T, done: Future[R]) -> None:
        try:
            done.set_result(self._write([item])[0])
        except Exception as error:
            self._forgotten(item)
            done.set_exception(error)

    def _forgotten(self, item: T) -> None:
        if self._forget is not None:
            self._forget(item)
