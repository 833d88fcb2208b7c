"""Disclosure control of published counts: primary and secondary cell suppression.

docs/domain.md §10: a count of 1 to threshold-1 cases is suppressed (primary), and so are
enough other counts (secondary) that no suppressed count can be narrowed down from what is
published with it. "Published with it" is the whole system of one year's tables, not one
table: every group_by (municipality, county, office and, for a county, its offices' share
of it; trinn), every period (the year and its quarters) and every count measure, with the
relations a reader knows between them (`Relation`): a parent is the sum of its parts
(county = its municipalities, year = its quarters, all trinn = each trinn, terminated = its
reasons) and a measure never exceeds the one it is part of (accepted <= offered).

The criterion is the linear-programming attack of quality.md test 13: given every published
count and relation, and knowing that a suppressed count is at least 1 (a zero is never
suppressed, so a reader knows this), the feasible interval of each suppressed count must be
wider than the threshold. `audit` computes those intervals with HiGHS (scipy.optimize.linprog).

The algorithm (`suppress`), designed after SSB's GaussSuppression (Langsrud 2024: secondary
suppression by elimination, with interval protection checked by linear programming):

1. Primary: every count with 0 < value < threshold.
2. Pre-pass, per relation: an equality with exactly one suppressed member would give it
   away (it is the difference of the others), so one more member is suppressed; a measure
   below a published one it is part of (accepted <= offered) whose parent leaves it no more
   room than the threshold gets its parent suppressed too. Repeated until nothing changes.
3. Interval protection: for each suppressed count, its interval is computed by two linear
   programs over its neighbourhood (the suppressed counts reachable through relations, up to
   `NEIGHBOURHOOD` of them; counts beyond are taken as known, which can only narrow the
   interval, so a wide interval found this way is wide in truth too). If it is not wider
   than the threshold, one more count is suppressed: a published member of a relation the
   linear programs found binding (nonzero dual), preferring the finest region, a value of at
   least the threshold, then the smallest value, then the cell's name (the tie-breaks make
   the pattern a function of the data alone). Suppressing more never narrows an interval, so
   a count found wide stays wide, and every count is checked until it is.

Cost: a function of the number of small cells (groups x measures x periods), never of the
number of cases. Deterministic: the same data give the same pattern, whoever asks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

Cell = tuple[str, ...]
NEIGHBOURHOOD = 400  # suppressed counts in one interval's linear programs at most
# "Wider than the threshold" with room for the solver's rounding: a width of 5.0000001 is 5.
MARGIN = 0.5


@dataclass(frozen=True)
class Relation:
    """sum(coefficient * count) == 0 (`equal`) or >= 0 (otherwise)."""

    terms: tuple[tuple[Cell, int], ...]
    equal: bool = True


RelationsOf = Callable[[Cell], list[Relation]]
Rank = Callable[[Cell], int]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    binding: tuple[Relation, ...] = ()

    @property
    def width(self) -> float:
        return self.high - self.low


def interval(
    cell: Cell,
    suppressed: set[Cell],
    value: Callable[[Cell], int],
    relations_of: RelationsOf,
    limit: int = NEIGHBOURHOOD,
) -> Interval:
    """The feasible interval of a suppressed `cell`: min and max of it subject to every
    relation among its neighbourhood's suppressed counts (the rest taken as known)."""
    variables: list[Cell] = [cell]
    index = {cell: 0}
    relations: dict[Relation, None] = {}
    frontier = [cell]
    while frontier:
        current = frontier.pop(0)
        for relation in relations_of(current):
            relations.setdefault(relation, None)
            for member, _ in relation.terms:
                if member in suppressed and member not in index and len(variables) < limit:
                    index[member] = len(variables)
                    variables.append(member)
                    frontier.append(member)
    rows_eq: list[dict[int, float]] = []
    rhs_eq: list[float] = []
    rows_ub: list[dict[int, float]] = []
    rhs_ub: list[float] = []
    kept: list[tuple[Relation, bool]] = []
    for relation in relations:
        row: dict[int, float] = {}
        constant = 0.0
        for member, coefficient in relation.terms:
            if member in index:
                row[index[member]] = row.get(index[member], 0.0) + coefficient
            else:
                constant += coefficient * value(member)
        if not any(row.values()):
            continue
        if relation.equal:  # sum(row) + constant == 0
            rows_eq.append(row)
            rhs_eq.append(-constant)
        else:  # sum(row) + constant >= 0  <=>  -sum(row) <= constant
            rows_ub.append({i: -c for i, c in row.items()})
            rhs_ub.append(constant)
        kept.append((relation, relation.equal))
    n = len(variables)
    a_eq = _matrix(rows_eq, n)
    a_ub = _matrix(rows_ub, n)
    bounds = [(1.0, None)] * n
    ends: list[float] = []
    binding: dict[Relation, None] = {}
    for sign in (1.0, -1.0):
        objective = np.zeros(n)
        objective[0] = sign
        result = linprog(
            objective,
            A_ub=a_ub,
            b_ub=rhs_ub if rows_ub else None,
            A_eq=a_eq,
            b_eq=rhs_eq if rows_eq else None,
            bounds=bounds,
            method="highs",
        )
        if result.status == 3:  # unbounded: no upper end
            ends.append(float("inf") if sign < 0 else float("-inf"))
            continue
        if result.status != 0:
            raise RuntimeError(f"disclosure audit: linear program failed ({result.message})")
        ends.append(float(result.x[0]))
        eq_duals = getattr(result.eqlin, "marginals", []) if rows_eq else []
        ub_duals = getattr(result.ineqlin, "marginals", []) if rows_ub else []
        eq_relations = [r for r, equal in kept if equal]
        ub_relations = [r for r, equal in kept if not equal]
        for relation, dual in [
            *zip(eq_relations, eq_duals, strict=True),
            *zip(ub_relations, ub_duals, strict=True),
        ]:
            if abs(dual) > 1e-9:
                binding.setdefault(relation, None)
    low, high = ends[0], ends[1]
    return Interval(low, high, tuple(binding))


