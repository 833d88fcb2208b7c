"""Concurrent callers share one transaction per batch (leader and followers).

A caller that finds no write in progress leads: it writes everything waiting, its own
item included, in one transaction. Callers who arrive meanwhile wait; when the leader is
done it answers them and wakes the oldest one still waiting to lead the next batch. No
timer is needed (while one batch is written the next one forms by itself), and no
dedicated thread: handing work to a thread and back costs more than the writing.

A batch that fails is written again one item at a time, so a bad item fails only its
own caller and every other item is still written. Nobody is answered before their item
is durable.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar, cast

log = logging.getLogger("ruskontrakt.batching")
T = TypeVar("T")
R = TypeVar("R")


class _Waiter(Generic[T, R]):
    __slots__ = ("error", "item", "lead", "result", "settled", "wake")

    def __init__(self, item: T) -> None:
        self.item = item
        self.wake = threading.Event()
        self.settled = self.lead = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def settle(self, result: R | None = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.settled = result, error, True
        self.wake.set()


class BatchWriter(Generic[T, R]):
    def __init__(
        self,
        write: Callable[[list[T]], Sequence[R]],
        name: str,
        max_batch: int = 200,
        forget: Callable[[T], None] | None = None,
    ) -> None:
        """`write(items)` writes all items in one transaction and returns one result per
        item, in order. `forget(item)` runs for every item of a failed write (caches that
        the attempt may have advanced are dropped before anything is tried again)."""
        self.name = name
        self._write, self._forget, self._max_batch = write, forget, max_batch
        self._lock = threading.Lock()
        self._waiting: deque[_Waiter[T, R]] = deque()
        self._busy = False
        self.batches = 0  # for metrics and tests
        self.items = 0

    def submit(self, item: T) -> R:
        """Write `item` with whatever else is waiting; its result, or the write's error."""
        me: _Waiter[T, R] = _Waiter(item)
        with self._lock:
            self._waiting.append(me)
            me.lead, self._busy = not self._busy, True
        while not me.settled:
            if not me.lead:
                me.wake.wait()
                me.wake.clear()
                continue
            me.lead = False
            self._lead()
        if me.error is not None:
            raise me.error
        return cast(R, me.result)  # settled without an error: the write's result

    def _lead(self) -> None:
        with self._lock:
            batch = [self._waiting.popleft() for _ in range(min(self._max_batch, len(self._waiting)))]
        try:
            self._write_batch(batch)
        except BaseException as error:  # interrupted: nobody in the batch may wait for ever
            for waiter in batch:
                if not waiter.settled:
                    waiter.settle(error=error)
            raise
        finally:
            with self._lock:
                if self._waiting:
                    successor = self._waiting[0]
                    successor.lead = True
                    successor.wake.set()
                else:
                    self._busy = False

    def _write_batch(self, batch: list[_Waiter[T, R]]) -> None:
        self.batches += 1
        self.items += len(batch)
        try:
            results = self._write([w.item for w in batch])
        except Exception as error:
            for waiter in batch:
                self._forgotten(waiter.item)
            if len(batch) == 1:
                batch[0].settle(error=error)
                return
            log.debug("%s: batch of %d failed (%s); writing one by one", self.name, len(batch), error)
            for waiter in batch:
                self._write_one(waiter)
            return
        for waiter, result in zip(batch, results, strict=True):
            waiter.settle(result)

    def _write_one(self, waiter: _Waiter[T, R]) -> None:
        try:
            waiter.settle(self._write([waiter.item])[0])
        except Exception as error:
            self._forgotten(waiter.item)
            waiter.settle(error=error)

    def _forgotten(self, item: T) -> None:
        if self._forget is not None:
            self._forget(item)
