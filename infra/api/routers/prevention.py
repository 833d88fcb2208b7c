"""The preventive track over HTTP. The prosecution gets 403 on every route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from domain.policy import Track
from domain.prevention import PreventionCase
from domain.values import Agency
from infra.api.commands import CommandRunner
from infra.api.deps import ContainerDep, IdempotencyKey, IfMatch, MinPosition, get_principal
from infra.api.problems import ProblemError
from infra.api.responses import CaseResponse
from infra.api.schemas import ConcernBody, ConversationHeldBody, PreventionNoteBody, ReasonBody
from infra.api.views import case_view_or_404, log_reads, prevention_worklist, sync
from infra.auth import Principal
from infra.bootstrap import Container


def not_prosecution(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if principal.agency is Agency.PROSECUTION:
        raise ProblemError(403, "Not permitted", "The preventive track is closed to the prosecution.")
    return principal


PreventionUser = Annotated[Principal, Depends(not_prosecution)]
router = APIRouter(tags=["preventive track"])


def _run(
    c: Container,
    user: Principal,
    action: str,
    case_id: UUID,
    body: BaseModel | None,
    command: Callable[[PreventionCase], None],
    if_match: str | None,
    key: str | None,
) -> JSONResponse:
    return CommandRunner(c, user, track="prevention").run(
        action,
        case_id,
        body,
        lambda expected, log_view: c.prevention.command(case_id, command, expected, user.agency, log_view),
        if_match=if_match,
        idempotency_key=key,
    )


@router.post("/prevention-cases", status_code=201, response_model=None)
def register_concern(
    body: ConcernBody, c: ContainerDep, user: PreventionUser, key: IdempotencyKey = None
) -> JSONResponse:
    case_id = c.new_id()
    return CommandRunner(c, user, track="prevention").run(
        "register_concern",
        None,
        body,
        lambda _, log_view: c.prevention.register_concern(
            case_id=case_id,
            person=body.person.value(),
            source=body.source,
            municipality=body.municipality,
            summary=body.summary,
            actor=user.actor,
            at=c.clock(),
            viewer=user.agency,
            log_view=log_view,
        ),
        idempotency_key=key,
        created=True,
    )


def _note_route(path: str, action: str) -> None:
    def route(
        case_id: UUID,
        c: ContainerDep,
        user: PreventionUser,
        body: PreventionNoteBody | None = None,
        if_match: IfMatch = None,
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        note = body.note if body else ""
        return _run(
            c,
            user,
            action,
            case_id,
            body,
            lambda case: getattr(case, action)(note, user.actor, c.clock()),
            if_match,
            key,
        )

    route.__name__ = action
    router.post(f"/prevention-cases/{{case_id}}/{path}", response_model=None, name=action)(route)


for _path, _action in [
    ("conversation-offered", "offer_conversation"),
    ("conversation-declined", "decline_conversation"),
    ("counselling-offered", "offer_counselling"),
    ("counselling-accepted", "accept_counselling"),
    ("counselling-declined", "decline_counselling"),
]:
    _note_route(_path, _action)


@router.post("/prevention-cases/{case_id}/conversation-held", response_model=None)
def hold_conversation(
    case_id: UUID,
    body: ConversationHeldBody,
    c: ContainerDep,
    user: PreventionUser,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return _run(
        c,
        user,
        "hold_conversation",
        case_id,
        body,
        lambda case: case.hold_conversation(body.held_at, body.notes, user.actor, c.clock()),
        if_match,
        key,
    )


@router.post("/prevention-cases/{case_id}/reported-to-child-welfare", response_model=None)
def report_to_child_welfare(
    case_id: UUID,
    c: ContainerDep,
    user: PreventionUser,
    body: ReasonBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    reason = body.reason if body else ""
    return _run(
        c,
        user,
        "report_to_child_welfare",
        case_id,
        body,
        lambda case: case.report_to_child_welfare(reason, user.actor, c.clock()),
        if_match,
        key,
    )


@router.post("/prevention-cases/{case_id}/close", response_model=None)
def close_case(
    case_id: UUID,
    c: ContainerDep,
    user: PreventionUser,
    body: ReasonBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    reason = body.reason if body else ""
    return _run(
        c, user, "close", case_id, body, lambda case: case.close(reason, user.actor, c.clock()), if_match, key
    )


@router.get("/prevention-cases")
def list_prevention_cases(
    c: ContainerDep, user: PreventionUser, min_position: MinPosition = None
) -> list[dict[str, Any]]:
    sync(c, Track.PREVENTION, min_position)
    rows = prevention_worklist(c, user.agency)
    log_reads(c, user, "prevention_worklist", rows)
    return rows


@router.get("/prevention-cases/{case_id}", response_model=None)
def get_prevention_case(
    case_id: UUID, c: ContainerDep, user: PreventionUser, min_position: MinPosition = None
) -> JSONResponse:
    sync(c, Track.PREVENTION, min_position)
    doc = case_view_or_404(c, Track.PREVENTION, case_id, user.agency)
    log_reads(c, user, "prevention_case_view", [doc])
    return CaseResponse(doc, headers={"ETag": f'"{doc["version"]}"'})
