"""Each page: one use case asked with the caller's `Context`, its answer arranged for a person.

A page reads only through the use cases (`c.contract_queries`, `c.prevention_queries`,
`c.audit`, `c.subjects`) and changes a case only through a command's use case, through the
API's own `Command`; so permission, need to know (404 for a unit that may not know the
case) and the access log are exactly the API's. A refusal is the API's problem document
(`infra/api/problems.py` `problem_for`) put in words on the page, with the same status code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from domain.permissions import (
    CONTRACT_COMMANDS,
    CONTRACT_QUERIES,
    PREVENTION_COMMANDS,
    PREVENTION_QUERIES,
    SUBJECT_QUERIES,
    may,
)
from domain.values import Agency
from infra import export_html as export_sections
from infra.api.commands import Command
from infra.api.problems import KNOWN_REFUSALS, problem, problem_for
from infra.api.schemas import national_id as valid_national_id
from infra.auth import Principal
from infra.bootstrap import Container
from infra.web import labels as L
from infra.web import present
from infra.web.forms import (
    CONTRACT_ACTIONS,
    PREVENTION_ACTIONS,
    Action,
    Call,
    Field,
    FormData,
    concern_body,
    concern_call,
    offer_body,
    offer_call,
)
from infra.web.session import CSRF_FIELD, csrf_ok, csrf_token, keep_csrf, principal_of
from services.queries import WorklistQuery

log = logging.getLogger("ruskontrakt.web")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters.update(
    when=L.when,
    day=L.day,
    short_when=L.short_when,
    iso_local=L.iso_local,
    moved=L.moved,
    word_action=lambda code: L.word(L.ACTION, code),
    word_agency=lambda code: L.word(L.AGENCY, code),
    word_category=lambda code: L.word(L.CATEGORY, code),
)
TEMPLATES.env.globals.update(L=L, word=L.word)
PAGE_ROWS = 50


class SignInRequired(Exception):
    """No valid sign-in: the page answers with the sign-in page (or 401 to htmx)."""


class CsrfRefused(Exception):
    """A form without this browser's CSRF token (403)."""


def user_label(user: Principal) -> str:
    unit = f", {user.unit}" if user.unit else ""
    role = f" ({L.word(L.ROLE, user.role)})" if user.role else ""
    return f"{user.sub} – {L.word(L.AGENCY, user.agency.value)}{role}{unit}"


def menu(user: Principal | None) -> list[tuple[str, str]]:
    """The links a user's agency has a use for (the use cases decide again on every page)."""
    if user is None:
        return []
    agency = user.agency
    items = []
    if may(agency, "worklist", CONTRACT_QUERIES) and agency is not Agency.AUDITOR:
        items.append(("/ui/saker", "Arbeidsliste"))
    if may(agency, "offer", CONTRACT_COMMANDS):
        items.append(("/ui/saker/ny", "Nytt tilbud"))
    if (
        may(agency, "worklist", PREVENTION_QUERIES)
        and agency not in (Agency.AUDITOR,)
        and (agency is not Agency.POLICE or user.role == "prevention")
    ):
        items.append(("/ui/forebygging", "Forebyggende saker"))
    if may(agency, "history", CONTRACT_QUERIES):
        items.append(("/ui/revisjon", "Revisjon"))
    if may(agency, "subject_export", SUBJECT_QUERIES):
        items.append(("/ui/innsyn", "Innsyn"))
    if agency in (Agency.COUNTY, Agency.AUDITOR, Agency.KONFLIKTRAD):
        items.append(("/ui/statistikk", "Likebehandling"))
    return items


def render(
    request: Request,
    c: Container,
    user: Principal | None,
    template: str,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    values.setdefault("title", "Ruskontrakt")
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "user_label": user_label(user) if user else "",
            "menu": menu(user),
            "path": request.url.path,
            "csrf": csrf_token(request),
            "development": c.settings.development,
            **values,
        },
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"  # personal data: never kept by a browser or proxy
    keep_csrf(request, response, c)
    return response


