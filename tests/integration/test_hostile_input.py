"""Hostile input (issue 14, quality.md reliability 11): nothing a client sends can make a
case unreadable, and a payload already stored always reads back as a problem, never a 500."""

from __future__ import annotations

import functools
from uuid import UUID

import pytest

from domain.contract import Contract
from domain.values import Agency
from services.context import Context
from tests.conftest import Api
from tests.integration.flows import OFFER, activate, offer
from tests.units import unit_of


def _nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": 1}
    for _ in range(depth):
        value = {"q": value}
    return value


def _evaluation(answers: object) -> dict[str, object]:
    return {"respondent_role": "youth", "form_version": "2026-1", "answers": answers}


@pytest.mark.parametrize(
    "answers",
    [_nested(300), {f"q{i}": i for i in range(5_000)}, {"q1": "x" * 100_000}],
    ids=["300 levels deep", "5,000 keys", "100,000 characters"],
)
def test_an_unbounded_evaluation_is_refused_and_the_case_stays_readable(api: Api, answers: object) -> None:
    case_id = offer(api)
    activate(api, case_id)
    before = api.get("konfliktrad", f"/contracts/{case_id}").json()["version"]

    refused = api.post("konfliktrad", f"/contracts/{case_id}/evaluations", _evaluation(answers))

    assert refused.status_code == 422, refused.text
    after = api.get("konfliktrad", f"/contracts/{case_id}")
    assert after.status_code == 200 and after.json()["version"] == before, "nothing was recorded"
    assert api.get("auditor", f"/contracts/{case_id}/history").status_code == 200


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_wherever_a_number_is_read(api: Api, number: str) -> None:
    case_id = offer(api)
    activate(api, case_id)
    body = f'{{"respondent_role": "youth", "form_version": "1", "answers": {{"q1": {number}}}}}'
    refused = api.client.post(
        f"/contracts/{case_id}/evaluations",
        content=body,
        headers={**api.headers("konfliktrad"), "Content-Type": "application/json"},
    )
    assert refused.status_code == 422, refused.text


def _record_unchecked(ctx: Context, answers: dict[str, object], contract: Contract) -> None:
    contract._record(
        contract.EvaluationSubmitted,
        ctx.actor,
        ctx.at,
        respondent_role="youth",
        form_version="1",
        answers=answers,
    )


def test_a_deep_payload_stored_before_validation_existed_still_reads_back(api: Api) -> None:
    """Stored through the application, as an older version of the service could: every
    read of the case answers (a problem at worst), and later commands are not blocked."""
    case_id = offer(api)
    activate(api, case_id)
    c = api.container
    ctx = Context(
        "konfliktrad-user", Agency.KONFLIKTRAD, c.clock(), c.rules, unit=unit_of(Agency.KONFLIKTRAD)
    )
    # Recorded as it was before answers were validated against their form (issue 17): the
    # event itself, past `Contract.submit_evaluation`'s check.
    c.contracts.command(
        UUID(case_id),
        functools.partial(_record_unchecked, ctx, {"deep": _nested(300), "nan": float("nan")}),
        ctx=ctx,
    )

    for agency, path in [
        ("konfliktrad", f"/contracts/{case_id}"),
        ("municipal_health", f"/contracts/{case_id}"),
        ("auditor", f"/contracts/{case_id}/history"),
        ("auditor", f"/contracts/{case_id}/views/konfliktrad"),
        ("auditor", f"/subjects/{OFFER['youth']['national_id']}/export"),  # type: ignore[index]
    ]:
        assert api.get(agency, path).status_code < 500, (agency, path)
    meeting = {"kind": "conversation", "held_at": "2026-09-10T10:00:00+02:00", "attended": True}
    assert api.post("konfliktrad", f"/contracts/{case_id}/meetings", meeting).status_code == 200
