"""Every read of personal data is in the access log: who, agency, subject, fields and basis
(quality.md reliability 9), route by route, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.api.app import create_app
from infra.bootstrap import build
from tests.conftest import Api, Clock, settings_for_tests
from tests.integration.flows import OFFER, SIGNATORIES, consent_all, offer, ok

PERSON = {"name": "Per Hansen", "national_id": "03041050100", "birth_date": "2010-04-03"}
READS = [  # (agency, path, logged action)
    ("konfliktrad", "/contracts", "worklist"),
    ("konfliktrad", "/contracts/{contract}", "case_view"),
    ("auditor", "/contracts/{contract}/history", "history"),
    ("auditor", "/contracts/{contract}/views/konfliktrad", "agency_view:konfliktrad"),
    ("konfliktrad", "/subjects/{youth}/export", "subject_export"),
    ("konfliktrad", "/streams/konfliktrad?limit=2&timeout=2", "stream"),
    ("police", "/prevention-cases", "prevention_worklist"),
    ("police", "/prevention-cases/{prevention}", "prevention_case_view"),
]


@pytest.mark.parametrize(("agency", "path", "action"), READS, ids=[r[2] for r in READS])
def test_a_read_of_personal_data_logs_who_read_whose_which_fields_and_on_which_basis(
    api: Api, agency: str, path: str, action: str
) -> None:
    contract = offer(api)
    consent_all(api, contract)
    prevention = ok(api.post("police", "/prevention-cases", {"person": PERSON, "municipality": "5001"}), 201)[
        "id"
    ]
    youth = str(OFFER["youth"]["national_id"])  # type: ignore[index]
    subject = api.container.keys.subject_ref(PERSON["national_id"] if "prevention" in path else youth)

    response = api.get(agency, path.format(contract=contract, prevention=prevention, youth=youth))
    assert response.status_code == 200, response.text

    entries = [e for e in api.container.access_log.query(agency=agency) if e["action"] == action]
    assert entries, f"{action} was not logged"
    for entry in entries:
        assert entry["sub"] == f"{agency}-user" and entry["agency"] == agency
        assert entry["subject_ref"] == subject
        assert entry["categories"], "which fields were read"
        assert entry["basis"], "on which basis"


def _command_entries(api: Api) -> list[tuple[str, str, str | None]]:
    return sorted(
        (e["agency"], e["action"], e["subject_ref"])
        for e in api.container.access_log.query()
        if e["action"].startswith("command:")
    )


def _commands_are_logged_once_each(api: Api) -> None:
    contract = offer(api)
    consent_all(api, contract)
    body = {"signatory": "youth", "scope": [], "booklet_version": "2026-1"}
    stale = api.post("konfliktrad", f"/contracts/{contract}/consents", body, **{"If-Match": '"1"'})
    assert stale.status_code == 412  # refused: nothing shown, so nothing logged
    youth = api.container.keys.subject_ref(str(OFFER["youth"]["national_id"]))  # type: ignore[index]

    assert _command_entries(api) == sorted(
        [("prosecution", "command:offer", youth)]  # a new case already names its person
        + [("konfliktrad", "command:give_consent", youth)] * len(SIGNATORIES)
    )


def test_every_commands_answer_is_logged_once_with_its_person(api: Api) -> None:
    _commands_are_logged_once_each(api)


def test_commands_are_logged_on_eventsourcings_own_postgresql_insert_too(
    fresh_postgres_url: str, clock: Clock, tmp_path: Path
) -> None:
    settings = settings_for_tests(fresh_postgres_url, tmp_path, pg_insert_function=False)
    container = build(settings, clock=clock)
    assert not container.contracts.stores_access_entries  # logged after the commit instead
    try:
        with TestClient(create_app(container), raise_server_exceptions=False) as client:
            _commands_are_logged_once_each(Api(client, container, clock))
    finally:
        container.close()