def _matrix(rows: list[dict[int, float]], n: int) -> Any:
    if not rows:
        return None
    data, cols, pointers = [], [], [0]
    for row in rows:
        for i, c in sorted(row.items()):
            if c:
                cols.append(i)
                data.append(c)
        pointers.append(len(cols))
    return csr_matrix((data, cols, pointers), shape=(len(rows), n))


class Model:
    """The linear system a reader can set up: one variable per suppressed count, every
    relation that holds one of them (published counts are constants), each variable >= 1."""

    def __init__(
        self, suppressed: set[Cell], value: Callable[[Cell], int], relations_of: RelationsOf
    ) -> None:
        self.cells = sorted(suppressed)
        self.index = {c: i for i, c in enumerate(self.cells)}
        seen: dict[Relation, None] = {}
        for cell in self.cells:
            for relation in relations_of(cell):
                seen.setdefault(relation, None)
        eq: list[dict[int, float]] = []
        ub: list[dict[int, float]] = []
        self.rhs_eq: list[float] = []
        self.rhs_ub: list[float] = []
        self.eq_relations: list[Relation] = []
        self.ub_relations: list[Relation] = []
        for relation in seen:
            row: dict[int, float] = {}
            constant = 0.0
            for member, coefficient in relation.terms:
                i = self.index.get(member)
                if i is None:
                    constant += coefficient * value(member)
                else:
                    row[i] = row.get(i, 0.0) + coefficient
            if not any(row.values()):
                continue
            if relation.equal:
                eq.append(row)
                self.rhs_eq.append(-constant)
                self.eq_relations.append(relation)
            else:
                ub.append({i: -c for i, c in row.items()})
                self.rhs_ub.append(constant)
                self.ub_relations.append(relation)
        n = len(self.cells)
        self.rows = len(eq) + len(ub)
        # One HiGHS model, re-solved per objective from the last basis (warm start).
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy has no annotations for it
        self.highs.setOptionValue("output_flag", False)
        inf = highspy.kHighsInf
        self.highs.addVars(n, np.ones(n), np.full(n, inf))
        for row, rhs in zip(eq, self.rhs_eq, strict=True):
            self._add_row(row, rhs, rhs)
        for row, rhs in zip(ub, self.rhs_ub, strict=True):
            self._add_row(row, -inf, rhs)

    def _add_row(self, row: dict[int, float], lower: float, upper: float) -> None:
        items = sorted((i, c) for i, c in row.items() if c)
        self.highs.addRow(
            lower,
            upper,
            len(items),
            np.array([i for i, _ in items], dtype=np.int32),
            np.array([c for _, c in items]),
        )

    def solve(self, objective: Any) -> tuple[Any, tuple[Relation, ...]] | None:
        """A vertex minimising `objective`, with the relations binding there; None if unbounded."""
        n = len(self.cells)
        self.highs.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(objective, dtype=float))
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(
                f"disclosure: linear program failed ({self.highs.modelStatusToString(status)})"
            )
        solution = self.highs.getSolution()
        duals = list(solution.row_dual)
        relations = [*self.eq_relations, *self.ub_relations]
        binding = tuple(r for r, d in zip(relations, duals, strict=True) if abs(d) > 1e-9)
        return np.array(solution.col_value), binding

    def interval(self, cell: Cell, seen: Callable[[Any], None] | None = None) -> Interval:
        """The cell's min and max; `seen` is given every vertex found on the way."""
        i = self.index[cell]
        ends: list[float] = []
        binding: dict[Relation, None] = {}
        for sign in (1.0, -1.0):
            objective = np.zeros(len(self.cells))
            objective[i] = sign
            solved = self.solve(objective)
            if solved is None:
                ends.append(float("inf"))
                continue
            x, bound = solved
            ends.append(float(x[i]))
            binding.update(dict.fromkeys(bound))
            if seen is not None:
                seen(x)
        return Interval(ends[0], ends[1], tuple(binding))


