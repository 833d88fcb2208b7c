"""quality.md reliability test 13: a linear-programming attack on every published table
recovers no suppressed cell (docs/domain.md §10).

Generated populations with many small cells (200 to 1,000 cases over the 38 municipalities
of Trøndelag, or over Oslo and Akershus, whose municipalities two Conflict Council offices
share, and a prevention funnel there) are protected, and
every table a reader can get is published: each group_by (municipality, county, office,
trinn) x each period (the year and its four quarters; municipalities per year), for the
nation and as each county sees it. The attacker then takes only what those tables
publish, adds every relation a reader knows (a total is the sum of its rows, a county of
its municipalities and of its parts of offices, a year of its quarters, all trinn of each
trinn, terminated of its reasons, a measure never above the one it is part of), knows that
a suppressed count is at least 1, and solves two linear programs per suppressed cell
(scipy's HiGHS, not the code that chose the suppressions): each feasible interval must be
wider than the threshold.
"""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import date
from typing import Any

import pytest

from domain.municipalities import DEFAULT_REGISTER
from projections.disclosure import audit
from projections.statistics_tables import (
    EQUAL_PRACTICE,
    GROUP_BYS,
    PREVENTION_FUNNEL,
    YearSystem,
    regions_of,
    rows_for,
    table,
)

THRESHOLD = 5
COUNTIES = ("50", "03", "32")  # Trøndelag; Oslo and Akershus, split between two offices


def population(
    cases: int, seed: int, counties: tuple[str, ...] = COUNTIES
) -> list[tuple[str, str, str, str, int, int]]:
    """Stored rows (quarter, municipality, trinn, measure, bucket, n) of random cases, most
    municipalities with a handful: what the projection stores for them."""
    rnd = random.Random(seed)
    municipalities = sorted(n for n, m in DEFAULT_REGISTER.municipalities.items() if m.county in counties)
    weights = [1 / (1 + i % 17) for i in range(len(municipalities))]
    rows: dict[tuple[str, str, str, str, int], int] = {}

    def add(*key: Any) -> None:
        rows[key] = rows.get(key, 0) + 1

    for _ in range(cases):
        m = rnd.choices(municipalities, weights)[0]
        q = f"2026-Q{rnd.randint(1, 4)}"
        if rnd.random() < 0.25:
            decision = rnd.choice(["fine", "waiver", "other", "dropped"])
            for measure in ("decided", f"decision:{decision}"):
                add(q, m, "none", measure, 0)
            continue
        t = rnd.choice("1223")
        for measure in ("decided", "offered"):
            add(q, m, t, measure, 0)
        if rnd.random() < 0.8:
            add(q, m, t, "accepted", 0)
            if rnd.random() < 0.1:
                add(q, m, t, "terminated", 0)
                add(q, m, t, "terminated:plan_not_established", 0)
                continue
            add(q, m, t, "started", 0)
            if rnd.random() < 0.25:
                add(q, m, t, "plan_deviations", 0)
            for response in rnd.sample(
                ["warning", "conversation", "tightened_conditions"], rnd.randint(0, 2)
            ):
                add(q, m, t, f"breach:{response}", 0)
            outcome = rnd.random()
            if outcome < 0.55:
                add(q, m, t, "completed", 0)
            elif outcome < 0.75:
                reason = rnd.choice(["repeated_breaches", "new_offence", "consent_withdrawn", "moved_away"])
                add(q, m, t, "terminated", 0)
                add(q, m, t, f"terminated:{reason}", 0)
    return [(*key, n) for key, n in rows.items()]


def funnel(cases: int, seed: int) -> list[tuple[str, str, str, str, int, int]]:
    rnd = random.Random(seed)
    municipalities = sorted(n for n, m in DEFAULT_REGISTER.municipalities.items() if m.county in ("03", "32"))
    rows: dict[tuple[str, str, str, str, int], int] = {}
    for _ in range(cases):
        key = (f"2026-Q{rnd.randint(1, 4)}", rnd.choice(municipalities), "none")
        steps = ["concerns"]
        if rnd.random() < 0.9:
            steps.append("conversation_offered")
            if rnd.random() < 0.8:
                steps.append("conversation_held")
                if rnd.random() < 0.5:
                    steps.append("counselling_offered")
                    steps.append("counselling_accepted" if rnd.random() < 0.25 else "counselling_declined")
            else:
                steps.append("conversation_declined")
        for step in steps:
            rows[(*key, step, 0)] = rows.get((*key, step, 0), 0) + 1
    return [(*key, n) for key, n in rows.items()]


