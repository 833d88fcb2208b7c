"""Per-request behaviour of the app's middleware: Prometheus counts by route template and
status, and `Prefer: return=minimal`."""

from __future__ import annotations

import re

from tests.conftest import Api
from tests.integration.flows import OFFER, offer, ok


def _count(api: Api, method: str, route: str, status: int) -> float:
    text = api.client.get("/metrics").text
    labels = f'method="{method}",route="{re.escape(route)}",status="{status}"'
    pattern = r"^ruskontrakt_http_requests_total\{" + labels + r"\} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_requests_are_counted_by_route_template_and_status(api: Api) -> None:
    created, refused = _count(api, "POST", "/contracts", 201), _count(api, "POST", "/contracts", 403)
    case_id = offer(api)
    assert api.post("police", "/contracts", OFFER).status_code == 403
    assert _count(api, "POST", "/contracts", 201) == created + 1
    assert _count(api, "POST", "/contracts", 403) == refused + 1
    read = _count(api, "GET", "/contracts/{case_id}", 200)
    ok(api.get("prosecution", f"/contracts/{case_id}"))
    assert _count(api, "GET", "/contracts/{case_id}", 200) == read + 1


def test_prefer_return_minimal_answers_with_id_version_and_position_only(api: Api) -> None:
    response = api.post("prosecution", "/contracts", OFFER, Prefer="return=minimal")
    body = ok(response, 201)
    assert set(body) == {"id", "version", "position"}
    assert response.headers["Preference-Applied"] == "return=minimal"
    full = api.post("prosecution", "/contracts", OFFER)
    assert "status" in ok(full, 201) and "Preference-Applied" not in full.headers
