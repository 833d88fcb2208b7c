"""Commands answer from the cases kept in memory (services/live_cases.py): the answer is
what a read gives at the same version, another process's writes are never overwritten
or ignored, a refusal is never judged on stale state, and memory forgets erased people."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from domain.values import Actor, Agency, BreachKind, MeetingKind
from infra.bootstrap import Container, build
from tests.conftest import Api
from tests.integration.flows import FACTORS, OFFER, PLAN, activate, offer, ok, rapid_test

MEETING = {
    "kind": "conversation",
    "held_at": "2026-09-10T10:00:00+02:00",
    "attended": True,
    "notes": "talked about school",
}
COORDINATOR = Actor("k-1", Agency.KONFLIKTRAD)


@pytest.fixture
def other_process(api: Api) -> Iterator[Container]:
    """A second service process on the same database (its own memory, its own caches)."""
    other = build(api.container.settings, clock=api.clock)
    yield other
    other.close()


def _read(api: Api, agency: str, case_id: str, position: int) -> dict[str, Any]:
    return ok(api.get(agency, f"/contracts/{case_id}?min_position={position}"))


def _held_here(api: Api) -> tuple[str, dict[str, Any]]:
    """An active case this process now holds in memory, and its last command's answer."""
    case_id = offer(api)
    activate(api, case_id)
    return case_id, ok(api.post("konfliktrad", f"/contracts/{case_id}/meetings", MEETING))


def _meeting(c: Container, case_id: str) -> Any:
    return c.contracts.command(
        UUID(case_id),
        lambda k: k.hold_meeting(
            MeetingKind.CONVERSATION, c.clock(), True, "note", COORDINATOR, c.clock(), c.rules
        ),
    )


