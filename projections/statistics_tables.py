"""Published statistics tables: one year's stored counts -> every table of that year, protected.

The stored counts (projections/equal_practice.py) are per cohort cell: quarter,
municipality, trinn, measure, bucket. `YearSystem` sums them into every published cell —
region (municipality, county, Conflict Council office, a county's part of an office,
national) x trinn (all; each trinn for counties and the nation) x period (the year, each
quarter) x count measure — and suppresses them together (projections/disclosure.py), so
the municipality, county, office and trinn tables of the year and of each quarter share
one pattern, whoever asks. `table` then gives one group_by x period, for the nation or for
one county, with the derived figures: shares (suppressed when their numerator or
denominator is), medians and p90 of durations and rates per active month (suppressed
when the count they are computed over is).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.evaluation_forms import AnswerType, EvaluationForm
from domain.municipalities import MunicipalityRegister
from domain.values import BreachResponse, TerminationReason
from projections.disclosure import Cell, Relation, suppress
from projections.equal_practice import NO_TRINN

TRINN = ("1", "2", "3", NO_TRINN)
GROUP_BYS = ("municipality", "county", "office", "trinn")
DAYS_PER_MONTH = 365.25 / 12
COUNTIES = {
    "03": "Oslo",
    "11": "Rogaland",
    "15": "Møre og Romsdal",
    "18": "Nordland",
    "31": "Østfold",
    "32": "Akershus",
    "33": "Buskerud",
    "34": "Innlandet",
    "39": "Vestfold",
    "40": "Telemark",
    "42": "Agder",
    "46": "Vestland",
    "50": "Trøndelag",
    "55": "Troms",
    "56": "Finnmark",
}
DECISIONS = ("fine", "waiver", "other", "dropped")


@dataclass(frozen=True)
class Measure:
    name: str
    kind: str  # count | share | median | p90 | per_active_month | mean
    numerator: str | None = None
    denominator: tuple[str, ...] = ()  # summed
    support: str | None = None  # the count a derived figure is computed over
    source: str | None = None  # the stored measure a median, p90 or rate is read from
    description: str = ""

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "description": self.description}
        if self.numerator:
            out["numerator"] = self.numerator
            out["denominator"] = " + ".join(self.denominator)
        if self.support:
            out["over"] = self.support
        return out


@dataclass(frozen=True)
class Kind:
    """One kind of table: its count measures, the relations between them, its figures."""

    name: str
    counts: tuple[str, ...]
    # per (region, trinn, period) cell: (parent, parts, equal) = parent is (==) or >= the sum
    relations: tuple[tuple[str, tuple[str, ...], bool], ...]
    figures: tuple[Measure, ...]
    trinn: bool = True


def _count(name: str, description: str) -> Measure:
    return Measure(name, "count", description=description)


REASONS = tuple(f"terminated:{r.value}" for r in TerminationReason)
RESPONSES = tuple(f"breach:{r.value}" for r in BreachResponse)
DURATIONS = (
    ("days_offence_to_decision", "decided", "days from the offence to the prosecutor's decision"),
    ("days_offence_to_offer", "offered", "days from the offence to the offer"),
    ("days_offer_to_consent", "accepted", "days from the offer to the last required consent"),
    ("days_consent_to_startup", "started", "days from the consent to the startup meeting (plan agreed)"),
)

EQUAL_PRACTICE = Kind(
    "equal-practice",
    counts=(
        "decided",
        "offered",
        *(f"decision:{d}" for d in DECISIONS),
        "accepted",
        "started",
        "completed",
        "terminated",
        *REASONS,
        "plan_deviations",
        *RESPONSES,
    ),
    relations=(
        ("decided", ("offered", *(f"decision:{d}" for d in DECISIONS)), True),
        ("offered", ("accepted",), False),
        ("accepted", ("started",), False),
        ("accepted", ("completed", "terminated"), False),
        ("started", ("completed",), False),
        ("terminated", REASONS, True),
        ("started", ("plan_deviations",), False),
        *(("started", (r,), False) for r in RESPONSES),
    ),
    figures=(
        _count("decided", "U18 drug cases decided by the prosecutor (intake register and offers)"),
        _count("offered", "offered a contract"),
        *(_count(f"decision:{d}", f"decided otherwise: {d}") for d in DECISIONS),
        _count("accepted", "accepted (every required signatory consented)"),
        _count("started", "started (plan agreed at the startup meeting)"),
        _count("completed", "completed"),
        _count("terminated", "terminated"),
        *(_count(r, f"terminated, reason {r.split(':')[1]}") for r in REASONS),
        _count("plan_deviations", "plans departing from the trinn's defaults"),
        *(_count(r, f"cases with a breach answered: {r.split(':')[1]}") for r in RESPONSES),
        Measure("offered_share", "share", "offered", ("decided",), description="offered / decided"),
        Measure("accepted_share", "share", "accepted", ("offered",), description="accepted / offered"),
        Measure(
            "completion_share",
            "share",
            "completed",
            ("completed", "terminated"),
            description="completed / (completed + terminated)",
        ),
        Measure(
            "plan_deviation_share",
            "share",
            "plan_deviations",
            ("started",),
            description="deviating / started",
        ),
        *(
            m
            for name, over, text in DURATIONS
            for m in (
                Measure(f"{name}_median", "median", support=over, source=name, description=f"median {text}"),
                Measure(
                    f"{name}_p90", "p90", support=over, source=name, description=f"90th percentile {text}"
                ),
            )
        ),
        Measure(
            "tests_per_active_month",
            "per_active_month",
            support="started",
            source="tests",
            description="test results recorded per month in active (or breach review)",
        ),
        Measure(
            "conversations_per_active_month",
            "per_active_month",
            support="started",
            source="conversations",
            description="conversations held and attended per month in active (or breach review)",
        ),
    ),
)

FUNNEL = (
    "concerns",
    "conversation_offered",
    "conversation_held",
    "conversation_declined",
    "counselling_offered",
    "counselling_accepted",
    "counselling_declined",
    "reported_to_child_welfare",
    "closed",
)
PREVENTION_FUNNEL = Kind(
    "prevention-funnel",
    counts=FUNNEL,
    relations=(
        ("concerns", ("conversation_offered",), False),
        ("conversation_offered", ("conversation_held", "conversation_declined"), False),
        ("counselling_offered", ("counselling_accepted", "counselling_declined"), False),
        ("concerns", ("counselling_offered",), False),
        ("concerns", ("reported_to_child_welfare",), False),
        ("concerns", ("closed",), False),
    ),
    figures=(
        _count("concerns", "concerns registered"),
        _count("conversation_offered", "offered a concern conversation"),
        _count("conversation_held", "conversation held"),
        _count("conversation_declined", "conversation declined"),
        _count("counselling_offered", "offered counselling"),
        _count("counselling_accepted", "counselling accepted"),
        _count("counselling_declined", "counselling declined"),
        _count("reported_to_child_welfare", "reported to child welfare"),
        _count("closed", "closed"),
        Measure(
            "conversation_offered_share",
            "share",
            "conversation_offered",
            ("concerns",),
            description="step 1: of concerns",
        ),
        Measure(
            "conversation_held_share",
            "share",
            "conversation_held",
            ("conversation_offered",),
            description="step 2: of offered",
        ),
        Measure(
            "counselling_offered_share",
            "share",
            "counselling_offered",
            ("conversation_held",),
            description="step 3: of held",
        ),
        Measure(
            "counselling_accepted_share",
            "share",
            "counselling_accepted",
            ("counselling_offered",),
            description="step 4: of offered",
        ),
    ),
    trinn=False,
)


def evaluation_kind(form: EvaluationForm) -> Kind:
    """The evaluation table of one form version: per role its respondents, and per question
    it answers each answer's count (free text never), with the mean of scale answers."""
    counts: list[str] = []
    relations: list[tuple[str, tuple[str, ...], bool]] = []
    figures: list[Measure] = []
    for role in form.roles:
        respondents = f"eval|{form.version}|{role}|respondents"
        counts.append(respondents)
        figures.append(Measure(respondents, "count", description=f"{role}: respondents"))
        for question in form.questions_for(role):
            if not question.aggregated:
                continue
            parts = tuple(f"eval|{form.version}|{role}|{question.id}|{c}" for c in question.categories())
            counts += parts
            relations.append((respondents, parts, False))
            figures += [
                Measure(p, "count", description=f"{role}: {question.id} = {p.rsplit('|', 1)[1]}")
                for p in parts
            ]
            if question.type is AnswerType.SCALE:
                figures.append(
                    Measure(
                        f"eval|{form.version}|{role}|{question.id}|mean",
                        "mean",
                        denominator=parts,
                        description=f"{role}: mean of {question.id} (1-5)",
                    )
                )
            elif question.type is AnswerType.YES_NO:
                figures.append(
                    Measure(
                        f"eval|{form.version}|{role}|{question.id}|yes_share",
                        "share",
                        parts[0],
                        parts,
                        description=f"{role}: share answering yes to {question.id}",
                    )
                )
    return Kind(f"evaluations/{form.version}", tuple(counts), tuple(relations), tuple(figures))


