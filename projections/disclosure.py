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
2. Pre-pass, per relation: a relation whose suppressed members all stand on one side caps
   them to a known sum S (an equality; or at most S, parts below a published whole), so each
   of its k suppressed members lies in [1, S - k + 1]; while S - k is not wider than the
   threshold one more member is suppressed (k = 1 is an equality with one suppression).
   Repeated until nothing changes. These are necessary conditions, checked without a solver.
3. Interval protection, in rounds over one HiGHS model of the whole system (every
   suppressed count a variable >= 1, every relation a row; re-solved from the last basis
   with the primal simplex, as only the objective changes). Every point a program returns
   is feasible, and so a certificate: a count that took values more than the threshold
   apart is wide, without programs of its own. So first two batch programs push all open
   counts up (each capped a little above its lowest value: extra constraints, so the point
   stays a certificate) and then down, again while that proves more. Each count still open
   then gets its own two programs (min and max). One not wider than the threshold gets one
   more count suppressed: a published member of a relation the programs found binding
   (nonzero dual), preferring the finest region, a value of at least the threshold, then
   the smallest value, then the cell's name (the tie-breaks make the pattern a function of
   the data alone). Within a round, a count one of whose relations (or binding relations)
   just gained a suppression waits for the next round's model instead of being solved or
   widened now: that keeps the additions few and the programs solved about one per count
   and round. Rounds repeat until one adds nothing, i.e. every count is proven wide.
   Suppressing more never narrows an interval, so a count found wide stays wide.

Cost: a function of the number of small cells (groups x measures x periods), never of the
number of cases. Deterministic: the same data give the same pattern, whoever asks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

Cell = tuple[str, ...]
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
        self.relations = [*self.eq_relations, *self.ub_relations]  # in the order of HiGHS's rows
        # One HiGHS model, re-solved per objective from the last basis (warm start).
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy has no annotations for it
        self.highs.setOptionValue("output_flag", False)
        # Only the objective changes between solves: the last basis stays primal feasible,
        # so the primal simplex goes on from it (twice as fast here as the dual).
        self.highs.setOptionValue("simplex_strategy", 4)
        self.highs.setOptionValue("threads", 1)
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
        duals = np.asarray(solution.row_dual)
        relations = self.relations
        binding = tuple(relations[i] for i in np.flatnonzero(np.abs(duals) > 1e-9))
        return np.asarray(solution.col_value), binding

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
    # feasible as more is suppressed (a known count becomes an unknown >= 1 it may equal), and
    # the true counts are one such point.
    low: dict[Cell, float] = {c: float(value(c)) for c in suppressed}
    high: dict[Cell, float] = dict(low)
    proven: set[Cell] = set()
    wide = threshold + MARGIN
    while True:
        model = Model(suppressed, value, relations_of)
        spread = _Spread(model, low, high)
        todo = [c for c in model.cells if c not in proven]
        spread.batches(todo, threshold)
        added: set[Cell] = set()
        deferred = 0
        for cell in todo:
            if spread.width(cell) > wide:
                proven.add(cell)
                continue
            if added and any(m in added for r in relations_of(cell) for m, _ in r.terms):
                # A suppression this round already loosens one of its relations: its programs
                # would solve a model about to change, so they wait for the next round's.
                deferred += 1
                continue
            found = model.interval(cell, spread.note)
            if found.width > wide:
                proven.add(cell)
                continue
            if added & {m for r in found.binding for m, _ in r.terms}:
                deferred += 1  # a suppression this round loosens one of the relations binding it
                continue
            more = _more(cell, found, suppressed | added, value, relations_of, score)
            if not more:
                proven.add(cell)  # nothing left to hide around it (cannot happen with x >= 1 bounds)
            added.update(more)
        spread.keep(low, high)
        if not added:
            return suppressed  # every count checked this round is wide, and none was deferred
        suppressed |= added
        for cell in added:
            low[cell] = high[cell] = float(value(cell))


