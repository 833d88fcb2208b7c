"""`GET /streams/{agency}`: Server-Sent Events mirror of the agency's redacted topic.

`c.streams` decides who may follow which stream, opens each message for the caller and
logs it (`services/streams.py`); sse-starlette frames the events, sends keep-alive pings
and stops reading when the client goes away. The stream ends after `limit` events or
`timeout` seconds, so clients and tests always finish.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from domain.values import Agency
from infra.api.deps import ContainerDep, PrincipalDep
from services.messages import AgencyMessage

router = APIRouter(tags=["streams"])
PING_SECONDS = 15


def _frames(messages: Iterator[tuple[AgencyMessage, dict[str, Any]]]) -> Iterator[ServerSentEvent]:
    for message, data in messages:
        yield ServerSentEvent(
            data=json.dumps(data),
            event=message.type,
            id=f"{message.case_id}:{message.version}:{message.type}",
        )


@router.get(
    "/streams/{agency}",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def stream(
    agency: Agency,
    c: ContainerDep,
    user: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="End after this many events")] = 100,
    timeout: Annotated[float, Query(gt=0, le=300, description="End after this many seconds")] = 10.0,
) -> EventSourceResponse:
    """The caller's agency's redacted event stream (a mirror of its Kafka topic)."""
    messages = c.streams.follow(agency, c.context(user), limit, timeout)
    return EventSourceResponse(
        _frames(messages), ping=PING_SECONDS, sep="\n", headers={"Cache-Control": "no-cache"}
    )
