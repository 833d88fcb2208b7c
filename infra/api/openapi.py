"""The OpenAPI document as the service really answers: every problem response it can give.

FastAPI documents a route's success and its own validation error (as `HTTPValidationError`
in `application/json`). Our refusals are RFC 9457 documents in `application/problem+json`
(infra/api/problems.py), and which ones an operation can give follows from what it
declares, so they are added here from the document itself rather than route by route:

- a bearer token (`security`): 401, and 403 when the caller's agency may not do this;
- a `case_id` in the path: 404 (unknown, or not to be known by the caller), 410 (erased);
- a `national_id` in the path: 404 (no case of the person the caller's unit may know);
- `If-Match`: 409 (refused by the lifecycle or a concurrent change) and 412 (stale version);
- `Idempotency-Key`: 409 (the first request is still running) and 422 (key reused);
- any parameter or body: 422 (invalid input, or a domain rule).

Header and query parameters never carry JSON `null` (leaving them out is how a client
says "none"), so the `null` that FastAPI writes for optional parameters is dropped.
`tests/reliability/test_openapi_fuzz.py` holds every answer to this document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from infra.api import documented
from infra.api.problems import PROBLEM

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "rule": {"type": "string", "description": "The domain rule that refused the request"},
        "allowed_actions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "What the caller may do in the case's current state",
        },
        "consents_missing": {
            "type": "array",
            "items": {"type": "object"},
            "description": "While the offer waits on signatories: who has not consented "
            "(`signatory`, and `name` when the caller may see identity)",
        },
        "current_version": {"type": "integer", "description": "The case's version (412)"},
        "errors": {
            "type": "array",
            "items": {"type": "object"},
            "description": "The offending fields of an invalid request (422)",
        },
    },
}

DESCRIPTIONS = {
    401: "Missing, invalid or expired bearer token",
    403: "The caller's agency may not do this",
    404: "Unknown case, or one the caller's agency may not know exists",
    409: "Refused by the case's lifecycle (`rule`, `allowed_actions`), a concurrent change, "
    "or a request with this Idempotency-Key still running",
    410: "The person's data was erased",
    412: "The case has changed since the `If-Match` version (`current_version`)",
    413: "The request body is larger than RUSKONTRAKT_MAX_BODY_BYTES",
    422: "Invalid input (`errors` names the fields) or a domain rule (`rule`)",
    429: "Too many requests from this user (`Retry-After` says when to try again)",
}


def install(app: FastAPI) -> None:
    """Have `app.openapi()` return the completed document (built once, then cached)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(doc: dict[str, Any]) -> dict[str, Any]:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    documented.apply(doc)  # the answers' schemas and headers, the bodies' examples and field docs
    for item in doc.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _without_null(parameter.get("schema", {}))
            for status in sorted(_problem_statuses(operation)):
                operation["responses"][str(status)] = {
                    "description": DESCRIPTIONS[status],
                    "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def _problem_statuses(operation: dict[str, Any]) -> set[int]:
    parameters = {(p["in"], p["name"].lower()) for p in operation.get("parameters", [])}
    statuses = set()
    if operation.get("security"):
        statuses |= {401, 403}
    if ("path", "case_id") in parameters:
        statuses |= {404, 410}
    if ("path", "national_id") in parameters:
        statuses.add(404)  # an export: no case of the person the caller's unit may know
    if ("header", "if-match") in parameters:
        statuses |= {409, 412}
    if ("header", "idempotency-key") in parameters:
        statuses |= {409, 422}
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses.add(413)
    if operation.get("security"):
        statuses.add(429)
    return statuses


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, {type: null}]` -> X (keeping the title, default and description)."""
    options = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
    if "anyOf" not in schema or len(options) == len(schema["anyOf"]):
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**options[0], **rest} if len(options) == 1 else {**rest, "anyOf": options}
