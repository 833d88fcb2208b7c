"""The worklist's opened names and the access log's row encoding (issue 20)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import services.messages
import services.queries as queries
from infra.db.access_log import document_of, rows_of
from services.access import AccessEntry
from services.messages import seal_json
from services.projector import row_aad
from services.queries import OpenedNames

KEY = os.urandom(32)


class FakeKeys:
    def __init__(self) -> None:
        self.keys: dict[str, bytes | None] = {"c1": KEY, "c2": KEY}
        self.listeners: list[Any] = []

    def key_for_case(self, case_id: str) -> bytes | None:
        return self.keys.get(case_id)

    def on_erased(self, listener: Any) -> None:
        self.listeners.append(listener)

    def erase(self, case_id: str) -> None:
        self.keys[case_id] = None
        for listener in self.listeners:
            listener([case_id])


def _opened(monkeypatch: Any) -> list[int]:
    calls = [0]
    original = services.messages.open_json

    def counting(*args: Any) -> Any:
        calls[0] += 1
        return original(*args)

    monkeypatch.setattr(queries, "open_json", counting)
    return calls


def test_a_name_is_opened_once_while_its_row_holds_the_same_seal(monkeypatch: Any) -> None:
    keys = FakeKeys()
    names = OpenedNames(keys)  # type: ignore[arg-type]
    opened = _opened(monkeypatch)
    sealed = seal_json("Ola Nordmann", KEY, row_aad("konfliktrad:u1", "c1"))
    assert [names.name("c1", "konfliktrad:u1", sealed) for _ in range(3)] == ["Ola Nordmann"] * 3
    assert opened[0] == 1
    resealed = seal_json("Ola N. Nordmann", KEY, row_aad("konfliktrad:u1", "c1"))  # projected again
    assert names.name("c1", "konfliktrad:u1", resealed) == "Ola N. Nordmann"
    assert opened[0] == 2


def test_an_erased_persons_name_is_never_served_from_the_cache() -> None:
    keys = FakeKeys()
    names = OpenedNames(keys)  # type: ignore[arg-type]
    sealed = seal_json("Ola Nordmann", KEY, row_aad("konfliktrad:u1", "c1"))
    other = seal_json("Kari Nordmann", KEY, row_aad("konfliktrad:u1", "c2"))
    assert names.name("c1", "konfliktrad:u1", sealed) == "Ola Nordmann"
    assert names.name("c2", "konfliktrad:u1", other) == "Kari Nordmann"
    keys.keys["c1"] = None  # the key is gone before the notice arrives: still nothing
    assert names.name("c1", "konfliktrad:u1", sealed) is None
    keys.erase("c1")  # the notice: the plaintext goes from memory too
    assert "c1" not in names._names and "c2" in names._names
    assert names.name("c2", "konfliktrad:u1", other) == "Kari Nordmann"


def test_access_log_rows_carry_each_entrys_own_values_as_json() -> None:
    """Each row decodes to its own entry's categories and basis: 1 stays 1 beside True,
    text stays text beside a list of it, and a shared time is written once as UTC."""
    at = datetime(2026, 9, 10, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    bases: list[dict[str, Any]] = [
        {"terms": "consent:c1", "unit": "u1"},
        {"terms": "consent:c1", "unit": "u1"},
        {"flag": True},
        {"flag": 1},
        {"all": ["a", "b"]},
        {"identity": ["role"], "terms": "role", "unit": "u1"},
        {"identity": [True], "name": "Ærlig Øye"},
    ]
    entries = [
        AccessEntry(at, "sub", "konfliktrad", "ref", f"c{i}", "worklist", ["terms", "identity"], basis)
        for i, basis in enumerate(bases)
    ]
    rows = rows_of(entries)
    assert [json.loads(r[7]) for r in rows] == bases
    assert [type(json.loads(r[7]).get("flag")) for r in rows[2:4]] == [bool, int]
    assert {r[6] for r in rows} == {'["terms","identity"]'}
    assert {r[0] for r in rows} == {"2026-09-10T10:00:00+00:00"}
    assert [r[4] for r in rows] == [f"c{i}" for i in range(len(bases))]
    document = json.loads(document_of(rows))
    assert document[6]["basis"] == rows[6][7] and document[0]["case_id"] == "c0"


class FakePageKeys(FakeKeys):
    def keys_for_cases(self, case_ids: list[str]) -> dict[str, bytes | None]:
        return {c: self.key_for_case(c) for c in case_ids}


def test_a_pages_names_come_opened_or_cached_and_none_once_the_key_is_gone(monkeypatch: Any) -> None:
    keys = FakePageKeys()
    names = OpenedNames(keys)  # type: ignore[arg-type]
    opened = _opened(monkeypatch)
    page = {
        "c1": seal_json("Ola Nordmann", KEY, row_aad("konfliktrad:u1", "c1")),
        "c2": seal_json("Kari Nordmann", KEY, row_aad("konfliktrad:u1", "c2")),
    }
    assert names.names("konfliktrad:u1", page) == {"c1": "Ola Nordmann", "c2": "Kari Nordmann"}
    assert names.names("konfliktrad:u1", page) == {"c1": "Ola Nordmann", "c2": "Kari Nordmann"}
    assert opened[0] == 2
    keys.keys["c2"] = None
    assert names.names("konfliktrad:u1", page) == {"c1": "Ola Nordmann", "c2": None}
