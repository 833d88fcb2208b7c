"""Per-request behaviour of the app's middleware: Prometheus counts by route group and
status class (never per route: `/metrics` is open), and `Prefer: return=minimal`."""

from __future__ import annotations

import re

from tests.conftest import Api
from tests.integration.flows import OFFER, offer, ok


def _count(api: Api, method: str, group: str, status_class: str) -> float:
    text = api.client.get("/metrics").text
    labels = f'method="{method}",route_group="{re.escape(group)}",status_class="{status_class}"'
    pattern = r"^ruskontrakt_http_requests_total\{" + labels + r"\} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_requests_are_counted_by_route_group_and_status_class(api: Api) -> None:
    created, refused = (_count(api, "POST", "contract-command", c) for c in ("2xx", "4xx"))
    case_id = offer(api)
    assert api.post("police", "/contracts", OFFER).status_code == 403
    assert _count(api, "POST", "contract-command", "2xx") == created + 1
    assert _count(api, "POST", "contract-command", "4xx") == refused + 1
    read = _count(api, "GET", "contract-query", "2xx")
    ok(api.get("prosecution", f"/contracts/{case_id}"))
    assert _count(api, "GET", "contract-query", "2xx") == read + 1
    audited = _count(api, "GET", "audit", "2xx")
    ok(api.get("auditor", f"/contracts/{case_id}/history"))
    assert _count(api, "GET", "audit", "2xx") == audited + 1


def test_prefer_return_minimal_answers_with_id_version_and_position_only(api: Api) -> None:
    response = api.post("prosecution", "/contracts", OFFER, Prefer="return=minimal")
    body = ok(response, 201)
    assert set(body) == {"id", "version", "position"}
    assert response.headers["Preference-Applied"] == "return=minimal"
    full = api.post("prosecution", "/contracts", OFFER)
    assert "status" in ok(full, 201) and "Preference-Applied" not in full.headers
