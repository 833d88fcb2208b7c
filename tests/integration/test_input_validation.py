"""Typed, bounded input (issue 14, finding 6): what a client sends is refused with a 422
naming the field unless it is what the field means — a national id with valid check
digits in ASCII digits, a date between 1900 and 2100, text without control characters,
a real number or boolean, an aware time, no unknown fields — and a body over the limit is
413 before it is read or the caller authenticated."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import APIRouter
from starlette.types import Message
from stdnum.no import fodselsnummer

from domain.permissions import CONTRACT_COMMANDS
from infra.api.body_limit import MAX_BODY_BYTES, BodyLimit
from infra.api.deps import permitted
from infra.api.schemas import StageBody
from tests.conftest import Api
from tests.integration.flows import OFFER, PLAN, activate, fnr, offer, ok

YOUTH_ID = str(OFFER["youth"]["national_id"])  # type: ignore[index]
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
PERSON = {"name": "Per Hansen", "national_id": fnr(date(2010, 1, 15)), "birth_date": "2010-01-15"}


def _refused(response: Any, *location: str | int) -> dict[str, Any]:
    """A 422 problem whose `errors` name the field at `location`."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    locations = [tuple(e["loc"]) for e in body.get("errors", [])]
    assert location in locations, locations
    return body


def _post(api: Api, agency: str, path: str, body: dict[str, Any]) -> Any:
    """JSON with every non-ASCII character escaped, so a lone surrogate can be sent too."""
    headers = {**api.headers(agency), "Content-Type": "application/json"}
    return api.client.post(path, content=json.dumps(body), headers=headers)


def _offer(api: Api, youth: dict[str, Any] | None = None, **changes: Any) -> Any:
    body = {**OFFER, "youth": {**OFFER["youth"], **(youth or {})}, **changes}  # type: ignore[dict-item]
    return _post(api, "prosecution", "/contracts", body)


def _concern(api: Api, **person: Any) -> Any:
    body = {"person": {**PERSON, **person}, "municipality": "5001", "summary": "Seen buying"}
    return _post(api, "police", "/prevention-cases", body)


# ------------------------------------------------------------------------------ national ids


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULLWIDTH], ids=["arabic-indic", "fullwidth"])
def test_a_national_id_in_digits_other_than_ascii_is_refused_in_bodies_paths_and_queries(
    api: Api, digits: dict[int, str]
) -> None:
    """`\\d` in pydantic-core's regex is any Unicode digit: the same person would get a
    second subject and key, untouched by erasing the ASCII id."""
    other = YOUTH_ID.translate(digits)
    _refused(_offer(api, {"national_id": other}), "body", "youth", "national_id")
    guardian = {"name": "Kari Nordmann", "national_id": str(PERSON["national_id"]).translate(digits)}
    _refused(_offer(api, guardians=[guardian]), "body", "guardians", 0, "national_id")
    _refused(
        _concern(api, national_id=str(PERSON["national_id"]).translate(digits)),
        "body",
        "person",
        "national_id",
    )
    _refused(api.get("auditor", f"/subjects/{other}/export"), "path", "national_id")
    _refused(api.post("auditor", f"/subjects/{other}/erase"), "path", "national_id")
    _refused(api.get("auditor", f"/access-log?subject={other}"), "query", "subject")


@pytest.mark.parametrize(
    "national_id",
    ["01020912345", YOUTH_ID[:-1] + str((int(YOUTH_ID[-1]) + 1) % 10), "011209 50130", "0112095013"],
    ids=["no-check-digits", "one-digit-off", "with-a-space", "ten-digits"],
)
def test_a_national_id_without_valid_check_digits_or_not_eleven_digits_is_refused(
    api: Api, national_id: str
) -> None:
    _refused(_offer(api, {"national_id": national_id}), "body", "youth", "national_id")
    _refused(api.get("auditor", f"/subjects/{national_id}/export"), "path", "national_id")
    _refused(api.get("auditor", f"/access-log?subject={national_id}"), "query", "subject")


