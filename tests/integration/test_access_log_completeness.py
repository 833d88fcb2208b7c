"""Every read of personal data is in the access log: who, agency, subject, fields and basis
(quality.md reliability 9), route by route, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.integration.flows import OFFER, consent_all, offer, ok

PERSON = {"name": "Per Hansen", "national_id": "03041012345", "birth_date": "2010-04-03"}
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
    prevention = ok(api.post("police", "/prevention-cases", {"person": PERSON, "municipality": "5001"}),
                    201)["id"]  # fmt: skip
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
