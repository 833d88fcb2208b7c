"""What erasure decides beyond shredding a key (issue 14, finding 4; docs/audit.md):

- erasing a guardian erases what is theirs: the cases that name them show a placeholder
  instead of their identity, and their own access request no longer shows it;
- a new case for a person erased before is a new subject with a new key, while their old
  cases stay shredded;
- an erased case is unknown (404) to every agency, whether or not it knew the case: a 410
  would tell one that never knew it that it existed. The auditor still verifies it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.conftest import Api
from tests.integration.flows import OFFER, fnr, offer, ok

GUARDIAN = OFFER["guardians"][0]  # type: ignore[index]
YOUTH = OFFER["youth"]  # type: ignore[index]
CONSENT = {"signatory": "youth", "scope": [], "booklet_version": "2026-1"}
PERSON = {"name": "Per Hansen", "national_id": fnr(date(2010, 1, 15), 7), "birth_date": "2010-01-15"}


def test_erasing_a_guardian_replaces_their_identity_wherever_the_case_is_shown(api: Api) -> None:
    case_id = offer(api)
    assert ok(api.get("prosecution", f"/contracts/{case_id}"))["guardians"][0]["name"] == GUARDIAN["name"]

    erased = ok(api.post("auditor", f"/subjects/{GUARDIAN['national_id']}/erase"))
    assert erased["erased_cases"] == [case_id], "the case that named them"

    view = ok(api.get("prosecution", f"/contracts/{case_id}"))
    assert GUARDIAN["name"] not in str(view) and GUARDIAN["national_id"] not in str(view)
    assert view["guardians"] == [{"name": "[slettet]", "national_id": "[slettet]", "birth_date": None}]
    assert view["youth"]["name"] == YOUTH["name"], "the child's own data stays"
    own = ok(api.get("auditor", f"/subjects/{GUARDIAN['national_id']}/export"))
    registration = own["contracts_as_guardian"][0]
    assert registration["erased"] is True and GUARDIAN["name"] not in str(own)
    assert ok(api.get("auditor", f"/contracts/{case_id}/verify"))["valid"] is True
    # A command's answer comes from the process's live copy of the case: scrubbed too.
    consent = {"signatory": "youth", "scope": [], "booklet_version": "2026-1"}
    answer = ok(api.post("konfliktrad", f"/contracts/{case_id}/consents", consent))
    assert GUARDIAN["name"] not in str(answer) and GUARDIAN["national_id"] not in str(answer)


def test_a_new_case_for_an_erased_person_gets_a_new_key_and_the_old_one_stays_shredded(api: Api) -> None:
    old_case = offer(api)
    ok(api.post("auditor", f"/subjects/{YOUTH['national_id']}/erase"))

    answer = api.post("prosecution", "/contracts", {**OFFER, "youth": {**YOUTH, "name": "Ola Nyberg"}})
    new_case = ok(answer, 201)["id"]
    assert ok(api.get("prosecution", f"/contracts/{new_case}"))["youth"]["name"] == "Ola Nyberg"
    history = ok(api.get("auditor", f"/contracts/{old_case}/history"))
    assert all(e["payload"] == {"erased": True} for e in history["events"]), "old case still shredded"
    export = ok(api.get("auditor", f"/subjects/{YOUTH['national_id']}/export"))
    assert {c["id"]: c["erased"] for c in export["contracts"]} == {old_case: True, new_case: False}

    ok(api.post("police", "/prevention-cases", {"person": PERSON, "municipality": "5001"}), 201)
    ok(api.post("auditor", f"/subjects/{PERSON['national_id']}/erase"))
    again = api.post("police", "/prevention-cases", {"person": PERSON, "municipality": "5001"})
    assert ok(again, 201)["id"], "the preventive track too"


def _answers(api: Api, agency: str, case_id: str) -> dict[str, Any]:
    return {
        "view": api.get(agency, f"/contracts/{case_id}").status_code,
        "command": api.post(agency, f"/contracts/{case_id}/consents", CONSENT).status_code,
    }


def _meeting(api: Api, agency: str, case_id: str) -> int:
    body = {"kind": "conversation", "held_at": "2026-09-10T10:00:00+02:00", "attended": True, "notes": ""}
    return int(api.post(agency, f"/contracts/{case_id}/meetings", body).status_code)


def test_an_erased_case_is_unknown_to_every_agency_whether_it_knew_it_or_not(api: Api) -> None:
    case_id = offer(api)
    assert api.get("gp", f"/contracts/{case_id}").status_code == 404, "gp never knew the case"
    never_knew = _meeting(api, "child_welfare", case_id)
    assert never_knew == 404, "child welfare may hold meetings, but does not know this case"
    ok(api.post("auditor", f"/subjects/{YOUTH['national_id']}/erase"))

    assert _meeting(api, "child_welfare", case_id) == never_knew, "the erasure tells it nothing"

    for agency in ("prosecution", "konfliktrad", "gp", "police"):
        answers = _answers(api, agency, case_id)
        assert answers["view"] == 404, (agency, answers)
        assert answers["command"] in (403, 404), (agency, answers)  # 403: may never give consents
    assert case_id not in api.get("prosecution", "/contracts").text
    assert ok(api.get("auditor", f"/contracts/{case_id}/verify"))["valid"] is True


def test_a_guardian_added_later_is_found_by_their_export_and_erased_by_their_id(api: Api) -> None:
    """GuardianAdded names a person as much as the offer's guardians do: their access request
    finds the case and erasing them scrubs it (issue 14, finding 4; failed before: only the
    offer's guardians were recorded as mentions)."""
    case_id = offer(api)
    added = {"name": "Per Senere", "national_id": fnr(date(1980, 6, 5)), "birth_date": "1980-06-05"}
    ok(api.post("konfliktrad", f"/contracts/{case_id}/guardians", added))

    own = ok(api.get("auditor", f"/subjects/{added['national_id']}/export"))
    [registration] = own["contracts_as_guardian"]
    assert registration["id"] == case_id and registration["erased"] is False
    assert registration["registered_as"] == [added]
    assert YOUTH["name"] not in str(own), "not the child's case"

    erased = ok(api.post("auditor", f"/subjects/{added['national_id']}/erase"))
    assert erased["erased_cases"] == [case_id], "the case that names them"
    view = ok(api.get("prosecution", f"/contracts/{case_id}"))
    assert added["name"] not in str(view) and added["national_id"] not in str(view)
    assert GUARDIAN["name"] in str(view), "the offer's guardian stays"
    own = ok(api.get("auditor", f"/subjects/{added['national_id']}/export"))
    [registration] = own["contracts_as_guardian"]
    assert registration["erased"] is True and added["name"] not in str(own)
    youths = ok(api.get("auditor", f"/subjects/{YOUTH['national_id']}/export"))
    assert added["name"] not in str(youths) and added["national_id"] not in str(youths)


def test_the_auditors_history_and_time_travel_show_an_erased_guardian_as_a_placeholder(api: Api) -> None:
    """Like the case views (issue 14, finding 4; failed before: the history showed the erased
    guardian's name and national id in the offer and in GuardianAdded)."""
    case_id = offer(api)
    added = {"name": "Per Senere", "national_id": fnr(date(1980, 6, 5)), "birth_date": "1980-06-05"}
    ok(api.post("konfliktrad", f"/contracts/{case_id}/guardians", added))
    for person in (GUARDIAN, added):
        ok(api.post("auditor", f"/subjects/{person['national_id']}/erase"))

    history = ok(api.get("auditor", f"/contracts/{case_id}/history"))
    views = [ok(api.get("auditor", f"/contracts/{case_id}/views/{a}")) for a in ("prosecution", "police")]
    for shown in (history, *views):
        for person in (GUARDIAN, added):
            assert person["name"] not in str(shown) and person["national_id"] not in str(shown)
    offered, registered = history["events"][0]["payload"], history["events"][-1]["payload"]
    assert offered["guardians"] == [{"name": "[slettet]", "national_id": "[slettet]", "birth_date": None}]
    assert registered["guardian"] == {"name": "[slettet]", "national_id": "[slettet]", "birth_date": None}
    assert offered["youth"]["name"] == YOUTH["name"], "the child's own data stays"
    assert ok(api.get("auditor", f"/contracts/{case_id}/verify"))["valid"] is True