def suppress(
    values: Mapping[Cell, int],
    relations_of: RelationsOf,
    threshold: int,
    rank: Rank = lambda _cell: 0,
    probes: int = 6,
) -> set[Cell]:
    """The suppressed counts of one system of tables (see the module's docstring).

    `values`: every nonzero published count (a count not listed is a published zero);
    `relations_of(cell)`: the relations a reader knows that the cell is in; `rank`: how
    coarse a cell is (finer ones are preferred as secondary suppressions)."""

    def value(cell: Cell) -> int:
        return values.get(cell, 0)

    def score(cell: Cell) -> tuple[Any, ...]:
        v = value(cell)
        return (rank(cell), 0 if v >= threshold else 1, v, cell)

    suppressed = {c for c, v in values.items() if 0 < v < threshold}
    if not suppressed:
        return suppressed
    _prepass(suppressed, value, relations_of, threshold, score)
    # Every feasible point a linear program finds is a certificate: a count that takes values
    # more than `threshold` apart in two of them has an interval wider than that. Points stay
    # feasible as more is suppressed (a known count becomes an unknown >= 1 it may equal).
    low: dict[Cell, float] = {c: float(value(c)) for c in suppressed}
    high: dict[Cell, float] = dict(low)
    proven: set[Cell] = set()
    rounds = 0
    while True:
        rounds += 1
        model = Model(suppressed, value, relations_of)
        todo = [c for c in model.cells if c not in proven]

        # Both run within this round only, on this round's model and cells.
        def note(x: Any, model: Model = model) -> None:
            for cell, v in zip(model.cells, x, strict=True):
                low[cell] = min(low.get(cell, v), v)
                high[cell] = max(high.get(cell, v), v)

        def settle(todo: list[Cell] = todo) -> None:
            for cell in todo:
                if cell not in proven and high.get(cell, 0) - low.get(cell, 0) > threshold + MARGIN:
                    proven.add(cell)

        # Cheap probes first (deterministic "random" objectives), then each cell still open.
        n = len(model.cells)
        for k in range(probes if len(todo) > 2 * probes else 0):
            objective = np.array([(((i * 2654435761 + k * 40503) >> 7) % 3) - 1.0 for i in range(n)])
            solved = model.solve(objective)
            if solved is not None:
                note(solved[0])
        settle()
        narrow: list[tuple[Cell, Interval]] = []
        for cell in todo:
            if cell in proven or high[cell] - low[cell] > threshold + MARGIN:
                proven.add(cell)
                continue
            found = model.interval(cell, note)
            if found.width > threshold + MARGIN:
                proven.add(cell)
            else:
                narrow.append((cell, found))
        if not narrow:
            return suppressed
        added: set[Cell] = set()
        for cell, found in narrow:
            if added & {m for r in found.binding for m, _ in r.terms}:
                continue  # a suppression this round already loosens one of its binding relations
            more = _more(cell, found, suppressed | added, value, relations_of, score)
            if not more:
                proven.add(cell)  # nothing left to hide around it (cannot happen with x >= 1 bounds)
            added.update(more)
        suppressed |= added
        for cell in added:
            low[cell] = high[cell] = float(value(cell))


