"""`GET /streams/{agency}`: Server-Sent Events mirror of the agency's redacted topic.

`c.streams` decides who may follow which stream, how many may be open, opens each message
for the caller and logs it (`services/streams.py`); sse-starlette frames the events,
sends keep-alive pings and stops when the client goes away. Between polls the stream
waits on the event loop, so an open stream holds no worker thread. It ends after `limit`
events or `timeout` seconds, so clients and tests always finish.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Query
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from domain.values import Agency
from infra.api.deps import ContainerDep, PrincipalDep
from services.streams import Subscription

router = APIRouter(tags=["streams"])
PING_SECONDS = 15
IDLE_SECONDS = 0.2  # between polls that found nothing new


async def _frames(subscription: Subscription, timeout: float) -> AsyncIterator[ServerSentEvent]:
    deadline = time.monotonic() + timeout
    try:
        while not subscription.done and time.monotonic() < deadline:
            batch = await run_in_threadpool(subscription.poll)  # reads the store or the topic
            for message, data in batch:
                yield ServerSentEvent(
                    data=json.dumps(data),
                    event=message.type,
                    id=f"{message.case_id}:{message.version}:{message.type}",
                )
            if not batch:
                await anyio.sleep(min(IDLE_SECONDS, max(0.0, deadline - time.monotonic())))
    finally:
        # Also when the client went away and the stream was cancelled: its place is freed.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(subscription.close)


@router.get(
    "/streams/{agency}",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        429: {"description": "Too many open streams (per user or in all); see `Retry-After`"},
    },
)
async def stream(
    agency: Agency,
    c: ContainerDep,
    user: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="End after this many events")] = 100,
    timeout: Annotated[float, Query(gt=0, le=300, description="End after this many seconds")] = 10.0,
) -> EventSourceResponse:
    """The caller's agency's redacted event stream (a mirror of its Kafka topic)."""
    subscription = await run_in_threadpool(c.streams.subscribe, agency, c.context(user), limit)
    return EventSourceResponse(
        _frames(subscription, timeout), ping=PING_SECONDS, sep="\n", headers={"Cache-Control": "no-store"}
    )
