"""A person's access request returns everything about them and nothing about others."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.conftest import Api
from tests.integration.flows import OFFER, activate, fnr, offer, ok

YOUTH_ID = OFFER["youth"]["national_id"]  # type: ignore[index]
GUARDIAN_ID = OFFER["guardians"][0]["national_id"]  # type: ignore[index]


def test_the_youths_export_holds_their_case_history_and_who_read_it(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    ok(api.get("police", f"/contracts/{case_id}"))
    export = ok(api.get("auditor", f"/subjects/{YOUTH_ID}/export"))
    assert export["subject"]["name"] == "Ola Nordmann"
    [contract] = export["contracts"]
    assert contract["id"] == case_id and contract["status"] == "active"
    offered = contract["events"][0]["payload"]
    assert offered["guardians"] == [{"name": "[annen person]", "national_id": "[skjult]", "birth_date": None}]
    assert "Kari" not in str(export)
    assert any(e["agency"] == "police" and e["case_id"] == case_id for e in export["access_log"])


def test_the_guardians_export_shows_their_own_registration_not_the_childs_case(api: Api) -> None:
    case_id = offer(api)
    export = ok(api.get("auditor", f"/subjects/{GUARDIAN_ID}/export"))
    assert export["contracts"] == []
    [as_guardian] = export["contracts_as_guardian"]
    assert as_guardian["id"] == case_id
    assert as_guardian["registered_as"][0]["name"] == "Kari Nordmann"
    assert "Ola" not in str(export)


def test_the_export_reads_as_a_norwegian_document(api: Api) -> None:
    case_id = offer(api)
    response = api.get("auditor", f"/subjects/{YOUTH_ID}/export?format=html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "Innsyn i egne opplysninger" in response.text and "Ruskontrakt tilbudt" in response.text
    assert "tilbød deg en ruskontrakt" in response.text and "Hvem har sett opplysningene" in response.text
    # plain words for a 16-year-old: no case id, no codes, no UTC times, no JSON
    for code in (case_id, "guardian:0", "konfliktrad", "+00:00", '"payload"', "strpl_71a"):
        assert code not in response.text, code
    assert api.get("police", f"/subjects/{YOUTH_ID}/export").status_code == 403


def test_a_guardian_added_later_is_masked_in_the_youths_export_like_the_others(api: Api) -> None:
    case_id = offer(api)
    added = {"name": "Per Senere", "national_id": fnr(date(1980, 6, 5)), "birth_date": "1980-06-05"}
    ok(api.post("konfliktrad", f"/contracts/{case_id}/guardians", added))
    export = ok(api.get("auditor", f"/subjects/{YOUTH_ID}/export"))
    [contract] = export["contracts"]
    [event] = [e for e in contract["events"] if e["type"] == "GuardianAdded"]
    assert event["payload"]["guardian"] == {
        "name": "[annen person]",
        "national_id": "[skjult]",
        "birth_date": None,
    }
    assert "Per Senere" not in str(export)


def test_free_text_naming_another_person_is_masked_in_the_export_but_the_youths_own_name_stays(
    api: Api,
) -> None:
    summary = "Kari Nordmann ringte; kari nordmann og Kari var redd for Ola Nordmann. Karianne kom."
    case_id = offer(api, offence={**OFFER["offence"], "summary": summary})  # type: ignore[dict-item]
    activate(api, case_id)
    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/meetings",
            {"kind": "conversation", "held_at": "2026-09-10T09:00:00+02:00", "attended": True,
             "notes": "Samtale med Kari om Ola."},
        )
    )  # fmt: skip
    export = ok(api.get("auditor", f"/subjects/{YOUTH_ID}/export"))
    [case] = [c for c in export["contracts"] if c["id"] == case_id]
    texts = [e["payload"]["offence"]["summary"] for e in case["events"] if e["type"] == "ContractOffered"] + [
        e["payload"]["notes"] for e in case["events"] if e["type"] == "MeetingHeld"
    ]
    assert texts == [
        "[annen person] ringte; [annen person] og [annen person] var redd for Ola Nordmann. Karianne kom.",
        "Samtale med [annen person] om Ola.",
    ]
    html = api.get("auditor", f"/subjects/{YOUTH_ID}/export?format=html").text
    assert "Kari" not in html.replace("Karianne", "") and "Ola Nordmann" in html


def _intake(api: Api, **changes: object) -> dict[str, object]:
    body = {
        "national_id": YOUTH_ID,
        "birth_date": "2009-12-01",
        "municipality": "5001",
        "offence_date": "2026-09-01",
        "age_band": "16",
        "decision": "fine",
        "decided_on": "2026-09-08",
        "reason": "Tidligere forelegg.",
        **changes,
    }
    return ok(api.post("prosecution", "/intake", body), 201)


def test_the_youths_export_holds_their_intake_records_with_what_the_prosecutor_decided(api: Api) -> None:
    case_id = offer(api)
    offered = _intake(
        api, decision="contract_offered", contract_id=case_id, reason="Kari Nordmann ba om ruskontrakt."
    )
    fined = _intake(api, offence_date="2026-03-02", decided_on="2026-03-20")
    other = {**OFFER["youth"], "national_id": fnr(date(2009, 11, 3), 5)}  # type: ignore[dict-item]
    _intake(api, national_id=other["national_id"], decision="dropped", reason="Ikke bevis.")

    export = ok(api.get("auditor", f"/subjects/{YOUTH_ID}/export"))
    records = {r["id"]: r for r in export["intake_records"]}
    assert set(records) == {offered["intake_id"], fined["intake_id"]}, "their own records, no one else's"
    mine = records[offered["intake_id"]]
    assert mine["erased"] is False and mine["record"]["decision"] == "contract_offered"
    assert mine["record"]["contract_id"] == case_id
    assert mine["record"]["reason"] == "[annen person] ba om ruskontrakt.", "masked like the events"
    assert records[fined["intake_id"]]["record"]["decision"] == "fine"
    assert "Kari" not in str(export) and "Ikke bevis" not in str(export)
    log: Any = ok(api.get("auditor", f"/access-log?subject={YOUTH_ID}"))
    entries = log["entries"] if isinstance(log, dict) else log
    assert any(e["action"] == "subject_export" for e in entries), "the export's read is logged"

    html = api.get("auditor", f"/subjects/{YOUTH_ID}/export?format=html").text
    assert "Påtalemyndighetens avgjørelser" in html and "Saken ble avgjort med bot (forelegg)." in html
    assert "Du fikk tilbud om ruskontrakt." in html and "Begrunnelse: [annen person] ba om" in html
    for code in (offered["intake_id"], fined["intake_id"], "contract_offered", "Kari"):
        assert code not in html, code
