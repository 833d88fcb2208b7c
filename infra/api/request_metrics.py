"""Per request: Prometheus counts and latencies by route group, the `Prefer` header, and
`Cache-Control: no-store` on every answer.

`/metrics` is open to the scraper without a token, so its labels must not count cases:
per-route counts would tell anyone how many youths were reported to child welfare this
week (`POST /prevention-cases/{id}/reported-to-child-welfare` 200) or how many contracts
were offered (`POST /contracts` 201). Requests are counted by route group (track and
command or query, audit, operations) and status class instead.

Nearly every answer holds personal data (case views, worklists, histories, exports, command
answers, even a 409's allowed actions), so every answer is marked `no-store` for browsers and
proxies unless a route set its own `Cache-Control`.

A plain ASGI middleware rather than `@app.middleware("http")`: Starlette's
BaseHTTPMiddleware runs every request through an extra task and memory streams, which
cost about a sixth of a small request's time.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.api.deps import RETURN_MINIMAL, prefers_minimal

REQUESTS = Counter(
    "ruskontrakt_http_requests_total", "HTTP requests", ["method", "route_group", "status_class"]
)
LATENCY = Histogram("ruskontrakt_http_request_seconds", "HTTP request latency", ["method", "route_group"])
NO_STORE = (b"cache-control", b"no-store")

# The first segment of a route's path -> its group.
TRACKS = {
    "contracts": "contract",
    "prevention-cases": "prevention",
    "subjects": "subject",
    "access-log": "audit",
    "streams": "stream",
}
AUDIT_ROUTES = ("/history", "/views/", "/verify")
OPERATIONS = {"health", "ready", "metrics"}


def route_group(method: str, route: str | None) -> str:
    """The route's group: e.g. `prevention-command` for every prevention POST alike."""
    if route is None:
        return "unmatched"
    first = route.strip("/").split("/", 1)[0]
    if first in OPERATIONS:
        return "operations"
    track = TRACKS.get(first)
    if track is None:
        return "documentation"  # /docs, /redoc, /openapi.json
    if track == "contract" and any(part in route for part in AUDIT_ROUTES):
        return "audit"
    if track in ("audit", "stream"):
        return track
    return f"{track}-{'command' if method == 'POST' else 'query'}"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        prefer = next((v for k, v in scope["headers"] if k == b"prefer"), b"")
        RETURN_MINIMAL.set(prefers_minimal(prefer.decode("latin-1")))
        status = 500  # unless the app answers: an exception is answered further out

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if not any(name.lower() == NO_STORE[0] for name, _ in headers):
                    message["headers"] = [*headers, NO_STORE]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route: Any = getattr(scope.get("route"), "path", None)
            group = route_group(scope["method"], route)
            REQUESTS.labels(scope["method"], group, f"{status // 100}xx").inc()
            LATENCY.labels(scope["method"], group).observe(time.perf_counter() - start)
