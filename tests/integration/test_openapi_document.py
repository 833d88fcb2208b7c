"""The OpenAPI document describes what the service really answers (infra/api/openapi.py);
tests/reliability/test_openapi_fuzz.py holds every answer to it."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Api


def _operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{m.upper()} {p}": op for p, item in doc["paths"].items() for m, op in item.items()}


def test_every_authenticated_operation_declares_the_bearer_scheme_and_its_problem_answers(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    operations = _operations(doc)
    public = {"GET /health", "GET /ready", "GET /metrics"}
    for label, operation in operations.items():
        if label in public:
            continue
        assert operation["security"] == [{"HTTPBearer": []}], label
        for status in ("401", "403", "422"):
            content = operation["responses"][status]["content"]
            assert content == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (label, status)
    command = operations["POST /contracts/{case_id}/complete"]["responses"]
    assert {"200", "401", "403", "404", "409", "410", "412", "422", "429"} == set(command)
    assert "413" in operations["POST /contracts/{case_id}/meetings"]["responses"], "a body can be too large"
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_no_header_or_query_parameter_is_documented_as_json_null(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    parameters = [p for op in _operations(doc).values() for p in op.get("parameters", [])]
    assert parameters and all('"null"' not in json.dumps(p["schema"]) for p in parameters)
    if_match = next(p for p in parameters if p["name"] == "If-Match")
    assert if_match["schema"]["pattern"] == '^(W/)?"?[0-9]+"?$'


def test_a_refusal_is_answered_with_the_documented_content_type(api: Api) -> None:
    response = api.client.get("/contracts")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    metrics = api.client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert (
        "text/plain"
        in api.client.get("/openapi.json").json()["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    )
