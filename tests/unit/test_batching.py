"""The batch writer: concurrent callers share writes, each gets its own result or error."""

from __future__ import annotations

import threading
from typing import Any

from services.batching import BatchWriter


class Recorder:
    """Writes lists of ints; refuses a batch holding a negative number; can hold the first write."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()

    def write(self, items: list[int]) -> list[int]:
        self.gate.wait(5)
        if any(i < 0 for i in items):
            raise ValueError("negative")
        self.batches.append(items)
        return [i * 10 for i in items]


def _submit_all(writer: BatchWriter[int, int], items: list[int], recorder: Recorder) -> list[Any]:
    results: list[Any] = [None] * len(items)
    started = threading.Barrier(len(items) + 1)

    def call(i: int) -> None:
        started.wait()
        try:
            results[i] = writer.submit(items[i])
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(items))]
    for t in threads:
        t.start()
    started.wait()
    while len(writer._waiting) < len(items) - 1:  # the first leads and waits at the gate
        threading.Event().wait(0.001)
    recorder.gate.set()
    for t in threads:
        t.join(10)
    return results


def test_callers_waiting_beyond_the_batch_size_are_written_in_later_batches() -> None:
    recorder = Recorder()
    writer: BatchWriter[int, int] = BatchWriter(recorder.write, "test", max_batch=3)
    results = _submit_all(writer, list(range(10)), recorder)
    assert results == [i * 10 for i in range(10)]
    assert sorted(i for b in recorder.batches for i in b) == list(range(10))
    assert all(len(b) <= 3 for b in recorder.batches) and len(recorder.batches) < 10


def test_a_bad_item_fails_alone_and_is_forgotten() -> None:
    recorder, forgotten = Recorder(), []
    writer: BatchWriter[int, int] = BatchWriter(recorder.write, "test", forget=forgotten.append)
    results = _submit_all(writer, [1, 2, -3, 4, 5], recorder)
    assert isinstance(results[2], ValueError)
    assert [r for i, r in enumerate(results) if i != 2] == [10, 20, 40, 50]
    assert -3 in forgotten


def test_a_lone_caller_writes_its_own_item_at_once() -> None:
    recorder = Recorder()
    recorder.gate.set()
    writer: BatchWriter[int, int] = BatchWriter(recorder.write, "test")
    assert writer.submit(7) == 70 and recorder.batches == [[7]]
    assert writer.submit(8) == 80 and recorder.batches == [[7], [8]]
