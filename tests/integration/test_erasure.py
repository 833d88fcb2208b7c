"""After erasure no plaintext of the person is left in anything the service wrote; the
history still verifies and other people's data is intact (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import uuid
from datetime import date
from pathlib import Path

import psycopg

from tests.conftest import Api
from tests.integration.flows import OFFER, activate, fnr, ok

SERIALS = itertools.count(100)  # a national id of their own for every person here


def _person(tag: str) -> tuple[str, str, str]:
    digits = fnr(date(2009, 12, 1), next(SERIALS))
    return (
        f"Unikanavn {tag} {uuid.uuid4().hex[:8]}",
        digits,
        f"blaabaerhemmelighet-{uuid.uuid4().hex}",
    )


def _contract_for(api: Api, name: str, national_id: str, note: str) -> str:
    body = {**OFFER, "youth": {**OFFER["youth"], "name": name, "national_id": national_id}}  # type: ignore[dict-item]
    case_id = str(
        ok(api.post("prosecution", "/contracts", body, **{"Idempotency-Key": national_id}), 201)["id"]
    )
    activate(api, case_id)
    ok(
        api.post(
            "municipal_health",
            f"/contracts/{case_id}/meetings",
            {"kind": "conversation", "held_at": "2026-09-10T10:00:00+02:00", "attended": True, "notes": note},
        )
    )
    ok(api.get("konfliktrad", f"/contracts/{case_id}"))
    ok(api.get("police", "/contracts"))
    return case_id


def _written_files(api: Api) -> list[Path]:
    url = api.container.settings.database_url
    if url.startswith("sqlite"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        return [p for p in folder.rglob("*") if p.is_file()]
    with psycopg.connect(url) as conn:
        data_dir = Path(str(conn.execute("SHOW data_directory").fetchone()[0]))  # type: ignore[index]
        conn.execute("CHECKPOINT")
    return [p for p in data_dir.rglob("*") if p.is_file()]


def _leaks(files: list[Path], secrets: list[str]) -> list[str]:
    found = []
    for path in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue  # PostgreSQL removed it since the listing (pg_internal.init, temp files)
        found += [f"{s!r} in {path}" for s in secrets if s.encode() in data]
    return found


def test_erasing_a_person_leaves_no_plaintext_and_keeps_the_history_verifiable(api: Api) -> None:
    name, national_id, note = _person("Erase")
    other_name, other_id, other_note = _person("Keep")
    case_id = _contract_for(api, name, national_id, note)
    other_case = _contract_for(api, other_name, other_id, other_note)
    assert not _leaks(_written_files(api), [name, note]), "sealed even before erasure"

    erased = ok(api.post("auditor", f"/subjects/{national_id}/erase"))
    assert erased["erased_cases"] == [case_id]

    assert _leaks(_written_files(api), [name, national_id, note]) == []
    verified = ok(api.get("auditor", f"/contracts/{case_id}/verify"))
    assert verified["valid"] is True
    history = ok(api.get("auditor", f"/contracts/{case_id}/history"))
    assert all(e["payload"] == {"erased": True} for e in history["events"])
    assert api.get("konfliktrad", f"/contracts/{case_id}").status_code in (404, 410)
    assert api.post("konfliktrad", f"/contracts/{case_id}/complete").status_code in (404, 409, 410)

    kept = ok(api.get("konfliktrad", f"/contracts/{other_case}"))
    assert kept["youth"]["name"] == other_name
    assert kept["meetings"][0]["notes"] == other_note
    export = ok(api.get("auditor", f"/subjects/{national_id}/export"))
    assert export["contracts"][0]["erased"] is True and name not in str(export)


def test_erasing_a_youth_shreds_their_intake_records_and_the_export_says_so(api: Api) -> None:
    name, national_id, note = _person("Intake")
    case_id = _contract_for(api, name, national_id, note)
    intake = {
        "national_id": national_id,
        "municipality": "5001",
        "offence_date": "2026-09-01",
        "age_band": "16",
        "decision": "contract_offered",
        "decided_on": "2026-09-08",
        "contract_id": case_id,
        "reason": f"begrunnelse {note}",
    }
    recorded = ok(api.post("prosecution", "/intake", intake), 201)
    kept = ok(api.post("prosecution", "/intake", {**intake, "national_id": fnr(date(2009, 12, 1), 99),
                                                  "contract_id": None, "decision": "fine",
                                                  "reason": "beholdes"}), 201)  # fmt: skip
    before = ok(api.get("auditor", f"/subjects/{national_id}/export"))
    assert [r["record"]["reason"] for r in before["intake_records"]] == [f"begrunnelse {note}"]
    assert not _leaks(_written_files(api), [note]), "sealed even before erasure"

    ok(api.post("auditor", f"/subjects/{national_id}/erase"))

    after = ok(api.get("auditor", f"/subjects/{national_id}/export"))
    assert after["intake_records"] == [
        {"id": recorded["intake_id"], "recorded_at": recorded["recorded_at"], "erased": True, "record": None}
    ]
    assert _leaks(_written_files(api), [note, national_id]) == []
    other = ok(api.get("auditor", f"/subjects/{fnr(date(2009, 12, 1), 99)}/export"))
    assert [r["record"]["reason"] for r in other["intake_records"]] == ["beholdes"]
    assert kept["intake_id"] == other["intake_records"][0]["id"]
