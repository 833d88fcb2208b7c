"""Contract commands (docs/api.md): each route calls one use case of `c.contracts`."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from domain.permissions import CONTRACT_COMMANDS
from infra.api.commands import Command
from infra.api.deps import ContainerDep, IdempotencyKey, IfMatch, PrincipalDep, permitted
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
    PersonIn,
    PlanAmendBody,
    ResultBody,
    StageBody,
    StartupBody,
    StartupHeldBody,
    TestBody,
    WithdrawBody,
)

router = APIRouter(tags=["contract commands"])


@router.post(
    "/contracts", status_code=201, response_model=None, dependencies=[permitted("offer", CONTRACT_COMMANDS)]
)
def offer_contract(
    body: OfferBody, c: ContainerDep, user: PrincipalDep, key: IdempotencyKey = None
) -> JSONResponse:
    """The prosecutor offers a drug contract (ContractOffered)."""
    return Command(c, user, body, None, key).create(
        c.contracts.offer,
        c.new_id(),
        body.youth.value(),
        tuple(g.value() for g in body.guardians),
        body.offence.value(),
        body.trinn,
        body.residence_municipality,
        body.registered_municipality,
        body.offer_deadline,
        body.legal_basis,
        body.replaces.value(),
        body.gp,
        body.school,
    )


@router.post(
    "/contracts/{case_id}/consents",
    response_model=None,
    dependencies=[permitted("give_consent", CONTRACT_COMMANDS)],
)
def give_consent(
    case_id: UUID,
    body: ConsentBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.give_consent,
        case_id,
        body.signatory,
        body.scope_items(),
        body.booklet_version,
        body.booklet_language,
    )


@router.post(
    "/contracts/{case_id}/guardians",
    response_model=None,
    dependencies=[permitted("add_guardian", CONTRACT_COMMANDS)],
)
def add_guardian(
    case_id: UUID,
    body: PersonIn,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Register a guardian after the offer (GuardianAdded); under 18 their consent is required too."""
    return Command(c, user, body, if_match, key).run(c.contracts.add_guardian, case_id, body.value())


@router.post(
    "/contracts/{case_id}/consents/withdraw",
    response_model=None,
    dependencies=[permitted("withdraw_consent", CONTRACT_COMMANDS)],
)
def withdraw_consent(
    case_id: UUID,
    body: WithdrawBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.withdraw_consent, case_id, body.signatory, body.scope_items()
    )


