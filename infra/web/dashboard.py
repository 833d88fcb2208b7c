"""The county's equal-practice dashboard: a statistics table (docs/api.md "Statistics") as
rows, cells and server-rendered SVG bars, with suppressed cells shown as suppressed.

It arranges the answer of the statistics use case (issue 17) and decides nothing: a cell
`{"value": null, "suppressed": true}` is "skjult", never 0, and gets no bar. The page
(`/ui/statistikk`, infra/web/statistics_page.py) hands it that use case's answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.web import labels as L

DECISIONS = {"fine": "bot", "waiver": "påtaleunnlatelse", "other": "annet", "dropped": "henlagt"}
DURATIONS = {
    "days_offence_to_decision": "lovbruddet til vedtaket",
    "days_offence_to_offer": "lovbruddet til tilbudet",
    "days_offer_to_consent": "tilbudet til samtykket",
    "days_consent_to_startup": "samtykket til oppstartsmøtet",
}

MEASURES = {
    "decided": "vedtak (inntak)",
    "offered": "tilbudt",
    "accepted": "takket ja",
    "started": "startet (plan avtalt)",
    "completed": "fullført",
    "terminated": "avbrutt",
    "plan_deviations": "planer som avviker fra trinnets standard",
    "offered_share": "andel tilbudt",
    "accepted_share": "andel som takket ja",
    "completion_share": "andel fullført",
    "plan_deviation_share": "andel planer med avvik",
    "tests_per_active_month": "tester per aktive måned",
    "conversations_per_active_month": "samtaler per aktive måned",
    **{f"decision:{d}": f"avgjort på annen måte: {w}" for d, w in DECISIONS.items()},
    **{f"terminated:{r}": f"avbrutt: {w}" for r, w in L.TERMINATION.items()},
    **{f"breach:{r}": f"saker med brudd besvart med {w}" for r, w in L.BREACH_RESPONSE.items()},
    **{
        f"{name}_{figure}": f"dager fra {steps} ({words})"
        for name, steps in DURATIONS.items()
        for figure, words in (("median", "median"), ("p90", "90-persentil"))
    },
}
BAR_WIDTH = 240


@dataclass(frozen=True)
class Cell:
    text: str  # what the table shows
    suppressed: bool
    bar: int | None  # the bar's width in px (None: no bar)


def _number(value: Any, measure: str) -> str:
    if isinstance(value, float) and measure.endswith("_share"):
        return f"{value * 100:.0f} %".replace(".", ",")
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def dashboard(table: dict[str, Any], threshold_word: str = "skjult") -> dict[str, Any]:
    """The table's rows with a cell per measure; each measure's bars scaled to its largest value."""
    rows = table.get("rows") or []
    measures = list(dict.fromkeys(m for row in rows for m in (row.get("cells") or {})))
    largest = {
        m: max(
            (
                float(c["value"])
                for row in rows
                if isinstance((c := (row.get("cells") or {}).get(m)), dict)
                and isinstance(c.get("value"), int | float)
            ),
            default=0.0,
        )
        for m in measures
    }
    threshold = table.get("threshold")
    hidden = f"{threshold_word} (færre enn {threshold})" if threshold else threshold_word

    def cell(raw: Any, measure: str) -> Cell:
        if not isinstance(raw, dict) or raw.get("suppressed"):
            return Cell(hidden, True, None)
        value = raw.get("value")
        if not isinstance(value, int | float):
            return Cell("–", False, None)
        top = largest[measure]
        return Cell(_number(value, measure), False, round(BAR_WIDTH * value / top) if top else 0)

    return {
        "group_by": table.get("group_by"),
        "period": table.get("period"),
        "measures": [(m, MEASURES.get(m, m)) for m in measures],
        "rows": [
            {
                "group": row.get("name") or row.get("group"),
                "cells": {m: cell((row.get("cells") or {}).get(m), m) for m in measures},
            }
            for row in rows
        ],
        "total": {m: cell(((table.get("total") or {}).get("cells") or {}).get(m), m) for m in measures},
        "bar_width": BAR_WIDTH,
    }
