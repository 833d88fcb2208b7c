"""RFC 9457 problem responses, and the mapping from refusals to HTTP status codes."""

from __future__ import annotations

import logging
from typing import Any

from eventsourcing.persistence import IntegrityError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import (
    ActionNotAllowedError,
    DomainError,
    InvalidInputError,
    NotPermittedError,
    RuleViolationError,
)
from infra.auth import AuthenticationError
from services.errors import (
    AccessDeniedError,
    CaseErasedError,
    CaseNotFoundError,
    CommandRefusedError,
    InvalidCursorError,
    NotReadyError,
    TooManyError,
    VersionMismatchError,
)
from services.sealing import ErasedError

log = logging.getLogger("ruskontrakt.api")
PROBLEM = "application/problem+json"
TYPE_BASE = "https://ruskontrakt.no/problems/"


class ProblemError(Exception):
    """Raised by the edges to answer with a problem document."""

    def __init__(self, status: int, title: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def problem(
    status: int,
    title: str,
    detail: str = "",
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def problem_for(error: Exception, allowed_actions: list[str] | None = None, **more: Any) -> JSONResponse:
    """The problem response for a refusal raised by a use case (anything else is re-raised)."""
    if isinstance(error, CommandRefusedError):
        missing = {"consents_missing": error.consents_missing} if error.consents_missing else {}
        return problem_for(error.reason, error.allowed_actions, **missing)
    if isinstance(error, AccessDeniedError):
        return problem(403, "Not permitted", str(error))
    if isinstance(error, InvalidCursorError):
        return problem(422, "Invalid cursor", str(error))
    if isinstance(error, TooManyError):
        return problem(429, "Too many requests", str(error), headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, NotReadyError):
        return problem(503, "Not ready yet", str(error), headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, ProblemError):
        return problem(error.status, error.title, error.detail, **error.extra)
    if isinstance(error, DomainError):
        status = (
            403
            if isinstance(error, NotPermittedError)
            else 422
            if isinstance(error, InvalidInputError)
            else 409
        )
        extra: dict[str, Any] = {"rule": type(error).code(), **more}
        if isinstance(error, ActionNotAllowedError):
            extra["allowed_actions"] = allowed_actions if allowed_actions is not None else error.allowed
        elif isinstance(error, RuleViolationError) and allowed_actions is not None:
            extra["allowed_actions"] = allowed_actions
        return problem(status, type(error).rule(), str(error), TYPE_BASE + type(error).code(), **extra)
    if isinstance(error, CaseNotFoundError):
        return problem(404, "Case not found", "No case with this id is known to your unit.")
    if isinstance(error, CaseErasedError | ErasedError):
        return problem(
            410,
            "Case erased",
            "This person's data was erased; the case can be verified but not read or changed.",
        )
    if isinstance(error, VersionMismatchError):
        return problem(412, "The case has changed", str(error), current_version=error.actual)
    if isinstance(error, IntegrityError):
        return problem(
            409,
            "Concurrent change",
            "Another command changed this case at the same time; reload it and try again.",
            TYPE_BASE + "concurrent-change",
        )
    raise error


KNOWN_REFUSALS = (
    InvalidCursorError,
    TooManyError,
    NotReadyError,
    CommandRefusedError,
    AccessDeniedError,
    DomainError,
    CaseNotFoundError,
    CaseErasedError,
    ErasedError,
    VersionMismatchError,
    IntegrityError,
)


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    def _problem(_: Request, error: ProblemError) -> JSONResponse:
        return problem_for(error)

    @app.exception_handler(AuthenticationError)
    def _unauthenticated(_: Request, error: AuthenticationError) -> JSONResponse:
        return problem(401, "Not authenticated", str(error), headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(RequestValidationError)
    def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in error.errors()
        ]
        return problem(422, "Invalid request", "Some fields are missing or invalid.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400 and isinstance(error.__cause__, UnicodeDecodeError):
            # FastAPI answers 400 for a body that is not text, but 422 for text that is not
            # JSON; to a client both are the same invalid body (docs/api.md: 422).
            return problem(
                422,
                "Invalid request",
                "The body is not JSON text.",
                errors=[{"loc": ["body"], "msg": str(error.__cause__), "type": "json_invalid"}],
            )
        if error.status_code == 400 and isinstance(error.__cause__, RecursionError):
            # JSON nested thousands of levels deep (well within the size limit): Python's
            # parser gives up, FastAPI answers 400; it is an invalid body like any other.
            return problem(
                422,
                "Invalid request",
                "The body is nested too deep to read.",
                errors=[{"loc": ["body"], "msg": "nested too deep", "type": "json_invalid"}],
            )
        return problem(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    # Refusals get their own handlers: the catch-all below sits in Starlette's outermost
    # middleware, which answers and then re-raises (a crash in tests, noise in logs).
    for refusal in KNOWN_REFUSALS:
        app.add_exception_handler(refusal, lambda _, error: problem_for(error))

    @app.exception_handler(Exception)
    def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "The error was logged; nothing was recorded.")
