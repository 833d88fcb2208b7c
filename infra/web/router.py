"""The caseworker pages under `/ui/`: each route hands its request to one page of
`infra/web/pages.py`, which asks one use case (the API's rules, need to know and access log)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from infra.api.deps import ContainerDep
from infra.auth import Principal
from infra.web import pages, statistics_page
from infra.web.sign_in import sign_in_page, signed_in_with, signed_out

router = APIRouter(prefix="/ui", include_in_schema=False, default_response_class=HTMLResponse)


async def signed_in(request: Request, c: ContainerDep) -> Principal:
    """The page's user (pages.SignInRequired sends the browser to the sign-in page)."""
    return pages.signed_in(request, c)


UserDep = Annotated[Principal, Depends(signed_in)]


@router.get("/")
def start(user: UserDep) -> RedirectResponse:
    return pages.start(user)


@router.get("/logg-inn")
def sign_in_form(request: Request, c: ContainerDep) -> HTMLResponse:
    return sign_in_page(request, c)


@router.post("/logg-inn")
async def sign_in(request: Request, c: ContainerDep) -> Response:
    form = await pages.form_of(request)
    return signed_in_with(request, c, form)


@router.post("/logg-ut")
async def sign_out(request: Request) -> Response:
    await pages.form_of(request)
    return signed_out()


@router.get("/saker")
def worklist(request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.worklist(request, c, user)


@router.get("/saker/ny")
def offer_form(request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.offer_form(request, c, user)


@router.post("/saker")
async def offer(request: Request, c: ContainerDep, user: UserDep) -> Response:
    form = await pages.form_of(request)
    return await run_in_threadpool(pages.offer, request, c, user, form)


@router.get("/saker/{case_id}")
def case(case_id: UUID, request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.case(request, c, user, case_id)


@router.post("/saker/{case_id}/handling/{action}")
async def act(case_id: UUID, action: str, request: Request, c: ContainerDep, user: UserDep) -> Response:
    form = await pages.form_of(request)
    return await run_in_threadpool(pages.act, request, c, user, case_id, action, form)


@router.get("/forebygging")
def prevention_list(request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.prevention_list(request, c, user)


@router.get("/forebygging/ny")
def concern_form(request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.concern_form(request, c, user)


@router.post("/forebygging")
async def concern(request: Request, c: ContainerDep, user: UserDep) -> Response:
    form = await pages.form_of(request)
    return await run_in_threadpool(pages.concern, request, c, user, form)


@router.get("/forebygging/{case_id}")
def prevention_case(case_id: UUID, request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.prevention_case(request, c, user, case_id)


@router.post("/forebygging/{case_id}/handling/{action}")
async def prevention_act(
    case_id: UUID, action: str, request: Request, c: ContainerDep, user: UserDep
) -> Response:
    form = await pages.form_of(request)
    return await run_in_threadpool(pages.prevention_act, request, c, user, case_id, action, form)


@router.get("/revisjon")
def audit(request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.audit_start(request, c, user)


@router.get("/revisjon/saker/{case_id}")
def history(case_id: UUID, request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.history(request, c, user, case_id)


@router.get("/revisjon/saker/{case_id}/kontroll")
def verify(case_id: UUID, request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.verify(request, c, user, case_id)


@router.get("/revisjon/tilgangslogg")
def access_log(request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.access_log(request, c, user)


@router.get("/innsyn")
def export_form(request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return pages.export_form(request, c, user)


@router.post("/innsyn")
async def export(request: Request, c: ContainerDep, user: UserDep) -> Response:
    form = await pages.form_of(request)
    return await run_in_threadpool(pages.export, request, c, user, form)


@router.get("/statistikk")
def statistics(request: Request, c: ContainerDep, user: UserDep) -> HTMLResponse:
    return statistics_page.statistics(request, c, user)


@router.get("/statistikk.csv", response_class=Response)
def statistics_csv(request: Request, c: ContainerDep, user: UserDep) -> Response:
    return statistics_page.statistics_csv(request, c, user)
