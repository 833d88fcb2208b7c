"""Statistics (docs/api.md "Statistics", docs/domain.md §10): aggregated counts only.

Each route calls one use case of `c.statistics` (services/statistics.py), which decides
who may ask and what they may see (a county: its own municipalities); the answer is JSON,
or CSV with `Accept: text/csv` (one figure a line, with its period, versions and time).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response

from infra.api.deps import ContainerDep, PrincipalDep
from services.statistics import as_csv

router = APIRouter(tags=["statistics"])

GroupBy = Annotated[
    str,
    Query(
        pattern=r"^(municipality|county|office|trinn)$", description="municipality, county, office or trinn"
    ),
]
Period = Annotated[
    str,
    Query(
        pattern=r"^[0-9]{4}(-Q[1-4])?$", description="a year (YYYY) or a quarter (YYYY-Qn)", examples=["2026"]
    ),
]
Accept = Annotated[str | None, Header(description="`text/csv` for CSV; JSON otherwise")]
FormVersion = Annotated[
    str, Query(max_length=80, description="the evaluation form version", examples=["2026-1"])
]
TABLE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The table: counts and rates, small cells suppressed (`null`, `suppressed: true`)",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "Rows of cells per group and period, with the suppression "
                    "threshold and the versions they were computed under (docs/api.md Statistics)",
                    "additionalProperties": True,
                }
            },
            "text/csv": {"schema": {"type": "string"}},
        },
    },
    503: {
        "description": "The table's first suppression pattern is still being computed "
        "(RUSKONTRAKT_STATISTICS_WAIT_SECONDS passed); `Retry-After` says when to ask again",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
}


def answer(body: dict[str, Any], accept: str | None) -> Response:
    """JSON, or CSV when the client asks for it."""
    if accept and "text/csv" in accept:
        return Response(as_csv(body), media_type="text/csv; charset=utf-8")
    return JSONResponse(body)


@router.get("/statistics/equal-practice", response_model=None, responses=TABLE)
def equal_practice(
    c: ContainerDep, user: PrincipalDep, group_by: GroupBy, period: Period, accept: Accept = None
) -> Response:
    """Equal practice per municipality, county, Conflict Council office or trinn, for a year
    or a quarter: decided, offered, accepted, started, completed, terminated (by reason),
    plan deviations, breach responses, their shares, days between the steps (median, p90)
    and tests and conversations per active month (county, auditor, konfliktrad)."""
    return answer(c.statistics.equal_practice(c.context(user), group_by, period), accept)


@router.get("/statistics/prevention-funnel", response_model=None, responses=TABLE)
def prevention_funnel(
    c: ContainerDep, user: PrincipalDep, group_by: GroupBy, period: Period, accept: Accept = None
) -> Response:
    """The preventive track's funnel by the concern's quarter and municipality: concerns,
    conversations offered and held, counselling offered and accepted, each step's share of
    the one before (county, auditor, konfliktrad)."""
    return answer(c.statistics.prevention_funnel(c.context(user), group_by, period), accept)


@router.get("/statistics/evaluations", response_model=None, responses=TABLE)
def evaluations(
    c: ContainerDep,
    user: PrincipalDep,
    form_version: FormVersion,
    group_by: GroupBy = "county",
    period: Period = "2026",
    accept: Accept = None,
) -> Response:
    """Evaluation answers per question of one form version, per respondent role (free
    text never): each answer's count, the mean of scale answers, the share answering yes."""
    return answer(c.statistics.evaluations(c.context(user), form_version, group_by, period), accept)


@router.get("/statistics/evaluation-forms")
def evaluation_forms(
    c: ContainerDep,
    user: PrincipalDep,
    version: Annotated[str | None, Query(max_length=40, description="Only this form version")] = None,
) -> list[dict[str, Any]]:
    """The evaluation forms in force: versions, roles, questions and answer types."""
    return c.statistics.forms_list(c.context(user), version)
