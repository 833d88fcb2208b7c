"""413 for a request body over the limit, before it is read and before authentication.

A plain ASGI middleware (like `request_metrics.py`): a declared `Content-Length` over the
limit is answered at once, without calling the application, so nothing of the body is
read and no token is looked at; a body without one (chunked) is counted as it streams,
and the chunk that crosses the limit is never handed on. FastAPI reads a route's whole
body before it solves the route's dependencies (the bearer token among them), so a
streamed body over the limit is refused before authentication too.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024  # RUSKONTRAKT_MAX_BODY_BYTES once the setting exists


class BodyTooLarge(Exception):
    """Raised into the application from `receive` when a streamed body crosses the limit."""


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        too_large = False
        started = False

        async def counted() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise BodyTooLarge
            return message

        async def send_unless_refused(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return  # the application's answer to the cut body (a 400, say): ours instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, send_unless_refused)
        except Exception:
            if not too_large or started:  # BodyTooLarge itself, or what the app made of it
                raise
        if too_large and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        problem = {
            "type": "about:blank",
            "title": "Request body too large",
            "status": 413,
            "detail": f"A request body may have at most {self.max_bytes} bytes.",
        }
        body = json.dumps(problem).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),  # the rest of the body is not read
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before the app sees it
    return None
