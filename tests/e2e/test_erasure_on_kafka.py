"""No plaintext of a person in the broker's log segments, before or after their erasure."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.values import Agency
from infra.api.app import create_app
from infra.bootstrap import Container
from tests.e2e.test_streams_end_to_end import _post, system  # noqa: F401  (fixture)
from tests.integration.flows import OFFER, PLAN, fnr

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def _broker_log_dirs() -> list[Path]:
    """The running broker's `log.dirs`, read from its command line's properties file."""
    dirs = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" in args:
            props = Path(args[args.index(b"kafka.Kafka") + 1].decode())
            for line in props.read_text().splitlines():
                if line.startswith("log.dirs="):
                    dirs += [Path(d) for d in line.split("=", 1)[1].split(",")]
    assert dirs, "no running Kafka broker found"
    return dirs


def _segments_with(prefix: str, secrets: list[str]) -> list[str]:
    found = []
    for log_dir in _broker_log_dirs():
        for path in log_dir.glob(f"{prefix}*/*"):
            data = path.read_bytes() if path.is_file() else b""
            found += [f"{s!r} in {path}" for s in secrets if s.encode() in data]
    return found


def test_the_brokers_log_segments_never_hold_a_persons_plaintext(
    system: tuple[Container, threading.Event],  # noqa: F811
) -> None:
    c, _ = system
    name, note = f"Kafkanavn {uuid.uuid4().hex[:8]}", f"kafkahemmelighet-{uuid.uuid4().hex}"
    national_id = fnr(date(2009, 12, 1), uuid.uuid4().int % 400)
    youth = {**OFFER["youth"], "name": name, "national_id": national_id}  # type: ignore[dict-item]
    k, h = Agency.KONFLIKTRAD, Agency.MUNICIPAL_HEALTH
    with TestClient(create_app(c)) as client:
        case = _post(client, c, Agency.PROSECUTION, "/contracts", {**OFFER, "youth": youth}, 201)["id"]
        for signatory in ("youth", "guardian:0"):
            _post(
                client,
                c,
                k,
                f"/contracts/{case}/consents",
                {"signatory": signatory, "scope": [], "booklet_version": "2026-1"},
            )
        # Due at once (the clock is 2026-09-10): a startup meeting is held only from its time.
        _post(client, c, k, f"/contracts/{case}/startup-meeting", {"at": "2026-09-10T10:00:00+02:00"})
        _post(client, c, k, f"/contracts/{case}/startup-meeting/held", {"plan": PLAN})
        last = _post(
            client,
            c,
            h,
            f"/contracts/{case}/meetings",
            {"kind": "conversation", "held_at": "2026-09-10T09:00:00+02:00", "attended": True, "notes": note},
        )
        assert c.read_models is not None
        deadline = time.monotonic() + 60  # the command waited for its read model; Kafka has it
        while c.read_models.track_position("contract") < last["position"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        prefix = c.settings.kafka_topic_prefix
        assert list(p for d in _broker_log_dirs() for p in d.glob(f"{prefix}*")), "topics on disk"
        assert _segments_with(prefix, ["MeetingHeld"]), "the scan does see plaintext envelopes"
        secrets = [name, national_id, note]
        assert _segments_with(prefix, secrets) == []

        token = c.tokens.issue(Agency.AUDITOR, "auditor-1")
        erased = client.post(f"/subjects/{national_id}/erase", headers={"Authorization": f"Bearer {token}"})
        assert erased.status_code == 200 and erased.json()["erased_cases"] == [case]
        assert _segments_with(prefix, secrets) == []
        verified = client.get(f"/contracts/{case}/verify", headers={"Authorization": f"Bearer {token}"})
        assert verified.json()["valid"] is True
