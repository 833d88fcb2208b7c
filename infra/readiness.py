"""Readiness: whether the event store, Kafka and the read models can serve (`GET /ready`).

The checks (each read model's lag, what is unreachable) are for a caller with a valid token;
`infra/api/routers/ops.py` tells anyone else only ready or not.
"""

from __future__ import annotations

import time
from typing import Any

from infra.bootstrap import Container


def readiness(c: Container) -> tuple[bool, dict[str, Any]]:
    """Ready or not, and each check's answer (a reason for the operator, never a stack trace)."""
    checks: dict[str, Any] = {}
    try:
        c.contracts.notification_log.select(start=1, limit=1)
        checks["event_store"] = "ok"
    except Exception as error:
        checks["event_store"] = f"unreachable: {type(error).__name__}"
    checks["kafka"] = _kafka(c)
    try:
        checks["projections"] = _projections(c)
    except Exception as error:
        checks["projections"] = f"unreachable: {type(error).__name__}"
    ok = (
        checks["event_store"] == "ok"
        and checks["kafka"] in ("ok", "embedded (in-process)")
        and isinstance(checks["projections"], dict)
    )
    return ok, checks


_KAFKA_CHECK: dict[str, tuple[float, str]] = {}


def _kafka(c: Container) -> str:
    """Broker reachability as the service principal, cached for a few seconds: a probe of
    the broker on every `/ready` poll would itself be load."""
    if c.settings.kafka_bootstrap is None:
        return "embedded (in-process)"
    cached = _KAFKA_CHECK.get(c.settings.kafka_bootstrap)
    if cached is None or time.monotonic() - cached[0] > 5:
        from infra.kafka.clients import reachable

        cached = (time.monotonic(), reachable(c.settings))
        _KAFKA_CHECK[c.settings.kafka_bootstrap] = cached
    return cached[1]


def _projections(c: Container) -> dict[str, Any]:
    """How many notifications each read model is behind its event store."""
    lag = {}
    for app in c.apps:
        stored = app.recorder.max_notification_id() or 0
        lag[app.name] = max(0, stored - c.read_models.track_position(app.track.value))
    mode = "in-process" if c.projection is not None else "kafka (ruskontrakt project)"
    return {"mode": mode, "lag": lag, "behind": sum(lag.values())}
