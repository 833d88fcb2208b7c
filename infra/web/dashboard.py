"""The county's equal-practice dashboard: a statistics table (docs/api.md "Statistics") as
rows, cells and server-rendered SVG bars, with suppressed cells shown as suppressed.

It arranges the answer of the statistics use case (issue 17) and decides nothing: a cell
`{"value": null, "suppressed": true}` is "skjult", never 0, and gets no bar. The page
(`/ui/statistikk`) calls it once that use case is in the container (docs/web.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MEASURES = {
    "decided": "vedtak (inntak)",
    "offered": "tilbudt",
    "accepted": "takket ja",
    "completed": "fullført",
    "terminated": "avbrutt",
    "offered_share": "andel tilbudt",
    "accepted_share": "andel som takket ja",
    "completion_share": "andel fullført",
    "days_offer_to_consent_median": "dager fra tilbud til samtykke (median)",
    "days_consent_to_startup_median": "dager fra samtykke til oppstart (median)",
    "plan_deviations": "avvik fra trinnets standard",
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
