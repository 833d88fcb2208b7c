"""Running one command over HTTP: permission, visibility, `If-Match`, `Idempotency-Key`.

Every command route is a few lines that name the action and call the domain; the
cross-cutting rules of api.md live here once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from domain.errors import DomainError
from domain.permissions import CONTRACT_COMMANDS, PREVENTION_COMMANDS
from infra.api.deps import RETURN_MINIMAL
from infra.api.problems import ProblemError, problem, problem_for
from infra.api.responses import CaseResponse
from infra.api.views import access_entries
from infra.auth import Principal
from infra.bootstrap import Container
from services.contracts import CommandResult, LogView

log = logging.getLogger("ruskontrakt.commands")


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    cleaned = value.strip().removeprefix("W/").strip('"')
    if not (cleaned.isascii() and cleaned.isdigit()):  # "²".isdigit(), but int("²") fails
        raise ProblemError(422, "Invalid If-Match", 'If-Match must be the case version, e.g. "3"')
    return int(cleaned)


class CommandRunner:
    def __init__(self, container: Container, principal: Principal, track: str = "contract") -> None:
        self.container = container
        self.principal = principal
        self.track = track
        self.table = CONTRACT_COMMANDS if track == "contract" else PREVENTION_COMMANDS

    def run(
        self,
        action: str,
        case_id: UUID | None,
        body: BaseModel | None,
        execute: Callable[[int | None, LogView | None], CommandResult],
        *,
        if_match: str | None = None,
        idempotency_key: str | None = None,
        created: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> JSONResponse:
        agency = self.principal.agency
        if agency not in self.table.get(action, frozenset()):
            return problem(403, "Not permitted", f"{agency.value} may not {action.replace('_', ' ')}")
        if idempotency_key is None:
            return self._execute(action, case_id, execute, if_match, created, extra)
        scope = f"{agency.value}:{self.principal.sub}:{self.track}:{action}:{case_id}"
        payload = body.model_dump_json() if body is not None else ""
        request_hash = hashlib.sha256(payload.encode()).hexdigest()
        store = self.container.idempotency
        earlier = store.reserve(scope, idempotency_key, request_hash)
        if earlier is not None:
            if earlier.request_hash != request_hash:
                return problem(
                    422,
                    "Idempotency key reused",
                    "This Idempotency-Key was used with a different request body.",
                )
            if earlier.status is None:
                return problem(
                    409,
                    "Request in progress",
                    "A request with this Idempotency-Key is still running; retry shortly.",
                )
            return JSONResponse(
                earlier.body,
                earlier.status,
                headers=earlier.headers,
                media_type=earlier.headers.get("content-type"),
            )
        try:
            response = self._execute(action, case_id, execute, if_match, created, extra)
        except BaseException:
            store.release(scope, idempotency_key)
            raise
        kept = ("etag", "location", "content-type", "x-position")
        headers = {k: v for k, v in response.headers.items() if k in kept}
        body = json.loads(response.body)
        case = str(case_id) if case_id else (body.get("id") if response.status_code < 300 else None)
        store.complete(scope, idempotency_key, response.status_code, body, headers, case)
        return response

    def _execute(
        self,
        action: str,
        case_id: UUID | None,
        execute: Callable[[int | None, LogView | None], CommandResult],
        if_match: str | None,
        created: bool,
        extra: dict[str, Any] | None,
    ) -> JSONResponse:
        try:
            result = execute(parse_if_match(if_match), self._log_view(action))
        except Exception as error:
            return problem_for(error, self._allowed_actions(case_id, error))
        # DEBUG: uvicorn's access log has the request's INFO line, and the event store who did
        # what; at a few hundred commands/s a second line per command is a measurable cost.
        log.debug(
            "%s by %s/%s on %s -> v%d",
            action,
            self.principal.agency.value,
            self.principal.sub,
            result.case_id,
            result.version,
        )
        body = self._response_view(result)
        body.update(extra or {})
        headers = {"ETag": f'"{result.version}"'}
        if result.position is not None:
            body["position"] = result.position
            headers["X-Position"] = str(result.position)
        if RETURN_MINIMAL.get():
            headers["Preference-Applied"] = "return=minimal"
        if created and case_id is None:
            prefix = "/contracts" if self.track == "contract" else "/prevention-cases"
            headers["Location"] = f"{prefix}/{result.case_id}"
        return CaseResponse(body, 201 if created else 200, headers=headers)

    def _log_view(self, action: str) -> LogView | None:
        """The access-log entry of the answer's view, which the application stores with the
        command's events (no view in a `return=minimal` answer, so nothing to log)."""
        if RETURN_MINIMAL.get():
            return None
        return lambda view: access_entries(self.container, self.principal, f"command:{action}", [view])

    def _response_view(self, result: CommandResult) -> dict[str, Any]:
        """The case as the caller's agency sees it after the command: computed by the
        application from the case's own events, so it never waits for the projector.
        `position` lets a later `GET ?min_position=` see the same state."""
        if RETURN_MINIMAL.get() or result.view is None:
            return {"id": result.case_id, "version": result.version}
        return dict(result.view)

    def _allowed_actions(self, case_id: UUID | None, error: Exception) -> list[str] | None:
        """What the caller may do next, for a 409 refused by the lifecycle or a rule."""
        if case_id is None or not isinstance(error, DomainError):
            return None
        app = self.container.contracts if self.track == "contract" else self.container.prevention
        try:
            view = app.case_view(case_id, self.principal.agency)
        except Exception:
            return None
        return view.get("allowed_actions") if view else None