class _Spread:
    """The lowest and highest value each count of one round's model took in a feasible point."""

    def __init__(self, model: Model, low: dict[Cell, float], high: dict[Cell, float]) -> None:
        self.model = model
        self.low = np.array([low[c] for c in model.cells])
        self.high = np.array([high[c] for c in model.cells])

    def note(self, x: Any) -> None:
        np.minimum(self.low, x, out=self.low)
        np.maximum(self.high, x, out=self.high)

    def width(self, cell: Cell) -> float:
        i = self.model.index[cell]
        return float(self.high[i] - self.low[i])

    def keep(self, low: dict[Cell, float], high: dict[Cell, float]) -> None:
        for cell, lo, hi in zip(self.model.cells, self.low, self.high, strict=True):
            low[cell], high[cell] = float(lo), float(hi)

    def batches(self, todo: list[Cell], threshold: int) -> None:
        """Prove many counts wide with few programs: push every open count up at once, each
        capped a little above the threshold over its lowest value so far (the caps spread the
        push over all of them instead of one count taking it all), then all down at once;
        again while that proves more. The caps are extra constraints, so each point found is
        feasible without them too: a sound certificate. What stays open is left to the
        programs of one count each (which also name the relations that bind it)."""
        model, index = self.model, self.model.index
        n = len(model.cells)
        every = np.arange(n, dtype=np.int32)
        still = [index[c] for c in todo]
        try:
            while still:
                before = len(still)
                for direction in (-1.0, 1.0):  # minimise -sum (push up), then +sum (push down)
                    columns = np.array(still, dtype=np.int32)
                    objective = np.zeros(n)
                    objective[columns] = direction
                    upper = np.full(n, highspy.kHighsInf)
                    if direction < 0:
                        upper[columns] = self.low[columns] + threshold + 1
                    model.highs.changeColsBounds(n, every, np.ones(n), upper)
                    solved = model.solve(objective)
                    if solved is not None:
                        self.note(solved[0])
                    still = [i for i in still if self.high[i] - self.low[i] <= threshold + MARGIN]
                    if not still:
                        break
                if len(still) == before:
                    break
        finally:
            model.highs.changeColsBounds(n, every, np.ones(n), np.full(n, highspy.kHighsInf))


def _prepass(
    suppressed: set[Cell],
    value: Callable[[Cell], int],
    relations_of: RelationsOf,
    threshold: int,
    score: Callable[[Cell], tuple[Any, ...]],
) -> None:
    """Suppress more until no single relation gives a hidden count away on its own.

    A relation whose hidden members all stand on one side of it caps them: their sum is a
    known number S (an equality) or at most S (a part-of inequality, hidden parts below a
    published whole), so each of k hidden members, being >= 1, lies in [1, S - (k - 1)],
    at most S - k wide. That is an outer bound of the true interval (the other relations only
    narrow it), so S - k must exceed the threshold: otherwise one more member is suppressed
    (the best by `score`; one on the other side frees the relation altogether). One hidden
    member (k = 1, width 0) is the case of an equality with one suppression. The linear
    programs afterwards need then only find what several relations give away together."""
    work = sorted(suppressed, key=score)
    while work:
        cell = work.pop()
        for relation in relations_of(cell):
            while True:
                capped = _capacity(relation, suppressed, value)
                if capped is None or capped[0] - capped[1] > threshold + MARGIN:
                    break
                choice = _best([m for m, _ in relation.terms if m not in suppressed and value(m) > 0], score)
                if choice is None:
                    break
                suppressed.add(choice)
                work.append(choice)


def _capacity(
    relation: Relation, suppressed: set[Cell], value: Callable[[Cell], int]
) -> tuple[int, int] | None:
    """(S, k) when the relation caps its k hidden members to a sum of (at most) S; None when
    they stand on both sides of it (or it caps nothing)."""
    signs = {c for m, c in relation.terms if m in suppressed}
    if len(signs) != 1 or (not relation.equal and signs != {-1}):
        return None  # hidden on both sides, or hidden wholes of an inequality: no upper bound
    sign = signs.pop()
    # sign * sum(hidden) (= or <=) -(what the published members add up to)
    known = sum(c * value(m) for m, c in relation.terms if m not in suppressed)
    return -sign * known, sum(1 for m, _ in relation.terms if m in suppressed)


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
    # Imported here: scipy takes over half a second to import, and only the audit (the test
    # of suppression) needs it, not every process that publishes statistics or starts a CLI.
    from scipy.optimize import linprog

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


def _matrix(rows: list[dict[int, float]], n: int) -> Any:
    from scipy.sparse import csr_matrix  # as in `audit`

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
