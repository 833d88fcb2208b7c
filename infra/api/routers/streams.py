"""`GET /streams/{agency}`: Server-Sent Events mirror of the agency's redacted topic.

With Kafka it reads `<prefix>.agency.<agency>` (as the service principal, after the API
authenticated the caller as that agency); in embedded mode it runs the same router
in-process over the notification logs. `fields` are decrypted for the client here,
and every delivered event is written to the access log. The stream ends after
`limit` events or `timeout` seconds, so clients and tests always finish.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from domain.values import Agency
from infra.api.deps import ContainerDep, PrincipalDep
from infra.api.problems import ProblemError
from infra.auth import Principal
from infra.bootstrap import Container
from infra.db.access_log import AccessEntry
from services.messages import AgencyMessage, decode_agency, open_agency_message
from services.router import InProcessAgencyFeed

router = APIRouter(tags=["streams"])


def _from_kafka(c: Container, agency: Agency, deadline: float) -> Iterator[AgencyMessage]:
    from kafka import TopicPartition

    from infra.kafka import clients

    consumer = clients.consumer(
        c.settings, None, f"ruskontrakt-sse-{agency.value}", isolation_level="read_committed"
    )
    try:
        partition = TopicPartition(clients.agency_topic(c.settings, agency), 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        while time.monotonic() < deadline:
            wait = max(1, int(min(0.5, deadline - time.monotonic()) * 1000))
            for records in consumer.poll(timeout_ms=wait).values():
                for record in records:
                    yield decode_agency(record.value)
    finally:
        consumer.close()


def _in_process(c: Container, agency: Agency, deadline: float) -> Iterator[AgencyMessage]:
    feed = InProcessAgencyFeed(c.apps, c.keys, agency)
    while time.monotonic() < deadline:
        messages = feed.poll()
        yield from messages
        if not messages:
            time.sleep(0.1)  # nothing new in the notification logs yet


def _events(c: Container, user: Principal, agency: Agency, limit: int, timeout: float) -> Iterator[str]:
    deadline = time.monotonic() + timeout
    source = _in_process if c.settings.kafka_bootstrap is None else _from_kafka
    sent = 0
    for message in source(c, agency, deadline):
        key = c.keys.key_for_case(message.case_id)
        if key is None:
            continue  # the person was erased: nothing readable is left
        data = open_agency_message(message, key)
        c.access_log.record(
            [
                AccessEntry(
                    c.clock(),
                    user.sub,
                    user.agency.value,
                    c.keys.subject_of_case(message.case_id),
                    message.case_id,
                    "stream",
                    message.categories,
                    data["basis"],
                )
            ]
        )
        yield (
            f"id: {message.case_id}:{message.version}:{message.type}\n"
            f"event: {message.type}\ndata: {json.dumps(data)}\n\n"
        )
        sent += 1
        if sent >= limit:
            return


@router.get(
    "/streams/{agency}",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def stream(
    agency: Agency,
    c: ContainerDep,
    user: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="End after this many events")] = 100,
    timeout: Annotated[float, Query(gt=0, le=300, description="End after this many seconds")] = 10.0,
) -> StreamingResponse:
    """The caller's agency's redacted event stream (a mirror of its Kafka topic)."""
    if user.agency is not agency:
        raise ProblemError(403, "Not permitted", "An agency may only read its own stream.")
    return StreamingResponse(
        _events(c, user, agency, limit, timeout),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )
