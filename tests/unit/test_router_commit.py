"""The router survives a commit refused by a rebalance (infra/kafka/runners.py)."""

from __future__ import annotations

import logging

import pytest
from kafka.errors import CommitFailedError, KafkaConnectionError, RebalanceInProgressError

from infra.kafka.runners import commit_routed


class Consumer:
    def __init__(self, error: Exception | None = None) -> None:
        self.error, self.commits = error, 0

    def commit(self) -> None:
        self.commits += 1
        if self.error is not None:
            raise self.error


def test_a_commit_goes_through() -> None:
    consumer = Consumer()
    assert commit_routed(consumer) is True  # type: ignore[arg-type]
    assert consumer.commits == 1


@pytest.mark.parametrize("error", [RebalanceInProgressError(), CommitFailedError()], ids=type)
def test_a_commit_refused_by_a_rebalance_is_reported_and_the_router_carries_on(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ruskontrakt"):
        assert commit_routed(Consumer(error)) is False  # type: ignore[arg-type]
    assert "routed again" in caplog.text


def test_any_other_commit_error_still_stops_the_router() -> None:
    with pytest.raises(KafkaConnectionError):
        commit_routed(Consumer(KafkaConnectionError()))  # type: ignore[arg-type]