def _prepass(
    suppressed: set[Cell],
    value: Callable[[Cell], int],
    relations_of: RelationsOf,
    threshold: int,
    score: Callable[[Cell], tuple[Any, ...]],
) -> None:
    work = sorted(suppressed, key=score)
    while work:
        cell = work.pop()
        for relation in relations_of(cell):
            members = [m for m, _ in relation.terms]
            hidden = [m for m in members if m in suppressed]
            if relation.equal and len(hidden) == 1:
                choice = _best([m for m in members if m not in suppressed and value(m) > 0], score)
                if choice is not None:
                    suppressed.add(choice)
                    work.append(choice)
            elif not relation.equal and len(relation.terms) == 2:
                (parent, p), (child, _c) = relation.terms
                if p < 0:
                    parent, child = child, parent
                if child in suppressed and parent not in suppressed and value(parent) - 1 <= threshold:
                    suppressed.add(parent)
                    work.append(parent)


def _best(cells: list[Cell], score: Callable[[Cell], tuple[Any, ...]]) -> Cell | None:
    return min(cells, key=score) if cells else None


def _more(
    cell: Cell,
    found: Interval,
    suppressed: set[Cell],
    value: Callable[[Cell], int],
    relations_of: RelationsOf,
    score: Callable[[Cell], tuple[Any, ...]],
) -> list[Cell]:
    """One more count to suppress for `cell`: a published member of a binding relation, or
    of any relation of the cell's neighbourhood when none binds."""
    for relations in (found.binding, relations_of(cell)):
        choice = _best(
            [m for r in relations for m, _ in r.terms if m not in suppressed and value(m) > 0], score
        )
        if choice is not None:
            return [choice]
    # Every member of the cell's own relations is suppressed already: widen one step out.
    around = [m for r in relations_of(cell) for m, _ in r.terms if m != cell]
    for member in sorted(around, key=score):
        choice = _best(
            [m for r in relations_of(member) for m, _ in r.terms if m not in suppressed and value(m) > 0],
            score,
        )
        if choice is not None:
            return [choice]
    return []


def audit(
    values: Mapping[Cell, int],
    suppressed: set[Cell],
    relations_of: RelationsOf,
    threshold: float | None = None,
) -> dict[Cell, Interval]:
    """The attack: every suppressed count's feasible interval given everything published
    (`values`: the published counts), by scipy's HiGHS, over the whole system at once.

    Every vertex a linear program returns is feasible, so a count that takes values more
    than `threshold` apart in two of them is known to be wide enough without programs of its
    own (its interval is then reported as that spread, a lower bound of the truth); with no
    `threshold`, each count's min and max are solved for exactly."""
    cells = sorted(suppressed)
    index = {c: i for i, c in enumerate(cells)}
    seen: dict[Relation, None] = {}
    for cell in cells:
        for relation in relations_of(cell):
            seen.setdefault(relation, None)
    rows_eq: list[dict[int, float]] = []
    rows_ub: list[dict[int, float]] = []
    rhs_eq: list[float] = []
    rhs_ub: list[float] = []
    for relation in seen:
        row: dict[int, float] = {}
        constant = 0.0
        for member, coefficient in relation.terms:
            if member in index:
                row[index[member]] = row.get(index[member], 0.0) + coefficient
            else:
                constant += coefficient * values.get(member, 0)
        if not any(row.values()):
            continue
        if relation.equal:
            rows_eq.append(row)
            rhs_eq.append(-constant)
        else:
            rows_ub.append({i: -c for i, c in row.items()})
            rhs_ub.append(constant)
    n = len(cells)
    a_eq, a_ub = _matrix(rows_eq, n), _matrix(rows_ub, n)
    low = np.full(n, np.inf)
    high = np.full(n, -np.inf)
    out: dict[Cell, Interval] = {}
    for i, cell in enumerate(cells):
        if threshold is not None and high[i] - low[i] > threshold:
            out[cell] = Interval(float(low[i]), float(high[i]))
            continue
        ends = []
        for sign in (1.0, -1.0):
            objective = np.zeros(n)
            objective[i] = sign
            result = linprog(
                objective,
                A_ub=a_ub,
                b_ub=rhs_ub if rows_ub else None,
                A_eq=a_eq,
                b_eq=rhs_eq if rows_eq else None,
                bounds=[(1.0, None)] * n,
                method="highs",
            )
            if result.status == 3:
                ends.append(float("inf"))
                continue
            if result.status != 0:
                raise RuntimeError(f"disclosure audit: linear program failed ({result.message})")
            ends.append(float(result.x[i]))
            low, high = np.minimum(low, result.x), np.maximum(high, result.x)
        out[cell] = Interval(ends[0], ends[1])
    return out