def refusal_page(
    request: Request, c: Container, user: Principal | None, response: JSONResponse, heading: str = ""
) -> HTMLResponse:
    status = response.status_code
    body = present.problem_body(response.body)
    return render(
        request,
        c,
        user,
        "refused.html",
        status,
        refusal=present.refusal(status, body),
        heading=heading or L.word({"404": "Fant ikke saken"}, str(status)),
        title="Avvist",
    )


def _refused(error: Exception) -> JSONResponse:
    if isinstance(error, ValidationError):
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
        return problem(422, "Invalid request", "Some fields are missing or invalid.", errors=errors)
    return problem_for(error)


def ask(c: Container, user: Principal, use_case: Callable[..., Any], *arguments: Any, **keywords: Any) -> Any:
    """A query's answer, or the API's problem response for its refusal."""
    try:
        return use_case(*arguments, ctx=c.context(user), **keywords)
    except (*KNOWN_REFUSALS, ValidationError) as error:
        return _refused(error)


# --- sign-in and the start page ---


def start(user: Principal) -> RedirectResponse:
    """The first page of the menu; the county's is its equal-practice dashboard."""
    links = [href for href, _ in menu(user)]
    first = "/ui/statistikk" if user.agency is Agency.COUNTY else (links[0] if links else "/ui/logg-inn")
    return RedirectResponse(first, 303)


# --- contracts ---


def worklist(request: Request, c: Container, user: Principal) -> HTMLResponse:
    params = request.query_params
    status = params.get("status") or None
    overdue = {"ja": True, "nei": False}.get(params.get("forfalt", ""))
    within = params.get("innen", "")
    query = WorklistQuery(
        status if status in L.STATUS else None,
        overdue,
        int(within) if within.isdigit() and int(within) <= 3650 else None,
        params.get("mine") == "ja",
        PAGE_ROWS,
        params.get("side") or None,
    )
    answer = ask(c, user, c.contract_queries.worklist, query=query)
    if isinstance(answer, JSONResponse):
        return refusal_page(request, c, user, answer)
    rows = [{**row, "municipality_name": _municipality(c, row.get("municipality"))} for row in answer.items]
    partial = (
        request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "arbeidsliste"
    )
    return render(
        request,
        c,
        user,
        "worklist_table.html" if partial else "worklist.html",
        rows=rows,
        next_cursor=answer.next_cursor,
        filters={k: params.get(k, "") for k in ("status", "forfalt", "innen", "mine")},
        statuses=[s for s in L.STATUS if s not in _PREVENTION_STATUSES],
        title="Arbeidsliste",
    )


_PREVENTION_STATUSES = {
    "registered",
    "conversation_offered",
    "conversation_held",
    "conversation_declined",
    "counselling_offered",
    "counselling_accepted",
    "counselling_declined",
    "closed",
}


def _municipality(c: Container, number: Any) -> str:
    found = c.register.get(str(number)) if number else None
    return f"{found.name} ({number})" if found is not None else str(number or "–")


