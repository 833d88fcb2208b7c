"""The preventive track over HTTP: each route calls one use case of `c.prevention`.

The prosecution is refused every route by `domain/permissions.py` (docs/domain.md §6).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from domain.permissions import PREVENTION_COMMANDS, PREVENTION_QUERIES
from domain.policy import Track
from infra.api.commands import Command
from infra.api.deps import ContainerDep, IdempotencyKey, IfMatch, MinPosition, PrincipalDep, permitted
from infra.api.responses import CaseResponse
from infra.api.schemas import ConcernBody, ConversationHeldBody, PreventionNoteBody, ReasonBody
from services.sealed_application import require_track


async def open_to_the_caller(user: PrincipalDep) -> None:
    """An agency with no use case on the track is refused before its body is even read."""
    require_track(user.agency, Track.PREVENTION, PREVENTION_COMMANDS, PREVENTION_QUERIES)


router = APIRouter(tags=["preventive track"], dependencies=[Depends(open_to_the_caller)])


@router.post(
    "/prevention-cases",
    status_code=201,
    response_model=None,
    dependencies=[permitted("register_concern", PREVENTION_COMMANDS)],
)
def register_concern(
    body: ConcernBody, c: ContainerDep, user: PrincipalDep, key: IdempotencyKey = None
) -> JSONResponse:
    return Command(c, user, body, None, key).create(
        c.prevention.register_concern,
        c.new_id(),
        body.person.value(),
        body.source,
        body.municipality,
        body.summary,
    )


@router.post(
    "/prevention-cases/{case_id}/conversation-offered",
    response_model=None,
    dependencies=[permitted("offer_conversation", PREVENTION_COMMANDS)],
)
def offer_conversation(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: PreventionNoteBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    note = body.note if body else ""
    return Command(c, user, body, if_match, key).run(c.prevention.offer_conversation, case_id, note)


@router.post(
    "/prevention-cases/{case_id}/conversation-declined",
    response_model=None,
    dependencies=[permitted("decline_conversation", PREVENTION_COMMANDS)],
)
def decline_conversation(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: PreventionNoteBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    note = body.note if body else ""
    return Command(c, user, body, if_match, key).run(c.prevention.decline_conversation, case_id, note)


@router.post(
    "/prevention-cases/{case_id}/counselling-offered",
    response_model=None,
    dependencies=[permitted("offer_counselling", PREVENTION_COMMANDS)],
)
def offer_counselling(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: PreventionNoteBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    note = body.note if body else ""
    return Command(c, user, body, if_match, key).run(c.prevention.offer_counselling, case_id, note)


@router.post(
    "/prevention-cases/{case_id}/counselling-accepted",
    response_model=None,
    dependencies=[permitted("accept_counselling", PREVENTION_COMMANDS)],
)
def accept_counselling(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: PreventionNoteBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    note = body.note if body else ""
    return Command(c, user, body, if_match, key).run(c.prevention.accept_counselling, case_id, note)


@router.post(
    "/prevention-cases/{case_id}/counselling-declined",
    response_model=None,
    dependencies=[permitted("decline_counselling", PREVENTION_COMMANDS)],
)
def decline_counselling(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: PreventionNoteBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    note = body.note if body else ""
    return Command(c, user, body, if_match, key).run(c.prevention.decline_counselling, case_id, note)


@router.post(
    "/prevention-cases/{case_id}/conversation-held",
    response_model=None,
    dependencies=[permitted("hold_conversation", PREVENTION_COMMANDS)],
)
def hold_conversation(
    case_id: UUID,
    body: ConversationHeldBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.prevention.hold_conversation, case_id, body.held_at, body.notes
    )


@router.post(
    "/prevention-cases/{case_id}/reported-to-child-welfare",
    response_model=None,
    dependencies=[permitted("report_to_child_welfare", PREVENTION_COMMANDS)],
)
def report_to_child_welfare(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: ReasonBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    reason = body.reason if body else ""
    return Command(c, user, body, if_match, key).run(c.prevention.report_to_child_welfare, case_id, reason)


@router.post(
    "/prevention-cases/{case_id}/close",
    response_model=None,
    dependencies=[permitted("close", PREVENTION_COMMANDS)],
)
def close_case(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: ReasonBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    reason = body.reason if body else ""
    return Command(c, user, body, if_match, key).run(c.prevention.close_case, case_id, reason)


@router.get("/prevention-cases")
def list_prevention_cases(
    c: ContainerDep, user: PrincipalDep, min_position: MinPosition = None
) -> list[dict[str, Any]]:
    return c.prevention_queries.worklist(c.context(user), min_position=min_position).items


@router.get("/prevention-cases/{case_id}", response_model=None)
def get_prevention_case(
    case_id: UUID, c: ContainerDep, user: PrincipalDep, min_position: MinPosition = None
) -> JSONResponse:
    doc = c.prevention_queries.case_view(case_id, c.context(user), min_position)
    return CaseResponse(doc, headers={"ETag": f'"{doc["version"]}"'})