def test_a_d_number_is_a_national_id_and_an_h_number_is_not(api: Api) -> None:
    d_number = fnr(date(2009, 12, 1), 1, d_number=True)
    assert int(d_number[:2]) > 40
    case_id = str(ok(_offer(api, {"national_id": d_number}), 201)["id"])
    assert ok(api.get("auditor", f"/subjects/{d_number}/export"))
    assert case_id
    valid = fnr(date(2009, 12, 1), 2)
    h_number = valid[:2] + str(int(valid[2:4]) + 40) + valid[4:9]
    h_number += fodselsnummer.calc_check_digit1(h_number)
    h_number += fodselsnummer.calc_check_digit2(h_number)
    assert fodselsnummer.is_valid(h_number), "stdnum takes H-numbers; the spec does not"
    _refused(_offer(api, {"national_id": h_number}), "body", "youth", "national_id")


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULLWIDTH], ids=["arabic-indic", "fullwidth"])
def test_a_municipality_number_in_digits_other_than_ascii_is_refused(
    api: Api, digits: dict[int, str]
) -> None:
    _refused(_offer(api, residence_municipality="5001".translate(digits)), "body", "residence_municipality")
    concern = {"person": PERSON, "municipality": "5001".translate(digits)}
    _refused(api.post("police", "/prevention-cases", concern), "body", "municipality")


# ------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_dates_outside_1900_to_2100_are_refused_in_every_date_field(api: Api, day: str) -> None:
    guardian = {**OFFER["guardians"][0], "birth_date": day}  # type: ignore[index, dict-item]
    _refused(_offer(api, guardians=[guardian]), "body", "guardians", 0, "birth_date")
    _refused(_offer(api, {"birth_date": day}), "body", "youth", "birth_date")
    offence = {**OFFER["offence"], "date": day}  # type: ignore[dict-item]
    _refused(_offer(api, offence=offence), "body", "offence", "date")
    _refused(_offer(api, offer_deadline=day), "body", "offer_deadline")
    case_id = offer(api)
    activate(api, case_id)
    for field in ("start_date", "end_date"):
        plan = {"plan": {**PLAN, field: day}, "reason": "moved"}
        _refused(api.post("konfliktrad", f"/contracts/{case_id}/plan", plan), "body", "plan", field)
    test = {"kind": "rapid", "scheduled_for": day}
    _refused(api.post("municipal_health", f"/contracts/{case_id}/tests", test), "body", "scheduled_for")
    meeting = {"kind": "conversation", "held_at": f"{day}T10:00:00+00:00", "attended": True}
    _refused(api.post("konfliktrad", f"/contracts/{case_id}/meetings", meeting), "body", "held_at")


def test_a_date_at_the_bounds_is_taken(api: Api) -> None:
    guardian = {**OFFER["guardians"][0], "birth_date": "1900-01-01"}  # type: ignore[index, dict-item]
    ok(_offer(api, guardians=[guardian], offer_deadline="2026-12-31"), 201)


# -------------------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    "character",
    ["\x00", "\u202e", "\u2066", "\u200b", "\x1b", "\x7f", "\x85", "\ud800"],
    ids=[
        "NUL",
        "right-to-left-override",
        "left-to-right-isolate",
        "zero-width-space",
        "ESC",
        "DEL",
        "NEL",
        "lone-surrogate",
    ],
)
def test_control_and_format_characters_are_refused_in_every_text_field(api: Api, character: str) -> None:
    _refused(_offer(api, {"name": f"Ola{character}Nordmann"}), "body", "youth", "name")
    offence = {**OFFER["offence"], "summary": f"caught {character}"}  # type: ignore[dict-item]
    _refused(_offer(api, offence=offence), "body", "offence", "summary")
    _refused(_concern(api, name=f"Per{character}"), "body", "person", "name")
    case_id = offer(api)
    activate(api, case_id)
    meeting = {"kind": "conversation", "held_at": "2026-09-09T10:00:00+02:00", "attended": True}
    notes = {**meeting, "notes": f"a{character}b"}
    _refused(_post(api, "konfliktrad", f"/contracts/{case_id}/meetings", notes), "body", "notes")
    stage = {"trinn": 3, "reason": f"{character}escalated"}
    _refused(_post(api, "konfliktrad", f"/contracts/{case_id}/stage", stage), "body", "reason")
    answers = {"respondent_role": "youth", "form_version": "1", "answers": {"q1": f"x{character}"}}
    _refused(_post(api, "konfliktrad", f"/contracts/{case_id}/evaluations", answers), "body", "answers")


def test_tabs_newlines_and_letters_of_any_script_are_kept_in_text(api: Api) -> None:
    text = "Åse Ødegård\tß\r\n李 ❤️ ع"
    case_id = offer(api, offence={**OFFER["offence"], "summary": text})  # type: ignore[dict-item]
    history = ok(api.get("auditor", f"/contracts/{case_id}/history"))
    assert history["events"][0]["payload"]["offence"]["summary"] == text


# ------------------------------------------------------------------------- numbers, booleans


@pytest.mark.parametrize("value", [True, "2", 2.0], ids=["true", "a-string", "a-float"])
def test_a_number_field_takes_only_a_json_integer(api: Api, value: object) -> None:
    _refused(_offer(api, trinn=value), "body", "trinn")
    case_id = offer(api)
    activate(api, case_id)
    _refused(
        api.post("konfliktrad", f"/contracts/{case_id}/stage", {"trinn": value, "reason": "r"}),
        "body",
        "trinn",
    )
    plan = {"plan": {**PLAN, "test_regime": {"kind": "rapid", "per_month": value}}, "reason": "r"}
    _refused(
        api.post("konfliktrad", f"/contracts/{case_id}/plan", plan),
        "body",
        "plan",
        "test_regime",
        "per_month",
    )


@pytest.mark.parametrize("value", [1, "true", "yes"], ids=["one", "a-string-true", "yes"])
def test_a_boolean_field_takes_only_true_or_false(api: Api, value: object) -> None:
    case_id = offer(api)
    activate(api, case_id)
    meeting = {"kind": "conversation", "held_at": "2026-09-09T10:00:00+02:00", "attended": value}
    _refused(api.post("konfliktrad", f"/contracts/{case_id}/meetings", meeting), "body", "attended")
    test = {"kind": "rapid", "scheduled_for": "2026-10-20", "random": value}
    _refused(api.post("municipal_health", f"/contracts/{case_id}/tests", test), "body", "random")


# ------------------------------------------------------------------------------- times, as_of


@pytest.mark.parametrize("path", ["history", "views/konfliktrad"])
def test_a_time_without_an_offset_in_as_of_is_422_not_500(api: Api, path: str) -> None:
    case_id = offer(api)
    _refused(api.get("auditor", f"/contracts/{case_id}/{path}?as_of=2026-09-10T10:00:00"), "query", "as_of")
    ok(api.get("auditor", f"/contracts/{case_id}/{path}?as_of=2026-09-10T10:00:00%2B02:00"))


# ------------------------------------------------------------------------------ unknown fields


def test_an_unknown_field_is_refused_by_its_name_at_any_depth(api: Api) -> None:
    body = _refused(_offer(api, nickname="Olaf"), "body", "nickname")
    assert body["errors"][0]["type"] == "extra_forbidden"
    _refused(_offer(api, {"middle_name": "K"}), "body", "youth", "middle_name")
    case_id = offer(api)
    activate(api, case_id)
    meeting = {"kind": "conversation", "held_at": "2026-09-09T10:00:00+02:00", "attended": True, "mood": "ok"}
    _refused(api.post("konfliktrad", f"/contracts/{case_id}/meetings", meeting), "body", "mood")


# --------------------------------------------------------------------------------- body size


def _is_413(response: Any) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 413


def test_a_body_over_the_limit_is_413_before_authentication(api: Api) -> None:
    big = b"{" + b" " * MAX_BODY_BYTES + b"}"
    headers = {"Content-Type": "application/json"}
    _is_413(api.client.post("/contracts", content=big, headers=headers))
    _is_413(api.client.post("/contracts", content=big, headers={**headers, **api.headers("prosecution")}))
    _is_413(api.client.post("/subjects/x/erase", content=big, headers=headers))  # a route without a body


def test_a_streamed_body_over_the_limit_is_413_though_it_declares_no_length(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65_536 + 2):
            yield b" " * 65_536

    _is_413(api.client.post("/contracts", content=chunks(), headers={"Content-Type": "application/json"}))