def short(measure: str) -> str:
    """An evaluation measure's name without its form version (eval|2026-1|youth|q|4 -> youth.q.4)."""
    if measure.startswith("eval|"):
        return ".".join(measure.split("|")[2:])
    return measure


# --- the region structure -------------------------------------------------------------------


@dataclass(frozen=True)
class Regions:
    """The region nodes of a register and how they nest: M:municipality, A:county|office (a
    county's part of an office), C:county, O:office, N (the nation)."""

    register: MunicipalityRegister
    up: Mapping[str, tuple[str, ...]]  # municipality -> its region nodes
    parts: Mapping[str, tuple[tuple[str, ...], ...]]  # node -> its partitions into child nodes
    parents: Mapping[str, tuple[str, ...]]  # node -> nodes it is a part of
    members: Mapping[str, frozenset[str]]  # node -> its municipalities


_REGIONS: dict[tuple[str, int], Regions] = {}


def regions_of(register: MunicipalityRegister) -> Regions:
    key = (register.version, id(register))
    if key not in _REGIONS:
        _REGIONS[key] = _regions(register)
    return _REGIONS[key]


def _regions(register: MunicipalityRegister) -> Regions:
    up: dict[str, tuple[str, ...]] = {}
    members: dict[str, set[str]] = {}
    for number, m in register.municipalities.items():
        area = f"A:{m.county}|{m.konfliktrad_office}"
        nodes = (f"M:{number}", area, f"C:{m.county}", f"O:{m.konfliktrad_office}", "N")
        up[number] = nodes
        for node in nodes:
            members.setdefault(node, set()).add(number)
    of_kind = {k: sorted(n for n in members if n.startswith(k)) for k in ("A:", "C:", "O:")}
    parts: dict[str, tuple[tuple[str, ...], ...]] = {"N": (tuple(of_kind["C:"]), tuple(of_kind["O:"]))}
    for node in of_kind["C:"] + of_kind["O:"]:
        code = node[2:]
        areas = [a for a in of_kind["A:"] if (a[2:].split("|")[0 if node[0] == "C" else 1]) == code]
        parts[node] = (tuple(areas),)
    for area in of_kind["A:"]:
        parts[area] = (tuple(sorted(f"M:{n}" for n in members[area])),)
    parents: dict[str, list[str]] = {}
    for node, partitions in parts.items():
        for partition in partitions:
            for child in partition:
                parents.setdefault(child, []).append(node)
    return Regions(
        register,
        up,
        parts,
        {k: tuple(v) for k, v in parents.items()},
        {k: frozenset(v) for k, v in members.items()},
    )


