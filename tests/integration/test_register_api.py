"""GET /register/municipalities[/{number}] (docs/api.md, "Need to know, intake and
relations"): the municipality register in force, for any authenticated user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.municipalities import DEFAULT_REGISTER
from domain.values import Agency
from infra.api.app import create_app
from infra.bootstrap import build
from tests.conftest import Api, Clock, settings_for_tests


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"]
    return body


def test_every_agency_reads_the_whole_register_with_its_version_date_and_source(api: Api) -> None:
    for agency in Agency:
        response = api.get(agency, "/register/municipalities")
        assert response.status_code == 200, (agency, response.text)
        body = response.json()
        assert (body["version"], body["valid_from"]) == ("2024-1", "2024-01-01")
        assert body["source"] == DEFAULT_REGISTER.source and "SSB Klass 131" in body["source"]
        assert len(body["items"]) == 357
    assert body["items"][0] == {
        "number": "0301",
        "name": "Oslo",
        "county": "03",
        "police_district": "oslo",
        "konfliktrad_office": "kr-oslo",
        "register_version": "2024-1",
        "source": DEFAULT_REGISTER.source,
    }
    assert [item["number"] for item in body["items"]] == sorted(DEFAULT_REGISTER.municipalities)


def test_the_list_of_one_county(api: Api) -> None:
    body = api.get("county", "/register/municipalities?county=55").json()
    assert len(body["items"]) == 21 and {i["county"] for i in body["items"]} == {"55"}
    assert api.get("county", "/register/municipalities?county=99").json()["items"] == []
    _problem(api.get("county", "/register/municipalities?county=5"), 422)


@pytest.mark.parametrize(
    ("number", "name", "district"),
    [
        ("0301", "Oslo", "oslo"),
        ("5001", "Trondheim - Tråante", "trondelag"),
        ("4601", "Bergen", "vest"),
        ("1103", "Stavanger", "sor-vest"),
        ("5501", "Tromsø", "troms"),
        ("3203", "Asker", "oslo"),
    ],
)
def test_one_municipality(api: Api, number: str, name: str, district: str) -> None:
    response = api.get("school", f"/register/municipalities/{number}")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "number": number,
        "name": name,
        "county": number[:2],
        "police_district": district,
        "konfliktrad_office": f"kr-{district}",
        "register_version": "2024-1",
        "source": DEFAULT_REGISTER.source,
    }


def test_an_unknown_number_is_404_and_a_number_that_is_not_4_digits_422(api: Api) -> None:
    for unknown in ("1507", "3024", "9999", "0000"):  # numbers of before 2024, or none
        body = _problem(api.get("police", f"/register/municipalities/{unknown}"), 404)
        assert unknown in body["detail"] and "2024-1" in body["detail"]
    for malformed in ("301", "03011", "03a1", "%D9%A0%D9%A3%D9%A0%D9%A1", "0301%0A"):  # ٠٣٠١: Arabic-Indic
        _problem(api.get("police", f"/register/municipalities/{malformed}"), 422)


def test_the_register_needs_a_token(api: Api) -> None:
    _problem(api.client.get("/register/municipalities"), 401)
    _problem(api.client.get("/register/municipalities/0301"), 401)


def test_the_openapi_document_declares_the_register_s_answers(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    listing = paths["/register/municipalities"]["get"]["responses"]
    one = paths["/register/municipalities/{number}"]["get"]["responses"]
    assert {"200", "401", "403", "422", "429"} <= set(listing)
    assert {"200", "401", "404", "422", "429"} <= set(one)
    assert set(one["404"]["content"]) == {"application/problem+json"}


@pytest.fixture
def own_register(database_url: str, clock: Clock, tmp_path: Path) -> Iterator[Api]:
    """A service started with RUSKONTRAKT_MUNICIPALITY_REGISTER naming a file of its own."""
    file = tmp_path / "register.csv"
    file.write_text(
        "# version: 2099-test\n# valid_from: 2099-01-01\n# source: a test register\n"
        "number,name,county,police_district,konfliktrad_office\n"
        "0301,Oslo,03,oslo,kr-oslo\n"
        "4601,Bergen,46,vest,kr-bergen\n",
        encoding="utf-8",
    )
    container = build(settings_for_tests(database_url, tmp_path, municipality_register=file), clock=clock)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield Api(client, container, clock)
    container.close()


def test_a_register_file_replaces_the_shipped_one(own_register: Api) -> None:
    body = own_register.get("auditor", "/register/municipalities").json()
    assert (body["version"], body["valid_from"], body["source"]) == (
        "2099-test",
        "2099-01-01",
        "a test register",
    )
    assert [i["number"] for i in body["items"]] == ["0301", "4601"]
    assert (
        own_register.get("auditor", "/register/municipalities/4601").json()["konfliktrad_office"]
        == "kr-bergen"
    )
    _problem(own_register.get("auditor", "/register/municipalities/5001"), 404)