def case(
    request: Request,
    c: Container,
    user: Principal,
    case_id: UUID,
    refusal: JSONResponse | None = None,
    form: FormData | None = None,
    failed_action: str | None = None,
) -> HTMLResponse:
    answer = ask(c, user, c.contract_queries.case_view, case_id)
    if isinstance(answer, JSONResponse):
        return refusal_page(request, c, user, answer)
    view: dict[str, Any] = answer
    # `blocked_actions` ([{action, rule, ...}]: allowed by the status, refused by a guard now) is
    # the view's once the case view says why not (docs/web.md); until then every status action shows.
    blocked = {b.get("action"): b for b in view.get("blocked_actions") or [] if isinstance(b, dict)}
    allowed = [a for a in view.get("allowed_actions", []) if a in CONTRACT_ACTIONS and a not in blocked]
    actions = [CONTRACT_ACTIONS[a] for a in allowed]
    done = request.query_params.get("utfort")
    return render(
        request,
        c,
        user,
        "case.html",
        refusal.status_code if refusal is not None else 200,
        view=view,
        consent=present.consent_status(view),
        timeline=present.timeline(view),
        municipality=_municipality(c, view.get("residence_municipality")),
        actions=[(a, a.fields(view, c)) for a in actions if not a.danger],
        danger_actions=[(a, a.fields(view, c)) for a in actions if a.danger],
        blocked=[
            (L.word(L.ACTION, name), present.REFUSAL_WORDS.get(str(b.get("rule")), str(b.get("rule", ""))))
            for name, b in blocked.items()
        ],
        refusal=present.refusal(refusal.status_code, present.problem_body(refusal.body)) if refusal else None,
        failed_action=failed_action,
        submitted=form,
        done=L.word(L.ACTION, done) if done else None,
        base=f"/ui/saker/{case_id}",
        title=f"Sak – {_youth_name(view)}",
    )


def _youth_name(view: dict[str, Any]) -> str:
    youth = view.get("youth")
    return str(youth.get("name")) if isinstance(youth, dict) and youth.get("name") else "ruskontrakt"


async def form_of(request: Request) -> FormData:
    """The submitted form, once its CSRF token is this browser's (CsrfRefused otherwise)."""
    data = FormData(list((await request.form()).multi_items()))
    if not csrf_ok(request, data.one(CSRF_FIELD)):
        raise CsrfRefused()
    return data


def act(
    request: Request, c: Container, user: Principal, case_id: UUID, action: str, form: FormData
) -> Response:
    """A command from a case page's form: the API's command, then the case page again."""
    return _act(request, c, user, case_id, action, form, CONTRACT_ACTIONS, "/ui/saker", case)


def _act(
    request: Request,
    c: Container,
    user: Principal,
    case_id: UUID,
    action: str,
    form: FormData,
    actions: dict[str, Action],
    base: str,
    page: Callable[..., HTMLResponse],
) -> Response:
    spec = actions.get(action)
    if spec is None:
        return refusal_page(request, c, user, problem(404, "Unknown action"), "Ukjent handling")
    try:
        call = spec.call(c, case_id, form)
    except (ValidationError, ValueError) as error:
        refused = _refused(error) if isinstance(error, ValidationError) else problem(422, str(error))
        return page(request, c, user, case_id, refused, form, action)
    response = _run(c, user, call, case_id, form.one("version"))
    if response.status_code < 300:
        return RedirectResponse(f"{base}/{case_id}?utfort={action}", 303)
    return page(request, c, user, case_id, response, form, action)


def _run(c: Container, user: Principal, call: Call, case_id: UUID, version: str | None) -> JSONResponse:
    command = Command(c, user, call.body, version)
    try:
        return command.run(call.use_case, case_id, *call.arguments, extra=call.extra)
    except (*KNOWN_REFUSALS, ValidationError) as error:  # If-Match unreadable, for one
        return _refused(error)


def offer_form(
    request: Request, c: Container, user: Principal, refusal: JSONResponse | None = None, form: Any = None
) -> HTMLResponse:
    if refusal is None and not may(user.agency, "offer", CONTRACT_COMMANDS):
        return refusal_page(request, c, user, problem(403, "Not permitted"), "Ingen tilgang")
    return render(
        request,
        c,
        user,
        "offer.html",
        refusal.status_code if refusal is not None else 200,
        refusal=present.refusal(refusal.status_code, present.problem_body(refusal.body)) if refusal else None,
        submitted=form,
        legal_bases=list(L.LEGAL_BASIS.items()),
        today=L.iso_local(c.clock())[:10],
        title="Nytt tilbud om ruskontrakt",
    )


def offer(request: Request, c: Container, user: Principal, form: FormData) -> Response:
    return _create(request, c, user, form, offer_body, offer_call, "/ui/saker", offer_form)