def region_rank(region: str) -> int:
    return {"M": 0, "A": 1, "O": 2, "C": 3, "N": 4}[region[0]]


def quarterly(region: str) -> bool:
    """Whether the region is published per quarter too: every region but a municipality,
    whose quarter holds too few cases to show anything but suppressions."""
    return not region.startswith("M:")


def has_trinn(region: str) -> bool:
    return region == "N" or region.startswith("C:")


# --- one year's system of tables --------------------------------------------------------------


@dataclass
class YearSystem:
    """Every published cell of one kind and year, its suppression, and what the figures need."""

    kind: Kind
    year: int
    regions: Regions
    threshold: int
    # (region, trinn, period, measure) -> bucket -> summed count (counts and sums at bucket 0,
    # durations per whole day)
    sums: dict[Cell, dict[int, int]] = field(default_factory=dict)
    suppressed: set[Cell] = field(default_factory=set)
    _relations: dict[Cell, list[Relation]] = field(default_factory=dict)

    @property
    def periods(self) -> tuple[str, ...]:
        return (str(self.year), *(f"{self.year}-Q{q}" for q in range(1, 5)))

    def load(self, rows: Iterable[tuple[str, str, str, str, int, int]]) -> None:
        """Stored rows (quarter, municipality, trinn, measure, bucket, n) into every cell."""
        sums = self.sums
        for quarter, municipality, trinn, measure, bucket, n in rows:
            nodes = self.regions.up.get(municipality)
            if nodes is None or not n:
                continue  # a municipality the register in force no longer has: not published
            for period in (str(self.year), quarter):
                for node in nodes:
                    if period != str(self.year) and not quarterly(node):
                        continue
                    keys = [(node, "all", period, measure)]
                    if self.kind.trinn and has_trinn(node):
                        keys.append((node, trinn, period, measure))
                    for key in keys:
                        buckets = sums.setdefault(key, {})
                        buckets[bucket] = buckets.get(bucket, 0) + n

    def count(self, cell: Cell) -> int:
        return self.sums.get(cell, {}).get(0, 0)

    def counts(self) -> dict[Cell, int]:
        names = set(self.kind.counts)
        return {cell: b[0] for cell, b in self.sums.items() if cell[3] in names and b.get(0)}

    def protect(self) -> None:
        self.suppressed = suppress(self.counts(), self.relations_of, self.threshold, self.rank)

    def rank(self, cell: Cell) -> int:
        region, _trinn, period, measure = cell
        coarse_measure = 1 if measure in ("decided", "concerns") or measure.endswith("respondents") else 0
        return region_rank(region) * 10 + (0 if "-Q" in period else 3) + coarse_measure

    def relations_of(self, cell: Cell) -> list[Relation]:
        found = self._relations.get(cell)
        if found is None:
            found = self._relations[cell] = self._build_relations(cell)
        return found

    def _build_relations(self, cell: Cell) -> list[Relation]:
        region, trinn, period, measure = cell
        out: list[Relation] = []

        def sum_of(parent: Cell, children: Sequence[Cell]) -> Relation:
            return Relation(((parent, 1), *((c, -1) for c in children)))

        # regions: a node is each of its partitions summed (a trinn cell only above counties)
        nodes = [region, *self.regions.parents.get(region, ())]
        for node in nodes:
            for partition in self.regions.parts.get(node, ()):
                if node != region and region not in partition:
                    continue
                if trinn != "all" and not all(has_trinn(c) for c in partition):
                    continue
                if "-Q" in period and not all(quarterly(c) for c in partition):
                    continue  # a quarter's parts per municipality are not published
                out.append(
                    sum_of((node, trinn, period, measure), [(c, trinn, period, measure) for c in partition])
                )
        # trinn: all = each trinn, for counties and the nation
        if self.kind.trinn and has_trinn(region):
            out.append(
                sum_of((region, "all", period, measure), [(region, t, period, measure) for t in TRINN])
            )
        # periods: the year = its quarters (a municipality is published per year only)
        if quarterly(region):
            year = str(self.year)
            out.append(
                sum_of(
                    (region, trinn, year, measure), [(region, trinn, q, measure) for q in self.periods[1:]]
                )
            )
        # measures, within the cell
        for parent, parts, equal in self.kind.relations:
            if measure != parent and measure not in parts:
                continue
            terms = (((region, trinn, period, parent), 1), *(((region, trinn, period, p), -1) for p in parts))
            out.append(Relation(terms, equal))
        return out

    # --- the figures -----------------------------------------------------------------------

    def figure(self, region: str, trinn: str, period: str, measure: Measure, today: date) -> dict[str, Any]:
        if measure.kind == "count":
            cell = (region, trinn, period, measure.name)
            if cell in self.suppressed:
                return {"value": None, "suppressed": True}
            return {"value": self.count(cell)}
        if measure.kind in ("share", "mean"):
            inputs = ([measure.numerator] if measure.numerator else []) + list(measure.denominator)
            if any((region, trinn, period, m) in self.suppressed for m in inputs):
                return {"value": None, "suppressed": True}
            denominator = sum(self.count((region, trinn, period, m)) for m in measure.denominator)
            if not denominator:
                return {"value": None}
            if measure.kind == "mean":
                total = sum(
                    int(m.rsplit("|", 1)[1]) * self.count((region, trinn, period, m))
                    for m in measure.denominator
                )
                return {"value": round(total / denominator, 2)}
            assert measure.numerator is not None
            return {"value": round(self.count((region, trinn, period, measure.numerator)) / denominator, 4)}
        assert measure.support is not None and measure.source is not None
        support = (region, trinn, period, measure.support)
        if support in self.suppressed:
            return {"value": None, "suppressed": True}
        if not self.count(support):
            return {"value": None}
        if measure.kind in ("median", "p90"):
            histogram = sorted(
                (b, n) for b, n in self.sums.get((region, trinn, period, measure.source), {}).items() if n
            )
            return {"value": _quantile(histogram, 0.5 if measure.kind == "median" else 0.9)}
        # per active month
        days = self._sum(region, trinn, period, "active_days")
        days += self._sum(region, trinn, period, "active_open") * today.toordinal()
        days -= self._sum(region, trinn, period, "active_open_from")
        if days <= 0:
            return {"value": None}
        return {"value": round(self._sum(region, trinn, period, measure.source) / (days / DAYS_PER_MONTH), 2)}

    def _sum(self, region: str, trinn: str, period: str, measure: str) -> int:
        return self.sums.get((region, trinn, period, measure), {}).get(0, 0)


