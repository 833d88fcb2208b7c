"""The embedded default at rest (issue 14, finding 8): the per-person keys live in their own
SQLite file, apart from the events and read models, and everything the service creates
under `var/` is its user's alone (files 0600, folders 0700). A database from before the
split has its keys moved into the keystore file on the next start."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from infra.bootstrap import build
from tests.conftest import Clock, settings_for_tests
from tests.integration.flows import OFFER, offer, ok
from tests.reliability.live_server import LiveServer, offer_changes

KEY_TABLES = {"subject_keys", "case_subjects", "case_mentions"}


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def test_a_fresh_embedded_start_keeps_the_keys_apart_and_its_files_private(tmp_path: Path) -> None:
    server = LiveServer("sqlite:///var/ruskontrakt.sqlite", tmp_path).start()  # relative: ./var
    try:
        ok(server.post("prosecution", "/contracts", {**OFFER, **offer_changes()}), 201)
    finally:
        server.stop()
    var = tmp_path / "var"
    keystore = var / "ruskontrakt-keys.sqlite"
    assert _tables(keystore) >= KEY_TABLES, "the keys have a file of their own"
    for data in (var / "ruskontrakt.sqlite", var / "ruskontrakt-contracts.sqlite"):
        assert not KEY_TABLES & _tables(data), f"{data.name} holds no key"
    created = [var, *var.rglob("*"), tmp_path / "checkpoint-key.pem"]
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in created if p.exists()}
    assert modes[str(keystore.relative_to(tmp_path))] == 0o600
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (tmp_path / name).is_dir() else 0o600)
    }
    assert wrong == {}, "files 0600, folders 0700"


def test_keys_of_a_database_from_before_the_split_are_moved_into_the_keystore_file(
    tmp_path: Path, clock: Clock
) -> None:
    url = f"sqlite:///{tmp_path}/ruskontrakt.sqlite"
    old = build(settings_for_tests(url, tmp_path, keystore_url=url), clock=clock)  # the old layout
    try:
        from fastapi.testclient import TestClient

        from infra.api.app import create_app
        from tests.conftest import Api

        with TestClient(create_app(old)) as client:
            case_id = offer(Api(client, old, clock))
    finally:
        old.close()
    assert _tables(tmp_path / "ruskontrakt.sqlite") >= KEY_TABLES

    moved = build(settings_for_tests(url, tmp_path), clock=clock)
    try:
        assert moved.keys.key_for_case(case_id) is not None, "the case is still readable"
        assert moved.keys.cases_of(OFFER["youth"]["national_id"]) == [case_id]  # type: ignore[index]
    finally:
        moved.close()
    assert not KEY_TABLES & _tables(tmp_path / "ruskontrakt.sqlite"), "no key left beside the data"
    assert _tables(tmp_path / "ruskontrakt-keys.sqlite") >= KEY_TABLES
