"""`GET /streams/{agency}`: Server-Sent Events mirror of the unit's redacted topic;
`GET /streams/keys/{case_id}`: the unit's stream key of a case, for its own Kafka consumer;
`GET /asyncapi.json`: the agency topics' format (docs/asyncapi.yaml, docs/streams.md).

`c.streams` decides who may follow which stream, how many may be open, opens each message
for the caller and logs it (`services/streams.py`); sse-starlette frames the events,
sends keep-alive pings and stops when the client goes away. Between polls the stream
waits on the event loop, so an open stream holds no worker thread. It ends after `limit`
events or `timeout` seconds, so clients and tests always finish.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

import anyio
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from domain.policy import Track
from domain.values import Agency
from infra.api.deps import ContainerDep, PrincipalDep
from infra.asyncapi import asyncapi_document
from services.stream_keys import ReleasedKey
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


class StreamKey(BaseModel):
    """The key that opens the caller's unit's messages of one case (docs/streams.md)."""

    case_id: str
    track: str
    viewer: str = Field(description="Whose messages it opens: `agency:unit` (the auditor: `auditor`)")
    key: str = Field(description="Base64 of the 32-byte AES-256-GCM key")
    algorithm: str = Field("AES-256-GCM", description="nonce = the first 12 bytes of `sealed`")
    aad: str = Field(description="The additional data of every message: fill in `version` and `type`")
    max_age: int = Field(description="Seconds the key may be kept in memory; then ask again")
    derivation: str

    @classmethod
    def of(cls, released: ReleasedKey) -> StreamKey:
        return cls(
            case_id=released.case_id,
            track=released.track.value,
            viewer=released.viewer,
            key=base64.b64encode(released.key).decode(),
            aad=released.aad,
            max_age=released.max_age,
            derivation=released.derivation,
        )


@router.get("/streams/keys/{case_id}", response_model=StreamKey)
def stream_key(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    track: Annotated[Track | None, Query(description="The message's `track`")] = None,
    min_position: Annotated[
        int | None, Query(ge=0, description="The message's `notification_id` (with `track`)")
    ] = None,
) -> StreamKey:
    """The caller's unit's stream key of the case: it opens the `sealed` content of every
    message of the case on the unit's topic, and nothing else. 404 unless a message of the
    case was addressed to the unit (an unknown case, an unrelated unit and an erased
    person are the same answer); every release is in the access log."""
    return StreamKey.of(c.stream_keys.release(case_id, c.context(user), track, min_position))


@router.get("/asyncapi.json", include_in_schema=False)
def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3 document of the agency topics (docs/asyncapi.yaml)."""
    return asyncapi_document()
