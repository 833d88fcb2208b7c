"""The OpenAPI document a client developer can live with (infra/api/documented.py): every
answer has a schema, creations their `Location`, bodies examples valid against themselves,
and Swagger UI served from the service (`/docs` works offline)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.api import documented
from infra.api import schemas as bodies
from tests.conftest import Api
from tests.integration.flows import OFFER, activate, offer, ok, rapid_test


def _operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{m.upper()} {p}": op for p, item in doc["paths"].items() for m, op in item.items()}


@pytest.mark.parametrize("name", sorted(documented.EXAMPLES))
def test_every_body_example_is_valid_against_its_own_schema(name: str) -> None:
    getattr(bodies, name).model_validate(documented.EXAMPLES[name])


def test_the_signatory_examples_satisfy_their_own_pattern(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    signatory = doc["components"]["schemas"]["ConsentBody"]["properties"]["signatory"]
    assert signatory["examples"] and all(re.match(signatory["pattern"], e) for e in signatory["examples"])
    assert signatory["description"]
    consents = _operations(doc)["POST /contracts/{case_id}/consents"]
    assert consents["requestBody"]["content"]["application/json"]["example"]["signatory"] == "youth"


def test_every_success_answer_has_a_schema_and_creations_their_location(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    operations = _operations(doc)
    streamed = {"GET /streams/{agency}", "GET /metrics"}  # text/event-stream and text/plain
    for label, operation in operations.items():
        for status, response in operation["responses"].items():
            if status.startswith("2") and label not in streamed:
                schema = response["content"]["application/json"]["schema"]
                assert schema not in ({}, None), (label, status)
    case = operations["GET /contracts/{case_id}"]["responses"]["200"]
    assert case["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CaseView"}
    assert "ETag" in case["headers"]
    for created in ("POST /contracts", "POST /prevention-cases"):
        assert "Location" in operations[created]["responses"]["201"]["headers"], created
    ids = doc["components"]["schemas"]["Created"]["properties"]
    assert "test_id" in ids and "breach_id" in ids
    offer_fields = doc["components"]["schemas"]["OfferBody"]["properties"]
    assert all("description" in field for field in offer_fields.values()), "every field says what it is"


def test_real_answers_are_what_the_schemas_say(api: Api) -> None:
    case_id = offer(api)
    created = api.post("prosecution", "/contracts", {**OFFER, "trinn": 1})
    assert created.headers["location"] == f"/contracts/{created.json()['id']}"
    documented.CaseView.model_validate(ok(api.get("konfliktrad", f"/contracts/{case_id}")))
    activate(api, case_id)
    rapid_test(api, case_id, [])
    documented.WorklistPage.model_validate(ok(api.get("konfliktrad", "/contracts")))
    documented.History.model_validate(ok(api.get("auditor", f"/contracts/{case_id}/history")))
    documented.AgencyView.model_validate(ok(api.get("auditor", f"/contracts/{case_id}/views/gp")))


def test_docs_loads_swagger_ui_from_the_service_not_a_cdn(api: Api) -> None:
    page = api.client.get("/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in page and "/docs/assets/swagger-ui.css" in page
    assert "cdn" not in page.lower() and "https://" not in page
    assert api.client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
