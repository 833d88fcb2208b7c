"""A command over HTTP: the use case's answer as a response, `If-Match`, `Idempotency-Key`.

What a command may do, to which case, and what is logged is decided by the application
(`services/sealed_application.py`); this module only translates HTTP into a call of one use-case
method and its result (or refusal) back into HTTP. A repeated `Idempotency-Key` is
answered from the first response without calling the use case again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from domain.policy import Track
from infra.api.deps import RETURN_MINIMAL
from infra.api.problems import ProblemError, problem, problem_for
from infra.api.responses import CaseResponse
from infra.auth import Principal
from infra.bootstrap import Container
from services.context import Context
from services.sealed_application import CommandResult

log = logging.getLogger("ruskontrakt.commands")

UseCase = Callable[..., CommandResult]  # a bound method of an application, e.g. contracts.hold_meeting
KEPT_HEADERS = ("etag", "location", "content-type", "x-position")


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    cleaned = value.strip().removeprefix("W/").strip('"')
    if not (cleaned.isascii() and cleaned.isdigit()):  # "²".isdigit(), but int("²") fails
        raise ProblemError(422, "Invalid If-Match", 'If-Match must be the case version, e.g. "3"')
    return int(cleaned)


class Command:
    """One command request: who sent it, its body and its `If-Match` / `Idempotency-Key`."""

    def __init__(
        self,
        container: Container,
        principal: Principal,
        body: BaseModel | None = None,
        if_match: str | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        self.container = container
        self.principal = principal
        self.body = body
        self.if_match = if_match
        self.idempotency_key = idempotency_key

    def create(self, use_case: UseCase, *arguments: Any) -> JSONResponse:
        """A use case that creates a case: 201 with its `Location`."""
        return self._answer(use_case, arguments, None, 201, {}, creates=True)

    def run(
        self, use_case: UseCase, *arguments: Any, status: int = 200, extra: dict[str, Any] | None = None
    ) -> JSONResponse:
        """A use case on an existing case (`arguments[0]` is its id); `extra` joins the body
        (the id of the test or breach it created)."""
        expected = parse_if_match(self.if_match)
        return self._answer(use_case, arguments, expected, status, extra or {}, creates=False)

    def _answer(
        self,
        use_case: UseCase,
        arguments: tuple[Any, ...],
        expected: int | None,
        status: int,
        extra: dict[str, Any],
        creates: bool,
    ) -> JSONResponse:
        ctx = self.container.context(self.principal, shows_view=not RETURN_MINIMAL.get())
        keywords: dict[str, Any] = {"ctx": ctx} if creates else {"ctx": ctx, "expected_version": expected}

        def execute() -> JSONResponse:
            try:
                result = use_case(*arguments, **keywords)
            except Exception as error:
                return problem_for(error)
            log.debug(
                "%s by %s/%s on %s -> v%d",
                use_case.__name__,
                ctx.agency.value,
                ctx.sub,
                result.case_id,
                result.version,
            )
            return self._response(result, ctx, status, extra, _track(use_case) if creates else None)

        if self.idempotency_key is None:
            return execute()
        case = str(arguments[0]) if not creates else None
        return self._once(_track(use_case), use_case.__name__, case, execute)

    def _response(
        self, result: CommandResult, ctx: Context, status: int, extra: dict[str, Any], created: Track | None
    ) -> JSONResponse:
        """The case as the caller's agency sees it after the command, computed by the
        application from the case's own events (no wait for the projector); `position`
        lets a later `GET ?min_position=` see the same state."""
        body = (
            dict(result.view)
            if result.view is not None
            else {"id": result.case_id, "version": result.version}
        )
        body.update(extra)
        headers = {"ETag": f'"{result.version}"'}
        if result.position is not None:
            body["position"] = result.position
            headers["X-Position"] = str(result.position)
        if not ctx.shows_view:
            headers["Preference-Applied"] = "return=minimal"
        if created is not None:
            prefix = "/contracts" if created is Track.CONTRACT else "/prevention-cases"
            headers["Location"] = f"{prefix}/{result.case_id}"
        return CaseResponse(body, status, headers=headers)

    def _once(
        self, track: Track, action: str, case_id: str | None, execute: Callable[[], JSONResponse]
    ) -> JSONResponse:
        """Answer a repeated key from its first response; store this response for repeats."""
        assert self.idempotency_key is not None
        key = self.idempotency_key
        scope = f"{self.principal.agency.value}:{self.principal.sub}:{track.value}:{action}:{case_id}"
        payload = self.body.model_dump_json() if self.body is not None else ""
        request_hash = hashlib.sha256(payload.encode()).hexdigest()
        store = self.container.idempotency
        earlier = store.reserve(scope, key, request_hash)
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
            if earlier.status < 300 and "categories" in earlier.body:
                # The first answer is shown again: that is a read of personal data too.
                ctx = self.container.context(self.principal)
                self.container.access.shown(ctx, f"replay:{action}", [earlier.body])
            return JSONResponse(
                earlier.body,
                earlier.status,
                headers=earlier.headers,
                media_type=earlier.headers.get("content-type"),
            )
        try:
            response = execute()
        except BaseException:
            store.release(scope, key)
            raise
        headers = {k: v for k, v in response.headers.items() if k in KEPT_HEADERS}
        body = json.loads(response.body)
        case = case_id or (body.get("id") if response.status_code < 300 else None)
        store.complete(scope, key, response.status_code, body, headers, case)
        return response


def _track(use_case: UseCase) -> Track:
    track: Track = use_case.__self__.track  # type: ignore[attr-defined]  # a bound application method
    return track
