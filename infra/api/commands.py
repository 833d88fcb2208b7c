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

from domain.permissions import CONTRACT_COMMANDS, PREVENTION_COMMANDS
from domain.policy import Track
from infra.api.deps import RETURN_MINIMAL
from infra.api.problems import ProblemError, problem, problem_for
from infra.api.views import case_view_or_404, known_case_view, log_reads, sync
from infra.auth import Principal
from infra.bootstrap import Container
from services.contracts import CaseNotFoundError, CommandResult

log = logging.getLogger("ruskontrakt.commands")


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    cleaned = value.strip().removeprefix("W/").strip('"')
    if not cleaned.isdigit():
        raise ProblemError(422, "Invalid If-Match", 'If-Match must be the case version, e.g. "3"')
    return int(cleaned)


class CommandRunner:
    def __init__(self, container: Container, principal: Principal, track: str = "contract") -> None:
        self.container = container
        self.principal = principal
        self.track = track
        self.table = CONTRACT_COMMANDS if track == "contract" else PREVENTION_COMMANDS
        self._action = ""

    def run(
        self,
        action: str,
        case_id: UUID | None,
        body: BaseModel | None,
        execute: Callable[[int | None], CommandResult],
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
                return problem(422, "Idempotency key reused", "This Idempotency-Key was used "
                               "with a different request body.")  # fmt: skip
            if earlier.status is None:
                return problem(409, "Request in progress", "A request with this Idempotency-Key "
                               "is still running; retry shortly.")  # fmt: skip
            return JSONResponse(earlier.body, earlier.status, headers=earlier.headers,
                                media_type=earlier.headers.get("content-type"))  # fmt: skip
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
        execute: Callable[[int | None], CommandResult],
        if_match: str | None,
        created: bool,
        extra: dict[str, Any] | None,
    ) -> JSONResponse:
        self._action = action
        try:
            expected = parse_if_match(if_match)
            if case_id is not None:
                self._view(case_id)  # 404 unless the agency may know the case
            result = execute(expected)
        except Exception as error:
            allowed = None
            if case_id is not None:
                try:
                    allowed = self._view(case_id).get("allowed_actions")
                except Exception:
                    allowed = None
            return problem_for(error, allowed)
        log.info("%s by %s/%s on %s -> v%d", action, self.principal.agency.value,
                 self.principal.sub, result.case_id, result.version)  # fmt: skip
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
        return JSONResponse(body, 201 if created else 200, headers=headers)

    def _response_view(self, result: CommandResult) -> dict[str, Any]:
        """The case view after the command, from the read models once they have applied it.

        In Kafka mode the projector may lag beyond `read_wait_seconds`: then the response
        says so and carries only what the command itself knows; `GET` with
        `?min_position=` fetches the view when it is there.
        """
        if RETURN_MINIMAL.get():
            return {"id": result.case_id, "version": result.version}
        reached = sync(self.container, self._track, result.position)
        view = None
        if reached:
            try:
                view = self._view(UUID(result.case_id), catch_up=False)
            except CaseNotFoundError:
                view = None
        if view is None:
            return {"id": result.case_id, "version": result.version, "projection": "pending"}
        log_reads(self.container, self.principal, f"command:{self._action}", [view])
        return view

    @property
    def _track(self) -> Track:
        return Track.CONTRACT if self.track == "contract" else Track.PREVENTION

    def _view(self, case_id: UUID, catch_up: bool = True) -> dict[str, Any]:
        if catch_up:
            sync(self.container, self._track)
            return known_case_view(self.container, self._track, case_id, self.principal.agency)
        return case_view_or_404(self.container, self._track, case_id, self.principal.agency)
