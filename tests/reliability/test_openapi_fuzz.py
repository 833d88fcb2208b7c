"""Fuzzing the service with its own OpenAPI document (schemathesis): no 5xx, and every
answer conforms to the document (quality.md reliability 8).

Every operation of the served `/openapi.json` gets schemathesis' three generating phases:
the document's examples, its coverage cases (boundaries and violations of every
constraint) and Hypothesis fuzzing, with valid and invalid inputs (about 3,000 requests).
Each answer must pass `not_a_server_error` and the conformance checks (status code,
`Content-Type`, headers and body as documented), and `ignored_auth` re-sends one
accepted request per operation without and with a wrong token, which must be refused.
Where the document was wrong it was fixed (infra/api/openapi.py), not the check.
Left out: `positive_data_acceptance` (it counts a domain refusal of valid-looking input,
a stale `If-Match` or an age out of range, as a failure) and `negative_data_rejection`
(lenient parsing such as `as_of=0` read as Unix time).

- **A real server.** The requests go to `ruskontrakt serve` (uvicorn, SQLite) over
  sockets, so fuzzed headers and bodies pass a real HTTP parser and the worker threads
  as in production; an in-process ASGI client would skip both. PostgreSQL is the same
  code above the event store, covered by the API tests in tests/integration.
- **Real data.** Before fuzzing, contracts in several states (offered, consented,
  active, in breach review, declined) and prevention cases are created over HTTP. `Aim`
  puts their ids into most generated paths (a valid but unknown id is kept now and then,
  for the 404), and the seeded test and breach ids and national ids likewise; erasure
  gets a person of its own, so it cannot empty the rest.
- **Every agency.** Each request carries a bearer token of an agency chosen from a hash
  of the generated request: mostly one that may use the route (domain/permissions.py),
  sometimes any agency (403/404), sometimes none (401).
- **The event stream.** `GET /streams/{agency}` is fuzzed like the rest (agency, limit,
  invalid timeouts), but a valid `timeout` is capped at 0.3 s: the default of 10 s (up to
  300 s) kept each of a hundred calls open that long, which is how an earlier attempt
  hung. That a stream ends by its timeout or limit is tested in
  tests/integration/test_read_models.py.
- **Deterministic and bounded.** A fixed seed, derandomized Hypothesis, no example
  database, 30 fuzzed examples per operation; about 40 seconds.
- **Bodies at the limits.** Every operation with a body gets valid generated bodies
  changed to the bounds of docs/api.md "Limits" and sent as raw bytes: every string at its
  `maxLength` and every array at its `maxItems` (and once the first string one over; in a
  body without strings, free-form answers one level deeper), free-form answers at the
  bounded-JSON limits, the body padded to exactly
  `RUSKONTRAKT_MAX_BODY_BYTES` and one byte over (413), and JSON nested 100,000 levels
  deep within the size limit (422: Python's parser gives up with a RecursionError). Each
  answer must be documented and never a 5xx (`test_bodies_at_the_limits_...`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from domain.permissions import CONTRACT_COMMANDS, PREVENTION_COMMANDS
from infra.api.schemas import JSON_DEPTH, JSON_NODES, JSON_STRING
from infra.settings import Settings
from tests.integration.flows import activate, consent_all, fnr, offer, ok, rapid_test
from tests.reliability.live_server import LiveServer, offer_changes

pytestmark = pytest.mark.timeout(300)

AGENCIES = (
    "prosecution",
    "police",
    "konfliktrad",
    "municipal_health",
    "gp",
    "child_welfare",
    "school",
    "county",
    "auditor",
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]
STREAM_TIMEOUT_S = 0.3
# Raw bytes sent past schemathesis' own call: `ignored_auth` would re-send the generated body.
CONFORMANCE = [c for c in CHECKS if c is not ignored_auth]
MAX_BODY_BYTES = Settings.model_fields["max_body_bytes"].default  # the live server's default
DEEP = 100_000  # levels of `[`: 200 kB of JSON, far below the size limit

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261127,
        "request-timeout": 30,
        "generation": {"mode": "all", "max-examples": 30, "deterministic": True, "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)

LIMITS_CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261202,
        "request-timeout": 30,
        "generation": {"mode": "positive", "max-examples": 2, "deterministic": True, "database": "none"},
        "phases": {
            "examples": {"enabled": False},
            "coverage": {"enabled": False},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


@dataclass
class Seeded:
    contracts: list[str] = field(default_factory=list)
    prevention: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    erasable: str = fnr(date(2009, 5, 5))


def _seed(server: LiveServer) -> Seeded:
    """Cases in the states the routes care about, created through the API itself."""
    seeded = Seeded()

    def new_contract(n: int) -> str:
        national_id = fnr(date(2009, 2, 1), n)
        seeded.people.append(national_id)
        case_id = offer(server, **offer_changes(national_id))  # type: ignore[arg-type]
        seeded.contracts.append(case_id)
        return case_id

    new_contract(1)  # offered
    consent_all(server, new_contract(2))  # type: ignore[arg-type]  # consented
    active = new_contract(3)
    activate(server, active)  # type: ignore[arg-type]
    seeded.tests.append(rapid_test(server, active, []))  # type: ignore[arg-type]
    review = new_contract(4)
    activate(server, review)  # type: ignore[arg-type]
    positive = rapid_test(server, review, ["THC"])  # type: ignore[arg-type]
    seeded.tests.append(positive)
    body = {"kind": "positive_test", "test_id": positive, "evidence": "THC"}
    breach = ok(server.post("konfliktrad", f"/contracts/{review}/breaches", body), 201)
    seeded.breaches.append(breach["breach_id"])
    ok(server.post("prosecution", f"/contracts/{new_contract(5)}/decline", {"signatory": "youth"}))
    offer(server, **offer_changes(seeded.erasable))  # type: ignore[arg-type]
    for n, note in enumerate(("", "offered")):
        person = {"name": "Per Hansen", "national_id": fnr(date(2010, 4, 3), n), "birth_date": "2010-04-03"}
        case_id = ok(
            server.post(
                "police",
                "/prevention-cases",
                {"person": person, "municipality": "5001", "summary": "Seen buying"},
            ),
            201,
        )["id"]
        if note:
            ok(server.post("police", f"/prevention-cases/{case_id}/conversation-offered", {"note": note}))
        seeded.prevention.append(case_id)
        seeded.people.append(person["national_id"])
    return seeded


def _pick(digest: int, choices: list[str] | tuple[str, ...]) -> str:
    return choices[digest % len(choices)]


def _agencies_for(case: schemathesis.Case) -> tuple[str, ...]:
    """The agencies that may use the route, so most requests get past the 403: for a
    command, the "who" of domain/permissions.py for the action its route is named after."""
    path, operation_id = case.operation.path, case.operation.definition.raw.get("operationId", "")
    if case.method.upper() == "POST" and path not in ("/subjects/{national_id}/erase",):
        table = PREVENTION_COMMANDS if path.startswith("/prevention") else CONTRACT_COMMANDS
        actions = [action for action in table if operation_id.startswith(action + "_")]
        if actions:
            return tuple(sorted(a.value for a in table[max(actions, key=len)]))
    if path.startswith("/subjects/") and path.endswith("/export"):
        return ("auditor", "konfliktrad")
    if (
        path.startswith(("/access-log", "/subjects"))
        or path.endswith(("/history", "/verify"))
        or "/views/" in path
    ):
        return ("auditor",)
    if path.startswith("/prevention-cases"):
        return tuple(a for a in AGENCIES if a != "prosecution")
    if path.startswith("/contracts"):
        return tuple(a for a in AGENCIES if a != "county")
    return AGENCIES


class Aim:
    """Points a generated case at the seeded data: seeded ids into the path, a token, a
    bounded stream. Only the conformance checks run, which judge the answer to the request
    as sent, so changing the case before the call does not mislead them."""

    def __init__(self, server: LiveServer, seeded: Seeded) -> None:
        self.server, self.seeded = server, seeded
        self.tokens = {a: server.headers(a)["Authorization"] for a in AGENCIES}

    def __call__(self, case: schemathesis.Case) -> dict[str, str]:
        """Aim `case` in place; return the headers that authenticate it (none now and then)."""
        path = case.operation.path
        digest = int(
            hashlib.sha256(
                repr((case.method, path, case.path_parameters, case.query, case.body, case.headers)).encode()
            ).hexdigest(),
            16,
        )
        params = case.path_parameters if case.path_parameters is not None else {}
        if _is_uuid(params.get("case_id")) and digest % 8:
            cases = self.seeded.prevention if path.startswith("/prevention") else self.seeded.contracts
            params["case_id"] = _pick(digest >> 8, cases)
        for name, seeded in (("test_id", self.seeded.tests), ("breach_id", self.seeded.breaches)):
            if name in params and digest % 4:
                params[name] = _pick(digest >> 16, seeded)
        if _is_national_id(params.get("national_id")) and digest % 4:
            erase = path.endswith("/erase")
            params["national_id"] = self.seeded.erasable if erase else _pick(digest >> 16, self.seeded.people)
        case.path_parameters = params
        if path == "/streams/{agency}":
            self._bound_stream(case)
        if not digest % 23:
            return {}  # no token at all: 401
        agency = params.get("agency") if path == "/streams/{agency}" and digest % 3 else None
        if agency not in self.tokens:
            agency = _pick(digest >> 24, _agencies_for(case) if digest % 5 else AGENCIES)
        return {"Authorization": self.tokens[agency]}

    @staticmethod
    def _bound_stream(case: schemathesis.Case) -> None:
        query = case.query if case.query is not None else {}
        try:
            timeout = float(query.get("timeout", STREAM_TIMEOUT_S))
        except (TypeError, ValueError):
            return  # an invalid timeout: answered 422 at once
        if 0 < timeout <= 300:
            query["timeout"] = min(timeout, STREAM_TIMEOUT_S)
        case.query = query


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _is_national_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == 11 and value.isascii() and value.isdigit()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    server = LiveServer(f"sqlite:///{workdir}/ruskontrakt.sqlite", workdir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def aim(fuzz_server: LiveServer) -> Aim:
    return Aim(fuzz_server, _seed(fuzz_server))


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_server: LiveServer) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json", config=CONFIG)


@pytest.fixture(scope="module")
def limits_schema(fuzz_server: LiveServer) -> Any:
    loaded = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json", config=LIMITS_CONFIG)
    return loaded.include(method="POST")


@pytest.fixture(scope="module")
def document(fuzz_server: LiveServer) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(f"{fuzz_server.url}/openapi.json", timeout=30).json()
    return found


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis' fixture-loaded schemas (4.32) read and relabel `node._nodeid`, which
    # pytest 9.2 no longer has (it keeps `nodeid` elsewhere); give them one to read.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
def test_every_operation_answers_as_documented_and_never_with_a_server_error(
    case: schemathesis.Case, aim: Aim
) -> None:
    case.call_and_validate(headers=aim(case), checks=CHECKS)


def test_the_fuzzed_server_logged_no_unexpected_error(fuzz_server: LiveServer) -> None:
    """A crash after the headers went out (in a stream) is no 5xx; the log would show it."""
    assert fuzz_server.server_errors() == [], fuzz_server.log_tail(80)


# ----------------------------------------------------------------------- bodies at the limits


def _resolved(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its `$ref` followed and an optional value's `null` alternative dropped."""
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    return _resolved(options[0], document) if options else schema


