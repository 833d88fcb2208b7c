"""A statistics question never waits long for a suppression pattern (docs/domain.md §10):
patterns are computed in the background, one at a time; a question waits at most
RUSKONTRAKT_STATISTICS_WAIT_SECONDS, then is answered from the previous pattern (its
`computed_at` says when), or told to come back (503, `Retry-After`) when there is none."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from services import statistics
from tests.conftest import Api
from tests.integration.flows import intake, ok

PATH = "/statistics/equal-practice?group_by=county&period=2026"


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every pattern computation waits until the test lets it go on."""
    go = threading.Event()
    protect = statistics.YearSystem.protect

    def held(system: statistics.YearSystem) -> None:
        assert go.wait(30), "the test never let the computation go on"
        protect(system)

    monkeypatch.setattr(statistics.YearSystem, "protect", held)
    yield go
    go.set()


def _shown(api: Api) -> None:
    """No suppression, so the tables show the counts of one or two records."""
    api.container.statistics.threshold = 1


def _intake(api: Api, serial: int) -> None:
    ok(api.post("prosecution", "/intake", intake(serial)), 201)


def test_a_slow_first_pattern_is_503_with_retry_after_then_the_table(api: Api, slow: threading.Event) -> None:
    _shown(api)
    api.container.statistics.wait_seconds = 0.2
    _intake(api, 1)
    waiting = api.get("auditor", PATH)
    assert waiting.status_code == 503
    assert waiting.headers["Retry-After"] == "60"
    assert "still being computed" in waiting.json()["detail"]
    slow.set()
    api.container.statistics.wait_seconds = 10
    assert ok(api.get("auditor", PATH))["total"]["cells"]["decided"]["value"] == 1


def test_after_a_change_the_previous_pattern_answers_while_the_new_one_is_computed(
    api: Api, slow: threading.Event
) -> None:
    _shown(api)
    _intake(api, 1)
    slow.set()
    first = ok(api.get("auditor", PATH))
    slow.clear()
    api.container.statistics.wait_seconds = 0.2
    _intake(api, 2)  # the counts change: a new pattern is needed
    stale = ok(api.get("auditor", PATH))
    assert stale["computed_at"] == first["computed_at"]
    assert stale["total"]["cells"]["decided"]["value"] == 1, "the previous pattern's table, as it said"
    slow.set()
    api.container.statistics.wait_seconds = 10
    fresh = ok(api.get("auditor", PATH))
    assert fresh["computed_at"] > first["computed_at"]
    assert fresh["total"]["cells"]["decided"]["value"] == 2