def test_every_command_answers_with_the_view_a_read_gives_at_the_same_version(api: Api) -> None:
    case_id = offer(api)
    answers: list[tuple[str, dict[str, Any]]] = []

    def command(agency: str, path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
        answer = ok(api.post(agency, f"/contracts/{case_id}{path}", body), status)
        answers.append((agency, answer))
        return answer

    scope = [{"agency": "gp", "category": "identity"}, {"agency": "gp", "category": "rapid_test"}]
    for signatory in ("youth", "guardian:0"):
        command(
            "konfliktrad", "/consents", {"signatory": signatory, "scope": scope, "booklet_version": "2026-1"}
        )
    command(
        "konfliktrad",
        "/startup-meeting",
        {"at": "2026-09-10T10:00:00+02:00", "participants": ["konfliktrad", "police"]},
    )
    command("konfliktrad", "/startup-meeting/held", {"plan": PLAN})
    command("police", "/meetings", MEETING)
    test_id = rapid_test(api, case_id, ["THC"])
    breach = command(
        "konfliktrad", "/breaches", {"kind": "positive_test", "test_id": test_id, "evidence": "THC"}, 201
    )
    command(
        "konfliktrad",
        f"/breaches/{breach['breach_id']}/decision",
        {"response": "warning", "reason": "first", "factors": FACTORS},
    )
    command("konfliktrad", "/consents/withdraw", {"signatory": "youth", "scope": [scope[1]]})
    command("municipal_health", "/meetings", MEETING)

    for agency, answer in answers:
        extras = {"position", "breach_id", "test_id"}
        read = _read(api, agency, case_id, answer["position"])
        if read["version"] == answer["version"]:  # later commands moved the case on
            assert {k: v for k, v in answer.items() if k not in extras} == read
    final = answers[-1][1]
    assert {k: v for k, v in final.items() if k != "position"} == _read(
        api, "municipal_health", case_id, final["position"]
    )


def test_a_command_after_another_process_wrote_runs_on_the_current_state(
    api: Api, other_process: Container
) -> None:
    case_id, mine = _held_here(api)
    theirs = _meeting(other_process, case_id)
    assert theirs.version == mine["version"] + 1

    answer = ok(api.post("konfliktrad", f"/contracts/{case_id}/meetings", MEETING))

    assert answer["version"] == theirs.version + 1
    assert len(answer["meetings"]) == 3, "the other process's meeting is in the answer"
    versions = [s.originator_version for s in api.container.contracts.stored_events(UUID(case_id))]
    assert versions == list(range(1, answer["version"] + 1))


def test_a_copy_another_process_made_stale_reads_only_what_it_misses_on_postgresql(
    api: Api, other_process: Container
) -> None:
    case_id, mine = _held_here(api)
    c = api.container
    news = c.case_news  # as the API server starts it (infra/serving.py)
    assert news is None or news.connected.wait(10), "listening before the other process saves"
    assert c.contracts.committer is not None
    batches, caught_up = c.contracts.committer.writer.batches, c.contracts.live.caught_up
    theirs = _meeting(other_process, case_id)
    if c.database.postgres:
        assert news is not None
        # The other process's save is announced at its commit (infra/db/case_news.py).
        deadline = time.monotonic() + 10
        while c.contracts.live.noted(case_id) < theirs.version:
            assert time.monotonic() < deadline, "the other process's save was never announced"
            time.sleep(0.01)
    else:
        assert news is None, "SQLite has no NOTIFY: a stale copy is found by its save"

    answer = ok(api.post("konfliktrad", f"/contracts/{case_id}/meetings", MEETING))

    assert answer["version"] == theirs.version + 1 == mine["version"] + 2
    assert len(answer["meetings"]) == 3, "the other process's meeting is in the answer"
    if c.database.postgres:
        assert c.contracts.committer.writer.batches == batches + 1, "saved once: no conflict"
        assert c.contracts.live.caught_up == caught_up + 1
    else:
        assert c.contracts.committer.writer.batches == batches + 2, "refused once, then saved"
        assert c.contracts.live.caught_up == caught_up
    versions = [s.originator_version for s in c.contracts.stored_events(UUID(case_id))]
    assert versions == list(range(1, answer["version"] + 1))


def test_a_refusal_is_judged_on_the_stored_state_not_on_a_stale_copy(
    api: Api, other_process: Container
) -> None:
    case_id = offer(api)
    activate(api, case_id)
    test_id = rapid_test(api, case_id, ["THC"])  # this process now holds the case as active
    breach_id = "b-1"
    other_process.contracts.command(
        UUID(case_id),
        lambda k: k.register_breach(
            breach_id,
            BreachKind.POSITIVE_TEST,
            "THC",
            test_id,
            COORDINATOR,
            other_process.clock(),
            other_process.rules,
        ),
    )

    # In this process's copy the case is active, where no breach can be decided.
    decided = api.post(
        "konfliktrad",
        f"/contracts/{case_id}/breaches/{breach_id}/decision",
        {"response": "warning", "reason": "first", "factors": FACTORS},
    )

    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "active"


def test_a_command_that_fails_after_recording_saves_nothing_and_leaves_nothing_in_memory(
    api: Api,
) -> None:
    case_id = offer(api)
    activate(api, case_id)
    c = api.container
    before = len(c.contracts.stored_events(UUID(case_id)))

    def half_done(contract: Any) -> None:
        contract.hold_meeting(
            MeetingKind.CONVERSATION, c.clock(), True, "note", COORDINATOR, c.clock(), c.rules
        )
        raise RuntimeError("crashed after recording")

    with pytest.raises(RuntimeError):
        c.contracts.command(UUID(case_id), half_done)

    assert len(c.contracts.stored_events(UUID(case_id))) == before
    assert _meeting(c, case_id).version == before + 1, "the next command starts from the stored state"


def test_an_erasure_drops_the_person_s_cases_from_memory(api: Api) -> None:
    case_id = offer(api)
    assert case_id in api.container.contracts.live
    ok(api.post("auditor", f"/subjects/{OFFER['youth']['national_id']}/erase"))
    assert case_id not in api.container.contracts.live
    # An erased case is unknown to every agency (services/live_cases.py): 404, not 410.
    assert api.post("prosecution", f"/contracts/{case_id}/decline", {}).status_code == 404
    assert case_id not in api.container.contracts.live


def test_a_command_in_flight_during_an_erasure_does_not_bring_the_case_back_into_memory(api: Api) -> None:
    case_id = offer(api)
    live = api.container.contracts.live
    with live.checkout(UUID(case_id)):  # a command holds the case while the erasure runs
        ok(api.post("auditor", f"/subjects/{OFFER['youth']['national_id']}/erase"))
    assert case_id not in live
