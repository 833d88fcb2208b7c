"""Case documents as JSON responses.

A case view holds every meeting, test and breach the agency may see, so a long case's
view is large (about 150 kB after 1,000 meetings) and is rendered on every command and
read of it. orjson renders the same bytes as pydantic-core (the serializer FastAPI uses
for response models) about four times faster, and pydantic-core renders them four times
faster than Starlette's `json.dumps`. What orjson refuses (an integer beyond 64 bits,
nesting deeper than 254) is rendered by pydantic-core.

A stored event is kept for ever, so a document must render whatever an event once
recorded: a value nested deeper than the serializer goes, or a number JSON cannot carry
(NaN), is shown as a marker instead of failing every later read of its case.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
import pydantic_core
from fastapi import Request
from fastapi.responses import JSONResponse

from services.queries import Worklist

SHOWN_DEPTH = 64
TOO_DEEP = "[nested too deep to show]"


def renderable(value: Any, depth: int = 0) -> Any:
    """`value` with what JSON cannot carry replaced: deep nesting cut, NaN and ±∞ as null."""
    if isinstance(value, dict):
        if depth >= SHOWN_DEPTH:
            return TOO_DEEP
        return {str(k): renderable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if depth >= SHOWN_DEPTH:
            return TOO_DEEP
        return [renderable(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# As pydantic-core writes them: a UTC instant ends in "Z", an integer key is quoted.
ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


class CaseResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=ORJSON_OPTIONS)  # NaN and ±∞ as null, as below
        except orjson.JSONEncodeError:
            pass
        try:
            return pydantic_core.to_json(content, inf_nan_mode="null")
        except (pydantic_core.PydanticSerializationError, RecursionError):
            return pydantic_core.to_json(renderable(content), inf_nan_mode="null")


def worklist_response(worklist: Worklist, request: Request) -> CaseResponse:
    """A page of the worklist, with `Link: <...>; rel="next"` while there is a next page."""
    headers = {}
    if worklist.next_cursor is not None:
        following = request.url.include_query_params(cursor=worklist.next_cursor)
        headers["Link"] = f'<{following.path}?{following.query}>; rel="next"'
    return CaseResponse({"items": worklist.items, "next_cursor": worklist.next_cursor}, headers=headers)