def _bounded_json_at_the_limit(deeper: bool) -> dict[str, Any]:
    """Free-form answers at the bounded-JSON limits: nested `JSON_DEPTH` levels deep (one
    more when `deeper`), `JSON_NODES` values in all, strings of `JSON_STRING` characters."""
    nested: Any = "x" * JSON_STRING
    for _ in range(JSON_DEPTH - 1 + deeper):
        nested = [nested]
    spent = 2 + JSON_DEPTH + deeper  # the root, the key "deep" and the chain under it
    wide = {f"k{i}": "y" * JSON_STRING for i in range((JSON_NODES - spent) // 2)}
    return {"deep": nested, **wide}


def _at_limits(value: Any, schema: dict[str, Any], document: dict[str, Any], over: list[bool]) -> Any:
    """`value` (valid for `schema`) with every string at its `maxLength` and every array at
    its `maxItems`; `over[0]`: make the first such string one longer (then cleared)."""
    schema = _resolved(schema, document)
    if isinstance(value, str):
        limit = schema.get("maxLength")
        if limit is None or "pattern" in schema or "format" in schema or "enum" in schema:
            return value
        longer, over[0] = over[0], False
        return "x" * (limit + longer)
    if isinstance(value, list):
        items = [_at_limits(v, schema.get("items", {}), document, over) for v in value]
        if items and "maxItems" in schema:
            items += [copy.deepcopy(items[-1]) for _ in range(schema["maxItems"] - len(items))]
        return items
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        out = {}
        for key, inner in value.items():
            if key in properties:
                out[key] = _at_limits(inner, properties[key], document, over)
            elif schema.get("additionalProperties") is True:
                out[key] = inner
        if schema.get("additionalProperties") is True and "properties" not in schema:
            return _bounded_json_at_the_limit(deeper=over[0])  # free-form answers
        return out
    return value


def _variants(case: schemathesis.Case, document: dict[str, Any]) -> list[tuple[str, bytes, set[int] | None]]:
    """(name, raw body, the statuses it must get or None for any documented one)."""
    media = case.operation.definition.raw["requestBody"]["content"]["application/json"]
    schema, body = media["schema"], case.body if isinstance(case.body, dict) else {}
    at = json.dumps(_at_limits(copy.deepcopy(body), schema, document, [False])).encode()
    over = json.dumps(_at_limits(copy.deepcopy(body), schema, document, [True])).encode()
    plain = json.dumps(body).encode()
    padded = plain + b" " * (MAX_BODY_BYTES - len(plain))
    first = next(iter(body), "x")
    return [
        ("strings and arrays at their limits", at, None),
        ("one string over its limit", over, None),
        ("padded to the body limit", padded, None),
        ("one byte over the body limit", padded + b" ", {413}),
        ("nested far too deep", f'{{"{first}": {"[" * DEEP}{"]" * DEEP}}}'.encode(), {422}),
    ]


limits = schemathesis.pytest.from_fixture("limits_schema")


@limits.parametrize()
def test_bodies_at_the_limits_are_answered_as_documented_and_never_with_a_server_error(
    case: schemathesis.Case, aim: Aim, document: dict[str, Any], fuzz_server: LiveServer
) -> None:
    if "requestBody" not in case.operation.definition.raw:
        return  # a command without a body: nothing to stretch
    generated = {  # If-Match, Idempotency-Key, Prefer: what an HTTP client can send of them
        k: str(v).strip()
        for k, v in (case.headers or {}).items()
        if k.lower() != "authorization" and str(v).strip().isascii() and str(v).strip().isprintable()
    }
    headers = {**generated, **aim(case), "Content-Type": "application/json"}
    with fuzz_server.client() as client:
        for name, raw, expected in _variants(case, document):
            response = client.post(case.formatted_path, content=raw, params=case.query, headers=headers)
            assert response.status_code < 500, (name, case.formatted_path, response.text[:300])
            if expected is not None:
                assert response.status_code in expected, (name, case.formatted_path, response.text[:300])
            case.validate_response(response, checks=CONFORMANCE, headers=headers)
