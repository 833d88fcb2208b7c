"""Key release (`GET /streams/keys/{case_id}`, services/stream_keys.py) on SQLite and
PostgreSQL: a unit gets the key of its own messages of a case it was addressed messages of,
logged with their basis; every other unit, an unknown case and an erased person get the same
404; the key opens the unit's messages (from the same router as the topics) and no one
else's. `GET /asyncapi.json` is the committed document."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml
from cryptography.exceptions import InvalidTag

from domain.need_to_know import Viewer
from domain.values import Agency
from services.messages import open_with_stream_key
from services.router import InProcessAgencyFeed
from tests.agency_schemas import DOCUMENT, check_opened
from tests.conftest import Api
from tests.integration.flows import OFFER, activate, offer, ok
from tests.units import GP_HPR, unit_of

UNKNOWN = "00000000-0000-4000-8000-000000000000"
SHARED = [{"agency": "gp", "category": "identity"}, {"agency": "gp", "category": "terms"}]


def _key(api: Api, case_id: str, headers: dict[str, str], **params: Any) -> Any:
    return api.client.get(f"/streams/keys/{case_id}", params=params, headers=headers)


def _messages(api: Api, viewer: Viewer) -> list[Any]:
    """What the router publishes on the viewer's topic (embedded mode: the same router, in-process)."""
    c = api.container
    return InProcessAgencyFeed(c.apps, c.keys, [viewer]).poll()


def test_a_related_unit_gets_the_key_of_its_own_messages_logged_with_its_basis(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id, SHARED)
    released = ok(_key(api, case_id, api.headers("gp"), track="contract"))
    assert released["viewer"] == f"gp:{GP_HPR}" and released["track"] == "contract"
    assert released["aad"] == f"agency|gp:{GP_HPR}|{case_id}|<version>|<type>"
    assert released["max_age"] == int(api.container.settings.key_cache_seconds)
    key = base64.b64decode(released["key"])
    assert len(key) == 32 and key != api.container.keys.key_for_case(case_id), "never the case's own key"

    messages = [m for m in _messages(api, Viewer(Agency.GP, GP_HPR)) if m.case_id == case_id]
    assert messages
    opened = [check_opened(open_with_stream_key(m, key)) for m in messages]
    disclosed = next(o for o in opened if o["type"] == "CaseDisclosed")  # the consent opened the offer
    assert disclosed["fields"]["youth"]["name"] == OFFER["youth"]["name"]  # type: ignore[index]
    health = _messages(api, Viewer(Agency.MUNICIPAL_HEALTH, unit_of(Agency.MUNICIPAL_HEALTH)))
    with pytest.raises(InvalidTag):  # another unit's message of the same case
        open_with_stream_key(next(m for m in health if m.case_id == case_id), key)

    [entry] = [e for e in api.container.access_log.query(agency="gp") if e["action"] == "stream_key"]
    assert entry["case_id"] == case_id and entry["sub"] == "gp-user"
    assert set(entry["categories"]) == {"identity", "terms"}
    assert entry["basis"]["identity"] and all(b.startswith("consent:") for b in entry["basis"]["identity"])


def test_an_unrelated_unit_an_unknown_case_and_an_erased_person_get_the_same_404(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id, SHARED)
    unknown = _key(api, UNKNOWN, api.headers("gp"))
    assert unknown.status_code == 404
    other_gp = _key(api, case_id, api.unit("gp", "1111111"))
    other_municipality = _key(api, case_id, api.unit("municipal_health", "0301"))
    school = _key(api, case_id, api.headers("school"))  # related, but no consent: no message
    for answer in (other_gp, other_municipality, school):
        assert (answer.status_code, answer.json()) == (404, unknown.json())
    assert not [e for e in api.container.access_log.query(agency="school") if e["action"] == "stream_key"]

    ok(api.post("auditor", f"/subjects/{OFFER['youth']['national_id']}/erase"))  # type: ignore[index]
    erased = _key(api, case_id, api.headers("gp"))
    assert (erased.status_code, erased.json()) == (404, unknown.json())


def test_the_preventive_track_releases_to_the_police_prevention_unit_only(api: Api) -> None:
    person = {"name": "Per Hansen", "national_id": "15011050260", "birth_date": "2010-01-15"}
    created = ok(api.post("police", "/prevention-cases", {"person": person, "municipality": "5001"}), 201)
    case_id = created["id"]
    assert ok(_key(api, case_id, api.headers("police"), track="prevention"))["track"] == "prevention"
    assert ok(_key(api, case_id, api.headers("police")))["viewer"] == "police:trondelag.prevention"
    investigator = api.unit("police", "trondelag", "investigation")
    assert _key(api, case_id, investigator).status_code == 404
    assert _key(api, case_id, api.headers("prosecution"), track="prevention").status_code == 403
    assert _key(api, case_id, api.headers("prosecution")).status_code == 404


def test_the_county_has_no_stream_and_a_position_needs_its_track(api: Api) -> None:
    case_id = offer(api)
    assert _key(api, case_id, api.headers("county"), track="contract").status_code == 403
    assert _key(api, case_id, api.headers("county")).status_code == 404  # no message is ever the county's
    assert _key(api, case_id, api.headers("konfliktrad"), min_position=1).status_code == 422
    assert ok(_key(api, case_id, api.headers("konfliktrad"), track="contract", min_position=1))["key"]
    assert api.client.get(f"/streams/keys/{case_id}").status_code == 401


def test_the_asyncapi_document_is_served_as_committed(api: Api) -> None:
    served = api.client.get("/asyncapi.json")
    assert served.status_code == 200
    assert served.json() == yaml.safe_load(DOCUMENT.read_text())
