"""Tampering with stored events is detected, with the first bad version named (SQLite and PostgreSQL)."""

from __future__ import annotations

from uuid import UUID

from services import audit
from tests.conftest import Api
from tests.integration.flows import activate, offer, ok, rapid_test
from tests.integration.stored_rows import delete_version, read_state, write_state


def _case(api: Api) -> tuple[str, int]:
    case_id = offer(api)
    activate(api, case_id)
    rapid_test(api, case_id, [])
    version = ok(api.get("auditor", f"/contracts/{case_id}"))["version"]
    assert version >= 8
    return case_id, version


def _verify(api: Api, case_id: str) -> dict:  # type: ignore[type-arg]
    return ok(api.get("auditor", f"/contracts/{case_id}/verify"))


def test_an_untouched_history_verifies(api: Api) -> None:
    case_id, version = _case(api)
    assert _verify(api, case_id) == {"valid": True, "events": version, "head": _verify(api, case_id)["head"]}


def test_a_flipped_byte_is_detected_at_its_version(api: Api) -> None:
    case_id, _ = _case(api)
    state = bytearray(read_state(api.container, case_id, 4))
    state[-5] ^= 0x01
    write_state(api.container, case_id, 4, bytes(state))
    result = _verify(api, case_id)
    assert result["valid"] is False and result["first_invalid_version"] == 4


def test_a_deleted_event_is_detected_at_its_version(api: Api) -> None:
    case_id, version = _case(api)
    delete_version(api.container, case_id, 3)
    result = _verify(api, case_id)
    assert result["valid"] is False and result["first_invalid_version"] == 3
    assert result["events"] == version - 1


def test_two_swapped_events_are_detected_at_the_first_of_them(api: Api) -> None:
    case_id, _ = _case(api)
    two, five = read_state(api.container, case_id, 2), read_state(api.container, case_id, 5)
    write_state(api.container, case_id, 2, five)
    write_state(api.container, case_id, 5, two)
    assert _verify(api, case_id)["first_invalid_version"] == 2


def test_dropping_the_newest_events_is_detected_against_a_signed_checkpoint(api: Api) -> None:
    case_id, version = _case(api)
    heads = audit.heads(api.container.contracts, [UUID(case_id)])
    assert api.container.checkpoints.publish(heads, api.clock()) == 1
    delete_version(api.container, case_id, version)
    result = _verify(api, case_id)
    assert result["valid"] is False and result["first_invalid_version"] == version
    assert "checkpoint" in result["reason"]


def test_a_tampered_checkpoint_line_is_ignored_not_trusted(api: Api) -> None:
    case_id, version = _case(api)
    path = api.container.settings.checkpoint_file
    path.write_text(
        f'{{"case_id": "{case_id}", "version": {version + 5}, "head": "00", '
        f'"at": "2026-01-01T00:00:00+00:00", "signature": "00"}}\n'
    )
    assert _verify(api, case_id)["valid"] is True