def test_a_body_at_the_limit_goes_on_to_authentication(api: Api) -> None:
    at_limit = b"{" + b" " * (MAX_BODY_BYTES - 2) + b"}"
    assert api.client.post("/contracts", content=at_limit).status_code == 401


def test_json_nested_far_too_deep_within_the_size_limit_is_422(api: Api) -> None:
    """Python's JSON parser gives up on 100,000 levels with a RecursionError; it is an
    invalid body like any other (failed before: FastAPI's undocumented 400)."""
    deep = b'{"youth": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for headers in ({}, api.headers("prosecution")):
        answer = api.client.post(
            "/contracts", content=deep, headers={**headers, "Content-Type": "application/json"}
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["errors"] == [
            {"loc": ["body"], "msg": "nested too deep", "type": "json_invalid"}
        ]


def _asgi(content_length: int | None, chunks: list[bytes]) -> tuple[list[Message], list[int]]:
    """Run BodyLimit around an app that reads the whole body; return what was sent and
    how many bytes the app was handed."""
    handed: list[int] = []
    sent: list[Message] = []
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            handed.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(BodyLimit(app, max_bytes=10)(scope, receive, send))
    return sent, handed


def test_the_body_limit_answers_a_declared_length_without_reading_a_byte() -> None:
    sent, handed = _asgi(11, [b"x" * 11])
    assert sent[0]["status"] == 413 and handed == []


def test_the_body_limit_stops_a_stream_at_the_chunk_that_crosses_it() -> None:
    sent, handed = _asgi(None, [b"x" * 6, b"x" * 6, b"x" * 6])
    assert sent[0]["status"] == 413 and sum(handed) <= 10
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413]


def test_the_body_limit_lets_a_body_at_the_limit_through() -> None:
    sent, handed = _asgi(10, [b"x" * 4, b"x" * 6])
    assert sent[0]["status"] == 200 and sum(handed) == 10


# -------------------------------------------------------------- tokens and permission (handed on)


def test_a_garbage_token_is_refused_without_showing_library_internals(api: Api) -> None:
    # PyJWT says "Not enough segments", "Invalid header padding", "Invalid header string:
    # 'utf-8' codec can't decode byte 0x80" (the header `gGFi` is the bytes 80 61 62).
    for token in ("garbage", "__4.e30.x", "e30.__4.x", "a.b.c", "gGFi.e30.x"):
        refused = api.client.get("/contracts", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401
        detail = refused.json()["detail"]
        for internal in (
            "codec",
            "byte",
            "utf-8",
            "padding",
            "segments",
            "Invalid header",
            "Invalid payload",
        ):
            assert internal not in detail, detail


def test_an_agency_that_may_not_give_a_command_gets_403_even_for_an_invalid_body(api: Api) -> None:
    case_id = offer(api)
    refused = api.post("school", f"/contracts/{case_id}/stage", {"trinn": "x"})
    assert refused.status_code == 403, refused.text
    assert api.post("school", "/contracts", {"youth": {}}).status_code == 403


def test_a_route_that_declares_its_action_refuses_the_agency_before_reading_the_body(api: Api) -> None:
    """`deps.permitted` as a command route would declare it (the routers do not yet)."""
    probe = APIRouter()

    @probe.post("/probe/{case_id}/stage", dependencies=[permitted("change_stage", CONTRACT_COMMANDS)])
    def change_stage(case_id: str, body: StageBody) -> dict[str, str]:
        return {"case": case_id}

    api.client.app.include_router(probe)  # type: ignore[attr-defined]
    refused = api.post("school", "/probe/x/stage", {"trinn": "x"})
    assert refused.status_code == 403 and "school may not change stage" in refused.json()["detail"]
    _refused(api.post("konfliktrad", "/probe/x/stage", {"trinn": "x"}), "body", "trinn")
    assert ok(api.post("konfliktrad", "/probe/x/stage", {"trinn": 2, "reason": "r"})) == {"case": "x"}
    with pytest.raises(ValueError):
        permitted("no_such_action", CONTRACT_COMMANDS)
