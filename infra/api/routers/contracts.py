"""Contract commands (api.md): each route names its action and calls one domain method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from domain.contract import Contract
from infra.api.commands import CommandRunner
from infra.api.deps import ContainerDep, IdempotencyKey, IfMatch, PrincipalDep
from infra.api.schemas import (
    BreachBody,
    ConsentBody,
    DecisionBody,
    DeclineBody,
    EvaluationBody,
    MeetingBody,
    NoShowBody,
    NoteBody,
    OfferBody,
    PlanAmendBody,
    ResultBody,
    StageBody,
    StartupBody,
    StartupHeldBody,
    TestBody,
    WithdrawBody,
)
from infra.auth import Principal
from infra.bootstrap import Container

router = APIRouter(tags=["contract commands"])
Command = Callable[[Contract], None]


def _run(
    c: Container,
    user: Principal,
    action: str,
    case_id: UUID,
    body: BaseModel | None,
    command: Command,
    if_match: str | None,
    key: str | None,
    created: bool = False,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    return CommandRunner(c, user).run(
        action,
        case_id,
        body,
        lambda expected, log_view: c.contracts.command(case_id, command, expected, user.agency, log_view),
        if_match=if_match,
        idempotency_key=key,
        created=created,
        extra=extra,
    )


@router.post("/contracts", status_code=201, response_model=None)
def offer_contract(
    body: OfferBody, c: ContainerDep, user: PrincipalDep, key: IdempotencyKey = None
) -> JSONResponse:
    """The prosecutor offers a drug contract (ContractOffered)."""
    case_id = c.new_id()
    return CommandRunner(c, user).run(
        "offer",
        None,
        body,
        lambda _, log_view: c.contracts.offer(
            contract_id=case_id,
            youth=body.youth.value(),
            guardians=tuple(g.value() for g in body.guardians),
            offence=body.offence.value(),
            trinn=body.trinn,
            residence_municipality=body.residence_municipality,
            registered_municipality=body.registered_municipality,
            offer_deadline=body.offer_deadline,
            actor=user.actor,
            at=c.clock(),
            viewer=user.agency,
            log_view=log_view,
        ),
        idempotency_key=key,
        created=True,
    )


@router.post("/contracts/{case_id}/consents", response_model=None)
def give_consent(
    case_id: UUID,
    body: ConsentBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    scope = tuple(i.value() for i in body.scope)
    return _run(
        c,
        user,
        "give_consent",
        case_id,
        body,
        lambda k: k.give_consent(body.signatory, scope, body.booklet_version, user.actor, c.clock(), c.rules),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/consents/withdraw", response_model=None)
def withdraw_consent(
    case_id: UUID,
    body: WithdrawBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    scope = None if body.scope is None else tuple(i.value() for i in body.scope)
    return _run(
        c,
        user,
        "withdraw_consent",
        case_id,
        body,
        lambda k: k.withdraw_consent(body.signatory, scope, user.actor, c.clock(), c.rules),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/decline", response_model=None)
def decline_offer(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: DeclineBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    signatory = body.signatory if body else "youth"
    return _run(
        c,
        user,
        "decline",
        case_id,
        body,
        lambda k: k.decline(signatory, user.actor, c.clock(), c.rules),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/lapse", response_model=None)
def lapse_offer(
    case_id: UUID, c: ContainerDep, user: PrincipalDep, if_match: IfMatch = None, key: IdempotencyKey = None
) -> JSONResponse:
    """Record that the answer deadline passed without an answer (OfferLapsed)."""
    return _run(
        c, user, "lapse", case_id, None, lambda k: k.lapse(user.actor, c.clock(), c.rules), if_match, key
    )


@router.post("/contracts/{case_id}/startup-meeting", response_model=None)
def schedule_startup(
    case_id: UUID,
    body: StartupBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return _run(
        c,
        user,
        "schedule_startup",
        case_id,
        body,
        lambda k: k.schedule_startup(body.at, tuple(body.participants), user.actor, c.clock(), c.rules),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/startup-meeting/held", response_model=None)
def hold_startup(
    case_id: UUID,
    body: StartupHeldBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return _run(
        c,
        user,
        "hold_startup",
        case_id,
        body,
        lambda k: k.hold_startup(
            body.plan.value(), tuple(body.attendees), body.notes, user.actor, c.clock(), c.rules
        ),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/startup-meeting/failed", response_model=None)
def fail_startup(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: NoteBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    note = body.note if body else ""
    return _run(
        c,
        user,
        "fail_startup",
        case_id,
        body,
        lambda k: k.fail_startup(note, user.actor, c.clock(), c.rules),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/stage", response_model=None)
def change_stage(
    case_id: UUID,
    body: StageBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return _run(
        c,
        user,
        "change_stage",
        case_id,
        body,
        lambda k: k.change_stage(body.trinn, body.reason, user.actor, c.clock(), c.rules),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/plan", response_model=None)
def amend_plan(
    case_id: UUID,
    body: PlanAmendBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return _run(
        c,
        user,
        "amend_plan",
        case_id,
        body,
        lambda k: k.amend_plan(body.plan.value(), body.reason, user.actor, c.clock(), c.rules),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/tests", status_code=201, response_model=None)
def schedule_test(
    case_id: UUID,
    body: TestBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    test_id = str(c.new_id())
    return _run(
        c,
        user,
        "schedule_test",
        case_id,
        body,
        lambda k: k.schedule_test(
            test_id, body.kind, body.purpose, body.random, body.scheduled_for, user.actor, c.clock(), c.rules
        ),
        if_match,
        key,
        created=True,
        extra={"test_id": test_id},
    )


@router.post("/contracts/{case_id}/tests/{test_id}/result", response_model=None)
def record_test_result(
    case_id: UUID,
    test_id: str,
    body: ResultBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return _run(
        c,
        user,
        "record_test_result",
        case_id,
        body,
        lambda k: k.record_test_result(
            test_id,
            tuple(body.positives),
            body.collected_at,
            user.actor,
            c.clock(),
            panel=tuple(body.panel),
            requisition_code=body.requisition_code,
            interpretation=body.interpretation,
            rules=c.rules,
        ),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/meetings", response_model=None)
def hold_meeting(
    case_id: UUID,
    body: MeetingBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return _run(
        c,
        user,
        "hold_meeting",
        case_id,
        body,
        lambda k: k.hold_meeting(
            body.kind, body.held_at, body.attended, body.notes, user.actor, c.clock(), c.rules
        ),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/no-shows", response_model=None)
def record_no_show(
    case_id: UUID,
    body: NoShowBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return _run(
        c,
        user,
        "record_no_show",
        case_id,
        body,
        lambda k: k.record_no_show(body.appointment, body.excuse, user.actor, c.clock(), c.rules),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/breaches", status_code=201, response_model=None)
def register_breach(
    case_id: UUID,
    body: BreachBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    breach_id = str(c.new_id())
    return _run(
        c,
        user,
        "register_breach",
        case_id,
        body,
        lambda k: k.register_breach(
            breach_id, body.kind, body.evidence, body.test_id, user.actor, c.clock(), c.rules
        ),
        if_match,
        key,
        created=True,
        extra={"breach_id": breach_id},
    )


@router.post("/contracts/{case_id}/breaches/{breach_id}/decision", response_model=None)
def decide_breach(
    case_id: UUID,
    breach_id: str,
    body: DecisionBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    plan = body.plan.value() if body.plan else None
    return _run(
        c,
        user,
        "decide_breach",
        case_id,
        body,
        lambda k: k.decide_breach(
            breach_id,
            body.response,
            body.factors.value(),
            body.reason,
            user.actor,
            c.clock(),
            plan=plan,
            rules=c.rules,
        ),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/complete", response_model=None)
def complete_contract(
    case_id: UUID, c: ContainerDep, user: PrincipalDep, if_match: IfMatch = None, key: IdempotencyKey = None
) -> JSONResponse:
    return _run(
        c,
        user,
        "complete",
        case_id,
        None,
        lambda k: k.complete(user.actor, c.clock(), c.rules),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/return-to-prosecution", response_model=None)
def return_to_prosecution(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: NoteBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    note = body.note if body else ""
    return _run(
        c,
        user,
        "return_to_prosecution",
        case_id,
        body,
        lambda k: k.return_to_prosecution(note, user.actor, c.clock(), c.rules),
        if_match,
        key,
    )


@router.post("/contracts/{case_id}/evaluations", response_model=None)
def submit_evaluation(
    case_id: UUID,
    body: EvaluationBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return _run(
        c,
        user,
        "submit_evaluation",
        case_id,
        body,
        lambda k: k.submit_evaluation(
            body.respondent_role, body.form_version, body.answers, user.actor, c.clock(), c.rules
        ),
        if_match,
        key,
    )
