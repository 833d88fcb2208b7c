"""What the stream reliability tests share: the relay and projector as real subprocesses
that can be killed, and the check that every committed event was applied exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from uuid import UUID

from domain.need_to_know import Viewer
from domain.values import Agency
from infra.bootstrap import Container
from tests.servers import REPO, tail
from tests.units import unit_of


class Service:
    """One `ruskontrakt <command>` subprocess that can be killed and started again."""

    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.command, self.env, self.log = command, env, log
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.cli", self.command],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
            )

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def ensure_running(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.start()

    def log_tail(self, lines: int = 15) -> str:
        heading = f"--- {self.command} (killed {self.kills}x), last lines of {self.log}:"
        return f"{heading}\n{tail(self.log, lines)}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_until_applied(c: Container, services: Sequence[Service] = (), seconds: float = 120) -> None:
    """Until the read models have applied every contract event stored now; when they do not,
    the failure shows the services' last log lines (what an operator would look at first)."""
    target = c.contracts.recorder.max_notification_id() or 0
    deadline = time.monotonic() + seconds
    while (position := c.read_models.track_position("contract")) < target:
        if time.monotonic() > deadline:
            logs = "\n".join(service.log_tail() for service in services)
            raise AssertionError(f"stuck at {position}/{target}\n{logs}")
        time.sleep(0.1)


Post = Callable[[Agency, str, object], dict[str, str]]


def hold_numbered_meeting(post: Post, meetings: dict[str, list[str]], case: str) -> None:
    """A meeting whose note numbers it on its case, as `assert_meetings_applied_once_in_order`
    expects."""
    note = f"meeting {len(meetings[case]):04d}"
    post(
        Agency.MUNICIPAL_HEALTH,
        f"/contracts/{case}/meetings",
        {"kind": "conversation", "held_at": "2026-09-10T09:00:00+02:00", "attended": True, "notes": note},
    )
    meetings[case].append(note)


def assert_meetings_applied_once_in_order(c: Container, meetings: dict[str, list[str]]) -> None:
    """Each case's read model is at its stored version and holds its meetings (by their
    notes) once each, in the order they were held."""
    for case, notes in meetings.items():
        stored = c.contracts.recorder.select_events(UUID(case), desc=True, limit=1)[0]
        coordinator = Viewer(Agency.KONFLIKTRAD, unit_of(Agency.KONFLIKTRAD))
        view = c.read_models.view(coordinator.key, case, "contract")
        assert view is not None and view.version == stored.originator_version
        doc = c.contract_queries.stored_view(UUID(case), coordinator)
        assert doc is not None
        assert [m["notes"] for m in doc["meetings"]] == notes, "each once, in the order held"
