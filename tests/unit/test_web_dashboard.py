"""The dashboard shows a suppressed cell as suppressed, never as 0 and with no bar
(infra/web/dashboard.py, on docs/api.md's example table)."""

from __future__ import annotations

from infra.web import present
from infra.web.dashboard import MEASURES, dashboard
from infra.web.pages import TEMPLATES
from projections.statistics_tables import EQUAL_PRACTICE

TABLE = {
    "group_by": "municipality",
    "period": "2026",
    "threshold": 5,
    "rows": [
        {
            "group": "5001",
            "name": "Trondheim",
            "cells": {
                "offered": {"value": 6},
                "accepted": {"value": None, "suppressed": True},
                "accepted_share": {"value": None, "suppressed": True},
            },
        },
        {"group": "5006", "name": "Steinkjer", "cells": {"offered": {"value": 12}, "accepted": {"value": 9},
                                                          "accepted_share": {"value": 0.75}}},
    ],
    "total": {"cells": {"offered": {"value": 18}}},
}  # fmt: skip


def test_a_suppressed_cell_is_shown_as_suppressed_with_no_bar() -> None:
    board = dashboard(TABLE)
    trondheim, steinkjer = board["rows"]
    assert trondheim["group"] == "Trondheim"
    assert trondheim["cells"]["accepted"].suppressed and trondheim["cells"]["accepted"].bar is None
    assert trondheim["cells"]["accepted"].text == "skjult (færre enn 5)"
    assert trondheim["cells"]["offered"].bar == 120 and steinkjer["cells"]["offered"].bar == 240
    assert steinkjer["cells"]["accepted_share"].text == "75 %"
    assert board["total"]["offered"].text == "18" and board["total"]["accepted"].suppressed


def test_the_dashboard_renders_charts_and_the_table_with_suppressed_cells_marked() -> None:
    html = TEMPLATES.env.get_template("dashboard_table.html").render(board=dashboard(TABLE))
    assert html.count("<svg") == 3 and 'class="suppressed">skjult (færre enn 5)</td>' in html
    assert ">0<" not in html


def test_every_measure_of_the_equal_practice_table_has_norwegian_words() -> None:
    assert [m.name for m in EQUAL_PRACTICE.figures if m.name not in MEASURES] == []


def test_a_table_still_being_computed_is_said_in_norwegian_on_the_page() -> None:
    words = present.refusal(503, {"title": "Not ready yet", "detail": "computing"})
    assert words.title.startswith("Tallene regnes ut nå")