@router.post(
    "/contracts/{case_id}/decline",
    response_model=None,
    dependencies=[permitted("decline", CONTRACT_COMMANDS)],
)
def decline_offer(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: DeclineBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    signatory = body.signatory if body else "youth"
    return Command(c, user, body, if_match, key).run(c.contracts.decline, case_id, signatory)


@router.post(
    "/contracts/{case_id}/lapse", response_model=None, dependencies=[permitted("lapse", CONTRACT_COMMANDS)]
)
def lapse_offer(
    case_id: UUID, c: ContainerDep, user: PrincipalDep, if_match: IfMatch = None, key: IdempotencyKey = None
) -> JSONResponse:
    """Record that the answer deadline passed without an answer (OfferLapsed)."""
    return Command(c, user, None, if_match, key).run(c.contracts.lapse, case_id)


@router.post(
    "/contracts/{case_id}/startup-meeting",
    response_model=None,
    dependencies=[permitted("schedule_startup", CONTRACT_COMMANDS)],
)
def schedule_startup(
    case_id: UUID,
    body: StartupBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.schedule_startup, case_id, body.at, tuple(body.participants)
    )


@router.post(
    "/contracts/{case_id}/startup-meeting/held",
    response_model=None,
    dependencies=[permitted("hold_startup", CONTRACT_COMMANDS)],
)
def hold_startup(
    case_id: UUID,
    body: StartupHeldBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.hold_startup,
        case_id,
        body.plan.value(),
        tuple(body.attendees),
        body.notes,
        body.plan.deviation_reason,
    )


@router.post(
    "/contracts/{case_id}/startup-meeting/failed",
    response_model=None,
    dependencies=[permitted("fail_startup", CONTRACT_COMMANDS)],
)
def fail_startup(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: NoteBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    note = body.note if body else ""
    return Command(c, user, body, if_match, key).run(c.contracts.fail_startup, case_id, note)


@router.post(
    "/contracts/{case_id}/stage",
    response_model=None,
    dependencies=[permitted("change_stage", CONTRACT_COMMANDS)],
)
def change_stage(
    case_id: UUID,
    body: StageBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.change_stage, case_id, body.trinn, body.reason
    )


@router.post(
    "/contracts/{case_id}/plan",
    response_model=None,
    dependencies=[permitted("amend_plan", CONTRACT_COMMANDS)],
)
def amend_plan(
    case_id: UUID,
    body: PlanAmendBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.amend_plan, case_id, body.plan.value(), body.reason, body.plan.deviation_reason
    )


@router.post(
    "/contracts/{case_id}/tests",
    status_code=201,
    response_model=None,
    dependencies=[permitted("schedule_test", CONTRACT_COMMANDS)],
)
def schedule_test(
    case_id: UUID,
    body: TestBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    test_id = str(c.new_id())
    return Command(c, user, body, if_match, key).run(
        c.contracts.schedule_test,
        case_id,
        test_id,
        body.kind,
        body.purpose,
        body.random,
        body.scheduled_for,
        body.confirms_test_id,
        body.result_by,
        status=201,
        extra={"test_id": test_id},
    )


@router.post(
    "/contracts/{case_id}/tests/{test_id}/result",
    response_model=None,
    dependencies=[permitted("record_test_result", CONTRACT_COMMANDS)],
)
def record_test_result(
    case_id: UUID,
    test_id: str,
    body: ResultBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.record_test_result,
        case_id,
        test_id,
        tuple(body.positives),
        body.collected_at,
        tuple(body.panel),
        body.requisition_code,
        body.interpretation,
        body.confirms_test_id,
    )


@router.post(
    "/contracts/{case_id}/meetings",
    response_model=None,
    dependencies=[permitted("hold_meeting", CONTRACT_COMMANDS)],
)
def hold_meeting(
    case_id: UUID,
    body: MeetingBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.hold_meeting, case_id, body.kind, body.held_at, body.attended, body.notes
    )


@router.post(
    "/contracts/{case_id}/no-shows",
    response_model=None,
    dependencies=[permitted("record_no_show", CONTRACT_COMMANDS)],
)
def record_no_show(
    case_id: UUID,
    body: NoShowBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.record_no_show, case_id, body.appointment, body.excuse
    )


@router.post(
    "/contracts/{case_id}/breaches",
    status_code=201,
    response_model=None,
    dependencies=[permitted("register_breach", CONTRACT_COMMANDS)],
)
def register_breach(
    case_id: UUID,
    body: BreachBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    breach_id = str(c.new_id())
    return Command(c, user, body, if_match, key).run(
        c.contracts.register_breach,
        case_id,
        breach_id,
        body.kind,
        body.evidence,
        body.test_id,
        status=201,
        extra={"breach_id": breach_id},
    )


@router.post(
    "/contracts/{case_id}/breaches/{breach_id}/decision",
    response_model=None,
    dependencies=[permitted("decide_breach", CONTRACT_COMMANDS)],
)
def decide_breach(
    case_id: UUID,
    breach_id: str,
    body: DecisionBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.decide_breach,
        case_id,
        breach_id,
        body.response,
        body.factors.value(),
        body.reason,
        body.plan.value() if body.plan else None,
        body.plan.deviation_reason if body.plan else None,
    )


@router.post(
    "/contracts/{case_id}/complete",
    response_model=None,
    dependencies=[permitted("complete", CONTRACT_COMMANDS)],
)
def complete_contract(
    case_id: UUID, c: ContainerDep, user: PrincipalDep, if_match: IfMatch = None, key: IdempotencyKey = None
) -> JSONResponse:
    return Command(c, user, None, if_match, key).run(c.contracts.complete, case_id)


@router.post(
    "/contracts/{case_id}/return-to-prosecution",
    response_model=None,
    dependencies=[permitted("return_to_prosecution", CONTRACT_COMMANDS)],
)
def return_to_prosecution(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    body: NoteBody | None = None,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    note = body.note if body else ""
    return Command(c, user, body, if_match, key).run(c.contracts.return_to_prosecution, case_id, note)


@router.post(
    "/contracts/{case_id}/evaluations",
    response_model=None,
    dependencies=[permitted("submit_evaluation", CONTRACT_COMMANDS)],
)
def submit_evaluation(
    case_id: UUID,
    body: EvaluationBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    return Command(c, user, body, if_match, key).run(
        c.contracts.submit_evaluation, case_id, body.respondent_role, body.form_version, body.answers
    )
