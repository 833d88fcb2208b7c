"""The read path made cheaper (issue 20) without giving up what reads promise.

Embedded mode: a read sees every committed event, also one another process committed,
but a read with nothing new runs no projection. A worklist page's access-log entries
go in one write (on PostgreSQL, the statement that reads the page), and no read, however
many run at once, is answered unlogged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.api.app import create_app
from infra.bootstrap import build
from tests.conftest import Api
from tests.integration.flows import OFFER, offer, ok


def _count_calls(target: Any, name: str) -> list[int]:
    calls = [0]
    original: Callable[..., Any] = getattr(target, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    setattr(target, name, counting)
    return calls


def test_reads_with_nothing_new_in_the_store_run_no_projection(api: Api) -> None:
    case_id = offer(api)
    ok(api.get("konfliktrad", f"/contracts/{case_id}"))  # this process has applied the offer
    projection = api.container.projection
    assert projection is not None
    # Every projection pass reads the logs from its position on; none is made.
    calls = [_count_calls(reader, "read") for reader in projection.readers.values()]
    for _ in range(5):
        ok(api.get("konfliktrad", f"/contracts/{case_id}"))
        ok(api.get("konfliktrad", "/contracts"))
    assert [c[0] for c in calls] == [0, 0]
    created = offer(api)  # something new: the next read applies it (the thread may be first)
    assert created in {row["id"] for row in ok(api.get("konfliktrad", "/contracts"))["items"]}


def test_a_read_sees_a_case_another_process_committed_a_moment_before(api: Api, tmp_path: Path) -> None:
    """The other process never wakes this one's projection thread: the read itself finds
    the log longer than what this process applied, and applies it before it answers."""
    ok(api.get("konfliktrad", "/contracts"))
    other = build(api.container.settings, clock=api.clock)
    try:
        from fastapi.testclient import TestClient

        with TestClient(create_app(other)) as client:
            answer = client.post("/contracts", json=OFFER, headers=api.headers("prosecution"))
            assert answer.status_code == 201, answer.text
            case_id = answer.json()["id"]
        assert ok(api.get("konfliktrad", f"/contracts/{case_id}"))["id"] == case_id
        assert case_id in {row["id"] for row in ok(api.get("konfliktrad", "/contracts"))["items"]}
    finally:
        other.close()


def test_a_read_sees_the_change_another_process_made_to_a_case_it_has_shown(api: Api) -> None:
    """The stored document is there, but older than the log: the read must not answer it."""
    case_id = offer(api)
    assert ok(api.get("konfliktrad", f"/contracts/{case_id}"))["version"] == 1
    assert ok(api.get("konfliktrad", "/contracts"))["items"][0]["version"] == 1
    other = build(api.container.settings, clock=api.clock)
    try:
        from fastapi.testclient import TestClient

        assert other.embedded is not None
        other.embedded.background.close()  # so nobody projects the change before the read
        with TestClient(create_app(other)) as client:
            answer = client.post(
                f"/contracts/{case_id}/consents",
                json={"signatory": "youth", "scope": [], "booklet_version": "2026-1"},
                headers=api.headers("konfliktrad"),
            )
            assert answer.status_code == 200, answer.text
        assert ok(api.get("konfliktrad", f"/contracts/{case_id}"))["version"] == 2
        assert ok(api.get("konfliktrad", "/contracts"))["items"][0]["version"] == 2
    finally:
        other.close()


def _worklist_entries(api: Api) -> list[dict[str, Any]]:
    entries = api.container.access_log.query(agency="konfliktrad")
    return [{k: v for k, v in e.items() if k != "at"} for e in entries if e["action"] == "worklist"]


def test_a_worklist_page_logs_its_rows_in_one_write(api: Api) -> None:
    for _ in range(12):
        offer(api)
    writer = api.container.access_log._writer
    batches, items = writer.batches, writer.items
    page = ok(api.get("konfliktrad", "/contracts?limit=10"))
    assert len(page["items"]) == 10
    # PostgreSQL: the entries are written by the statement that reads the page (made there
    # in SQL); SQLite: one batch of the access log for the page's rows.
    in_sql = api.container.read_models.logs_reads
    assert in_sql == api.container.read_models.db.postgres
    assert (writer.batches - batches, writer.items - items) == ((0, 0) if in_sql else (1, 1))
    logged = _worklist_entries(api)
    # Exactly the rows shown (not the eleventh the page read to know there is a next one),
    # with the entries the access recorder makes of them, wherever they were made.
    ctx = api.container.context(api.container.tokens.verify(api.token("konfliktrad")))
    expected = [e._asdict() for e in api.container.access.entries(ctx, "worklist", page["items"])]
    assert sorted(logged, key=lambda e: e["case_id"]) == sorted(
        ({k: v for k, v in e.items() if k != "at"} for e in expected), key=lambda e: e["case_id"]
    )
    assert all(e["subject_ref"] and e["basis"]["unit"] and e["categories"] for e in logged)


def test_a_page_read_again_because_another_process_wrote_is_logged_once(api: Api) -> None:
    """The first read of the page finds the log moved on (another process's command): it
    is read again, and only what is shown is logged, once."""
    case_id = offer(api)
    ok(api.get("konfliktrad", "/contracts"))
    other = build(api.container.settings, clock=api.clock)
    try:
        from fastapi.testclient import TestClient

        assert other.embedded is not None
        other.embedded.background.close()  # so nobody projects the change before the read
        with TestClient(create_app(other)) as client:
            answer = client.post(
                f"/contracts/{case_id}/consents",
                json={"signatory": "youth", "scope": [], "booklet_version": "2026-1"},
                headers=api.headers("konfliktrad"),
            )
            assert answer.status_code == 200, answer.text
        before = len(_worklist_entries(api))
        assert ok(api.get("konfliktrad", "/contracts"))["items"][0]["version"] == 2
        assert len(_worklist_entries(api)) - before == 1
    finally:
        other.close()


def test_every_one_of_concurrent_reads_is_logged_before_it_answers(api: Api) -> None:
    case_id = offer(api)
    ok(api.get("konfliktrad", f"/contracts/{case_id}"))
    writer = api.container.access_log._writer
    before = len(
        [e for e in api.container.access_log.query(agency="konfliktrad") if e["action"] == "case_view"]
    )
    items = writer.items
    headers = api.headers("konfliktrad")
    answers: list[int] = []

    def reads() -> None:
        for _ in range(10):
            answers.append(api.client.get(f"/contracts/{case_id}", headers=headers).status_code)

    threads = [threading.Thread(target=reads) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200] * 60
    assert writer.items - items == 60
    logged = [e for e in api.container.access_log.query(agency="konfliktrad") if e["action"] == "case_view"]
    assert len(logged) - before == 60