def _quantile(histogram: list[tuple[int, int]], q: float) -> float | None:
    """The q-quantile of whole days (the lower median for an even count: a day that occurred)."""
    total = sum(n for _, n in histogram)
    if not total:
        return None
    rank = max(1, -(-int(q * total * 1000) // 1000))  # ceil(q * total), at least the first
    seen = 0
    for days, n in histogram:
        seen += n
        if seen >= rank:
            return float(days)
    return float(histogram[-1][0])


# --- tables -----------------------------------------------------------------------------------


def rows_for(
    system: YearSystem, group_by: str, county: str | None
) -> tuple[list[tuple[str, str, str, str]], tuple[str, str, str, str]]:
    """(node, trinn, group, name) of each row of the table, and of its total: the nation's,
    or for a county its own municipalities, its part of each office, its trinn."""
    register = system.regions.register
    total_node = f"C:{county}" if county else "N"
    total = (total_node, "all", county or "total", COUNTIES.get(county or "", "") if county else "Norge")
    numbers = sorted(n for n, m in register.municipalities.items() if county is None or m.county == county)
    if group_by == "municipality":
        rows = [(f"M:{n}", "all", n, register.municipalities[n].name) for n in numbers]
    elif group_by == "county":
        counties = [county] if county else sorted({m.county for m in register.municipalities.values()})
        rows = [(f"C:{c}", "all", c, COUNTIES.get(c, c)) for c in counties]
    elif group_by == "office":
        offices = sorted({register.municipalities[n].konfliktrad_office for n in numbers})
        rows = [((f"A:{county}|{o}" if county else f"O:{o}"), "all", o, o) for o in offices]
    else:
        trinn = TRINN if system.kind.trinn else ()
        rows = [(total_node, t, t, f"trinn {t}" if t != NO_TRINN else "no contract") for t in trinn]
    return rows, total


def table(
    system: YearSystem,
    group_by: str,
    period: str,
    county: str | None,
    today: date,
    name_of: Any = None,
) -> dict[str, Any]:
    rows, total = rows_for(system, group_by, county)
    figures = system.kind.figures

    def cells(node: str, trinn: str) -> dict[str, Any]:
        return {(name_of or short)(m.name): system.figure(node, trinn, period, m, today) for m in figures}

    return {
        "measures": [{**m.describe(), "name": (name_of or short)(m.name)} for m in figures],
        "rows": [{"group": g, "name": n, "cells": cells(node, t)} for node, t, g, n in rows],
        "total": {"group": total[2], "name": total[3], "cells": cells(total[0], total[1])},
    }
