"""A person's access request returns everything about them and nothing about others."""

from __future__ import annotations

from datetime import date

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
