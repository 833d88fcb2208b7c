"""Case documents are rendered by pydantic-core: the same bytes Starlette's JSONResponse gives."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from infra.api.responses import CaseResponse

VIEW = {
    "id": "7f0c1e6a-0000-4000-8000-000000000001",
    "status": "active",
    "version": 12,
    "trinn": 2,
    "youth": {"name": "Åse Øvrebø-Ærø", "birth_date": "2009-12-01"},
    "completed_share": 0.3,
    "allowed_actions": ["hold_meeting", "register_breach"],
    "outcome": None,
    "random": True,
    "meetings": [{"kind": "conversation", "notes": "Samtale om skule og fritid – «bra» 🙂"}] * 3,
    "basis": {"notes": ["role"], "terms": ["consent:abc/v2,abc/v3"]},
}


def test_a_case_document_renders_to_the_bytes_starlette_renders() -> None:
    assert CaseResponse(VIEW).body == JSONResponse(VIEW).body


def test_the_response_is_json_with_its_status_and_headers() -> None:
    response = CaseResponse(VIEW, 201, headers={"ETag": '"12"'})
    assert response.status_code == 201 and response.headers["etag"] == '"12"'
    assert response.media_type == "application/json"