def published_tables(system: YearSystem) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """Every table a reader can ask for: group_by x period, for the nation and each county."""
    out = []
    for county in (None, *COUNTIES):
        for group_by in GROUP_BYS:
            if group_by == "trinn" and not system.kind.trinn:
                continue
            for period in system.periods:
                if group_by == "municipality" and "-Q" in period:
                    continue  # municipality tables are per year
                out.append(
                    (group_by, period, county, table(system, group_by, period, county, date(2026, 12, 31)))
                )
    return out


def what_is_published(system: YearSystem) -> tuple[dict[tuple[str, ...], int], set[tuple[str, ...]]]:
    """The counts the tables show and the cells they show as suppressed, by cell."""
    counts = {m.name for m in system.kind.figures if m.kind == "count"}
    shown: dict[tuple[str, ...], int] = {}
    hidden: set[tuple[str, ...]] = set()
    for group_by, period, county, body in published_tables(system):
        rows, total = rows_for(system, group_by, county)
        for (node, trinn, _, _), row in [*zip(rows, body["rows"], strict=True), (total, body["total"])]:
            for measure, cell in row["cells"].items():
                if measure not in counts:
                    continue
                key = (node, trinn, period, measure)
                if cell.get("suppressed"):
                    hidden.add(key)
                    assert key not in shown, f"{key} is shown in one table and hidden in another"
                else:
                    assert key not in hidden, f"{key} is hidden in one table and shown in another"
                    shown[key] = cell["value"]
    return shown, hidden


@pytest.mark.parametrize(
    ("cases", "seed", "counties"), [(200, 1, ("50",)), (1000, 2, ("50",)), (900, 4, ("03", "32"))]
)
def test_no_suppressed_cell_of_any_equal_practice_table_can_be_narrowed_by_linear_programming(
    cases: int, seed: int, counties: tuple[str, ...]
) -> None:
    system = YearSystem(EQUAL_PRACTICE, 2026, regions_of(DEFAULT_REGISTER), THRESHOLD)
    system.load(population(cases, seed, counties))
    system.protect()
    attack(system)


@pytest.mark.parametrize(("cases", "seed"), [(150, 4), (400, 5)])
def test_no_suppressed_cell_of_the_prevention_funnel_can_be_narrowed(cases: int, seed: int) -> None:
    system = YearSystem(PREVENTION_FUNNEL, 2026, regions_of(DEFAULT_REGISTER), THRESHOLD)
    system.load(funnel(cases, seed))
    system.protect()
    attack(system)


def attack(system: YearSystem) -> None:
    shown, hidden = what_is_published(system)
    truth = system.counts()
    small = {c for c, v in truth.items() if 0 < v < THRESHOLD}
    assert small and small <= hidden, "every count of 1 to 4 cases is suppressed"
    assert all(truth.get(c, 0) == v for c, v in shown.items()), "what is shown is true"
    assert all(truth.get(c, 0) > 0 for c in hidden), "a zero is never suppressed"
    assert len(shown) > len(hidden) / 4, "the tables still say something"
    # The attacker's constants are the published counts; every hidden count is a variable.
    intervals = audit(shown, hidden, system.relations_of, THRESHOLD)
    narrow = {c: (i.low, i.high) for c, i in intervals.items() if i.width <= THRESHOLD}
    assert not narrow, (
        f"{len(narrow)} of {len(hidden)} suppressed cells narrowed down: {list(narrow.items())[:5]}"
    )


def test_the_same_data_give_the_same_pattern() -> None:
    patterns = []
    for _ in range(2):
        system = YearSystem(EQUAL_PRACTICE, 2026, regions_of(DEFAULT_REGISTER), THRESHOLD)
        rows = population(1000, 7, ("50",))
        random.Random(len(patterns)).shuffle(rows)  # another order of the same counts
        system.load(rows)
        system.protect()
        patterns.append(system.suppressed)
    assert patterns[0] == patterns[1]


def test_only_the_audit_imports_scipy() -> None:
    """scipy takes over half a second to import: a process that builds the service (the
    CLI, a rebuild's child, a server) must not pay it; the audit, which needs it, still runs."""
    probe = (
        "import sys, infra.bootstrap, projections.statistics_tables; "
        "assert 'scipy' not in sys.modules, 'scipy imported at start-up'; "
        "from projections.disclosure import Relation, audit; "
        "found = audit({('t',): 5}, {('a',)}, lambda c: [Relation(((c, 1), (('t',), -1)))]); "
        "assert (found[('a',)].low, found[('a',)].high) == (5, 5), found; "
        "assert 'scipy' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=120)