def _create(
    request: Request,
    c: Container,
    user: Principal,
    form: FormData,
    body_of: Callable[[FormData], Any],
    call_of: Callable[[Container, Any], Call],
    base: str,
    page: Callable[..., HTMLResponse],
) -> Response:
    try:
        call = call_of(c, body_of(form))
    except ValidationError as error:
        return page(request, c, user, _refused(error), form)
    try:
        response = Command(c, user, call.body).create(call.use_case, *call.arguments)
    except KNOWN_REFUSALS as error:
        response = _refused(error)
    if response.status_code >= 300:
        return page(request, c, user, response, form)
    created = present.problem_body(response.body).get("id")
    return RedirectResponse(f"{base}/{created}?utfort=opprettet", 303)


# --- the preventive track ---


def prevention_list(request: Request, c: Container, user: Principal) -> HTMLResponse:
    answer = ask(c, user, c.prevention_queries.worklist)
    if isinstance(answer, JSONResponse):
        return refusal_page(request, c, user, answer)
    rows = [{**row, "municipality_name": _municipality(c, row.get("municipality"))} for row in answer.items]
    return render(
        request,
        c,
        user,
        "prevention_list.html",
        rows=rows,
        may_register=may(user.agency, "register_concern", PREVENTION_COMMANDS),
        title="Forebyggende saker",
    )


def prevention_case(
    request: Request,
    c: Container,
    user: Principal,
    case_id: UUID,
    refusal: JSONResponse | None = None,
    form: FormData | None = None,
    failed_action: str | None = None,
) -> HTMLResponse:
    answer = ask(c, user, c.prevention_queries.case_view, case_id)
    if isinstance(answer, JSONResponse):
        return refusal_page(request, c, user, answer)
    view: dict[str, Any] = answer
    actions = [PREVENTION_ACTIONS[a] for a in view.get("allowed_actions", []) if a in PREVENTION_ACTIONS]
    done = request.query_params.get("utfort")
    return render(
        request,
        c,
        user,
        "prevention_case.html",
        refusal.status_code if refusal is not None else 200,
        view=view,
        municipality=_municipality(c, view.get("municipality")),
        actions=[(a, a.fields(view, c)) for a in actions],
        refusal=present.refusal(refusal.status_code, present.problem_body(refusal.body)) if refusal else None,
        failed_action=failed_action,
        done=L.word(L.ACTION, done) if done else None,
        base=f"/ui/forebygging/{case_id}",
        title="Forebyggende sak",
    )


def prevention_act(
    request: Request, c: Container, user: Principal, case_id: UUID, action: str, form: FormData
) -> Response:
    return _act(
        request, c, user, case_id, action, form, PREVENTION_ACTIONS, "/ui/forebygging", prevention_case
    )


def concern_form(
    request: Request, c: Container, user: Principal, refusal: JSONResponse | None = None, form: Any = None
) -> HTMLResponse:
    return render(
        request,
        c,
        user,
        "concern.html",
        refusal.status_code if refusal is not None else 200,
        refusal=present.refusal(refusal.status_code, present.problem_body(refusal.body)) if refusal else None,
        submitted=form,
        sources=list(L.CONCERN_SOURCE.items()),
        title="Registrer bekymring",
    )


def concern(request: Request, c: Container, user: Principal, form: FormData) -> Response:
    return _create(request, c, user, form, concern_body, concern_call, "/ui/forebygging", concern_form)


# --- the auditor ---


def audit_start(request: Request, c: Container, user: Principal) -> HTMLResponse:
    case_id = request.query_params.get("sak", "").strip()
    if case_id:
        try:
            return RedirectResponse(f"/ui/revisjon/saker/{UUID(case_id)}", 303)  # type: ignore[return-value]
        except ValueError:
            return refusal_page(request, c, user, problem(404, "Case not found"))
    return render(request, c, user, "audit.html", title="Revisjon")


