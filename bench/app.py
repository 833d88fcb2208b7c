"""The service as `ruskontrakt serve` runs it, plus no-op routes for baselines.

`POST /bench/noop/{case_id}/meetings` has the dependencies of the real
`POST /contracts/{case_id}/meetings` (the bearer-token principal, the same pydantic body,
the container, `If-Match` and `Idempotency-Key` headers), is a sync route like it (so it
takes the same hop to the thread pool) and passes the same middleware, but never touches
the store: the difference between the two is the cost of the command itself.
`GET /bench/noop/contracts` and `GET /bench/noop/contracts/{case_id}` are the same for the
worklist and the case read: authenticated and parsed alike, answered without a query.

Run as `python -m bench.app --port N` (bench/server.py does that); settings come from the
RUSKONTRAKT_* environment exactly as for `ruskontrakt serve`.
"""

from __future__ import annotations

import argparse
import logging
from uuid import UUID

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from infra.api.app import create_app
from infra.api.deps import (
    ContainerDep,
    IdempotencyKey,
    IfMatch,
    MinPosition,
    PrincipalDep,
    WorklistParams,
)
from infra.api.schemas import MeetingBody
from infra.bootstrap import Container, build
from infra.settings import Settings

NOOP_PATH = "/bench/noop/{case_id}/meetings"
NOOP_GET_PATH = "/bench/noop/contracts"
NOOP_CASE_GET_PATH = "/bench/noop/contracts/{case_id}"


def create_bench_app(container: Container) -> FastAPI:
    app = create_app(container)

    @app.post(NOOP_PATH, response_model=None, tags=["benchmarks"])
    def noop_meeting(
        case_id: UUID,
        body: MeetingBody,
        c: ContainerDep,
        user: PrincipalDep,
        if_match: IfMatch = None,
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        """Validates and authenticates like the meeting command, then answers without a command."""
        return JSONResponse(
            {"id": str(case_id), "kind": body.kind.value, "agency": user.agency.value, "noop": True}
        )

    @app.get(NOOP_GET_PATH, response_model=None, tags=["benchmarks"])
    def noop_worklist(
        query: WorklistParams, c: ContainerDep, user: PrincipalDep, min_position: MinPosition = None
    ) -> JSONResponse:
        """Authenticates and parses like the worklist, then answers an empty page without a query."""
        return JSONResponse(
            {"items": [], "next_cursor": None, "limit": query.limit, "agency": user.agency.value}
        )

    @app.get(NOOP_CASE_GET_PATH, response_model=None, tags=["benchmarks"])
    def noop_case(
        case_id: UUID, c: ContainerDep, user: PrincipalDep, min_position: MinPosition = None
    ) -> JSONResponse:
        """Authenticates and parses like `GET /contracts/{id}`, then answers without reading."""
        return JSONResponse({"id": str(case_id), "version": 0, "agency": user.agency.value, "noop": True})

    return app


def main() -> None:
    from infra import serving

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost"):
        raise SystemExit("the benchmark server listens on the loopback interface only")
    settings = Settings()
    # as infra.cli.serve: same log format and level, same national-id mask, same server
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    container = build(settings)
    serving.run(create_bench_app(container), container, settings, args.host, args.port)


if __name__ == "__main__":
    main()
