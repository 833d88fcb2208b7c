"""The equal-practice dashboard (`/ui/statistikk`) and its CSV (`/ui/statistikk.csv`).

Both ask the use case the API's `GET /statistics/equal-practice` asks
(`services/statistics.py` `Statistics.equal_practice`, with the caller's `Context`), so who
may read it, the county's scope (its own municipalities) and the disclosure control
(suppressed cells) are exactly the API's; the CSV is the API's CSV (`as_csv`). This module
only picks the query from the page's form and arranges the answer (`infra/web/dashboard.py`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from domain.calendar import local_day
from infra.auth import Principal
from infra.bootstrap import Container
from infra.web import present
from infra.web.dashboard import dashboard
from infra.web.pages import ask, refusal_page, render
from services.statistics import as_csv

# The groupings the use case knows (services/statistics.py GROUP_BYS), in Norwegian.
GROUPINGS = {
    "municipality": "kommune",
    "county": "fylke",
    "office": "konfliktrådskontor",
    "trinn": "trinn",
}


def _query(request: Request, c: Container) -> tuple[str, str]:
    """The form's grouping and period (the use case refuses a bad one with 422)."""
    params = request.query_params
    group_by = params.get("gruppering") or "municipality"
    period = (params.get("periode") or str(local_day(c.clock()).year)).strip()
    return group_by[:40], period[:20]


def _named(c: Container, table: dict[str, Any]) -> dict[str, Any]:
    """The table with each municipality's name beside its number (the register's)."""
    if table.get("group_by") != "municipality":
        return table
    rows = []
    for row in table.get("rows") or []:
        found = c.register.get(str(row.get("group")))
        rows.append({**row, "name": f"{found.name} ({row.get('group')})"} if found else row)
    return {**table, "rows": rows}


def statistics(request: Request, c: Container, user: Principal) -> HTMLResponse:
    group_by, period = _query(request, c)
    answer = ask(c, user, c.statistics.equal_practice, group_by=group_by, period=period)
    values: dict[str, Any] = {
        "groupings": list(GROUPINGS.items()),
        "group_by": group_by,
        "period": period,
        "title": "Likebehandling",
    }
    if isinstance(answer, JSONResponse):
        status = answer.status_code
        if status not in (422, 503):  # not permitted: the page says so, as every page does
            return refusal_page(request, c, user, answer, "Ingen tilgang")
        # A bad query (422), or the table's first suppression pattern still being computed
        # (503, with the use case's Retry-After): the form again, with the answer in words.
        page = render(
            request,
            c,
            user,
            "statistics.html",
            status,
            refusal=present.refusal(status, present.problem_body(answer.body)),
            **values,
        )
        if "retry-after" in answer.headers:
            page.headers["Retry-After"] = answer.headers["retry-after"]
        return page
    return render(
        request,
        c,
        user,
        "statistics.html",
        board=dashboard(_named(c, answer)),
        threshold=answer.get("threshold"),
        scope=answer.get("scope"),
        csv_href="/ui/statistikk.csv?" + urlencode({"gruppering": group_by, "periode": period}),
        **values,
    )


def statistics_csv(request: Request, c: Container, user: Principal) -> Response:
    group_by, period = _query(request, c)
    answer = ask(c, user, c.statistics.equal_practice, group_by=group_by, period=period)
    if isinstance(answer, JSONResponse):
        return answer  # the API's problem, with its status
    name = f"likebehandling-{group_by}-{period}.csv"
    return Response(
        as_csv(answer),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