def history(request: Request, c: Container, user: Principal, case_id: UUID) -> HTMLResponse:
    answer = ask(c, user, c.audit.history, case_id)
    if isinstance(answer, JSONResponse):
        return refusal_page(request, c, user, answer)
    events = [
        {
            **e,
            "label": L.word(L.EVENT, e.get("type")),
            "lines": export_sections.facts(e, municipality=_municipality_of(c)),
        }
        for e in answer.get("events", [])
    ]
    return render(
        request,
        c,
        user,
        "history.html",
        case_id=case_id,
        events=events,
        state=answer.get("state") or {},
        title="Historikk",
    )


def verify(request: Request, c: Container, user: Principal, case_id: UUID) -> HTMLResponse:
    answer = ask(c, user, c.audit.verify, case_id)
    if isinstance(answer, JSONResponse):
        return refusal_page(request, c, user, answer)
    return render(request, c, user, "verify.html", result=answer.as_dict(), case_id=case_id)


def access_log(request: Request, c: Container, user: Principal) -> HTMLResponse:
    params = request.query_params
    subject = params.get("person", "").strip() or None
    agency_code = params.get("etat") or None
    since_text = params.get("fra", "").strip()
    problems = []
    if subject is not None:
        try:
            valid_national_id(subject)
        except ValueError:
            problems.append("Fødselsnummeret er ikke gyldig.")
    agency = Agency(agency_code) if agency_code in {a.value for a in Agency} else None
    since = None
    if since_text:
        try:
            since = datetime.fromisoformat(since_text).replace(tzinfo=L.OSLO)
        except ValueError:
            problems.append("Fra-datoen er ikke gyldig.")
    entries: list[dict[str, Any]] = []
    if not problems:
        answer = ask(c, user, c.audit.access_log, national_id=subject, agency=agency, since=since, limit=500)
        if isinstance(answer, JSONResponse):
            return refusal_page(request, c, user, answer)
        entries = answer
    return render(
        request,
        c,
        user,
        "access_log.html",
        422 if problems else 200,
        entries=[export_sections.access_row(e) for e in reversed(entries)],
        problems=problems,
        filters={"person": subject or "", "etat": agency_code or "", "fra": since_text},
        agencies=list(L.AGENCY.items()),
        title="Tilgangslogg",
    )


# --- the subject-access export ---


def export_form(
    request: Request, c: Container, user: Principal, status: int = 200, problem_text: str = ""
) -> HTMLResponse:
    if not may(user.agency, "subject_export", SUBJECT_QUERIES):
        return refusal_page(request, c, user, problem(403, "Not permitted"), "Ingen tilgang")
    return render(request, c, user, "export_form.html", status, problem_text=problem_text, title="Innsyn")


def export(request: Request, c: Container, user: Principal, form: FormData) -> HTMLResponse:
    national = form.text("national_id").strip()
    try:
        valid_national_id(national)
    except ValueError:
        return export_form(request, c, user, 422, "Fødselsnummeret er ikke gyldig (11 siffer).")
    c.export_rate_limit.check(user)
    answer = ask(c, user, c.subjects.export, national)
    if isinstance(answer, JSONResponse):
        return refusal_page(request, c, user, answer, "Ingen saker funnet")
    return render(
        request,
        c,
        user,
        "export.html",
        export=export_sections.sections(answer, _municipality_of(c)),
        title="Innsyn i egne opplysninger",
    )


def _municipality_of(c: Container) -> Callable[[str], str]:
    def name(number: str) -> str:
        found = c.register.get(number)
        return found.name if found is not None else f"kommune {number}"

    return name


# --- statistics (docs/api.md "Statistics"; the use cases are built in another issue) ---


def fields_of(action: Action, view: dict[str, Any], c: Container) -> list[Field]:
    return action.fields(view, c)


def signed_in(request: Request, c: Container) -> Principal:
    user = principal_of(request, c)
    if user is None:
        raise SignInRequired()
    return user
