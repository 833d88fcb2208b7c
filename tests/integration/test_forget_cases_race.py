"""Forgetting erased cases cannot lose a race with a projector batch (issue 14): a batch
that is writing a case's documents when the erasure forgets the case must not put them
back after the forget. On PostgreSQL the forget waited for nothing (failed before: the
batch's uncommitted rows were invisible to its DELETE and committed after it); SQLite
serialises every writer anyway."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from infra.db.read_models import ReadModels
from infra.db.sql import Database

WAIT_S = 0.5


def _batch_writing(
    models: ReadModels, case_id: str, written: threading.Event, go_on: threading.Event
) -> None:
    """A projector batch: progress row locked (created), documents and rows written, then it
    holds its transaction open until told to commit."""
    with models.transaction() as tx:
        tx.lock_cases("contract", [case_id])
        tx.save_cases([("contract", case_id, 1, "offered", ["ContractOffered"], 1)])
        tx.save_docs([("prosecution", "contract", case_id, "p1", b"sealed document")])
        tx.save_rows([("prosecution", "contract", case_id, {"id": case_id, "policy_version": "p1"}, None)])
        written.set()
        assert go_on.wait(10)


@pytest.mark.parametrize("progress", ["new case", "case projected before"])
def test_a_forget_during_a_projector_batch_waits_for_it_and_leaves_nothing(
    database_url: str, progress: str
) -> None:
    projector, eraser = ReadModels(Database(database_url)), ReadModels(Database(database_url))
    case_id = str(uuid.uuid4())
    if progress == "case projected before":  # its progress row exists: the batch updates it
        with projector.transaction() as tx:
            tx.lock_cases("contract", [case_id])
    written, go_on, forgotten = threading.Event(), threading.Event(), threading.Event()
    batch = threading.Thread(target=_batch_writing, args=(projector, case_id, written, go_on))
    batch.start()
    assert written.wait(10)

    def forget() -> None:
        eraser.forget_cases([case_id])
        forgotten.set()

    forgetting = threading.Thread(target=forget)
    forgetting.start()
    try:
        time.sleep(WAIT_S)
        assert not forgotten.is_set(), "the forget waits for the batch that holds the case"
    finally:
        go_on.set()
        batch.join(10)
        forgetting.join(10)
    assert forgotten.is_set()
    assert eraser.view("prosecution", case_id, "contract") is None, "the document did not come back"
    assert [r for r in eraser.rows("prosecution", "contract") if r.get("id") == case_id] == []
